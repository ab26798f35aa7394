#include "lib/http/access_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "lib/util/text.h"

namespace usagedb::http {
namespace {

constexpr size_t kWriteAtBytes = 64 << 10;

// Printable: control bytes, '"' and '\' escaped, so a line stays one line.
void append_escaped(std::string_view s, std::string* out) {
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f || c == '"' || c == '\\') {
      absl::StrAppendFormat(out, "\\x%02x", u);
    } else {
      out->push_back(c);
    }
  }
}

}  // namespace

std::string redact_target(std::string_view target) {
  const size_t q = target.find('?');
  if (q == std::string_view::npos) return std::string(target);
  std::string out(target.substr(0, q));
  std::string_view query = target.substr(q + 1);
  bool first = true;
  while (true) {
    const size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    const std::string_view name = pair.substr(0, pair.find('='));
    if (name != "token") {
      out += first ? '?' : '&';
      out += pair;
      first = false;
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return out;
}

std::string format_access_log_line(const AccessLogEntry& e) {
  const auto since_epoch = e.time.time_since_epoch();
  const std::time_t seconds = std::chrono::duration_cast<std::chrono::seconds>(since_epoch).count();
  const int millis =
      static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(since_epoch).count() % 1000);
  std::tm tm;
  gmtime_r(&seconds, &tm);
  std::string line = absl::StrFormat("%04d-%02d-%02dT%02d:%02d:%02d.%03dZ ", tm.tm_year + 1900, tm.tm_mon + 1,
                                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, millis);
  line += e.remote_addr.empty() ? std::string_view("-") : e.remote_addr;
  line += " \"";
  append_escaped(e.method, &line);
  line += ' ';
  append_escaped(redact_target(e.target), &line);
  const double ms = std::chrono::duration<double, std::milli>(e.elapsed).count();
  absl::StrAppendFormat(&line, "\" %d %d %.3fms ", e.status, e.bytes, ms);
  if (e.token_name.empty()) {
    line += '-';
  } else {
    append_escaped(e.token_name, &line);
  }
  line += '\n';
  return line;
}

AccessLog::AccessLog(const std::string& path) {
  if (path.empty()) return;
  if (path == "-") {
    fd_ = STDERR_FILENO;
  } else {
    fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd_ < 0) {
      status_ = absl::UnavailableError(absl::StrCat("access log ", path, ": cannot open: ", std::strerror(errno)));
      return;
    }
    owns_fd_ = true;
  }
  writer_ = std::thread([this] { run_writer(); });
}

AccessLog::~AccessLog() {
  if (writer_.joinable()) {
    {
      MutexLock lock(&mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    writer_.join();
  }
  flush();
  if (owns_fd_) ::close(fd_);
}

void AccessLog::write(const AccessLogEntry& entry) {
  if (fd_ < 0) return;
  std::string line = format_access_log_line(entry);
  std::string full;
  {
    MutexLock lock(&mu_);
    buffer_ += line;
    if (buffer_.size() >= kWriteAtBytes) {
      full = std::move(buffer_);
      buffer_.clear();
    }
  }
  if (!full.empty()) write_out(full);
}

void AccessLog::flush() {
  if (fd_ < 0) return;
  std::string bytes;
  {
    MutexLock lock(&mu_);
    bytes.swap(buffer_);
  }
  write_out(bytes);
}

void AccessLog::write_out(const std::string& bytes) {
  MutexLock lock(&write_mu_);
  std::string_view rest = bytes;
  while (!rest.empty()) {
    const ssize_t n = ::write(fd_, rest.data(), rest.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // a log that cannot be written does not stop the server
    rest.remove_prefix(static_cast<size_t>(n));
  }
}

void AccessLog::run_writer() {
  for (;;) {
    {
      MutexLock lock(&mu_);
      if (stopping_) return;
      cv_.wait_for(mu_, std::chrono::milliseconds(100));
      if (stopping_) return;
    }
    flush();
  }
}

}  // namespace usagedb::http
