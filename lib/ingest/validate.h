// The rules an Event must satisfy before it is stored (SPEC 1): required
// strings non-empty, every string valid UTF-8, timestamp in the DateTime
// range. Shared by record_event() and the NDJSON/CSV readers, so every entry
// point rejects the same events with the same words.
#ifndef USAGEDB_INGEST_VALIDATE_H_
#define USAGEDB_INGEST_VALIDATE_H_

#include <optional>
#include <string>
#include <string_view>

#include "usagedb/event.h"

namespace usagedb {

// What is wrong with one column of an event.
struct FieldError {
  std::string_view column;  // the table's column name, e.g. "user_id"
  std::string message;      // without the column name, e.g. "must not be empty"
};

// Whether validate_event() checks that strings are valid UTF-8, or the
// caller knows they are (the NDJSON reader: simdjson validated the input,
// and its unescaping only writes valid UTF-8, rejecting lone surrogates).
enum class Utf8 { kCheck, kKnownValid };

// The first rule `event` breaks, in column order; nullopt when it is valid.
std::optional<FieldError> validate_event(const Event& event, Utf8 utf8 = Utf8::kCheck);

// !validate_event(event, utf8).has_value(), without building the answer:
// for strings known to be UTF-8 the rules are a few comparisons, inline
// (readers call this for every row; ~1% of a file ingest's CPU went to the
// optionals of validate_event()).
inline bool is_valid_event(const Event& event, Utf8 utf8) {
  if (utf8 == Utf8::kCheck) return !validate_event(event, utf8).has_value();
  // The required columns non-empty, the timestamp in range: validate_event()'s rules.
  return !event.user_id.empty() && !event.feature_id.empty() && !event.product_version.empty() &&
         !event.event_type.empty() && event.timestamp >= kMinTimestamp && event.timestamp <= kMaxTimestamp;
}

// Only the timestamp range rule.
std::optional<FieldError> validate_timestamp(Timestamp t);

}  // namespace usagedb

#endif  // USAGEDB_INGEST_VALIDATE_H_
