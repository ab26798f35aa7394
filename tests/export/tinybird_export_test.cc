// `usagedb export tinybird`: the datasource is the seed's schema, and each
// endpoint's .pipe, its template rendered for the conformance cases'
// parameters (by the small renderer below, of the template subset the
// export emits), holds the same SQL as the ClickHouse export's NAME.sql
// rendered with those parameters; so what chDB proves for one
// (clickhouse_conformance_test.cc) holds for the other. The events are the
// same bytes in both, and read back by usagedb they are the store's events.
#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "lib/api/clickhouse_sql.h"
#include "lib/api/endpoint_catalog.h"
#include "lib/export/event_json.h"
#include "lib/export/export.h"
#include "lib/export/project_files.h"
#include "tests/testutil/endpoint_cases.h"
#include "tests/testutil/random_events.h"
#include "tests/testutil/temp_dir.h"
#include "usagedb/usagedb.h"

namespace usagedb {
namespace {

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << path;
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// ---- A renderer of the template subset the export emits ----------------------------
//
// `{% if defined(x) %}A{% else %}B{% end %}` (nesting allowed) and
// `{{String(x)}}`, `{{DateTime(x)}}`, `{{Date(x)}}`, `{{UInt64(x)}}`,
// `{{Array(x, 'String')}}`, each rendered as Tinybird renders a typed
// parameter: the value as a SQL literal (a DateTime given as a date is
// midnight, as the endpoint reads it; a list is ['a', 'b']). Anything else
// is an error, so the export cannot emit what this does not understand.

#define USAGEDB_TEST_RETURN(expr)                     \
  do {                                              \
    if (absl::Status s = (expr); !s.ok()) return s; \
  } while (0)

class TemplateRenderer {
 public:
  explicit TemplateRenderer(const api::Params& params) {
    for (const auto& [k, v] : params) values_[k] = v;
  }

  absl::StatusOr<std::string> render(std::string_view in) {
    in_ = in;
    std::string out;
    USAGEDB_TEST_RETURN(render_until(&out, /*inside_if=*/false));
    return out;
  }

 private:
  // Renders until the end, or the `{% else %}`/`{% end %}` closing an if
  // (left unconsumed in `closer_`).
  absl::Status render_until(std::string* out, bool inside_if) {
    while (!in_.empty()) {
      const size_t tag = std::min(in_.find("{%"), in_.find("{{"));
      if (out != nullptr) out->append(in_.substr(0, std::min(tag, in_.size())));
      if (tag == std::string_view::npos) {
        in_ = {};
        break;
      }
      in_.remove_prefix(tag);
      if (in_.starts_with("{{")) {
        const size_t close = in_.find("}}");
        if (close == std::string_view::npos) return absl::InvalidArgumentError("unclosed {{");
        const std::string_view call = in_.substr(2, close - 2);
        in_.remove_prefix(close + 2);
        if (out == nullptr) continue;  // a branch not taken: not evaluated, as Tinybird does
        absl::StatusOr<std::string> value = expression(call);
        if (!value.ok()) return value.status();
        if (out != nullptr) out->append(*value);
        continue;
      }
      const size_t close = in_.find("%}");
      if (close == std::string_view::npos) return absl::InvalidArgumentError("unclosed {%");
      const std::string statement(strip(in_.substr(2, close - 2)));
      in_.remove_prefix(close + 2);
      if (statement == "else" || statement == "end") {
        if (!inside_if) return absl::InvalidArgumentError(absl::StrCat("{% ", statement, " %} outside an if"));
        closer_ = statement;
        return absl::OkStatus();
      }
      constexpr std::string_view kIf = "if defined(";
      if (!statement.starts_with(kIf) || !statement.ends_with(")")) {
        return absl::InvalidArgumentError(absl::StrCat("unknown statement {% ", statement, " %}"));
      }
      const std::string name = statement.substr(kIf.size(), statement.size() - kIf.size() - 1);
      const bool defined = values_.contains(name);
      USAGEDB_TEST_RETURN(render_until(defined ? out : nullptr, true));
      if (closer_ == "else") {
        USAGEDB_TEST_RETURN(render_until(defined ? nullptr : out, true));
      }
      if (closer_ != "end") return absl::InvalidArgumentError("an if without its end");
      closer_.clear();
    }
    if (inside_if) return absl::InvalidArgumentError("an if without its end");
    return absl::OkStatus();
  }

  static std::string_view strip(std::string_view s) {
    while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
    while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
    return s;
  }

  absl::StatusOr<std::string> expression(std::string_view call) {
    call = strip(call);
    const size_t open = call.find('(');
    if (open == std::string_view::npos || !call.ends_with(")")) {
      return absl::InvalidArgumentError(absl::StrCat("not a function call: ", std::string(call)));
    }
    const std::string function(call.substr(0, open));
    std::string argument(call.substr(open + 1, call.size() - open - 2));
    std::string element_type;
    if (const size_t comma = argument.find(','); comma != std::string::npos) {
      element_type = std::string(strip(std::string_view(argument).substr(comma + 1)));
      argument = argument.substr(0, comma);
    }
    auto it = values_.find(argument);
    if (it == values_.end()) return absl::InvalidArgumentError(absl::StrCat(argument, " used but not defined"));
    const std::string& v = it->second;
    if (function == "String" && element_type.empty()) return api::clickhouse_string_literal(v);
    if ((function == "DateTime" || function == "Date") && element_type.empty()) {
      absl::StatusOr<Timestamp> t = parse_date_parameter(v);
      if (!t.ok()) return t.status();
      const std::string text = format_timestamp(*t);
      return api::clickhouse_string_literal(function == "Date" ? text.substr(0, 10) : text);
    }
    if (function == "UInt64" && element_type.empty()) {
      if (v.empty() || !std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        return absl::InvalidArgumentError(absl::StrCat(argument, ": not a UInt64"));
      }
      return v;
    }
    if (function == "Array" && element_type == "'String'") {
      std::string out = "[";
      size_t begin = 0;
      while (true) {
        const size_t comma = v.find(',', begin);
        if (begin > 0) out += ", ";
        out += api::clickhouse_string_literal(std::string_view(v).substr(begin, comma - begin));
        if (comma == std::string::npos) break;
        begin = comma + 1;
      }
      return out + "]";
    }
    return absl::InvalidArgumentError(absl::StrCat("unknown template function ", std::string(call)));
  }
#undef USAGEDB_TEST_RETURN

  std::map<std::string, std::string> values_;
  std::string_view in_;
  std::string closer_;
};

// The SQL of a .pipe's NODE: the lines indented under `SQL >`, dedented,
// without the leading `%` line.
absl::StatusOr<std::string> pipe_sql(const std::string& pipe) {
  const size_t start = pipe.find("\nSQL >\n");
  if (start == std::string::npos) return absl::InvalidArgumentError("no SQL > block");
  std::istringstream lines(pipe.substr(start + 7));
  std::string line, sql;
  bool first = true;
  while (std::getline(lines, line)) {
    if (!line.empty() && !line.starts_with("    ")) break;
    line = line.empty() ? line : line.substr(4);
    if (first) {
      if (line != "%") return absl::InvalidArgumentError("the SQL does not start with % (not a template)");
      first = false;
      continue;
    }
    absl::StrAppend(&sql, line, "\n");
  }
  // The block ends with a blank line before TYPE.
  while (sql.ends_with("\n\n")) sql.pop_back();
  return sql;
}

// A ClickHouse export's NAME.sql without its leading comment lines.
std::string without_comments(const std::string& sql) {
  size_t at = 0;
  while (sql.compare(at, 3, "-- ") == 0) at = sql.find('\n', at) + 1;
  return sql.substr(at);
}

class TinybirdExport : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = EventStore::open({.directory = dir_.file("store"), .part_rows = 500}).value();
    const auto events = gen_.events(3000);
    std::vector<Event> views;
    for (const auto& e : events) views.push_back(e.view());
    ASSERT_TRUE(store_->record_events(views).ok());
    auto tb = exporting::export_store(*store_, {.target = exporting::ExportTarget::kTinybird, .out_dir = tb_dir()});
    ASSERT_TRUE(tb.ok()) << tb.status();
    tb_report_ = *tb;
    auto ch = exporting::export_store(*store_, {.target = exporting::ExportTarget::kClickHouse, .out_dir = ch_dir()});
    ASSERT_TRUE(ch.ok()) << ch.status();
  }
  std::string tb_dir() const { return dir_.file("tinybird"); }
  std::string ch_dir() const { return dir_.file("clickhouse"); }

  testing::ScopedTempDir dir_;
  testing::RandomEvents gen_{77};
  std::unique_ptr<EventStore> store_;
  exporting::ExportReport tb_report_;
};

TEST_F(TinybirdExport, TheDatasourceIsTheSeedsSchema) {
  EXPECT_EQ(read_text(tb_dir() + "/datasources/feature_events.datasource"),
            "DESCRIPTION >\n"
            "    Product feature-usage events (SPEC 1), exported by usagedb.\n"
            "\n"
            "SCHEMA >\n"
            "    `event_id` String `json:$.event_id`,\n"
            "    `user_id` String `json:$.user_id`,\n"
            "    `feature_id` String `json:$.feature_id`,\n"
            "    `product_version` String `json:$.product_version`,\n"
            "    `event_type` String `json:$.event_type`,\n"
            "    `timestamp` DateTime `json:$.timestamp`,\n"
            "    `session_id` String `json:$.session_id`,\n"
            "    `metadata` String `json:$.metadata`\n"
            "\n"
            "ENGINE \"MergeTree\"\n"
            "ENGINE_PARTITION_KEY \"toYYYYMM(timestamp)\"\n"
            "ENGINE_SORTING_KEY \"timestamp, feature_id, product_version\"\n");
}

TEST_F(TinybirdExport, EachPipeRendersToTheClickHouseExportsSql) {
  // One pipe per endpoint of the catalog, and nothing else.
  std::vector<std::string> pipes, want;
  for (const std::string& f : tb_report_.files) {
    if (f.starts_with("endpoints/")) pipes.push_back(f);
  }
  for (const api::EndpointSpec& spec : api::endpoint_catalog()) want.push_back(absl::StrCat("endpoints/", std::string(spec.name), ".pipe"));
  std::sort(pipes.begin(), pipes.end());
  std::sort(want.begin(), want.end());
  EXPECT_EQ(pipes, want);

  size_t checked = 0;
  for (const testing::EndpointCase& c : testing::endpoint_cases(gen_, 8)) {
    const std::string name(c.spec->name);
    const std::string pipe = read_text(absl::StrCat(tb_dir(), "/endpoints/", name, ".pipe"));
    EXPECT_TRUE(pipe.starts_with(absl::StrCat("DESCRIPTION >\n    ", std::string(c.spec->description), "\n")));
    EXPECT_TRUE(pipe.ends_with("\nTYPE endpoint\n")) << name;
    absl::StatusOr<std::string> templ = pipe_sql(pipe);
    ASSERT_TRUE(templ.ok()) << name << ": " << templ.status();
    absl::StatusOr<std::string> rendered = TemplateRenderer(c.params).render(*templ);
    ASSERT_TRUE(rendered.ok()) << c.describe() << ": " << rendered.status();

    api::EndpointSpec exported = *c.spec;
    const std::string sql_file = without_comments(read_text(absl::StrCat(ch_dir(), "/", name, ".sql")));
    exported.clickhouse_sql = sql_file;
    absl::StatusOr<std::string> want_sql = api::render_clickhouse_sql(exported, c.params);
    ASSERT_TRUE(want_sql.ok()) << want_sql.status();
    EXPECT_EQ(*rendered, *want_sql) << c.describe();
    ++checked;
  }
  EXPECT_GT(checked, 3 * api::endpoint_catalog().size());
}

TEST_F(TinybirdExport, TheRendererRefusesWhatItDoesNotKnow) {
  for (const char* bad : {"{% if defined(x) %}a", "{% end %}", "{{Float32(x)}}", "{{String(y)}}", "{% for x in y %}",
                          "{{String(x)"}) {
    EXPECT_FALSE(TemplateRenderer(api::Params{{"x", "1"}}).render(bad).ok()) << bad;
  }
  EXPECT_EQ(TemplateRenderer(api::Params{{"x", "a'b"}}).render("{% if defined(x) %}{{String(x)}}{% else %}NULL{% end %}").value(),
            "'a\\'b'");
  EXPECT_EQ(TemplateRenderer(api::Params{}).render("{% if defined(x) %}{{String(x)}}{% else %}NULL{% end %}").value(), "NULL");
}

TEST_F(TinybirdExport, TheFixturesAreTheStoresEventsByteForByte) {
  const std::string fixtures = read_text(tb_dir() + "/fixtures/feature_events.ndjson");
  // The same lines (the order within a month is the store's part order,
  // which background merges may change between the two exports).
  const auto sorted_lines = [](const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    std::sort(lines.begin(), lines.end());
    return lines;
  };
  EXPECT_EQ(sorted_lines(fixtures), sorted_lines(read_text(ch_dir() + "/events.ndjson")));
  EXPECT_EQ(tb_report_.events, store_->stats()->rows);
  // Read back by usagedb (no dedup: the fixtures hold each stored event
  // once, and its id may repeat across months), the same events.
  auto copy = EventStore::open({.deduplicate = false}).value();
  auto report = copy->ingest(fixtures, {});
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->quarantined_rows, 0u);
  EXPECT_EQ(report->successful_rows, tb_report_.events);
  const auto all = [](const EventStore& s) {
    std::vector<std::string> lines;
    EXPECT_TRUE(s.scan_events({}, [&](std::span<const StoredEvent> page) {
                   for (const StoredEvent& e : page) {
                     std::string line;
                     exporting::append_event_json(e.event, &line);
                     lines.push_back(line);
                   }
                   return absl::OkStatus();
                 }).ok());
    std::sort(lines.begin(), lines.end());
    return lines;
  };
  EXPECT_EQ(all(*copy), all(*store_));
  const std::string readme = read_text(tb_dir() + "/README.md");
  EXPECT_NE(readme.find("tb --cloud deploy"), std::string::npos);
}

TEST_F(TinybirdExport, OneMonthAtATimeAndBadOptions) {
  // --start/--end: the months' exports add up to the whole.
  uint64_t total = 0;
  for (int year = 1970; year <= 2105; ++year) {
    const auto from = parse_date_parameter(absl::StrCat(year, "-01-01")).value();
    const auto to = year == 2105 ? std::optional<Timestamp>() : parse_date_parameter(absl::StrCat(year + 1, "-01-01")).value();
    auto r = exporting::export_store(*store_, {.target = exporting::ExportTarget::kClickHouse,
                                               .out_dir = dir_.file("year"), .start = from, .end = to});
    ASSERT_TRUE(r.ok()) << r.status();
    total += r->events;
  }
  EXPECT_EQ(total, store_->stats()->rows);
  EXPECT_EQ(exporting::export_store(*store_, {.out_dir = ""}).status().code(), absl::StatusCode::kInvalidArgument);
  const auto t = parse_date_parameter("2025-01-01").value();
  EXPECT_EQ(exporting::export_store(*store_, {.out_dir = dir_.file("x"), .start = t, .end = t}).status().code(),
            absl::StatusCode::kInvalidArgument);
  // An out directory that is a file: the file system's error, naming it.
  std::ofstream(dir_.file("file")) << "x";
  auto r = exporting::export_store(*store_, {.out_dir = dir_.file("file")});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(std::string(r.status().message()).find(dir_.file("file")), std::string::npos) << r.status();
}

}  // namespace
}  // namespace usagedb
