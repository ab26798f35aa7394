#include "lib/rollup/day_user_bits.h"

#include <algorithm>

#include "lib/util/civil_time.h"

namespace usagedb {

DayUserBits DayUserBits::from_cells(const TimelineLevel& days, uint32_t feature) {
  DayUserBits b;
  int64_t last_day = 0;
  uint32_t users = 0;  // the largest user code + 1
  bool any = false;
  size_t entries = 0;
  for (const TimelineCell& c : days.cells) {
    if (c.feature != feature || c.users_begin == c.users_end) continue;
    if (!any) b.first_day = c.bucket;
    any = true;
    last_day = c.bucket;
    users = std::max(users, days.user_codes[c.users_end - 1] + 1);  // ascending
    entries += c.users_end - c.users_begin;
  }
  if (!any) return b;
  const auto day_count = static_cast<uint32_t>((last_day - b.first_day) / civil::kSecondsPerDay + 1);
  const uint32_t words = (users + 63) / 64;
  if (size_t{day_count} * words * sizeof(uint64_t) > entries * kMaxBitsPerEntry) {
    b.dense = false;
    b.first_day = 0;
    return b;
  }
  b.days = day_count;
  b.words = words;
  b.bits.assign(size_t{b.days} * b.words, 0);
  for (const TimelineCell& c : days.cells) {
    if (c.feature != feature) continue;
    uint64_t* set = &b.bits[static_cast<size_t>((c.bucket - b.first_day) / civil::kSecondsPerDay) * b.words];
    for (const uint32_t user : days.users(c)) set[user / 64] |= uint64_t{1} << (user % 64);
  }
  return b;
}

}  // namespace usagedb
