#include "lib/http/admission.h"

#include <chrono>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "lib/api/endpoint_catalog.h"
#include "lib/http/form_decoding.h"
#include "lib/http/request_body.h"
#include "lib/util/text.h"

namespace usagedb::http {
namespace {

constexpr std::string_view kQuarantinePipe = "feature_events_quarantine";

void refuse(Exchange& ex, int status, std::string_view message) {
  reply_error(ex.res, status, message);
  ex.state.answered = true;
}

int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// The token of the request: `Authorization: Bearer T`, else `?token=T`.
// Sets *present when either was given (even empty).
std::string token_of(const Exchange& ex, bool* present, bool* malformed) {
  *present = false;
  *malformed = false;
  if (ex.state.headers.authorization != nullptr) {
    *present = true;
    std::string_view value = *ex.state.headers.authorization;
    constexpr std::string_view kBearer = "bearer";
    if (value.size() < kBearer.size() ||
        !absl::EqualsIgnoreCase(text::absl_view(value.substr(0, kBearer.size())), "bearer") ||
        (value.size() > kBearer.size() && value[kBearer.size()] != ' ')) {
      *malformed = true;
      return {};
    }
    value.remove_prefix(kBearer.size());
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
    return std::string(value);
  }
  if (const std::string* t = ex.param("token")) {
    *present = true;
    return *t;
  }
  return {};
}

// What the route needs: a scope on a resource, or a valid token only, or
// nothing. Sets the refusal when the resource is missing or unknown.
struct Need {
  enum Kind { kNothing, kAnyToken, kScope } kind = kAnyToken;
  ScopeType type = ScopeType::kAdmin;
  std::string resource;
  std::string what;  // "append to data source 'feature_events'"
};

// The requirement of the route; false (and the reply) for a missing or
// unknown resource.
bool need_of(Exchange& ex, Need* need) {
  const RouteMatch& route = ex.state.route;
  switch (route.route) {
    case Route::kHealth:
    case Route::kPreflight:
    case Route::kDashboard:
    case Route::kNotFound:
      need->kind = Need::kNothing;
      return true;
    case Route::kPipesList:
      need->kind = Need::kAnyToken;
      return true;
    case Route::kMetrics:
      *need = {Need::kScope, ScopeType::kAdmin, "", "read the metrics"};
      return true;
    case Route::kEvents:
    case Route::kDatasourcesAppend: {
      const std::string* name = ex.param("name");
      if (name == nullptr) {
        refuse(ex, 400, "name: required: the data source to append to (name=feature_events)");
        return false;
      }
      if (*name != kDataSource) {
        refuse(ex, 404,
               absl::StrCat("data source '", text::excerpt(*name), "' not found (the one data source is ",
                            text::absl_view(kDataSource), ")"));
        return false;
      }
      *need = {Need::kScope, ScopeType::kDatasourcesAppend, std::string(kDataSource),
               absl::StrCat("append to data source '", text::absl_view(kDataSource), "'")};
      return true;
    }
    case Route::kDatasourcesDelete:
      if (route.resource != kDataSource) {
        refuse(ex, 404,
               absl::StrCat("data source '", text::excerpt(route.resource), "' not found (the one data source is ",
                            text::absl_view(kDataSource), ")"));
        return false;
      }
      *need = {Need::kScope, ScopeType::kAdmin, "", "delete rows"};
      return true;
    case Route::kPipe:
    case Route::kPipeInfo: {
      if (route.resource == kQuarantinePipe) {
        *need = {Need::kScope, ScopeType::kDatasourcesRead, std::string(kDataSource),
                 absl::StrCat("read the quarantine of data source '", text::absl_view(kDataSource), "'")};
        return true;
      }
      if (api::find_endpoint(route.resource) == nullptr) {
        refuse(ex, 404,
               absl::StrCat("endpoint '", text::excerpt(route.resource),
                            "' not found (GET /v0/pipes lists the endpoints)"));
        return false;
      }
      *need = {Need::kScope, ScopeType::kPipesRead, std::string(route.resource),
               absl::StrCat("read endpoint '", text::excerpt(route.resource), "'")};
      return true;
    }
  }
  return true;
}

bool admit_fresh(Exchange& ex) {
  ServerState& server = ex.server;
  RequestState& st = ex.state;
  if (server.draining.load()) {
    st.close = true;
    refuse(ex, 503, "the server is shutting down");
    return false;
  }
  server.in_flight.fetch_add(1);
  st.counted = true;
  if (server.draining.load()) {  // stop() may not have seen the increment
    st.close = true;
    refuse(ex, 503, "the server is shutting down");
    return false;
  }

  st.route = match_route(ex.req.method, ex.req.path);
  if (st.route.route == Route::kNotFound || (st.route.route == Route::kDashboard && !server.options.dashboard)) {
    refuse(ex, 404,
           absl::StrCat("unknown route ", text::excerpt(ex.req.method), " ", text::excerpt(ex.req.path),
                        " (routes: POST /v0/events, POST /v0/datasources, GET /v0/pipes, GET /v0/pipes/NAME.json, "
                        "POST /v0/datasources/feature_events/delete, GET /v0/health, GET /metrics",
                        server.options.dashboard ? ", GET / (the dashboard)" : "", ")"));
    return false;
  }
  if (!st.route.method_allowed) {
    ex.res.set_header("Allow", std::string(st.route.allow));
    refuse(ex, 405,
           absl::StrCat("method ", text::excerpt(ex.req.method), " is not allowed on ", text::excerpt(ex.req.path),
                        " (allowed: ", text::absl_view(st.route.allow), ")"));
    return false;
  }
  if (st.route.route == Route::kPreflight) {
    ex.res.status = 204;
    ex.res.set_header("Access-Control-Allow-Methods", "GET, POST, OPTIONS");
    ex.res.set_header("Access-Control-Allow-Headers", "Authorization, Content-Type, Content-Encoding");
    ex.res.set_header("Access-Control-Max-Age", "86400");
    st.answered = true;
    return false;
  }

  absl::StatusOr<api::Params> query = parse_form(query_string(ex.req.target), "query string");
  if (!query.ok()) {
    refuse(ex, 400, message_of(query.status()));
    return false;
  }
  st.query = std::move(*query);

  // The health check and the dashboard's files need no token (the page asks
  // for one and sends it with each /v0 request it makes).
  if (st.route.route == Route::kHealth || st.route.route == Route::kDashboard) return true;

  bool present = false;
  bool malformed = false;
  const std::string token = token_of(ex, &present, &malformed);
  if (malformed) {
    refuse(ex, 401, "Authorization: expected 'Bearer <token>'");
    return false;
  }
  if (token.empty()) {
    refuse(ex, 401, present ? "the token is empty" : "no token: send Authorization: Bearer <token>, or ?token=<token>");
    return false;
  }
  absl::StatusOr<std::shared_ptr<const Principal>> who = server.tokens.authenticate(token, unix_now());
  if (!who.ok()) {
    refuse(ex, 403, message_of(who.status()));
    return false;
  }
  st.principal = std::move(*who);

  Need need;
  if (!need_of(ex, &need)) return false;
  if (need.kind == Need::kScope && st.principal->find(need.type, need.resource) == nullptr) {
    const std::string grant = need.type == ScopeType::kAdmin ? std::string("ADMIN")
                                                             : absl::StrCat(text::absl_view(scope_type_name(need.type)),
                                                                            ":", need.resource, " or ADMIN");
    refuse(ex, 403,
           absl::StrCat("token '", text::excerpt(st.principal->name), "' may not ", need.what,
                        ": that needs the scope ", grant));
    return false;
  }

  if (const uint64_t wait = server.limiter.acquire(st.principal->name, st.principal->rps_limit, unix_now())) {
    ex.res.set_header("Retry-After", std::to_string(wait));
    refuse(ex, 429,
           absl::StrCat("token '", text::excerpt(st.principal->name), "' is over its limit of ",
                        st.principal->rps_limit, " requests per second; retry after ", wait, " s"));
    return false;
  }

  if (ex.req.method == "POST") {
    absl::StatusOr<std::optional<uint64_t>> length = content_length(ex.state.headers);
    if (!length.ok()) {
      st.close = true;
      refuse(ex, 400, message_of(length.status()));
      return false;
    }
    const uint64_t limit = body_limit(ex);
    if (length->has_value() && **length > limit) {
      st.close = true;
      refuse(ex, 413,
             absl::StrCat("the request body is ", **length, " bytes, over the limit of ", limit, " bytes (",
                          st.route.route == Route::kDatasourcesAppend ? "--max-file-bytes" : "--max-body-bytes", ")"));
      return false;
    }
  }
  return true;
}

}  // namespace

uint64_t body_limit(const Exchange& ex) {
  return ex.state.route.route == Route::kDatasourcesAppend ? ex.server.options.max_file_bytes
                                                           : ex.server.options.max_body_bytes;
}

bool admit(Exchange& ex) {
  if (ex.state.admitted) return true;
  if (ex.state.answered) return false;
  ex.state.admitted = admit_fresh(ex);
  return ex.state.admitted;
}

void add_cors_headers(const ServerState& server, httplib::Response& res) {
  res.set_header("Access-Control-Allow-Origin", server.options.cors_origin);
  res.set_header("Access-Control-Expose-Headers", "Retry-After");
}

}  // namespace usagedb::http
