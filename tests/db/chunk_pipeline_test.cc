// The file ingest's pipeline (lib/db/chunk_pipeline.h): whatever the chunk
// size and however many parser threads, the chunks it hands out in order
// hold exactly what one reader makes of the whole input, with the dictionary
// codes and hashes of their events.
#include "lib/db/chunk_pipeline.h"

#include <stdio.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/table/append_buffer.h"
#include "lib/gen/random.h"
#include "lib/table/dedup_index.h"
#include "tests/ingest/ndjson_testing.h"
#include "tests/ingest/reader_testing.h"
#include "tests/testutil/temp_dir.h"

namespace usagedb {
namespace {

using reader_testing::cat;
using reader_testing::event_line;
using reader_testing::OwnedEvent;
using reader_testing::Parsed;

// `text` as a FILE (closed with the object).
struct MemoryFile {
  explicit MemoryFile(std::string_view text) : bytes(text) {
    // fmemopen() of zero bytes fails: an empty input is an empty temporary file.
    file.reset(bytes.empty() ? std::tmpfile() : fmemopen(bytes.data(), bytes.size(), "rb"));
  }
  std::string bytes;
  std::unique_ptr<FILE, int (*)(FILE*)> file{nullptr, &std::fclose};
};

// Everything the producer hands out, in order, with each event's codes and
// hashes checked against the dictionaries and the hash functions.
struct Pipelined {
  Parsed parsed;
  size_t chunks = 0;
  uint64_t last_bytes_read = 0;
};

Pipelined run_pipeline(std::string_view text, InputFormat format, size_t chunk_bytes) {
  MemoryFile input(text);
  EXPECT_NE(input.file, nullptr);
  Dictionaries dictionaries;
  Pipelined out;
  ChunkProducer producer(input.file.get(), format, &dictionaries, chunk_bytes);
  for (;;) {
    absl::StatusOr<std::unique_ptr<Chunk>> chunk = producer.next();
    EXPECT_TRUE(chunk.ok()) << chunk.status();
    if (!chunk.ok() || *chunk == nullptr) break;
    const Chunk& c = **chunk;
    EXPECT_TRUE(c.error.ok()) << c.error;
    EXPECT_GE(c.bytes_read, out.last_bytes_read);
    out.last_bytes_read = c.bytes_read;
    ++out.chunks;
    for (size_t p = 0; p < c.used; ++p) {
      const Piece& piece = *c.pieces[p];
      const ParsedBatch& batch = piece.batch;
      EXPECT_EQ(piece.codes.size(), batch.events.size());
      for (size_t i = 0; i < batch.events.size(); ++i) {
        const Event& e = batch.events[i];
        const RowCodes& codes = piece.codes[i];
        EXPECT_EQ(dictionaries.user.lookup(codes.user), e.user_id);
        EXPECT_EQ(dictionaries.feature.lookup(codes.feature), e.feature_id);
        EXPECT_EQ(dictionaries.version.lookup(codes.version), e.product_version);
        EXPECT_EQ(dictionaries.event_type.lookup(codes.event_type), e.event_type);
        EXPECT_EQ(dictionaries.session.lookup(codes.session), e.session_id);
        EXPECT_EQ(codes.timestamp, e.timestamp.time_since_epoch().count());
        EXPECT_EQ(piece.id_hashes[i], DedupIndex::hash(e.event_id));
        EXPECT_EQ(piece.metadata_hashes[i], AppendBuffer::metadata_hash(e.metadata));
        out.parsed.events.push_back(OwnedEvent{
            std::string(e.event_id), std::string(e.user_id), std::string(e.feature_id), std::string(e.product_version),
            std::string(e.event_type), e.timestamp.time_since_epoch().count(), std::string(e.session_id),
            std::string(e.metadata), batch.event_lines[i]});
      }
      for (const RejectedRow& r : batch.rejected) out.parsed.rejected.push_back(r);
      out.parsed.records += batch.records;
    }
    producer.recycle(std::move(*chunk));
  }
  return out;
}

void expect_same(const Parsed& got, const Parsed& want) {
  EXPECT_EQ(got.records, want.records);
  EXPECT_EQ(got.events, want.events);
  ASSERT_EQ(got.rejected.size(), want.rejected.size());
  for (size_t i = 0; i < want.rejected.size(); ++i) {
    EXPECT_EQ(got.rejected[i].line, want.rejected[i].line) << i;
    EXPECT_EQ(got.rejected[i].raw, want.rejected[i].raw) << i;
    EXPECT_EQ(got.rejected[i].columns, want.rejected[i].columns) << i;
    EXPECT_EQ(got.rejected[i].error, want.rejected[i].error) << i;
  }
}

// NDJSON of every kind a chunk may cut: plain lines, escapes the reader
// decodes and keeps, broken lines, blank lines, CRLF, a line longer than the
// small chunks, and no '\n' after the last line.
std::string mixed_ndjson(int lines) {
  std::string text;
  for (int i = 0; i < lines; ++i) {
    const std::string id = cat("\"e", std::to_string(i % 97), "\"");  // repeats: duplicates are the store's
    const std::string user = cat("\"u", std::to_string(i % 13), "\"");
    const std::string feature = cat("\"f", std::to_string(i % 5), "\"");
    switch (i % 11) {
      case 3:
        text += "[1, 2]\n";
        break;
      case 5:
        text += "\r\n";
        break;
      case 7:
        text += event_line({{"user_id", "7"}}) + "\n";
        break;
      case 8:
        text += event_line({{"event_id", id}, {"metadata", R"("{\"k\": \"v\"}")"}}) + "\r\n";
        break;
      case 9:
        text += event_line({{"event_id", id}, {"metadata", cat("\"", std::string(3000, 'x'), "\"")}}) + "\n";
        break;
      default:
        text += event_line({{"event_id", id}, {"user_id", user}, {"feature_id", feature}}) + "\n";
    }
  }
  return text + event_line({{"event_id", "\"last\""}});
}

TEST(ChunkPipeline, NdjsonChunksHoldWhatOneReaderMakesOfTheInput) {
  const std::string text = mixed_ndjson(400);
  const Parsed whole = reader_testing::parse_ndjson(text);
  ASSERT_GT(whole.events.size(), 250u);
  ASSERT_GT(whole.rejected.size(), 60u);
  for (const size_t chunk_bytes : {size_t{64}, size_t{1000}, size_t{4096}, ChunkProducer::kChunkBytes}) {
    SCOPED_TRACE(chunk_bytes);
    const Pipelined got = run_pipeline(text, InputFormat::kNdjson, chunk_bytes);
    expect_same(got.parsed, whole);
    EXPECT_EQ(got.last_bytes_read, text.size());
    if (chunk_bytes < 4096) {
      EXPECT_GT(got.chunks, 10u);
    }
  }
}

TEST(ChunkPipeline, CsvChunksHoldWhatOneReaderMakesOfTheInput) {
  std::string text = "event_id,user_id,feature_id,product_version,event_type,timestamp,session_id,metadata\n";
  for (int i = 0; i < 300; ++i) {
    switch (i % 7) {
      case 2:
        text += cat("e", std::to_string(i), ",u1,f1,1.0.0,view,not a time,s1,m\n");
        break;
      case 4:
        text += cat("e", std::to_string(i), ",u2,f2,2.0.0,click,2025-05-11 10:23:03,s2,\"a \"\"quoted\"\"\nvalue\"\n");
        break;
      default:
        text += cat("e", std::to_string(i), ",u", std::to_string(i % 9), ",f1,1.0.0,view,2025-05-11 10:23:03,,\n");
    }
  }
  auto reader = make_csv_reader();
  const Parsed whole = reader_testing::parse_whole(*reader, text);
  ASSERT_EQ(whole.records, 300u);
  ASSERT_GT(whole.rejected.size(), 40u);
  for (const size_t chunk_bytes : {size_t{64}, size_t{4096}}) {
    SCOPED_TRACE(chunk_bytes);
    const Pipelined got = run_pipeline(text, InputFormat::kCsv, chunk_bytes);
    expect_same(got.parsed, whole);
    EXPECT_EQ(got.last_bytes_read, text.size());
  }
}

TEST(ChunkPipeline, AnEmptyInputHasNoRecords) {
  for (const InputFormat format : {InputFormat::kNdjson, InputFormat::kCsv}) {
    const Pipelined got = run_pipeline("", format, 64);
    EXPECT_LE(got.chunks, 1u);  // the one chunk that finds the end, if any
    EXPECT_EQ(got.parsed.records, 0u);
  }
}

TEST(ChunkPipeline, StoppingBeforeTheEndJoinsTheParserThreads) {
  // The parser threads are blocked, kAhead chunks ahead of the consumer,
  // or still reading: destroying the producer stops them all.
  const std::string text = mixed_ndjson(2000);
  for (const int taken : {0, 1, 5}) {
    MemoryFile input(text);
    Dictionaries dictionaries;
    ChunkProducer producer(input.file.get(), InputFormat::kNdjson, &dictionaries, 256);
    for (int i = 0; i < taken; ++i) {
      absl::StatusOr<std::unique_ptr<Chunk>> chunk = producer.next();
      ASSERT_TRUE(chunk.ok() && *chunk != nullptr);
    }
  }
}

// encode_rows() with a memo against encode_rows() without, on twin dictionaries: the
// same codes, call after call with one memo, for small-dictionary strings
// of every kind: more distinct ones than the memo has slots (so they evict
// each other), longer than it holds, empty, with NUL bytes, and ones that
// differ only by a trailing NUL byte.
TEST(EncodeRowsMemoized, SameCodesAsEncodeRows) {
  gen::Random random(21);
  std::vector<std::string> small;
  for (int i = 0; i < 400; ++i) small.push_back(cat("feature_", std::to_string(i)));
  for (int i = 0; i < 20; ++i) small.push_back(cat("a_string_longer_than_sixteen_", std::to_string(i)));
  small.push_back("");
  small.push_back(std::string("a", 1));
  small.push_back(std::string("a\0", 2));
  small.push_back(std::string("0123456789abcdef", 16));
  small.push_back(std::string("0123456789abcde\0", 16));
  small.push_back(std::string("\0\0\0", 3));
  Dictionaries memoized, plain;
  SmallDictionaryCodes memo;
  for (int call = 0; call < 60; ++call) {
    const size_t n = 1 + random.uniform(700);
    std::vector<Event> events(n);
    std::vector<std::string> owned(5 * n);
    for (size_t i = 0; i < n; ++i) {
      // Some calls stay within a few strings (as the generated files do).
      const size_t pool = call % 3 == 0 ? 8 : small.size();
      owned[5 * i] = small[random.uniform(pool)];
      owned[5 * i + 1] = small[random.uniform(pool)];
      owned[5 * i + 2] = small[random.uniform(pool)];
      owned[5 * i + 3] = cat("user_", std::to_string(random.uniform(3000)));
      owned[5 * i + 4] = cat("session_", std::to_string(random.uniform(20000)));
    }
    for (size_t i = 0; i < n; ++i) {
      events[i].feature_id = owned[5 * i];
      events[i].product_version = owned[5 * i + 1];
      events[i].event_type = owned[5 * i + 2];
      events[i].user_id = owned[5 * i + 3];
      events[i].session_id = owned[5 * i + 4];
      events[i].timestamp = Timestamp(std::chrono::seconds(1735689600 + random.uniform(86400)));
    }
    std::vector<const Event*> pointers;
    for (const Event& e : events) pointers.push_back(&e);
    std::vector<RowCodes> got(n), want(n);
    ASSERT_TRUE(encode_rows(memoized, pointers, got.data(), &memo).ok());
    ASSERT_TRUE(encode_rows(plain, pointers, want.data()).ok());
    for (size_t i = 0; i < n; ++i) {
      ASSERT_EQ(got[i].feature, want[i].feature) << call << " " << i;
      ASSERT_EQ(got[i].version, want[i].version) << call << " " << i;
      ASSERT_EQ(got[i].event_type, want[i].event_type) << call << " " << i;
      ASSERT_EQ(got[i].user, want[i].user) << call << " " << i;
      ASSERT_EQ(got[i].session, want[i].session) << call << " " << i;
      ASSERT_EQ(got[i].timestamp, want[i].timestamp) << call << " " << i;
      ASSERT_EQ(memoized.feature.lookup(got[i].feature), events[i].feature_id);
    }
  }
  for (DictionaryColumn c : {DictionaryColumn::kUser, DictionaryColumn::kFeature, DictionaryColumn::kVersion,
                             DictionaryColumn::kEventType, DictionaryColumn::kSession}) {
    EXPECT_EQ(memoized.get(c).size(), plain.get(c).size());
  }
}

// A damaged dictionary (a session string restored twice) fails the
// memoized encoding with encode_rows()'s DataLossError, the first call
// (which fills the memo) and the next (whose small dictionaries' strings
// are all in the memo) alike.
TEST(EncodeRowsMemoized, ADamagedDictionaryFailsAsEncodeRowsDoes) {
  Event e;
  e.feature_id = "f";
  e.product_version = "1.0";
  e.event_type = "click";
  e.user_id = "u";
  e.session_id = "s";
  const Event* pointers[] = {&e};
  const auto damaged = [](Dictionaries& d) {
    ASSERT_TRUE(d.session.restore("s2", false));
    ASSERT_TRUE(d.session.restore("s2", false));  // lazily indexed: found at the first write
  };
  Dictionaries plain, memoized;
  damaged(plain);
  damaged(memoized);
  RowCodes row;
  const absl::Status want = encode_rows(plain, pointers, &row);
  EXPECT_EQ(want.code(), absl::StatusCode::kDataLoss);
  SmallDictionaryCodes memo;
  EXPECT_EQ(encode_rows(memoized, pointers, &row, &memo), want);
  uint32_t code = 0;
  EXPECT_TRUE(memo.feature.find("f", &code));  // interned before the session failed
  EXPECT_EQ(encode_rows(memoized, pointers, &row, &memo), want);
}

TEST(ChunkPipeline, AReadErrorIsReturnedOnceThenTheInputEnds) {
  testing::ScopedTempDir dir;
  // fread() of a directory fails (EISDIR).
  std::unique_ptr<FILE, int (*)(FILE*)> file(std::fopen(dir.path().c_str(), "rb"), &std::fclose);
  ASSERT_NE(file, nullptr);
  Dictionaries dictionaries;
  ChunkProducer producer(file.get(), InputFormat::kNdjson, &dictionaries, 64);
  absl::StatusOr<std::unique_ptr<Chunk>> chunk = producer.next();
  EXPECT_EQ(chunk.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(chunk.status().message()), ::testing::HasSubstr("read failed: "));
  chunk = producer.next();
  ASSERT_TRUE(chunk.ok()) << chunk.status();
  EXPECT_EQ(*chunk, nullptr);
}

}  // namespace
}  // namespace usagedb
