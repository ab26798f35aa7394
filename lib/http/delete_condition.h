// The delete condition of `POST /v0/datasources/feature_events/delete`
// (SPEC 5): Tinybird takes any SQL condition; usagedb erases one user
// (GDPR), so the one form accepted is
//
//   user_id = 'X'
//
// with any spaces around `user_id`, `=` and the literal, and the literal in
// ClickHouse's quoting: '' or \' for a quote, \\ for a backslash.
//
//   absl::StatusOr<std::string> user = parse_delete_condition("user_id = 'u1'");  // "u1"
//
// Thread-safety: pure function.
#ifndef USAGEDB_HTTP_DELETE_CONDITION_H_
#define USAGEDB_HTTP_DELETE_CONDITION_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace usagedb::http {

// The user id the condition names. InvalidArgumentError naming
// delete_condition for any other condition, an unterminated literal, an
// unknown escape, or an empty id.
absl::StatusOr<std::string> parse_delete_condition(std::string_view condition);

}  // namespace usagedb::http

#endif  // USAGEDB_HTTP_DELETE_CONDITION_H_
