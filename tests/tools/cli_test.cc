// The usagedb command line end to end (SPEC section 4): each test runs the
// built binary (USAGEDB_CLI_PATH, or $USAGEDB_CLI when set; the tests skip
// when there is none) in a temporary working directory and checks
// its exit status (0 success, 1 runtime error, 2 usage error), its standard
// output, and that every error is one line on standard error naming what is
// at fault. Stores are shared between processes only through their files, so
// a query after an ingest also checks durability across processes.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/strings/ascii.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "simdjson.h"
#include "tests/testutil/temp_dir.h"
#include "usagedb/usagedb.h"
#include "tests/testutil/helpers.h"

// The binary this build made (tests/CMakeLists.txt); "" when it builds no CLI.
#ifndef USAGEDB_CLI_PATH
#define USAGEDB_CLI_PATH ""
#endif

namespace usagedb {
namespace {

using ::testing::AllOf;
using ::testing::ContainsRegex;
using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::Not;
using ::testing::StartsWith;

// ---- Running the binary -------------------------------------------------------

// The binary under test: $USAGEDB_CLI when set (e.g. an installed usagedb),
// else the one this build made; "" when there is none.
const std::string& cli_path() {
  static const std::string path = [] {
    const char* env = std::getenv("USAGEDB_CLI");
    return std::string(env != nullptr && *env != '\0' ? env : USAGEDB_CLI_PATH);
  }();
  return path;
}

struct RunOptions {
  std::string cwd;         // the child's working directory ("" = ours)
  std::string input;       // written to its standard input, then closed
  bool stdout_tty = false; // standard output is a pseudo-terminal
  // When set, the child's GLIBC_TUNABLES ("" = unset), instead of ours.
  std::optional<std::string> glibc_tunables;
};

struct Result {
  int exit_code = -1;  // -1 when killed by a signal
  std::string out;
  std::string err;
};

std::ostream& operator<<(std::ostream& os, const Result& r) {
  return os << "exit " << r.exit_code << "\n--- stdout:\n" << r.out.substr(0, 4000) << "\n--- stderr:\n" << r.err;
}

// Runs `usagedb args...` and collects its output. Aborts the test process
// only on a failure to start it; a child still running after 60 s is killed.
Result run_cli(const std::vector<std::string>& args, const RunOptions& options = {}) {
  static const bool ignore_sigpipe = [] {
    ::signal(SIGPIPE, SIG_IGN);  // a child that exits before reading its input
    return true;
  }();
  (void)ignore_sigpipe;
  std::vector<std::string> argv_strings = {cli_path()};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& s : argv_strings) argv.push_back(s.data());
  argv.push_back(nullptr);
  // The child's environment: ours, GLIBC_TUNABLES as asked (built before
  // the fork: the child only calls async-signal-safe functions).
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    if (!options.glibc_tunables || std::strncmp(*e, "GLIBC_TUNABLES=", 15) != 0) env_strings.emplace_back(*e);
  }
  if (options.glibc_tunables && !options.glibc_tunables->empty()) {
    env_strings.push_back("GLIBC_TUNABLES=" + *options.glibc_tunables);
  }
  std::vector<char*> envp;
  for (std::string& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);

  int in[2], out[2], err[2];
  if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0) std::abort();
  int tty_master = -1, tty_slave = -1;
  if (options.stdout_tty) {
    tty_master = ::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    char name[128];
    if (tty_master < 0 || ::grantpt(tty_master) != 0 || ::unlockpt(tty_master) != 0 ||
        ::ptsname_r(tty_master, name, sizeof(name)) != 0) {
      std::abort();
    }
    tty_slave = ::open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (tty_slave < 0) std::abort();
    termios raw;
    ::tcgetattr(tty_slave, &raw);
    ::cfmakeraw(&raw);  // no "\n" -> "\r\n"
    ::tcsetattr(tty_slave, TCSANOW, &raw);
  }
  const pid_t pid = ::fork();
  if (pid < 0) std::abort();
  if (pid == 0) {
    // Only async-signal-safe calls from here to exec.
    if (!options.cwd.empty() && ::chdir(options.cwd.c_str()) != 0) ::_exit(127);
    ::dup2(in[0], 0);
    ::dup2(options.stdout_tty ? tty_slave : out[1], 1);
    ::dup2(err[1], 2);
    ::execve(argv[0], argv.data(), envp.data());
    ::_exit(127);
  }
  ::close(in[0]);
  ::close(out[1]);
  ::close(err[1]);
  if (tty_slave >= 0) ::close(tty_slave);

  Result run;
  size_t written = 0;
  int in_fd = in[1];
  if (options.input.empty()) {
    ::close(in_fd);
    in_fd = -1;
  } else {
    ::fcntl(in_fd, F_SETFL, O_NONBLOCK);
  }
  int out_fd = options.stdout_tty ? tty_master : out[0];
  if (options.stdout_tty) ::close(out[0]);
  int err_fd = err[0];
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (out_fd >= 0 || err_fd >= 0) {
    pollfd fds[3];
    int n = 0;
    if (in_fd >= 0) fds[n++] = {in_fd, POLLOUT, 0};
    if (out_fd >= 0) fds[n++] = {out_fd, POLLIN, 0};
    if (err_fd >= 0) fds[n++] = {err_fd, POLLIN, 0};
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ADD_FAILURE() << "usagedb did not finish within 60 s";
      break;
    }
    if (::poll(fds, n, 1000) < 0 && errno != EINTR) std::abort();
    for (int i = 0; i < n; ++i) {
      if (fds[i].revents == 0) continue;
      if (fds[i].fd == in_fd) {
        const ssize_t w = ::write(in_fd, options.input.data() + written, options.input.size() - written);
        if (w > 0) written += static_cast<size_t>(w);
        if (w < 0 && errno != EAGAIN && errno != EINTR) written = options.input.size();  // the child closed it
        if (written == options.input.size()) {
          ::close(in_fd);
          in_fd = -1;
        }
        continue;
      }
      char buf[65536];
      const ssize_t r = ::read(fds[i].fd, buf, sizeof(buf));
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) {  // EOF (or EIO from a pty whose child side closed)
        ::close(fds[i].fd);
        (fds[i].fd == out_fd ? out_fd : err_fd) = -1;
        continue;
      }
      (fds[i].fd == err_fd ? run.err : run.out).append(buf, static_cast<size_t>(r));
    }
  }
  if (in_fd >= 0) ::close(in_fd);
  if (out_fd >= 0) ::close(out_fd);
  if (err_fd >= 0) ::close(err_fd);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return run;
}

// ---- Helpers ----------------------------------------------------------------

using ::usagedb::testing::write_file;

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<std::string> lines_of(std::string_view text) {
  std::vector<std::string> lines = absl::StrSplit(absl::string_view(text.data(), text.size()), '\n');
  if (!lines.empty() && lines.back().empty()) lines.pop_back();
  return lines;
}

// SPEC 4: an error is one line on standard error, "usagedb: ...", naming
// `what`.
void expect_one_line_error(const Result& run, int exit_code, std::string_view what) {
  EXPECT_EQ(run.exit_code, exit_code) << run;
  EXPECT_THAT(run.err, StartsWith("usagedb: ")) << run;
  EXPECT_THAT(run.err, EndsWith("\n")) << run;
  EXPECT_EQ(std::count(run.err.begin(), run.err.end(), '\n'), 1) << run;
  EXPECT_THAT(run.err, HasSubstr(std::string(what))) << run;
}

// A result as text, whatever the format it came in: the column names, then
// each row's values (numbers in decimal, DateTime as "YYYY-MM-DD HH:MM:SS").
struct Table {
  std::vector<std::string> columns;
  std::vector<std::vector<std::string>> rows;
  friend bool operator==(const Table&, const Table&) = default;
};

std::ostream& operator<<(std::ostream& os, const Table& t) {
  os << absl::StrJoin(t.columns, " | ") << "\n";
  for (const auto& row : t.rows) os << absl::StrJoin(row, " | ") << "\n";
  return os;
}

std::string json_value_text(simdjson::dom::element v) {
  if (v.is_string()) return std::string(v.get_string().value());
  if (v.is_uint64()) return std::to_string(v.get_uint64().value());
  if (v.is_double()) {  // as printed: the shortest digits that read back
    char buf[32];
    const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v.get_double().value());
    return std::string(buf, end);
  }
  ADD_FAILURE() << "unexpected JSON value " << simdjson::to_string(v);
  return "?";
}

// One JSON object per row: its keys in order are the columns.
void append_json_row(simdjson::dom::object object, Table* t, bool first) {
  std::vector<std::string> keys, values;
  for (auto field : object) {
    keys.emplace_back(field.key);
    values.push_back(json_value_text(field.value));
  }
  if (first) t->columns = keys;
  EXPECT_EQ(keys, t->columns);
  t->rows.push_back(std::move(values));
}

Table parse_json_output(const std::string& text) {
  Table t;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(text).get(doc) != simdjson::SUCCESS) {
    ADD_FAILURE() << "not JSON: " << text;
    return t;
  }
  for (simdjson::dom::element m : doc["meta"].get_array()) t.columns.emplace_back(m["name"].get_string().value());
  const std::vector<std::string> meta = t.columns;
  bool first = true;
  for (simdjson::dom::element row : doc["data"].get_array()) {
    append_json_row(row.get_object(), &t, first);
    first = false;
  }
  EXPECT_EQ(t.columns.empty() ? meta : t.columns, meta) << "data keys differ from meta";
  t.columns = meta;
  EXPECT_EQ(doc["rows"].get_uint64().value(), t.rows.size());
  return t;
}

Table parse_ndjson_output(const std::string& text) {
  Table t;
  simdjson::dom::parser parser;
  bool first = true;
  for (const std::string& l : lines_of(text)) {
    simdjson::dom::element row;
    if (parser.parse(l).get(row) != simdjson::SUCCESS) {
      ADD_FAILURE() << "not JSON: " << l;
      continue;
    }
    append_json_row(row.get_object(), &t, first);
    first = false;
  }
  return t;
}

// RFC 4180: quoted fields may hold commas, quotes ("") and newlines.
Table parse_csv_output(const std::string& text) {
  std::vector<std::vector<std::string>> records;
  std::vector<std::string> record;
  std::string field;
  bool quoted = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      record.push_back(std::move(field));
      field.clear();
    } else if (c == '\n') {
      record.push_back(std::move(field));
      field.clear();
      records.push_back(std::move(record));
      record.clear();
    } else {
      field += c;
    }
  }
  EXPECT_FALSE(quoted) << "unterminated quote: " << text;
  EXPECT_TRUE(field.empty() && record.empty()) << "no newline after the last record: " << text;
  Table t;
  if (records.empty()) {
    ADD_FAILURE() << "no header line";
    return t;
  }
  t.columns = records[0];
  t.rows.assign(records.begin() + 1, records.end());
  return t;
}

// The table format: the column names in the top border, a row per "│" line,
// then the bottom border and "N rows, T ms".
Table parse_table_output(const std::string& text) {
  Table t;
  const std::vector<std::string> lines = lines_of(text);
  if (lines.size() < 3) {
    ADD_FAILURE() << "not a table: " << text;
    return t;
  }
  auto strip = [](std::string s, const std::vector<std::string>& drop) {
    for (const std::string& d : drop) {
      for (size_t at; (at = s.find(d)) != std::string::npos;) s.erase(at, d.size());
    }
    return std::string(absl::StripAsciiWhitespace(s));
  };
  const std::vector<std::string> names = absl::StrSplit(lines[0], "┬");
  for (const std::string& name : names) t.columns.push_back(strip(name, {"┌", "┐", "─"}));
  size_t i = 1;
  for (; i < lines.size() && lines[i].starts_with("│"); ++i) {
    std::vector<std::string> cells = absl::StrSplit(lines[i], "│");
    EXPECT_EQ(cells.size(), t.columns.size() + 2) << lines[i];  // empty before the first and after the last
    std::vector<std::string> row;
    for (size_t k = 1; k + 1 < cells.size(); ++k) row.push_back(strip(cells[k], {}));
    t.rows.push_back(std::move(row));
  }
  EXPECT_EQ(i + 2, lines.size()) << text;
  if (i < lines.size()) EXPECT_THAT(lines[i], StartsWith("└")) << text;
  if (i + 1 < lines.size()) {
    // "2 rows, 0.01 ms" or "1 row (2 before limit), 0.01 ms"
    EXPECT_THAT(lines[i + 1], StartsWith(absl::StrCat(t.rows.size(), t.rows.size() == 1 ? " row" : " rows")));
  }
  return t;
}

std::string event_line(std::string_view id, std::string_view user, std::string_view feature,
                       std::string_view timestamp = "2025-05-11 10:23:03", std::string_view version = "1.0.0",
                       std::string_view session = "s1") {
  return absl::StrCat(R"({"event_id":")", absl::string_view(id.data(), id.size()), R"(","user_id":")",
                      absl::string_view(user.data(), user.size()), R"(","feature_id":")",
                      absl::string_view(feature.data(), feature.size()), R"(","product_version":")",
                      absl::string_view(version.data(), version.size()), R"(","event_type":"view","timestamp":")",
                      absl::string_view(timestamp.data(), timestamp.size()), R"(","session_id":")",
                      absl::string_view(session.data(), session.size()), "\"}\n");
}

// Five events of alice and bob over two months, plus two bad lines (3 and 6)
// and a duplicate of evt_1 (line 7).
std::string sample_ndjson() {
  return event_line("evt_1", "alice", "search", "2025-01-10 08:00:00") +
         event_line("evt_2", "alice", "search", "2025-01-11 09:00:00") +
         "{\"user_id\":\"alice\"}\n" +
         event_line("evt_3", "alice", "export", "2025-02-01 10:00:00", "2.0.0") +
         event_line("evt_4", "bob", "search", "2025-02-02 11:00:00", "1.0.0", "s2") +
         event_line("evt_5", "bob", "search", "2025-13-01 00:00:00") +
         event_line("evt_1", "alice", "search", "2025-01-20 08:00:00") +
         event_line("evt_6", "carol", "search", "2025-02-03 12:00:00", "1.0.0", "s3");
}

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (cli_path().empty()) GTEST_SKIP() << "the usagedb CLI is not built (USAGEDB_BUILD_TOOLS=OFF)";
    // Built but missing is a failure, not a skip.
    ASSERT_EQ(::access(cli_path().c_str(), X_OK), 0) << cli_path() << ": " << std::strerror(errno);
  }

  std::string store() const { return dir_.file("store"); }
  std::string file(std::string_view name) const { return dir_.file(name); }

  Result usagedb(std::vector<std::string> args, RunOptions options = {}) {
    if (options.cwd.empty()) options.cwd = dir_.path();
    return run_cli(args, options);
  }

  // Ingests sample_ndjson() into store().
  void ingest_sample() {
    write_file(file("sample.ndjson"), sample_ndjson());
    const Result r = usagedb({"ingest", "--store", store(), file("sample.ndjson")});
    ASSERT_EQ(r.exit_code, 0) << r;
  }

  testing::ScopedTempDir dir_;
};

simdjson::dom::element parse_json(simdjson::dom::parser& parser, const std::string& text) {
  simdjson::dom::element doc;
  const auto err = parser.parse(text).get(doc);
  EXPECT_EQ(err, simdjson::SUCCESS) << text;
  return doc;
}

// ---- Usage errors -------------------------------------------------------------

TEST_F(CliTest, HelpAndUsage) {
  const Result help = usagedb({"help"});
  EXPECT_EQ(help.exit_code, 0) << help;
  EXPECT_THAT(help.out, HasSubstr("usagedb ingest"));
  EXPECT_THAT(help.out, HasSubstr("usagedb query"));
  const Result none = usagedb({});
  EXPECT_EQ(none.exit_code, 2) << none;
  EXPECT_THAT(none.err, HasSubstr("usage:"));
  EXPECT_TRUE(none.out.empty());
}

TEST_F(CliTest, UsageErrorsExitTwoWithOneLineNamingTheCulprit) {
  struct Case {
    std::vector<std::string> args;
    std::string named;
  };
  const std::vector<Case> cases = {
      {{"frobnicate"}, "frobnicate"},
      {{"ingest", "--store", "s", "--bogus", "x.ndjson"}, "--bogus"},
      {{"ingest", "--store"}, "--store"},
      {{"ingest", "--store", "s"}, "FILE"},
      {{"ingest", "--store", "s", "--format", "xml", "x.ndjson"}, "--format"},
      {{"ingest", "--store", "a", "--store", "b", "x.ndjson"}, "--store"},
      {{"query", "--store", "s"}, "endpoint"},
      {{"query", "nope", "--store", "s"}, "nope"},
      {{"query", "user_feature_usage", "--store", "s", "limit=-1"}, "limit"},
      {{"query", "user_feature_usage", "--store", "s", "limit=ten"}, "limit"},
      {{"query", "feature_usage_summary", "--store", "s", "start_date=2025-13-01"}, "start_date"},
      {{"query", "feature_usage_summary", "--store", "s", "end_date=2025-02-30"}, "end_date"},
      {{"query", "feature_usage_summary", "--store", "s", "start_date=2025-02-01", "end_date=2025-01-01"},
       "end_date"},
      {{"query", "feature_usage_timeline", "--store", "s", "granularity=minute"}, "granularity"},
      {{"query", "feature_usage_summary", "--store", "s", "user_id=u"}, "user_id"},
      {{"query", "feature_usage_summary", "--store", "s", "feature_id=a", "feature_id=b"}, "feature_id"},
      {{"query", "feature_usage_summary", "--store", "s", "feature_id"}, "feature_id"},
      {{"query", "feature_usage_summary", "--store", "s", "--format", "xml"}, "--format"},
      {{"query", "feature_usage_summary", "--store", "s", "--clear"}, "--clear"},
      {{"quarantine", "--store", "s", "--format", "yaml"}, "--format"},
      {{"quarantine", "--store", "s", "--clear=yes"}, "--clear"},
      {{"quarantine", "--store", "s", "extra"}, "extra"},
      {{"generate"}, "--events"},
      {{"generate", "--events", "-5"}, "--events"},
      {{"generate", "--events", "10", "--users", "0"}, "--users"},
      {{"generate", "--events", "10", "--start", "2025-13-01"}, "--start"},
      {{"demo", "--events", "many"}, "--events"},
      {{"demo", "--events", "0"}, "--events"},
      {{"stats", "--store", "s", "extra"}, "stats"},
      {{"compact", "--store", "s", "--verbose"}, "--verbose"},
      {{"delete-user", "--store", "s"}, "USER_ID"},
      {{"delete-user", "--store", "s", "a", "b"}, "USER_ID"},
      {{"drop-before", "--store", "s", "2025-01"}, "2025-01"},
      {{"drop-before", "--store", "s"}, "YYYYMM"},
      // An empty --store would be an in-memory store that forgets everything.
      {{"ingest", "--store=", "-"}, "--store"},
      {{"ingest", "--store", "", "-"}, "--store"},
      {{"demo", "--store=", "--events", "10"}, "--store"},
      {{"query", "feature_usage_summary", "--store="}, "--store"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(absl::StrJoin(c.args, " "));
    expect_one_line_error(usagedb(c.args), 2, c.named);
  }
  // None of them created a store.
  EXPECT_FALSE(std::filesystem::exists(file("s")));
  EXPECT_FALSE(std::filesystem::exists(file("usagedb-data")));
}

// ---- Runtime errors -------------------------------------------------------------

TEST_F(CliTest, MissingStoreIsARuntimeError) {
  const std::string missing = file("no-store");
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"query", "user_feature_usage", "--store", missing, "user_id=u"},
           {"quarantine", "--store", missing},
           {"quarantine", "--store", missing, "--clear"},
           {"stats", "--store", missing},
           {"compact", "--store", missing},
           {"delete-user", "--store", missing, "u"},
           {"drop-before", "--store", missing, "202501"}}) {
    SCOPED_TRACE(absl::StrJoin(args, " "));
    expect_one_line_error(usagedb(args), 1, missing);
  }
  // Reading commands never create a store.
  EXPECT_FALSE(std::filesystem::exists(missing));
}

// A directory that is not a store: reading commands fail naming it and
// leave it exactly as it was (no LOCK file, nothing else).
TEST_F(CliTest, DirectoryThatIsNotAStoreIsLeftAsItWas) {
  const std::string empty = file("empty");
  const std::string other = file("other");
  std::filesystem::create_directory(empty);
  std::filesystem::create_directory(other);
  write_file(other + "/notes.txt", "not a store");
  const auto listing = [](const std::string& dir) {
    std::vector<std::string> names;
    for (const auto& f : std::filesystem::directory_iterator(dir)) names.push_back(f.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
  };
  for (const std::string& dir : {empty, other}) {
    for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
             {"stats", "--store", dir},
             {"query", "feature_usage_summary", "--store", dir},
             {"quarantine", "--store", dir},
             {"compact", "--store", dir}}) {
      SCOPED_TRACE(absl::StrJoin(args, " "));
      const Result r = usagedb(args);
      expect_one_line_error(r, 1, dir);
      EXPECT_THAT(r.err, HasSubstr("no usagedb store"));
    }
  }
  EXPECT_TRUE(listing(empty).empty());
  EXPECT_EQ(listing(other), std::vector<std::string>{"notes.txt"});
}

TEST_F(CliTest, IngestOfAMissingFileNamesItAndChangesNothing) {
  const Result r = usagedb({"ingest", "--store", store(), file("nope.ndjson")});
  expect_one_line_error(r, 1, file("nope.ndjson"));
  EXPECT_TRUE(r.out.empty());
  EXPECT_FALSE(std::filesystem::exists(store())) << "a mistyped file name created a store";
  // A good file before the missing one is not ingested either.
  write_file(file("good.ndjson"), event_line("e1", "u", "f"));
  expect_one_line_error(usagedb({"ingest", "--store", store(), file("good.ndjson"), file("nope.ndjson")}), 1,
                        file("nope.ndjson"));
  ASSERT_EQ(usagedb({"ingest", "--store", store(), "-"}, {.input = event_line("e0", "v", "f")}).exit_code, 0);
  const Result q = usagedb({"query", "user_feature_usage", "--store", store(), "user_id=u", "--format", "ndjson"});
  ASSERT_EQ(q.exit_code, 0) << q;
  EXPECT_EQ(q.out, "");
}

TEST_F(CliTest, IngestOfADirectoryNamesIt) {
  std::filesystem::create_directory(file("adir"));
  expect_one_line_error(usagedb({"ingest", "--store", store(), file("adir")}), 1, file("adir"));
  EXPECT_FALSE(std::filesystem::exists(store()));
}

TEST_F(CliTest, StoreThatIsAFileIsARuntimeError) {
  write_file(file("plain"), "not a store");
  expect_one_line_error(usagedb({"query", "user_feature_usage", "--store", file("plain"), "user_id=u"}), 1,
                        file("plain"));
  write_file(file("events.ndjson"), event_line("e", "u", "f"));
  expect_one_line_error(usagedb({"ingest", "--store", file("plain"), file("events.ndjson")}), 1, file("plain"));
}

// ---- ingest and query ---------------------------------------------------------

TEST_F(CliTest, IngestReportsCountsAndItsDataIsThereForTheNextProcess) {
  write_file(file("sample.ndjson"), sample_ndjson());
  const Result r = usagedb({"ingest", "--store", store(), file("sample.ndjson")});
  ASSERT_EQ(r.exit_code, 0) << r;  // quarantined lines do not fail the ingest
  EXPECT_THAT(r.out, MatchesRegex(absl::StrCat(".*sample.ndjson: 5 stored, 2 quarantined, 1 duplicate in "
                                               "[0-9]+\\.[0-9][0-9] s \\([0-9.]+[kMG]? events/s\\)\n")));
  EXPECT_THAT(r.err, HasSubstr("usagedb quarantine --store " + store()));

  const Result q = usagedb({"query", "user_feature_usage", "--store", store(), "user_id=alice", "--format", "csv"});
  ASSERT_EQ(q.exit_code, 0) << q;
  EXPECT_EQ(q.out,
            "\"user_id\",\"feature_id\",\"product_version\",\"usage_count\",\"first_usage\",\"last_usage\"\n"
            "\"alice\",\"search\",\"1.0.0\",2,\"2025-01-10 08:00:00\",\"2025-01-11 09:00:00\"\n"
            "\"alice\",\"export\",\"2.0.0\",1,\"2025-02-01 10:00:00\",\"2025-02-01 10:00:00\"\n");
  EXPECT_TRUE(q.err.empty()) << q;

  // Ingesting the same file again: every good line is now a duplicate.
  const Result again = usagedb({"ingest", "--store", store(), file("sample.ndjson")});
  ASSERT_EQ(again.exit_code, 0) << again;
  EXPECT_THAT(again.out, HasSubstr(": 0 stored, 2 quarantined, 6 duplicate in "));
}

TEST_F(CliTest, IngestFromStandardInputAndSeveralFiles) {
  const Result stdin_run = usagedb({"ingest", "--store", store(), "-"},
                                {.input = event_line("a1", "alice", "f") + "\n   \n" + event_line("a2", "alice", "f")});
  ASSERT_EQ(stdin_run.exit_code, 0) << stdin_run;
  EXPECT_THAT(stdin_run.out, StartsWith("<stdin>: 2 stored, 0 quarantined, 0 duplicate in "));
  EXPECT_TRUE(stdin_run.err.empty()) << stdin_run;

  write_file(file("one.ndjson"), event_line("b1", "bob", "f"));
  write_file(file("two.ndjson"), event_line("b2", "bob", "f") + "oops\n");
  const Result two = usagedb({"ingest", "--store", store(), file("one.ndjson"), file("two.ndjson")});
  ASSERT_EQ(two.exit_code, 0) << two;
  const std::vector<std::string> lines = lines_of(two.out);
  ASSERT_EQ(lines.size(), 3u) << two;
  EXPECT_THAT(lines[0], StartsWith(file("one.ndjson") + ": 1 stored, 0 quarantined, 0 duplicate in "));
  EXPECT_THAT(lines[1], StartsWith(file("two.ndjson") + ": 1 stored, 1 quarantined, 0 duplicate in "));
  EXPECT_THAT(lines[2], StartsWith("total: 2 stored, 1 quarantined, 0 duplicate in "));

  const Result q = usagedb({"query", "feature_usage_summary", "--store", store(), "--format", "ndjson"});
  ASSERT_EQ(q.exit_code, 0) << q;
  EXPECT_THAT(q.out, HasSubstr(R"("total_events":4,"unique_users":2,)"));
}

// `usagedb ingest` runs itself again with glibc.malloc.hugetlb=1 added to
// GLIBC_TUNABLES (tools/usagedb/main.cc), once: with the variable unset,
// naming other tunables, or naming this one already (the user's choice,
// kept), the ingest of a file and of standard input (read after the exec:
// nothing of it is lost) stores every event and ends (no exec loop).
TEST_F(CliTest, IngestRunsAgainWithTheHugePageHeapTunableOnce) {
  int round = 0;
  for (const char* tunables : {"", "glibc.malloc.check=0", "glibc.malloc.hugetlb=0", "glibc.malloc.hugetlb=1",
                               "glibc.malloc.tcache_count=0:glibc.malloc.hugetlb=0"}) {
    SCOPED_TRACE(tunables);
    const std::string id = absl::StrCat("t", round++, "_");
    const std::string path = file(id + ".ndjson");
    write_file(path, event_line(id + "1", "tom", "f") + event_line(id + "2", "tom", "f"));
    const Result from_file = usagedb({"ingest", "--store", store(), path}, {.glibc_tunables = tunables});
    ASSERT_EQ(from_file.exit_code, 0) << from_file;
    EXPECT_THAT(from_file.out, StartsWith(path + ": 2 stored, 0 quarantined, 0 duplicate in "));
    const Result from_stdin = usagedb({"ingest", "--store", store(), "-"},
                                      {.input = event_line(id + "3", "tom", "f") + event_line(id + "1", "tom", "f"),
                                       .glibc_tunables = tunables});
    ASSERT_EQ(from_stdin.exit_code, 0) << from_stdin;
    EXPECT_THAT(from_stdin.out, StartsWith("<stdin>: 1 stored, 0 quarantined, 1 duplicate in "));
  }
  const Result q = usagedb({"query", "user_feature_usage", "--store", store(), "user_id=tom", "--format", "ndjson"});
  ASSERT_EQ(q.exit_code, 0) << q;
  EXPECT_THAT(q.out, HasSubstr(R"("usage_count":15)"));
}

TEST_F(CliTest, IngestCsv) {
  write_file(file("events.csv"),
             "user_id,feature_id,product_version,event_type,timestamp,session_id\n"
             "u1,\"search, advanced\",1.0,view,2025-05-11 10:23:03,s\n"
             "u1,\"multi\nline\",1.0,view,2025-05-11 10:23:04,s\n"
             "u2,f,1.0,view\n");
  const Result r = usagedb({"ingest", "--store", store(), "--format", "csv", file("events.csv")});
  ASSERT_EQ(r.exit_code, 0) << r;
  EXPECT_THAT(r.out, HasSubstr(": 2 stored, 1 quarantined, 0 duplicate in "));
  const Result q = usagedb({"query", "user_feature_usage", "--store", store(), "user_id=u1", "--format", "csv"});
  ASSERT_EQ(q.exit_code, 0) << q;
  EXPECT_THAT(q.out, HasSubstr("\"u1\",\"search, advanced\",\"1.0\",1,"));
  EXPECT_THAT(q.out, HasSubstr("\"u1\",\"multi\nline\",\"1.0\",1,"));
  const Result quarantine = usagedb({"quarantine", "--store", store(), "--format", "csv"});
  ASSERT_EQ(quarantine.exit_code, 0) << quarantine;
  EXPECT_THAT(quarantine.out, HasSubstr(",5,\"\",\"expected 6 fields, got 4\",\"u2,f,1.0,view\"\n"));
}

TEST_F(CliTest, DefaultStoreIsUsagedbDataInTheWorkingDirectory) {
  write_file(file("sample.ndjson"), sample_ndjson());
  const Result r = usagedb({"ingest", "sample.ndjson"});
  ASSERT_EQ(r.exit_code, 0) << r;
  EXPECT_TRUE(std::filesystem::is_directory(file("usagedb-data")));
  EXPECT_THAT(r.err, HasSubstr("usagedb quarantine --store ./usagedb-data"));
  const Result q = usagedb({"query", "user_feature_usage", "user_id=bob", "--format", "ndjson"});
  ASSERT_EQ(q.exit_code, 0) << q;
  EXPECT_THAT(q.out, StartsWith(R"({"user_id":"bob","feature_id":"search","product_version":"1.0.0","usage_count":1,)"));
  // Another working directory has no store there.
  std::filesystem::create_directory(file("elsewhere"));
  expect_one_line_error(usagedb({"stats"}, {.cwd = file("elsewhere")}), 1, "usagedb-data");
}

TEST_F(CliTest, QueryJsonHasTinybirdsShape) {
  ingest_sample();
  simdjson::dom::parser parser;
  // Default format: json, since standard output is a pipe here.
  const Result r = usagedb({"query", "feature_usage_summary", "--store", store()});
  ASSERT_EQ(r.exit_code, 0) << r;
  EXPECT_TRUE(r.err.empty()) << r;
  simdjson::dom::element doc = parse_json(parser, r.out);
  std::vector<std::string> keys;
  for (auto field : doc.get_object()) keys.emplace_back(field.key);
  EXPECT_THAT(keys, ::testing::ElementsAre("meta", "data", "rows", "statistics"));  // no limit given
  std::vector<std::pair<std::string, std::string>> meta;
  for (simdjson::dom::element m : doc["meta"].get_array()) {
    meta.emplace_back(std::string(m["name"].get_string().value()), std::string(m["type"].get_string().value()));
  }
  EXPECT_THAT(meta, ::testing::ElementsAre(std::pair<std::string, std::string>{"feature_id", "String"},
                                           std::pair<std::string, std::string>{"product_version", "String"},
                                           std::pair<std::string, std::string>{"total_events", "UInt64"},
                                           std::pair<std::string, std::string>{"unique_users", "UInt64"},
                                           std::pair<std::string, std::string>{"unique_sessions", "UInt64"},
                                           std::pair<std::string, std::string>{"first_seen", "DateTime"},
                                           std::pair<std::string, std::string>{"last_seen", "DateTime"}));
  simdjson::dom::array data = doc["data"].get_array();
  ASSERT_EQ(data.size(), 2u);
  EXPECT_EQ(doc["rows"].get_uint64().value(), 2u);
  simdjson::dom::element first = data.at(0);
  EXPECT_EQ(std::string(first["feature_id"].get_string().value()), "search");
  EXPECT_EQ(std::string(first["product_version"].get_string().value()), "1.0.0");
  EXPECT_EQ(first["total_events"].get_uint64().value(), 4u);
  EXPECT_EQ(first["unique_users"].get_uint64().value(), 3u);
  EXPECT_EQ(first["unique_sessions"].get_uint64().value(), 3u);
  EXPECT_EQ(std::string(first["first_seen"].get_string().value()), "2025-01-10 08:00:00");
  EXPECT_EQ(std::string(first["last_seen"].get_string().value()), "2025-02-03 12:00:00");
  simdjson::dom::element stats = doc["statistics"];
  std::vector<std::string> stat_keys;
  for (auto field : stats.get_object()) stat_keys.emplace_back(field.key);
  EXPECT_THAT(stat_keys, ::testing::ElementsAre("elapsed", "rows_read", "bytes_read"));
  const simdjson::dom::element elapsed = stats["elapsed"];
  EXPECT_TRUE(elapsed.is_number());
  EXPECT_GT(stats["rows_read"].get_uint64().value(), 0u);
  EXPECT_GT(stats["bytes_read"].get_uint64().value(), 0u);

  // With limit (and skip): rows_before_limit_at_least, after rows.
  const Result limited =
      usagedb({"query", "feature_usage_summary", "--store", store(), "--format=json", "limit=1", "skip=1"});
  ASSERT_EQ(limited.exit_code, 0) << limited;
  simdjson::dom::element ldoc = parse_json(parser, limited.out);
  keys.clear();
  for (auto field : ldoc.get_object()) keys.emplace_back(field.key);
  EXPECT_THAT(keys, ::testing::ElementsAre("meta", "data", "rows", "rows_before_limit_at_least", "statistics"));
  EXPECT_EQ(ldoc["rows"].get_uint64().value(), 1u);
  EXPECT_EQ(ldoc["rows_before_limit_at_least"].get_uint64().value(), 2u);
  EXPECT_EQ(std::string(ldoc["data"].at(0)["feature_id"].get_string().value()), "export");
}

TEST_F(CliTest, QueryFormats) {
  ingest_sample();
  const std::vector<std::string> base = {"query", "feature_usage_timeline", "--store", store(), "granularity=month",
                                         "feature_id=search"};
  auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = base;
    args.insert(args.end(), extra.begin(), extra.end());
    return usagedb(args);
  };
  const Result csv = with({"--format", "csv"});
  ASSERT_EQ(csv.exit_code, 0) << csv;
  EXPECT_EQ(csv.out,
            "\"period\",\"feature_id\",\"events\",\"unique_users\"\n"
            "\"2025-01-01 00:00:00\",\"search\",2,1\n"
            "\"2025-02-01 00:00:00\",\"search\",2,2\n");
  const Result ndjson = with({"--format", "ndjson"});
  ASSERT_EQ(ndjson.exit_code, 0) << ndjson;
  EXPECT_EQ(ndjson.out,
            "{\"period\":\"2025-01-01 00:00:00\",\"feature_id\":\"search\",\"events\":2,\"unique_users\":1}\n"
            "{\"period\":\"2025-02-01 00:00:00\",\"feature_id\":\"search\",\"events\":2,\"unique_users\":2}\n");
  const Result table = with({"--format", "table"});
  ASSERT_EQ(table.exit_code, 0) << table;
  const std::vector<std::string> lines = lines_of(table.out);
  ASSERT_EQ(lines.size(), 5u) << table;
  EXPECT_THAT(lines[0], StartsWith("┌─period"));
  EXPECT_EQ(lines[1], "│ 2025-01-01 00:00:00 │ search     │      2 │            1 │");
  EXPECT_EQ(lines[2], "│ 2025-02-01 00:00:00 │ search     │      2 │            2 │");
  EXPECT_THAT(lines[3], StartsWith("└"));
  EXPECT_THAT(lines[4], StartsWith("2 rows, "));
  // An empty result: csv is the header alone, ndjson nothing.
  const Result empty_csv = with({"--format", "csv", "event_type=nothing"});
  ASSERT_EQ(empty_csv.exit_code, 0) << empty_csv;
  EXPECT_EQ(empty_csv.out, "\"period\",\"feature_id\",\"events\",\"unique_users\"\n");
  const Result empty_ndjson = with({"--format", "ndjson", "event_type=nothing"});
  ASSERT_EQ(empty_ndjson.exit_code, 0) << empty_ndjson;
  EXPECT_EQ(empty_ndjson.out, "");
}

TEST_F(CliTest, QueryDefaultsToTableOnATerminal) {
  ingest_sample();
  const Result r = usagedb({"query", "user_feature_usage", "--store", store(), "user_id=bob"}, {.stdout_tty = true});
  ASSERT_EQ(r.exit_code, 0) << r;
  EXPECT_THAT(r.out, StartsWith("┌─user_id"));
  EXPECT_THAT(r.out, HasSubstr("│ bob     │ search     │ 1.0.0           │           1 │"));
  EXPECT_THAT(r.out, Not(HasSubstr("\"meta\"")));
}

TEST_F(CliTest, QueryParameters) {
  ingest_sample();
  // Dates as DateTime or date; start inclusive, end exclusive.
  const Result window = usagedb({"query", "feature_usage_summary", "--store", store(), "--format", "csv",
                              "start_date=2025-01-11 09:00:00", "end_date=2025-02-02"});
  ASSERT_EQ(window.exit_code, 0) << window;
  EXPECT_EQ(lines_of(window.out).size(), 3u) << window;
  EXPECT_THAT(window.out, HasSubstr("\"search\",\"1.0.0\",1,1,1,\"2025-01-11 09:00:00\",\"2025-01-11 09:00:00\""));
  EXPECT_THAT(window.out, HasSubstr("\"export\",\"2.0.0\",1,1,1,"));
  // An empty value filters on the empty string; user_feature_usage without
  // user_id is empty.
  const Result empty = usagedb({"query", "feature_usage_summary", "--store", store(), "--format", "csv", "feature_id="});
  ASSERT_EQ(empty.exit_code, 0) << empty;
  EXPECT_EQ(lines_of(empty.out).size(), 1u) << empty;
  const Result no_user = usagedb({"query", "user_feature_usage", "--store", store(), "--format", "ndjson"});
  ASSERT_EQ(no_user.exit_code, 0) << no_user;
  EXPECT_EQ(no_user.out, "");
  // A malformed value is an error naming the parameter, never an empty result.
  const Result bad = usagedb({"query", "feature_usage_summary", "--store", store(), "start_date=2025-13-01"});
  expect_one_line_error(bad, 2, "start_date: '2025-13-01' is not a valid DateTime");
  EXPECT_TRUE(bad.out.empty());
}

// Each endpoint in each format: json, csv, ndjson and table carry the same
// columns and rows, and those are the SPEC's answer on the sample.
TEST_F(CliTest, EveryEndpointInEveryFormat) {
  ingest_sample();
  struct Case {
    std::vector<std::string> args;
    Table want;
  };
  const std::vector<Case> cases = {
      {{"user_feature_usage", "user_id=alice"},
       {{"user_id", "feature_id", "product_version", "usage_count", "first_usage", "last_usage"},
        {{"alice", "search", "1.0.0", "2", "2025-01-10 08:00:00", "2025-01-11 09:00:00"},
         {"alice", "export", "2.0.0", "1", "2025-02-01 10:00:00", "2025-02-01 10:00:00"}}}},
      {{"feature_usage_summary"},
       {{"feature_id", "product_version", "total_events", "unique_users", "unique_sessions", "first_seen",
         "last_seen"},
        {{"search", "1.0.0", "4", "3", "3", "2025-01-10 08:00:00", "2025-02-03 12:00:00"},
         {"export", "2.0.0", "1", "1", "1", "2025-02-01 10:00:00", "2025-02-01 10:00:00"}}}},
      // Weeks start on Monday: 2025-01-06, 01-27 and 02-03 are Mondays.
      {{"feature_usage_timeline", "granularity=week"},
       {{"period", "feature_id", "events", "unique_users"},
        {{"2025-01-06 00:00:00", "search", "2", "1"},
         {"2025-01-27 00:00:00", "export", "1", "1"},
         {"2025-01-27 00:00:00", "search", "1", "1"},
         {"2025-02-03 00:00:00", "search", "1", "1"}}}},
      {{"feature_usage_timeline", "granularity=hour", "event_type=view", "start_date=2025-02-01",
        "end_date=2025-02-02 11:00:01", "limit=1", "skip=1"},
       {{"period", "feature_id", "events", "unique_users"}, {{"2025-02-02 11:00:00", "search", "1", "1"}}}},
      {{"feature_adoption"},
       {{"feature_id", "users", "active_users", "adoption_rate", "events"},
        {{"search", "3", "3", "1", "4"}, {"export", "1", "3", "0.3333333333333333", "1"}}}},
      // Alice's January counts in the 7-day windows up to 2025-01-17 only.
      {{"active_users", "window_days=7", "start_date=2025-01-30", "end_date=2025-02-04"},
       {{"day", "active_users"},
        {{"2025-01-30", "0"}, {"2025-01-31", "0"}, {"2025-02-01", "1"}, {"2025-02-02", "2"}, {"2025-02-03", "3"}}}},
      {{"feature_retention", "granularity=month"},
       {{"cohort", "cohort_users", "period_offset", "users"},
        {{"2025-01-01 00:00:00", "1", "0", "1"}, {"2025-01-01 00:00:00", "1", "1", "1"},
         {"2025-02-01 00:00:00", "2", "0", "2"}}}},
      // Alice exports 21 days after her last search: within 30 days.
      {{"feature_funnel", "steps=search,export", "window=2592000"},
       {{"step", "feature_id", "users"}, {{"1", "search", "3"}, {"2", "export", "1"}}}},
  };
  for (const Case& c : cases) {
    for (const std::string format : {"json", "csv", "ndjson", "table"}) {
      SCOPED_TRACE(absl::StrCat(absl::StrJoin(c.args, " "), " --format ", format));
      std::vector<std::string> args = {"query", c.args[0], "--store", store(), "--format", format};
      args.insert(args.end(), c.args.begin() + 1, c.args.end());
      const Result r = usagedb(args);
      ASSERT_EQ(r.exit_code, 0) << r;
      EXPECT_TRUE(r.err.empty()) << r;
      Table got = format == "json"     ? parse_json_output(r.out)
                  : format == "csv"    ? parse_csv_output(r.out)
                  : format == "ndjson" ? parse_ndjson_output(r.out)
                                       : parse_table_output(r.out);
      if (format == "ndjson") got.columns = c.want.columns;  // ndjson has no header; its keys were checked
      EXPECT_EQ(got, c.want) << r;
    }
  }
}

// Bad input of every kind fails (or, for bad lines, quarantines) without
// changing anything already stored: every answer is the same afterwards.
TEST_F(CliTest, BadInputLosesNothingAlreadyStored) {
  ingest_sample();
  auto answers = [&] {
    std::string all;
    for (const std::vector<std::string>& q : std::vector<std::vector<std::string>>{
             {"user_feature_usage", "user_id=alice"}, {"feature_usage_summary"},
             {"feature_usage_timeline", "granularity=day"}}) {
      std::vector<std::string> args = {"query", q[0], "--store", store(), "--format", "csv"};
      args.insert(args.end(), q.begin() + 1, q.end());
      const Result r = usagedb(args);
      EXPECT_EQ(r.exit_code, 0) << r;
      all += r.out;
    }
    return all;
  };
  auto quarantine_csv = [&] {
    const Result r = usagedb({"quarantine", "--store", store(), "--format", "csv"});
    EXPECT_EQ(r.exit_code, 0) << r;
    return r.out;
  };
  const std::string before = answers();
  const std::string quarantine_before = quarantine_csv();
  ASSERT_THAT(before, HasSubstr("\"alice\",\"search\""));
  ASSERT_EQ(lines_of(quarantine_before).size(), 3u);

  std::filesystem::create_directory(file("adir"));
  write_file(file("good.ndjson"), event_line("new_1", "zed", "search"));
  struct Case {
    std::vector<std::string> args;
    int exit_code;
    std::string named;
  };
  const std::vector<Case> cases = {
      {{"ingest", "--store", store(), file("missing.ndjson")}, 1, file("missing.ndjson")},
      {{"ingest", "--store", store(), file("good.ndjson"), file("missing.ndjson")}, 1, file("missing.ndjson")},
      {{"ingest", "--store", store(), file("adir")}, 1, file("adir")},
      {{"ingest", "--store", store(), "--format", "parquet", file("good.ndjson")}, 2, "--format"},
      {{"ingest", "--store", store(), "--bogus", file("good.ndjson")}, 2, "--bogus"},
      {{"query", "feature_usage_summary", "--store", store(), "start_date=2025-1-1"}, 2, "start_date"},
      {{"query", "feature_usage_summary", "--store", store(), "product=x"}, 2, "product"},
      {{"quarantine", "--store", store(), "--clear", "now"}, 2, "now"},
      {{"delete-user", "--store", store()}, 2, "USER_ID"},
      {{"drop-before", "--store", store(), "202513"}, 2, "202513"},
      {{"drop-before", "--store", store(), "last-month"}, 2, "last-month"},
      {{"compact", "--store", store(), "--force"}, 2, "--force"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(absl::StrJoin(c.args, " "));
    const Result r = usagedb(c.args);
    expect_one_line_error(r, c.exit_code, c.named);
    EXPECT_TRUE(r.out.empty()) << r;
  }
  EXPECT_EQ(answers(), before);
  EXPECT_EQ(quarantine_csv(), quarantine_before);

  // A file of nothing but bad lines (not JSON, NUL bytes, invalid UTF-8, a
  // truncated last line) succeeds, quarantines each with its line number,
  // and stores nothing.
  write_file(file("garbage.ndjson"),
             std::string("not json\n\n{\"user_id\":\"x") + '\0' + "y\"}\n\xff\xfe\n{\"user_id\":");
  const Result garbage = usagedb({"ingest", "--store", store(), file("garbage.ndjson")});
  ASSERT_EQ(garbage.exit_code, 0) << garbage;
  EXPECT_THAT(garbage.out, HasSubstr("garbage.ndjson: 0 stored, 4 quarantined, 0 duplicate in "));
  EXPECT_THAT(garbage.err, HasSubstr("usagedb quarantine --store " + store()));
  EXPECT_EQ(answers(), before);
  const Result listed = usagedb({"quarantine", "--store", store(), "--format", "ndjson"});
  ASSERT_EQ(listed.exit_code, 0) << listed;
  std::vector<uint64_t> numbers;
  simdjson::dom::parser parser;
  for (const std::string& l : lines_of(listed.out)) {
    simdjson::dom::element row = parse_json(parser, l);
    if (std::string(row["source"].get_string().value()) == file("garbage.ndjson")) {
      numbers.push_back(row["line"].get_uint64().value());
      EXPECT_FALSE(std::string(row["error"].get_string().value()).empty()) << l;
    }
  }
  EXPECT_THAT(numbers, ::testing::ElementsAre(1u, 3u, 4u, 5u));
}

// Only one process at a time opens a store: another one holding it makes
// every command a runtime error naming the store, and changes nothing.
TEST_F(CliTest, StoreInUseByAnotherProcess) {
  ingest_sample();
  {
    auto holder = EventStore::open({.directory = store()});
    ASSERT_TRUE(holder.ok()) << holder.status();
    write_file(file("more.ndjson"), event_line("more_1", "zed", "search"));
    for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
             {"ingest", "--store", store(), file("more.ndjson")},
             {"query", "user_feature_usage", "--store", store(), "user_id=alice"},
             {"quarantine", "--store", store(), "--clear"},
             {"compact", "--store", store()},
             {"delete-user", "--store", store(), "alice"}}) {
      SCOPED_TRACE(absl::StrJoin(args, " "));
      const Result r = usagedb(args);
      expect_one_line_error(r, 1, store());
      EXPECT_THAT(r.err, HasSubstr("in use by another process"));
    }
  }
  const Result q = usagedb({"query", "user_feature_usage", "--store", store(), "user_id=alice", "--format", "ndjson"});
  ASSERT_EQ(q.exit_code, 0) << q;
  EXPECT_EQ(lines_of(q.out).size(), 2u) << q;
  const Result zed = usagedb({"query", "user_feature_usage", "--store", store(), "user_id=zed", "--format", "ndjson"});
  EXPECT_EQ(zed.out, "") << zed;
  const Result quarantine = usagedb({"quarantine", "--store", store(), "--format", "ndjson"});
  EXPECT_EQ(lines_of(quarantine.out).size(), 2u) << quarantine;
}

// ---- quarantine -------------------------------------------------------------------

TEST_F(CliTest, QuarantineListsAndClears) {
  ingest_sample();
  const Result list = usagedb({"quarantine", "--store", store(), "--format", "ndjson"});
  ASSERT_EQ(list.exit_code, 0) << list;
  const std::vector<std::string> rows = lines_of(list.out);
  ASSERT_EQ(rows.size(), 2u) << list;
  simdjson::dom::parser parser;
  simdjson::dom::element first = parse_json(parser, rows[0]);
  EXPECT_EQ(std::string(first["source"].get_string().value()), file("sample.ndjson"));
  EXPECT_EQ(first["line"].get_uint64().value(), 3u);
  EXPECT_EQ(std::string(first["columns"].get_string().value()),
            "feature_id,product_version,event_type,timestamp");
  EXPECT_THAT(std::string(first["error"].get_string().value()), HasSubstr("feature_id: missing"));
  EXPECT_EQ(std::string(first["raw"].get_string().value()), "{\"user_id\":\"alice\"}");
  EXPECT_THAT(std::string(first["inserted_at"].get_string().value()),
              MatchesRegex("20[0-9][0-9]-[01][0-9]-[0-3][0-9] [0-2][0-9]:[0-5][0-9]:[0-5][0-9]"));
  simdjson::dom::element second = parse_json(parser, rows[1]);
  EXPECT_EQ(second["line"].get_uint64().value(), 6u);
  EXPECT_EQ(std::string(second["columns"].get_string().value()), "timestamp");

  // json by default here, in the endpoints' shape.
  const Result json = usagedb({"quarantine", "--store", store()});
  ASSERT_EQ(json.exit_code, 0) << json;
  simdjson::dom::element doc = parse_json(parser, json.out);
  EXPECT_EQ(doc["rows"].get_uint64().value(), 2u);

  const Result clear = usagedb({"quarantine", "--store", store(), "--clear"});
  ASSERT_EQ(clear.exit_code, 0) << clear;
  EXPECT_THAT(clear.out + clear.err, HasSubstr("cleared 2 quarantined rows"));
  const Result after = usagedb({"quarantine", "--store", store(), "--format", "csv"});
  ASSERT_EQ(after.exit_code, 0) << after;
  EXPECT_EQ(after.out, "\"inserted_at\",\"source\",\"line\",\"columns\",\"error\",\"raw\"\n");
  // The events themselves are still there.
  const Result q = usagedb({"query", "user_feature_usage", "--store", store(), "user_id=carol", "--format", "ndjson"});
  EXPECT_EQ(lines_of(q.out).size(), 1u) << q;
}

// ---- generate and demo ----------------------------------------------------------

TEST_F(CliTest, GenerateIsDeterministicAndIngestsCleanly) {
  const Result a = usagedb({"generate", "--events", "3000", "--seed", "5", "--users", "50", "--months", "2"});
  ASSERT_EQ(a.exit_code, 0) << a;
  const Result b = usagedb({"generate", "--events", "3000", "--seed", "5", "--users", "50", "--months", "2"});
  ASSERT_EQ(b.exit_code, 0) << b;
  const Result c = usagedb({"generate", "--events", "3000", "--seed", "6", "--users", "50", "--months", "2"});
  ASSERT_EQ(c.exit_code, 0) << c;
  EXPECT_EQ(a.out, b.out);
  EXPECT_NE(a.out, c.out);
  EXPECT_EQ(lines_of(a.out).size(), 3000u);
  EXPECT_TRUE(a.err.empty()) << a;
  // --output writes the same bytes to a file.
  const Result to_file =
      usagedb({"generate", "--events", "3000", "--seed", "5", "--users", "50", "--months", "2", "--output", "g.ndjson"});
  ASSERT_EQ(to_file.exit_code, 0) << to_file;
  EXPECT_EQ(read_file(file("g.ndjson")), a.out);
  EXPECT_TRUE(to_file.out.empty());

  const Result ingest = usagedb({"ingest", "--store", store(), "-"}, {.input = a.out});
  ASSERT_EQ(ingest.exit_code, 0) << ingest;
  EXPECT_THAT(ingest.out, StartsWith("<stdin>: 3000 stored, 0 quarantined, 0 duplicate in "));
  EXPECT_TRUE(ingest.err.empty()) << ingest;
  const Result stats = usagedb({"stats", "--store", store()});
  ASSERT_EQ(stats.exit_code, 0) << stats;
  EXPECT_THAT(stats.out, ContainsRegex("3000 events in [0-9]+ partitions"));
}

TEST_F(CliTest, GenerateToAnUnwritableFileIsARuntimeError) {
  expect_one_line_error(usagedb({"generate", "--events", "10", "--output", file("no/such/dir/out.ndjson")}), 1,
                        file("no/such/dir/out.ndjson"));
}

TEST_F(CliTest, DemoIngestsAndAnswersEveryEndpoint) {
  const Result demo = usagedb({"demo", "--events", "20000", "--store", store()});
  ASSERT_EQ(demo.exit_code, 0) << demo;
  EXPECT_THAT(demo.out, HasSubstr("ingest: 20000 stored, 0 quarantined, 0 duplicate in "));
  // Each endpoint: the command that gives the answer, then the answer; run
  // again as a separate process, the command answers the same rows.
  const std::vector<std::string> lines = lines_of(demo.out);
  int shown = 0;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (!lines[i].starts_with("$ usagedb query ")) continue;
    ++shown;
    std::vector<std::string> args = absl::StrSplit(lines[i].substr(strlen("$ usagedb ")), ' ');
    args.push_back("--format=table");
    const Result again = usagedb(args);
    ASSERT_EQ(again.exit_code, 0) << again;
    const std::vector<std::string> answer = lines_of(again.out);
    ASSERT_GE(answer.size(), 4u) << again;  // borders, at least one row, footer
    EXPECT_THAT(answer.back(), Not(StartsWith("0 rows"))) << lines[i];
    for (size_t k = 0; k + 1 < answer.size(); ++k) {  // all but the footer (its time differs)
      ASSERT_LT(i + 1 + k, lines.size());
      EXPECT_EQ(lines[i + 1 + k], answer[k]) << lines[i];
    }
  }
  EXPECT_EQ(shown, 9) << demo;
  EXPECT_THAT(demo.out, HasSubstr("$ usagedb query feature_adoption --store " + store() + " limit=5"));
  EXPECT_THAT(demo.out, HasSubstr("$ usagedb query active_users --store " + store() + " window_days=7"));
  EXPECT_THAT(demo.out, HasSubstr("$ usagedb query feature_retention --store " + store() + " feature_id="));
  EXPECT_THAT(demo.out, HasSubstr("$ usagedb query feature_funnel --store " + store() + " steps="));
  EXPECT_THAT(demo.out, HasSubstr("$ usagedb query user_feature_usage --store " + store() + " user_id="));
  EXPECT_THAT(demo.out, HasSubstr("$ usagedb query feature_usage_summary --store " + store() + " feature_id="));
  EXPECT_THAT(demo.out, HasSubstr("$ usagedb query feature_usage_timeline --store " + store() + " granularity=month"));
  EXPECT_THAT(demo.out, HasSubstr(" tz=America/New_York\n"));
  EXPECT_THAT(demo.out, HasSubstr("$ usagedb query property_breakdown --store " + store() + " property=device"));

  // A second demo into the same store finds every event already there.
  const Result second = usagedb({"demo", "--events", "20000", "--store", store()});
  ASSERT_EQ(second.exit_code, 0) << second;
  EXPECT_THAT(second.out, HasSubstr("ingest: 0 stored, 0 quarantined, 20000 duplicate in "));
}

// ---- maintenance ------------------------------------------------------------------

TEST_F(CliTest, StatsCompactDeleteUserDropBefore) {
  ingest_sample();
  const Result stats = usagedb({"stats", "--store", store()});
  ASSERT_EQ(stats.exit_code, 0) << stats;
  EXPECT_THAT(stats.out, HasSubstr("store " + store() + "\n"));
  EXPECT_THAT(stats.out, HasSubstr("5 events in 2 partitions"));
  EXPECT_THAT(stats.out, HasSubstr("2 quarantined rows"));
  EXPECT_THAT(stats.out, ContainsRegex("202501 +[0-9]+ +2 "));
  EXPECT_THAT(stats.out, ContainsRegex("202502 +[0-9]+ +3 "));

  const Result compact = usagedb({"compact", "--store", store()});
  ASSERT_EQ(compact.exit_code, 0) << compact;
  const Result after_compact = usagedb({"stats", "--store", store()});
  EXPECT_THAT(after_compact.out, HasSubstr("5 events in 2 partitions, 2 parts"));

  const Result del = usagedb({"delete-user", "--store", store(), "alice"});
  ASSERT_EQ(del.exit_code, 0) << del;
  EXPECT_EQ(del.out, "deleted 3 events of user 'alice'\n");
  const Result none = usagedb({"delete-user", "--store", store(), "alice"});
  ASSERT_EQ(none.exit_code, 0) << none;
  EXPECT_EQ(none.out, "deleted 0 events of user 'alice'\n");
  const Result alice = usagedb({"query", "user_feature_usage", "--store", store(), "user_id=alice", "--format", "ndjson"});
  ASSERT_EQ(alice.exit_code, 0) << alice;
  EXPECT_EQ(alice.out, "");

  const Result drop = usagedb({"drop-before", "--store", store(), "202502"});
  ASSERT_EQ(drop.exit_code, 0) << drop;
  EXPECT_EQ(drop.out, "dropped 0 events before 202502\n");  // alice's January events are gone already
  ASSERT_EQ(usagedb({"ingest", "--store", store(), "-"}, {.input = event_line("old", "dave", "f", "2024-12-31 23:59:59")})
                .exit_code,
            0);
  const Result drop_more = usagedb({"drop-before", "--store", store(), "202503"});
  ASSERT_EQ(drop_more.exit_code, 0) << drop_more;
  EXPECT_EQ(drop_more.out, "dropped 3 events before 202503\n");
  const Result empty = usagedb({"query", "feature_usage_summary", "--store", store(), "--format", "csv"});
  ASSERT_EQ(empty.exit_code, 0) << empty;
  EXPECT_EQ(lines_of(empty.out).size(), 1u) << empty;
  // A month outside the DateTime range is a usage error naming it.
  expect_one_line_error(usagedb({"drop-before", "--store", store(), "202513"}), 2, "202513");
  expect_one_line_error(usagedb({"drop-before", "--store", store(), "196912"}), 2, "196912");
  expect_one_line_error(usagedb({"drop-before", "--store", store(), "210602"}), 2, "210602");
}

// ---- export and forward (SPEC 8) -----------------------------------------------

TEST_F(CliTest, ExportWritesBothProjectsAndNamesWhatIsWrong) {
  ingest_sample();
  const Result ch = usagedb({"export", "clickhouse", "--store", store(), "--out", file("ch")});
  ASSERT_EQ(ch.exit_code, 0) << ch;
  EXPECT_THAT(ch.out, HasSubstr("exported "));
  EXPECT_THAT(read_file(file("ch/schema.sql")), HasSubstr("ENGINE = MergeTree"));
  EXPECT_EQ(lines_of(read_file(file("ch/events.ndjson"))).size(), 5u);  // sample_ndjson()'s stored events
  const Result tb = usagedb({"export", "tinybird", "--store", store(), "--out", file("tb"), "--start", "2025-01-01",
                             "--end", "2025-01-01 00:00:01", "--no-events"});
  ASSERT_EQ(tb.exit_code, 0) << tb;
  EXPECT_THAT(read_file(file("tb/endpoints/user_feature_usage.pipe")), HasSubstr("TYPE endpoint"));
  EXPECT_FALSE(std::ifstream(file("tb/fixtures/feature_events.ndjson")).good());

  expect_one_line_error(usagedb({"export", "clickhouse", "--store", store()}), 2, "--out");
  expect_one_line_error(usagedb({"export", "parquet", "--store", store(), "--out", file("x")}), 2, "clickhouse or tinybird");
  expect_one_line_error(usagedb({"export", "clickhouse", "--store", store(), "--out", file("x"), "--start", "2025-13-01"}),
                        2, "--start");
  expect_one_line_error(usagedb({"export", "clickhouse", "--store", store(), "--out", file("x"), "--start", "2025-02-01",
                                 "--end", "2025-01-01"}),
                        2, "--end");
  expect_one_line_error(usagedb({"export", "clickhouse", "--store", file("nowhere"), "--out", file("x")}), 1, "nowhere");
}

TEST_F(CliTest, ForwardNamesWhatIsWrong) {
  ingest_sample();
  expect_one_line_error(usagedb({"forward", "--store", store(), "--token", "t"}), 2, "--to");
  expect_one_line_error(usagedb({"forward", "--store", store(), "--to", "http://127.0.0.1:1"}), 2, "--token");
  expect_one_line_error(usagedb({"forward", "--store", store(), "--to", "ftp://x", "--token", "t"}), 2, "--to");
  expect_one_line_error(usagedb({"forward", "--store", store(), "--to", "http://x", "--token", "t", "--connections", "0"}),
                        2, "--connections");
  expect_one_line_error(usagedb({"forward", "--store", store(), "--to", "http://x", "--token", "t", "--cursor", "a/b"}), 2,
                        "cursor name");
  expect_one_line_error(
      usagedb({"forward", "--store", store(), "--to", "http://x", "--token", "t", "--compression", "zstd"}), 2,
      "--compression: expected auto, gzip or none, got 'zstd'");
}

}  // namespace
}  // namespace usagedb
