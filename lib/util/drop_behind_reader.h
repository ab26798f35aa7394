// DropBehindReader: reads a file descriptor from its current position to its
// end, leaving the page cache as it found it. The pages it has to read from
// disk are dropped once they are copied out (preadv2 with RWF_DONTCACHE,
// Linux 6.14 and later, on file systems that support it); the pages that
// were cached before stay cached and are read from there.
//
// An input larger than memory (a 100M-event NDJSON file is 25.8 GB) read
// the plain way fills the page cache with pages that are never read again:
// every page is a newly allocated one, and the cache has to be reclaimed
// behind the reader. Dropping them behind it reuses the same few pages: on
// the build machine (a VM) reading a cold GiB took 0.08-0.12 s of system
// CPU this way against 0.27-2.0 s the plain way, at 0.8-1.35 GB/s against
// 0.09-0.46 GB/s (bench/RESULTS.md, ingest7).
//
// Where the kernel or the file system does not support RWF_DONTCACHE (older
// kernels, pipes, tmpfs), the reader falls back to plain read() for the rest
// of the input, at the first read.
//
//   DropBehindReader reader(fd);                   // fd outlives the reader
//   for (;;) {
//     absl::StatusOr<size_t> n = reader.read(buf, sizeof buf);
//     if (!n.ok()) return n.status();              // "read failed: ..."
//     if (*n == 0) break;                          // the end of the input
//     use(buf, *n);
//   }
//
// Thread-safety: not thread-safe; one reader per input, used by one thread
// at a time.
#ifndef USAGEDB_UTIL_DROP_BEHIND_READER_H_
#define USAGEDB_UTIL_DROP_BEHIND_READER_H_

#include <sys/types.h>
#include <sys/uio.h>

#include <cstddef>

#include "absl/status/statusor.h"

namespace usagedb {

class DropBehindReader {
 public:
  // The system calls the reader makes (tests inject failures through them).
  struct Syscalls {
    ssize_t (*preadv2)(int fd, const struct iovec* iov, int iovcnt, off_t offset, int flags);
    ssize_t (*read)(int fd, void* buf, size_t count);
  };
  // The kernel's.
  static const Syscalls& system();

  // Reads `fd` (not owned; it outlives the reader) from its current
  // position. Advises the kernel that it is read sequentially (a larger
  // readahead), which fails harmlessly on a pipe.
  explicit DropBehindReader(int fd, const Syscalls& syscalls = system());
  DropBehindReader(const DropBehindReader&) = delete;
  DropBehindReader& operator=(const DropBehindReader&) = delete;

  // Reads up to `size` bytes into `buf`: how many, 0 at the end of the input
  // (fewer than `size` does not mean the end: read again). A failed read is
  // UnavailableError("read failed: <strerror>"); an interrupted one is
  // retried.
  absl::StatusOr<size_t> read(char* buf, size_t size);

  // Whether the reads drop the pages behind them: true until the kernel or
  // the file system turned RWF_DONTCACHE down (then plain reads).
  bool dropping() const { return dropping_; }

 private:
  const int fd_;
  const Syscalls& syscalls_;
  bool dropping_ = true;
};

}  // namespace usagedb

#endif  // USAGEDB_UTIL_DROP_BEHIND_READER_H_
