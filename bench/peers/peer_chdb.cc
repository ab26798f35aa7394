// chDB peer: ClickHouse in process, libchdb.so from @chdb/lib-linux-x64-gnu, loaded with dlopen.
//
// The npm packages ship no header; the declarations below are copied from chDB's chdb.h
// (chdb-core programs/local/chdb.h, CHDB_VERSION "26.7.3", the version of the pinned
// libchdb.so, whose chdb_version() returns "26.7.3"). Only the new connection API is used
// (chdb_connect / chdb_query_n / chdb_result_* / chdb_destroy_query_result / chdb_close_conn),
// not the deprecated query_stable / connect_chdb family.
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "peer.h"
#include "peer_sql.h"

namespace usagedb::bench {
namespace {

// ---- from chdb.h (chDB 26.7.3) ------------------------------------------------------------------
extern "C" {
typedef struct chdb_result_ { void* internal_data; } chdb_result;
typedef struct chdb_connection_ { void* internal_data; } * chdb_connection;

typedef const char* (*chdb_version_fn)(void);
// Returns a pointer to a connection pointer, or NULL on failure. argv takes --path=<dir> and
// ClickHouse query-level settings as --name=value (per connection).
typedef chdb_connection* (*chdb_connect_fn)(int argc, char** argv);
typedef void (*chdb_close_conn_fn)(chdb_connection* conn);
typedef chdb_result* (*chdb_query_n_fn)(chdb_connection conn, const char* query, size_t query_len,
                                        const char* format, size_t format_len);
typedef void (*chdb_destroy_query_result_fn)(chdb_result* result);
typedef char* (*chdb_result_buffer_fn)(chdb_result* result);
typedef size_t (*chdb_result_length_fn)(chdb_result* result);
typedef const char* (*chdb_result_error_fn)(chdb_result* result);
}
// ------------------------------------------------------------------------------------------------

struct ChdbApi {
  chdb_version_fn version;
  chdb_connect_fn connect;
  chdb_close_conn_fn close_conn;
  chdb_query_n_fn query_n;
  chdb_destroy_query_result_fn destroy_query_result;
  chdb_result_buffer_fn result_buffer;
  chdb_result_length_fn result_length;
  chdb_result_error_fn result_error;
};

absl::StatusOr<ChdbApi> load_api(const std::string& path) {
  absl::StatusOr<void*> handle = internal::load_library_once(path);
  if (!handle.ok()) return handle.status();
  ChdbApi api{};
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
  get(api.version, "chdb_version");
  get(api.connect, "chdb_connect");
  get(api.close_conn, "chdb_close_conn");
  get(api.query_n, "chdb_query_n");
  get(api.destroy_query_result, "chdb_destroy_query_result");
  get(api.result_buffer, "chdb_result_buffer");
  get(api.result_length, "chdb_result_length");
  get(api.result_error, "chdb_result_error");
  if (!status.ok()) return status;
  return api;
}

std::string shorten(const std::string& sql) {
  constexpr size_t kMax = 600;
  return sql.size() <= kMax ? sql : sql.substr(0, kMax) + "...";
}

// One chDB engine per process, on one data path; count the connections we hold so that a second
// Peer on another directory gets a clear error instead of chdb_connect's bare NULL.
std::mutex g_engine_mutex;
std::string g_engine_path;  // data path of the engine our open connections use
int g_open_connections = 0;

// Decodes one TabSeparated field (ClickHouse escaping: \b \f \n \r \t \0 \\ \' \" \a \v \xHH;
// any other escaped byte stands for itself). A whole field "\N" is NULL -> kNullText.
std::string unescape_tsv_field(std::string_view f) {
  if (f == "\\N") return kNullText;
  std::string out;
  out.reserve(f.size());
  for (size_t i = 0; i < f.size(); ++i) {
    const char c = f[i];
    if (c != '\\' || i + 1 == f.size()) {
      out += c;
      continue;
    }
    const char e = f[++i];
    switch (e) {
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case '0': out += '\0'; break;
      case 'a': out += '\a'; break;
      case 'v': out += '\v'; break;
      case 'x': {
        auto hex = [](char h) -> int {
          if (h >= '0' && h <= '9') return h - '0';
          if (h >= 'a' && h <= 'f') return h - 'a' + 10;
          if (h >= 'A' && h <= 'F') return h - 'A' + 10;
          return -1;
        };
        if (i + 2 < f.size() && hex(f[i + 1]) >= 0 && hex(f[i + 2]) >= 0) {
          out += static_cast<char>(hex(f[i + 1]) * 16 + hex(f[i + 2]));
          i += 2;
        } else {
          out += 'x';
        }
        break;
      }
      default: out += e; break;  // \\ \' \" and anything else
    }
  }
  return out;
}

// Parses ClickHouse TabSeparated output: rows end with '\n', fields are separated by '\t'; tabs
// and newlines inside values are escaped, so splitting on the raw bytes is exact.
absl::StatusOr<std::vector<std::vector<std::string>>> parse_tsv(std::string_view buf) {
  std::vector<std::vector<std::string>> rows;
  size_t pos = 0;
  size_t width = 0;
  while (pos < buf.size()) {
    size_t eol = buf.find('\n', pos);
    if (eol == std::string_view::npos) {
      return absl::DataLossError("chdb: TabSeparated output does not end with a newline");
    }
    std::string_view line = buf.substr(pos, eol - pos);
    std::vector<std::string> row;
    size_t start = 0;
    for (;;) {
      size_t tab = line.find('\t', start);
      if (tab == std::string_view::npos) {
        row.push_back(unescape_tsv_field(line.substr(start)));
        break;
      }
      row.push_back(unescape_tsv_field(line.substr(start, tab - start)));
      start = tab + 1;
    }
    if (rows.empty()) {
      width = row.size();
    } else if (row.size() != width) {
      return absl::DataLossError("chdb: TabSeparated row " + std::to_string(rows.size() + 1) +
                                 " has " + std::to_string(row.size()) + " fields, expected " +
                                 std::to_string(width));
    }
    rows.push_back(std::move(row));
    pos = eol + 1;
  }
  return rows;
}

class ChdbPeer final : public Peer {
 public:
  ChdbPeer(ChdbApi api, std::string lib_path) : api_(api), lib_path_(std::move(lib_path)) {}
  ~ChdbPeer() override { disconnect(); }

  std::string name() const override { return "chdb"; }

  absl::Status load_ndjson(const std::string& dir_in, const std::string& ndjson_path_in) override {
    const std::string dir = internal::absolute_path(dir_in);
    const std::string ndjson_path = internal::absolute_path(ndjson_path_in);
    std::error_code ec;
    if (!std::filesystem::is_regular_file(ndjson_path, ec)) {
      return absl::NotFoundError("chdb load_ndjson: input file " + ndjson_path +
                                 " does not exist");
    }
    disconnect();
    if (absl::Status s = internal::prepare_empty_dir(dir, "chdb load_ndjson"); !s.ok()) return s;
    dir_ = dir;
    if (absl::Status s = connect(dir); !s.ok()) return s;

    const Dialect d = Dialect::kClickHouse;
    const std::string ddl =
        "CREATE TABLE feature_events (event_id String, user_id String, feature_id String, "
        "product_version String, event_type String, timestamp DateTime('UTC'), "
        "session_id String, metadata String) ENGINE = MergeTree "
        "PARTITION BY toYYYYMM(timestamp) ORDER BY (timestamp, feature_id, product_version)";
    // file() reads the NDJSON with ClickHouse's own JSONEachRow parser. best_effort accepts
    // SPEC 1.1's ISO forms and offsets (converted to UTC); absent fields take the default "";
    // unknown keys are skipped; a JSON object given for metadata is kept as its JSON text.
    const std::string insert =
        "INSERT INTO feature_events SELECT event_id, user_id, feature_id, product_version, "
        "event_type, timestamp, session_id, metadata FROM file(" +
        sql_string_literal(d, ndjson_path) +
        ", 'JSONEachRow', 'event_id String, user_id String, feature_id String, "
        "product_version String, event_type String, timestamp DateTime(\\'UTC\\'), "
        "session_id String, metadata String') SETTINGS date_time_input_format = 'best_effort', "
        "input_format_skip_unknown_fields = 1, input_format_json_read_objects_as_strings = 1";
    for (const std::string& sql : {ddl, insert}) {
      absl::StatusOr<std::vector<std::vector<std::string>>> r = run(sql);
      if (!r.ok()) {
        return absl::Status(r.status().code(), "chdb load_ndjson(" + ndjson_path + " into " +
                                                   dir + "): " + std::string(r.status().message()));
      }
    }
    loaded_ = true;
    return absl::OkStatus();
  }

  absl::Status open_empty(const std::string& dir_in) override {
    const std::string dir = internal::absolute_path(dir_in);
    disconnect();
    if (absl::Status s = internal::prepare_empty_dir(dir, "chdb open_empty"); !s.ok()) return s;
    dir_ = dir;
    if (absl::Status s = connect(dir); !s.ok()) return s;
    loaded_ = true;
    return absl::OkStatus();
  }

  absl::Status open_existing(const std::string& dir_in) override {
    const std::string dir = internal::absolute_path(dir_in);
    disconnect();
    std::error_code ec;
    if (!std::filesystem::is_directory(dir, ec)) return absl::NotFoundError("chdb open_existing: no directory " + dir);
    dir_ = dir;
    if (absl::Status s = connect(dir); !s.ok()) return s;  // the engine attaches the tables it finds
    loaded_ = true;
    return absl::OkStatus();
  }

  absl::StatusOr<std::vector<std::vector<std::string>>> query(const std::string& sql) override {
    if (!loaded_) {
      return absl::FailedPreconditionError("chdb query: no database loaded (call load_ndjson)");
    }
    return run(sql);
  }

  uint64_t bytes_on_disk() const override { return internal::directory_bytes(dir_); }

 private:
  absl::Status connect(const std::string& dir) {
    std::lock_guard<std::mutex> lock(g_engine_mutex);
    if (g_open_connections > 0 && g_engine_path != dir) {
      return absl::FailedPreconditionError(
          "chdb: the engine of this process is open on " + g_engine_path +
          " (one data path per process); destroy the other chdb Peer before loading into " + dir);
    }
    // argv as chdb_connect wants it: a program name, then options. --path is the data
    // directory; session_timezone=UTC makes toDateTime(Date) and DateTime text UTC.
    std::vector<std::string> args = {"clickhouse", "--path=" + dir, "--session_timezone=UTC"};
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    chdb_connection* conn = api_.connect(static_cast<int>(args.size()), argv.data());
    if (conn == nullptr || *conn == nullptr) {
      return absl::InternalError("chdb: chdb_connect(--path=" + dir +
                                 ") failed (the engine's reason, if any, is on stderr)");
    }
    conn_ = conn;
    g_engine_path = dir;
    ++g_open_connections;
    return absl::OkStatus();
  }

  void disconnect() {
    if (conn_ != nullptr) {
      // Closing the last connection shuts the engine down; the next connect boots it again.
      api_.close_conn(conn_);
      conn_ = nullptr;
      std::lock_guard<std::mutex> lock(g_engine_mutex);
      --g_open_connections;
    }
    loaded_ = false;
  }

  absl::StatusOr<std::vector<std::vector<std::string>>> run(const std::string& sql) {
    if (conn_ == nullptr) return absl::FailedPreconditionError("chdb: not connected");
    static constexpr std::string_view kFormat = "TabSeparated";
    chdb_result* result =
        api_.query_n(*conn_, sql.data(), sql.size(), kFormat.data(), kFormat.size());
    if (result == nullptr) {
      return absl::InternalError("chdb query failed: chdb_query_n returned NULL\n  SQL: " +
                                 shorten(sql));
    }
    // Copy what we need, then free the result whatever happened.
    const char* err = api_.result_error(result);
    std::string error = err ? err : "";
    const char* buf = api_.result_buffer(result);
    const size_t len = buf ? api_.result_length(result) : 0;
    std::string_view out(buf ? buf : "", len);
    absl::StatusOr<std::vector<std::vector<std::string>>> rows;
    if (err == nullptr) rows = parse_tsv(out);
    api_.destroy_query_result(result);
    if (err != nullptr) {
      while (!error.empty() && (error.back() == '\n' || error.back() == ' ')) error.pop_back();
      return absl::InvalidArgumentError("chdb query failed: " + error + "\n  SQL: " +
                                        shorten(sql));
    }
    if (!rows.ok()) {
      return absl::Status(rows.status().code(),
                          std::string(rows.status().message()) + "\n  SQL: " + shorten(sql));
    }
    return rows;
  }

  ChdbApi api_;
  std::string lib_path_;
  std::string dir_;
  chdb_connection* conn_ = nullptr;
  bool loaded_ = false;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Peer>> open_chdb(const std::string& libchdb_path) {
  absl::StatusOr<ChdbApi> api = load_api(libchdb_path);
  if (!api.ok()) return api.status();
  internal::set_library_version("chdb", api->version());
  return std::unique_ptr<Peer>(new ChdbPeer(*api, internal::absolute_path(libchdb_path)));
}

}  // namespace usagedb::bench
