// Test support for the NDJSON reader tests: a valid line with fields
// replaced, the event it holds, and a whole-input parse.
#ifndef USAGEDB_TESTS_INGEST_NDJSON_TESTING_H_
#define USAGEDB_TESTS_INGEST_NDJSON_TESTING_H_

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lib/ingest/record_reader.h"
#include "tests/ingest/reader_testing.h"

namespace usagedb::reader_testing {

inline constexpr std::string_view kOmit = "<omit>";

// One line of NDJSON: a valid event whose fields are replaced by
// `overrides` (raw JSON values; kOmit drops the key). Keys that are not
// columns are appended.
inline std::string event_line(std::vector<std::pair<std::string_view, std::string_view>> overrides = {}) {
  std::vector<std::pair<std::string_view, std::string_view>> fields = {
      {"event_id", R"("e1")"},
      {"user_id", R"("u1")"},
      {"feature_id", R"("f1")"},
      {"product_version", R"("1.0.0")"},
      {"event_type", R"("view")"},
      {"timestamp", R"("2025-05-11 10:23:03")"},
      {"session_id", R"("s1")"},
      {"metadata", R"("m")"}};
  for (const auto& [key, value] : overrides) {
    bool found = false;
    for (auto& field : fields) {
      if (field.first == key) {
        field.second = value;
        found = true;
      }
    }
    if (!found) fields.emplace_back(key, value);
  }
  std::string line = "{";
  for (const auto& [key, value] : fields) {
    if (value == kOmit) continue;
    if (line.size() > 1) line += ",";
    line += cat("\"", key, "\":", value);
  }
  return line + "}";
}

inline Parsed parse_ndjson(std::string_view text) {
  auto reader = make_ndjson_reader();
  return parse_whole(*reader, text);
}

}  // namespace usagedb::reader_testing

#endif  // USAGEDB_TESTS_INGEST_NDJSON_TESTING_H_
