#include "lib/rollup/feature_hours.h"

#include <algorithm>

#include "lib/util/civil_time.h"

namespace usagedb {

std::pair<size_t, size_t> FeatureHours::cells_between(uint32_t first, uint32_t last) const {
  const auto begin = std::lower_bound(hours.begin(), hours.end(), first);
  const auto end = std::lower_bound(begin, hours.end(), last);
  return {static_cast<size_t>(begin - hours.begin()), static_cast<size_t>(end - hours.begin())};
}

namespace {

// FeatureHours' hours by day (day_bits and on), from `cells` (hours
// first_hour to last_hour, `entries` users in all, none above max_user).
void make_days(const TimelineLevel& level, std::span<const uint32_t> cells, size_t entries, uint32_t max_user,
               int64_t first_hour, int64_t last_hour, FeatureHours& h) {
  const int64_t first_day = civil::floor_div(first_hour, 24), last_day = civil::floor_div(last_hour, 24);
  const auto days = static_cast<size_t>(last_day - first_day + 1);
  const size_t words = size_t{max_user} / 64 + 1;
  // The bits and offsets (24 bytes a word a day) up to four times the bytes
  // of the entries in the cells (2 each), or 64 KiB.
  if (days * words * 24 > std::max<size_t>(entries * 8, size_t{1} << 16) || days > UINT32_MAX || entries >= UINT32_MAX / 2) return;
  h.day_first = first_day;
  h.day_count = static_cast<uint32_t>(days);
  h.day_words = static_cast<uint32_t>(words);
  h.day_bits.assign(days * words, 0);
  h.day_offsets.assign(days * words * 4, 0);
  h.day_hours.reserve(entries + entries / 2);
  // A day's (user, hour) pairs, from its cells in hour order, then by user.
  std::vector<std::pair<uint32_t, uint8_t>> day;
  const auto finish_day = [&](int64_t d) {
    std::stable_sort(day.begin(), day.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    const size_t at = static_cast<size_t>(d - first_day) * words;
    uint64_t* bits = &h.day_bits[at];
    uint32_t* offsets = &h.day_offsets[at * 4];
    size_t group = 0;  // the groups of 16 users up to this one have their offsets
    for (size_t i = 0; i < day.size();) {
      const uint32_t user = day[i].first;
      for (; group <= user / 16; ++group) offsets[group] = static_cast<uint32_t>(h.day_hours.size());
      bits[user / 64] |= uint64_t{1} << (user % 64);
      size_t j = i;
      while (j < day.size() && day[j].first == user) ++j;
      h.day_hours.push_back(static_cast<uint8_t>(j - i));  // at most 24
      for (; i < j; ++i) h.day_hours.push_back(day[i].second);
    }
    for (; group < words * 4; ++group) offsets[group] = static_cast<uint32_t>(h.day_hours.size());
    day.clear();
  };
  int64_t current = first_day;
  for (const uint32_t index : cells) {
    const TimelineCell& cell = level.cells[index];
    if (cell.users_begin == cell.users_end) continue;
    const int64_t hour = civil::floor_div(cell.bucket, civil::kSecondsPerHour);
    const int64_t d = civil::floor_div(hour, 24);
    if (d != current) finish_day(current), current = d;
    const auto of_day = static_cast<uint8_t>(hour - d * 24);
    for (const uint32_t user : level.users(cell)) day.emplace_back(user, of_day);
  }
  finish_day(current);
}

}  // namespace

FeatureHours FeatureHours::from_cells(const TimelineLevel& level, std::span<const uint32_t> cells, uint32_t heavy) {
  FeatureHours h;
  size_t entries = 0;
  uint32_t max_user = 0;
  int64_t first_hour = 0, last_hour = 0;
  bool any = false;
  for (const uint32_t i : cells) {
    const TimelineCell& cell = level.cells[i];
    if (cell.users_begin == cell.users_end) continue;
    entries += cell.users_end - cell.users_begin;
    max_user = std::max(max_user, level.user_codes[cell.users_end - 1]);
    const int64_t hour = civil::floor_div(cell.bucket, civil::kSecondsPerHour);
    if (!any) first_hour = hour, any = true;
    last_hour = hour;
  }
  if (!any) return h;
  const size_t entries_all = entries;
  // Each user's cells, when heavy users may be kept apart.
  std::vector<uint32_t> count;
  if (heavy > 0 && last_hour - first_hour <= UINT16_MAX) {
    count.assign(size_t{max_user} + 1, 0);
    for (const uint32_t i : cells) {
      for (const uint32_t user : level.users(level.cells[i])) ++count[user];
    }
    h.heavy_base = static_cast<uint32_t>(first_hour);
    h.heavy_last = static_cast<uint32_t>(last_hour - first_hour);
    // count[user] becomes the heavy user's next slot in heavy_hours, or
    // UINT32_MAX for a light one.
    uint32_t slots = 0;
    for (uint32_t user = 0; user < count.size(); ++user) {
      if (count[user] < heavy) {
        count[user] = UINT32_MAX;
        continue;
      }
      h.heavy_users.push_back(user);
      const uint32_t n = count[user];
      count[user] = slots;
      slots += n;
      h.heavy_ends.push_back(slots);
    }
    h.heavy_hours.resize(slots);
    entries -= slots;
    if (h.heavy_users.empty()) count.clear();
  }
  const bool narrow = max_user <= UINT16_MAX;
  h.hours.reserve(cells.size());
  h.ends.reserve(cells.size());
  if (narrow) {
    h.narrow.reserve(entries);
  } else {
    h.users.reserve(entries);
  }
  for (const uint32_t i : cells) {
    const TimelineCell& cell = level.cells[i];
    if (cell.users_begin == cell.users_end) continue;
    const std::span<const uint32_t> users = level.users(cell);
    const auto hour = static_cast<uint32_t>(civil::floor_div(cell.bucket, civil::kSecondsPerHour));
    const size_t before = narrow ? h.narrow.size() : h.users.size();
    if (count.empty()) {
      if (narrow) {
        h.narrow.insert(h.narrow.end(), users.begin(), users.end());  // each below 2^16
      } else {
        h.users.insert(h.users.end(), users.begin(), users.end());
      }
    } else {
      for (const uint32_t user : users) {
        if (count[user] != UINT32_MAX) {
          h.heavy_hours[count[user]++] = static_cast<uint16_t>(hour - h.heavy_base);
        } else if (narrow) {
          h.narrow.push_back(static_cast<uint16_t>(user));
        } else {
          h.users.push_back(user);
        }
      }
    }
    const size_t after = narrow ? h.narrow.size() : h.users.size();
    if (after == before) continue;  // only heavy users
    h.hours.push_back(hour);
    h.ends.push_back(static_cast<uint32_t>(after));
  }
  make_days(level, cells, entries_all, max_user, first_hour, last_hour, h);
  return h;
}

}  // namespace usagedb
