#include "lib/http/group_commit.h"

#include <utility>

namespace usagedb::http {

GroupCommit::GroupCommit(std::function<absl::Status()> flush, std::chrono::milliseconds max_delay)
    : flush_(std::move(flush)), max_delay_(max_delay) {
  flusher_ = std::thread([this] { run_flusher(); });
}

GroupCommit::~GroupCommit() {
  {
    MutexLock lock(&mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (flusher_.joinable()) flusher_.join();
}

absl::Status GroupCommit::sync() {
  MutexLock lock(&mu_);
  const uint64_t mine = ++requested_;
  const uint64_t failures_seen = failures_;
  for (;;) {
    if (durable_ >= mine) return absl::OkStatus();
    if (failures_ != failures_seen && failed_target_ >= mine) return failure_;
    if (!flushing_) {
      // Lead: one flush for every ticket handed out so far.
      flushing_ = true;
      const uint64_t target = requested_;
      dirty_since_.reset();
      absl::Status status;
      mu_.unlock();
      status = flush_();
      mu_.lock();
      flushing_ = false;
      ++flushes_;
      if (status.ok()) {
        durable_ = std::max(durable_, target);
      } else {
        failed_target_ = target;
        ++failures_;
        failure_ = status;
      }
      cv_.notify_all();
      if (!status.ok()) return status;
      continue;
    }
    cv_.wait(mu_);
  }
}

void GroupCommit::note_write() {
  {
    MutexLock lock(&mu_);
    if (dirty_since_) return;
    dirty_since_ = std::chrono::steady_clock::now();
  }
  cv_.notify_all();
}

void GroupCommit::run_flusher() {
  MutexLock lock(&mu_);
  while (!stopping_) {
    if (!dirty_since_) {
      cv_.wait(mu_);
      continue;
    }
    // Half the budget to gather writes, the other half for the flush.
    const auto due = *dirty_since_ + max_delay_ / 2;
    if (std::chrono::steady_clock::now() < due) {
      cv_.wait_until(mu_, due);
      continue;
    }
    mu_.unlock();
    (void)sync();  // a failure is the next sync()'s to report as well
    mu_.lock();
  }
}

absl::Status GroupCommit::close() {
  {
    MutexLock lock(&mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (flusher_.joinable()) flusher_.join();
  return sync();
}

uint64_t GroupCommit::flushes() const {
  MutexLock lock(&mu_);
  return flushes_;
}

}  // namespace usagedb::http
