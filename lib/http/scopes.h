// What a token may do (SPEC 5): its scopes, as Tinybird names them, and the
// Principal a request acts as once its token is verified.
//
//   ADMIN                              everything
//   DATASOURCES:APPEND:feature_events  POST /v0/events, POST /v0/datasources (append)
//   DATASOURCES:READ:feature_events    GET /v0/pipes/feature_events_quarantine.*
//   PIPES:READ:<endpoint>              GET /v0/pipes/<endpoint>.*
//
// A JWT's PIPES:READ scope may carry fixed_params: values that replace the
// request's parameters of the same name (a token pinned to user_id=u1 can
// only ever read u1).
//
//   absl::StatusOr<Scope> s = parse_scope_string("PIPES:READ:user_feature_usage");
//   if (const Scope* scope = principal.find(ScopeType::kPipesRead, "user_feature_usage")) ...
//
// Thread-safety: plain values.
#ifndef USAGEDB_HTTP_SCOPES_H_
#define USAGEDB_HTTP_SCOPES_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "lib/api/endpoint_request.h"

namespace usagedb::http {

// The one data source (SPEC 1).
inline constexpr std::string_view kDataSource = "feature_events";

enum class ScopeType { kAdmin, kDatasourcesAppend, kDatasourcesRead, kPipesRead };

// "ADMIN", "DATASOURCES:APPEND", "DATASOURCES:READ", "PIPES:READ".
std::string_view scope_type_name(ScopeType type);

struct Scope {
  ScopeType type = ScopeType::kAdmin;
  std::string resource;      // a data source or endpoint name; "" for ADMIN
  api::Params fixed_params;  // PIPES:READ scopes of JWTs only
};

// A static token's scope string: "ADMIN" or "TYPE:resource" with TYPE one of
// DATASOURCES:APPEND, DATASOURCES:READ, PIPES:READ and a non-empty
// resource. InvalidArgumentError naming the string otherwise.
absl::StatusOr<Scope> parse_scope_string(std::string_view text);

// Who a request acts as.
struct Principal {
  std::string name;  // the token's name: what the access log, the metrics
                     // and the rate limiter know it by (never its value)
  std::vector<Scope> scopes;
  uint64_t rps_limit = 0;  // requests per second; 0 = unlimited
  bool jwt = false;        // verified as a JWT (not a static token)

  bool admin() const;
  // The scope that grants `type` on `resource`: an exact match, preferred,
  // else an ADMIN scope (whose fixed_params are empty); null when none does.
  const Scope* find(ScopeType type, std::string_view resource) const;
};

}  // namespace usagedb::http

#endif  // USAGEDB_HTTP_SCOPES_H_
