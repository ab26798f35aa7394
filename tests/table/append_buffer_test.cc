#include "lib/table/append_buffer.h"

#include <algorithm>
#include <atomic>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace usagedb {
namespace {

// Rows keep their codes, ids and metadata; each distinct metadata value is
// stored once, whether its hash comes from append() or from the caller.
TEST(AppendBuffer, KeepsRowsAndStoresEachMetadataValueOnce) {
  AppendBuffer buffer(5000);
  std::vector<std::string> metadata;
  for (uint32_t i = 0; i < 5000; ++i) {
    metadata.push_back(i % 3 == 0 ? "" : absl::StrCat("{\"n\":", i % 37, "}"));
    const RowCodes row{i, i % 5, i % 7, i, 0, i / 3};
    if (i % 2 == 0) {
      buffer.append(row, i + 1, absl::StrCat("e", i), metadata.back());
    } else {
      buffer.append(row, i + 1, absl::StrCat("e", i), metadata.back(), AppendBuffer::metadata_hash(metadata.back()));
    }
    ASSERT_EQ(buffer.full(), i == 4999);
  }
  buffer.publish();
  ASSERT_EQ(buffer.published_rows(), 5000u);
  EXPECT_EQ(buffer.metadata_values(), 38u);  // "" and the 37 values {"n":0} .. {"n":36}
  for (uint32_t i = 0; i < 5000; ++i) {
    ASSERT_EQ(buffer.row(i).timestamp, i);
    ASSERT_EQ(buffer.row(i).session, i / 3);
    ASSERT_EQ(buffer.event_id(i), absl::StrCat("e", i));
    ASSERT_EQ(buffer.metadata(i), metadata[i]);
    ASSERT_EQ(buffer.metadata_value(buffer.metadata_code(i)), metadata[i]);
  }
}

// Readers find every published row's metadata where the writer put it:
// values larger than a block, many small ones across blocks and chunks.
TEST(AppendBuffer, MetadataOfEveryPublishedRowStaysReadable) {
  AppendBuffer buffer(3000);
  std::vector<std::string> metadata;
  for (uint32_t i = 0; i < 3000; ++i) {
    metadata.push_back(i % 1000 == 7 ? std::string(100000 + i, 'x') : absl::StrCat("{\"n\":", i % 1500, "}"));
    buffer.append(RowCodes{i, 0, 0, i, 0, 0}, i + 1, "", metadata.back());
    if (i % 100 == 99) buffer.publish();
  }
  buffer.publish();
  EXPECT_EQ(buffer.metadata_values(), 1503u);
  for (uint32_t i = 0; i < buffer.published_rows(); ++i) {
    ASSERT_EQ(buffer.metadata(i), metadata[i]) << i;
    ASSERT_LT(buffer.metadata_code(i), buffer.metadata_values());
  }
  EXPECT_GT(buffer.memory_bytes(), 300000u);
}

// The rows of `user` among the first n, newest first, by reading every row:
// what for_each_user_row must find.
std::vector<uint32_t> user_rows_by_scan(const AppendBuffer& buffer, uint32_t user, uint32_t n) {
  std::vector<uint32_t> rows;
  for (uint32_t i = n; i-- > 0;) {
    if (buffer.row(i).user == user) rows.push_back(i);
  }
  return rows;
}

std::vector<uint32_t> user_rows_by_index(const AppendBuffer& buffer, uint32_t user, uint32_t n) {
  std::vector<uint32_t> rows;
  buffer.for_each_user_row(user, n, [&](uint32_t i) { rows.push_back(i); });
  return rows;
}

// The user index finds exactly a user's rows among any prefix of the rows,
// on random users (codes from 0 up to near UINT32_MAX, many colliding in
// the table, a few heavy ones) and a capacity that is not a power of two.
TEST(AppendBuffer, UserIndexFindsEachUsersRowsAsAScanDoes) {
  constexpr uint32_t kRows = 3001;
  AppendBuffer buffer(kRows, /*index_users=*/true);
  ASSERT_TRUE(buffer.indexes_users());
  EXPECT_FALSE(AppendBuffer(10).indexes_users());
  std::mt19937 rng(15);
  std::vector<uint32_t> users = {0, 1, 7, UINT32_MAX - 1, 1u << 31};
  for (int i = 0; i < 300; ++i) users.push_back(static_cast<uint32_t>(rng()));
  for (uint32_t i = 0; i < kRows; ++i) {
    const uint32_t user = i % 4 == 0 ? users[i % 5] : users[rng() % users.size()];
    buffer.append(RowCodes{i, i % 9, 0, user, 0, 0}, i + 1, "", "");
  }
  buffer.publish();
  users.push_back(12345);  // never appended
  for (const uint32_t n : {0u, 1u, 2u, 1023u, 1024u, 1025u, 2047u, kRows}) {
    for (const uint32_t user : users) {
      ASSERT_EQ(user_rows_by_index(buffer, user, n), user_rows_by_scan(buffer, user, n)) << user << " in " << n;
    }
  }
  EXPECT_EQ(user_rows_by_index(buffer, 12345, kRows).size(), 0u);
  EXPECT_GT(user_rows_by_index(buffer, 0, kRows).size(), kRows / 20);
}

// Readers following the user index while the writer appends and publishes
// see exactly the published rows of each user (TSan: the links and the
// table are read without a lock).
TEST(AppendBuffer, ConcurrentReadersOfTheUserIndexSeePublishedRowsOnly) {
  constexpr uint32_t kRows = 20000, kUsers = 37;
  AppendBuffer buffer(kRows, /*index_users=*/true);
  std::atomic<bool> done{false}, failed{false};
  std::atomic<uint64_t> checks{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 2; ++r) {
    readers.emplace_back([&, r] {
      uint32_t user = r;
      while (!done.load(std::memory_order_acquire)) {
        const uint32_t n = buffer.published_rows();
        user = (user + 1) % kUsers;
        if (user_rows_by_index(buffer, user, n) != user_rows_by_scan(buffer, user, n)) {
          ADD_FAILURE() << "user " << user << " in " << n << " rows";
          failed.store(true);
          return;
        }
        checks.fetch_add(1, std::memory_order_relaxed);
      }
    });
  }
  // Readers check while the rows arrive: a few checks every 500 rows.
  const auto let_readers_check = [&] {
    const uint64_t seen = checks.load(std::memory_order_relaxed);
    while (checks.load(std::memory_order_relaxed) < seen + 4 && !failed.load()) std::this_thread::yield();
  };
  for (uint32_t i = 0; i < kRows; ++i) {
    buffer.append(RowCodes{i, 0, 0, (i * 7919) % kUsers, 0, 0}, i + 1, "", "");
    if (i % 7 == 6) buffer.publish();
    if (i % 500 == 499) let_readers_check();
  }
  buffer.publish();
  let_readers_check();
  done.store(true, std::memory_order_release);
  for (std::thread& t : readers) t.join();
  for (uint32_t user = 0; user < kUsers; ++user) {
    ASSERT_EQ(user_rows_by_index(buffer, user, kRows), user_rows_by_scan(buffer, user, kRows));
  }
}

}  // namespace
}  // namespace usagedb
