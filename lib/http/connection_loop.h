// ConnectionLoop: the server's worker threads and the client connections
// they serve.
//
// cpp-httplib's own model gives each connection a pool thread for its whole
// life (and polls idle keep-alive connections in a sleep loop), so 64
// keep-alive clients need 64 threads and an idle browser tab holds one.
// Here a connection holds a worker only while it has a request to read,
// answer or write: between requests it waits in epoll. Each worker blocks in
// epoll_wait for a connection with input (EPOLLONESHOT: one worker at a time
// per connection), serves its requests while input is there, and re-arms
// it. A connection idle for keep_alive_timeout is closed.
//
//   ConnectionLoop loop({.threads = 8, ...}, tls, [&](Connection& c) { return serve(c); });
//   loop.start();
//   loop.add(accepted_fd);      // from the accept thread
//   ...
//   loop.close_all();           // idle ones now, busy ones after their request
//
// Thread-safety: add() and close_all() may be called from any thread.
#ifndef USAGEDB_HTTP_CONNECTION_LOOP_H_
#define USAGEDB_HTTP_CONNECTION_LOOP_H_

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "lib/http/connection_stream.h"
#include "lib/util/mutex.h"

namespace usagedb::http {

class TlsContext;

// One client connection.
struct Connection {
  enum State : int { kIdle, kActive, kExpired };

  int fd = -1;
  SSL* ssl = nullptr;  // owned (TLS), or null
  std::unique_ptr<ConnectionStream> stream;
  bool handshaken = false;
  std::atomic<int> state{kIdle};
  std::atomic<int64_t> idle_since_ms{0};  // steady clock
};

class ConnectionLoop {
 public:
  struct Options {
    size_t threads = 8;
    StreamLimits limits;
    std::chrono::milliseconds keep_alive_timeout{5000};
  };
  // Serves the requests of a connection with input; returns whether to keep
  // the connection open.
  using Serve = std::function<bool(Connection&)>;

  // `tls` (may be null: plain HTTP) must outlive the loop.
  ConnectionLoop(const Options& options, const TlsContext* tls, Serve serve);
  // close_all().
  ~ConnectionLoop();
  ConnectionLoop(const ConnectionLoop&) = delete;
  ConnectionLoop& operator=(const ConnectionLoop&) = delete;

  absl::Status start();

  // Takes an accepted socket (closing it if the loop is closing).
  void add(int fd);

  // Closes every idle connection now and each busy one once its worker
  // returns it, waits until none is left, then stops the workers.
  // Idempotent.
  void close_all();

  size_t connections() const;

 private:
  void run_worker();
  void run_housekeeper();
  void close_connection(Connection* c);
  // Shuts down idle connections: all when closing_, else those idle too long.
  void sweep() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Options options_;
  const TlsContext* const tls_;
  const Serve serve_;
  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  std::atomic<bool> stopping_{false};

  // Held around a connection's re-arming (epoll_ctl) and before its close,
  // striped by descriptor. The kernel already orders the two (a worker gets
  // the connection only once it is re-armed); the lock makes the order one
  // that ThreadSanitizer sees (its epoll model does not treat EPOLL_CTL_MOD
  // as a release). Rarely contended: two workers on one stripe at once.
  static constexpr size_t kArmStripes = 64;
  std::array<Mutex, kArmStripes> arm_mu_;
  Mutex& arm_mu(int fd) { return arm_mu_[static_cast<size_t>(fd) % kArmStripes]; }

  mutable Mutex mu_;
  std::condition_variable_any cv_;
  absl::flat_hash_set<Connection*> connections_ ABSL_GUARDED_BY(mu_);
  bool closing_ ABSL_GUARDED_BY(mu_) = false;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> workers_;
  std::thread housekeeper_;
};

}  // namespace usagedb::http

#endif  // USAGEDB_HTTP_CONNECTION_LOOP_H_
