// The dashboard's static files as the server answers them (SPEC 7;
// docs/DASHBOARD.md): each embedded file (lib/http/dashboard_files.h) with its
// Content-Type, a strong ETag of its bytes, and its gzip encoding, computed
// once on first use.
//
//   const DashboardAsset* asset = find_dashboard_asset("/");  // index.html
//   if (asset != nullptr) ... asset->content_type, asset->gzip ...
//
// `/` is /index.html. Every response of the dashboard carries
// kDashboardSecurityPolicy: scripts, styles, images and connections from the
// server itself only, no inline script or style, no eval, no framing.
//
// Thread-safety: find_dashboard_asset is safe to call concurrently; the
// assets are immutable once built.
#ifndef USAGEDB_HTTP_DASHBOARD_H_
#define USAGEDB_HTTP_DASHBOARD_H_

#include <string>
#include <string_view>

namespace usagedb::http {

struct DashboardAsset {
  std::string_view path;
  std::string_view content;
  std::string_view content_type;
  std::string etag;  // "\"<16 hex digits of xxHash64>\""
  // The content gzip-compressed, or "" when gzip would not make it smaller
  // (a PNG).
  std::string gzip;
};

// The asset served at `path` ('/' and '/index.html' are the page), or null.
const DashboardAsset* find_dashboard_asset(std::string_view path);

// Whether an embedded file is served at `path` (not "/"): a lookup that
// builds nothing, for the router.
bool is_dashboard_path(std::string_view path);

// The Content-Security-Policy of every dashboard response.
inline constexpr std::string_view kDashboardSecurityPolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "font-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

// Whether an If-None-Match header value names `etag` (or is `*`).
bool etag_matches(std::string_view if_none_match, std::string_view etag);

}  // namespace usagedb::http

#endif  // USAGEDB_HTTP_DASHBOARD_H_
