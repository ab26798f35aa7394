#include "lib/query/window_counts.h"

#include <algorithm>

namespace usagedb::query {

void window_counts_by_last_day(const std::vector<const Bitmap*>& days, uint32_t w, uint32_t users,
                               std::vector<uint64_t>* out) {
  constexpr uint32_t kNever = UINT32_MAX;
  std::vector<uint32_t> last(users, kNever);  // by user: the index of their last active day
  std::vector<uint64_t> last_on(days.size(), 0);  // by day index: the users last active that day
  uint64_t active = 0;  // users whose last active day is in the window
  for (uint32_t i = 0; i < days.size(); ++i) {
    if (i >= w) active -= last_on[i - w];  // their last day left the window
    if (const Bitmap* b = days[i]) {
      b->for_each_batch([&](std::span<const uint32_t> batch) {
        for (const uint32_t u : batch) {
          const uint32_t previous = last[u];
          if (previous == kNever || previous + w <= i) ++active;
          if (previous != kNever) --last_on[previous];
          ++last_on[i];
          last[u] = i;
        }
      });
    }
    if (i + 1 >= w) (*out)[i + 1 - w] = active;
  }
}

void window_counts_by_unions(const std::vector<const Bitmap*>& days, uint32_t w, std::vector<uint64_t>* out) {
  const size_t n = days.size();
  // suffix[j - (start - w)]: the union of days [j, start) of the block
  // before the current one, which begins at start - w.
  std::vector<Bitmap> suffix(w);
  for (size_t start = 0; start < n; start += w) {
    const size_t end = std::min(n, start + size_t{w});
    // The prefix unions of this block, and the windows [i - w + 1, i]
    // that end in it.
    Bitmap prefix;
    for (size_t i = start; i < end; ++i) {
      if (days[i] != nullptr) prefix.union_with(*days[i]);
      if (i + 1 < w) continue;
      const size_t j = i + 1 - w;  // the window's first day: start, or in the block before
      (*out)[j] = j == start ? prefix.cardinality() : suffix[j + w - start].or_cardinality(prefix);
    }
    if (end == n) break;
    // The suffix unions of this block, for the windows that end in the next.
    for (size_t i = end; i-- > start;) {
      Bitmap& s = suffix[i - start];
      s = i + 1 < end ? suffix[i + 1 - start].copy() : Bitmap();
      if (days[i] != nullptr) s.union_with(*days[i]);
    }
  }
}

void window_counts(const std::vector<const Bitmap*>& days, uint32_t w, uint32_t users, std::vector<uint64_t>* out) {
  if (w == 1) {
    for (size_t i = 0; i < out->size(); ++i) (*out)[i] = days[i] != nullptr ? days[i]->cardinality() : 0;
    return;
  }
  // Costs in (day, user) steps of by_last_day (~5 ns each). A union or
  // or_cardinality of by_unions costs about 0.3 step per value while its
  // containers are arrays (up to 4096 values each), and ~40 steps per
  // 65536-code container once they are bitsets (1024 words); a window's
  // union holds at most w days' users and at most every user. The users a
  // day are estimated from up to kSample days spread over the series (a
  // cardinality walks the bitmap's containers, runs included: a year of
  // them cost more than a choice saves).
  constexpr size_t kSample = 32;
  const size_t step = std::max<size_t>(1, days.size() / kSample);
  uint64_t sampled = 0, sampled_users = 0;
  for (size_t i = 0; i < days.size(); i += step, ++sampled) {
    if (days[i] != nullptr) sampled_users += days[i]->cardinality();
  }
  const double per_day = static_cast<double>(sampled_users) / static_cast<double>(sampled);
  const double pairs = per_day * static_cast<double>(days.size());
  const double window_users = std::min(per_day * w, static_cast<double>(users));
  const double containers = static_cast<double>(users / 65536 + 1);
  const double per_op = window_users > 4096.0 * containers ? 40.0 * containers : 0.3 * window_users;
  if (3.0 * per_op * static_cast<double>(days.size()) < pairs) {
    window_counts_by_unions(days, w, out);
  } else {
    window_counts_by_last_day(days, w, users, out);
  }
}

}  // namespace usagedb::query
