#include "lib/http/dashboard.h"

#include <zlib.h>

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "lib/http/dashboard_files.h"
#include "lib/http/response_encoding.h"
#include "lib/util/hash.h"

namespace usagedb::http {
namespace {

std::string_view content_type_of(std::string_view path) {
  struct Type {
    std::string_view extension;
    std::string_view content_type;
  };
  static constexpr Type kTypes[] = {
      {".html", "text/html; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".json", "application/json"},
  };
  for (const Type& t : kTypes) {
    if (path.size() >= t.extension.size() && path.substr(path.size() - t.extension.size()) == t.extension) {
      return t.content_type;
    }
  }
  return "application/octet-stream";
}

std::vector<DashboardAsset> build_assets() {
  std::vector<DashboardAsset> assets;
  for (const DashboardFile& f : dashboard_files()) {
    DashboardAsset a;
    a.path = f.path;
    a.content = f.content;
    a.content_type = content_type_of(f.path);
    a.etag = absl::StrFormat("\"%016x\"", hash::hash64(f.content));
    a.gzip = gzip(f.content, Z_BEST_COMPRESSION);  // once per server
    if (a.gzip.size() >= a.content.size()) a.gzip.clear();
    assets.push_back(std::move(a));
  }
  return assets;
}

}  // namespace

const DashboardAsset* find_dashboard_asset(std::string_view path) {
  static const std::vector<DashboardAsset>* const kAssets = new std::vector<DashboardAsset>(build_assets());
  if (path == "/") path = "/index.html";
  for (const DashboardAsset& a : *kAssets) {
    if (a.path == path) return &a;
  }
  return nullptr;
}

bool is_dashboard_path(std::string_view path) {
  for (const DashboardFile& f : dashboard_files()) {
    if (f.path == path) return true;
  }
  return false;
}

bool etag_matches(std::string_view if_none_match, std::string_view etag) {
  for (absl::string_view tag : absl::StrSplit(absl::string_view(if_none_match.data(), if_none_match.size()), ',')) {
    tag = absl::StripAsciiWhitespace(tag);
    absl::ConsumePrefix(&tag, "W/");  // If-None-Match compares weakly (RFC 9110 13.1.2)
    if (tag == "*" || tag == absl::string_view(etag.data(), etag.size())) return true;
  }
  return false;
}

}  // namespace usagedb::http
