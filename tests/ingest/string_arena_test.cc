#include "lib/ingest/string_arena.h"

#include <string>
#include <string_view>
#include <vector>

#include "gtest/gtest.h"

namespace usagedb {
namespace {

TEST(StringArena, CopiesStayValidWhileMoreIsAdded) {
  StringArena arena;
  std::vector<std::string_view> views;
  std::vector<std::string> expected;
  for (int i = 0; i < 20000; ++i) {
    expected.push_back(std::string(static_cast<size_t>(i % 300), static_cast<char>('a' + i % 26)) + std::to_string(i));
    views.push_back(arena.copy(expected.back()));
  }
  for (size_t i = 0; i < views.size(); ++i) ASSERT_EQ(views[i], expected[i]) << i;
}

TEST(StringArena, ReserveThenCommitKeepsOnlyTheCommittedBytes) {
  StringArena arena;
  char* a = arena.reserve(100);
  a[0] = 'x';
  arena.commit(1);
  char* b = arena.reserve(10);
  EXPECT_EQ(b, a + 1);  // the uncommitted 99 bytes are reused
}

TEST(StringArena, LargeRequestsGetTheirOwnBlock) {
  StringArena arena;
  const std::string big(1 << 20, 'z');
  const std::string_view small = arena.copy("small");
  const std::string_view kept = arena.copy(big);
  EXPECT_EQ(kept, big);
  EXPECT_EQ(small, "small");
}

TEST(StringArena, ClearKeepsTheMemoryForReuse) {
  StringArena arena;
  for (int i = 0; i < 1000; ++i) arena.copy(std::string(1000, 'q'));
  const size_t held = arena.capacity();
  EXPECT_GE(held, 1000u * 1000u);
  for (int round = 0; round < 5; ++round) {
    arena.clear();
    for (int i = 0; i < 1000; ++i) ASSERT_EQ(arena.copy(std::string(1000, 'r')), std::string(1000, 'r'));
  }
  EXPECT_EQ(arena.capacity(), held);
}

TEST(StringArena, ClearReusesABlockLargeEnoughForABigRequest) {
  StringArena arena;
  arena.copy("a");
  arena.copy(std::string(200 << 10, 'b'));
  const size_t held = arena.capacity();
  arena.clear();
  arena.copy("a");
  EXPECT_EQ(arena.copy(std::string(200 << 10, 'c')), std::string(200 << 10, 'c'));
  EXPECT_EQ(arena.capacity(), held);
}

TEST(StringArena, EmptyCopiesNeedNoMemory) {
  StringArena arena;
  EXPECT_TRUE(arena.copy("").empty());
  EXPECT_EQ(arena.capacity(), 0u);
}

}  // namespace
}  // namespace usagedb
