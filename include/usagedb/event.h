// usagedb/event.h: one feature-usage event, and the DateTime helpers.
//
// An Event is a row of the `feature_events` table (SPEC section 1). Its string
// fields are views: the caller owns the bytes, and EventStore copies what it
// keeps before record_event() returns.
//
//   usagedb::Event e{.event_id = "evt_1", .user_id = "user_615",
//                    .feature_id = "feature_16", .product_version = "1.5.5",
//                    .event_type = "view",
//                    .timestamp = usagedb::parse_timestamp("2025-05-11 10:23:03").value()};
//
// Thread-safety: Event is a plain value; the functions here are pure.
#ifndef USAGEDB_EVENT_H_
#define USAGEDB_EVENT_H_

#include <chrono>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace usagedb {

// DateTime in UTC with whole seconds, like ClickHouse's DateTime.
using Timestamp = std::chrono::sys_seconds;

// The DateTime range (ClickHouse DateTime): 1970-01-01 00:00:00 to
// 2105-12-31 23:59:59 UTC, both inclusive.
inline constexpr Timestamp kMinTimestamp{std::chrono::seconds{0}};
inline constexpr Timestamp kMaxTimestamp{std::chrono::seconds{4291747199}};

// Fields in the table's column order, so designated initializers work.
struct Event {
  std::string_view event_id;         // optional: "" = none; the idempotency key
  std::string_view user_id;          // required, non-empty
  std::string_view feature_id;       // required, non-empty
  std::string_view product_version;  // required, non-empty
  std::string_view event_type;       // required, non-empty
  Timestamp timestamp;               // required, within [kMinTimestamp, kMaxTimestamp]
  std::string_view session_id;       // optional: "" = none
  std::string_view metadata;         // optional: "" = none; JSON text, kept as given
};

// Parses an event timestamp in any form the SPEC (1.1) accepts:
//   "YYYY-MM-DD HH:MM:SS"
//   "YYYY-MM-DDTHH:MM:SS[.fraction][Z|+HH:MM|-HH:MM]"  (fraction truncated,
//                                                       offset converted to UTC)
// Returns InvalidArgumentError saying what is wrong for anything else,
// including impossible dates (2025-02-29, 24:00:00) and values outside
// [kMinTimestamp, kMaxTimestamp] after conversion to UTC.
absl::StatusOr<Timestamp> parse_timestamp(std::string_view text);

// Parses a query date parameter (SPEC 2): "YYYY-MM-DD HH:MM:SS" or
// "YYYY-MM-DD" (midnight UTC), within the DateTime range.
absl::StatusOr<Timestamp> parse_date_parameter(std::string_view text);

// Formats as "YYYY-MM-DD HH:MM:SS" (UTC). REQUIRES: t is within the
// DateTime range.
std::string format_timestamp(Timestamp t);

}  // namespace usagedb

#endif  // USAGEDB_EVENT_H_
