#include "lib/storage/dictionary_file.h"

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

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
