// EventStore::ingest_stream: an input pulled through a callback, in pieces of
// any size, ingested as ingest_file ingests a file (ingest_test.cc checks
// that the three ways of ingesting agree on big inputs). Here: what only a
// stream has: reads of a few bytes, a CSV header and quoted line breaks
// across them, an error from the source, the bulk path from a size hint,
// streams at once.
#include <atomic>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testutil/helpers.h"
#include "tests/testutil/temp_dir.h"
#include "usagedb/usagedb.h"

namespace usagedb {
namespace {

using ::testing::HasSubstr;

std::string stream_line(const std::string& id, const std::string& user, const std::string& day = "2025-03-01") {
  return absl::StrCat(R"({"event_id":")", id, R"(","user_id":")", user,
                      R"(","feature_id":"f","product_version":"1","event_type":"view","timestamp":")", day,
                      " 10:00:00\"}");
}

// Hands out `text` in pieces of `step` bytes, then, when `fail_at` is
// reached, `failure` (once; a call after the end or the error fails the test).
class PieceFeeder {
 public:
  PieceFeeder(std::string text, size_t step, size_t fail_at = SIZE_MAX, absl::Status failure = absl::OkStatus())
      : text_(std::move(text)), step_(step), fail_at_(fail_at), failure_(std::move(failure)) {}

  InputSource source() {
    return [this](char* buf, size_t size) -> absl::StatusOr<size_t> {
      EXPECT_FALSE(ended_) << "read again after the end or an error";
      if (pos_ >= fail_at_) {
        ended_ = true;
        return failure_;
      }
      const size_t k = std::min({size, step_, text_.size() - pos_, fail_at_ - pos_});
      std::memcpy(buf, text_.data() + pos_, k);
      pos_ += k;
      if (k == 0) ended_ = true;
      return k;
    };
  }

 private:
  const std::string text_;
  const size_t step_;
  const size_t fail_at_;
  const absl::Status failure_;
  size_t pos_ = 0;
  bool ended_ = false;
};

uint64_t rows_of(const EventStore& store, const std::string& user) {
  auto usage = store.user_feature_usage({.user_id = user});
  uint64_t n = 0;
  for (const auto& row : usage->rows) n += row.usage_count;
  return n;
}

TEST(IngestStream, TinyReadsOfCsvKeepTheHeaderLineNumbersAndQuotedLineBreaks) {
  const std::string csv =
      "user_id,feature_id,product_version,event_type,timestamp,metadata\r\n"
      "u1,f1,1,view,2025-01-01 00:00:00,\"{\"\"note\"\":\"\"two\nlines\"\"}\"\r\n"
      "u1,f2,1,view,2025-01-01 00:00:00,\r\n"
      ",f3,1,view,2025-01-01 00:00:00,\r\n"
      "u2,f1,1,view,not a time,\r\n"
      "u2,f1,1,click,2025-01-02 00:00:00,\r\n";
  auto expected_store = EventStore::open({});
  ASSERT_TRUE(expected_store.ok());
  auto expected = (*expected_store)->ingest(csv, {.format = InputFormat::kCsv, .source = "upload"});
  ASSERT_TRUE(expected.ok());
  ASSERT_EQ(*expected, (IngestReport{.successful_rows = 3, .quarantined_rows = 2}));
  for (const size_t step : {1, 2, 3, 7, 64}) {
    SCOPED_TRACE(step);
    auto store = EventStore::open({});
    ASSERT_TRUE(store.ok());
    PieceFeeder feeder(csv, step);
    auto report = (*store)->ingest_stream(feeder.source(), {.format = InputFormat::kCsv, .source = "upload"});
    ASSERT_TRUE(report.ok()) << report.status();
    EXPECT_EQ(*report, *expected);
    EXPECT_EQ(rows_of(**store, "u1"), 2u);
    auto quarantine = (*store)->quarantine();
    ASSERT_TRUE(quarantine.ok());
    ASSERT_EQ(quarantine->size(), 2u);
    EXPECT_EQ((*quarantine)[0].line, 5u);  // the quoted line break makes line 3 two lines
    EXPECT_EQ((*quarantine)[1].line, 6u);
    EXPECT_EQ((*quarantine)[1].source, "upload");
  }
}

TEST(IngestStream, TheSourcesErrorIsReturnedAsIsAndEndsTheReads) {
  testing::ScopedTempDir dir;
  Options options;
  options.directory = dir.path();
  auto store = EventStore::open(options);
  ASSERT_TRUE(store.ok());
  std::string ndjson;
  for (int i = 0; ndjson.size() < (5 << 20); ++i) ndjson += stream_line(absl::StrCat("e", i), "streamed") + "\n";
  PieceFeeder feeder(ndjson, 65536, 4 << 20, absl::ResourceExhaustedError("the request body is over the limit"));
  auto report = (*store)->ingest_stream(feeder.source(), {});
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.status(), absl::ResourceExhaustedError("the request body is over the limit"));
  // Rows of the chunks before the error may be stored: never more than was read.
  EXPECT_LE(rows_of(**store, "streamed"), (4u << 20) / ndjson.find('\n'));
  EXPECT_TRUE((*store)->ingest_ndjson(stream_line("after", "after") + "\n").ok());  // the store goes on
}

TEST(IngestStream, ALargeStreamGoesTheBulkWayAndIsDurableWhenItReturns) {
  testing::ScopedTempDir dir;
  Options options;
  options.directory = dir.path();
  options.checkpoint_log_bytes = 4096;
  std::string ndjson;
  for (int i = 0; i < 2000; ++i)
    ndjson += stream_line(absl::StrCat("b", i), "bulk", i % 2 ? "2025-01-05" : "2025-02-05") + "\n";
  for (const uint64_t hint : {uint64_t{0}, uint64_t{ndjson.size()}}) {
    SCOPED_TRACE(hint);
    testing::ScopedTempDir store_dir;
    options.directory = store_dir.path();
    {
      auto store = EventStore::open(options);
      ASSERT_TRUE(store.ok());
      PieceFeeder feeder(ndjson, 1000);
      auto report = (*store)->ingest_stream(feeder.source(), {.size_hint = hint});
      ASSERT_TRUE(report.ok()) << report.status();
      EXPECT_EQ(report->successful_rows, 2000u);
    }
    auto reopened = EventStore::open(options);
    ASSERT_TRUE(reopened.ok());
    EXPECT_EQ(rows_of(**reopened, "bulk"), 2000u);
  }
}

TEST(IngestStreamConcurrent, StreamsAtOnceIntoOneStore) {
  auto store = EventStore::open({});
  ASSERT_TRUE(store.ok());
  std::vector<std::thread> threads;
  std::atomic<uint64_t> stored{0};
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&, t] {
      std::string ndjson;
      for (int i = 0; i < 3000; ++i) ndjson += stream_line(absl::StrCat(t, "-", i), absl::StrCat("c", t)) + "\n";
      PieceFeeder feeder(ndjson, 4096);
      auto report = (*store)->ingest_stream(feeder.source(), {});
      EXPECT_TRUE(report.ok()) << report.status();
      if (report.ok()) stored += report->successful_rows;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(stored.load(), 9000u);
  for (int t = 0; t < 3; ++t) EXPECT_EQ(rows_of(**store, absl::StrCat("c", t)), 3000u);
}

}  // namespace
}  // namespace usagedb
