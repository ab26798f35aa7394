// Decoding application/x-www-form-urlencoded text: a request's query string
// (`/v0/pipes/NAME.json?user_id=u1&utm_source=DEV`) and form bodies
// (`delete_condition=user_id+%3D+%27u1%27&dry_run=true`).
//
//   absl::StatusOr<api::Params> params = http::parse_form(query_string(target), "query string");
//   // {{"user_id", "u1"}, {"utm_source", "DEV"}}
//
// The rules, as browsers and curl encode (the WHATWG URL standard's
// application/x-www-form-urlencoded parser, except that it refuses what it
// would silently keep):
// - pairs are separated by '&'; empty pairs (`a=1&&b=2`, a trailing '&') are
//   skipped;
// - a pair splits at its first '='; a pair without '=' is a name with an
//   empty value (`dry_run` is {"dry_run", ""});
// - in names and values '+' is a space and `%XX` (two hex digits, either
//   case) is that byte; any other byte is itself;
// - errors (InvalidArgumentError naming `where` and the parameter): a '%'
//   not followed by two hex digits, and an empty name (`=x`).
// Decoded bytes are not checked for UTF-8: parameters are compared byte-wise
// (SPEC 1), so a value that is not UTF-8 simply matches nothing.
//
// Thread-safety: pure functions.
#ifndef USAGEDB_HTTP_FORM_DECODING_H_
#define USAGEDB_HTTP_FORM_DECODING_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "lib/api/endpoint_request.h"

namespace usagedb::http {

// The pairs of `text` in order, decoded. `where` names the text in errors
// ("query string", "form body").
absl::StatusOr<api::Params> parse_form(std::string_view text, std::string_view where);

// The query string of a request target: what follows the first '?' up to a
// '#' ("" when there is none).
std::string_view query_string(std::string_view target);

}  // namespace usagedb::http

#endif  // USAGEDB_HTTP_FORM_DECODING_H_
