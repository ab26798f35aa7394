// UserOrderedRows (lib/table/user_ordered_rows.h) and Part::user_ordered_rows():
// each user's rows of a part in row order, packed (timestamp, feature), the
// same rows the part's user index gives; kept in the PartCache's budget as a
// charge that outlives the part's data and is dropped, least recently used,
// when nobody holds it.
#include "lib/table/user_ordered_rows.h"

#include <atomic>
#include <memory>
#include <random>
#include <vector>

#include "absl/status/status.h"
#include "gtest/gtest.h"
#include "lib/table/part.h"
#include "lib/table/part_builder.h"
#include "lib/table/part_index.h"

namespace usagedb {
namespace {

// Every user's rows of `part` read through its user index: (timestamp, feature).
std::vector<std::pair<uint32_t, uint32_t>> through_index(const Part& part, uint32_t user) {
  std::vector<std::pair<uint32_t, uint32_t>> out;
  for (const uint32_t row : part.user_rows(user)) {
    out.emplace_back(part.columns().timestamp[row], part.columns().feature[row]);
  }
  return out;
}

std::vector<std::pair<uint32_t, uint32_t>> through_projection(const UserOrderedRows& r, uint32_t user) {
  std::vector<std::pair<uint32_t, uint32_t>> out;
  for (const uint32_t v : r.rows(user)) out.emplace_back(r.timestamp(v), r.feature(v));
  return out;
}

// A resident part of random rows: `users` drawn from `user_codes`, 5 features.
std::shared_ptr<const Part> random_part(uint64_t id, uint32_t rows, const std::vector<uint32_t>& user_codes,
                                        uint32_t seed) {
  Dictionary features, versions;
  for (const char* f : {"a", "b", "c", "d", "e"}) features.intern(f);
  versions.intern("v");
  std::mt19937 rng(seed);
  PartBuilder builder;
  const uint32_t month_start = 1735689600;  // 2025-01-01
  for (uint32_t i = 0; i < rows; ++i) {
    const uint32_t ts = month_start + static_cast<uint32_t>(rng() % (31 * 86400));
    builder.add({ts, static_cast<uint32_t>(rng() % 5), 0, user_codes[rng() % user_codes.size()], 0, 0}, id * 100000 + i,
                "", "");
  }
  return std::move(builder).finish(id, 202501, features, versions);
}

void expect_same_rows(const Part& part, const UserOrderedRows& r, const std::vector<uint32_t>& user_codes) {
  EXPECT_EQ(r.rows(), part.rows());
  for (const uint32_t user : user_codes) {
    SCOPED_TRACE(user);
    EXPECT_EQ(through_projection(r, user), through_index(part, user));
  }
  for (uint32_t f = 0; f < 6; ++f) {
    const Bitmap* rows = part.feature_rows(f);
    EXPECT_EQ(r.feature_rows(f), rows == nullptr ? 0 : rows->cardinality()) << f;
  }
}

TEST(UserOrderedRows, EachUsersRowsInRowOrderAsTheUserIndexGivesThem) {
  std::vector<uint32_t> users;
  for (uint32_t u = 10; u < 300; u += 3) users.push_back(u);
  const auto part = random_part(1, 5000, users, 7);
  const auto r = UserOrderedRows::build(part->columns());
  ASSERT_NE(r, nullptr);
  expect_same_rows(*part, *r, users);
  EXPECT_TRUE(r->rows(11).empty());    // between codes
  EXPECT_TRUE(r->rows(9).empty());     // below
  EXPECT_TRUE(r->rows(5000).empty());  // above
  EXPECT_GE(r->memory_bytes(), 5000 * sizeof(uint32_t));
}

TEST(UserOrderedRows, UserCodesFarApart) {
  // Too far apart for a table by code: the codes are counted in a hash table.
  const std::vector<uint32_t> users = {3, 70000, 4000000, 4000001, 2000000000};
  const auto part = random_part(2, 300, users, 8);
  const auto r = UserOrderedRows::build(part->columns());
  ASSERT_NE(r, nullptr);
  expect_same_rows(*part, *r, users);
}

TEST(UserOrderedRows, OneRowAndOneUser) {
  const auto part = random_part(3, 1, {42}, 9);
  const auto r = UserOrderedRows::build(part->columns());
  ASSERT_NE(r, nullptr);
  expect_same_rows(*part, *r, {42});
}

TEST(UserOrderedRows, NullWhenTheRowsDoNotPackInAWord) {
  PartColumns c;
  // 2^30 seconds apart and feature code 7 (3 bits): 31 + 3 bits.
  c.timestamp = {0, 1u << 30};
  c.feature = {7, 0};
  c.user = {1, 2};
  EXPECT_EQ(UserOrderedRows::build(c), nullptr);
  // 2^28 seconds apart (29 bits) and feature code 7: 32 bits fit.
  c.timestamp = {0, 1u << 28};
  const auto r = UserOrderedRows::build(c);
  ASSERT_NE(r, nullptr);
  ASSERT_EQ(r->rows(2).size(), 1u);
  EXPECT_EQ(r->timestamp(r->rows(2)[0]), 1u << 28);
  EXPECT_EQ(r->feature(r->rows(1)[0]), 7u);
  // A feature code of 2^31 leaves no bit for time.
  c.timestamp = {5, 5};
  c.feature = {1u << 31, 0};
  EXPECT_EQ(UserOrderedRows::build(c), nullptr);
  EXPECT_EQ(UserOrderedRows::build(PartColumns{}), nullptr);
}

// A lazy twin of a resident part, loading a copy of its data.
struct LazyTwin {
  std::shared_ptr<const Part> resident;
  std::shared_ptr<const Part> lazy;
  std::atomic<int> loads{0};
  std::atomic<int> column_reads{0};
  std::atomic<bool> fail{false};
};

// With `columns_reader`, the twin reads the three columns alone for its
// rows by user (as a part file's lazy part does).
std::unique_ptr<LazyTwin> lazy_twin(std::shared_ptr<const Part> resident, std::shared_ptr<PartCache> cache,
                                    bool columns_reader = false) {
  auto t = std::make_unique<LazyTwin>();
  t->resident = std::move(resident);
  LazyTwin* raw = t.get();
  const Part& r = *t->resident;
  const Part::Summary summary{r.rows(), r.min_timestamp(), r.max_timestamp(), r.max_sequence()};
  t->lazy = std::make_shared<const Part>(
      r.id(), r.month(), summary,
      [raw]() -> absl::StatusOr<PartData> {
        ++raw->loads;
        if (raw->fail) return absl::DataLossError("part file 'x': user_id: checksum mismatch");
        const PartColumns& c = raw->resident->columns();
        return PartData{c, build_part_indexes(c)};
      },
      std::move(cache), nullptr,
      !columns_reader ? Part::ColumnsReader()
                      : Part::ColumnsReader([raw]() -> absl::StatusOr<PartColumns> {
                          ++raw->column_reads;
                          if (raw->fail) return absl::DataLossError("part file 'x': user_id: checksum mismatch");
                          const PartColumns& c = raw->resident->columns();
                          PartColumns three;
                          three.timestamp = c.timestamp;
                          three.feature = c.feature;
                          three.user = c.user;
                          return three;
                        }));
  return t;
}

std::vector<uint32_t> some_users() {
  std::vector<uint32_t> users;
  for (uint32_t u = 0; u < 50; ++u) users.push_back(u);
  return users;
}

TEST(PartUserOrderedRows, NoneForAResidentPart) {
  const auto part = random_part(4, 100, some_users(), 10);
  absl::StatusOr<std::shared_ptr<const UserOrderedRows>> r = part->user_ordered_rows();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*r, nullptr);
}

TEST(PartUserOrderedRows, BuiltOnceChargedAndKeptAfterThePartIsEvicted) {
  auto cache = std::make_shared<PartCache>(1);  // evicts every part nothing pins
  auto t = lazy_twin(random_part(5, 2000, some_users(), 11), cache);
  absl::StatusOr<std::shared_ptr<const UserOrderedRows>> r = t->lazy->user_ordered_rows();
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_NE(*r, nullptr);
  EXPECT_EQ(t->loads, 1);
  expect_same_rows(*t->resident, **r, some_users());
  // The part's data went (over the budget, not pinned); the rows by user
  // are held by the caller, so they stay, charged.
  EXPECT_FALSE(t->lazy->loaded());
  EXPECT_EQ(cache->bytes(), 0u);
  EXPECT_EQ(cache->charged(), (*r)->memory_bytes());
  // Asked again while held: the same rows, no load.
  absl::StatusOr<std::shared_ptr<const UserOrderedRows>> again = t->lazy->user_ordered_rows();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->get(), r->get());
  EXPECT_EQ(t->loads, 1);
  // Let go and over the budget: dropped at the next trim, built again
  // (from the part, read again) when next asked for.
  r->reset();
  again->reset();
  cache->trim();
  EXPECT_EQ(cache->charged(), 0u);
  EXPECT_GE(cache->drops(), 1u);
  absl::StatusOr<std::shared_ptr<const UserOrderedRows>> rebuilt = t->lazy->user_ordered_rows();
  ASSERT_TRUE(rebuilt.ok());
  ASSERT_NE(*rebuilt, nullptr);
  EXPECT_EQ(t->loads, 2);
  expect_same_rows(*t->resident, **rebuilt, some_users());
}

TEST(PartUserOrderedRows, StayWithinARoomyBudgetAndGoLeastRecentlyUsedFirst) {
  auto probe_cache = std::make_shared<PartCache>(0);
  auto probe = lazy_twin(random_part(6, 1000, some_users(), 12), probe_cache);
  ASSERT_TRUE(probe->lazy->user_ordered_rows().ok());
  const size_t part_bytes = probe_cache->bytes(), rows_bytes = probe_cache->charged();
  ASSERT_GT(rows_bytes, 0u);
  // Room for the rows by user of two parts and one part's data.
  auto cache = std::make_shared<PartCache>(2 * rows_bytes + part_bytes);
  auto a = lazy_twin(random_part(7, 1000, some_users(), 13), cache);
  auto b = lazy_twin(random_part(8, 1000, some_users(), 14), cache);
  auto c = lazy_twin(random_part(9, 1000, some_users(), 15), cache);
  ASSERT_TRUE(a->lazy->user_ordered_rows().ok());
  ASSERT_TRUE(b->lazy->user_ordered_rows().ok());
  ASSERT_TRUE(a->lazy->user_ordered_rows().ok());  // a is the newest use now
  EXPECT_LE(cache->bytes() + cache->charged(), cache->budget());
  ASSERT_TRUE(c->lazy->user_ordered_rows().ok());
  EXPECT_LE(cache->bytes() + cache->charged(), cache->budget());
  // b's went (the least recently used), a's stayed: no new load for a.
  ASSERT_TRUE(a->lazy->user_ordered_rows().ok());
  EXPECT_EQ(a->loads, 1);
  ASSERT_TRUE(b->lazy->user_ordered_rows().ok());
  EXPECT_EQ(b->loads, 2);
}

TEST(PartUserOrderedRows, ALoadErrorComesBackAndTheNextCallTriesAgain) {
  auto cache = std::make_shared<PartCache>(0);
  auto t = lazy_twin(random_part(10, 100, some_users(), 16), cache);
  t->fail = true;
  absl::StatusOr<std::shared_ptr<const UserOrderedRows>> r = t->lazy->user_ordered_rows();
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(absl::IsDataLoss(r.status())) << r.status();
  EXPECT_EQ(cache->charged(), 0u);
  t->fail = false;
  r = t->lazy->user_ordered_rows();
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_NE(*r, nullptr);
  expect_same_rows(*t->resident, **r, some_users());
}

TEST(PartUserOrderedRows, AColumnsReaderReadsThemWithoutLoadingThePart) {
  auto cache = std::make_shared<PartCache>(0);
  auto t = lazy_twin(random_part(12, 800, some_users(), 18), cache, /*columns_reader=*/true);
  t->fail = true;
  absl::StatusOr<std::shared_ptr<const UserOrderedRows>> r = t->lazy->user_ordered_rows();
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(absl::IsDataLoss(r.status())) << r.status();
  t->fail = false;
  r = t->lazy->user_ordered_rows();
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_NE(*r, nullptr);
  expect_same_rows(*t->resident, **r, some_users());
  EXPECT_EQ(t->loads, 0);
  EXPECT_EQ(t->column_reads, 2);
  EXPECT_FALSE(t->lazy->loaded());
  EXPECT_EQ(cache->bytes(), 0u);
  EXPECT_EQ(cache->charged(), (*r)->memory_bytes());
  // A part in memory builds them from its columns.
  auto loaded = lazy_twin(random_part(13, 800, some_users(), 19), cache, /*columns_reader=*/true);
  absl::StatusOr<Part::Pin> pin = loaded->lazy->pin();
  ASSERT_TRUE(pin.ok());
  r = loaded->lazy->user_ordered_rows();
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_NE(*r, nullptr);
  expect_same_rows(*loaded->resident, **r, some_users());
  EXPECT_EQ(loaded->loads, 1);
  EXPECT_EQ(loaded->column_reads, 0);
}

TEST(PartUserOrderedRows, ThePartGoesBeforeItsCache) {
  auto cache = std::make_shared<PartCache>(0);
  {
    auto t = lazy_twin(random_part(11, 100, some_users(), 17), cache);
    ASSERT_TRUE(t->lazy->user_ordered_rows().ok());
    EXPECT_GT(cache->charged(), 0u);
  }
  // Its charge was given back.
  EXPECT_EQ(cache->charged(), 0u);
  EXPECT_EQ(cache->bytes(), 0u);
}

}  // namespace
}  // namespace usagedb
