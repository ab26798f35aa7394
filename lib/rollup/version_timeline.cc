#include "lib/rollup/version_timeline.h"

#include <algorithm>
#include <vector>

#include "lib/rollup/timeline_build.h"
#include "lib/util/civil_time.h"

namespace usagedb {

VersionTimeline VersionTimeline::build(uint32_t yyyymm, std::span<const std::shared_ptr<const Part>> parts) {
  using rollup_internal::coarsen;
  using rollup_internal::emit_bucket;
  VersionTimeline t;
  TimelineLevel& hours = t.versions[static_cast<int>(Granularity::kHour)];
  TimelineLevel& active_hours = t.active[static_cast<int>(Granularity::kHour)];
  std::vector<uint64_t> pairs, users, scratch;
  rollup_internal::for_each_hour(
      parts,
      [&](size_t p, uint32_t row) {
        const PartColumns& c = parts[p]->columns();
        pairs.push_back((static_cast<uint64_t>(c.version[row]) << 32) | c.user[row]);
        users.push_back(c.user[row]);
      },
      [&](int64_t hour) {
        emit_bucket(static_cast<uint32_t>(hour), pairs, nullptr, hours, scratch);
        emit_bucket(static_cast<uint32_t>(hour), users, nullptr, active_hours, scratch);
      });
  for (TimelineLevel* level : {&hours, &active_hours}) {
    level->cells.shrink_to_fit();
    level->user_codes.shrink_to_fit();
  }
  const auto day_of = [](uint32_t b) { return static_cast<uint32_t>(civil::start_of_day(b)); };
  const auto week_of = [](uint32_t b) { return static_cast<uint32_t>(civil::start_of_week(b)); };
  const auto month = static_cast<uint32_t>(civil::month_start(yyyymm));
  const auto month_of = [month](uint32_t) { return month; };
  for (TimelineLevel* levels : {t.versions, t.active}) {
    levels[static_cast<int>(Granularity::kDay)] = coarsen(levels[static_cast<int>(Granularity::kHour)], day_of);
    levels[static_cast<int>(Granularity::kWeek)] = coarsen(levels[static_cast<int>(Granularity::kDay)], week_of);
    levels[static_cast<int>(Granularity::kMonth)] = coarsen(levels[static_cast<int>(Granularity::kDay)], month_of);
  }
  return t;
}

size_t VersionTimeline::memory_bytes() const {
  size_t n = 0;
  for (const TimelineLevel* levels : {versions, active}) {
    for (int g = 0; g < 4; ++g) {
      n += levels[g].cells.capacity() * sizeof(TimelineCell) + levels[g].user_codes.capacity() * sizeof(uint32_t);
    }
  }
  return n;
}

}  // namespace usagedb
