// Peer engines for the usagedb benchmark and conformance harness: DuckDB and ClickHouse in
// process (chDB), each loaded at run time with dlopen from the shared library that
// bench/peers/install_peers.sh installs (no link-time dependency, no header of theirs needed).
//
// Self-contained: depends only on the C++20 standard library, Abseil (absl::Status) and libdl.
#ifndef USAGEDB_BENCH_PEERS_PEER_H_
#define USAGEDB_BENCH_PEERS_PEER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace usagedb::bench {

// How query() renders SQL NULL (ClickHouse's TSV spelling). The endpoint queries never return
// NULL; a string column holding exactly these two bytes is indistinguishable from it.
inline constexpr const char kNullText[] = "\\N";

// One engine under test, loaded at run time with dlopen (no link-time dependency).
//
// A Peer is not thread-safe: use it from one thread at a time. Each library is dlopen'ed once
// per process and never unloaded; a Peer owns one database (and connection) at a time.
class Peer {
 public:
  virtual ~Peer() = default;
  virtual std::string name() const = 0;  // "duckdb", "chdb"

  // Creates table feature_events (SPEC section 1 schema) in the database directory `dir` and
  // loads the NDJSON file `ndjson_path` with the engine's own NDJSON reader.
  //  - ClickHouse: MergeTree PARTITION BY toYYYYMM(timestamp)
  //    ORDER BY (timestamp, feature_id, product_version); timestamp is DateTime('UTC');
  //    INSERT ... SELECT FROM file(path, 'JSONEachRow', structure).
  //  - DuckDB: the same columns (VARCHAR, TIMESTAMP for timestamp), read_json with explicit
  //    columns, rows inserted in sorting-key order, then CHECKPOINT.
  // `dir` is created if missing and must be empty (so bytes_on_disk() measures this load only).
  // chDB boots one engine per process with one data path: loading into a second directory
  // restarts the engine (shutdown + boot, well under a second here; see README).
  // Absent optional fields become "" as in SPEC 1; the peers do not quarantine or deduplicate,
  // so feed them valid, de-duplicated input.
  virtual absl::Status load_ndjson(const std::string& dir, const std::string& ndjson_path) = 0;

  // Opens a new, empty database in `dir` (created if missing, must be empty), with no table:
  // the caller creates and fills its own with query() (the export conformance test runs the
  // exported schema.sql and loads the exported events). query() works from here on.
  virtual absl::Status open_empty(const std::string& dir) = 0;
  // Opens the database a load_ndjson() in another process left in `dir` (bench/scale: a fresh
  // process opens the stored data, as a user's next process does). query() works from here on.
  virtual absl::Status open_existing(const std::string& dir) = 0;

  // Runs one SQL statement and returns its rows, every value rendered as text the same way for
  // both engines: integers in decimal, DateTime/TIMESTAMP as "YYYY-MM-DD HH:MM:SS" (UTC; a
  // DuckDB timestamp with sub-second digits gets ".ffffff"), dates as "YYYY-MM-DD", strings as
  // is (any bytes), NULL as kNullText. Requires a successful load_ndjson() first.
  virtual absl::StatusOr<std::vector<std::vector<std::string>>> query(const std::string& sql) = 0;

  // Total size in bytes of the regular files under the database directory (symlinks are not
  // followed), measured now; 0 before any load.
  virtual uint64_t bytes_on_disk() const = 0;
};

// Opens DuckDB from libduckdb.so (e.g. $USAGEDB_DUCKDB_LIB from .peers/paths.env).
absl::StatusOr<std::unique_ptr<Peer>> open_duckdb(const std::string& libduckdb_path);

// Opens chDB from libchdb.so (e.g. $USAGEDB_CHDB_LIB from .peers/paths.env). The engine boots
// at the first load_ndjson(), on that directory.
absl::StatusOr<std::unique_ptr<Peer>> open_chdb(const std::string& libchdb_path);

// Version string of the library behind a peer's name, once it has been opened ("" otherwise):
// DuckDB's duckdb_library_version(), chDB's chdb_version().
std::string peer_library_version(const std::string& peer_name);

namespace internal {
// Helpers shared by the two implementations (peer_common.cc).

// dlopen()s `path` once per process (later calls with the same path return the same handle);
// the handle is never closed.
absl::StatusOr<void*> load_library_once(const std::string& path);

// dlsym() that reports which symbol is missing from which library.
absl::StatusOr<void*> resolve(void* handle, const std::string& library_path, const char* symbol);

// Creates `dir` (and parents) if needed and checks it is an empty directory.
absl::Status prepare_empty_dir(const std::string& dir, const std::string& who);

// Sum of st_size of the regular files under `dir`, not following symlinks; 0 if absent.
uint64_t directory_bytes(const std::string& dir);

// Absolute, normalised form of `path` (no symlink resolution).
std::string absolute_path(const std::string& path);

// Records the version of a loaded library for peer_library_version().
void set_library_version(const std::string& peer_name, const std::string& version);

// Formats seconds since 1970-01-01 UTC as "YYYY-MM-DD HH:MM:SS" and days as "YYYY-MM-DD".
std::string format_unix_seconds(int64_t seconds);
std::string format_unix_days(int64_t days);
}  // namespace internal

}  // namespace usagedb::bench

#endif  // USAGEDB_BENCH_PEERS_PEER_H_
