#include "lib/storage/event_codec.h"

#include "gtest/gtest.h"
#include "tests/testutil/random_events.h"

namespace usagedb::storage {
namespace {

TEST(EventCodec, BatchRoundTrip) {
  testing::RandomEvents gen(5);
  const auto owned = gen.events(500);
  std::vector<Event> events;
  for (const auto& e : owned) events.push_back(e.view());
  std::string bytes;
  encode_events(events, 41, &bytes);
  auto back = decode_events(bytes, "wal-1 record 0");
  ASSERT_TRUE(back.ok()) << back.status();
  ASSERT_EQ(back->first_sequence, std::optional<uint64_t>(41));
  ASSERT_EQ(back->events.size(), events.size());
  for (size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(testing::OwnedEvent::from(back->events[i]).view().user_id, owned[i].user_id);
    const Event& a = back->events[i];
    const Event& b = events[i];
    EXPECT_TRUE(a.event_id == b.event_id && a.user_id == b.user_id && a.feature_id == b.feature_id &&
                a.product_version == b.product_version && a.event_type == b.event_type &&
                a.timestamp == b.timestamp && a.session_id == b.session_id && a.metadata == b.metadata);
  }
}

TEST(EventCodec, MalformedOrInvalidBatchesAreDataLoss) {
  std::string bytes;
  const Event e{.user_id = "u", .feature_id = "f", .product_version = "1", .event_type = "view",
                .timestamp = parse_timestamp("2025-01-01 00:00:00").value()};
  encode_events(std::span<const Event>(&e, 1), 7, &bytes);
  for (size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_EQ(decode_events(bytes.substr(0, n), "w").status().code(), absl::StatusCode::kDataLoss);
  }
  EXPECT_EQ(decode_events(bytes + "x", "w").status().code(), absl::StatusCode::kDataLoss);
  Event invalid = e;
  invalid.user_id = "";
  std::string bad;
  encode_events(std::span<const Event>(&invalid, 1), 7, &bad);
  EXPECT_EQ(decode_events(bad, "w").status().code(), absl::StatusCode::kDataLoss);
}

// A record written before arrival numbers (the count first, no zero byte)
// still decodes, with no first number.
TEST(EventCodec, RecordsOfTheFormatBeforeArrivalNumbersDecode) {
  testing::RandomEvents gen(6);
  const auto owned = gen.events(20);
  std::vector<Event> events;
  for (const auto& e : owned) events.push_back(e.view());
  std::string bytes;
  encode_events(events, 5, &bytes);
  ASSERT_EQ(bytes.substr(0, 9), std::string("\0\x05\0\0\0\0\0\0\0", 9));
  const std::string old_bytes = bytes.substr(9);  // the decoded events view into it
  auto old = decode_events(old_bytes, "wal-1 record 3");
  ASSERT_TRUE(old.ok()) << old.status();
  EXPECT_EQ(old->first_sequence, std::nullopt);
  ASSERT_EQ(old->events.size(), events.size());
  EXPECT_EQ(old->events[19].user_id, events[19].user_id);
  // An empty batch is not a record either way.
  std::string empty(1, '\0');
  EXPECT_EQ(decode_events(empty, "w").status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(decode_events(std::string("\0\x05\0\0\0\0\0\0\0\0", 10), "w").status().code(),
            absl::StatusCode::kDataLoss);
  // The first number set after encoding, as the store's writer queue does.
  set_first_sequence(77, &bytes);
  EXPECT_EQ(decode_events(bytes, "w")->first_sequence, std::optional<uint64_t>(77));
}

TEST(EventCodec, QuarantinedRowRoundTrip) {
  QuarantinedRow row{.source = "events.ndjson", .line = 17, .raw = "{\"user_id\":", .columns = {"user_id", "timestamp"},
                     .error = "user_id: missing; timestamp: missing",
                     .inserted_at = parse_timestamp("2026-11-26 10:00:00").value()};
  std::string bytes;
  encode_quarantined_row(row, &bytes);
  auto back = decode_quarantined_row(bytes, "q");
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->source, row.source);
  EXPECT_EQ(back->line, row.line);
  EXPECT_EQ(back->raw, row.raw);
  EXPECT_EQ(back->columns, row.columns);
  EXPECT_EQ(back->error, row.error);
  EXPECT_EQ(back->inserted_at, row.inserted_at);
  EXPECT_EQ(decode_quarantined_row(bytes.substr(0, bytes.size() - 1), "q").status().code(),
            absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace usagedb::storage
