// GroupCommit: durability for the Events API (SPEC 5), one fsync shared by
// every request waiting at the time.
//
// `POST /v0/events?wait=true` answers 200 only once its rows are durable.
// Each such request calls sync() after its rows are in the store; sync()
// returns once a flush that started after the call has finished. While one
// flush runs, the requests that arrive meanwhile wait for it and then share
// the next one (leader/follower: whoever finds no flush running runs it for
// everyone waiting), so N concurrent requests cost about two flushes, not N.
//
// Requests answered 202 call note_write() instead; a background flusher
// starts a flush at most max_delay/2 after the first such write, so their
// rows are durable within max_delay (the flush interval, at most 1 s by
// default; a flush takes milliseconds).
//
//   GroupCommit commit([&store] { return store.flush(); }, std::chrono::seconds(1));
//   ... store.ingest(body) ...
//   if (wait) RETURN_IF_ERROR(commit.sync()); else commit.note_write();
//   ...
//   commit.close();  // at shutdown: stops the flusher, flushes what is left
//
// Thread-safety: safe for concurrent use.
#ifndef USAGEDB_HTTP_GROUP_COMMIT_H_
#define USAGEDB_HTTP_GROUP_COMMIT_H_

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <optional>
#include <thread>

#include "absl/status/status.h"
#include "lib/util/mutex.h"

namespace usagedb::http {

class GroupCommit {
 public:
  // `flush` makes everything written before it is called durable (e.g.
  // EventStore::flush); it is called by one thread at a time.
  GroupCommit(std::function<absl::Status()> flush, std::chrono::milliseconds max_delay);
  // Stops the flusher without flushing (close() flushes).
  ~GroupCommit();
  GroupCommit(const GroupCommit&) = delete;
  GroupCommit& operator=(const GroupCommit&) = delete;

  // Returns once everything written before the call is durable, or the
  // error of the flush that was to make it so.
  absl::Status sync();

  // Notes a write nobody waits for: the flusher makes it durable within
  // max_delay.
  void note_write();

  // Stops the flusher and flushes what is not durable yet. Idempotent.
  absl::Status close();

  // Flushes run so far.
  uint64_t flushes() const;

 private:
  void run_flusher();

  const std::function<absl::Status()> flush_;
  const std::chrono::milliseconds max_delay_;

  mutable Mutex mu_;
  std::condition_variable_any cv_;
  uint64_t requested_ ABSL_GUARDED_BY(mu_) = 0;  // tickets handed out
  uint64_t durable_ ABSL_GUARDED_BY(mu_) = 0;    // tickets a finished flush covered
  bool flushing_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t flushes_ ABSL_GUARDED_BY(mu_) = 0;
  // The last failed flush: the tickets it was to cover fail with its error.
  uint64_t failed_target_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t failures_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Status failure_ ABSL_GUARDED_BY(mu_);
  // When the oldest write not covered by a started flush was noted.
  std::optional<std::chrono::steady_clock::time_point> dirty_since_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread flusher_;
};

}  // namespace usagedb::http

#endif  // USAGEDB_HTTP_GROUP_COMMIT_H_
