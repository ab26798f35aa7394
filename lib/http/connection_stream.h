// ConnectionStream: cpp-httplib's Stream over one client socket (plain or
// TLS), owned by the server rather than by httplib, so that the server
// decides how long it waits:
//
// - header phase (begin_request): the request line and headers must arrive
//   within `header_timeout` in total and fit in `max_header_bytes`, so a
//   slow or endless header (slowloris) cannot hold a worker;
// - body phase (begin_body): each wait for more body bytes is at most
//   `body_timeout`;
// - writes are gathered and sent when the server next reads or flush() is
//   called (one send per small response), each wait for the socket to take
//   bytes at most `write_timeout`.
//
// The socket is non-blocking; every wait is a poll() with its deadline. A
// read that times out returns -1 and failure() says kTimeout.
//
// Thread-safety: used by one thread at a time (the worker serving its
// connection).
#ifndef USAGEDB_HTTP_CONNECTION_STREAM_H_
#define USAGEDB_HTTP_CONNECTION_STREAM_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "lib/http/cpp_httplib.h"

typedef struct ssl_st SSL;

namespace usagedb::http {

struct StreamLimits {
  std::chrono::milliseconds header_timeout{10000};
  std::chrono::milliseconds body_timeout{30000};
  std::chrono::milliseconds write_timeout{30000};
  size_t max_header_bytes = 64 << 10;
};

class ConnectionStream final : public httplib::Stream {
 public:
  enum class Failure { kNone, kTimeout, kClosed, kError, kHeaderTooLarge };

  // `ssl`: a TLS session over `fd`, or null for plain HTTP. Neither is owned.
  ConnectionStream(int fd, SSL* ssl, const StreamLimits& limits, std::string remote_ip, int remote_port,
                   std::string local_ip, int local_port);

  // TLS: completes the handshake within the header timeout; false on failure.
  bool handshake();

  // Starts a request: the header phase, with a fresh deadline.
  void begin_request();
  // The headers are read: the body phase.
  void begin_body();
  // Sends what write() gathered; false when the connection failed.
  bool flush();
  // Before closing a connection whose request body was left unread: sends
  // what is buffered, shuts the sending side, and reads and drops what the
  // client still sends (at most `max_bytes`, for at most `max_time`), so the
  // close does not reset the connection before the client read the answer.
  void linger(std::chrono::milliseconds max_time, size_t max_bytes);
  // Bytes already received and not yet read (the next request, pipelined).
  bool has_buffered_input() const;
  // The first failure of a read or write (kNone while all went well).
  Failure failure() const { return failure_; }
  // Body bytes read since begin_body().
  uint64_t body_bytes_read() const { return body_bytes_; }

  // httplib::Stream
  bool is_readable() const override;
  bool is_writable() const override { return !write_failed_; }
  ssize_t read(char* ptr, size_t size) override;
  ssize_t write(const char* ptr, size_t size) override;
  void get_remote_ip_and_port(std::string& ip, int& port) const override;
  void get_local_ip_and_port(std::string& ip, int& port) const override;
  socket_t socket() const override;

 private:
  enum class Phase { kHeader, kBody };
  // Waits until the socket is readable (or writable) before `deadline`.
  bool wait(short events, std::chrono::steady_clock::time_point deadline);
  // Reads what is available into `buf` (at most `size`), waiting per phase.
  ssize_t receive(char* buf, size_t size);
  std::chrono::steady_clock::time_point read_deadline() const;
  void fail_write(Failure why);

  const int fd_;
  SSL* const ssl_;
  const StreamLimits limits_;
  const std::string remote_ip_;
  const int remote_port_;
  const std::string local_ip_;
  const int local_port_;

  Phase phase_ = Phase::kHeader;
  std::chrono::steady_clock::time_point header_deadline_;
  uint64_t header_bytes_ = 0;
  uint64_t body_bytes_ = 0;
  Failure failure_ = Failure::kNone;
  // Writes go on after a read failed (to answer a timeout or an oversized
  // header), not after a write failed.
  bool write_failed_ = false;

  static constexpr size_t kReadBuffer = 16 << 10;
  std::unique_ptr<char[]> in_;
  size_t in_pos_ = 0;
  size_t in_end_ = 0;
  std::string out_;
};

}  // namespace usagedb::http

#endif  // USAGEDB_HTTP_CONNECTION_STREAM_H_
