// usagedb/http_server.h: the Tinybird-compatible HTTP API over an
// EventStore (SPEC section 5), for applications that serve it from their
// own process. `usagedb serve` is this class and a signal handler.
//
//   usagedb::HttpServerOptions options;
//   options.port = 7181;                                  // 0: any free port
//   options.tokens = {{.name = "admin", .token = secret, .scopes = {"ADMIN"}}};
//   usagedb::HttpServer server(*store, options);
//   absl::Status s = server.start();                     // listening when OK
//   ... curl -H "Authorization: Bearer $secret" http://127.0.0.1:7181/v0/pipes ...
//   absl::Status flushed = server.stop();                // drains and flushes
//
// Routes, scopes, JWTs, errors and limits: docs/HTTP.md.
//
// Thread-safety: start() and stop() may be called from any thread (stop()
// from a signal-handling thread, say), not concurrently with each other's
// first call; port() and created_admin_token() are safe after start(). The
// store must outlive the server and may be used by the application
// meanwhile.
#ifndef USAGEDB_HTTP_SERVER_H_
#define USAGEDB_HTTP_SERVER_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "usagedb/event_store.h"

namespace usagedb {

// A static token (SPEC 5): its name (what logs and metrics show), its
// secret value, its scopes ("ADMIN", "DATASOURCES:APPEND:feature_events",
// "DATASOURCES:READ:feature_events", "PIPES:READ:<endpoint>") and an optional
// rate limit in requests per second (0 = none).
struct HttpToken {
  std::string name;
  std::string token;
  std::vector<std::string> scopes;
  uint64_t rps_limit = 0;
};

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  // 0 binds any free port; HttpServer::port() tells which.
  int port = 7181;

  // The tokens file ({"tokens":[{"name","token","scopes"}]}); "" = none.
  // Its tokens and `tokens` are accepted together.
  std::string tokens_file;
  // When `tokens_file` does not exist: create it (mode 0600) with one random
  // ADMIN token, which created_admin_token() returns once. Otherwise a
  // missing file is an error.
  bool create_tokens_file = false;
  std::vector<HttpToken> tokens;

  // Worker threads. A connection holds one only while a request is read,
  // answered or written, so a few serve many keep-alive connections.
  // 0 = 4 per core, at least 8.
  size_t threads = 0;

  // Largest request body of POST /v0/events and form posts, counted as
  // sent and again after gzip inflation (413 beyond).
  uint64_t max_body_bytes = 10 << 20;
  // Largest file of POST /v0/datasources, counted the same way.
  uint64_t max_file_bytes = uint64_t{1} << 30;

  // TLS: PEM files of the certificate chain and its key; both or neither.
  std::string tls_cert_file;
  std::string tls_key_file;

  // Access-Control-Allow-Origin of every /v0 response and CORS preflight.
  std::string cors_origin = "*";

  // Rows of POST /v0/events answered 202 (without wait=true) are visible to
  // queries at once and durable within this interval (a flush starts at most
  // half of it after the first such write).
  std::chrono::milliseconds flush_interval{1000};

  // A request's line and headers must arrive within header_timeout; each
  // wait for more of a body at most body_timeout; each wait for the client
  // to take response bytes at most write_timeout. An idle keep-alive
  // connection is closed after keep_alive_timeout.
  std::chrono::milliseconds header_timeout{10000};
  std::chrono::milliseconds body_timeout{30000};
  std::chrono::milliseconds write_timeout{30000};
  std::chrono::milliseconds keep_alive_timeout{5000};

  // Serve the dashboard (SPEC 7, docs/DASHBOARD.md) at `/`: a page built
  // into the server that reads the /v0/pipes endpoints with the token the
  // user gives it. false: `/` and its files are 404.
  bool dashboard = true;

  // One line per request: "" = none, "-" = standard error, else a file
  // appended to. Token values never appear in it (the token's name does).
  std::string access_log;
};

class HttpServer {
 public:
  HttpServer(EventStore& store, HttpServerOptions options);
  // Calls stop().
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Loads the tokens, binds the address and starts serving; returns once
  // connections are accepted. Errors: InvalidArgumentError for unusable
  // options or tokens (naming the option, file or token), UnavailableError
  // when the address cannot be bound. Call at most once.
  absl::Status start();

  // Stops gracefully: from now on requests are answered 503; waits for the
  // requests in flight to finish, stops accepting, closes the connections,
  // and flushes the store so every acknowledged row is durable. Returns the
  // flush's status. Idempotent (later calls return OK at once).
  absl::Status stop();

  // The bound port (after start()).
  int port() const;

  // The ADMIN token start() created with the tokens file, or "" when it
  // created none. Print it once: it is not shown again.
  const std::string& created_admin_token() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace usagedb

#endif  // USAGEDB_HTTP_SERVER_H_
