// Lazy parts and the PartCache (lib/table/part.h): a lazy part reads its data
// on its first pin, keeps it while pinned, is evicted least recently used
// first once unpinned parts exceed the budget, and reads it again next time;
// a loader's error comes back from pin() and the next pin tries again.
#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "gtest/gtest.h"
#include "lib/query/snapshot.h"
#include "lib/table/append_buffer.h"
#include "lib/table/part.h"
#include "lib/table/part_builder.h"
#include "lib/table/part_index.h"

namespace usagedb {
namespace {

// A resident part of `rows` rows and a lazy twin that loads a copy of its data.
struct LazyFixture {
  std::shared_ptr<const Part> resident;
  std::shared_ptr<const Part> lazy;
  std::atomic<int> loads{0};
  std::atomic<bool> fail{false};
};

std::unique_ptr<LazyFixture> make_lazy(uint64_t id, uint32_t rows, std::shared_ptr<PartCache> cache) {
  auto f = std::make_unique<LazyFixture>();
  Dictionary features, versions;
  features.intern("f");
  versions.intern("v");
  PartBuilder builder;
  for (uint32_t i = 0; i < rows; ++i) builder.add({1000 + i, 0, 0, i % 7, 0, 0}, id * 1000 + i, "", "");
  f->resident = std::move(builder).finish(id, 197001, features, versions);
  LazyFixture* raw = f.get();
  const Part::Summary summary{f->resident->rows(), f->resident->min_timestamp(), f->resident->max_timestamp(),
                              f->resident->max_sequence()};
  f->lazy = std::make_shared<const Part>(
      id, 197001, summary,
      [raw]() -> absl::StatusOr<PartData> {
        ++raw->loads;
        if (raw->fail) return absl::DataLossError("part file 'x': timestamp: checksum mismatch");
        const PartColumns& c = raw->resident->columns();
        return PartData{c, build_part_indexes(c)};
      },
      std::move(cache));
  return f;
}

// What a loaded part of 50 rows (make_lazy's) costs a cache: budgets below
// are counted in such parts.
size_t bytes_of_a_50_row_part() {
  auto roomy = std::make_shared<PartCache>(0);
  auto probe = make_lazy(9, 50, roomy);
  EXPECT_TRUE(probe->lazy->pin().ok());
  return roomy->bytes();
}

TEST(LazyPart, ReadsOnFirstPinAndAnswersLikeTheResidentPart) {
  auto cache = std::make_shared<PartCache>(0);
  auto f = make_lazy(1, 100, cache);
  EXPECT_TRUE(f->lazy->lazy());
  EXPECT_FALSE(f->lazy->loaded());
  EXPECT_EQ(f->lazy->rows(), 100u);
  EXPECT_EQ(f->lazy->min_timestamp(), 1000u);
  EXPECT_EQ(f->lazy->max_sequence(), 1099u);
  EXPECT_EQ(f->loads, 0);
  {
    absl::StatusOr<Part::Pin> pin = f->lazy->pin();
    ASSERT_TRUE(pin.ok()) << pin.status();
    EXPECT_TRUE(f->lazy->loaded());
    EXPECT_EQ(f->lazy->columns().timestamp, f->resident->columns().timestamp);
    EXPECT_EQ(f->lazy->user_rows(3).size(), f->resident->user_rows(3).size());
    EXPECT_EQ(f->lazy->time_range(1010, 1020).size(), 10u);
  }
  // No budget: the data stays.
  EXPECT_TRUE(f->lazy->loaded());
  EXPECT_GT(cache->bytes(), 0u);
  ASSERT_TRUE(f->lazy->pin().ok());
  EXPECT_EQ(f->loads, 1);
  EXPECT_EQ(cache->evictions(), 0u);
}

TEST(LazyPart, EvictsTheLeastRecentlyUsedUnpinnedPartsOverTheBudget) {
  auto cache = std::make_shared<PartCache>(1);  // every part over it
  auto a = make_lazy(1, 50, cache);
  auto b = make_lazy(2, 50, cache);
  {
    absl::StatusOr<Part::Pin> pa = a->lazy->pin();
    ASSERT_TRUE(pa.ok());
    absl::StatusOr<Part::Pin> pb = b->lazy->pin();
    ASSERT_TRUE(pb.ok());
    // Both pinned: over the budget, nothing evicted.
    EXPECT_TRUE(a->lazy->loaded());
    EXPECT_TRUE(b->lazy->loaded());
    EXPECT_EQ(a->lazy->columns().timestamp.size(), 50u);
  }
  // Unpinned: evicted.
  EXPECT_FALSE(a->lazy->loaded());
  EXPECT_FALSE(b->lazy->loaded());
  EXPECT_EQ(cache->bytes(), 0u);
  EXPECT_EQ(cache->evictions(), 2u);
  // Read again on the next pin.
  ASSERT_TRUE(a->lazy->pin().ok());
  EXPECT_EQ(a->loads, 2);

  // A budget for one part: the older one goes when a second is read.
  const size_t part_bytes = bytes_of_a_50_row_part();
  auto one = std::make_shared<PartCache>(part_bytes + part_bytes / 2);
  auto c = make_lazy(3, 50, one);
  auto d = make_lazy(4, 50, one);
  ASSERT_TRUE(c->lazy->pin().ok());
  ASSERT_TRUE(d->lazy->pin().ok());
  EXPECT_FALSE(c->lazy->loaded());
  EXPECT_TRUE(d->lazy->loaded());
  ASSERT_TRUE(c->lazy->pin().ok());
  EXPECT_TRUE(c->lazy->loaded());
  EXPECT_FALSE(d->lazy->loaded());
}

// A charge's owner (a lazy rollup's sections) that a test holds or lets go.
class ChargeOwner : public ChargedMemory {
 public:
  size_t drop_charged(bool /*all*/) const override {
    if (held) return 0;
    ++drops;
    return SIZE_MAX;  // all of it (the cache takes what was charged)
  }
  bool held = true;
  mutable int drops = 0;
};

// Charges (the sections of lazy rollups) share the budget: the unpinned
// parts make room for them, and come back once the charge is given back.
TEST(LazyPart, ChargesShareTheBudgetWithTheParts) {
  const size_t part_bytes = bytes_of_a_50_row_part();
  auto cache = std::make_shared<PartCache>(3 * part_bytes);
  auto a = make_lazy(1, 50, cache);
  auto b = make_lazy(2, 50, cache);
  ASSERT_TRUE(a->lazy->pin().ok());
  ASSERT_TRUE(b->lazy->pin().ok());
  EXPECT_TRUE(a->lazy->loaded());
  EXPECT_TRUE(b->lazy->loaded());
  // Room for one part beside the charge: the older one goes.
  ChargeOwner owner;
  cache->charge(&owner, static_cast<int64_t>(part_bytes + part_bytes / 2));
  EXPECT_EQ(cache->charged(), part_bytes + part_bytes / 2);
  EXPECT_FALSE(a->lazy->loaded());
  EXPECT_TRUE(b->lazy->loaded());
  EXPECT_LE(cache->bytes() + cache->charged(), cache->budget());
  {
    // A pinned part stays, over the budget, while it is pinned; so does
    // the charge while its owner holds it.
    absl::StatusOr<Part::Pin> pin = a->lazy->pin();
    ASSERT_TRUE(pin.ok());
    cache->charge(&owner, static_cast<int64_t>(part_bytes));
    EXPECT_TRUE(a->lazy->loaded());
    EXPECT_FALSE(b->lazy->loaded());
  }
  EXPECT_FALSE(a->lazy->loaded());
  EXPECT_EQ(owner.drops, 0);
  cache->charge(&owner, -static_cast<int64_t>(2 * part_bytes + part_bytes / 2));
  EXPECT_EQ(cache->charged(), 0u);
  ASSERT_TRUE(a->lazy->pin().ok());
  ASSERT_TRUE(b->lazy->pin().ok());
  EXPECT_TRUE(a->lazy->loaded());
  EXPECT_TRUE(b->lazy->loaded());
  cache->charge(&owner, -1);  // more than charged: nothing below zero
  EXPECT_EQ(cache->charged(), 0u);
  EXPECT_EQ(cache->drops(), 0u);
}

// A charge nobody holds is dropped like an unpinned part, least recently
// used first (by its last charge or touch), and only while over the budget;
// forget() gives back what it charged.
TEST(LazyPart, ChargesNobodyHoldsAreDroppedOldestFirst) {
  const size_t part_bytes = bytes_of_a_50_row_part();
  auto cache = std::make_shared<PartCache>(3 * part_bytes);
  ChargeOwner older, newer;
  cache->charge(&older, static_cast<int64_t>(part_bytes));
  cache->charge(&newer, static_cast<int64_t>(part_bytes));
  older.held = newer.held = false;
  cache->trim();  // within the budget: nothing goes
  EXPECT_EQ(cache->drops(), 0u);
  EXPECT_EQ(cache->charged(), 2 * part_bytes);
  cache->touch(&older);  // used again: now the newest
  auto a = make_lazy(1, 50, cache);
  {
    absl::StatusOr<Part::Pin> pin = a->lazy->pin();
    ASSERT_TRUE(pin.ok());
    EXPECT_EQ(cache->drops(), 0u);  // three within the budget
    auto b = make_lazy(2, 50, cache);
    ASSERT_TRUE(b->lazy->pin().ok());
    // Over it: `newer`, the least recently used, goes; that is room enough.
    EXPECT_EQ(newer.drops, 1);
    EXPECT_EQ(older.drops, 0);
    EXPECT_EQ(cache->drops(), 1u);
    EXPECT_TRUE(b->lazy->loaded());
    EXPECT_LE(cache->bytes() + cache->charged(), cache->budget());
  }
  // Held charges stay over the budget (the unpinned parts go); let go, a
  // charge goes at the next trim.
  older.held = newer.held = true;
  cache->charge(&newer, static_cast<int64_t>(3 * part_bytes));
  EXPECT_FALSE(a->lazy->loaded());
  EXPECT_EQ(older.drops, 0);
  EXPECT_EQ(cache->charged(), 4 * part_bytes);
  older.held = false;
  cache->trim();
  EXPECT_EQ(older.drops, 1);
  EXPECT_EQ(cache->charged(), 3 * part_bytes);
  cache->forget(&newer);
  EXPECT_EQ(cache->charged(), 0u);
}

// Snapshot::hold (lib/query/snapshot.h) holds a part while the HeldPart
// lives, so that a query over many parts holds one at a time: with a
// budget that evicts every unpinned part, each is gone as soon as its
// holder is, while the snapshot lives. pin() keeps it until the snapshot
// ends; a damaged part is a false HeldPart and the snapshot's status().
TEST(LazyPart, ASnapshotHoldsAPartWhileItIsReadAndPinsItUntilItEnds) {
  auto cache = std::make_shared<PartCache>(1);
  auto a = make_lazy(1, 50, cache);
  auto b = make_lazy(2, 50, cache);
  auto damaged = make_lazy(3, 50, cache);
  damaged->fail = true;
  auto version = std::make_shared<Version>();
  PartitionState& p = version->partitions.emplace_back();
  p.month = 197001;
  p.parts = {a->lazy, b->lazy, damaged->lazy};
  p.buffer = std::make_shared<AppendBuffer>(1);
  {
    const Snapshot snapshot(nullptr, version);
    {
      const HeldPart held = snapshot.hold(*a->lazy);
      ASSERT_TRUE(held);
      EXPECT_TRUE(a->lazy->loaded());
      EXPECT_EQ(a->lazy->columns().timestamp.size(), 50u);
    }
    EXPECT_FALSE(a->lazy->loaded());  // evicted while the snapshot lives
    {
      HeldPart moved;
      {
        HeldPart held = snapshot.hold(*a->lazy);
        ASSERT_TRUE(held);
        moved = std::move(held);
      }
      EXPECT_TRUE(a->lazy->loaded());  // the moved-to holder keeps it
    }
    EXPECT_FALSE(a->lazy->loaded());
    ASSERT_TRUE(snapshot.pin(*b->lazy));
    {
      const HeldPart held = snapshot.hold(*b->lazy);  // pinned already
      ASSERT_TRUE(held);
    }
    EXPECT_TRUE(b->lazy->loaded());
    {
      const HeldPart held = snapshot.hold(*damaged->lazy);
      EXPECT_FALSE(held);
    }
    EXPECT_EQ(snapshot.status().code(), absl::StatusCode::kDataLoss);
    EXPECT_EQ(a->loads, 2);
  }
  EXPECT_FALSE(b->lazy->loaded());  // unpinned with the snapshot
  EXPECT_EQ(cache->bytes(), 0u);
}

TEST(LazyPart, ALoaderErrorComesBackAndTheNextPinTriesAgain) {
  auto cache = std::make_shared<PartCache>(0);
  auto f = make_lazy(1, 10, cache);
  f->fail = true;
  absl::StatusOr<Part::Pin> pin = f->lazy->pin();
  ASSERT_FALSE(pin.ok());
  EXPECT_EQ(pin.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_FALSE(f->lazy->loaded());
  f->fail = false;
  ASSERT_TRUE(f->lazy->pin().ok());
  EXPECT_EQ(f->loads, 2);
}

TEST(LazyPart, ManyThreadsPinAndEvictTheSameParts) {
  auto cache = std::make_shared<PartCache>(1);
  std::vector<std::unique_ptr<LazyFixture>> parts;
  for (uint64_t id = 1; id <= 4; ++id) parts.push_back(make_lazy(id, 200, cache));
  std::vector<std::thread> threads;
  std::atomic<uint64_t> sum{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        const Part& part = *parts[(t + i) % parts.size()]->lazy;
        absl::StatusOr<Part::Pin> pin = part.pin();
        ASSERT_TRUE(pin.ok());
        sum += part.columns().timestamp.back();
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(sum, 4u * 200u * 1199u);
  EXPECT_EQ(cache->bytes(), 0u);
}

}  // namespace
}  // namespace usagedb
