#include "lib/http/scopes.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "lib/util/text.h"

namespace usagedb::http {

std::string_view scope_type_name(ScopeType type) {
  switch (type) {
    case ScopeType::kAdmin:
      return "ADMIN";
    case ScopeType::kDatasourcesAppend:
      return "DATASOURCES:APPEND";
    case ScopeType::kDatasourcesRead:
      return "DATASOURCES:READ";
    case ScopeType::kPipesRead:
      return "PIPES:READ";
  }
  return "?";
}

absl::StatusOr<Scope> parse_scope_string(std::string_view text) {
  if (text == "ADMIN") return Scope{};
  for (const ScopeType type : {ScopeType::kDatasourcesAppend, ScopeType::kDatasourcesRead, ScopeType::kPipesRead}) {
    const std::string_view prefix = scope_type_name(type);
    if (text.size() > prefix.size() + 1 && text.substr(0, prefix.size()) == prefix && text[prefix.size()] == ':') {
      return Scope{.type = type, .resource = std::string(text.substr(prefix.size() + 1)), .fixed_params = {}};
    }
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown scope '", text::excerpt(text),
      "': expected ADMIN, DATASOURCES:APPEND:<data source>, DATASOURCES:READ:<data source> or PIPES:READ:<endpoint>"));
}

bool Principal::admin() const {
  for (const Scope& s : scopes) {
    if (s.type == ScopeType::kAdmin) return true;
  }
  return false;
}

const Scope* Principal::find(ScopeType type, std::string_view resource) const {
  const Scope* admin_scope = nullptr;
  for (const Scope& s : scopes) {
    if (s.type == type && s.resource == resource) return &s;
    if (s.type == ScopeType::kAdmin) admin_scope = &s;
  }
  return admin_scope;
}

}  // namespace usagedb::http
