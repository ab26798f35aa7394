#include "tests/testutil/random_events.h"

#include <chrono>

#include "absl/strings/str_cat.h"

namespace usagedb::testing {
namespace {

Timestamp at(const char* text) { return parse_timestamp(text).value(); }

}  // namespace

RandomEvents::RandomEvents(uint64_t seed) : random_(seed) {
  // Byte order corner cases: uppercase sorts before lowercase, a prefix
  // before its extensions, multi-byte UTF-8 after ASCII.
  users_ = {"user_1", "user_2", "user_10", "User_1", "u", "usér_ü", "用户_7", "😀", "user with space", "a\"quote"};
  for (int i = 0; i < 30; ++i) users_.push_back(absl::StrCat("user_", 100 + i));
  features_ = {"feature_1", "feature_10", "feature_2", "Feature_1", "f", "fé", "機能", "feature,comma", "z"};
  for (int i = 0; i < 6; ++i) features_.push_back(absl::StrCat("feature_", 20 + i));
  for (int major = 0; major < 3; ++major) {
    for (int minor = 0; minor < 8; ++minor) versions_.push_back(absl::StrCat(major + 1, ".", minor, ".", minor % 3));
  }
  versions_.push_back("2.0.0-beta");
  versions_.push_back("v2");
  event_types_ = {"view", "click", "feature_used", "error", "Ünïcode"};
  sessions_ = {"", "session_1", "session_2", "session_3", "séssion", "s"};
  for (int i = 0; i < 20; ++i) sessions_.push_back(absl::StrCat("session_", 100 + i));
  anchors_ = {
      at("1970-01-01 00:00:00"), at("1970-01-04 23:59:59"), at("1970-01-05 00:00:00"),
      at("2023-12-31 23:59:59"), at("2024-01-01 00:00:00"), at("2024-02-28 12:00:00"),
      at("2024-02-29 23:59:59"), at("2024-03-01 00:00:00"), at("2025-03-30 23:59:59"),  // a Sunday
      at("2025-03-31 00:00:00"),                                                          // a Monday
      at("2025-06-30 23:00:00"), at("2025-07-01 00:00:00"), at("2105-12-31 23:59:59"),
      at("2105-12-01 00:00:00"), at("2000-02-29 10:00:00"),
      // DST changes (UTC instants): New York, London, Lord_Howe (30 minutes),
      // Chatham (+12:45/+13:45), St_Johns (-3:30/-2:30), and Kathmandu's move
      // from +5:30 to +5:45; a Kolkata local midnight at a month's end.
      at("2025-03-09 07:00:00"), at("2025-11-02 06:00:00"), at("2025-03-30 01:00:00"),
      at("2025-10-26 01:00:00"), at("2025-04-05 15:00:00"), at("2025-10-04 15:30:00"),
      at("2025-04-05 14:00:00"), at("2025-09-27 14:00:00"), at("2025-03-09 05:30:00"),
      at("2025-11-02 04:30:00"), at("1985-12-31 18:30:00"), at("2025-06-30 18:30:00"),
  };
  properties_ = {"device", "os", "plan", "dev\"ice", "ü", "missing"};
}

const std::vector<std::string>& RandomEvents::time_zones() {
  static const std::vector<std::string> kZones = {
      "UTC",           "America/New_York",    "Europe/London",   "Asia/Kolkata",
      "Asia/Kathmandu", "Australia/Lord_Howe", "Pacific/Chatham", "America/St_Johns"};
  return kZones;
}

std::string RandomEvents::metadata() {
  // A few values, so parts and rollups see each metadata string many times.
  const std::string v = absl::StrCat("v", random_.uniform(3));
  switch (random_.uniform(24)) {
    case 0: return "";
    case 1: return absl::StrCat(R"({"device":")", v, R"(","os":"ios"})");
    case 2: return absl::StrCat(R"({"os":"android","device":")", v, R"("})");
    case 3: return absl::StrCat(R"({"device":")", v, R"(","device":"second"})");  // the first wins
    case 4: return absl::StrCat(R"({"\u0064evice":")", v, R"("})");              // an escaped name
    case 5: return R"({"device":1,"device":"later"})";                          // the first is a number
    case 6: return R"({"device":true,"os":null,"plan":{"tier":"pro"}})";
    case 7: return R"({"device":["a"],"plan":"pro"})";
    case 8: return absl::StrCat(R"({"device":")", v, R"(","n":1e400})");        // invalid: beyond a double
    case 9: return absl::StrCat(R"({"device":")", v, R"(","n":99999999999999999999})");  // beyond uint64
    case 10: return absl::StrCat(R"({"device":")", v, R"(","s":"\ud800"})");   // an escaped lone surrogate
    case 11: return R"({"device":"\ud83d\ude00","os":"\u00fc"})";              // a pair, decoded
    case 12: return R"({"device":"mobile"} trailing)";
    case 13: return R"({"device":"mobile",})";
    case 14: return R"(["device","mobile"])";
    case 15: return R"("device")";
    case 16: return "{\"device\":\"tab\tinside\"}";  // a raw control character: invalid
    case 17: return absl::StrCat(R"( { "dev\"ice" : ")", v, R"(" , "ü" : "ÿ" } )");
    case 18: return R"({"device":"esc\"aped\\\/","":"empty key","n":-9223372036854775808})";
    case 19: return R"({"device":"x","n":1.7976931348623157e308,"m":1e-400,"k":18446744073709551615})";
    case 20: return R"({"device":"x","n":-9223372036854775809})";  // invalid: below int64
    case 21: return "not json";
    case 22: return R"({"plan":"free","device":"nul\u0000byte"})";
    default: return absl::StrCat(R"({"device":")", v, R"(","os":"linux","plan":"team"})");
  }
}

std::optional<std::string> RandomEvents::maybe_zone() {
  if (random_.chance(0.3)) return std::nullopt;
  return time_zones()[random_.uniform(time_zones().size())];
}

Timestamp RandomEvents::timestamp() {
  const Timestamp anchor = anchors_[random_.uniform(anchors_.size())];
  int64_t s = anchor.time_since_epoch().count();
  switch (random_.uniform(4)) {
    case 0: break;                                       // identical timestamps
    case 1: s += random_.range(-3, 3); break;            // across a boundary
    case 2: s += random_.range(-2 * 86400, 2 * 86400); break;
    default: s += random_.range(-40 * 86400, 40 * 86400); break;
  }
  s = std::clamp<int64_t>(s, kMinTimestamp.time_since_epoch().count(), kMaxTimestamp.time_since_epoch().count());
  return Timestamp{std::chrono::seconds{s}};
}

OwnedEvent RandomEvents::event() {
  OwnedEvent e;
  const uint64_t kind = random_.uniform(10);
  if (kind == 0) {
    e.event_id = "";
  } else if (kind == 1 && !issued_ids_.empty()) {
    e.event_id = issued_ids_[random_.uniform(issued_ids_.size())];  // a retry, maybe in another month
  } else {
    e.event_id = absl::StrCat("evt_", next_id_++);
    issued_ids_.push_back(e.event_id);
  }
  // A few heavy users and features, the rest spread out, and now and then a
  // user with this one event.
  if (random_.chance(0.02)) {
    e.user_id = absl::StrCat("solo_", next_solo_user_++);
  } else {
    e.user_id = users_[random_.chance(0.3) ? random_.uniform(3) : random_.uniform(users_.size())];
  }
  e.feature_id = features_[random_.chance(0.3) ? random_.uniform(2) : random_.uniform(features_.size())];
  e.product_version = versions_[random_.uniform(versions_.size())];
  e.event_type = event_types_[random_.uniform(event_types_.size())];
  e.timestamp = timestamp();
  e.session_id = sessions_[random_.uniform(sessions_.size())];
  e.metadata = metadata();
  return e;
}

std::vector<OwnedEvent> RandomEvents::events(size_t n) {
  std::vector<OwnedEvent> out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) out.push_back(event());
  return out;
}

std::optional<std::string> RandomEvents::maybe(const std::vector<std::string>& pool, double p_absent) {
  if (random_.chance(p_absent)) return std::nullopt;
  if (random_.chance(0.05)) return std::string("no_such_value");
  if (random_.chance(0.02)) return std::string("");
  return pool[random_.uniform(pool.size())];
}

std::optional<Timestamp> RandomEvents::maybe_date() {
  if (random_.chance(0.5)) return std::nullopt;
  Timestamp t = timestamp();
  switch (random_.uniform(6)) {
    case 0:
    case 1:
      t = std::chrono::floor<std::chrono::days>(t);  // a whole date
      break;
    case 2: {  // the first of a month: whole partitions, answered by rollups
      const std::chrono::year_month_day ymd{std::chrono::floor<std::chrono::days>(t)};
      t = std::chrono::sys_days{ymd.year() / ymd.month() / 1};
      break;
    }
    case 3:
      t = std::chrono::floor<std::chrono::hours>(t);  // an hour boundary
      break;
    default:
      break;  // any second
  }
  return t;
}

void RandomEvents::maybe_window(std::optional<Timestamp>* start, std::optional<Timestamp>* end) {
  *start = maybe_date();
  *end = maybe_date();
  if (*start && *end && **end < **start) std::swap(*start, *end);
}

void RandomEvents::paging(std::optional<uint64_t>* limit, std::optional<uint64_t>* skip) {
  if (random_.chance(0.3)) *limit = random_.uniform(6);
  if (random_.chance(0.3)) *skip = random_.uniform(6);
}

UserFeatureUsageQuery RandomEvents::user_query() {
  UserFeatureUsageQuery q;
  q.user_id = maybe(users_, 0.05);
  q.feature_id = maybe(features_, 0.6);
  q.product_version = maybe(versions_, 0.8);
  paging(&q.limit, &q.skip);
  return q;
}

FeatureUsageSummaryQuery RandomEvents::summary_query() {
  FeatureUsageSummaryQuery q;
  q.feature_id = maybe(features_, 0.6);
  q.product_version = maybe(versions_, 0.8);
  q.event_type = maybe(event_types_, 0.7);
  q.start_date = maybe_date();
  q.end_date = maybe_date();
  if (q.start_date && q.end_date && *q.end_date < *q.start_date) std::swap(q.start_date, q.end_date);
  paging(&q.limit, &q.skip);
  return q;
}

FeatureUsageTimelineQuery RandomEvents::timeline_query() {
  FeatureUsageTimelineQuery q;
  constexpr Granularity kAll[] = {Granularity::kHour, Granularity::kDay, Granularity::kWeek, Granularity::kMonth};
  q.granularity = kAll[random_.uniform(4)];
  q.feature_id = maybe(features_, 0.6);
  q.product_version = maybe(versions_, 0.8);
  q.event_type = maybe(event_types_, 0.7);
  q.start_date = maybe_date();
  q.end_date = maybe_date();
  if (q.start_date && q.end_date && *q.end_date < *q.start_date) std::swap(q.start_date, q.end_date);
  q.tz = maybe_zone();
  paging(&q.limit, &q.skip);
  return q;
}

PropertyBreakdownQuery RandomEvents::property_query() {
  PropertyBreakdownQuery q;
  q.property = properties_[random_.chance(0.5) ? 0 : random_.uniform(properties_.size())];
  q.feature_id = maybe(features_, 0.6);
  q.product_version = maybe(versions_, 0.8);
  q.event_type = maybe(event_types_, 0.7);
  q.start_date = maybe_date();
  q.end_date = maybe_date();
  if (q.start_date && q.end_date && *q.end_date < *q.start_date) std::swap(q.start_date, q.end_date);
  paging(&q.limit, &q.skip);
  return q;
}

VersionAdoptionQuery RandomEvents::version_query() {
  VersionAdoptionQuery q;
  constexpr Granularity kAll[] = {Granularity::kHour, Granularity::kDay, Granularity::kWeek, Granularity::kMonth};
  q.granularity = kAll[random_.uniform(4)];
  q.feature_id = maybe(features_, 0.7);
  q.event_type = maybe(event_types_, 0.8);
  q.start_date = maybe_date();
  q.end_date = maybe_date();
  if (q.start_date && q.end_date && *q.end_date < *q.start_date) std::swap(q.start_date, q.end_date);
  q.tz = maybe_zone();
  paging(&q.limit, &q.skip);
  return q;
}

FeatureAdoptionQuery RandomEvents::adoption_query() {
  FeatureAdoptionQuery q;
  q.feature_id = maybe(features_, 0.6);
  q.product_version = maybe(versions_, 0.8);
  q.event_type = maybe(event_types_, 0.7);
  maybe_window(&q.start_date, &q.end_date);
  paging(&q.limit, &q.skip);
  return q;
}

ActiveUsersQuery RandomEvents::active_users_query() {
  ActiveUsersQuery q;
  constexpr uint32_t kWindows[] = {1, 1, 2, 7, 28, 30};
  q.window_days = random_.chance(0.03) ? 365 : kWindows[random_.uniform(std::size(kWindows))];
  q.feature_id = maybe(features_, 0.6);
  q.product_version = maybe(versions_, 0.85);
  q.event_type = maybe(event_types_, 0.8);
  // Days around the data's dates, mostly given: without them the series
  // spans every day from the first event to the last.
  auto day = [&] {
    return std::chrono::floor<std::chrono::days>(timestamp()) + std::chrono::days{random_.range(-3, 3)};
  };
  const uint64_t dates = random_.uniform(10);
  if (dates < 6) {
    q.start_date = day();
    q.end_date = *q.start_date + std::chrono::days{random_.range(0, 70)};
  } else if (dates == 6) {
    q.start_date = day();
  } else if (dates == 7) {
    q.end_date = day();
  } else if (q.window_days > 30) {
    q.window_days = 30;  // the reference spreads each event over window_days days
  }
  // Keep the dates within the Date parameters' range.
  constexpr std::chrono::sys_days kLast{std::chrono::year{2105} / 12 / 31};
  for (auto* d : {&q.start_date, &q.end_date}) {
    if (*d && **d < std::chrono::sys_days{}) *d = std::chrono::sys_days{};
    if (*d && **d > kLast) *d = kLast;
  }
  q.tz = maybe_zone();
  paging(&q.limit, &q.skip);
  return q;
}

FeatureRetentionQuery RandomEvents::retention_query() {
  FeatureRetentionQuery q;
  constexpr Granularity kAll[] = {Granularity::kDay, Granularity::kWeek, Granularity::kMonth};
  q.feature_id = maybe(features_, 0.5);
  q.granularity = kAll[random_.uniform(3)];
  q.product_version = maybe(versions_, 0.85);
  q.event_type = maybe(event_types_, 0.8);
  maybe_window(&q.start_date, &q.end_date);
  q.tz = maybe_zone();
  paging(&q.limit, &q.skip);
  return q;
}

FeatureFunnelQuery RandomEvents::funnel_query() {
  FeatureFunnelQuery q;
  // 2 to 8 distinct steps, the heavy features often among them, and now
  // and then a feature that was never stored.
  const size_t n = 2 + random_.uniform(random_.chance(0.7) ? 2 : 7);
  std::vector<std::string> pool = features_;
  if (random_.chance(0.1)) pool.push_back("no_such_value");
  while (q.steps.size() < n) {
    const std::string& f = random_.chance(0.4) ? pool[random_.uniform(2)] : pool[random_.uniform(pool.size())];
    if (std::find(q.steps.begin(), q.steps.end(), f) == q.steps.end()) q.steps.push_back(f);
  }
  constexpr int64_t kWindows[] = {1, 2, 60, 3600, 86400, 7 * 86400, 31536000};
  q.window = std::chrono::seconds(random_.chance(0.2) ? random_.range(1, 31536000)
                                                      : kWindows[random_.uniform(std::size(kWindows))]);
  q.product_version = maybe(versions_, 0.85);
  q.event_type = maybe(event_types_, 0.8);
  maybe_window(&q.start_date, &q.end_date);
  paging(&q.limit, &q.skip);
  return q;
}

}  // namespace usagedb::testing
