// Test support for the ingest readers: runs a RecordReader over a whole
// input the way a caller does (chunks, the unconsumed rest passed again),
// copies what it returns, and checks the invariants every ParsedBatch must
// keep.
#ifndef USAGEDB_TESTS_INGEST_READER_TESTING_H_
#define USAGEDB_TESTS_INGEST_READER_TESTING_H_

#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "gtest/gtest.h"
#include "lib/ingest/record_reader.h"
#include "lib/ingest/validate.h"
#include "usagedb/event.h"

namespace usagedb::reader_testing {

// An Event that owns its strings, with its line number.
struct OwnedEvent {
  std::string event_id, user_id, feature_id, product_version, event_type;
  int64_t timestamp = 0;
  std::string session_id, metadata;
  uint64_t line = 0;
  friend bool operator==(const OwnedEvent&, const OwnedEvent&) = default;
};

inline void PrintTo(const OwnedEvent& e, std::ostream* os) {
  *os << "{line " << e.line << ": " << e.event_id << "|" << e.user_id << "|" << e.feature_id << "|"
      << e.product_version << "|" << e.event_type << "|" << e.timestamp << "|" << e.session_id << "|" << e.metadata
      << "}";
}

// The time of the readers' sample row ("2025-05-11 10:23:03").
inline constexpr int64_t kSeedTime = 1746958983;

// The event of the readers' sample row (NDJSON and CSV), read from `line`.
inline OwnedEvent expected_event(uint64_t line) {
  return OwnedEvent{"e1", "u1", "f1", "1.0.0", "view", kSeedTime, "s1", "m", line};
}

struct Parsed {
  std::vector<OwnedEvent> events;
  std::vector<RejectedRow> rejected;
  uint64_t records = 0;
};

// Concatenates string-like pieces (absl::StrCat of Debian's Abseil does not
// take std::string_view).
template <typename... Pieces>
std::string cat(const Pieces&... pieces) {
  std::string s;
  (s.append(std::string_view(pieces)), ...);
  return s;
}

// Parses `text` fed in pieces cut at `cuts` (increasing offsets into text).
inline Parsed parse_in_pieces(RecordReader& reader, std::string_view text, const std::vector<size_t>& cuts) {
  Parsed result;
  ParsedBatch batch;
  std::string pending;
  size_t fed = 0;
  for (size_t i = 0; i <= cuts.size(); ++i) {
    const size_t to = i < cuts.size() ? std::min(cuts[i], text.size()) : text.size();
    if (to < fed) continue;
    pending.append(text.substr(fed, to - fed));
    fed = to;
    const bool final = i == cuts.size();
    const size_t used = reader.parse(pending, final, &batch);
    EXPECT_LE(used, pending.size());
    if (final) EXPECT_EQ(used, pending.size()) << "a final parse() must consume everything";
    EXPECT_EQ(batch.records, batch.events.size() + batch.rejected.size());
    EXPECT_EQ(batch.events.size(), batch.event_lines.size());
    for (size_t k = 0; k < batch.events.size(); ++k) {
      const Event& e = batch.events[k];
      const auto error = validate_event(e);
      EXPECT_FALSE(error.has_value()) << "line " << batch.event_lines[k] << ": " << error->message;
      result.events.push_back(OwnedEvent{std::string(e.event_id), std::string(e.user_id), std::string(e.feature_id),
                                         std::string(e.product_version), std::string(e.event_type),
                                         e.timestamp.time_since_epoch().count(), std::string(e.session_id),
                                         std::string(e.metadata), batch.event_lines[k]});
    }
    for (const RejectedRow& r : batch.rejected) result.rejected.push_back(r);
    result.records += batch.records;
    pending.erase(0, used);
  }
  return result;
}

inline Parsed parse_whole(RecordReader& reader, std::string_view text) { return parse_in_pieces(reader, text, {}); }

}  // namespace usagedb::reader_testing

namespace usagedb {
inline void PrintTo(const RejectedRow& r, std::ostream* os) {
  *os << "{line " << r.line << ", raw '" << r.raw << "', columns [";
  for (const std::string& c : r.columns) *os << c << " ";
  *os << "], error '" << r.error << "'}";
}
}  // namespace usagedb

#endif  // USAGEDB_TESTS_INGEST_READER_TESTING_H_
