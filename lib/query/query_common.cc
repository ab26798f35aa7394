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

StringRank::StringRank(const Dictionary& dict, std::vector<uint32_t> codes) {
  // Distinct codes: through a bitmap when the codes are dense enough (the
  // common case, a small dictionary), else by sorting.
  uint32_t max_code = 0;
  for (const uint32_t c : codes) max_code = std::max(max_code, c);
  const bool dense = max_code < 4 * codes.size() + 4096;
  if (dense) {
    std::vector<bool> seen(max_code + 1);
    size_t n = 0;
    for (const uint32_t c : codes) {
      if (!seen[c]) {
        seen[c] = true;
        codes[n++] = c;
      }
    }
    codes.resize(n);
  } else {
    std::sort(codes.begin(), codes.end());
    codes.erase(std::unique(codes.begin(), codes.end()), codes.end());
  }
  std::vector<std::pair<std::string_view, uint32_t>> named;
  named.reserve(codes.size());
  for (const uint32_t c : codes) named.emplace_back(dict.lookup(c), c);
  std::sort(named.begin(), named.end());
  if (dense) {
    dense_.assign(max_code + 1, UINT32_MAX);
  } else {
    rank_.reserve(named.size());
  }
  codes_.reserve(named.size());
  for (uint32_t i = 0; i < named.size(); ++i) {
    if (dense) {
      dense_[named[i].second] = i;
    } else {
      rank_.emplace(named[i].second, i);
    }
    codes_.push_back(named[i].second);
  }
}

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

}  // namespace query
}  // namespace usagedb
