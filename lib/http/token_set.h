// TokenSet: the tokens a server accepts (SPEC 5) and the check of the token
// a request presents.
//
// Static tokens come from a tokens file (lib/http/token_file.h) or the
// application (HttpServerOptions::tokens); a token that is none of them but
// has a JWT's shape is verified as a JWT signed with any ADMIN token's value
// (lib/http/jwt.h).
//
//   TokenSet tokens;
//   RETURN_IF_ERROR(tokens.add({.name = "admin", .token = "...", .scopes = {"ADMIN"}}));
//   absl::StatusOr<std::shared_ptr<const Principal>> who = tokens.authenticate(value, now);
//
// Static tokens are kept as SHA-256 digests and compared digest by digest in
// constant time, every one of them each time: how long a check takes says
// nothing about how much of a token was right.
//
// Thread-safety: add() before sharing; authenticate() is const and safe to
// call concurrently.
#ifndef USAGEDB_HTTP_TOKEN_SET_H_
#define USAGEDB_HTTP_TOKEN_SET_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "lib/http/scopes.h"

namespace usagedb::http {

// A static token as a tokens file holds it.
struct StaticToken {
  std::string name;
  std::string token;
  std::vector<std::string> scopes;  // scope strings (lib/http/scopes.h)
  uint64_t rps_limit = 0;           // `limits.rps`; 0 = unlimited
};

class TokenSet {
 public:
  // Adds a token. InvalidArgumentError naming it: an empty name or value, a
  // scope string parse_scope_string refuses, no scope at all, or a name or
  // value already in the set.
  absl::Status add(const StaticToken& token);

  // Who `token` is. PermissionDeniedError (HTTP 403) for a value that is no
  // static token and no valid JWT (the message says why, never the value).
  // REQUIRES: !token.empty() (an empty token is the caller's 401).
  absl::StatusOr<std::shared_ptr<const Principal>> authenticate(std::string_view token, int64_t now) const;

  size_t size() const { return entries_.size(); }
  // The values of the ADMIN tokens: the JWT signing keys.
  const std::vector<std::string>& admin_values() const { return admin_values_; }

 private:
  struct Entry {
    std::string digest;  // SHA-256 of the value
    std::shared_ptr<const Principal> principal;
  };
  std::vector<Entry> entries_;
  std::vector<std::string> admin_values_;
};

}  // namespace usagedb::http

#endif  // USAGEDB_HTTP_TOKEN_SET_H_
