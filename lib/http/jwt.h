// JSON Web Tokens as Tinybird issues them (SPEC 5): HS256-signed with an
// ADMIN token's value, claims `name`, `exp`, `scopes` and `limits`:
//
//   header  {"alg":"HS256","typ":"JWT"}
//   payload {"name":"frontend_u1","exp":1767225600,
//            "scopes":[{"type":"PIPES:READ","resource":"user_feature_usage",
//                       "fixed_params":{"user_id":"u1"}}],
//            "limits":{"rps":10}}
//
//   absl::StatusOr<Principal> who = verify_jwt(token, admin_token_values, now);
//
// Every refusal is PermissionDeniedError (HTTP 403) saying what is wrong:
// - malformed: not three base64url parts, a part that is not a JSON object;
// - the header's `alg` other than "HS256" (`none` included), or a `crit`
//   header (no extension is understood);
// - a signature that no key verifies (compared in constant time);
// - `name` missing or not a non-empty string; `exp` missing or not a JSON
//   number; `exp` at or before now (RFC 7519: valid strictly before exp);
//   `nbf`, when given, after now;
// - `scopes` not an array of objects with a `type` (PIPES:READ,
//   DATASOURCES:READ or DATASOURCES:APPEND) and a non-empty `resource`;
//   `fixed_params` not an object of strings, numbers and booleans (null
//   values are skipped); a `filter` (row filters cannot be enforced here, so
//   a token asking for one is refused rather than over-granted);
// - `limits.rps` not a positive integer.
// The signature is checked before the payload is read.
//
// make_jwt signs a payload, for tests, benchmarks and tools.
//
// Thread-safety: pure functions (each thread parses with its own parser).
#ifndef USAGEDB_HTTP_JWT_H_
#define USAGEDB_HTTP_JWT_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "lib/http/scopes.h"

namespace usagedb::http {

// Whether `token` has a JWT's shape: three non-empty base64url parts joined
// by two dots. Only then is it verified as one.
bool looks_like_jwt(std::string_view token);

// Verifies `token` with each of `keys` (the ADMIN tokens' values) at Unix
// time `now`, and returns who it is. See above for the refusals.
absl::StatusOr<Principal> verify_jwt(std::string_view token, std::span<const std::string> keys, int64_t now);

// `payload_json` (a JSON object, not checked) signed with `key`: header
// {"alg":"HS256","typ":"JWT"}.
std::string make_jwt(std::string_view payload_json, std::string_view key);

}  // namespace usagedb::http

#endif  // USAGEDB_HTTP_JWT_H_
