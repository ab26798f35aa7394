// What the HTTP API's handlers share: the server's state (ServerState), one
// request being answered (Exchange), and the replies.
//
// A request goes through admission (lib/http/admission.h: 503, route,
// 404/405, CORS preflight, token, scope, rate limit, body size) and then
// its route's handler (lib/http/routes.h), which reads the body through
// RequestBody (lib/http/request_body.h) and replies with reply_json or
// reply_error.
//
// Thread-safety: ServerState's members are safe for concurrent use; an
// Exchange belongs to the worker thread serving its request.
#ifndef USAGEDB_HTTP_EXCHANGE_H_
#define USAGEDB_HTTP_EXCHANGE_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "lib/api/endpoint_request.h"
#include "lib/http/access_log.h"
#include "lib/http/connection_loop.h"
#include "lib/http/cpp_httplib.h"
#include "lib/http/group_commit.h"
#include "lib/http/metrics.h"
#include "lib/http/rate_limiter.h"
#include "lib/http/router.h"
#include "lib/http/scopes.h"
#include "lib/http/token_set.h"
#include "usagedb/event_store.h"
#include "usagedb/http_server.h"

namespace usagedb::http {

// The server-wide state every request uses.
struct ServerState {
  ServerState(EventStore& s, const HttpServerOptions& o)
      : store(s), options(o), access_log(o.access_log), commit([&s] { return s.flush(); }, o.flush_interval) {}

  EventStore& store;
  const HttpServerOptions& options;
  TokenSet tokens;
  RateLimiter limiter;
  Metrics metrics;
  AccessLog access_log;
  GroupCommit commit;
  // stop() sets it: requests are answered 503 from then on.
  std::atomic<bool> draining{false};
  // Requests admitted (not 503) and not yet answered.
  std::atomic<int64_t> in_flight{0};
};

// The request headers the server reads, found in one pass over them
// (httplib's header map compares names case-insensitively a character at a
// time: each lookup costs, and they were a tenth of a small request's CPU).
// The pointers are into the request's headers; null when absent.
struct RequestHeaders {
  const std::string* authorization = nullptr;
  const std::string* content_length = nullptr;
  const std::string* content_type = nullptr;
  const std::string* content_encoding = nullptr;
  const std::string* transfer_encoding = nullptr;

  void read(const httplib::Headers& headers);
  // The value of `header`, "" when absent.
  static std::string_view value(const std::string* header) {
    return header != nullptr ? std::string_view(*header) : std::string_view();
  }
};

// One request, from its headers to its answer.
struct RequestState {
  Connection* connection = nullptr;
  std::chrono::steady_clock::time_point start;
  bool admitted = false;  // admission ran and let it through
  bool answered = false;  // admission answered it (an error or a preflight)
  bool counted = false;   // counted in ServerState::in_flight
  bool close = false;     // close the connection after the answer
  bool has_body = false;  // Content-Length > 0 or chunked
  uint64_t request_content_length = 0;
  bool body_done = false;  // the body was read to its end
  RequestHeaders headers;
  RouteMatch route;
  api::Params query;  // the decoded query string
  std::shared_ptr<const Principal> principal;
};

// The request being served on this thread, or null (set by the server
// around each request).
RequestState* current_request();
void set_current_request(RequestState* state);

struct Exchange {
  ServerState& server;
  RequestState& state;
  const httplib::Request& req;
  httplib::Response& res;

  // The first value of query parameter `name`, or null.
  const std::string* param(std::string_view name) const;
};

// A Status's message as a std::string_view (Debian's Abseil has its own).
inline std::string_view message_of(const absl::Status& s) { return {s.message().data(), s.message().size()}; }

// Replies `status` with a JSON body (a newline is appended).
void reply_json(httplib::Response& res, int status, std::string body);
// Replies `status` with {"error": "<message>"} (lib/api/format.h).
void reply_error(httplib::Response& res, int status, std::string_view message);
// reply_error with the status http_status_of(status) and its message.
void reply_status(httplib::Response& res, const absl::Status& status);

}  // namespace usagedb::http

#endif  // USAGEDB_HTTP_EXCHANGE_H_
