// Admission: what every request goes through before its route's handler,
// in this order (SPEC 5):
//
//   503  the server is shutting down
//   404  no such route; 405 a route that does not take the method (with Allow)
//   204  an OPTIONS preflight (CORS)
//        GET /v0/health and the dashboard's files (GET /, /FILE) need no token;
//        with --no-dashboard those are 404
//   401  no token, or an empty one (Authorization: Bearer T, or ?token=T)
//   403  a token that is neither a static token nor a valid JWT
//   400  the route's resource parameter missing (POST /v0/events needs ?name=)
//   404  an unknown data source or endpoint
//   403  a token whose scopes do not grant the route on that resource
//   429  over the token's limits.rps, with Retry-After
//   413  a Content-Length over the route's limit (before a byte of it is read)
//
// admit() answers the refused ones itself. It runs when the headers are in:
// before the server answers `Expect: 100-continue` (so a refused upload is
// never sent), or else before the handler.
//
// Thread-safety: runs on the thread serving the request.
#ifndef USAGEDB_HTTP_ADMISSION_H_
#define USAGEDB_HTTP_ADMISSION_H_

#include "lib/http/exchange.h"

namespace usagedb::http {

// Decides whether the request of `ex` goes on to its handler. Returns true
// when it does; otherwise the reply is in ex.res (and ex.state.answered is
// set). Idempotent: a second call returns the first's verdict.
bool admit(Exchange& ex);

// The limit of the route's request body: max_file_bytes for POST
// /v0/datasources, max_body_bytes otherwise.
uint64_t body_limit(const Exchange& ex);

// The CORS headers of every /v0 response.
void add_cors_headers(const ServerState& server, httplib::Response& res);

}  // namespace usagedb::http

#endif  // USAGEDB_HTTP_ADMISSION_H_
