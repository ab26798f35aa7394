#include "lib/storage/file.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "lib/storage/file_system.h"
#include "lib/util/status_macros.h"
#include "lib/util/text.h"

namespace usagedb::storage {
namespace {

// leveldb's size: large enough that small appends rarely cost a system call.
constexpr size_t kWritableBufferSize = 64 * 1024;

// "<op> <path>: <errno text>", with the errno's status code.
absl::Status posix_error(int err, std::string_view op, std::string_view path) {
  return absl::ErrnoToStatus(err, absl::StrCat(text::absl_view(op), " ", text::absl_view(path)));
}

absl::Status posix_error_at(int err, std::string_view op, std::string_view path, uint64_t offset) {
  return absl::ErrnoToStatus(err,
                             absl::StrCat(text::absl_view(op), " ", text::absl_view(path), " at offset ", offset));
}

// pwrite(2) all of [data, data + n) at offset *written, retrying on EINTR
// and short writes. Adds the bytes written to *written, also on failure.
// (Positioned writes, not O_APPEND: a file may hold zeros past the end of
// what was appended, WritableFile::zero_fill.)
absl::Status write_all(int fd, const char* data, size_t n, const std::string& path, uint64_t* written) {
  while (n > 0) {
    const ssize_t r = ::pwrite(fd, data, n, static_cast<off_t>(*written));
    if (r < 0) {
      if (errno == EINTR) continue;
      return posix_error_at(errno, "write", path, *written);
    }
    if (r == 0) return posix_error_at(EIO, "write (no progress)", path, *written);
    data += r;
    n -= static_cast<size_t>(r);
    *written += static_cast<uint64_t>(r);
  }
  return absl::OkStatus();
}

class PosixWritableFile final : public WritableFile {
 public:
  PosixWritableFile(int fd, std::string path, uint64_t size)
      : fd_(fd), path_(std::move(path)), flushed_(size), buf_(new char[kWritableBufferSize]) {}

  ~PosixWritableFile() override {
    if (fd_ >= 0) (void)close();
  }

  absl::Status append(std::string_view data) override {
    if (fd_ < 0) return closed_error();
    const size_t copy = std::min(data.size(), kWritableBufferSize - pos_);
    std::memcpy(buf_.get() + pos_, data.data(), copy);
    pos_ += copy;
    data.remove_prefix(copy);
    if (data.empty()) return absl::OkStatus();
    USAGEDB_RETURN_IF_ERROR(flush_buffer());
    if (data.size() < kWritableBufferSize) {
      std::memcpy(buf_.get(), data.data(), data.size());
      pos_ = data.size();
      return absl::OkStatus();
    }
    return write_all(fd_, data.data(), data.size(), path_, &flushed_);
  }

  absl::Status flush() override {
    if (fd_ < 0) return closed_error();
    return flush_buffer();
  }

  absl::Status sync() override {
    if (fd_ < 0) return closed_error();
    USAGEDB_RETURN_IF_ERROR(flush_buffer());
    while (::fdatasync(fd_) != 0) {
      if (errno != EINTR) return posix_error(errno, "fdatasync", path_);
    }
    return absl::OkStatus();
  }

  absl::Status close() override {
    if (fd_ < 0) return closed_error();
    absl::Status status = flush_buffer();
    // Not retried on EINTR: Linux releases the descriptor either way.
    if (::close(fd_) != 0 && status.ok()) status = posix_error(errno, "close", path_);
    fd_ = -1;
    return status;
  }

  absl::Status zero_fill(uint64_t end) override {
    if (fd_ < 0) return closed_error();
    // The file's bytes on disk end at flushed_ (the buffered bytes go there
    // next) or where the zeros written before end.
    const uint64_t from = std::max(disk_end_, flushed_);
    if (std::max(from, size()) >= end) return absl::OkStatus();
    static constexpr size_t kChunk = 64 * 1024;
    static const char* const zeros = new char[kChunk]();
    for (uint64_t at = std::max(from, size()); at < end;) {
      const size_t n = static_cast<size_t>(std::min<uint64_t>(kChunk, end - at));
      const ssize_t r = ::pwrite(fd_, zeros, n, static_cast<off_t>(at));
      if (r <= 0) {
        if (r < 0 && errno == EINTR) continue;
        const absl::Status failed = posix_error_at(r < 0 ? errno : EIO, "write zeros to", path_, at);
        // A full disk: the zeros written go again, so the space they took
        // is there for the appends.
        (void)::ftruncate(fd_, static_cast<off_t>(from));
        return failed;
      }
      at += static_cast<uint64_t>(r);
    }
    disk_end_ = end;
    return absl::OkStatus();
  }

  uint64_t size() const override { return flushed_ + pos_; }
  const std::string& path() const override { return path_; }

 private:
  absl::Status flush_buffer() {
    const size_t n = pos_;
    pos_ = 0;  // on failure the unwritten bytes are dropped (see the header)
    return write_all(fd_, buf_.get(), n, path_, &flushed_);
  }

  absl::Status closed_error() const {
    return absl::FailedPreconditionError(absl::StrCat(path_, " was already closed"));
  }

  int fd_;
  const std::string path_;
  uint64_t flushed_;  // bytes handed to pwrite(2), including the file's size at open
  uint64_t disk_end_ = 0;  // where zero_fill() stopped (0: never called)
  std::unique_ptr<char[]> buf_;
  size_t pos_ = 0;  // bytes buffered in buf_
};

absl::StatusOr<std::unique_ptr<WritableFile>> open_writable(const std::string& path, int flags) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | flags, 0644);
  if (fd < 0) return posix_error(errno, "open for writing", path);
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    return posix_error(err, "fstat", path);
  }
  return std::make_unique<PosixWritableFile>(fd, path, static_cast<uint64_t>(st.st_size));
}

class PosixSequentialFile final : public SequentialFile {
 public:
  PosixSequentialFile(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  ~PosixSequentialFile() override { ::close(fd_); }

  absl::StatusOr<size_t> read(char* scratch, size_t n) override {
    size_t done = 0;
    while (done < n) {
      const ssize_t r = ::read(fd_, scratch + done, n - done);
      if (r < 0) {
        if (errno == EINTR) continue;
        return posix_error_at(errno, "read", path_, offset_);
      }
      if (r == 0) break;
      done += static_cast<size_t>(r);
      offset_ += static_cast<uint64_t>(r);
    }
    return done;
  }

  const std::string& path() const override { return path_; }

 private:
  const int fd_;
  const std::string path_;
  uint64_t offset_ = 0;
};

class StringSequentialFile final : public SequentialFile {
 public:
  StringSequentialFile(std::string contents, std::string name)
      : contents_(std::move(contents)), name_(std::move(name)) {}

  absl::StatusOr<size_t> read(char* scratch, size_t n) override {
    const size_t k = std::min(n, contents_.size() - pos_);
    std::memcpy(scratch, contents_.data() + pos_, k);
    pos_ += k;
    return k;
  }

  const std::string& path() const override { return name_; }

 private:
  const std::string contents_;
  const std::string name_;
  size_t pos_ = 0;
};

// pread(2) up to n bytes at offset into out, retrying on EINTR and short reads.
absl::Status pread_all(int fd, uint64_t offset, size_t n, const std::string& path, std::string* out) {
  out->resize(n);
  size_t done = 0;
  while (done < n) {
    const ssize_t r = ::pread(fd, out->data() + done, n - done, static_cast<off_t>(offset + done));
    if (r < 0) {
      if (errno == EINTR) continue;
      return posix_error_at(errno, "read", path, offset + done);
    }
    if (r == 0) break;
    done += static_cast<size_t>(r);
  }
  out->resize(done);
  return absl::OkStatus();
}

}  // namespace

absl::Status WritableFile::zero_fill(uint64_t) {
  return absl::UnimplementedError(absl::StrCat(path(), ": this file cannot be zero-filled ahead of its appends"));
}

absl::StatusOr<std::unique_ptr<WritableFile>> WritableFile::open_append(const std::string& path) {
  // Not O_APPEND: appends are positioned at the file's size at open plus
  // what was appended since (write_all), so zeros past them stay.
  return open_writable(path, 0);
}

absl::StatusOr<std::unique_ptr<WritableFile>> WritableFile::open_truncate(const std::string& path) {
  return open_writable(path, O_TRUNC);
}

absl::StatusOr<std::unique_ptr<SequentialFile>> SequentialFile::open(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return posix_error(errno, "open for reading", path);
  return std::make_unique<PosixSequentialFile>(fd, path);
}

std::unique_ptr<SequentialFile> SequentialFile::from_string(std::string contents, std::string name) {
  return std::make_unique<StringSequentialFile>(std::move(contents), std::move(name));
}

absl::StatusOr<std::string> read_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return posix_error(errno, "open for reading", path);
  std::string contents;
  absl::Status status;
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    status = posix_error(errno, "fstat", path);
  } else {
    // The first read asks for the size fstat saw; later ones catch a file
    // that grew meanwhile.
    size_t want = std::max<size_t>(static_cast<size_t>(st.st_size), 1);
    for (;;) {
      std::string chunk;
      status = pread_all(fd, contents.size(), want, path, &chunk);
      if (!status.ok() || chunk.empty()) break;
      if (contents.empty()) {
        contents = std::move(chunk);
      } else {
        contents.append(chunk);
      }
      want = size_t{64} * 1024;
    }
  }
  ::close(fd);
  if (!status.ok()) return status;
  return contents;
}

absl::StatusOr<std::string> read_file_range(const std::string& path, uint64_t offset, size_t n) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return posix_error(errno, "open for reading", path);
  std::string out;
  absl::Status status = pread_all(fd, offset, n, path, &out);
  ::close(fd);
  if (!status.ok()) return status;
  return out;
}

absl::StatusOr<std::vector<std::string>> read_file_ranges(const std::string& path, std::span<const ByteRange> ranges) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return posix_error(errno, "open for reading", path);
  std::vector<std::string> out(ranges.size());
  absl::Status status;
  for (size_t i = 0; i < ranges.size() && status.ok(); ++i) {
    status = pread_all(fd, ranges[i].offset, ranges[i].size, path, &out[i]);
  }
  ::close(fd);
  if (!status.ok()) return status;
  return out;
}

absl::Status write_file_atomically(const std::string& path, std::string_view contents) {
  return FileSystem::posix()->write_file_atomically(path, contents);
}

absl::Status sync_dir(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return posix_error(errno, "open directory", dir);
  absl::Status status;
  while (::fsync(fd) != 0) {
    if (errno != EINTR) {
      status = posix_error(errno, "fsync directory", dir);
      break;
    }
  }
  ::close(fd);
  return status;
}

absl::Status create_dir(const std::string& dir) {
  if (dir.empty()) return absl::InvalidArgumentError("create_dir: empty directory name");
  // Each prefix ending before a '/', then the whole path.
  for (size_t end = dir.find('/', 1);; end = dir.find('/', end + 1)) {
    const std::string prefix = dir.substr(0, end);
    if (::mkdir(prefix.c_str(), 0755) != 0) {
      const int err = errno;
      struct stat st;
      if (err != EEXIST) return posix_error(err, "create directory", prefix);
      if (::stat(prefix.c_str(), &st) != 0) return posix_error(errno, "stat", prefix);
      if (!S_ISDIR(st.st_mode)) return posix_error(ENOTDIR, "create directory", prefix);
    }
    if (end == std::string::npos) break;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> list_dir(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return posix_error(errno, "list directory", dir);
  std::vector<std::string> names;
  for (;;) {
    errno = 0;
    const struct dirent* entry = ::readdir(d);
    if (entry == nullptr) {
      const int err = errno;
      ::closedir(d);
      if (err != 0) return posix_error(err, "list directory", dir);
      break;
    }
    if (std::strcmp(entry->d_name, ".") == 0 || std::strcmp(entry->d_name, "..") == 0) continue;
    names.emplace_back(entry->d_name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

absl::Status remove_file(const std::string& path) {
  if (::unlink(path.c_str()) != 0) return posix_error(errno, "remove", path);
  return absl::OkStatus();
}

absl::Status rename_file(const std::string& from, const std::string& to) {
  if (::rename(from.c_str(), to.c_str()) != 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("rename ", from, " to ", to));
  }
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> file_size(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return posix_error(errno, "stat", path);
  return static_cast<uint64_t>(st.st_size);
}

bool file_exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

absl::Status truncate_file(const std::string& path, uint64_t size) {
  while (::truncate(path.c_str(), static_cast<off_t>(size)) != 0) {
    if (errno != EINTR) return posix_error(errno, absl::StrCat("truncate to ", size, " bytes"), path);
  }
  return absl::OkStatus();
}

std::string dirname(std::string_view path) {
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  const size_t slash = path.rfind('/');
  if (slash == std::string_view::npos) return ".";
  if (slash == 0) return "/";
  return std::string(path.substr(0, slash));
}

absl::StatusOr<std::unique_ptr<FileLock>> FileLock::acquire(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return posix_error(errno, "open lock file", path);
  while (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    if (err == EINTR) continue;
    if (err != EWOULDBLOCK) {
      ::close(fd);
      return posix_error(err, "lock", path);
    }
    // Held: name the holder from the pid it wrote (it may not have yet).
    std::string holder;
    const absl::Status read = pread_all(fd, 0, 32, path, &holder);
    ::close(fd);
    int64_t pid = 0;
    const bool known = read.ok() && absl::SimpleAtoi(absl::StripAsciiWhitespace(holder), &pid) && pid > 0;
    const std::string pid_text = known ? absl::StrCat("pid ", pid) : std::string("pid unknown");
    const std::string dir = dirname(path);
    if (known && pid == ::getpid()) {
      return absl::FailedPreconditionError(absl::StrCat("store ", dir, " is already open in this process (lock file ",
                                                        path, ", ", pid_text, ")"));
    }
    return absl::FailedPreconditionError(
        absl::StrCat("store ", dir, " is in use by another process (lock file ", path, ", ", pid_text, ")"));
  }
  const std::string pid = absl::StrCat(::getpid(), "\n");
  uint64_t written = 0;
  absl::Status status;
  if (::ftruncate(fd, 0) != 0) {
    status = posix_error(errno, "truncate lock file", path);
  } else {
    status = write_all(fd, pid.data(), pid.size(), path, &written);
  }
  if (!status.ok()) {
    ::close(fd);  // releases the lock
    return status;
  }
  return std::unique_ptr<FileLock>(new FileLock(fd, path));
}

FileLock::~FileLock() {
  // The file stays: removing it would let a third process lock a new inode
  // while a second still waits on the old one.
  ::close(fd_);
}

}  // namespace usagedb::storage
