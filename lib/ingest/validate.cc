#include "lib/ingest/validate.h"

#include "absl/strings/str_cat.h"
#include "lib/util/text.h"

namespace usagedb {

std::optional<FieldError> validate_timestamp(Timestamp t) {
  if (t < kMinTimestamp || t > kMaxTimestamp) {
    return FieldError{"timestamp", absl::StrCat(t.time_since_epoch().count(),
                                                " seconds is outside the DateTime range 1970-01-01 "
                                                "00:00:00 to 2105-12-31 23:59:59 UTC")};
  }
  return std::nullopt;
}

namespace {

std::optional<FieldError> check_string(std::string_view column, std::string_view value, bool required, Utf8 utf8) {
  if (required && value.empty()) return FieldError{column, "must not be empty"};
  if (utf8 == Utf8::kCheck && !text::is_valid_utf8(value)) return FieldError{column, "is not valid UTF-8"};
  return std::nullopt;
}

}  // namespace

std::optional<FieldError> validate_event(const Event& e, Utf8 utf8) {
  // Column order, so the error names the first column at fault. (A new
  // rule belongs in is_valid_event() too.)
  if (auto err = check_string("event_id", e.event_id, false, utf8)) return err;
  if (auto err = check_string("user_id", e.user_id, true, utf8)) return err;
  if (auto err = check_string("feature_id", e.feature_id, true, utf8)) return err;
  if (auto err = check_string("product_version", e.product_version, true, utf8)) return err;
  if (auto err = check_string("event_type", e.event_type, true, utf8)) return err;
  if (auto err = validate_timestamp(e.timestamp)) return err;
  if (auto err = check_string("session_id", e.session_id, false, utf8)) return err;
  return check_string("metadata", e.metadata, false, utf8);
}

}  // namespace usagedb
