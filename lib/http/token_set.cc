#include "lib/http/token_set.h"

#include "absl/strings/str_cat.h"
#include "lib/http/crypto.h"
#include "lib/http/jwt.h"
#include "lib/util/text.h"

namespace usagedb::http {

absl::Status TokenSet::add(const StaticToken& token) {
  const std::string where = absl::StrCat("token '", text::excerpt(token.name), "'");
  if (token.name.empty()) return absl::InvalidArgumentError("a token needs a non-empty name");
  if (token.token.empty()) return absl::InvalidArgumentError(absl::StrCat(where, ": its token value is empty"));
  if (token.scopes.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": no scopes (give at least one, e.g. \"ADMIN\")"));
  }
  auto principal = std::make_shared<Principal>();
  principal->name = token.name;
  principal->rps_limit = token.rps_limit;
  for (const std::string& s : token.scopes) {
    absl::StatusOr<Scope> scope = parse_scope_string(s);
    if (!scope.ok()) return absl::InvalidArgumentError(absl::StrCat(where, ": ", scope.status().message()));
    principal->scopes.push_back(std::move(*scope));
  }
  std::string digest = crypto::sha256(token.token);
  for (const Entry& e : entries_) {
    if (e.principal->name == token.name) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": another token has the same name"));
    }
    if (e.digest == digest) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": the same value as token '", text::excerpt(e.principal->name), "'"));
    }
  }
  if (principal->admin()) admin_values_.push_back(token.token);
  entries_.push_back({std::move(digest), std::move(principal)});
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<const Principal>> TokenSet::authenticate(std::string_view token, int64_t now) const {
  const std::string digest = crypto::sha256(token);
  const Entry* match = nullptr;
  for (const Entry& e : entries_) {
    if (crypto::equal_constant_time(e.digest, digest)) match = &e;
  }
  if (match != nullptr) return match->principal;
  if (!looks_like_jwt(token)) {
    return absl::PermissionDeniedError("invalid token: it is no token of this server (and not a JWT)");
  }
  absl::StatusOr<Principal> who = verify_jwt(token, admin_values_, now);
  if (!who.ok()) return who.status();
  return std::make_shared<const Principal>(std::move(*who));
}

}  // namespace usagedb::http
