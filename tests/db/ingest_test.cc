// EventStore's ingestion of whole inputs (SPEC 1.1-1.3) through ingest(),
// ingest_ndjson() and ingest_file(), in memory and on disk: the store keeps
// what the readers accept, quarantines what they reject (with source, line
// number, raw text, columns, error and insertion time), deduplicates across
// calls, and agrees with the brute-force Reference after a generated round
// trip. The readers' own rules are tested in tests/ingest/.
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/gen/generator.h"
#include "lib/gen/random.h"
#include "lib/query/snapshot.h"
#include "lib/util/text.h"
#include "tests/db/durability_testing.h"
#include "tests/testutil/helpers.h"
#include "tests/testutil/printers.h"
#include "tests/testutil/reference.h"
#include "tests/testutil/temp_dir.h"
#include "usagedb/usagedb.h"

namespace usagedb {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// The chunk the store hands a reader at once (ChunkProducer::kChunkBytes,
// lib/db/chunk_pipeline.h).
constexpr size_t kStoreChunkBytes = 2 << 20;

using ::usagedb::testing::at;

Timestamp now_seconds() { return std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now()); }

// One NDJSON line in the seed's shape, without the '\n'.
std::string line(std::string_view id, std::string_view user, std::string_view feature = "f",
                 std::string_view ts = "2025-05-11 10:23:03", std::string_view version = "1.0.0") {
  return absl::StrCat(R"({"event_id":")", text::absl_view(id), R"(","user_id":")", text::absl_view(user), R"(","feature_id":")",
                      text::absl_view(feature), R"(","product_version":")", text::absl_view(version),
                      R"(","event_type":"view","timestamp":")", text::absl_view(ts), R"(","session_id":"s1"})");
}

// Events stored for `user` (0 when none).
uint64_t events_of(const EventStore& store, const std::string& user) {
  auto usage = store.user_feature_usage({.user_id = user});
  EXPECT_TRUE(usage.ok()) << usage.status();
  if (!usage.ok()) return 0;
  uint64_t n = 0;
  for (const UserFeatureUsageRow& row : usage->rows) n += row.usage_count;
  return n;
}

uint64_t total_events(const EventStore& store) {
  auto summary = store.feature_usage_summary({});
  EXPECT_TRUE(summary.ok()) << summary.status();
  if (!summary.ok()) return 0;
  uint64_t n = 0;
  for (const FeatureUsageSummaryRow& row : summary->rows) n += row.total_events;
  return n;
}

std::vector<QuarantinedRow> quarantine_of(const EventStore& store) {
  auto rows = store.quarantine();
  EXPECT_TRUE(rows.ok()) << rows.status();
  return rows.ok() ? *rows : std::vector<QuarantinedRow>{};
}

using ::usagedb::testing::write_file;

// `text` as an InputSource (EventStore::ingest_stream) that hands out pieces
// of 1 to `max_step` bytes, as a socket does. `text` must outlive it.
InputSource pieces_of(const std::string& text, size_t max_step) {
  auto pos = std::make_shared<size_t>(0);
  auto calls = std::make_shared<uint64_t>(0);
  return [&text, pos, calls, max_step](char* buf, size_t size) -> absl::StatusOr<size_t> {
    const size_t k = std::min({size, text.size() - *pos, 1 + static_cast<size_t>((*calls)++ * 7919 % max_step)});
    std::memcpy(buf, text.data() + *pos, k);
    *pos += k;
    return k;
  };
}

// The three ways of ingesting a whole input that must agree.
enum class IngestWay { kText, kFile, kStream };
constexpr IngestWay kIngestWays[] = {IngestWay::kText, IngestWay::kFile, IngestWay::kStream};

std::string_view way_name(IngestWay way) {
  return way == IngestWay::kText ? "ingest" : way == IngestWay::kFile ? "ingest_file" : "ingest_stream";
}

// Ingests `input` (also at `path`) the given way, quarantined rows named `source`.
absl::StatusOr<IngestReport> ingest_way(EventStore& store, IngestWay way, const std::string& input,
                                        const std::string& path, std::string_view source) {
  switch (way) {
    case IngestWay::kText: return store.ingest(input, {.source = source});
    case IngestWay::kFile: return store.ingest_file(path, {});
    case IngestWay::kStream: return store.ingest_stream(pieces_of(input, 70000), {.source = source});
  }
  return absl::InternalError("?");
}

// The stores every test below runs against. kBulk is a durable store whose
// checkpoint_log_bytes is so small that every ingest_file takes the bulk path
// (no write-ahead log, a checkpoint before it returns) and every other write
// soon triggers a checkpoint; its answers must not differ from the others'.
enum class StoreKind { kInMemory, kDurable, kBulk };

constexpr size_t kBulkThreshold = 4096;

std::string_view store_kind_name(StoreKind kind) {
  switch (kind) {
    case StoreKind::kInMemory: return "InMemory";
    case StoreKind::kDurable: return "Durable";
    case StoreKind::kBulk: return "DurableBulk";
  }
  return "?";
}

void PrintTo(StoreKind kind, std::ostream* os) { *os << store_kind_name(kind); }

Options options_for(StoreKind kind, const std::string& directory, Options options = {}) {
  if (kind != StoreKind::kInMemory) options.directory = directory;
  if (kind == StoreKind::kBulk) options.checkpoint_log_bytes = kBulkThreshold;
  return options;
}

class IngestTest : public ::testing::TestWithParam<StoreKind> {
 protected:
  std::unique_ptr<EventStore> open(Options options = {}) { return open_in(dir_.file("store"), options); }

  std::unique_ptr<EventStore> open_in(const std::string& directory, Options options = {}) {
    auto store = EventStore::open(options_for(GetParam(), directory, options));
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? std::move(store).value() : nullptr;
  }

  testing::ScopedTempDir dir_;
};

// Every accepted form of SPEC 1.1 is stored with the value it means; every
// rejected one is quarantined; blank lines are no records.
TEST_P(IngestTest, StoresAcceptedLinesAndQuarantinesTheRest) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  const std::vector<std::string> lines = {
      // 1: a BOM, then the seed's form.
      "\xEF\xBB\xBF" + line("e1", "seed"),
      // 2: blank, 3: whitespace only.
      "",
      " \t ",
      // 4: ISO form with fraction (truncated) and Z.
      line("e4", "iso_z", "f", "2025-05-11T10:23:03.999Z"),
      // 5: an offset, converted to UTC (crosses midnight into the previous day).
      line("e5", "iso_offset", "f", "2025-05-11T01:00:00+02:00"),
      // 6: Unix seconds as a JSON integer; unknown keys ignored; nulls for the
      // optional fields; metadata as an object.
      R"({"user_id":"unix","feature_id":"f","product_version":"1.0.0","event_type":"view","timestamp":1746958983,)"
      R"("utm_source":{"deep":[1,2]},"event_id":null,"session_id":null,"metadata":{"device": "desktop"}})",
      // 7: escapes decoded (user "café").
      R"({"user_id":"caf\u00e9","feature_id":"f","product_version":"1.0.0","event_type":"view","timestamp":"2025-05-11 10:23:03","metadata":[1, 2]})",
      // 8: not a JSON object.
      "[1,2,3]",
      // 9: not JSON at all.
      "{\"user_id\": ",
      // 10: a required field missing (feature_id).
      R"({"user_id":"u","product_version":"1.0.0","event_type":"view","timestamp":"2025-05-11 10:23:03"})",
      // 11: null for a required field.
      R"({"user_id":"u","feature_id":null,"product_version":"1.0.0","event_type":"view","timestamp":"2025-05-11 10:23:03"})",
      // 12: a wrong JSON type (metadata: 42).
      R"({"user_id":"u","feature_id":"f","product_version":"1.0.0","event_type":"view","timestamp":"2025-05-11 10:23:03","metadata":42})",
      // 13-17: invalid timestamps.
      line("e13", "u", "f", "2025-13-01 00:00:00"),
      line("e14", "u", "f", "2025-02-29 00:00:00"),
      line("e15", "u", "f", "2025-01-01 24:00:00"),
      line("e16", "u", "f", "1746958983"),
      R"({"user_id":"u","feature_id":"f","product_version":"1.0.0","event_type":"view","timestamp":1746958983.5})",
      // 18: a bool timestamp.
      R"({"user_id":"u","feature_id":"f","product_version":"1.0.0","event_type":"view","timestamp":true})",
      // 19: out of the DateTime range after conversion to UTC.
      line("e19", "u", "f", "1970-01-01T00:30:00+01:00"),
      // 20: a lone surrogate.
      R"({"user_id":"\ud800","feature_id":"f","product_version":"1.0.0","event_type":"view","timestamp":"2025-05-11 10:23:03"})",
      // 21: invalid UTF-8 bytes.
      line("e21", "bad\xC3\x28utf8"),
      // 22: an empty required value.
      line("e22", ""),
      // 23: the same event_id as line 1, same month: a duplicate.
      line("e1", "seed_copy", "f", "2025-05-30 00:00:00"),
  };
  std::string input;
  for (const std::string& l : lines) absl::StrAppend(&input, l, "\r\n");  // CRLF throughout
  auto report = store->ingest(input, {.source = "events API"});
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(*report, (IngestReport{.successful_rows = 5, .quarantined_rows = 15, .duplicate_rows = 1}));
  EXPECT_EQ(report->successful_rows + report->quarantined_rows + report->duplicate_rows, lines.size() - 2);

  EXPECT_EQ(total_events(*store), 5u);
  struct Stored {
    std::string user;
    const char* timestamp;
  };
  for (const Stored& s : {Stored{"seed", "2025-05-11 10:23:03"}, Stored{"iso_z", "2025-05-11 10:23:03"},
                          Stored{"iso_offset", "2025-05-10 23:00:00"}, Stored{"unix", "2025-05-11 10:23:03"},
                          Stored{"caf\xC3\xA9", "2025-05-11 10:23:03"}}) {
    auto usage = store->user_feature_usage({.user_id = s.user});
    ASSERT_TRUE(usage.ok()) << usage.status();
    ASSERT_EQ(usage->rows.size(), 1u) << s.user;
    EXPECT_EQ(usage->rows[0].usage_count, 1u) << s.user;
    EXPECT_EQ(usage->rows[0].first_usage, at(s.timestamp)) << s.user;
  }
  EXPECT_EQ(events_of(*store, "seed_copy"), 0u);  // the duplicate was skipped

  const std::vector<QuarantinedRow> q = quarantine_of(*store);
  ASSERT_EQ(q.size(), 15u);
  std::vector<uint64_t> numbers;
  for (const QuarantinedRow& r : q) {
    numbers.push_back(r.line);
    EXPECT_EQ(r.source, "events API");
    EXPECT_EQ(r.raw, lines[r.line - 1]) << "raw text without the CRLF, line " << r.line;
    EXPECT_FALSE(r.error.empty()) << r.line;
  }
  EXPECT_THAT(numbers, ElementsAre(8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22));
  EXPECT_THAT(q[0].columns, IsEmpty());
  EXPECT_EQ(q[0].error, "expected a JSON object, got an array");
  EXPECT_THAT(q[1].columns, IsEmpty());
  EXPECT_THAT(q[2].columns, ElementsAre("feature_id"));
  EXPECT_EQ(q[2].error, "feature_id: missing");
  EXPECT_THAT(q[3].columns, ElementsAre("feature_id"));
  EXPECT_EQ(q[3].error, "feature_id: must not be null");
  EXPECT_THAT(q[4].columns, ElementsAre("metadata"));
  EXPECT_EQ(q[4].error, "metadata: expected a string, object, array or null, got a number");
  for (size_t i = 5; i <= 11; ++i) EXPECT_THAT(q[i].columns, ElementsAre("timestamp")) << q[i].raw;
  EXPECT_EQ(q[5].error, "timestamp: '2025-13-01 00:00:00' is not a valid DateTime: month must be 01..12");
  EXPECT_THAT(q[6].error, HasSubstr("'2025-02-29 00:00:00' is not a valid DateTime"));
  EXPECT_THAT(q[7].error, HasSubstr("'2025-01-01 24:00:00' is not a valid DateTime"));
  EXPECT_THAT(q[8].error, HasSubstr("'1746958983' is not a valid DateTime"));
  EXPECT_THAT(q[9].error, HasSubstr("is not a whole number of Unix seconds"));
  EXPECT_THAT(q[10].error, HasSubstr("got a boolean"));
  EXPECT_THAT(q[11].error, HasSubstr("outside the DateTime range"));
  EXPECT_THAT(q[12].error, HasSubstr("lone surrogate"));
  EXPECT_THAT(q[13].error, HasSubstr("UTF-8"));
  EXPECT_EQ(q[13].raw, lines[20]);  // the raw bytes kept as given, even when not UTF-8
  EXPECT_THAT(q[14].columns, ElementsAre("user_id"));
  EXPECT_EQ(q[14].error, "user_id: must not be empty");
}

TEST_P(IngestTest, QuarantinedRowsCarrySourceAndInsertionTime) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  const Timestamp before = now_seconds();
  ASSERT_TRUE(store->ingest_ndjson("not json\n").ok());
  ASSERT_TRUE(store->ingest("\n\n" + line("x", "u", "f", "2025-13-01 00:00:00"), {.source = "batch 2"}).ok());
  const Timestamp after = now_seconds();
  const std::vector<QuarantinedRow> q = quarantine_of(*store);
  ASSERT_EQ(q.size(), 2u);
  EXPECT_EQ(q[0].source, "input");  // the default source
  EXPECT_EQ(q[0].line, 1u);
  EXPECT_EQ(q[0].raw, "not json");
  EXPECT_EQ(q[1].source, "batch 2");
  EXPECT_EQ(q[1].line, 3u);  // numbered per input, blank lines included
  EXPECT_THAT(q[1].columns, ElementsAre("timestamp"));
  for (const QuarantinedRow& r : q) {
    EXPECT_GE(r.inserted_at, before);
    EXPECT_LE(r.inserted_at, after);
  }
  EXPECT_EQ(store->stats()->quarantined_rows, 2u);
}

// Line numbers stay exact past the chunks the store cuts a big input into,
// both for text (ingest) and for a file (ingest_file): bad lines just before,
// across and just after a chunk boundary, and further on, are found where
// they are.
TEST_P(IngestTest, LineNumbersAcrossChunkBoundaries) {
  std::vector<std::string> lines;
  std::vector<size_t> offsets;  // where each line starts
  size_t size = 0;
  while (size < kStoreChunkBytes + kStoreChunkBytes / 8) {
    const uint64_t n = lines.size() + 1;
    offsets.push_back(size);
    lines.push_back(line(absl::StrCat("evt_", n), absl::StrCat("user_", n % 100), absl::StrCat("feature_", n % 7)));
    size += lines.back().size() + 1;
  }
  // The line holding the boundary byte, its neighbours, and some more.
  const size_t across = static_cast<size_t>(
      std::upper_bound(offsets.begin(), offsets.end(), kStoreChunkBytes) - offsets.begin() - 1);
  std::set<uint64_t> bad = {across, across + 1, across + 2, across + 3, lines.size() - 5, lines.size()};
  for (size_t n = 10'000; n < lines.size(); n += 10'000) bad.insert(n);
  for (const uint64_t n : bad) {
    // Same length, but without a user_id: quarantined, naming the column.
    std::string& l = lines[n - 1];
    l.replace(l.find("\"user_id\""), 9, "\"user_XX\"");
  }
  std::string input;
  for (const std::string& l : lines) absl::StrAppend(&input, l, "\n");
  input.pop_back();  // the last line ends the input without a '\n'
  ASSERT_GT(input.size(), kStoreChunkBytes);
  // Line across + 1 (1-based) holds the boundary byte (not at its start, for
  // this input: it straddles the cut).
  ASSERT_LT(offsets[across], kStoreChunkBytes);
  ASSERT_GT(offsets[across] + lines[across].size(), kStoreChunkBytes);

  const std::string path = dir_.file("big.ndjson");
  write_file(path, input);
  for (const IngestWay way : kIngestWays) {
    SCOPED_TRACE(way_name(way));
    testing::ScopedTempDir store_dir;
    auto store = open_in(store_dir.file("store"));
    ASSERT_NE(store, nullptr);
    auto report = ingest_way(*store, way, input, path, "big");
    ASSERT_TRUE(report.ok()) << report.status();
    EXPECT_EQ(*report, (IngestReport{.successful_rows = lines.size() - bad.size(), .quarantined_rows = bad.size()}));
    EXPECT_EQ(total_events(*store), lines.size() - bad.size());
    std::set<uint64_t> got;
    for (const QuarantinedRow& r : quarantine_of(*store)) {
      got.insert(r.line);
      EXPECT_EQ(r.source, way == IngestWay::kFile ? path : "big");
      ASSERT_GE(r.line, 1u);
      ASSERT_LE(r.line, lines.size());
      EXPECT_EQ(r.raw, lines[r.line - 1]) << "line " << r.line;
      EXPECT_THAT(r.columns, ElementsAre("user_id")) << "line " << r.line;
    }
    EXPECT_EQ(got, bad);
  }
}

// ingest_file and ingest_stream parse NDJSON chunks on several threads at once; what they
// stores, deduplicates and quarantines must still be exactly what one reader
// reading the input in order gives (ingest() of the same text): duplicates
// keep the first occurrence even when a later chunk is parsed first,
// quarantined rows come in input order with their line numbers, and a line
// longer than a chunk is read whole.
TEST_P(IngestTest, ParallelParsingKeepsInputOrder) {
  std::vector<std::string> lines;
  std::set<uint64_t> bad;       // 1-based line numbers
  uint64_t duplicates = 0;
  uint64_t blanks = 0;  // blank lines: no record, but they count as lines
  uint64_t user_1 = 0;  // events of user_1
  size_t size = 0;
  for (uint64_t n = 1; size < 5 * kStoreChunkBytes; ++n) {
    std::string l;
    if (n % 1013 == 0) {
      l = "{\"user_id\": broken";
      bad.insert(n);
    } else if (n % 997 == 0) {
      // The id of a line from about a chunk or two earlier (or of this
      // chunk), by a user who must therefore never be stored.
      const uint64_t back = n / 997 % 3 * 9000 + 1;
      uint64_t first = back < n ? n - back : n - 1;
      while (first % 1013 == 0 || first % 997 == 0 || first % 1499 == 0 || first == 20'001) --first;  // a stored event
      l = line(absl::StrCat("evt_", first), "dup_user");
      ++duplicates;
    } else if (n % 1499 == 0) {
      l = n % 2 == 0 ? "" : " \t ";
      ++blanks;
    } else if (n == 20'001) {
      // Longer than a chunk: only a reader that keeps reading sees it whole.
      l = line(absl::StrCat("evt_", n), "long_user");
      l.insert(l.size() - 1, absl::StrCat(",\"metadata\":\"", std::string(kStoreChunkBytes + 1000, 'm'), "\""));
    } else {
      l = line(absl::StrCat("evt_", n), absl::StrCat("user_", n % 100), absl::StrCat("feature_", n % 7));
      user_1 += n % 100 == 1;
    }
    size += l.size() + 1;
    lines.push_back(std::move(l));
  }
  ASSERT_GT(lines.size(), 20'001u);
  std::string input = "\xEF\xBB\xBF";  // a BOM: skipped at the start only
  for (const std::string& l : lines) absl::StrAppend(&input, l, "\r\n");
  const std::string path = dir_.file("big.ndjson");
  write_file(path, input);

  ASSERT_GT(blanks, 10u);
  const IngestReport expected{.successful_rows = lines.size() - bad.size() - duplicates - blanks,
                              .quarantined_rows = bad.size(),
                              .duplicate_rows = duplicates};
  for (const IngestWay way : kIngestWays) {
    SCOPED_TRACE(way_name(way));
    testing::ScopedTempDir store_dir;
    auto store = open_in(store_dir.file("store"));
    ASSERT_NE(store, nullptr);
    auto report = ingest_way(*store, way, input, path, path);
    ASSERT_TRUE(report.ok()) << report.status();
    EXPECT_EQ(*report, expected);
    EXPECT_EQ(total_events(*store), expected.successful_rows);
    EXPECT_EQ(events_of(*store, "dup_user"), 0u);
    EXPECT_EQ(events_of(*store, "long_user"), 1u);
    EXPECT_EQ(events_of(*store, "user_1"), user_1);
    std::vector<uint64_t> got;
    for (const QuarantinedRow& r : quarantine_of(*store)) {
      got.push_back(r.line);
      ASSERT_GE(r.line, 1u);
      ASSERT_LE(r.line, lines.size());
      EXPECT_EQ(r.raw, lines[r.line - 1]);
      EXPECT_EQ(r.source, path);
    }
    EXPECT_EQ(got, std::vector<uint64_t>(bad.begin(), bad.end()));  // in input order
  }
}

TEST_P(IngestTest, DeduplicatesAcrossIngestCalls) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  ASSERT_EQ(*store->ingest_ndjson(line("evt_1", "first", "f", "2025-01-10 00:00:00") + "\n"),
            (IngestReport{.successful_rows = 1}));
  // Same id, same month, another call: a duplicate, even though it differs.
  ASSERT_EQ(*store->ingest_ndjson(line("evt_1", "second", "f", "2025-01-31 23:59:59") + "\n"),
            (IngestReport{.duplicate_rows = 1}));
  // Same id, another month: stored.
  ASSERT_EQ(*store->ingest_ndjson(line("evt_1", "third", "f", "2025-02-01 00:00:00") + "\n"),
            (IngestReport{.successful_rows = 1}));
  // Empty and absent ids never deduplicate.
  const std::string anonymous = line("", "anonymous") + "\n" + line("", "anonymous") + "\n" +
                                R"({"user_id":"anonymous","feature_id":"f","product_version":"1","event_type":"view","timestamp":"2025-05-11 10:23:03"})";
  ASSERT_EQ(*store->ingest_ndjson(anonymous), (IngestReport{.successful_rows = 3}));
  ASSERT_EQ(*store->ingest_ndjson(anonymous), (IngestReport{.successful_rows = 3}));
  // Within one call too; record_event's ids count as well.
  ASSERT_TRUE(store->record_event({.event_id = "evt_9", .user_id = "recorded", .feature_id = "f",
                                   .product_version = "1", .event_type = "view",
                                   .timestamp = at("2025-03-03 00:00:00")})
                  .ok());
  ASSERT_EQ(*store->ingest_ndjson(line("evt_2", "within") + "\n" + line("evt_2", "within") + "\n" +
                                  line("evt_9", "within", "f", "2025-03-30 00:00:00")),
            (IngestReport{.successful_rows = 1, .duplicate_rows = 2}));

  EXPECT_EQ(events_of(*store, "first"), 1u);
  EXPECT_EQ(events_of(*store, "second"), 0u);
  EXPECT_EQ(events_of(*store, "third"), 1u);
  EXPECT_EQ(events_of(*store, "anonymous"), 6u);
  EXPECT_EQ(events_of(*store, "within"), 1u);
}

// A bulk file ingest frees the dedup indexes of the months it loaded but
// the newest; later writes to any month still find the ids already there.
TEST_P(IngestTest, DeduplicatesAfterABulkFileIngest) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  std::string input;
  for (int i = 0; i < 90; ++i) {
    const std::string day = absl::StrCat("2025-0", 1 + i / 30, "-", 10 + i % 15, " 08:00:00");
    input += line(absl::StrCat("bulk_", i), "loaded", "f", day) + "\n";
  }
  ASSERT_GT(input.size(), kBulkThreshold);  // the bulk path for a DurableBulk store
  const std::string path = dir_.file("bulk.ndjson");
  write_file(path, input);
  ASSERT_EQ(*store->ingest_file(path, {}), (IngestReport{.successful_rows = 90}));
  // January (freed, rebuilt from its rows), March (the newest, kept), and
  // new ids in both.
  EXPECT_EQ(*store->ingest_ndjson(line("bulk_0", "again", "f", "2025-01-10 08:00:00") + "\n" +
                                  line("bulk_75", "again", "f", "2025-03-10 08:00:00") + "\n" +
                                  line("bulk_new", "fresh", "f", "2025-01-20 00:00:00") + "\n" +
                                  line("bulk_new", "fresh", "f", "2025-03-20 00:00:00")),
            (IngestReport{.successful_rows = 2, .duplicate_rows = 2}));
  EXPECT_EQ(events_of(*store, "loaded"), 90u);
  EXPECT_EQ(events_of(*store, "again"), 0u);
  EXPECT_EQ(events_of(*store, "fresh"), 2u);
}

// The bulk ingest's buffers, for the part_rows of the tests below: 64 *
// part_rows rows each (lib/db/ingest.cc), sealed once idle for 8 *
// part_rows rows, and together at most one buffer's rows.
constexpr size_t kTestPartRows = 128;
constexpr uint64_t kTestBulkBufferRows = 64 * kTestPartRows;

// A copy of the store's files as they are now: what a crash at this moment
// would leave behind (the store must not be writing while it is taken).
void copy_store(const std::string& from, const std::string& to) {
  std::filesystem::copy(from, to, std::filesystem::copy_options::recursive);
}

std::unique_ptr<EventStore> open_for_bulk(const testing::ScopedTempDir& dir) {
  auto opened = EventStore::open({.directory = dir.file("store"),
                                  .part_rows = kTestPartRows,
                                  .checkpoint_log_bytes = 4096,
                                  .background_threads = false});  // seals inline: stats() is exact
  EXPECT_TRUE(opened.ok()) << opened.status();
  return opened.ok() ? std::move(opened).value() : nullptr;
}

// A bulk ingest of input ordered by time seals each month's buffer once the
// input has moved on, while the rest is still parsed: one part per month,
// nothing left to merge. A late event for a sealed month starts a new buffer
// there, and is still deduplicated against the month's earlier rows.
TEST(BulkIngestTest, SealsEachMonthOnceTheInputMovesOn) {
  testing::ScopedTempDir dir;
  auto store = open_for_bulk(dir);
  ASSERT_NE(store, nullptr);
  constexpr int kPerMonth = 5500;
  static_assert(kPerMonth < kTestBulkBufferRows);
  std::string input;
  for (int month = 1; month <= 3; ++month) {
    for (int i = 0; i < kPerMonth; ++i) {
      const std::string ts = absl::StrCat("2025-0", month, "-", 10 + i % 15, " 08:00:00");
      input += line(absl::StrCat("m", month, "_", i), absl::StrCat("u", i % 50), "f", ts) + "\n";
    }
  }
  // January, February and enough of March to seal February in the first chunk.
  ASSERT_LT(input.size() / 3 * 2 + 9 * kTestPartRows * 160, kStoreChunkBytes);
  ASSERT_GT(input.size(), kStoreChunkBytes);
  input += line("m1_late", "late", "f", "2025-01-31 23:00:00") + "\n";
  input += line("m1_0", "late", "f", "2025-01-31 23:00:00") + "\n";  // a duplicate of January's first id
  const std::string path = dir.file("ordered.ndjson");
  write_file(path, input);

  std::vector<PartitionStats> after_first_chunk;
  IngestFileOptions options;
  options.progress = [&](uint64_t, uint64_t) {
    if (!after_first_chunk.empty()) return;
    auto stats = store->stats();
    ASSERT_TRUE(stats.ok()) << stats.status();
    after_first_chunk = stats->partitions;
  };
  auto report = store->ingest_file(path, options);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(*report, (IngestReport{.successful_rows = 3 * kPerMonth + 1, .duplicate_rows = 1}));
  ASSERT_GE(after_first_chunk.size(), 2u);
  for (int m = 0; m < 2; ++m) {  // January and February: one part already, nothing unsealed
    EXPECT_EQ(after_first_chunk[m].parts, 1u) << after_first_chunk[m].month;
    EXPECT_EQ(after_first_chunk[m].unsealed_rows, 0u) << after_first_chunk[m].month;
    EXPECT_EQ(after_first_chunk[m].rows, uint64_t{kPerMonth}) << after_first_chunk[m].month;
  }
  auto stats = store->stats();
  ASSERT_TRUE(stats.ok()) << stats.status();
  ASSERT_EQ(stats->partitions.size(), 3u);
  EXPECT_EQ(stats->partitions[0].parts, 2u);  // the month, then its late event
  EXPECT_EQ(stats->partitions[0].rows, uint64_t{kPerMonth} + 1);
  EXPECT_EQ(stats->partitions[1].parts, 1u);
  EXPECT_EQ(stats->partitions[2].parts, 1u);
  EXPECT_EQ(events_of(*store, "late"), 1u);
  EXPECT_EQ(total_events(*store), uint64_t{3 * kPerMonth} + 1);
}

// A bulk ingest frees the dedup index of each month the input has left, so
// it holds the indexes of the months it is in, not of every month it loaded.
// Dedup stays exact: late events of a released month, duplicates and new
// ones, arrive in the same file and in later writes, and the month's index is
// rebuilt from its rows (once for the whole trickle: it is kept until the
// ingest ends). On disk and in memory alike.
class BulkDedupReleaseTest : public ::testing::TestWithParam<bool> {};

TEST_P(BulkDedupReleaseTest, ReleasedMonthsStillFindLateDuplicates) {
  const bool durable = GetParam();
  testing::ScopedTempDir dir;
  auto opened = EventStore::open({.directory = durable ? dir.file("store") : "",
                                  .part_rows = kTestPartRows,
                                  .checkpoint_log_bytes = 4096,
                                  .background_threads = false});
  ASSERT_TRUE(opened.ok()) << opened.status();
  std::unique_ptr<EventStore> store = std::move(opened).value();
  constexpr int kPerMonth = 5500;
  std::string input;
  for (int month = 1; month <= 3; ++month) {
    for (int i = 0; i < kPerMonth; ++i) {
      const std::string ts = absl::StrCat("2025-0", month, "-", 10 + i % 15, " 08:00:00");
      input += line(absl::StrCat("d", month, "_", i), absl::StrCat("u", i % 50), "f", ts) + "\n";
    }
  }
  // January, February and enough of March to leave February in the first chunk.
  ASSERT_LT(input.size() / 3 * 2 + 9 * kTestPartRows * 160, kStoreChunkBytes);
  ASSERT_GT(input.size(), kStoreChunkBytes);
  // After March is well under way: late January events, one new and two
  // repeating January's ids (one of them twice).
  for (const char* id : {"d1_late", "d1_0", "d1_late", "d1_5499"}) {
    input += line(id, "late", "f", "2025-01-31 23:00:00") + "\n";
  }
  std::vector<std::vector<PartitionStats>> seen;  // stats after each chunk
  const auto observe = [&](uint64_t, uint64_t) {
    auto stats = store->stats();
    ASSERT_TRUE(stats.ok()) << stats.status();
    seen.push_back(stats->partitions);
  };
  absl::StatusOr<IngestReport> report;
  if (durable) {
    const std::string path = dir.file("ordered.ndjson");
    write_file(path, input);
    report = store->ingest_file(path, {.progress = observe});
  } else {  // a stream of known size goes the bulk way in memory too
    size_t at = 0;
    const InputSource read = [&](char* buffer, size_t size) -> absl::StatusOr<size_t> {
      const size_t n = std::min(size, input.size() - at);
      std::memcpy(buffer, input.data() + at, n);
      at += n;
      return n;
    };
    report = store->ingest_stream(read, {.size_hint = input.size(), .progress = observe});
  }
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(*report, (IngestReport{.successful_rows = 3 * kPerMonth + 1, .duplicate_rows = 3}));
  ASSERT_GE(seen.size(), 2u);
  ASSERT_EQ(seen.front().size(), 3u);
  // After the first chunk: January and February sealed and their indexes
  // freed; March, which the input is in, holds its own.
  EXPECT_EQ(seen.front()[0].dedup_memory_bytes, 0u);
  EXPECT_EQ(seen.front()[1].dedup_memory_bytes, 0u);
  EXPECT_GT(seen.front()[2].dedup_memory_bytes, 0u);
  // At the last chunk, January's index is back (rebuilt for its late events)
  // and February's is still free.
  EXPECT_GT(seen.back()[0].dedup_memory_bytes, 0u);
  EXPECT_EQ(seen.back()[1].dedup_memory_bytes, 0u);
  EXPECT_EQ(events_of(*store, "late"), 1u);
  EXPECT_EQ(total_events(*store), uint64_t{3 * kPerMonth} + 1);

  // Later writes to released months are deduplicated against every row.
  auto again = store->record_events(std::vector<Event>{
      Event{.event_id = "d2_17", .user_id = "later", .feature_id = "f", .product_version = "1.0.0",
            .event_type = "view", .timestamp = testing::at("2025-02-11 08:00:00"), .session_id = "s"},
      Event{.event_id = "d1_late", .user_id = "later", .feature_id = "f", .product_version = "1.0.0",
            .event_type = "view", .timestamp = testing::at("2025-01-31 23:00:00"), .session_id = "s"},
      Event{.event_id = "d2_new", .user_id = "later", .feature_id = "f", .product_version = "1.0.0",
            .event_type = "view", .timestamp = testing::at("2025-02-11 08:00:00"), .session_id = "s"}});
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(*again, (IngestReport{.successful_rows = 1, .duplicate_rows = 2}));
  EXPECT_EQ(events_of(*store, "later"), 1u);
}

INSTANTIATE_TEST_SUITE_P(DurableAndInMemory, BulkDedupReleaseTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "Durable" : "InMemory";
                         });

// NDJSON of `per_month` events in each month of 2025 from January to
// `months` (at most 9), ordered by month: ids <prefix><month>_<i>, `users` users.
std::string ordered_months(std::string_view prefix, int months, int per_month, int users) {
  std::string input;
  for (int month = 1; month <= months; ++month) {
    for (int i = 0; i < per_month; ++i) {
      const std::string ts = absl::StrCat("2025-0", month, "-", 10 + i % 15, " 08:00:00");
      input += line(absl::StrCat(text::absl_view(prefix), month, "_", i), absl::StrCat("u", i % users), "f", ts) + "\n";
    }
  }
  return input;
}

// A bulk ingest writes the parts of the months the input has left while it
// runs (with their rollups and the dictionaries' new codes) and hands them to
// the part cache: their columns leave memory, and are read back from their
// files when a late event's dedup needs them. A logged event stored before
// the ingest makes its first such checkpoint seal every buffer and start a
// new log (the event then is in a part, not replayed twice); the later ones
// write only the parts built, leaving the log and the buffers. A copy of the
// files taken between two chunks (a crash there) opens with whole months
// (the logged event once), and ingesting the file again completes it.
TEST(BulkIngestTest, WritesTheMonthsItLeavesAndDropsThemFromMemory) {
  testing::ScopedTempDir dir;
  auto store = open_for_bulk(dir);
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->record_event(Event{.user_id = "logged", .feature_id = "f", .product_version = "1.0.0",
                                        .event_type = "view", .timestamp = testing::at("2025-01-02 08:00:00"),
                                        .session_id = "s"})
                  .ok());
  ASSERT_TRUE(store->flush().ok());
  constexpr int kPerMonth = 5700;
  constexpr int kMonths = 5;
  std::string input = ordered_months("w", kMonths, kPerMonth, 50);
  // Chunk 1 leaves February, chunk 2 April, and May goes on in chunk 3.
  const size_t month_bytes = input.size() / kMonths;
  ASSERT_LT(2 * month_bytes + 9 * kTestPartRows * 160, kStoreChunkBytes);
  ASSERT_LT(4 * month_bytes + 9 * kTestPartRows * 160, 2 * kStoreChunkBytes);
  ASSERT_GT(5 * month_bytes, 2 * kStoreChunkBytes);
  for (const char* id : {"w1_late", "w1_0", "w1_late"}) {
    input += line(id, "late", "f", "2025-01-31 23:00:00") + "\n";
  }
  const std::string path = dir.file("ordered.ndjson");
  write_file(path, input);

  std::vector<StoreStats> seen;  // after each chunk
  const auto observe = [&](uint64_t, uint64_t) {
    auto stats = store->stats();
    ASSERT_TRUE(stats.ok()) << stats.status();
    seen.push_back(*stats);
    if (seen.size() == 2) copy_store(dir.file("store"), dir.file("crash"));  // nothing writes meanwhile
  };
  auto report = store->ingest_file(path, {.progress = observe});
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(*report, (IngestReport{.successful_rows = kMonths * kPerMonth + 1, .duplicate_rows = 2}));
  ASSERT_GE(seen.size(), 3u);
  // After chunk 2: January to April on disk, and none of their parts in
  // memory; May, which the input is in, not written.
  ASSERT_EQ(seen[1].partitions.size(), size_t{kMonths});
  for (int m = 0; m < 4; ++m) {
    EXPECT_GT(seen[1].partitions[m].bytes_on_disk, 0u) << seen[1].partitions[m].month;
    EXPECT_EQ(seen[1].partitions[m].unsealed_rows, 0u) << seen[1].partitions[m].month;
  }
  EXPECT_EQ(seen[1].partitions[4].bytes_on_disk, 0u);
  EXPECT_EQ(seen[1].part_memory_bytes, 0u);
  EXPECT_GT(seen[1].buffer_memory_bytes, 0u);
  EXPECT_EQ(events_of(*store, "late"), 1u);
  EXPECT_EQ(events_of(*store, "logged"), 1u);
  EXPECT_EQ(total_events(*store), uint64_t{kMonths * kPerMonth} + 2);
  store.reset();

  auto reopened = open_for_bulk(dir);
  ASSERT_NE(reopened, nullptr);
  EXPECT_EQ(events_of(*reopened, "logged"), 1u);
  EXPECT_EQ(total_events(*reopened), uint64_t{kMonths * kPerMonth} + 2);

  // The crash copy: whole months, January to April, and the logged event.
  auto crashed = EventStore::open({.directory = dir.file("crash"), .part_rows = kTestPartRows,
                                   .checkpoint_log_bytes = 4096, .background_threads = false});
  ASSERT_TRUE(crashed.ok()) << crashed.status();
  EXPECT_EQ(events_of(**crashed, "logged"), 1u);
  EXPECT_EQ(total_events(**crashed), uint64_t{4 * kPerMonth} + 1);
  auto again = (*crashed)->ingest_file(path, {});
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(*again, (IngestReport{.successful_rows = kPerMonth + 1, .duplicate_rows = 4 * kPerMonth + 2}));
  EXPECT_EQ(total_events(**crashed), uint64_t{kMonths * kPerMonth} + 2);
}

// A crash at any point of a bulk ingest that writes parts while it runs (the
// first checkpoint sealing everything, after a logged event; a later one
// writing only the parts built; the last one) leaves a store that opens with
// the logged event once and part of the file, no event twice: ingesting the
// file again stores exactly the rest. Every few file operations (every one
// with USAGEDB_LONG_TESTS=1); each written part is read back through a
// one-byte cache.
TEST(BulkIngestTest, ACrashAnywhereKeepsWholePartsAndTheLoggedEventOnce) {
  testing::ScopedTempDir dir;
  constexpr size_t kPartRows = 32;  // bulk buffers of 2048 rows; a month is left 256 rows on
  constexpr int kPerMonth = 1500;
  constexpr int kMonths = 5;
  const std::string input = ordered_months("c", kMonths, kPerMonth, 40);
  const std::string path = dir.file("ordered.ndjson");
  write_file(path, input);
  const Options options{.part_rows = kPartRows, .checkpoint_log_bytes = 4096, .background_threads = false};
  const Event logged{.user_id = "logged", .feature_id = "f", .product_version = "1.0.0", .event_type = "view",
                     .timestamp = testing::at("2025-01-02 08:00:00"), .session_id = "s"};
  const uint64_t stride = testing::long_tests() ? 1 : 8;
  int crashed = 0;
  for (uint64_t budget = 0;; budget += stride) {
    SCOPED_TRACE(absl::StrCat("operation budget ", budget));
    const std::string store_dir = dir.file(absl::StrCat("store", budget));
    testing::FaultInjectionFileSystem fs(testing::posix_without_fsync());
    auto store = testing::open_durable(store_dir, &fs, options);
    ASSERT_TRUE(store.ok()) << store.status();
    ASSERT_TRUE((*store)->record_event(logged).ok());
    ASSERT_TRUE((*store)->flush().ok());
    fs.set_operation_budget(budget);
    const bool finished = (*store)->ingest_file(path, {}).ok();
    testing::crash(*store, fs);
    auto reopened = testing::open_durable(store_dir, storage::FileSystem::posix(), options);
    ASSERT_TRUE(reopened.ok()) << reopened.status();
    EXPECT_EQ(events_of(**reopened, "logged"), 1u);
    const uint64_t kept = total_events(**reopened) - 1;
    if (finished) {
      EXPECT_EQ(kept, uint64_t{kMonths * kPerMonth});
      break;
    }
    ++crashed;
    auto again = (*reopened)->ingest_file(path, {});
    ASSERT_TRUE(again.ok()) << again.status();
    EXPECT_EQ(*again, (IngestReport{.successful_rows = kMonths * kPerMonth - kept, .duplicate_rows = kept}));
    EXPECT_EQ(total_events(**reopened), uint64_t{kMonths * kPerMonth} + 1);
    ASSERT_LT(budget, 2000u) << "the ingest never finished";
  }
  EXPECT_GT(crashed, 5);
}

// Input in no order fills every month's buffer at once: the buffers
// together never hold more than one bulk buffer's rows (the largest is
// sealed), and every event is stored once.
TEST(BulkIngestTest, BuffersOfInputInAnyOrderStayBounded) {
  testing::ScopedTempDir dir;
  auto store = open_for_bulk(dir);
  ASSERT_NE(store, nullptr);
  constexpr int kRows = 24000;
  std::string input;
  for (int i = 0; i < kRows; ++i) {  // months round robin
    const std::string ts = absl::StrCat("2025-0", 1 + i % 4, "-", 10 + i % 15, " 08:00:00");
    input += line(absl::StrCat("r", i), absl::StrCat("u", i % 70), "f", ts) + "\n";
  }
  ASSERT_GT(input.size(), kStoreChunkBytes);  // progress is reported between chunks
  const std::string path = dir.file("unordered.ndjson");
  write_file(path, input);
  uint64_t most_unsealed = 0;
  IngestFileOptions options;
  options.progress = [&](uint64_t, uint64_t) {
    auto stats = store->stats();
    ASSERT_TRUE(stats.ok()) << stats.status();
    uint64_t unsealed = 0;
    for (const PartitionStats& p : stats->partitions) unsealed += p.unsealed_rows;
    most_unsealed = std::max(most_unsealed, unsealed);
  };
  auto report = store->ingest_file(path, options);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(*report, (IngestReport{.successful_rows = kRows}));
  EXPECT_GT(most_unsealed, 0u);
  EXPECT_LE(most_unsealed, kTestBulkBufferRows);
  auto stats = store->stats();
  ASSERT_TRUE(stats.ok()) << stats.status();
  ASSERT_EQ(stats->partitions.size(), 4u);
  for (const PartitionStats& p : stats->partitions) {
    EXPECT_EQ(p.rows, uint64_t{kRows / 4}) << p.month;
    EXPECT_EQ(p.unsealed_rows, 0u) << p.month;
  }
  EXPECT_EQ(total_events(*store), uint64_t{kRows});
  // Written again, nothing is new.
  auto again = store->ingest_file(path, {});
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(*again, (IngestReport{.duplicate_rows = kRows}));
}

// A pipe has no size to compare with checkpoint_log_bytes: its first bytes
// go through the write-ahead log, and once it has outgrown the threshold the
// rest goes the bulk way (bulk buffers, no log, a checkpoint at the end).
// Everything is there after a reopen.
TEST(BulkIngestTest, APipeGoesTheBulkWayOnceItOutgrowsTheLogThreshold) {
  testing::ScopedTempDir dir;
  constexpr int kRows = 40000;
  std::string input;
  for (int i = 0; i < kRows; ++i) {
    const std::string ts = absl::StrCat("2025-0", 1 + i * 3 / kRows, "-", 10 + (i / 100) % 15, " 08:00:00");
    input += line(absl::StrCat("p", i), absl::StrCat("u", i % 90), "f", ts) + "\n";
  }
  ASSERT_GT(input.size(), 2 * kStoreChunkBytes);
  const std::string fifo = dir.file("pipe");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0) << std::strerror(errno);
  {
    auto store = open_for_bulk(dir);
    ASSERT_NE(store, nullptr);
    std::thread writer([&] {
      std::ofstream out(fifo, std::ios::binary);
      out << input;
    });
    auto report = store->ingest_file(fifo, {});
    writer.join();
    ASSERT_TRUE(report.ok()) << report.status();
    EXPECT_EQ(*report, (IngestReport{.successful_rows = kRows}));
    auto stats = store->stats();
    ASSERT_TRUE(stats.ok()) << stats.status();
    uint64_t parts = 0;
    for (const PartitionStats& p : stats->partitions) parts += p.parts;
    // Through the log alone, every part_rows rows would be a part (no
    // background thread merges them): ~312. The logged first chunk (~1/3)
    // makes ~100 of them, the bulk rest a handful.
    EXPECT_LT(parts, uint64_t{kRows / kTestPartRows / 2});
    EXPECT_GT(parts, 3u);
  }
  auto reopened = open_for_bulk(dir);
  ASSERT_NE(reopened, nullptr);
  EXPECT_EQ(total_events(*reopened), uint64_t{kRows});
}

// Two bulk ingests at once (run under TSan in CI); when both are done, the
// store's buffers are part_rows rows again: a write of part_rows + 1 events
// fills one buffer and starts another (the checkpoint its log triggers then
// seals the second: two parts, where a bulk buffer would make one).
TEST(BulkIngestTest, ConcurrentBulkIngestsRestoreTheBuffers) {
  testing::ScopedTempDir dir;
  auto store = open_for_bulk(dir);
  ASSERT_NE(store, nullptr);
  std::string paths[2];
  for (int f = 0; f < 2; ++f) {
    std::string input;
    for (int i = 0; i < 20000; ++i) {
      input += line(absl::StrCat("c", f, "_", i), absl::StrCat("u", i % 40), "f",
                    absl::StrCat("2025-0", 1 + i % 2, "-1", i % 9, " 10:00:00")) +
               "\n";
    }
    paths[f] = dir.file(absl::StrCat("bulk", f, ".ndjson"));
    write_file(paths[f], input);
  }
  absl::StatusOr<IngestReport> reports[2];
  std::thread other([&] { reports[1] = store->ingest_file(paths[1], {}); });
  reports[0] = store->ingest_file(paths[0], {});
  other.join();
  for (const auto& report : reports) {
    ASSERT_TRUE(report.ok()) << report.status();
    EXPECT_EQ(*report, (IngestReport{.successful_rows = 20000}));
  }
  EXPECT_EQ(total_events(*store), 40000u);

  std::vector<Event> events;
  std::vector<std::string> ids;
  for (size_t i = 0; i <= kTestPartRows; ++i) ids.push_back(absl::StrCat("after_", i));
  for (const std::string& id : ids) {
    events.push_back(Event{.event_id = id,
                           .user_id = "after",
                           .feature_id = "f",
                           .product_version = "1.0.0",
                           .event_type = "view",
                           .timestamp = Timestamp{std::chrono::seconds{1751328000}},  // 2025-07-01
                           .session_id = "s",
                           .metadata = ""});
  }
  auto written = store->record_events(events);
  ASSERT_TRUE(written.ok()) << written.status();
  auto stats = store->stats();
  ASSERT_TRUE(stats.ok()) << stats.status();
  ASSERT_EQ(stats->partitions.back().month, 202507u);
  EXPECT_EQ(stats->partitions.back().rows, kTestPartRows + 1);
  EXPECT_EQ(stats->partitions.back().parts, 2u);
}

TEST_P(IngestTest, DeduplicationCanBeTurnedOff) {
  auto store = open({.deduplicate = false});
  ASSERT_NE(store, nullptr);
  const std::string twice = line("evt_1", "u") + "\n" + line("evt_1", "u") + "\n";
  EXPECT_EQ(*store->ingest_ndjson(twice), (IngestReport{.successful_rows = 2}));
  EXPECT_EQ(*store->ingest_ndjson(twice), (IngestReport{.successful_rows = 2}));
  EXPECT_EQ(events_of(*store, "u"), 4u);
}

TEST_P(IngestTest, CsvWithQuoting) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  const std::string csv =
      "timestamp,user_id,extra,feature_id,product_version,event_type,event_id,metadata\r\n"  // any order
      "2025-05-11 10:23:03,alice,x,\"search,advanced\",1.0.0,view,e1,\"{\"\"device\"\":\"\"desktop\"\"}\"\r\n"
      "\r\n"
      "2025-05-11 10:24:00,\"bob \"\"the builder\"\"\",x,\"multi\nline\",1.0.0,click,e2,\n"  // lines 4-5
      "1746958983,  carol  ,x,plain,1.0.0,view,,\n"  // Unix seconds; unquoted values trimmed
      "2025-05-11 10:25:00,dave,x,f,1.0.0,view\n"    // line 7: 6 fields
      "2025-13-01 00:00:00,erin,x,f,1.0.0,view,e3,\n"  // line 8: bad timestamp
      "2025-05-11 10:26:00,frank,x,\"unterminated,1.0.0,view,e4,\n";  // line 9: open quote at the end
  auto report = store->ingest(csv, {.format = InputFormat::kCsv, .source = "upload.csv"});
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(*report, (IngestReport{.successful_rows = 3, .quarantined_rows = 3}));

  auto alice = store->user_feature_usage({.user_id = "alice"});
  ASSERT_TRUE(alice.ok());
  ASSERT_EQ(alice->rows.size(), 1u);
  EXPECT_EQ(alice->rows[0].feature_id, "search,advanced");
  auto bob = store->user_feature_usage({.user_id = "bob \"the builder\""});
  ASSERT_TRUE(bob.ok());
  ASSERT_EQ(bob->rows.size(), 1u);
  EXPECT_EQ(bob->rows[0].feature_id, "multi\nline");
  auto carol = store->user_feature_usage({.user_id = "carol"});
  ASSERT_TRUE(carol.ok());
  ASSERT_EQ(carol->rows.size(), 1u);
  EXPECT_EQ(carol->rows[0].first_usage, Timestamp{std::chrono::seconds{1746958983}});

  const std::vector<QuarantinedRow> q = quarantine_of(*store);
  ASSERT_EQ(q.size(), 3u);
  EXPECT_EQ(q[0].line, 7u);
  EXPECT_EQ(q[0].source, "upload.csv");
  EXPECT_EQ(q[0].raw, "2025-05-11 10:25:00,dave,x,f,1.0.0,view");
  EXPECT_EQ(q[0].error, "expected 8 fields, got 6");
  EXPECT_EQ(q[1].line, 8u);
  EXPECT_THAT(q[1].columns, ElementsAre("timestamp"));
  EXPECT_EQ(q[2].line, 9u);
  EXPECT_THAT(q[2].columns, IsEmpty());
  EXPECT_THAT(q[2].error, HasSubstr("malformed CSV"));
}

TEST_P(IngestTest, CsvHeaderWithoutARequiredColumnQuarantinesEveryRow) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  auto report = store->ingest("user_id,feature_id,product_version,timestamp\nu,f,1,2025-05-11 10:23:03\n"
                              "u,f,1,2025-05-11 10:23:04\n",
                              {.format = InputFormat::kCsv});
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(*report, (IngestReport{.quarantined_rows = 2}));  // the header is no record
  const std::vector<QuarantinedRow> q = quarantine_of(*store);
  ASSERT_EQ(q.size(), 2u);
  EXPECT_THAT(q[0].columns, ElementsAre("event_type"));
  EXPECT_THAT(q[0].error, HasSubstr("event_type: missing from the CSV header"));
  EXPECT_EQ(total_events(*store), 0u);
}

TEST_P(IngestTest, IngestFileOfAMissingFileOrADirectory) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  const std::string missing = dir_.file("no-such-file.ndjson");
  auto report = store->ingest_file(missing, {});
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(report.status().message()), HasSubstr(missing));

  auto directory = store->ingest_file(dir_.path(), {});
  ASSERT_FALSE(directory.ok());
  EXPECT_EQ(directory.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(directory.status().message()), HasSubstr("is a directory"));
  EXPECT_THAT(std::string(directory.status().message()), HasSubstr(dir_.path()));
  EXPECT_EQ(total_events(*store), 0u);
  EXPECT_THAT(quarantine_of(*store), IsEmpty());
}

TEST_P(IngestTest, IngestFileReportsProgressUpToTheFileSize) {
  // Sizes around the chunk the store reads at once: past one chunk, and
  // exactly one (the last read then returns nothing).
  for (const size_t size : {kStoreChunkBytes + 12345, kStoreChunkBytes}) {
    SCOPED_TRACE(size);
    testing::ScopedTempDir store_dir;
    auto store = open_in(store_dir.file("store"));
    ASSERT_NE(store, nullptr);
    std::string input;
    uint64_t n = 0;
    for (;;) {
      std::string l = line(absl::StrCat("evt_", n + 1), absl::StrCat("user_", (n + 1) % 1000)) + "\n";
      if (input.size() + l.size() > size) break;
      input += l;
      ++n;
    }
    input.append(size - input.size(), '\n');  // blank lines up to the exact size
    ASSERT_EQ(input.size(), size);
    const std::string path = dir_.file("events.ndjson");
    write_file(path, input);
    std::vector<std::pair<uint64_t, uint64_t>> calls;
    auto report = store->ingest_file(
        path, {.progress = [&](uint64_t done, uint64_t total) { calls.emplace_back(done, total); }});
    ASSERT_TRUE(report.ok()) << report.status();
    EXPECT_EQ(*report, (IngestReport{.successful_rows = n}));
    ASSERT_GE(calls.size(), (size + kStoreChunkBytes - 1) / kStoreChunkBytes);  // one per chunk at least
    if (size > kStoreChunkBytes) EXPECT_EQ(calls.front().first, kStoreChunkBytes);  // after the first chunk
    for (size_t i = 0; i < calls.size(); ++i) {
      EXPECT_EQ(calls[i].second, size) << i;
      if (i > 0) EXPECT_GE(calls[i].first, calls[i - 1].first) << "call " << i << " goes back";
    }
    EXPECT_EQ(calls.back().first, size);
  }
}

TEST_P(IngestTest, IngestFileOfCsv) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  const std::string path = dir_.file("events.csv");
  write_file(path, "\xEF\xBB\xBFuser_id,feature_id,product_version,event_type,timestamp\n"
                   "u1,f,1.0,view,2025-05-11 10:23:03\nu2,f,1.0,view,2025-05-11 10:23:03\nu3,f,1.0,view,never\n");
  auto report = store->ingest_file(path, {.format = InputFormat::kCsv});
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(*report, (IngestReport{.successful_rows = 2, .quarantined_rows = 1}));
  const std::vector<QuarantinedRow> q = quarantine_of(*store);
  ASSERT_EQ(q.size(), 1u);
  EXPECT_EQ(q[0].source, path);
  EXPECT_EQ(q[0].line, 4u);
}

TEST_P(IngestTest, ClearQuarantine) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->ingest_ndjson("a\nb\n" + line("e", "u")).ok());
  EXPECT_EQ(*store->clear_quarantine(), 2u);
  EXPECT_THAT(quarantine_of(*store), IsEmpty());
  EXPECT_EQ(*store->clear_quarantine(), 0u);
  ASSERT_TRUE(store->ingest_ndjson("c\n").ok());
  const std::vector<QuarantinedRow> q = quarantine_of(*store);
  ASSERT_EQ(q.size(), 1u);
  EXPECT_EQ(q[0].raw, "c");
  EXPECT_EQ(events_of(*store, "u"), 1u);  // clearing touches only the quarantine
}

INSTANTIATE_TEST_SUITE_P(Stores, IngestTest,
                         ::testing::Values(StoreKind::kInMemory, StoreKind::kDurable, StoreKind::kBulk),
                         [](const auto& info) { return std::string(store_kind_name(info.param)); });

// A durable store keeps ingested events, the dedup index and the quarantine
// (and its clearing) across a reopen.
TEST(IngestDurability, EventsDedupAndQuarantineSurviveReopen) {
  testing::ScopedTempDir dir;
  const Options options{.directory = dir.file("store")};
  {
    auto store = EventStore::open(options);
    ASSERT_TRUE(store.ok()) << store.status();
    const std::string path = dir.file("in.ndjson");
    write_file(path, line("evt_1", "u") + "\nbroken\n" + line("evt_2", "u") + "\n");
    auto report = (*store)->ingest_file(path, {});
    ASSERT_TRUE(report.ok()) << report.status();
    EXPECT_EQ(*report, (IngestReport{.successful_rows = 2, .quarantined_rows = 1}));
  }
  {
    auto store = EventStore::open(options);
    ASSERT_TRUE(store.ok()) << store.status();
    EXPECT_EQ(events_of(**store, "u"), 2u);
    const std::vector<QuarantinedRow> q = quarantine_of(**store);
    ASSERT_EQ(q.size(), 1u);
    EXPECT_EQ(q[0].raw, "broken");
    EXPECT_EQ(q[0].line, 2u);
    EXPECT_EQ(q[0].source, dir.file("in.ndjson"));
    EXPECT_EQ(*(*store)->ingest_ndjson(line("evt_1", "u")), (IngestReport{.duplicate_rows = 1}));
    EXPECT_EQ(*(*store)->clear_quarantine(), 1u);
  }
  {
    auto store = EventStore::open(options);
    ASSERT_TRUE(store.ok()) << store.status();
    EXPECT_THAT(quarantine_of(**store), IsEmpty());
    EXPECT_EQ(events_of(**store, "u"), 2u);
  }
}

// ---- The bulk path of ingest_file ---------------------------------------------

// Everything a store answers about `users`, and its quarantine (without the
// insertion times), as text: two stores with the same events and rejected
// rows give the same text.
std::string snapshot(const EventStore& store, const std::set<std::string>& users) {
  std::ostringstream out;
  auto summary = store.feature_usage_summary({});
  EXPECT_TRUE(summary.ok()) << summary.status();
  if (summary.ok()) {
    for (const FeatureUsageSummaryRow& r : summary->rows) {
      PrintTo(r, &out);
      out << "\n";
    }
  }
  for (const Granularity g : {Granularity::kDay, Granularity::kMonth}) {
    auto timeline = store.feature_usage_timeline({.granularity = g});
    EXPECT_TRUE(timeline.ok()) << timeline.status();
    if (timeline.ok()) {
      for (const FeatureUsageTimelineRow& r : timeline->rows) {
        PrintTo(r, &out);
        out << "\n";
      }
    }
  }
  for (const std::string& user : users) {
    auto usage = store.user_feature_usage({.user_id = user});
    EXPECT_TRUE(usage.ok()) << usage.status();
    if (usage.ok()) {
      for (const UserFeatureUsageRow& r : usage->rows) {
        PrintTo(r, &out);
        out << "\n";
      }
    }
  }
  for (const QuarantinedRow& r : quarantine_of(store)) {
    out << r.source << ":" << r.line << " [" << absl::StrJoin(r.columns, ",") << "] " << r.error << " | " << r.raw
        << "\n";
  }
  return out.str();
}

// A file of at least checkpoint_log_bytes skips the write-ahead log and is
// checkpointed into part files before ingest_file returns. It must store,
// skip and quarantine exactly what the logged path does, be durable the
// moment ingest_file returns (a copy of the files taken then opens with
// everything in it), keep its event_ids in the dedup index across a reopen,
// and interleave with logged writes before and after it without losing or
// replaying any of them twice (events without an event_id would show it).
TEST(IngestBulk, SameAnswersAsTheLoggedPathAndDurableWhenItReturns) {
  testing::ScopedTempDir dir;
  // 3000 generated events over 3 months, plus hand-made lines: quarantined
  // ones, a repeat of a generated id (a duplicate within the file), events
  // without an id (never duplicates), and ids also written before (a.ndjson)
  // and after (c.ndjson) it through the log.
  gen::Generator generator({.events = 3000, .seed = 11, .users = 40, .features = 6, .versions = 4, .months = 3});
  std::string bulk;
  std::set<std::string> users = {"anon", "before", "after"};
  std::string first_id, first_timestamp;
  while (const Event* e = generator.next()) {
    gen::Generator::append_ndjson(*e, &bulk);
    users.emplace(e->user_id);
    if (first_id.empty()) {
      first_id = std::string(e->event_id);
      first_timestamp = format_timestamp(e->timestamp);
    }
  }
  ASSERT_FALSE(first_id.empty());
  const std::string first_line = bulk.substr(0, bulk.find('\n'));
  absl::StrAppend(&bulk, "not json\n", first_line, "\n", line("", "anon", "f", "2025-02-01 00:00:00"), "\n",
                  line("", "anon", "f", "2025-02-01 00:00:00"), "\n", line("x1", "u", "f", "2025-02-30 00:00:00"),
                  "\n", line("shared_before", "bulk", "f", "2025-01-15 00:00:00"), "\n",
                  line("shared_after", "bulk", "f", "2025-01-16 00:00:00"), "\n");
  users.insert("bulk");
  const std::string before = line("shared_before", "before", "f", "2025-01-02 00:00:00") + "\n" +
                             line("", "before", "f", "2025-01-02 00:00:00") + "\nbad before\n";
  const std::string after = line("shared_after", "after", "f", "2025-01-31 00:00:00") + "\n" +
                            line("", "after", "f", "2025-03-01 00:00:00") + "\n" +
                            line(first_id, "after", "f", first_timestamp) + "\nbad after\n";
  write_file(dir.file("a.ndjson"), before);
  write_file(dir.file("b.ndjson"), bulk);
  write_file(dir.file("c.ndjson"), after);
  ASSERT_GE(bulk.size(), 100 * kBulkThreshold);
  ASSERT_LT(before.size(), kBulkThreshold);
  ASSERT_LT(after.size(), kBulkThreshold);

  struct Run {
    std::vector<IngestReport> reports;
    std::string answers;      // when the last ingest returned
    std::string crash_copy;   // of a copy of the files taken then
    std::string reopened;     // after closing and reopening the store
    uint64_t log_bytes_after_bulk = 0;
    uint64_t parts_after_bulk = 0;
  };
  auto run = [&](const std::string& name, size_t checkpoint_log_bytes) {
    Run r;
    // No background thread: nothing writes while the copy is taken.
    const Options options{.directory = dir.file(name), .checkpoint_log_bytes = checkpoint_log_bytes,
                          .background_threads = false};
    {
      auto store = EventStore::open(options);
      EXPECT_TRUE(store.ok()) << store.status();
      if (!store.ok()) return r;
      for (const char* file : {"a.ndjson", "b.ndjson", "c.ndjson"}) {
        auto report = (*store)->ingest_file(dir.file(file), {});
        EXPECT_TRUE(report.ok()) << report.status();
        r.reports.push_back(report.value_or(IngestReport{}));
        if (std::string_view(file) == "b.ndjson") {
          auto stats = (*store)->stats();
          EXPECT_TRUE(stats.ok()) << stats.status();
          if (stats.ok()) {
            r.log_bytes_after_bulk = stats->log_bytes;
            r.parts_after_bulk = stats->parts;
          }
        }
      }
      r.answers = snapshot(**store, users);
      copy_store(options.directory, dir.file(name + "-crash"));
    }
    {
      auto store = EventStore::open(options);
      EXPECT_TRUE(store.ok()) << store.status();
      if (!store.ok()) return r;
      r.reopened = snapshot(**store, users);
      // The dedup index knows every stored id after the reopen.
      auto again = (*store)->ingest_file(dir.file("b.ndjson"), {});
      EXPECT_TRUE(again.ok()) << again.status();
      EXPECT_EQ(*again, (IngestReport{.successful_rows = 2, .quarantined_rows = 2, .duplicate_rows = 3003}));
    }
    Options crashed = options;
    crashed.directory = dir.file(name + "-crash");
    auto store = EventStore::open(crashed);
    EXPECT_TRUE(store.ok()) << store.status();
    if (store.ok()) r.crash_copy = snapshot(**store, users);
    return r;
  };
  const Run logged = run("logged", 64 << 20);
  const Run bulk_run = run("bulk", kBulkThreshold);

  // The counts: 3000 generated + 7 hand-made lines; the generated stream may
  // itself repeat an id within a month, so count what the logged path saw.
  ASSERT_EQ(logged.reports.size(), 3u);
  EXPECT_EQ(logged.reports[0], (IngestReport{.successful_rows = 2, .quarantined_rows = 1}));
  const IngestReport b = logged.reports[1];
  EXPECT_EQ(b.successful_rows + b.quarantined_rows + b.duplicate_rows, 3007u);
  EXPECT_EQ(b.quarantined_rows, 2u);
  EXPECT_GE(b.duplicate_rows, 2u);  // the repeated first line and shared_before
  EXPECT_EQ(logged.reports[2], (IngestReport{.successful_rows = 1, .quarantined_rows = 1, .duplicate_rows = 2}));
  EXPECT_EQ(bulk_run.reports, logged.reports);

  EXPECT_FALSE(logged.answers.empty());
  EXPECT_EQ(bulk_run.answers, logged.answers);
  EXPECT_EQ(bulk_run.crash_copy, logged.answers);
  EXPECT_EQ(bulk_run.reopened, logged.answers);
  EXPECT_EQ(logged.crash_copy, logged.answers);
  EXPECT_EQ(logged.reopened, logged.answers);
  // The bulk file went to part files, not to the log.
  EXPECT_GT(bulk_run.parts_after_bulk, 0u);
  EXPECT_LT(bulk_run.log_bytes_after_bulk, kBulkThreshold);
  EXPECT_GT(logged.log_bytes_after_bulk, bulk.size() / 10);
}

// Every rollup a bulk ingest's checkpoints write leaves memory: the
// partition holds the rollup of its file instead (its sections read back on
// first use, as a reopened store's), from the checkpoint that wrote it on.
// Queries during and after the ingest answer what a store that never wrote
// a file answers, and so does the store reopened.
TEST(BulkIngestTest, WrittenRollupsAreReadBackFromTheirFiles) {
  testing::ScopedTempDir dir;
  constexpr int kPerMonth = 5700;
  constexpr int kMonths = 5;
  const std::string input = ordered_months("r", kMonths, kPerMonth, 50);
  const std::string path = dir.file("ordered.ndjson");
  write_file(path, input);
  std::set<std::string> users;
  for (int i = 0; i < 50; ++i) users.insert(absl::StrCat("u", i));
  auto memory = EventStore::open({.part_rows = kTestPartRows, .checkpoint_log_bytes = 4096});
  ASSERT_TRUE(memory.ok()) << memory.status();
  ASSERT_TRUE((*memory)->ingest_file(path, {}).ok());
  const std::string expected = snapshot(**memory, users);

  const Options options{.part_rows = kTestPartRows, .checkpoint_log_bytes = 4096, .background_threads = false};
  auto store = testing::open_durable(dir.file("store"), storage::FileSystem::posix(), options);
  ASSERT_TRUE(store.ok()) << store.status();
  // The months whose rollups are all read from files, after each chunk.
  std::vector<int> from_files;
  const auto rollups_from_files = [&] {
    int months = 0;
    const Snapshot view = (*store)->snapshot();
    for (const PartitionView& p : view.partitions()) {
      bool all = !p.rollups().empty();
      for (const CoveredRollup& e : p.rollups().entries()) all = all && e.rollup->origin() != 0;
      months += all ? 1 : 0;
    }
    return months;
  };
  const auto observe = [&](uint64_t, uint64_t) { from_files.push_back(rollups_from_files()); };
  auto report = (*store)->ingest_file(path, {.progress = observe});
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->successful_rows, uint64_t{kMonths * kPerMonth});
  // After chunk 2 (WritesTheMonthsItLeavesAndDropsThemFromMemory): January
  // to April written; at the end, every month.
  ASSERT_GE(from_files.size(), 3u);
  EXPECT_EQ(from_files[1], 4);
  EXPECT_EQ(rollups_from_files(), kMonths);
  EXPECT_EQ(snapshot(**store, users), expected);
  store->reset();
  auto reopened = EventStore::open({.directory = dir.file("store"), .part_rows = kTestPartRows});
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  EXPECT_EQ(snapshot(**reopened, users), expected);
}

// The files of `kind` ("part" or "rollup") each month of the store in `dir`
// has: one per MANIFEST entry once a checkpoint has deleted the rest.
std::map<std::string, int> files_by_month(const std::string& dir, std::string_view kind) {
  std::map<std::string, int> out;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (name.starts_with(absl::StrCat(text::absl_view(kind), "-"))) ++out[name.substr(kind.size() + 1, 6)];
  }
  return out;
}

// A bulk ingest of input ordered by time, whose months take several bulk
// buffers (a 30M- or 100M-event year), ends with one part and one rollup a
// month: the parts of a month the input has left merge into one before they
// are written (the months it is in, at the end). A month the input comes
// back to (late lines, after the last month) gets one more part, and answers
// stay what the logged path stores; after a reopen too. With the background
// threads (the merge thread merges and writes) and without (inline).
class BulkMonthPartsTest : public ::testing::TestWithParam<bool> {};

TEST_P(BulkMonthPartsTest, OnePartAndOneRollupAMonth) {
  const bool background = GetParam();
  testing::ScopedTempDir dir;
  constexpr int kMonths = 4;
  constexpr int kPerMonth = 2 * kTestBulkBufferRows + kTestBulkBufferRows / 2;  // three seals a month
  std::string input = ordered_months("o", kMonths, kPerMonth, 60);
  const std::string path = dir.file("ordered.ndjson");
  write_file(path, input);
  std::string late = input;
  for (int i = 0; i < 300; ++i) {
    late += line(absl::StrCat("late", i), absl::StrCat("u", i % 60), "g", "2025-02-20 09:00:00") + "\n";
  }
  late += line("o2_7", "dup", "g", "2025-02-20 09:00:00") + "\n";  // a duplicate of February's
  const std::string late_path = dir.file("late.ndjson");
  write_file(late_path, late);
  std::set<std::string> users = {"dup"};
  for (int i = 0; i < 60; ++i) users.insert(absl::StrCat("u", i));

  for (const std::string& file : {path, late_path}) {
    SCOPED_TRACE(file);
    auto logged = EventStore::open({.part_rows = kTestPartRows});
    ASSERT_TRUE(logged.ok()) << logged.status();
    auto expected_report = (*logged)->ingest(file == path ? input : late, {});
    ASSERT_TRUE(expected_report.ok()) << expected_report.status();
    const std::string expected = snapshot(**logged, users);

    const std::string store_dir = dir.file(absl::StrCat("store-", file == path ? "ordered" : "late"));
    const Options options{.directory = store_dir, .part_rows = kTestPartRows, .checkpoint_log_bytes = 4096,
                          .background_threads = background};
    auto store = EventStore::open(options);
    ASSERT_TRUE(store.ok()) << store.status();
    auto report = (*store)->ingest_file(file, {});
    ASSERT_TRUE(report.ok()) << report.status();
    EXPECT_EQ(*report, *expected_report);
    auto stats = (*store)->stats();
    ASSERT_TRUE(stats.ok()) << stats.status();
    ASSERT_EQ(stats->partitions.size(), size_t{kMonths});
    for (const PartitionStats& p : stats->partitions) {
      if (file == late_path && p.month == 202502) {
        // February was written before its late lines came (the merge
        // thread, when there is one, may still be writing it: then one).
        EXPECT_EQ(p.parts, background ? p.parts : 2u);
        EXPECT_GE(p.parts, 1u);
        EXPECT_LE(p.parts, 2u);
      } else {
        EXPECT_EQ(p.parts, 1u) << p.month;
      }
      EXPECT_EQ(p.unsealed_rows, 0u) << p.month;
    }
    const std::map<std::string, int> rollup_files = files_by_month(store_dir, "rollup");
    EXPECT_EQ(files_by_month(store_dir, "part"), rollup_files);
    for (const PartitionStats& p : stats->partitions) {
      const auto it = rollup_files.find(absl::StrCat(p.month));
      EXPECT_EQ(it == rollup_files.end() ? 0u : static_cast<uint64_t>(it->second), p.parts) << p.month;
    }
    EXPECT_EQ(snapshot(**store, users), expected);
    store->reset();
    auto reopened = EventStore::open(options);
    ASSERT_TRUE(reopened.ok()) << reopened.status();
    EXPECT_EQ(snapshot(**reopened, users), expected);
  }
}

INSTANTIATE_TEST_SUITE_P(BackgroundThreads, BulkMonthPartsTest, ::testing::Bool());

// Input in no order leaves no month: once the months' unwritten parts hold
// EventStoreImpl::kBulkCheckpointRowsAnyway bulk buffers, a checkpoint
// merges each month's into one and writes them all. The ingest ends with
// one part a month per such write, and answers what the logged path stores.
TEST(BulkIngestTest, InputInNoOrderWritesEveryMonthOnceItHoldsEnough) {
  testing::ScopedTempDir dir;
  constexpr size_t kPartRows = 32;  // bulk buffers of 2048 rows: written every ~24.6k rows
  constexpr int kRows = 40000;
  std::string input;
  std::set<std::string> users;
  for (int i = 0; i < kRows; ++i) {  // months round robin
    const std::string ts = absl::StrCat("2025-0", 1 + i % 4, "-", 10 + i % 15, " 08:00:00");
    input += line(absl::StrCat("n", i), absl::StrCat("u", i % 70), "f", ts) + "\n";
    users.insert(absl::StrCat("u", i % 70));
  }
  const std::string path = dir.file("unordered.ndjson");
  write_file(path, input);
  auto logged = EventStore::open({.part_rows = kPartRows});
  ASSERT_TRUE(logged.ok()) << logged.status();
  ASSERT_TRUE((*logged)->ingest(input, {}).ok());
  const std::string expected = snapshot(**logged, users);

  const Options options{.directory = dir.file("store"), .part_rows = kPartRows, .checkpoint_log_bytes = 4096,
                        .background_threads = false};
  auto store = EventStore::open(options);
  ASSERT_TRUE(store.ok()) << store.status();
  uint64_t most_on_disk = 0;  // bytes of part files while it runs
  auto report = (*store)->ingest_file(path, {.progress = [&](uint64_t, uint64_t) {
    auto stats = (*store)->stats();
    ASSERT_TRUE(stats.ok()) << stats.status();
    uint64_t on_disk = 0;
    for (const PartitionStats& p : stats->partitions) on_disk += p.bytes_on_disk;
    most_on_disk = std::max(most_on_disk, on_disk);
  }});
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(*report, (IngestReport{.successful_rows = kRows}));
  EXPECT_GT(most_on_disk, 0u);
  auto stats = (*store)->stats();
  ASSERT_TRUE(stats.ok()) << stats.status();
  ASSERT_EQ(stats->partitions.size(), 4u);
  for (const PartitionStats& p : stats->partitions) EXPECT_EQ(p.parts, 2u) << p.month;
  EXPECT_EQ(snapshot(**store, users), expected);
}

// generate (lib/gen) -> NDJSON -> ingest -> query agrees with the Reference
// fed the same events, on many random queries over the generated values.
TEST(IngestRoundTrip, GeneratedNdjsonAgreesWithTheReference) {
  gen::GeneratorOptions gen_options{.events = 5'000, .seed = 7, .users = 150, .features = 12, .versions = 6,
                                    .months = 3};
  gen::Generator generator(gen_options);
  testing::Reference reference;
  std::string ndjson;
  std::set<std::string> users, features, versions, types;
  Timestamp first = kMaxTimestamp, last = kMinTimestamp;
  while (const Event* e = generator.next()) {
    gen::Generator::append_ndjson(*e, &ndjson);
    reference.record(*e);
    users.emplace(e->user_id);
    features.emplace(e->feature_id);
    versions.emplace(e->product_version);
    types.emplace(e->event_type);
    first = std::min(first, e->timestamp);
    last = std::max(last, e->timestamp);
  }
  auto opened = EventStore::open({.part_rows = 4096});
  ASSERT_TRUE(opened.ok()) << opened.status();
  auto& store = *opened;
  auto report = store->ingest_ndjson(ndjson);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->quarantined_rows, 0u);
  EXPECT_EQ(report->successful_rows, reference.events().size());
  EXPECT_EQ(report->successful_rows + report->duplicate_rows, gen_options.events);
  // Ingesting it all again stores nothing new (every generated id is set).
  auto again = store->ingest_ndjson(ndjson);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->duplicate_rows, gen_options.events);

  const std::vector<std::string> user_pool(users.begin(), users.end());
  const std::vector<std::string> feature_pool(features.begin(), features.end());
  const std::vector<std::string> version_pool(versions.begin(), versions.end());
  const std::vector<std::string> type_pool(types.begin(), types.end());
  gen::Random random(99);
  auto pick = [&](const std::vector<std::string>& pool, double p) -> std::optional<std::string> {
    if (!random.chance(p)) return std::nullopt;
    return pool[random.uniform(pool.size())];
  };
  auto date = [&](double p) -> std::optional<Timestamp> {
    if (!random.chance(p)) return std::nullopt;
    return Timestamp{std::chrono::seconds{random.range(first.time_since_epoch().count() - 86400,
                                                       last.time_since_epoch().count() + 86400)}};
  };
  auto page = [&](std::optional<uint64_t>* limit, std::optional<uint64_t>* skip) {
    if (random.chance(0.3)) *limit = random.uniform(20);
    if (random.chance(0.2)) *skip = random.uniform(10);
  };
  int non_empty = 0;
  for (int i = 0; i < 80; ++i) {
    SCOPED_TRACE(i);
    UserFeatureUsageQuery uq{.user_id = pick(user_pool, 0.95), .feature_id = pick(feature_pool, 0.3),
                             .product_version = pick(version_pool, 0.2)};
    page(&uq.limit, &uq.skip);
    auto u = store->user_feature_usage(uq);
    ASSERT_TRUE(u.ok()) << u.status();
    const auto want_u = reference.user_feature_usage(uq);
    ASSERT_EQ(u->rows, want_u.rows);
    ASSERT_EQ(u->rows_before_limit, want_u.rows_before_limit);
    non_empty += !want_u.rows.empty();

    FeatureUsageSummaryQuery sq{.feature_id = pick(feature_pool, 0.4), .product_version = pick(version_pool, 0.3),
                                .event_type = pick(type_pool, 0.3), .start_date = date(0.4), .end_date = date(0.4)};
    if (sq.start_date && sq.end_date && *sq.end_date < *sq.start_date) std::swap(sq.start_date, sq.end_date);
    page(&sq.limit, &sq.skip);
    auto s = store->feature_usage_summary(sq);
    ASSERT_TRUE(s.ok()) << s.status();
    const auto want_s = reference.feature_usage_summary(sq);
    ASSERT_EQ(s->rows, want_s.rows);
    ASSERT_EQ(s->rows_before_limit, want_s.rows_before_limit);
    non_empty += !want_s.rows.empty();

    const Granularity granularities[] = {Granularity::kHour, Granularity::kDay, Granularity::kWeek,
                                         Granularity::kMonth};
    FeatureUsageTimelineQuery tq{.granularity = granularities[random.uniform(4)],
                                 .feature_id = pick(feature_pool, 0.5), .product_version = pick(version_pool, 0.2),
                                 .event_type = pick(type_pool, 0.2), .start_date = date(0.3), .end_date = date(0.3)};
    if (tq.start_date && tq.end_date && *tq.end_date < *tq.start_date) std::swap(tq.start_date, tq.end_date);
    page(&tq.limit, &tq.skip);
    auto t = store->feature_usage_timeline(tq);
    ASSERT_TRUE(t.ok()) << t.status();
    const auto want_t = reference.feature_usage_timeline(tq);
    ASSERT_EQ(t->rows, want_t.rows);
    ASSERT_EQ(t->rows_before_limit, want_t.rows_before_limit);
    non_empty += !want_t.rows.empty();
  }
  EXPECT_GT(non_empty, 120);  // the queries hit data
}

}  // namespace
}  // namespace usagedb
