#include "lib/http/connection_stream.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace usagedb::http {
namespace {

constexpr size_t kFlushAtBytes = 64 << 10;

int remaining_ms(std::chrono::steady_clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
  return left.count() <= 0 ? 0 : static_cast<int>(std::min<int64_t>(left.count(), INT32_MAX));
}

}  // namespace

ConnectionStream::ConnectionStream(int fd, SSL* ssl, const StreamLimits& limits, std::string remote_ip, int remote_port,
                                   std::string local_ip, int local_port)
    : fd_(fd),
      ssl_(ssl),
      limits_(limits),
      remote_ip_(std::move(remote_ip)),
      remote_port_(remote_port),
      local_ip_(std::move(local_ip)),
      local_port_(local_port),
      in_(new char[kReadBuffer]) {}

bool ConnectionStream::wait(short events, std::chrono::steady_clock::time_point deadline) {
  for (;;) {
    pollfd p{fd_, events, 0};
    const int n = ::poll(&p, 1, remaining_ms(deadline));
    if (n > 0) return true;
    if (n == 0 || errno != EINTR) {
      if (failure_ == Failure::kNone) failure_ = n == 0 ? Failure::kTimeout : Failure::kError;
      return false;
    }
  }
}

bool ConnectionStream::handshake() {
  if (ssl_ == nullptr) return true;
  const auto deadline = std::chrono::steady_clock::now() + limits_.header_timeout;
  for (;;) {
    const int rc = SSL_accept(ssl_);
    if (rc == 1) return true;
    const int err = SSL_get_error(ssl_, rc);
    if (err == SSL_ERROR_WANT_READ) {
      if (!wait(POLLIN, deadline)) return false;
    } else if (err == SSL_ERROR_WANT_WRITE) {
      if (!wait(POLLOUT, deadline)) return false;
    } else {
      failure_ = Failure::kError;
      return false;
    }
  }
}

void ConnectionStream::begin_request() {
  phase_ = Phase::kHeader;
  header_deadline_ = std::chrono::steady_clock::now() + limits_.header_timeout;
  header_bytes_ = 0;
  body_bytes_ = 0;
}

void ConnectionStream::begin_body() { phase_ = Phase::kBody; }

std::chrono::steady_clock::time_point ConnectionStream::read_deadline() const {
  return phase_ == Phase::kHeader ? header_deadline_ : std::chrono::steady_clock::now() + limits_.body_timeout;
}

bool ConnectionStream::has_buffered_input() const {
  return in_pos_ < in_end_ || (ssl_ != nullptr && SSL_pending(ssl_) > 0);
}

bool ConnectionStream::is_readable() const {
  if (has_buffered_input()) return true;
  pollfd p{fd_, POLLIN, 0};
  return ::poll(&p, 1, 0) > 0;
}

ssize_t ConnectionStream::receive(char* buf, size_t size) {
  const auto deadline = read_deadline();
  for (;;) {
    if (ssl_ != nullptr) {
      const int n = SSL_read(ssl_, buf, static_cast<int>(std::min<size_t>(size, INT32_MAX)));
      if (n > 0) return n;
      const int err = SSL_get_error(ssl_, n);
      if (err == SSL_ERROR_ZERO_RETURN) return 0;
      if (err == SSL_ERROR_WANT_READ) {
        if (!wait(POLLIN, deadline)) return -1;
        continue;
      }
      if (err == SSL_ERROR_WANT_WRITE) {
        if (!wait(POLLOUT, deadline)) return -1;
        continue;
      }
      // An unclean close (no close_notify) ends the stream like EOF does.
      if (err == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) return 0;
      failure_ = Failure::kError;
      return -1;
    }
    const ssize_t n = ::recv(fd_, buf, size, 0);
    if (n >= 0) return n;
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      if (!wait(POLLIN, deadline)) return -1;
      continue;
    }
    failure_ = errno == ECONNRESET ? Failure::kClosed : Failure::kError;
    return -1;
  }
}

ssize_t ConnectionStream::read(char* ptr, size_t size) {
  if (failure_ != Failure::kNone) return -1;
  if (size == 0) return 0;
  size_t n = 0;
  if (in_pos_ < in_end_) {
    n = std::min(size, in_end_ - in_pos_);
    std::memcpy(ptr, in_.get() + in_pos_, n);
    in_pos_ += n;
  } else {
    // Whatever the client waits for goes out before we wait for it.
    if (!out_.empty() && !flush()) return -1;
    ssize_t got;
    if (size >= kReadBuffer) {
      got = receive(ptr, size);  // large reads skip the buffer
      if (got <= 0) return got;
      n = static_cast<size_t>(got);
    } else {
      got = receive(in_.get(), kReadBuffer);
      if (got <= 0) return got;
      in_pos_ = 0;
      in_end_ = static_cast<size_t>(got);
      n = std::min(size, in_end_);
      std::memcpy(ptr, in_.get(), n);
      in_pos_ = n;
    }
  }
  if (phase_ == Phase::kHeader) {
    header_bytes_ += n;
    if (header_bytes_ > limits_.max_header_bytes) {
      failure_ = Failure::kHeaderTooLarge;
      return -1;
    }
  } else {
    body_bytes_ += n;
  }
  return static_cast<ssize_t>(n);
}

ssize_t ConnectionStream::write(const char* ptr, size_t size) {
  if (write_failed_) return -1;
  out_.append(ptr, size);
  if (out_.size() >= kFlushAtBytes && !flush()) return -1;
  return static_cast<ssize_t>(size);
}

bool ConnectionStream::flush() {
  size_t sent = 0;
  while (sent < out_.size() && !write_failed_) {
    const auto deadline = std::chrono::steady_clock::now() + limits_.write_timeout;
    const char* p = out_.data() + sent;
    const size_t left = out_.size() - sent;
    if (ssl_ != nullptr) {
      const int n = SSL_write(ssl_, p, static_cast<int>(std::min<size_t>(left, INT32_MAX)));
      if (n > 0) {
        sent += static_cast<size_t>(n);
        continue;
      }
      const int err = SSL_get_error(ssl_, n);
      if (err == SSL_ERROR_WANT_WRITE) {
        write_failed_ = !wait(POLLOUT, deadline);
      } else if (err == SSL_ERROR_WANT_READ) {
        write_failed_ = !wait(POLLIN, deadline);
      } else {
        fail_write(Failure::kError);
      }
      continue;
    }
    const ssize_t n = ::send(fd_, p, left, MSG_NOSIGNAL);
    if (n >= 0) {
      sent += static_cast<size_t>(n);
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      write_failed_ = !wait(POLLOUT, deadline);
    } else if (errno != EINTR) {
      fail_write(errno == EPIPE || errno == ECONNRESET ? Failure::kClosed : Failure::kError);
    }
  }
  out_.clear();
  if (out_.capacity() > (256 << 10)) out_.shrink_to_fit();
  return !write_failed_;
}

void ConnectionStream::fail_write(Failure why) {
  write_failed_ = true;
  if (failure_ == Failure::kNone) failure_ = why;
}

void ConnectionStream::linger(std::chrono::milliseconds max_time, size_t max_bytes) {
  if (!flush() || ssl_ != nullptr) return;  // TLS: closing with close_notify is enough
  ::shutdown(fd_, SHUT_WR);
  const auto deadline = std::chrono::steady_clock::now() + max_time;
  char buf[16 << 10];
  size_t dropped = 0;
  while (dropped < max_bytes) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, remaining_ms(deadline)) <= 0) return;
    const ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
    if (n <= 0 && !(n < 0 && errno == EINTR)) return;
    if (n > 0) dropped += static_cast<size_t>(n);
  }
}

void ConnectionStream::get_remote_ip_and_port(std::string& ip, int& port) const {
  ip = remote_ip_;
  port = remote_port_;
}

void ConnectionStream::get_local_ip_and_port(std::string& ip, int& port) const {
  ip = local_ip_;
  port = local_port_;
}

socket_t ConnectionStream::socket() const {
  // httplib asks only to refuse sockets select() cannot watch (FD_SETSIZE);
  // we poll(), so any descriptor is fine.
  return fd_ < FD_SETSIZE ? fd_ : FD_SETSIZE - 1;
}

}  // namespace usagedb::http
