#include "lib/storage/dictionary_file.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "lib/storage/framed_file.h"
#include "lib/util/coding.h"

namespace usagedb::storage {
namespace {

TEST(DictionaryFile, SegmentsRoundTripIntoAFreshDictionary) {
  Dictionary d;
  for (int i = 0; i < 1000; ++i) d.intern(absl::StrCat("user_", i));
  d.intern("");
  d.intern(std::string("with\0nul", 8));
  d.erase(3);
  // Two segments, as two checkpoints would write them.
  const std::string first = encode_dictionary_segment(Column::kUser, d, 0, 600);
  const std::string second = encode_dictionary_segment(Column::kUser, d, 600, d.size() - 600);
  Dictionary restored;
  for (const std::string* bytes : {&first, &second}) {
    auto segment = decode_dictionary_segment(*bytes, "dict");
    ASSERT_TRUE(segment.ok()) << segment.status();
    EXPECT_EQ(segment->column, Column::kUser);
    EXPECT_EQ(segment->first_code, restored.size());
    for (size_t i = 0; i < segment->strings.size(); ++i) {
      ASSERT_TRUE(restored.restore(segment->strings[i], segment->erased[i]));
    }
  }
  ASSERT_EQ(restored.size(), d.size());
  for (uint32_t code = 0; code < d.size(); ++code) {
    EXPECT_EQ(restored.lookup(code), d.lookup(code));
    EXPECT_EQ(restored.erased(code), d.erased(code));
  }
  EXPECT_EQ(restored.find("user_3"), std::nullopt);  // erased stays erased
  EXPECT_EQ(restored.find("user_4"), 4u);
  EXPECT_EQ(restored.intern("user_3"), d.size());  // and gets a new code when it comes back
}

// The segment is written in pieces of about a MiB (the session dictionary's
// is ~43 MB at 10M events): together they are exactly the framed body built
// by hand, and an error of the writer stops the segment there.
TEST(DictionaryFile, SegmentIsWrittenInPiecesThatFrameTheWholeBody) {
  Dictionary d;
  for (int i = 0; i < 100'000; ++i) d.intern(std::string(i % 60, static_cast<char>('a' + i % 26)) + std::to_string(i));
  d.erase(7);
  constexpr uint32_t kFirst = 5;
  const uint32_t count = d.size() - 10;
  std::vector<std::string> pieces;
  absl::StatusOr<uint64_t> written =
      write_dictionary_segment(Column::kSession, d, kFirst, count, [&](std::string_view piece) {
        pieces.emplace_back(piece);
        return absl::OkStatus();
      });
  ASSERT_TRUE(written.ok()) << written.status();
  ASSERT_GE(pieces.size(), 3u);
  std::string bytes;
  for (const std::string& piece : pieces) {
    EXPECT_LE(piece.size(), FrameWriter::kPieceBytes + 100);
    bytes += piece;
  }
  EXPECT_EQ(*written, bytes.size());
  EXPECT_EQ(bytes, encode_dictionary_segment(Column::kSession, d, kFirst, count));
  std::string body;
  body.push_back(static_cast<char>(Column::kSession));
  coding::put_varint64(&body, kFirst);
  coding::put_varint64(&body, count);
  for (uint32_t code = kFirst; code < kFirst + count; ++code) {
    const std::string_view s = d.erased(code) ? std::string_view() : d.lookup(code);
    coding::put_varint64(&body, (uint64_t{s.size()} << 1) | (d.erased(code) ? 1 : 0));
    body.append(s);
  }
  const std::string magic = bytes.substr(0, 8);
  EXPECT_EQ(bytes, frame_file(magic, coding::decode_fixed32(bytes.data() + 8), body));

  int calls = 0;
  const absl::StatusOr<uint64_t> failed = write_dictionary_segment(
      Column::kSession, d, kFirst, count,
      [&](std::string_view) { return ++calls == 2 ? absl::UnavailableError("disk full") : absl::OkStatus(); });
  EXPECT_EQ(failed.status(), absl::UnavailableError("disk full"));
  EXPECT_EQ(calls, 2);
}

TEST(DictionaryFile, RestoreRejectsADuplicateLiveString) {
  Dictionary d;
  ASSERT_TRUE(d.restore("a", false));
  ASSERT_TRUE(d.restore("", true));
  EXPECT_FALSE(d.restore("a", false));
  EXPECT_EQ(d.size(), 2u);
}

TEST(DictionaryFile, CorruptionIsDataLoss) {
  Dictionary d;
  for (int i = 0; i < 50; ++i) d.intern(absl::StrCat("f", i));
  const std::string bytes = encode_dictionary_segment(Column::kFeature, d, 0, d.size());
  for (size_t i = 0; i < bytes.size(); ++i) {
    std::string bad = bytes;
    bad[i] ^= 1;
    ASSERT_EQ(decode_dictionary_segment(bad, "d").status().code(), absl::StatusCode::kDataLoss) << i;
  }
  for (size_t n = 0; n < bytes.size(); n += 7) {
    ASSERT_EQ(decode_dictionary_segment(bytes.substr(0, n), "d").status().code(), absl::StatusCode::kDataLoss);
  }
}

}  // namespace
}  // namespace usagedb::storage
