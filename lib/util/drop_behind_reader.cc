#include "lib/util/drop_behind_reader.h"

#include <fcntl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

// Linux 6.14's uapi value; Debian 12's headers predate it. Older kernels
// turn the unknown flag down with EOPNOTSUPP.
#ifndef RWF_DONTCACHE
#define RWF_DONTCACHE 0x00000080
#endif

namespace usagedb {

const DropBehindReader::Syscalls& DropBehindReader::system() {
  static const Syscalls kSystem{&::preadv2, &::read};
  return kSystem;
}

DropBehindReader::DropBehindReader(int fd, const Syscalls& syscalls) : fd_(fd), syscalls_(syscalls) {
  (void)::posix_fadvise(fd_, 0, 0, POSIX_FADV_SEQUENTIAL);
}

absl::StatusOr<size_t> DropBehindReader::read(char* buf, size_t size) {
  for (;;) {
    ssize_t n;
    if (dropping_) {
      const struct iovec iov { buf, size };
      // Offset -1: from the file's position, which it advances (as read()).
      n = syscalls_.preadv2(fd_, &iov, 1, -1, RWF_DONTCACHE);
      if (n < 0 && (errno == EOPNOTSUPP || errno == EINVAL)) {
        dropping_ = false;  // not supported here: nothing was read
        continue;
      }
    } else {
      n = syscalls_.read(fd_, buf, size);
    }
    if (n >= 0) return static_cast<size_t>(n);
    if (errno == EINTR) continue;
    return absl::UnavailableError(absl::StrCat("read failed: ", std::strerror(errno)));
  }
}

}  // namespace usagedb
