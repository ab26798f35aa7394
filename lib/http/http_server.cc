// HttpServer (usagedb/http_server.h): cpp-httplib's request parser and
// response writer over our connections (lib/http/connection_loop.h), with
// every request going through admission (lib/http/admission.h) and its
// route's handler (lib/http/routes.h).
//
// Each request: the worker that took the connection calls
// Server::process_request over the connection's stream; once the headers are
// in, the pre-routing hook (or the Expect: 100-continue hook, before the
// client sends its body) admits the request, and the pre-routing hook runs
// the handler, which reads the body itself from the stream. httplib never
// reads a body. The logger hook records the access log line and metrics of
// every answer, httplib's own errors (a malformed request line) included.
#include "usagedb/http_server.h"

#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include "absl/strings/str_cat.h"
#include "lib/http/admission.h"
#include "lib/http/connection_loop.h"
#include "lib/http/cpp_httplib.h"
#include "lib/http/exchange.h"
#include "lib/http/request_body.h"
#include "lib/http/response_encoding.h"
#include "lib/http/routes.h"
#include "lib/http/tls.h"
#include "lib/http/token_file.h"

namespace usagedb {
namespace {

using http::Connection;
using http::ConnectionStream;
using http::RequestState;

// A body this small that a refused request left unread is read and dropped,
// keeping the connection; a larger one closes it.
constexpr uint64_t kDrainableBody = 64 << 10;

// Runs each task at once on the calling thread: httplib's accept loop then
// hands each socket straight to the connection loop.
class InlineTaskQueue : public httplib::TaskQueue {
 public:
  void enqueue(std::function<void()> fn) override { fn(); }
  void shutdown() override {}
};

// httplib's Server with our connections: the accept loop hands each socket
// to the ConnectionLoop, whose workers call serve().
class Listener : public httplib::Server {
 public:
  explicit Listener(http::ServerState& state) : state_(state) {
    new_task_queue = [] { return new InlineTaskQueue; };
  }
  void set_loop(http::ConnectionLoop* loop) { loop_ = loop; }
  int listen_socket() const { return svr_sock_; }

  // Serves the requests of `c` while it has input; false to close it.
  bool serve(Connection& c) {
    for (;;) {
      RequestState st;
      st.connection = &c;
      st.start = std::chrono::steady_clock::now();
      c.stream->begin_request();
      http::set_current_request(&st);
      bool closed = false;
      const bool close_now = state_.draining.load();
      const bool ok = process_request(*c.stream, close_now, closed, [&](httplib::Request& req) {
        c.stream->begin_body();
        st.headers.read(req.headers);
        absl::StatusOr<std::optional<uint64_t>> length = http::content_length(st.headers);
        st.request_content_length = length.ok() ? length->value_or(0) : 0;
        st.has_body = st.headers.transfer_encoding != nullptr || !length.ok() || st.request_content_length > 0;
      });
      http::set_current_request(nullptr);
      if (st.counted) state_.in_flight.fetch_sub(1);
      const bool unread = st.has_body && !st.body_done;
      if (!ok || closed || close_now || st.close || c.stream->failure() != ConnectionStream::Failure::kNone ||
          (unread && !drain_unread_body(c, st))) {
        if (unread && c.stream->failure() == ConnectionStream::Failure::kNone) {
          c.stream->linger(std::chrono::milliseconds(500), 1 << 20);
        } else {
          c.stream->flush();
        }
        return false;
      }
      if (!c.stream->flush()) return false;
      if (!c.stream->has_buffered_input()) return true;
    }
  }

 private:
  // A small body the answer did not need (a refused request's) is read and
  // dropped; false when it is large, partly read, or cannot be read.
  bool drain_unread_body(Connection& c, const RequestState& st) {
    if (c.stream->body_bytes_read() != 0 || st.request_content_length > kDrainableBody ||
        st.request_content_length == 0) {
      return false;
    }
    char buf[4096];
    uint64_t left = st.request_content_length;
    while (left > 0) {
      const ssize_t n = c.stream->read(buf, std::min<uint64_t>(left, sizeof(buf)));
      if (n <= 0) return false;
      left -= static_cast<uint64_t>(n);
    }
    return true;
  }

  // httplib's accept loop calls this for each accepted socket.
  bool process_and_close_socket(socket_t sock) override {
    loop_->add(sock);
    return true;
  }

  http::ServerState& state_;
  http::ConnectionLoop* loop_ = nullptr;
};

int64_t to_seconds_ceil(std::chrono::milliseconds ms) { return (ms.count() + 999) / 1000; }

}  // namespace

class HttpServer::Impl {
 public:
  Impl(EventStore& store, HttpServerOptions options)
      : options_(std::move(options)), state_(store, options_), listener_(state_) {}

  absl::Status start();
  absl::Status stop();

  HttpServerOptions options_;
  http::ServerState state_;
  Listener listener_;
  std::unique_ptr<http::TlsContext> tls_;
  std::unique_ptr<http::ConnectionLoop> loop_;
  std::thread accept_thread_;
  std::atomic<bool> accept_done_{false};
  int port_ = 0;
  std::string created_admin_token_;
  bool started_ = false;
  bool stopped_ = false;

 private:
  absl::Status load_tokens();
  void install_hooks();
};

absl::Status HttpServer::Impl::load_tokens() {
  if (!options_.tokens_file.empty()) {
    absl::StatusOr<std::vector<http::StaticToken>> tokens = http::load_tokens_file(options_.tokens_file);
    if (!tokens.ok() && absl::IsNotFound(tokens.status()) && options_.create_tokens_file) {
      absl::StatusOr<http::StaticToken> admin = http::create_tokens_file(options_.tokens_file);
      if (!admin.ok()) return admin.status();
      created_admin_token_ = admin->token;
      tokens = std::vector<http::StaticToken>{*admin};
    }
    if (!tokens.ok()) return tokens.status();
    for (const http::StaticToken& t : *tokens) {
      if (absl::Status s = state_.tokens.add(t); !s.ok()) {
        return absl::InvalidArgumentError(absl::StrCat(options_.tokens_file, ": ", s.message()));
      }
    }
  }
  for (const HttpToken& t : options_.tokens) {
    if (absl::Status s = state_.tokens.add({t.name, t.token, t.scopes, t.rps_limit}); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("HttpServerOptions::tokens: ", s.message()));
    }
  }
  if (state_.tokens.size() == 0) {
    return absl::InvalidArgumentError("no tokens: give a tokens file or HttpServerOptions::tokens");
  }
  return absl::OkStatus();
}

void HttpServer::Impl::install_hooks() {
  http::ServerState& state = state_;
  listener_.set_expect_100_continue_handler([&state](const httplib::Request& req, httplib::Response& res) {
    RequestState* st = http::current_request();
    http::Exchange ex{state, *st, req, res};
    if (http::admit(ex)) return 100;
    st->close = true;  // the client may or may not send the body it announced
    return res.status;
  });
  listener_.set_pre_routing_handler([&state](const httplib::Request& req, httplib::Response& res) {
    RequestState* st = http::current_request();
    http::Exchange ex{state, *st, req, res};
    if (http::admit(ex)) http::dispatch(ex);
    // Before httplib's writer, which would compress the body itself.
    http::encode_response(req, res);
    return httplib::Server::HandlerResponse::Handled;
  });
  listener_.set_error_handler(httplib::Server::HandlerWithResponse([](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
    const RequestState* st = http::current_request();
    const auto failure = st != nullptr ? st->connection->stream->failure() : ConnectionStream::Failure::kNone;
    if (failure == ConnectionStream::Failure::kTimeout) {
      http::reply_error(res, 408, "the request line and headers did not arrive in time (header timeout)");
    } else if (failure == ConnectionStream::Failure::kHeaderTooLarge) {
      http::reply_error(res, 431, "the request line and headers are too large");
    } else if (res.status == 414) {
      http::reply_error(res, 414, "the request line is too long (over 8 KiB)");
    } else if (res.status == 400) {
      http::reply_error(res, 400, "malformed request: not an HTTP/1.x request line and headers");
    } else {
      http::reply_error(res, res.status,
                        absl::StrCat("the request could not be served (HTTP status ", res.status, ")"));
    }
    return httplib::Server::HandlerResponse::Handled;
  }));
  listener_.set_post_routing_handler([&state](const httplib::Request& req, httplib::Response& res) {
    res.headers.erase("Keep-Alive");
    const RequestState* st = http::current_request();
    if (st != nullptr && st->close) res.set_header("Connection", "close");
    if (req.path.rfind("/v0/", 0) == 0) http::add_cors_headers(state, res);
  });
  listener_.set_logger([&state](const httplib::Request& req, const httplib::Response& res) {
    const RequestState* st = http::current_request();
    if (st == nullptr) return;
    const auto elapsed = std::chrono::steady_clock::now() - st->start;
    state.metrics.record_request(st->route.route, res.status, elapsed);
    if (!state.access_log.enabled()) return;
    state.access_log.write(http::AccessLogEntry{
        .time = std::chrono::system_clock::now(),
        .remote_addr = req.remote_addr,
        .method = req.method,
        .target = req.target,
        .status = res.status,
        .bytes = res.body.size(),
        .elapsed = elapsed,
        .token_name = st->principal != nullptr ? std::string_view(st->principal->name) : std::string_view(),
    });
  });
  listener_.set_keep_alive_timeout(to_seconds_ceil(options_.keep_alive_timeout));
  // httplib sets SO_REUSEPORT, which lets a second server bind the same port
  // and take half its connections: SO_REUSEADDR only (restarts need it).
  listener_.set_socket_options([](socket_t sock) {
    const int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
}

absl::Status HttpServer::Impl::start() {
  if (started_) return absl::FailedPreconditionError("HttpServer::start: already started");
  started_ = true;
  if (options_.tls_cert_file.empty() != options_.tls_key_file.empty()) {
    return absl::InvalidArgumentError("TLS needs both a certificate and its key (--tls-cert and --tls-key)");
  }
  if (options_.port < 0 || options_.port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("port: expected 0..65535, got ", options_.port));
  }
  if (options_.max_body_bytes == 0 || options_.max_file_bytes == 0) {
    return absl::InvalidArgumentError("max_body_bytes and max_file_bytes must be at least 1");
  }
  if (options_.flush_interval.count() <= 0 || options_.header_timeout.count() <= 0 ||
      options_.body_timeout.count() <= 0 || options_.write_timeout.count() <= 0 ||
      options_.keep_alive_timeout.count() <= 0) {
    return absl::InvalidArgumentError("the flush interval and the timeouts must be positive");
  }
  if (absl::Status s = state_.access_log.status(); !s.ok()) return s;
  if (absl::Status s = load_tokens(); !s.ok()) return s;
  if (!options_.tls_cert_file.empty()) {
    absl::StatusOr<std::unique_ptr<http::TlsContext>> tls =
        http::TlsContext::create(options_.tls_cert_file, options_.tls_key_file);
    if (!tls.ok()) return tls.status();
    tls_ = std::move(*tls);
  }
  http::ConnectionLoop::Options loop_options;
  loop_options.threads =
      options_.threads > 0 ? options_.threads : std::max<size_t>(8, 4 * std::thread::hardware_concurrency());
  loop_options.limits.header_timeout = options_.header_timeout;
  loop_options.limits.body_timeout = options_.body_timeout;
  loop_options.limits.write_timeout = options_.write_timeout;
  loop_options.keep_alive_timeout = options_.keep_alive_timeout;
  loop_ = std::make_unique<http::ConnectionLoop>(loop_options, tls_.get(),
                                                 [this](Connection& c) { return listener_.serve(c); });
  listener_.set_loop(loop_.get());
  install_hooks();

  if (options_.port == 0) {
    port_ = listener_.bind_to_any_port(options_.host);
  } else {
    port_ = listener_.bind_to_port(options_.host, options_.port) ? options_.port : -1;
  }
  if (port_ <= 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", options_.host, ":", options_.port, ": ",
                                               std::strerror(errno), " (is another server on that port?)"));
  }
  // httplib listens with a backlog of 5: too few for a burst of clients.
  ::listen(listener_.listen_socket(), SOMAXCONN);
  if (absl::Status s = loop_->start(); !s.ok()) return s;
  accept_thread_ = std::thread([this] {
    listener_.listen_after_bind();
    accept_done_.store(true);
  });
  // Server::stop() only stops a running accept loop: wait until it runs.
  while (!listener_.is_running() && !accept_done_.load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return absl::OkStatus();
}

absl::Status HttpServer::Impl::stop() {
  if (!started_ || stopped_) return absl::OkStatus();
  stopped_ = true;
  state_.draining.store(true);
  // Requests admitted before the flag finish; those after it get 503.
  while (state_.in_flight.load() > 0) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  if (accept_thread_.joinable()) {
    listener_.stop();
    accept_thread_.join();
  }
  if (loop_) loop_->close_all();
  absl::Status flushed = state_.commit.close();
  state_.access_log.flush();
  return flushed;
}

HttpServer::HttpServer(EventStore& store, HttpServerOptions options)
    : impl_(std::make_unique<Impl>(store, std::move(options))) {}

HttpServer::~HttpServer() { (void)impl_->stop(); }

absl::Status HttpServer::start() { return impl_->start(); }

absl::Status HttpServer::stop() { return impl_->stop(); }

int HttpServer::port() const { return impl_->port_; }

const std::string& HttpServer::created_admin_token() const { return impl_->created_admin_token_; }

}  // namespace usagedb
