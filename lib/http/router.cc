#include "lib/http/router.h"

#include "lib/http/dashboard.h"

namespace usagedb::http {
namespace {

constexpr std::string_view kGet = "GET, HEAD";
constexpr std::string_view kPost = "POST";

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

RouteMatch with_method(Route route, std::string_view allow, std::string_view method) {
  RouteMatch m;
  m.route = route;
  m.allow = allow;
  m.method_allowed = allow == kGet ? (method == "GET" || method == "HEAD") : method == allow;
  return m;
}

}  // namespace

std::string_view route_name(Route route) {
  switch (route) {
    case Route::kNotFound:
      return "not_found";
    case Route::kEvents:
      return "events";
    case Route::kDatasourcesAppend:
      return "datasources";
    case Route::kDatasourcesDelete:
      return "datasources_delete";
    case Route::kPipesList:
      return "pipes";
    case Route::kPipeInfo:
      return "pipe_info";
    case Route::kPipe:
      return "pipe";
    case Route::kHealth:
      return "health";
    case Route::kMetrics:
      return "metrics";
    case Route::kPreflight:
      return "preflight";
    case Route::kDashboard:
      return "dashboard";
  }
  return "?";
}

RouteMatch match_route(std::string_view method, std::string_view path) {
  if (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  if (method == "OPTIONS" && starts_with(path, "/v0/")) {
    RouteMatch m;
    m.route = Route::kPreflight;
    m.method_allowed = true;
    m.allow = "OPTIONS";
    return m;
  }
  if (path == "/v0/events") return with_method(Route::kEvents, kPost, method);
  if (path == "/v0/datasources") return with_method(Route::kDatasourcesAppend, kPost, method);
  if (path == "/v0/pipes") return with_method(Route::kPipesList, kGet, method);
  if (path == "/v0/health") return with_method(Route::kHealth, kGet, method);
  if (path == "/metrics") return with_method(Route::kMetrics, kGet, method);
  constexpr std::string_view kDatasources = "/v0/datasources/";
  constexpr std::string_view kDelete = "/delete";
  if (starts_with(path, kDatasources) && path.size() > kDatasources.size() + kDelete.size() &&
      path.substr(path.size() - kDelete.size()) == kDelete) {
    const std::string_view name = path.substr(kDatasources.size(), path.size() - kDatasources.size() - kDelete.size());
    if (name.find('/') != std::string_view::npos) return {};
    RouteMatch m = with_method(Route::kDatasourcesDelete, kPost, method);
    m.resource = name;
    return m;
  }
  constexpr std::string_view kPipes = "/v0/pipes/";
  if (starts_with(path, kPipes) && path.size() > kPipes.size()) {
    const std::string_view last = path.substr(kPipes.size());
    if (last.find('/') != std::string_view::npos) return {};
    const size_t dot = last.rfind('.');
    if (dot == std::string_view::npos) {
      RouteMatch m = with_method(Route::kPipeInfo, kGet, method);
      m.resource = last;
      return m;
    }
    if (dot == 0 || dot + 1 == last.size()) return {};
    RouteMatch m = with_method(Route::kPipe, kGet, method);
    m.resource = last.substr(0, dot);
    m.format = last.substr(dot + 1);
    return m;
  }
  if (path == "/" || is_dashboard_path(path)) return with_method(Route::kDashboard, kGet, method);
  return {};
}

}  // namespace usagedb::http
