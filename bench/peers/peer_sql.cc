#include "peer_sql.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace usagedb::bench {
namespace {

constexpr const char kTsFormat[] = "'%Y-%m-%d %H:%M:%S'";

bool is_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

int to_int(std::string_view s) {
  int v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

bool is_leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int days_in_month(int y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : kDays[m - 1];
}

// Which parameters each endpoint takes; anything else set in EndpointParams is an error.
struct Accepts {
  bool user_id = false, event_type = false, dates = false, granularity = false, property = false, tz = false,
       window_days = false;
};

absl::Status check_accepted(std::string_view endpoint, const EndpointParams& p, Accepts a) {
  auto reject = [&](const char* name) {
    return absl::InvalidArgumentError(std::string(endpoint) + ": unknown parameter '" + name +
                                      "' (this endpoint does not take it)");
  };
  if (!a.user_id && p.user_id) return reject("user_id");
  if (!a.event_type && p.event_type) return reject("event_type");
  if (!a.dates && p.start_date) return reject("start_date");
  if (!a.dates && p.end_date) return reject("end_date");
  if (!a.granularity && p.granularity) return reject("granularity");
  if (!a.property && p.property) return reject("property");
  if (!a.tz && p.tz) return reject("tz");
  if (!a.window_days && p.window_days) return reject("window_days");
  if (p.steps) return reject("steps");
  if (p.window) return reject("window");
  return absl::OkStatus();
}

std::string ts_literal(Dialect d, const std::string& normalized) {
  // `normalized` is "YYYY-MM-DD HH:MM:SS" (validated), so it needs no escaping.
  if (d == Dialect::kClickHouse) return "toDateTime('" + normalized + "', 'UTC')";
  return "TIMESTAMP '" + normalized + "'";
}

std::string ts_column(Dialect d) { return d == Dialect::kClickHouse ? "timestamp" : "\"timestamp\""; }

// " AND col = 'v'" for each string filter that is set, then the date range.
absl::StatusOr<std::string> where_clause(Dialect d, const EndpointParams& p) {
  std::string w = " WHERE 1=1";
  auto eq = [&](const char* col, const std::optional<std::string>& v) {
    if (v) w += std::string(" AND ") + col + " = " + sql_string_literal(d, *v);
  };
  eq("feature_id", p.feature_id);
  eq("product_version", p.product_version);
  eq("event_type", p.event_type);
  if (p.start_date) {
    absl::StatusOr<std::string> s = normalize_datetime_param("start_date", *p.start_date);
    if (!s.ok()) return s.status();
    w += " AND " + ts_column(d) + " >= " + ts_literal(d, *s);
  }
  if (p.end_date) {
    absl::StatusOr<std::string> e = normalize_datetime_param("end_date", *p.end_date);
    if (!e.ok()) return e.status();
    w += " AND " + ts_column(d) + " < " + ts_literal(d, *e);
  }
  return w;
}

// SPEC 2.4: LIMIT skip, limit; skip alone skips with no limit.
std::string limit_clause(Dialect d, const EndpointParams& p) {
  if (!p.limit && !p.skip) return "";
  if (d == Dialect::kClickHouse) {
    if (p.limit) {
      return " LIMIT " + std::to_string(p.skip.value_or(0)) + ", " + std::to_string(*p.limit);
    }
    return " OFFSET " + std::to_string(*p.skip);
  }
  // DuckDB takes LIMIT/OFFSET as BIGINT: clamp (no table holds 2^63 rows).
  constexpr uint64_t kMax = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  std::string out;
  if (p.limit) out += " LIMIT " + std::to_string(std::min(*p.limit, kMax));
  if (p.skip) out += " OFFSET " + std::to_string(std::min(*p.skip, kMax));
  return out;
}

// SPEC 2.11's {bucket_tz} of `granularity` in zone `tz` (absent: UTC): a DateTime(tz) in
// ClickHouse; in DuckDB the local wall-clock time of the period's start, a TIMESTAMP.
absl::StatusOr<std::string> period_expression(Dialect d, const std::string& g, const std::optional<std::string>& tz) {
  const std::string zone = sql_string_literal(d, tz.value_or("UTC"));
  std::string bucket;
  if (d == Dialect::kClickHouse) {
    if (g == "hour") bucket = "toStartOfHour(timestamp, " + zone + ")";
    else if (g == "day") bucket = "toStartOfDay(timestamp, " + zone + ")";
    // toMonday clamps to 1970-01-01 by itself (the Date range).
    else if (g == "week") bucket = "toDateTime(toMonday(timestamp, " + zone + "), " + zone + ")";
    else if (g == "month") bucket = "toDateTime(toStartOfMonth(timestamp, " + zone + "), " + zone + ")";
  } else {
    // The local wall-clock time of each event: DuckDB's ICU extension.
    const std::string local = "timezone(" + zone + ", " + ts_column(d) + " AT TIME ZONE 'UTC')";
    if (g == "hour") bucket = "date_trunc('hour', " + local + ")";
    else if (g == "day") bucket = "date_trunc('day', " + local + ")";
    // ISO weeks start on Monday; ClickHouse's toMonday never goes before 1970-01-01.
    else if (g == "week") {
      bucket = "greatest(date_trunc('week', " + local + "), TIMESTAMP '1970-01-01 00:00:00')";
    } else if (g == "month") {
      bucket = "date_trunc('month', " + local + ")";
    }
  }
  if (bucket.empty()) {
    return absl::InvalidArgumentError("granularity: '" + g + "' is not one of hour, day, week, month");
  }
  return bucket;
}

}  // namespace

absl::StatusOr<Dialect> dialect_for_peer(std::string_view peer_name) {
  if (peer_name == "chdb" || peer_name == "clickhouse") return Dialect::kClickHouse;
  if (peer_name == "duckdb") return Dialect::kDuckDB;
  return absl::InvalidArgumentError("no SQL dialect for peer '" + std::string(peer_name) + "'");
}

std::string sql_string_literal(Dialect dialect, std::string_view value) {
  std::string out;
  out.reserve(value.size() + 2);
  if (dialect == Dialect::kClickHouse) {
    out += '\'';
    for (const char ch : value) {
      const auto c = static_cast<unsigned char>(ch);
      if (c == '\\') {
        out += "\\\\";
      } else if (c == '\'') {
        out += "\\'";
      } else if (c < 0x20 || c == 0x7F) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\x%02X", c);
        out += buf;
      } else {
        out += static_cast<char>(c);
      }
    }
    out += '\'';
    return out;
  }
  // DuckDB: standard SQL literal; NUL bytes spliced in with chr(0).
  out += '\'';
  for (char c : value) {
    if (c == '\'') {
      out += "''";
    } else if (c == '\0') {
      out += "' || chr(0) || '";
    } else {
      out += c;
    }
  }
  out += '\'';
  if (value.find('\0') != std::string_view::npos) out = "(" + out + ")";
  return out;
}

absl::StatusOr<std::string> normalize_datetime_param(std::string_view name,
                                                     std::string_view value) {
  auto bad = [&](std::string_view why) {
    return absl::InvalidArgumentError(std::string(name) + ": '" + std::string(value) +
                                      "' is not a valid DateTime (" + std::string(why) + ")");
  };
  std::string_view date = value, time = "00:00:00";
  if (value.size() == 19) {
    if (value[10] != ' ') return bad("expected YYYY-MM-DD HH:MM:SS or YYYY-MM-DD");
    date = value.substr(0, 10);
    time = value.substr(11);
  } else if (value.size() != 10) {
    return bad("expected YYYY-MM-DD HH:MM:SS or YYYY-MM-DD");
  }
  if (date[4] != '-' || date[7] != '-' || !is_digits(date.substr(0, 4)) ||
      !is_digits(date.substr(5, 2)) || !is_digits(date.substr(8, 2)) || time[2] != ':' ||
      time[5] != ':' || !is_digits(time.substr(0, 2)) || !is_digits(time.substr(3, 2)) ||
      !is_digits(time.substr(6, 2))) {
    return bad("expected YYYY-MM-DD HH:MM:SS or YYYY-MM-DD");
  }
  const int y = to_int(date.substr(0, 4)), mo = to_int(date.substr(5, 2)),
            d = to_int(date.substr(8, 2));
  const int h = to_int(time.substr(0, 2)), mi = to_int(time.substr(3, 2)),
            s = to_int(time.substr(6, 2));
  if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo)) return bad("no such date");
  if (h > 23 || mi > 59 || s > 59) return bad("no such time of day");
  if (y < 1970 || y > 2105) return bad("outside 1970-01-01 00:00:00..2105-12-31 23:59:59");
  return std::string(date) + " " + std::string(time);
}

absl::StatusOr<std::string> user_feature_usage_sql(Dialect d, const EndpointParams& p) {
  if (absl::Status s = check_accepted("user_feature_usage", p,
                                      {.user_id = true, .event_type = false, .dates = false,
                                       .granularity = false});
      !s.ok()) {
    return s;
  }
  std::string where;
  if (!p.user_id) {
    where = " WHERE 0=1";  // the seed's `AND 0=1`: no user_id, no rows
  } else {
    where = " WHERE user_id = " + sql_string_literal(d, *p.user_id);
    if (p.feature_id) where += " AND feature_id = " + sql_string_literal(d, *p.feature_id);
    if (p.product_version) {
      where += " AND product_version = " + sql_string_literal(d, *p.product_version);
    }
  }
  std::string sql;
  if (d == Dialect::kClickHouse) {
    sql =
        "SELECT user_id, feature_id, product_version, count() AS usage_count, "
        "min(timestamp) AS first_usage, max(timestamp) AS last_usage FROM feature_events" +
        where +
        " GROUP BY user_id, feature_id, product_version"
        " ORDER BY usage_count DESC, feature_id ASC, product_version ASC";
  } else {
    sql = std::string(
              "SELECT user_id, feature_id, product_version, count(*) AS usage_count, "
              "strftime(min(\"timestamp\"), ") + kTsFormat + ") AS first_usage, "
          "strftime(max(\"timestamp\"), " + kTsFormat + ") AS last_usage FROM feature_events" +
          where +
          " GROUP BY user_id, feature_id, product_version"
          " ORDER BY usage_count DESC, feature_id ASC, product_version ASC";
  }
  return sql + limit_clause(d, p);
}

absl::StatusOr<std::string> feature_usage_summary_sql(Dialect d, const EndpointParams& p) {
  if (absl::Status s = check_accepted("feature_usage_summary", p,
                                      {.user_id = false, .event_type = true, .dates = true,
                                       .granularity = false});
      !s.ok()) {
    return s;
  }
  absl::StatusOr<std::string> where = where_clause(d, p);
  if (!where.ok()) return where.status();
  std::string sql;
  if (d == Dialect::kClickHouse) {
    sql =
        "SELECT feature_id, product_version, count() AS total_events, "
        "uniqExact(user_id) AS unique_users, uniqExact(session_id) AS unique_sessions, "
        "min(timestamp) AS first_seen, max(timestamp) AS last_seen FROM feature_events" +
        *where +
        " GROUP BY feature_id, product_version"
        " ORDER BY total_events DESC, feature_id ASC, product_version ASC";
  } else {
    // session_id is NOT NULL ('' when absent), so count(DISTINCT) counts the empty session as
    // one value, as uniqExact does.
    sql = std::string(
              "SELECT feature_id, product_version, count(*) AS total_events, "
              "count(DISTINCT user_id) AS unique_users, count(DISTINCT session_id) AS "
              "unique_sessions, strftime(min(\"timestamp\"), ") + kTsFormat + ") AS first_seen, "
          "strftime(max(\"timestamp\"), " + kTsFormat + ") AS last_seen FROM feature_events" +
          *where +
          " GROUP BY feature_id, product_version"
          " ORDER BY total_events DESC, feature_id ASC, product_version ASC";
  }
  return sql + limit_clause(d, p);
}

absl::StatusOr<std::string> feature_usage_timeline_sql(Dialect d, const EndpointParams& p) {
  if (absl::Status s = check_accepted("feature_usage_timeline", p,
                                      {.user_id = false, .event_type = true, .dates = true,
                                       .granularity = true, .tz = true});
      !s.ok()) {
    return s;
  }
  absl::StatusOr<std::string> bucket = period_expression(d, p.granularity.value_or("day"), p.tz);
  if (!bucket.ok()) return bucket.status();
  absl::StatusOr<std::string> where = where_clause(d, p);
  if (!where.ok()) return where.status();
  std::string sql;
  if (d == Dialect::kClickHouse) {
    sql = "SELECT " + *bucket + " AS period, feature_id, "
          "count() AS events, uniqExact(user_id) AS unique_users FROM feature_events" +
          *where +
          " GROUP BY period, feature_id ORDER BY period ASC, feature_id ASC";
  } else {
    sql = std::string("SELECT strftime(period_ts, ") + kTsFormat + ") AS period, feature_id, "
          "events, unique_users FROM (SELECT CAST(" + *bucket + " AS TIMESTAMP) AS period_ts, "
          "feature_id, count(*) AS events, count(DISTINCT user_id) AS unique_users "
          "FROM feature_events" + *where +
          " GROUP BY period_ts, feature_id) ORDER BY period_ts ASC, feature_id ASC";
  }
  return sql + limit_clause(d, p);
}

absl::StatusOr<std::string> property_breakdown_sql(Dialect d, const EndpointParams& p) {
  if (absl::Status s = check_accepted("property_breakdown", p,
                                      {.event_type = true, .dates = true, .property = true});
      !s.ok()) {
    return s;
  }
  if (!p.property) return absl::InvalidArgumentError("property_breakdown: property is required");
  absl::StatusOr<std::string> where = where_clause(d, p);
  if (!where.ok()) return where.status();
  const std::string key = sql_string_literal(d, *p.property);
  std::string sql;
  if (d == Dialect::kClickHouse) {
    sql = "SELECT if(JSONType(metadata, " + key + ") = 'String', JSONExtractString(metadata, " + key +
          "), '') AS value, count() AS events, uniqExact(user_id) AS users FROM feature_events" + *where +
          " GROUP BY value ORDER BY events DESC, value ASC";
  } else {
    // A JSONPath member name in double quotes, its quotes and backslashes escaped. Nested
    // CASEs: DuckDB evaluates a THEN only for the rows its WHEN selects, and the JSON
    // functions fail on text that is not JSON.
    std::string member;
    for (const char c : *p.property) {
      if (c == '"' || c == '\\') member += '\\';
      member += c;
    }
    const std::string path = sql_string_literal(d, "$.\"" + member + "\"");
    sql = "SELECT value, events, users FROM (SELECT CASE WHEN json_valid(metadata) AND starts_with(ltrim(metadata), "
          "'{') THEN (CASE WHEN json_type(metadata, " + path + ") = 'VARCHAR' THEN json_extract_string(metadata, " +
          path + ") ELSE '' END) ELSE '' END AS value, count(*) AS events, count(DISTINCT user_id) AS users "
          "FROM feature_events" + *where + " GROUP BY value) ORDER BY events DESC, value ASC";
  }
  return sql + limit_clause(d, p);
}

absl::StatusOr<std::string> version_adoption_sql(Dialect d, const EndpointParams& p) {
  if (p.product_version) {
    return absl::InvalidArgumentError("version_adoption: unknown parameter 'product_version' (this endpoint does not take it)");
  }
  if (absl::Status s = check_accepted("version_adoption", p,
                                      {.event_type = true, .dates = true, .granularity = true, .tz = true});
      !s.ok()) {
    return s;
  }
  absl::StatusOr<std::string> bucket = period_expression(d, p.granularity.value_or("week"), p.tz);
  if (!bucket.ok()) return bucket.status();
  absl::StatusOr<std::string> where = where_clause(d, p);
  if (!where.ok()) return where.status();
  std::string sql;
  if (d == Dialect::kClickHouse) {
    sql = "SELECT v.period AS period, v.product_version AS product_version, v.users AS users, "
          "a.active_users AS active_users, v.users / a.active_users AS share, v.events AS events "
          "FROM (SELECT " + *bucket + " AS period, product_version, uniqExact(user_id) AS users, count() AS events "
          "FROM feature_events" + *where + " GROUP BY period, product_version) AS v "
          "INNER JOIN (SELECT " + *bucket + " AS period, uniqExact(user_id) AS active_users FROM feature_events" +
          *where + " GROUP BY period) AS a USING period ORDER BY period ASC, users DESC, product_version ASC";
  } else {
    sql = std::string("WITH base AS (SELECT CAST(") + *bucket + " AS TIMESTAMP) AS period_ts, product_version, "
          "user_id FROM feature_events" + *where + "), "
          "v AS (SELECT period_ts, product_version, count(DISTINCT user_id) AS users, count(*) AS events FROM base "
          "GROUP BY period_ts, product_version), "
          "a AS (SELECT period_ts, count(DISTINCT user_id) AS active_users FROM base GROUP BY period_ts) "
          "SELECT strftime(v.period_ts, " + kTsFormat + ") AS period, v.product_version, v.users, a.active_users, "
          "v.users / a.active_users AS share, v.events FROM v JOIN a USING (period_ts) "
          "ORDER BY v.period_ts ASC, v.users DESC, v.product_version ASC";
  }
  return sql + limit_clause(d, p);
}

namespace {

absl::Status duckdb_only(Dialect d, std::string_view endpoint) {
  if (d == Dialect::kDuckDB) return absl::OkStatus();
  return absl::InvalidArgumentError(std::string(endpoint) +
                                    ": ClickHouse runs the SQL of usagedb's endpoint catalog (lib/api/endpoints/)");
}

// The DATE of a validated date parameter ("YYYY-MM-DD" or with 00:00:00), or NULL.
absl::StatusOr<std::string> date_or_null(const char* name, const std::optional<std::string>& v) {
  if (!v) return std::string("CAST(NULL AS DATE)");
  absl::StatusOr<std::string> t = normalize_datetime_param(name, *v);
  if (!t.ok()) return t.status();
  if (t->substr(11) != "00:00:00") {
    return absl::InvalidArgumentError(std::string(name) + ": '" + *v + "' is not a date (YYYY-MM-DD)");
  }
  return "DATE '" + t->substr(0, 10) + "'";
}

}  // namespace

absl::StatusOr<std::string> feature_adoption_sql(Dialect d, const EndpointParams& p) {
  if (absl::Status s = duckdb_only(d, "feature_adoption"); !s.ok()) return s;
  if (absl::Status s = check_accepted("feature_adoption", p, {.event_type = true, .dates = true}); !s.ok()) return s;
  // {cond}: every filter but feature_id.
  EndpointParams cond = p;
  cond.feature_id.reset();
  absl::StatusOr<std::string> where = where_clause(d, cond);
  if (!where.ok()) return where.status();
  std::string feature = p.feature_id ? " AND feature_id = " + sql_string_literal(d, *p.feature_id) : "";
  // `/` of two integers is a double in DuckDB, as in ClickHouse.
  return "SELECT feature_id, users, active_users, users / active_users AS adoption_rate, events FROM ("
         "SELECT feature_id, count(DISTINCT user_id) AS users, (SELECT count(DISTINCT user_id) FROM "
         "feature_events" + *where + ") AS active_users, count(*) AS events FROM feature_events" + *where + feature +
         " GROUP BY feature_id) ORDER BY users DESC, feature_id ASC" + limit_clause(d, p);
}

absl::StatusOr<std::string> active_users_sql(Dialect d, const EndpointParams& p) {
  if (absl::Status s = duckdb_only(d, "active_users"); !s.ok()) return s;
  if (p.tz) return absl::UnimplementedError(std::string(kNotApplicable) + "active_users with tz: not translated");
  if (absl::Status s = check_accepted("active_users", p, {.event_type = true, .dates = true, .window_days = true});
      !s.ok()) {
    return s;
  }
  const uint64_t w = p.window_days.value_or(1);
  if (w < 1 || w > 365) return absl::InvalidArgumentError("window_days: expected an integer from 1 to 365");
  absl::StatusOr<std::string> start = date_or_null("start_date", p.start_date);
  if (!start.ok()) return start.status();
  absl::StatusOr<std::string> end = date_or_null("end_date", p.end_date);
  if (!end.ok()) return end.status();
  EndpointParams filters = p;
  filters.start_date.reset();
  filters.end_date.reset();
  absl::StatusOr<std::string> where = where_clause(d, filters);
  if (!where.ok()) return where.status();
  const std::string day0 = "CAST(\"timestamp\" AS DATE)";
  // S and E as SPEC 2.6 defines them (with no matching event and a date missing: S = E, no
  // rows); each distinct (day, user) spread over the window_days days whose windows hold it.
  return "WITH bounds AS (SELECT min(" + day0 + ") AS lo, max(" + day0 + ") AS hi FROM feature_events" + *where +
         "), given AS (SELECT coalesce(" + *start + ", lo) AS s0, coalesce(" + *end +
         ", hi + 1) AS e0 FROM bounds), "
         "series AS (SELECT coalesce(s0, e0, DATE '1970-01-01') AS first_day, "
         "greatest(coalesce(s0, e0, DATE '1970-01-01'), coalesce(e0, s0, DATE '1970-01-01')) AS end_day FROM given), "
         "pairs AS (SELECT DISTINCT " + day0 + " AS d0, user_id FROM feature_events, series" + *where +
         " AND " + day0 + " + " + std::to_string(w - 1) + " >= first_day AND " + day0 + " < end_day), "
         "spread AS (SELECT d0 + CAST(i AS INTEGER) AS day, user_id FROM pairs, range(" + std::to_string(w) +
         ") t(i)), "
         "days AS (SELECT CAST(d AS DATE) AS day FROM series, range(CAST(first_day AS TIMESTAMP), "
         "CAST(end_day AS TIMESTAMP), INTERVAL 1 DAY) t(d)) "
         "SELECT days.day, count(DISTINCT spread.user_id) AS active_users FROM days LEFT JOIN spread "
         "ON spread.day = days.day GROUP BY days.day ORDER BY days.day" + limit_clause(d, p);
}

absl::StatusOr<std::string> feature_retention_sql(Dialect d, const EndpointParams& p) {
  if (absl::Status s = duckdb_only(d, "feature_retention"); !s.ok()) return s;
  if (p.tz) {
    return absl::UnimplementedError(std::string(kNotApplicable) + "feature_retention with tz: not translated");
  }
  if (absl::Status s =
          check_accepted("feature_retention", p, {.event_type = true, .dates = true, .granularity = true});
      !s.ok()) {
    return s;
  }
  const std::string g = p.granularity.value_or("week");
  const std::string ts = ts_column(d);
  std::string bucket, offset;
  // dateDiff of ClickHouse: relative day, week (from Monday; day 0 was a Thursday) and month
  // numbers.
  const auto day_number = [](const std::string& t) { return "date_diff('day', DATE '1970-01-01', " + t + ")"; };
  if (g == "day") {
    bucket = "date_trunc('day', " + ts + ")";
    offset = "date_diff('day', cohort, period)";
  } else if (g == "week") {
    bucket = "greatest(date_trunc('week', " + ts + "), TIMESTAMP '1970-01-01 00:00:00')";
    offset = "(" + day_number("period") + " + 3) // 7 - (" + day_number("cohort") + " + 3) // 7";
  } else if (g == "month") {
    bucket = "date_trunc('month', " + ts + ")";
    offset = "date_diff('month', cohort, period)";
  } else {
    return absl::InvalidArgumentError("granularity: '" + g + "' is not one of day, week, month");
  }
  absl::StatusOr<std::string> where = where_clause(d, p);
  if (!where.ok()) return where.status();
  return "WITH acts AS (SELECT DISTINCT user_id, CAST(" + bucket + " AS TIMESTAMP) AS period FROM feature_events" +
         *where +
         "), firsts AS (SELECT user_id, min(period) AS cohort FROM acts GROUP BY user_id), "
         "sizes AS (SELECT cohort, count(*) AS cohort_users FROM firsts GROUP BY cohort) "
         "SELECT strftime(cohort, " + kTsFormat + ") AS cohort_text, any_value(cohort_users) AS cohort_users, "
         "CAST(" + offset + " AS UBIGINT) AS period_offset, count(*) AS users "
         "FROM acts JOIN firsts USING (user_id) JOIN sizes USING (cohort) "
         "GROUP BY cohort, period_offset ORDER BY cohort, period_offset" + limit_clause(d, p);
}

absl::StatusOr<std::string> endpoint_sql(Dialect dialect, std::string_view endpoint,
                                         const EndpointParams& p) {
  if (endpoint == "user_feature_usage") return user_feature_usage_sql(dialect, p);
  if (endpoint == "feature_usage_summary") return feature_usage_summary_sql(dialect, p);
  if (endpoint == "feature_usage_timeline") return feature_usage_timeline_sql(dialect, p);
  if (endpoint == "feature_adoption") return feature_adoption_sql(dialect, p);
  if (endpoint == "active_users") return active_users_sql(dialect, p);
  if (endpoint == "feature_retention") return feature_retention_sql(dialect, p);
  if (endpoint == "feature_funnel") {
    return absl::UnimplementedError(std::string(kNotApplicable) +
                                    "DuckDB has no windowFunnel (ClickHouse's funnel aggregate)");
  }
  if (endpoint == "property_breakdown") return property_breakdown_sql(dialect, p);
  if (endpoint == "version_adoption") return version_adoption_sql(dialect, p);
  return absl::NotFoundError("unknown endpoint '" + std::string(endpoint) +
                             "' (expected one of user_feature_usage, feature_usage_summary, "
                             "feature_usage_timeline, feature_adoption, active_users, feature_retention, "
                             "feature_funnel, property_breakdown, version_adoption)");
}

}  // namespace usagedb::bench
