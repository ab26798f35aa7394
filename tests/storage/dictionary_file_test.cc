#include "lib/storage/dictionary_file.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
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
  const std::string first = encode_dictionary_segment(DictionaryColumn::kUser, d, 0, 600);
  const std::string second = encode_dictionary_segment(DictionaryColumn::kUser, d, 600, d.size() - 600);
  Dictionary restored;
  for (const std::string* bytes : {&first, &second}) {
    auto segment = decode_dictionary_segment(*bytes, "dict");
    ASSERT_TRUE(segment.ok()) << segment.status();
    EXPECT_EQ(segment->column, DictionaryColumn::kUser);
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
      write_dictionary_segment(DictionaryColumn::kSession, d, kFirst, count, [&](std::string_view piece) {
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
  EXPECT_EQ(bytes, encode_dictionary_segment(DictionaryColumn::kSession, d, kFirst, count));
  std::string body;
  body.push_back(static_cast<char>(DictionaryColumn::kSession));
  coding::put_varint64(&body, kFirst);
  coding::put_varint64(&body, count);
  // Version 2: each string after the prefix it shares with the one before.
  std::string_view previous;
  for (uint32_t code = kFirst; code < kFirst + count; ++code) {
    const std::string_view s = d.erased(code) ? std::string_view() : d.lookup(code);
    size_t shared = 0;
    while (shared < s.size() && shared < previous.size() && s[shared] == previous[shared]) ++shared;
    coding::put_varint64(&body, shared);
    coding::put_varint64(&body, (uint64_t{s.size() - shared} << 1) | (d.erased(code) ? 1 : 0));
    body.append(s.substr(shared));
    previous = s;
  }
  const std::string magic = bytes.substr(0, 8);
  EXPECT_EQ(coding::decode_fixed32(bytes.data() + 8), 2u);
  EXPECT_EQ(bytes, frame_file(magic, 2, body));

  int calls = 0;
  const absl::StatusOr<uint64_t> failed = write_dictionary_segment(
      DictionaryColumn::kSession, d, kFirst, count,
      [&](std::string_view) { return ++calls == 2 ? absl::UnavailableError("disk full") : absl::OkStatus(); });
  EXPECT_EQ(failed.status(), absl::UnavailableError("disk full"));
  EXPECT_EQ(calls, 2);
}

// Strings assigned in arrival order share long prefixes: version 2 stores
// each after the bytes it shares with the one before, and rebuilds them.
TEST(DictionaryFile, SharedPrefixesAreStoredOnce) {
  Dictionary d;
  for (int i = 0; i < 10'000; ++i) d.intern(absl::StrCat("session_", 1'000'000 + i));
  d.intern("session_");  // all of it shared
  d.intern("s");         // shorter than the one before
  d.intern("");
  d.intern("zzz");                                           // nothing shared
  d.intern(absl::StrCat("session_", std::string(40, 'x')));  // longer than an entry holds inline
  d.erase(5);
  d.erase(10'000);  // "session_": the next string shares nothing with an erased one
  const std::string bytes = encode_dictionary_segment(DictionaryColumn::kSession, d, 0, d.size());
  size_t raw = 0;
  for (uint32_t code = 0; code < d.size(); ++code) raw += d.lookup(code).size() + 1;
  EXPECT_LT(bytes.size(), raw / 3);
  auto segment = decode_dictionary_segment(bytes, "dict");
  ASSERT_TRUE(segment.ok()) << segment.status();
  ASSERT_NE(segment->storage, nullptr);
  ASSERT_EQ(segment->strings.size(), d.size());
  for (uint32_t code = 0; code < d.size(); ++code) {
    EXPECT_EQ(segment->erased[code], d.erased(code)) << code;
    if (!d.erased(code)) EXPECT_EQ(segment->strings[code], d.lookup(code)) << code;
  }
  // The dictionary adopts the rebuilt strings.
  Dictionary restored;
  ASSERT_EQ(restored.restore_many(segment->strings, segment->erased, std::move(segment->storage)), -1);
  EXPECT_EQ(restored.lookup(d.size() - 1), d.lookup(d.size() - 1));
  EXPECT_EQ(restored.lookup(7), "session_1000007");
}

// Stores written before front coding hold version 1 segments: they still open.
TEST(DictionaryFile, Version1SegmentsStillDecode) {
  std::string body;
  body.push_back(static_cast<char>(DictionaryColumn::kUser));
  coding::put_varint64(&body, 3);  // first code
  coding::put_varint64(&body, 3);  // count
  for (const auto& [s, erased] : {std::pair<std::string_view, bool>{"user_1", false}, {"", true}, {"user_2", false}}) {
    coding::put_varint64(&body, (uint64_t{s.size()} << 1) | (erased ? 1 : 0));
    body.append(s);
  }
  const std::string bytes = frame_file("UDBDICT1", 1, body);
  auto segment = decode_dictionary_segment(bytes, "dict");
  ASSERT_TRUE(segment.ok()) << segment.status();
  EXPECT_EQ(segment->first_code, 3u);
  EXPECT_EQ(segment->storage, nullptr);  // views into the file's bytes
  EXPECT_EQ(segment->strings, (std::vector<std::string_view>{"user_1", "", "user_2"}));
  EXPECT_EQ(segment->erased, (std::vector<bool>{false, true, false}));
}

// Entries that checksum fine but cannot be rebuilt.
TEST(DictionaryFile, Version2EntriesThatCannotBeRebuiltAreDataLoss) {
  const auto segment_of = [](const std::vector<std::pair<uint64_t, uint64_t>>& entries, std::string_view bytes) {
    std::string body;
    body.push_back(static_cast<char>(DictionaryColumn::kSession));
    coding::put_varint64(&body, 0);
    coding::put_varint64(&body, entries.size());
    for (const auto& [shared, tag] : entries) {
      coding::put_varint64(&body, shared);
      coding::put_varint64(&body, tag);
    }
    body.append(bytes);
    return decode_dictionary_segment(frame_file("UDBDICT1", 2, body), "dict-session_id-9.udbd").status();
  };
  // "ab", then 3 bytes shared with it.
  std::string body;
  body.push_back(static_cast<char>(DictionaryColumn::kSession));
  coding::put_varint64(&body, 0);
  coding::put_varint64(&body, 2);
  coding::put_varint64(&body, 0);
  coding::put_varint64(&body, 2 << 1);
  body.append("ab");
  coding::put_varint64(&body, 3);
  coding::put_varint64(&body, 0);
  EXPECT_EQ(decode_dictionary_segment(frame_file("UDBDICT1", 2, body), "d").status(),
            absl::DataLossError("d: entry 1 shares 3 bytes with a string of 2"));
  EXPECT_EQ(segment_of({{0, 1}, {0, 2}}, ""),  // erased, then a byte after it that is not there
            absl::DataLossError("dict-session_id-9.udbd: entry 1 runs past the end"));
  EXPECT_EQ(segment_of({{1, 1}}, ""), absl::DataLossError("dict-session_id-9.udbd: entry 0: erased entry with bytes"));
  EXPECT_EQ(segment_of({{0, 2}}, "xy"), absl::DataLossError("dict-session_id-9.udbd: trailing bytes"));
  EXPECT_EQ(segment_of({{0, 2}, {2, 0}}, "x").code(), absl::StatusCode::kDataLoss);  // shares 2 of a 1-byte string

  // A 1 MiB string, then 100,000 entries that each share all of it: ~105 GB
  // rebuilt from ~1.3 MB. Refused before anything is allocated.
  std::string huge;
  huge.push_back(static_cast<char>(DictionaryColumn::kSession));
  coding::put_varint64(&huge, 0);
  coding::put_varint64(&huge, 100'001);
  coding::put_varint64(&huge, 0);
  coding::put_varint64(&huge, uint64_t{1 << 20} << 1);
  huge.append(1 << 20, 'x');
  for (int i = 0; i < 100'000; ++i) {
    coding::put_varint64(&huge, 1 << 20);
    coding::put_varint64(&huge, 0);
  }
  const absl::Status refused = decode_dictionary_segment(frame_file("UDBDICT1", 2, huge), "d").status();
  EXPECT_EQ(refused.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(refused.message()), ::testing::HasSubstr("entries rebuild to 104858648576 bytes"));
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
  const std::string bytes = encode_dictionary_segment(DictionaryColumn::kFeature, d, 0, d.size());
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
