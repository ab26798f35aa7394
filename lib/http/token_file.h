// The tokens file (SPEC 5): the static tokens of `usagedb serve`.
//
//   {"tokens": [
//     {"name": "admin", "token": "<secret>", "scopes": ["ADMIN"]},
//     {"name": "tracker", "token": "<secret>", "scopes": ["DATASOURCES:APPEND:feature_events"],
//      "limits": {"rps": 100}},
//     {"name": "dashboard", "token": "<secret>", "scopes": ["PIPES:READ:feature_usage_summary"]}]}
//
// Without --tokens, `usagedb serve` uses the store's tokens.json and creates
// it on the first start with one random ADMIN token (create_tokens_file),
// readable by its owner only (mode 0600).
//
// Thread-safety: functions over files; not safe against another process
// rewriting the file while it is read.
#ifndef USAGEDB_HTTP_TOKEN_FILE_H_
#define USAGEDB_HTTP_TOKEN_FILE_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "lib/http/token_set.h"

namespace usagedb::http {

// The tokens of a tokens file's text. InvalidArgumentError naming `where`
// and the token at fault: not a JSON object with a `tokens` array; a token
// whose name or token is not a non-empty string, whose scopes are not an
// array of strings, or whose limits.rps is not a positive integer. Unknown
// keys are ignored. (Scope strings are checked by TokenSet::add.)
absl::StatusOr<std::vector<StaticToken>> parse_tokens_file(std::string_view json, std::string_view where);

// Reads and parses the file at `path`. NotFoundError when it does not exist.
absl::StatusOr<std::vector<StaticToken>> load_tokens_file(const std::string& path);

// Creates `path` (mode 0600, refusing to replace an existing file:
// AlreadyExistsError) holding one ADMIN token named "admin" with a random
// 256-bit value, written and fsynced before it returns the token.
absl::StatusOr<StaticToken> create_tokens_file(const std::string& path);

}  // namespace usagedb::http

#endif  // USAGEDB_HTTP_TOKEN_FILE_H_
