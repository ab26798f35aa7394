// AccessLog: one line per request, written in batches to a file or standard
// error, without the caller waiting for the disk.
//
//   2025-06-01T12:00:00.123Z 127.0.0.1 "GET /v0/pipes/user_feature_usage.json?user_id=u1" 200 532 0.734ms admin
//
// (time UTC, client address, method and target, status, response body
// bytes, time to answer, the token's name or "-"). Tokens never appear: the
// `token` query parameter is cut from the target (redact_target) and the
// Authorization header is not logged; the name stands for the token.
//
//   AccessLog log("-");                    // standard error; "" = off
//   log.write({.method = "GET", .target = req.target, ...});
//
// Thread-safety: safe for concurrent use.
#ifndef USAGEDB_HTTP_ACCESS_LOG_H_
#define USAGEDB_HTTP_ACCESS_LOG_H_

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <string>
#include <string_view>
#include <thread>

#include "absl/status/status.h"
#include "lib/util/mutex.h"

namespace usagedb::http {

// `target` without its `token` query parameter(s).
std::string redact_target(std::string_view target);

struct AccessLogEntry {
  std::chrono::system_clock::time_point time;
  std::string_view remote_addr;
  std::string_view method;
  std::string_view target;  // as received; redacted when written
  int status = 0;
  uint64_t bytes = 0;
  std::chrono::steady_clock::duration elapsed{};
  std::string_view token_name;  // "" = no token
};

// The line for `entry`, with its '\n'.
std::string format_access_log_line(const AccessLogEntry& entry);

class AccessLog {
 public:
  // `path`: "" logs nothing, "-" standard error, else a file opened for
  // appending (created 0644). Check status() after constructing.
  explicit AccessLog(const std::string& path);
  // Writes what is buffered.
  ~AccessLog();
  AccessLog(const AccessLog&) = delete;
  AccessLog& operator=(const AccessLog&) = delete;

  absl::Status status() const { return status_; }
  bool enabled() const { return fd_ >= 0; }

  // Buffers the entry's line; a background thread writes the buffer at
  // least every 100 ms.
  void write(const AccessLogEntry& entry);
  // Writes what is buffered now.
  void flush();

 private:
  void run_writer();
  void write_out(const std::string& bytes);

  int fd_ = -1;
  bool owns_fd_ = false;
  absl::Status status_;
  Mutex mu_;
  std::condition_variable_any cv_;
  std::string buffer_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  Mutex write_mu_;  // one writer of fd_ at a time (lines are never interleaved)
  std::thread writer_;
};

}  // namespace usagedb::http

#endif  // USAGEDB_HTTP_ACCESS_LOG_H_
