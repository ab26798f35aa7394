// GET / and GET /FILE: the dashboard's embedded files (lib/http/dashboard.h),
// with the Content-Security-Policy that keeps the page to this server, an
// ETag (a repeated load is a 304 without a body), and the precompressed gzip
// body when the client accepts it (encode_response, lib/http/response_encoding.h,
// then sends it as it is).
#include "lib/http/dashboard.h"
#include "lib/http/response_encoding.h"
#include "lib/http/routes.h"

namespace usagedb::http {

void handle_dashboard(Exchange& ex) {
  const DashboardAsset* asset = find_dashboard_asset(ex.req.path);
  if (asset == nullptr) {  // the router matched the path, so only "/x/" with a trailing '/'
    std::string_view path = ex.req.path;
    if (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
    asset = find_dashboard_asset(path);
  }
  if (asset == nullptr) return reply_error(ex.res, 404, "no such file of the dashboard");
  ex.res.set_header("Content-Security-Policy", std::string(kDashboardSecurityPolicy));
  ex.res.set_header("X-Content-Type-Options", "nosniff");
  ex.res.set_header("Referrer-Policy", "no-referrer");
  // Revalidated on every use (the ETag makes that a 304): a new build of the
  // server is never shown with an old script.
  ex.res.set_header("Cache-Control", "no-cache");
  ex.res.set_header("ETag", asset->etag);
  ex.res.set_header("Vary", "Accept-Encoding");
  if (etag_matches(ex.req.get_header_value("If-None-Match"), asset->etag)) {
    ex.res.status = 304;
    return;
  }
  ex.res.status = 200;
  const std::string content_type(asset->content_type);
  const bool gzip = !asset->gzip.empty() && accepts_gzip(ex.req.get_header_value("Accept-Encoding"));
  if (gzip) {
    ex.res.set_header("Content-Encoding", "gzip");
    ex.res.set_content(asset->gzip, content_type.c_str());
  } else {
    ex.res.set_content(std::string(asset->content), content_type.c_str());
  }
}

}  // namespace usagedb::http
