#include "lib/store/dictionary.h"

#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace usagedb {
namespace {

TEST(Dictionary, CodesAreDenseStableAndFindable) {
  Dictionary d;
  EXPECT_EQ(d.intern("b"), 0u);
  EXPECT_EQ(d.intern("a"), 1u);
  EXPECT_EQ(d.intern("b"), 0u);
  EXPECT_EQ(d.intern(""), 2u);
  EXPECT_EQ(d.size(), 3u);
  EXPECT_EQ(d.lookup(1), "a");
  EXPECT_EQ(d.lookup(2), "");
  EXPECT_EQ(d.find("a"), 1u);
  EXPECT_EQ(d.find("c"), std::nullopt);
}

TEST(Dictionary, ManyStringsIncludingLargeOnesSurviveGrowth) {
  Dictionary d;
  std::vector<std::string> strings;
  for (int i = 0; i < 200000; ++i) strings.push_back(absl::StrCat("user_", i));
  strings.push_back(std::string(1 << 20, 'x'));  // larger than an arena chunk
  strings.push_back(std::string("nul\0byte", 8));
  std::vector<uint32_t> codes(strings.size());
  std::vector<std::string_view> views(strings.begin(), strings.end());
  d.intern_many(views, codes.data());
  for (size_t i = 0; i < strings.size(); ++i) {
    ASSERT_EQ(codes[i], i);
    ASSERT_EQ(d.lookup(codes[i]), strings[i]);
    ASSERT_EQ(d.find(strings[i]), codes[i]);
  }
  EXPECT_GT(d.memory_bytes(), 200000u * 8);
}

// lookup() of published codes while another thread interns new strings
// (run under TSan in CI).
TEST(Dictionary, ConcurrentInternAndLookup) {
  Dictionary d;
  for (int i = 0; i < 1000; ++i) d.intern(absl::StrCat("s", i));
  std::thread writer([&] {
    for (int i = 1000; i < 100000; ++i) d.intern(absl::StrCat("s", i));
  });
  for (int round = 0; round < 50; ++round) {
    const uint32_t n = d.size();
    for (uint32_t c = 0; c < n; c += 97) ASSERT_EQ(d.lookup(c), absl::StrCat("s", c));
    ASSERT_TRUE(d.find("s999").has_value());
  }
  writer.join();
  EXPECT_EQ(d.size(), 100000u);
}

}  // namespace
}  // namespace usagedb
