// The dashboard's files (SPEC 7), built into the server: web/ of the
// repository and Debian's Chart.js, each under the URL path it is served at
// ("/index.html", "/js/app.js", "/vendor/chart.min.js"). The definition is
// generated at build time by cmake/embed_files.cmake (lib/CMakeLists.txt
// lists the files); nothing is read from disk or downloaded at run time.
//
// Thread-safety: immutable static data.
#ifndef USAGEDB_HTTP_DASHBOARD_FILES_H_
#define USAGEDB_HTTP_DASHBOARD_FILES_H_

#include <span>
#include <string_view>

namespace usagedb::http {

struct DashboardFile {
  std::string_view path;     // the URL path, starting with '/'
  std::string_view content;  // the file's bytes
};

// Every file, in the order the build listed them.
std::span<const DashboardFile> dashboard_files();

}  // namespace usagedb::http

#endif  // USAGEDB_HTTP_DASHBOARD_FILES_H_
