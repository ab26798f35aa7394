// Mutex: the reader-writer lock of usagedb, with Abseil's thread-safety
// annotations so Clang's -Wthread-safety checks ABSL_GUARDED_BY fields.
//
// It is absl::Mutex, except under ThreadSanitizer: Debian's Abseil is a
// prebuilt library without TSan instrumentation, so TSan cannot see the
// happens-before edges inside absl::Mutex and would report races on every
// guarded field. There it is std::shared_mutex, whose pthread calls TSan
// intercepts. Our locking discipline is the same either way.
//
//   Mutex mu;
//   int n ABSL_GUARDED_BY(mu);
//   { MutexLock lock(&mu); ++n; }
//   { ReaderMutexLock lock(&mu); use(n); }
//
// Thread-safety: that is its job.
#ifndef USAGEDB_UTIL_MUTEX_H_
#define USAGEDB_UTIL_MUTEX_H_

#include "absl/base/thread_annotations.h"

#if defined(__SANITIZE_THREAD__)
#define USAGEDB_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define USAGEDB_TSAN 1
#endif
#endif

#ifdef USAGEDB_TSAN
#include <shared_mutex>
#else
#include "absl/synchronization/mutex.h"
#endif

namespace usagedb {

class ABSL_LOCKABLE Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

#ifdef USAGEDB_TSAN
  void lock() ABSL_EXCLUSIVE_LOCK_FUNCTION() { mu_.lock(); }
  void unlock() ABSL_UNLOCK_FUNCTION() { mu_.unlock(); }
  void lock_shared() ABSL_SHARED_LOCK_FUNCTION() { mu_.lock_shared(); }
  void unlock_shared() ABSL_UNLOCK_FUNCTION() { mu_.unlock_shared(); }

 private:
  std::shared_mutex mu_;
#else
  void lock() ABSL_EXCLUSIVE_LOCK_FUNCTION() { mu_.Lock(); }
  void unlock() ABSL_UNLOCK_FUNCTION() { mu_.Unlock(); }
  void lock_shared() ABSL_SHARED_LOCK_FUNCTION() { mu_.ReaderLock(); }
  void unlock_shared() ABSL_UNLOCK_FUNCTION() { mu_.ReaderUnlock(); }

 private:
  absl::Mutex mu_;
#endif
};

// Holds `mu` exclusively for its scope.
class ABSL_SCOPED_LOCKABLE MutexLock {
 public:
  explicit MutexLock(Mutex* mu) ABSL_EXCLUSIVE_LOCK_FUNCTION(mu) : mu_(mu) { mu_->lock(); }
  ~MutexLock() ABSL_UNLOCK_FUNCTION() { mu_->unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex* const mu_;
};

// Holds `mu` shared for its scope.
class ABSL_SCOPED_LOCKABLE ReaderMutexLock {
 public:
  explicit ReaderMutexLock(Mutex* mu) ABSL_SHARED_LOCK_FUNCTION(mu) : mu_(mu) { mu_->lock_shared(); }
  ~ReaderMutexLock() ABSL_UNLOCK_FUNCTION() { mu_->unlock_shared(); }
  ReaderMutexLock(const ReaderMutexLock&) = delete;
  ReaderMutexLock& operator=(const ReaderMutexLock&) = delete;

 private:
  Mutex* const mu_;
};

}  // namespace usagedb

#endif  // USAGEDB_UTIL_MUTEX_H_
