// cpp-httplib (Debian's libcpp-httplib-dev, 0.11), included by lib/http only:
// it never reaches a public header. The library was built with OpenSSL,
// zlib and Brotli support; CMake passes the same CPPHTTPLIB_* definitions
// (pkg-config cpp-httplib) so the classes' layouts match it.
//
// What the server uses of it: request parsing and response writing
// (Server::process_request over our own Stream, lib/http/connection_stream.h),
// the accept loop (Server::listen_after_bind), routing hooks
// (pre-routing, Expect: 100-continue, post-routing and error handlers).
// The connections, their timeouts, bodies and thread pool are ours.
#ifndef USAGEDB_HTTP_CPP_HTTPLIB_H_
#define USAGEDB_HTTP_CPP_HTTPLIB_H_

#include <httplib.h>

#endif  // USAGEDB_HTTP_CPP_HTTPLIB_H_
