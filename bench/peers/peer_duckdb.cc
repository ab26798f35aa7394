// DuckDB peer: libduckdb.so from @duckdb/node-bindings-linux-x64, loaded with dlopen.
//
// The npm package ships no header, so the few C API declarations used here are copied from
// DuckDB's duckdb.h (src/include/duckdb.h, DuckDB v1.5; C API reference "Types", "Query",
// "Data Chunks", "Vectors", "Validity Mask" and "Startup" pages). The enum values are pinned by
// DuckDB ("the numbers of these enums should not be changed ... ABI compatibility"), and were
// checked against the shipped library (DUCKDB_TYPE_VARCHAR = 17, UHUGEINT = 32, ...).
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "peer.h"
#include "peer_sql.h"

namespace usagedb::bench {
namespace {

// ---- from duckdb.h (DuckDB v1.5) --------------------------------------------------------------
extern "C" {
typedef uint64_t idx_t;
typedef enum { DuckDBSuccess = 0, DuckDBError = 1 } duckdb_state;
typedef enum DUCKDB_TYPE {
  DUCKDB_TYPE_INVALID = 0,
  DUCKDB_TYPE_BOOLEAN = 1,
  DUCKDB_TYPE_TINYINT = 2,
  DUCKDB_TYPE_SMALLINT = 3,
  DUCKDB_TYPE_INTEGER = 4,
  DUCKDB_TYPE_BIGINT = 5,
  DUCKDB_TYPE_UTINYINT = 6,
  DUCKDB_TYPE_USMALLINT = 7,
  DUCKDB_TYPE_UINTEGER = 8,
  DUCKDB_TYPE_UBIGINT = 9,
  DUCKDB_TYPE_FLOAT = 10,
  DUCKDB_TYPE_DOUBLE = 11,
  DUCKDB_TYPE_TIMESTAMP = 12,
  DUCKDB_TYPE_DATE = 13,
  DUCKDB_TYPE_HUGEINT = 16,
  DUCKDB_TYPE_VARCHAR = 17,
  DUCKDB_TYPE_BLOB = 18,
  DUCKDB_TYPE_TIMESTAMP_S = 20,
  DUCKDB_TYPE_TIMESTAMP_MS = 21,
  DUCKDB_TYPE_TIMESTAMP_NS = 22,
  DUCKDB_TYPE_TIMESTAMP_TZ = 31,
  DUCKDB_TYPE_UHUGEINT = 32,
} duckdb_type;
// duckdb_result: the members are deprecated and must not be read; only its size and
// layout matter here (it is passed by value to duckdb_fetch_chunk).
typedef struct {
  idx_t deprecated_column_count;
  idx_t deprecated_row_count;
  idx_t deprecated_rows_changed;
  void* deprecated_columns;
  char* deprecated_error_message;
  void* internal_data;
} duckdb_result;
typedef struct _duckdb_database { void* internal_ptr; } * duckdb_database;
typedef struct _duckdb_connection { void* internal_ptr; } * duckdb_connection;
typedef struct _duckdb_config { void* internal_ptr; } * duckdb_config;
typedef struct _duckdb_data_chunk { void* internal_ptr; } * duckdb_data_chunk;
typedef struct _duckdb_vector { void* internal_ptr; } * duckdb_vector;
// duckdb_string_t: 16 bytes; length first; <= 12 bytes inlined after it, else a pointer at +8.
typedef struct {
  union {
    struct { uint32_t length; char prefix[4]; char* ptr; } pointer;
    struct { uint32_t length; char inlined[12]; } inlined;
  } value;
} duckdb_string_t;
typedef struct { uint64_t lower; int64_t upper; } duckdb_hugeint;
typedef struct { uint64_t lower; uint64_t upper; } duckdb_uhugeint;

typedef const char* (*duckdb_library_version_fn)(void);
typedef duckdb_state (*duckdb_create_config_fn)(duckdb_config* out_config);
typedef duckdb_state (*duckdb_set_config_fn)(duckdb_config config, const char* name,
                                             const char* option);
typedef void (*duckdb_destroy_config_fn)(duckdb_config* config);
typedef duckdb_state (*duckdb_open_ext_fn)(const char* path, duckdb_database* out_database,
                                           duckdb_config config, char** out_error);
typedef void (*duckdb_close_fn)(duckdb_database* database);
typedef duckdb_state (*duckdb_connect_fn)(duckdb_database database,
                                          duckdb_connection* out_connection);
typedef void (*duckdb_disconnect_fn)(duckdb_connection* connection);
typedef duckdb_state (*duckdb_query_fn)(duckdb_connection connection, const char* query,
                                        duckdb_result* out_result);
typedef void (*duckdb_destroy_result_fn)(duckdb_result* result);
typedef const char* (*duckdb_result_error_fn)(duckdb_result* result);
typedef idx_t (*duckdb_column_count_fn)(duckdb_result* result);
typedef const char* (*duckdb_column_name_fn)(duckdb_result* result, idx_t col);
typedef duckdb_type (*duckdb_column_type_fn)(duckdb_result* result, idx_t col);
typedef duckdb_data_chunk (*duckdb_fetch_chunk_fn)(duckdb_result result);
typedef idx_t (*duckdb_data_chunk_get_size_fn)(duckdb_data_chunk chunk);
typedef duckdb_vector (*duckdb_data_chunk_get_vector_fn)(duckdb_data_chunk chunk, idx_t col_idx);
typedef void (*duckdb_destroy_data_chunk_fn)(duckdb_data_chunk* chunk);
typedef void* (*duckdb_vector_get_data_fn)(duckdb_vector vector);
typedef uint64_t* (*duckdb_vector_get_validity_fn)(duckdb_vector vector);
typedef void (*duckdb_free_fn)(void* ptr);
}
// ------------------------------------------------------------------------------------------------

struct DuckApi {
  duckdb_library_version_fn library_version;
  duckdb_create_config_fn create_config;
  duckdb_set_config_fn set_config;
  duckdb_destroy_config_fn destroy_config;
  duckdb_open_ext_fn open_ext;
  duckdb_close_fn close;
  duckdb_connect_fn connect;
  duckdb_disconnect_fn disconnect;
  duckdb_query_fn query;
  duckdb_destroy_result_fn destroy_result;
  duckdb_result_error_fn result_error;
  duckdb_column_count_fn column_count;
  duckdb_column_name_fn column_name;
  duckdb_column_type_fn column_type;
  duckdb_fetch_chunk_fn fetch_chunk;
  duckdb_data_chunk_get_size_fn data_chunk_get_size;
  duckdb_data_chunk_get_vector_fn data_chunk_get_vector;
  duckdb_destroy_data_chunk_fn destroy_data_chunk;
  duckdb_vector_get_data_fn vector_get_data;
  duckdb_vector_get_validity_fn vector_get_validity;
  duckdb_free_fn free;
};

absl::StatusOr<DuckApi> load_api(const std::string& path) {
  absl::StatusOr<void*> handle = internal::load_library_once(path);
  if (!handle.ok()) return handle.status();
  DuckApi api{};
  absl::Status status;
  auto get = [&](auto& fn, const char* symbol) {
    if (!status.ok()) return;
    absl::StatusOr<void*> p = internal::resolve(*handle, path, symbol);
    if (!p.ok()) {
      status = p.status();
      return;
    }
    fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(*p);
  };
  get(api.library_version, "duckdb_library_version");
  get(api.create_config, "duckdb_create_config");
  get(api.set_config, "duckdb_set_config");
  get(api.destroy_config, "duckdb_destroy_config");
  get(api.open_ext, "duckdb_open_ext");
  get(api.close, "duckdb_close");
  get(api.connect, "duckdb_connect");
  get(api.disconnect, "duckdb_disconnect");
  get(api.query, "duckdb_query");
  get(api.destroy_result, "duckdb_destroy_result");
  get(api.result_error, "duckdb_result_error");
  get(api.column_count, "duckdb_column_count");
  get(api.column_name, "duckdb_column_name");
  get(api.column_type, "duckdb_column_type");
  get(api.fetch_chunk, "duckdb_fetch_chunk");
  get(api.data_chunk_get_size, "duckdb_data_chunk_get_size");
  get(api.data_chunk_get_vector, "duckdb_data_chunk_get_vector");
  get(api.destroy_data_chunk, "duckdb_destroy_data_chunk");
  get(api.vector_get_data, "duckdb_vector_get_data");
  get(api.vector_get_validity, "duckdb_vector_get_validity");
  get(api.free, "duckdb_free");
  if (!status.ok()) return status;
  return api;
}

std::string shorten(const std::string& sql) {
  constexpr size_t kMax = 600;
  return sql.size() <= kMax ? sql : sql.substr(0, kMax) + "...";
}

// GCC/Clang's 128-bit integers (DuckDB's HUGEINT/UHUGEINT); __extension__ keeps -Wpedantic quiet.
__extension__ typedef __int128 i128;
__extension__ typedef unsigned __int128 u128;

template <typename T>
std::string int_text(T v) {
  char buf[48];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

// A double as ClickHouse prints a Float64 (the shortest digits that read back
// as the same double, in plain notation when 1e-6 <= |x| < 1e21), so the
// peers' rows compare as text.
std::string double_text(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v < 0 ? "-inf" : "inf";
  if (v == 0) return std::signbit(v) ? "-0" : "0";
  char buf[48];
  const auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  const std::string_view sci(buf, static_cast<size_t>(r.ptr - buf));
  std::string out = v < 0 ? "-" : "";
  const size_t e = sci.find('e');
  std::string digits;
  for (size_t i = v < 0 ? 1 : 0; i < e; ++i) {
    if (sci[i] != '.') digits += sci[i];
  }
  const int n = std::stoi(std::string(sci.substr(e + 1))) + 1;  // digits before the point
  const int k = static_cast<int>(digits.size());
  if (n > 21 || n <= -6) {
    out += digits.substr(0, 1);
    if (k > 1) out += "." + digits.substr(1);
    return out + "e" + std::to_string(n - 1);
  }
  if (n >= k) return out + digits + std::string(static_cast<size_t>(n - k), '0');
  if (n > 0) return out + digits.substr(0, static_cast<size_t>(n)) + "." + digits.substr(static_cast<size_t>(n));
  return out + "0." + std::string(static_cast<size_t>(-n), '0') + digits;
}

std::string u128_text(u128 v) {
  if (v == 0) return "0";
  char buf[48];
  char* p = buf + sizeof buf;
  while (v != 0) {
    *--p = static_cast<char>('0' + static_cast<int>(v % 10));
    v /= 10;
  }
  return std::string(p, buf + sizeof buf);
}

std::string i128_text(i128 v) {
  if (v >= 0) return u128_text(static_cast<u128>(v));
  // Appended rather than "-" + text: gcc 12 warns (a false -Wstringop-overflow)
  // about the inlined string concatenation.
  std::string text = "-";
  text.append(u128_text(static_cast<u128>(-(v + 1)) + 1));
  return text;
}

// Microseconds since the epoch -> "YYYY-MM-DD HH:MM:SS[.ffffff]".
std::string micros_text(int64_t micros) {
  int64_t secs = micros / 1000000, frac = micros % 1000000;
  if (frac < 0) {
    frac += 1000000;
    secs -= 1;
  }
  std::string out = internal::format_unix_seconds(secs);
  if (frac != 0) {
    char buf[16];
    std::snprintf(buf, sizeof buf, ".%06lld", static_cast<long long>(frac));
    out += buf;
  }
  return out;
}

class DuckDbPeer final : public Peer {
 public:
  DuckDbPeer(DuckApi api, std::string lib_path) : api_(api), lib_path_(std::move(lib_path)) {}
  ~DuckDbPeer() override { close(); }

  std::string name() const override { return "duckdb"; }

  absl::Status load_ndjson(const std::string& dir_in, const std::string& ndjson_path_in) override {
    const std::string dir = internal::absolute_path(dir_in);
    const std::string ndjson_path = internal::absolute_path(ndjson_path_in);
    std::error_code ec;
    if (!std::filesystem::is_regular_file(ndjson_path, ec)) {
      return absl::NotFoundError("duckdb load_ndjson: input file " + ndjson_path +
                                 " does not exist");
    }
    close();
    if (absl::Status s = internal::prepare_empty_dir(dir, "duckdb load_ndjson"); !s.ok()) return s;
    dir_ = dir;
    if (absl::Status s = open(dir + "/feature_events.duckdb"); !s.ok()) return s;

    const Dialect d = Dialect::kDuckDB;
    const std::string ddl =
        "CREATE TABLE feature_events (event_id VARCHAR NOT NULL, user_id VARCHAR NOT NULL, "
        "feature_id VARCHAR NOT NULL, product_version VARCHAR NOT NULL, "
        "event_type VARCHAR NOT NULL, \"timestamp\" TIMESTAMP NOT NULL, "
        "session_id VARCHAR NOT NULL, metadata VARCHAR NOT NULL)";
    // The timestamp is read as text and converted here, to accept SPEC 1.1's forms: the seed's
    // 'YYYY-MM-DD HH:MM:SS' (and the same with 'T') directly; Unix seconds (a JSON number reads
    // as its digits); anything with a zone through TIMESTAMPTZ (session TimeZone is UTC). A
    // plain CAST(... AS TIMESTAMP) would silently drop a '+02:00' offset. Fractions truncated.
    // A JSON object given as metadata reads as its compact JSON text. Rows are inserted in
    // sorting-key order (timestamp, feature_id, product_version), like the MergeTree table.
    const std::string insert =
        "INSERT INTO feature_events SELECT coalesce(event_id, ''), user_id, feature_id, "
        "product_version, event_type, date_trunc('second', CASE "
        "WHEN length(\"timestamp\") = 19 THEN CAST(\"timestamp\" AS TIMESTAMP) "
        "WHEN regexp_full_match(\"timestamp\", '[0-9]+') "
        "THEN make_timestamp(CAST(\"timestamp\" AS BIGINT) * 1000000) "
        "ELSE CAST(CAST(\"timestamp\" AS TIMESTAMPTZ) AS TIMESTAMP) END) AS ts, "
        "coalesce(session_id, ''), coalesce(metadata, '') FROM read_json(" +
        sql_string_literal(d, ndjson_path) +
        ", format = 'newline_delimited', columns = {event_id: 'VARCHAR', user_id: 'VARCHAR', "
        "feature_id: 'VARCHAR', product_version: 'VARCHAR', event_type: 'VARCHAR', "
        "\"timestamp\": 'VARCHAR', session_id: 'VARCHAR', metadata: 'VARCHAR'}) "
        "ORDER BY ts, feature_id, product_version";
    for (const std::string& sql : {ddl, insert, std::string("CHECKPOINT")}) {
      absl::StatusOr<std::vector<std::vector<std::string>>> r = run(sql);
      if (!r.ok()) {
        return absl::Status(r.status().code(), "duckdb load_ndjson(" + ndjson_path + " into " +
                                                   dir + "): " + std::string(r.status().message()));
      }
    }
    loaded_ = true;
    return absl::OkStatus();
  }

  absl::Status open_empty(const std::string& dir_in) override {
    const std::string dir = internal::absolute_path(dir_in);
    close();
    if (absl::Status s = internal::prepare_empty_dir(dir, "duckdb open_empty"); !s.ok()) return s;
    dir_ = dir;
    if (absl::Status s = open(dir + "/feature_events.duckdb"); !s.ok()) return s;
    loaded_ = true;
    return absl::OkStatus();
  }

  absl::Status open_existing(const std::string& dir_in) override {
    const std::string dir = internal::absolute_path(dir_in);
    close();
    std::error_code ec;
    if (!std::filesystem::is_regular_file(dir + "/feature_events.duckdb", ec)) {
      return absl::NotFoundError("duckdb open_existing: no database in " + dir);
    }
    dir_ = dir;
    if (absl::Status s = open(dir + "/feature_events.duckdb"); !s.ok()) return s;
    loaded_ = true;
    return absl::OkStatus();
  }

  absl::StatusOr<std::vector<std::vector<std::string>>> query(const std::string& sql) override {
    if (!loaded_) {
      return absl::FailedPreconditionError("duckdb query: no database loaded (call load_ndjson)");
    }
    return run(sql);
  }

  uint64_t bytes_on_disk() const override { return internal::directory_bytes(dir_); }

 private:
  absl::Status open(const std::string& db_path) {
    duckdb_config config = nullptr;
    if (api_.create_config(&config) != DuckDBSuccess) {
      return absl::InternalError("duckdb: duckdb_create_config failed");
    }
    // Fail instead of loading extensions from the network (there is none here).
    api_.set_config(config, "autoinstall_known_extensions", "false");
    char* err = nullptr;
    const duckdb_state st = api_.open_ext(db_path.c_str(), &db_, config, &err);
    api_.destroy_config(&config);
    if (st != DuckDBSuccess) {
      std::string msg = err ? err : "unknown error";
      if (err) api_.free(err);
      db_ = nullptr;
      return absl::InternalError("duckdb: duckdb_open_ext(" + db_path + ") failed: " + msg);
    }
    if (api_.connect(db_, &conn_) != DuckDBSuccess) {
      conn_ = nullptr;
      close();
      return absl::InternalError("duckdb: duckdb_connect(" + db_path + ") failed");
    }
    // Timestamps are UTC: TIMESTAMPTZ <-> TIMESTAMP casts use this zone.
    absl::StatusOr<std::vector<std::vector<std::string>>> r = run("SET TimeZone = 'UTC'");
    if (!r.ok()) return r.status();
    return absl::OkStatus();
  }

  void close() {
    if (conn_ != nullptr) api_.disconnect(&conn_);
    if (db_ != nullptr) api_.close(&db_);
    conn_ = nullptr;
    db_ = nullptr;
    loaded_ = false;
  }

  absl::StatusOr<std::vector<std::vector<std::string>>> run(const std::string& sql) {
    if (conn_ == nullptr) return absl::FailedPreconditionError("duckdb: not connected");
    if (sql.find('\0') != std::string::npos) {
      return absl::InvalidArgumentError("duckdb: SQL text contains a NUL byte: " + shorten(sql));
    }
    duckdb_result result;
    std::memset(&result, 0, sizeof result);
    if (api_.query(conn_, sql.c_str(), &result) != DuckDBSuccess) {
      const char* e = api_.result_error(&result);
      std::string msg = e ? e : "unknown error";
      api_.destroy_result(&result);
      return absl::InvalidArgumentError("duckdb query failed: " + msg + "\n  SQL: " + shorten(sql));
    }
    const idx_t ncols = api_.column_count(&result);
    std::vector<duckdb_type> types(ncols);
    for (idx_t c = 0; c < ncols; ++c) {
      types[c] = api_.column_type(&result, c);
      if (!renderable(types[c])) {
        const char* n = api_.column_name(&result, c);
        std::string msg = "duckdb query: column " + std::to_string(c) + " (" +
                          (n ? n : "?") + ") has DuckDB type id " +
                          std::to_string(static_cast<int>(types[c])) +
                          ", which query() does not render; CAST it to VARCHAR\n  SQL: " +
                          shorten(sql);
        api_.destroy_result(&result);
        return absl::UnimplementedError(msg);
      }
    }
    std::vector<std::vector<std::string>> rows;
    for (;;) {
      duckdb_data_chunk chunk = api_.fetch_chunk(result);
      if (chunk == nullptr) break;  // end of result
      const idx_t n = api_.data_chunk_get_size(chunk);
      if (n == 0) {
        api_.destroy_data_chunk(&chunk);
        break;
      }
      const size_t base = rows.size();
      rows.resize(base + n, std::vector<std::string>(ncols));
      for (idx_t c = 0; c < ncols; ++c) {
        duckdb_vector vec = api_.data_chunk_get_vector(chunk, c);
        const void* data = api_.vector_get_data(vec);
        const uint64_t* validity = api_.vector_get_validity(vec);
        for (idx_t r = 0; r < n; ++r) {
          // Validity mask: bit r of the bitmap; a null mask pointer means all valid
          // (duckdb_validity_row_is_valid).
          const bool valid = validity == nullptr || ((validity[r / 64] >> (r % 64)) & 1) != 0;
          rows[base + r][c] = valid ? render(types[c], data, r) : std::string(kNullText);
        }
      }
      api_.destroy_data_chunk(&chunk);
    }
    api_.destroy_result(&result);
    return rows;
  }

  static bool renderable(duckdb_type t) {
    switch (t) {
      case DUCKDB_TYPE_BOOLEAN: case DUCKDB_TYPE_TINYINT: case DUCKDB_TYPE_SMALLINT:
      case DUCKDB_TYPE_INTEGER: case DUCKDB_TYPE_BIGINT: case DUCKDB_TYPE_UTINYINT:
      case DUCKDB_TYPE_USMALLINT: case DUCKDB_TYPE_UINTEGER: case DUCKDB_TYPE_UBIGINT:
      case DUCKDB_TYPE_FLOAT: case DUCKDB_TYPE_DOUBLE: case DUCKDB_TYPE_TIMESTAMP:
      case DUCKDB_TYPE_DATE: case DUCKDB_TYPE_HUGEINT: case DUCKDB_TYPE_VARCHAR:
      case DUCKDB_TYPE_BLOB: case DUCKDB_TYPE_TIMESTAMP_S: case DUCKDB_TYPE_TIMESTAMP_MS:
      case DUCKDB_TYPE_TIMESTAMP_NS: case DUCKDB_TYPE_TIMESTAMP_TZ: case DUCKDB_TYPE_UHUGEINT:
        return true;
      default:
        return false;
    }
  }

  static std::string render(duckdb_type t, const void* data, idx_t r) {
    switch (t) {
      case DUCKDB_TYPE_BOOLEAN: return static_cast<const bool*>(data)[r] ? "true" : "false";
      case DUCKDB_TYPE_TINYINT: return int_text(static_cast<const int8_t*>(data)[r]);
      case DUCKDB_TYPE_SMALLINT: return int_text(static_cast<const int16_t*>(data)[r]);
      case DUCKDB_TYPE_INTEGER: return int_text(static_cast<const int32_t*>(data)[r]);
      case DUCKDB_TYPE_BIGINT: return int_text(static_cast<const int64_t*>(data)[r]);
      case DUCKDB_TYPE_UTINYINT: return int_text(static_cast<const uint8_t*>(data)[r]);
      case DUCKDB_TYPE_USMALLINT: return int_text(static_cast<const uint16_t*>(data)[r]);
      case DUCKDB_TYPE_UINTEGER: return int_text(static_cast<const uint32_t*>(data)[r]);
      case DUCKDB_TYPE_UBIGINT: return int_text(static_cast<const uint64_t*>(data)[r]);
      case DUCKDB_TYPE_FLOAT: return int_text(static_cast<const float*>(data)[r]);
      case DUCKDB_TYPE_DOUBLE: return double_text(static_cast<const double*>(data)[r]);
      case DUCKDB_TYPE_HUGEINT: {
        const duckdb_hugeint h = static_cast<const duckdb_hugeint*>(data)[r];
        return i128_text(static_cast<i128>(
            (static_cast<u128>(static_cast<uint64_t>(h.upper)) << 64) | h.lower));
      }
      case DUCKDB_TYPE_UHUGEINT: {
        const duckdb_uhugeint h = static_cast<const duckdb_uhugeint*>(data)[r];
        return u128_text((static_cast<u128>(h.upper) << 64) | h.lower);
      }
      case DUCKDB_TYPE_TIMESTAMP:
      case DUCKDB_TYPE_TIMESTAMP_TZ:  // stored as UTC microseconds
        return micros_text(static_cast<const int64_t*>(data)[r]);
      case DUCKDB_TYPE_TIMESTAMP_S:
        return micros_text(static_cast<const int64_t*>(data)[r] * 1000000);
      case DUCKDB_TYPE_TIMESTAMP_MS:
        return micros_text(static_cast<const int64_t*>(data)[r] * 1000);
      case DUCKDB_TYPE_TIMESTAMP_NS: {
        const int64_t ns = static_cast<const int64_t*>(data)[r];
        return micros_text(ns / 1000 - (ns % 1000 < 0 ? 1 : 0));
      }
      case DUCKDB_TYPE_DATE: return internal::format_unix_days(static_cast<const int32_t*>(data)[r]);
      case DUCKDB_TYPE_VARCHAR:
      case DUCKDB_TYPE_BLOB: {
        const duckdb_string_t& s = static_cast<const duckdb_string_t*>(data)[r];
        const uint32_t len = s.value.inlined.length;
        if (len <= 12) return std::string(s.value.inlined.inlined, len);
        return std::string(s.value.pointer.ptr, len);
      }
      default: return "?";  // unreachable: renderable() was checked
    }
  }

  DuckApi api_;
  std::string lib_path_;
  std::string dir_;
  duckdb_database db_ = nullptr;
  duckdb_connection conn_ = nullptr;
  bool loaded_ = false;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Peer>> open_duckdb(const std::string& libduckdb_path) {
  absl::StatusOr<DuckApi> api = load_api(libduckdb_path);
  if (!api.ok()) return api.status();
  internal::set_library_version("duckdb", api->library_version());
  return std::unique_ptr<Peer>(new DuckDbPeer(*api, internal::absolute_path(libduckdb_path)));
}

}  // namespace usagedb::bench
