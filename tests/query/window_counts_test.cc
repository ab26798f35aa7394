// window_counts(): both methods, and the one it picks, equal a brute-force
// count of each window's distinct users, on random days of every density
// (empty days, one user, thousands of users as bitset containers, codes in
// several containers), for windows shorter than, equal to and longer than
// the series.
#include "lib/query/window_counts.h"

#include <optional>
#include <set>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "lib/gen/random.h"

namespace usagedb::query {
namespace {

struct WindowSeries {
  std::vector<std::optional<Bitmap>> days;
  uint32_t users = 0;

  std::vector<const Bitmap*> pointers() const {
    std::vector<const Bitmap*> p;
    for (const std::optional<Bitmap>& d : days) p.push_back(d ? &*d : nullptr);
    return p;
  }
};

// `n` days over `users` codes: each day empty (null or an empty bitmap) or
// a random subset of about `density` of the users.
WindowSeries random_series(gen::Random& random, size_t n, uint32_t users, double density) {
  WindowSeries s;
  s.users = users;
  for (size_t i = 0; i < n; ++i) {
    const uint64_t kind = random.uniform(8);
    if (kind == 0) {
      s.days.emplace_back();
      continue;
    }
    Bitmap b;
    if (kind == 1) {
      b.add(static_cast<uint32_t>(random.uniform(users)));
    } else if (kind > 2) {
      for (uint32_t u = 0; u < users; ++u) {
        if (random.chance(density)) b.add(u);
      }
    }
    b.seal();
    s.days.emplace_back(std::move(b));
  }
  return s;
}

std::vector<uint64_t> brute_force(const WindowSeries& s, uint32_t w) {
  std::vector<uint64_t> out;
  for (size_t i = w - 1; i < s.days.size(); ++i) {
    std::set<uint32_t> users;
    for (size_t j = i + 1 - w; j <= i; ++j) {
      if (s.days[j]) s.days[j]->for_each([&](uint32_t u) { users.insert(u); });
    }
    out.push_back(users.size());
  }
  return out;
}

TEST(WindowCounts, EveryMethodEqualsBruteForce) {
  gen::Random random(20260612);
  struct Shape {
    uint32_t users;
    double density;
  };
  // Sparse arrays, dense bitsets, and codes beyond one container.
  const Shape shapes[] = {{50, 0.1}, {3000, 0.01}, {20000, 0.4}, {150000, 0.03}};
  for (const Shape& shape : shapes) {
    for (const uint32_t w : {1u, 2u, 3u, 7u, 28u, 40u}) {
      const size_t series = 1 + random.uniform(w == 40 ? 30 : 45);
      const WindowSeries s = random_series(random, series + w - 1, shape.users, shape.density);
      const std::vector<uint64_t> expected = brute_force(s, w);
      const std::string where = absl::StrCat("users=", shape.users, " density=", shape.density, " w=", w,
                                             " days=", s.days.size());
      std::vector<uint64_t> by_last_day(series), by_unions(series), picked(series);
      window_counts_by_last_day(s.pointers(), w, s.users, &by_last_day);
      window_counts_by_unions(s.pointers(), w, &by_unions);
      window_counts(s.pointers(), w, s.users, &picked);
      EXPECT_EQ(by_last_day, expected) << where;
      EXPECT_EQ(by_unions, expected) << where;
      EXPECT_EQ(picked, expected) << where;
    }
  }
}

TEST(WindowCounts, NoUserAnyDayCountsZero) {
  const std::vector<const Bitmap*> days(9, nullptr);
  for (const uint32_t w : {1u, 4u, 9u}) {
    std::vector<uint64_t> a(10 - w, 7), b(10 - w, 7), c(10 - w, 7);
    window_counts_by_last_day(days, w, 0, &a);
    window_counts_by_unions(days, w, &b);
    window_counts(days, w, 0, &c);
    EXPECT_EQ(a, std::vector<uint64_t>(10 - w, 0));
    EXPECT_EQ(b, a);
    EXPECT_EQ(c, a);
  }
}

}  // namespace
}  // namespace usagedb::query
