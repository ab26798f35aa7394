#include "lib/query/query_common.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "lib/util/civil_time.h"

namespace usagedb {

std::string_view granularity_name(Granularity g) {
  switch (g) {
    case Granularity::kHour: return "hour";
    case Granularity::kDay: return "day";
    case Granularity::kWeek: return "week";
    case Granularity::kMonth: return "month";
  }
  return "?";
}

namespace query {

bool TimeWindow::overlaps_month(uint32_t yyyymm) const {
  const int64_t first = civil::month_start(yyyymm);
  const int64_t after = civil::month_start(civil::next_month(yyyymm));
  return first < end && begin < after;
}

absl::StatusOr<TimeWindow> make_window(const std::optional<Timestamp>& start_date,
                                       const std::optional<Timestamp>& end_date) {
  for (const auto& [name, value] : {std::pair{"start_date", &start_date}, std::pair{"end_date", &end_date}}) {
    if (value->has_value() && (**value < kMinTimestamp || **value > kMaxTimestamp)) {
      return absl::InvalidArgumentError(absl::StrCat(name, ": ", (*value)->time_since_epoch().count(),
                                                     " seconds is outside the DateTime range 1970-01-01 "
                                                     "00:00:00 to 2105-12-31 23:59:59 UTC"));
    }
  }
  TimeWindow w;
  if (start_date) w.begin = start_date->time_since_epoch().count();
  if (end_date) w.end = end_date->time_since_epoch().count();
  if (start_date && end_date && *end_date < *start_date) {
    return absl::InvalidArgumentError(absl::StrCat("end_date: ", format_timestamp(*end_date),
                                                   " is before start_date ", format_timestamp(*start_date)));
  }
  return w;
}

absl::StatusOr<const TimeZone*> resolve_time_zone(const std::optional<std::string>& tz) {
  if (!tz.has_value()) return &TimeZone::utc();
  absl::StatusOr<std::shared_ptr<const TimeZone>> zone = TimeZone::load(*tz);
  if (!zone.ok()) return absl::InvalidArgumentError(absl::StrCat("tz: ", zone.status().message()));
  return zone->get();
}

}  // namespace query
}  // namespace usagedb
