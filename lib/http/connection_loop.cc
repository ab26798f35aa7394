#include "lib/http/connection_loop.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/ssl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "lib/http/tls.h"

namespace usagedb::http {
namespace {

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// The numeric address and port of a socket address.
void address_of(const sockaddr_storage& addr, std::string* ip, int* port) {
  char buf[INET6_ADDRSTRLEN] = "";
  if (addr.ss_family == AF_INET) {
    const auto* a = reinterpret_cast<const sockaddr_in*>(&addr);
    ::inet_ntop(AF_INET, &a->sin_addr, buf, sizeof(buf));
    *port = ntohs(a->sin_port);
  } else if (addr.ss_family == AF_INET6) {
    const auto* a = reinterpret_cast<const sockaddr_in6*>(&addr);
    ::inet_ntop(AF_INET6, &a->sin6_addr, buf, sizeof(buf));
    *port = ntohs(a->sin6_port);
  }
  *ip = buf;
}

}  // namespace

ConnectionLoop::ConnectionLoop(const Options& options, const TlsContext* tls, Serve serve)
    : options_(options), tls_(tls), serve_(std::move(serve)) {}

ConnectionLoop::~ConnectionLoop() {
  close_all();
  if (epoll_fd_ >= 0) ::close(epoll_fd_);
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

absl::Status ConnectionLoop::start() {
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (epoll_fd_ < 0 || wake_fd_ < 0) return absl::InternalError(absl::StrCat("epoll: ", std::strerror(errno)));
  epoll_event ev{};
  ev.events = EPOLLIN;  // level-triggered: once written, it wakes every worker
  ev.data.ptr = nullptr;
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev) != 0) {
    return absl::InternalError(absl::StrCat("epoll_ctl: ", std::strerror(errno)));
  }
  for (size_t i = 0; i < std::max<size_t>(1, options_.threads); ++i) workers_.emplace_back([this] { run_worker(); });
  housekeeper_ = std::thread([this] { run_housekeeper(); });
  return absl::OkStatus();
}

void ConnectionLoop::add(int fd) {
  const int flags = ::fcntl(fd, F_GETFL, 0);
  ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  sockaddr_storage remote{}, local{};
  socklen_t remote_len = sizeof(remote), local_len = sizeof(local);
  ::getpeername(fd, reinterpret_cast<sockaddr*>(&remote), &remote_len);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &local_len);
  std::string remote_ip, local_ip;
  int remote_port = 0, local_port = 0;
  address_of(remote, &remote_ip, &remote_port);
  address_of(local, &local_ip, &local_port);

  auto c = std::make_unique<Connection>();
  c->fd = fd;
  if (tls_ != nullptr) {
    c->ssl = tls_->new_session(fd);
    if (c->ssl == nullptr) {
      ::close(fd);
      return;
    }
  }
  c->stream = std::make_unique<ConnectionStream>(fd, c->ssl, options_.limits, std::move(remote_ip), remote_port,
                                                 std::move(local_ip), local_port);
  c->idle_since_ms.store(now_ms(), std::memory_order_relaxed);
  Connection* raw = c.get();
  {
    MutexLock lock(&mu_);
    if (closing_ || epoll_fd_ < 0) {
      if (raw->ssl != nullptr) SSL_free(raw->ssl);
      ::close(fd);
      return;
    }
    connections_.insert(c.release());
  }
  // Published to the worker that takes it by the state's release/acquire.
  raw->state.store(Connection::kIdle, std::memory_order_release);
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLRDHUP | EPOLLONESHOT;
  ev.data.ptr = raw;
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) close_connection(raw);
}

void ConnectionLoop::close_connection(Connection* c) {
  { MutexLock rearmed(&arm_mu(c->fd)); }  // after the re-arming that handed it over
  {
    MutexLock lock(&mu_);
    connections_.erase(c);
    if (connections_.empty()) cv_.notify_all();
  }
  // Closing the descriptor also removes it from the epoll set.
  if (c->ssl != nullptr) {
    SSL_shutdown(c->ssl);
    SSL_free(c->ssl);
  }
  ::close(c->fd);
  delete c;
}

void ConnectionLoop::run_worker() {
  for (;;) {
    epoll_event ev{};
    const int n = ::epoll_wait(epoll_fd_, &ev, 1, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (n == 0) continue;
    if (ev.data.ptr == nullptr) {
      if (stopping_.load()) return;
      continue;
    }
    auto* c = static_cast<Connection*>(ev.data.ptr);
    int expected = Connection::kIdle;
    if (!c->state.compare_exchange_strong(expected, Connection::kActive, std::memory_order_acq_rel)) {
      close_connection(c);  // expired: the housekeeper shut it down
      continue;
    }
    bool keep = true;
    if (!c->handshaken) keep = c->handshaken = c->stream->handshake();
    if (keep) keep = serve_(*c);
    if (!keep) {
      close_connection(c);
      continue;
    }
    c->idle_since_ms.store(now_ms(), std::memory_order_relaxed);
    c->state.store(Connection::kIdle, std::memory_order_release);
    // From here the connection may be taken by another worker: no access to
    // *c after re-arming it.
    epoll_event again{};
    again.events = EPOLLIN | EPOLLRDHUP | EPOLLONESHOT;
    again.data.ptr = c;
    const int fd = c->fd;
    int rc;
    {
      MutexLock arming(&arm_mu(fd));
      rc = ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &again);
    }
    if (rc != 0) close_connection(c);  // not armed, so no other worker can have it
  }
}

void ConnectionLoop::sweep() {
  const int64_t now = now_ms();
  const int64_t keep_alive = options_.keep_alive_timeout.count();
  for (Connection* c : connections_) {
    if (!closing_ && now - c->idle_since_ms.load(std::memory_order_relaxed) < keep_alive) continue;
    int expected = Connection::kIdle;
    if (c->state.compare_exchange_strong(expected, Connection::kExpired, std::memory_order_acq_rel)) {
      // Its epoll event (EOF) hands it to a worker, which closes it; the
      // descriptor stays open until then (workers close under mu_).
      ::shutdown(c->fd, SHUT_RDWR);
    }
  }
}

void ConnectionLoop::run_housekeeper() {
  MutexLock lock(&mu_);
  while (!stopped_) {
    sweep();
    cv_.wait_for(mu_, std::chrono::milliseconds(closing_ ? 20 : 250));
  }
}

void ConnectionLoop::close_all() {
  {
    MutexLock lock(&mu_);
    if (stopped_) return;
    closing_ = true;
    sweep();
    cv_.notify_all();
    while (!connections_.empty() && epoll_fd_ >= 0) cv_.wait_for(mu_, std::chrono::milliseconds(20));
    stopped_ = true;
    cv_.notify_all();
  }
  stopping_.store(true);
  if (wake_fd_ >= 0) {
    const uint64_t one = 1;
    (void)!::write(wake_fd_, &one, sizeof(one));
  }
  for (std::thread& t : workers_) t.join();
  workers_.clear();
  if (housekeeper_.joinable()) housekeeper_.join();
}

size_t ConnectionLoop::connections() const {
  MutexLock lock(&mu_);
  return connections_.size();
}

}  // namespace usagedb::http
