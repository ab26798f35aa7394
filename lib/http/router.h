// The routes of the HTTP API (SPEC 5) and how a method and path map to one.
//
//   POST    /v0/events                      Route::kEvents
//   POST    /v0/datasources                 Route::kDatasourcesAppend
//   POST    /v0/datasources/NAME/delete     Route::kDatasourcesDelete  (resource NAME)
//   GET     /v0/pipes                       Route::kPipesList
//   GET     /v0/pipes/NAME                  Route::kPipeInfo           (resource NAME)
//   GET     /v0/pipes/NAME.FORMAT           Route::kPipe               (resource NAME, format FORMAT)
//   GET     /v0/health                      Route::kHealth
//   GET     /metrics                        Route::kMetrics
//   OPTIONS /v0/...                         Route::kPreflight          (any path under /v0/)
//   GET     /, /FILE                        Route::kDashboard          (the page and its embedded files)
//
// HEAD is accepted wherever GET is. One trailing '/' is ignored
// (`/v0/pipes/`). A path that is none of these is 404; a known path with
// another method is 405 with the methods it allows. Both are decided here,
// before any token is looked at.
//
// Thread-safety: pure functions.
#ifndef USAGEDB_HTTP_ROUTER_H_
#define USAGEDB_HTTP_ROUTER_H_

#include <string_view>

namespace usagedb::http {

enum class Route {
  kNotFound,
  kEvents,
  kDatasourcesAppend,
  kDatasourcesDelete,
  kPipesList,
  kPipeInfo,
  kPipe,
  kHealth,
  kMetrics,
  kPreflight,
  kDashboard,
};

// A stable name for metrics and logs: "events", "datasources",
// "datasources_delete", "pipes", "pipe_info", "pipe", "health", "metrics",
// "preflight", "dashboard", "not_found".
std::string_view route_name(Route route);

struct RouteMatch {
  Route route = Route::kNotFound;
  bool method_allowed = false;
  std::string_view allow;     // the methods the path accepts ("GET, HEAD")
  std::string_view resource;  // the NAME of the path, a view of it
  std::string_view format;    // kPipe: the FORMAT of the path
};

// Matches a request's method (as sent: case-sensitive) and decoded path.
RouteMatch match_route(std::string_view method, std::string_view path);

}  // namespace usagedb::http

#endif  // USAGEDB_HTTP_ROUTER_H_
