// EventStoreImpl's parts lifecycle: sealing buffers into parts, merging
// parts, compaction, and the background threads that run seals and
// checkpoints (one) and merges (the other) off the writers' path.
#include <algorithm>
#include <thread>

#include "lib/db/event_store_impl.h"
#include "lib/db/merge_policy.h"
#include "lib/table/part_builder.h"
#include "lib/util/parallel.h"
#include "lib/util/status_macros.h"

namespace usagedb {
namespace {

// Sealed buffers waiting for the background thread beyond which writers
// seal inline: the writer slows down to the speed of sealing instead of
// queueing unbounded memory. Per partition, kSealsQueuedPerPartition at
// most (EventStoreImpl::live_buffer_rows() divides Options::max_unrolled_rows
// among them and the active buffer).
constexpr size_t kMaxQueuedSeals = 4;

// Rows below which seal_all_locked builds parts on one thread.
constexpr uint64_t kParallelSealRows = 1 << 15;

// How long writes must pause before the merged summary of every rollup is
// cached (RollupCache), and how often, while writes go on, the merge of the
// settled rollups is refreshed.
constexpr std::chrono::milliseconds kRollupIdle{100};
constexpr std::chrono::milliseconds kWarmInterval{1000};

// How often the background thread looks again for retired Versions the
// queries reading them have let go of (EventStoreImpl::retired_).
constexpr std::chrono::milliseconds kRetiredPoll{5};

// Whether `parts` holds the part numbered `id`.
bool holds_part(std::span<const std::shared_ptr<const Part>> parts, uint64_t id) {
  return std::any_of(parts.begin(), parts.end(), [id](const auto& part) { return part->id() == id; });
}

}  // namespace

uint64_t EventStoreImpl::new_part_id() { return files_ ? files_->new_file_number() : next_part_id_++; }

size_t EventStoreImpl::sealing_count_locked() const {
  size_t n = 0;
  for (const auto& [month, p] : partitions_) n += p->sealing.size();
  return n;
}

void EventStoreImpl::seal_locked(PartitionWriter& p) {
  if (p.buffer->size() == 0) return;
  p.buffer->publish();  // readers of the current Version keep seeing every row
  const uint64_t id = new_part_id();
  // At most kSealsQueuedPerPartition buffers of a partition wait for the
  // background thread, so the rows no rollup holds stay under
  // Options::max_unrolled_rows: a writer that finds the thread further
  // behind builds the part on its own thread.
  if (background_.joinable() && p.sealing.size() < kSealsQueuedPerPartition &&
      sealing_count_locked() < kMaxQueuedSeals) {
    p.sealing.emplace_back(p.buffer, id);
    work_cv_.notify_all();
  } else {
    add_part(p, build_part(*p.buffer, id, p.month, /*with_rollup=*/bulk_ingests_ == 0));
    rollups_changed_ = true;
    if (background_.joinable()) work_cv_.notify_all();  // there may be parts to merge
  }
  p.buffer = new_buffer();
}

void EventStoreImpl::seal_all_locked() {
  struct Task {
    PartitionWriter* partition;
    std::shared_ptr<const AppendBuffer> buffer;
    uint64_t id;
    BuiltPart built;
  };
  std::vector<Task> tasks;
  uint64_t rows = 0;
  const bool with_rollup = bulk_ingests_ == 0;
  for (auto& [month, p] : partitions_) {
    for (auto& [buffer, id] : p->sealing) {
      tasks.push_back(Task{p.get(), buffer, id, {}});
      rows += buffer->size();
    }
    p->sealing.clear();
    if (p->buffer->size() > 0) {
      p->buffer->publish();
      rows += p->buffer->size();
      tasks.push_back(Task{p.get(), p->buffer, new_part_id(), {}});
      p->buffer = new_buffer();
    }
  }
  // Sorting and indexing buffers is CPU-bound and independent per buffer:
  // after a bulk ingest (one buffer per month) or before a checkpoint, a
  // second thread halves the time writes wait here.
  for_each_index_on_two_threads(tasks.size(),
                                rows >= 2 * kParallelSealRows && std::thread::hardware_concurrency() >= 2,
                                [&](size_t i) {
                                  Task& t = tasks[i];
                                  t.built = build_part(*t.buffer, t.id, t.partition->month, with_rollup);
                                });
  for (Task& t : tasks) add_part(*t.partition, std::move(t.built));
  if (!tasks.empty()) rollups_changed_ = true;
}

EventStoreImpl::BuiltPart EventStoreImpl::build_part(const AppendBuffer& buffer, uint64_t id, uint32_t month,
                                                     bool with_rollup) const {
  PartBuilder builder(buffer.size());
  builder.add_buffer(buffer, buffer.size());
  BuiltPart built;
  built.part = std::move(builder).finish(id, month, dictionaries_.feature, dictionaries_.version);
  if (with_rollup) built.rollup = PartitionRollup::build(month, std::span(&built.part, 1));
  return built;
}

absl::StatusOr<EventStoreImpl::BuiltPart> EventStoreImpl::merge_parts(
    const std::vector<std::shared_ptr<const Part>>& inputs, uint64_t id, uint32_t month, bool with_rollup) {
  // Lazy inputs are read here (and dropped again by the cache once merged).
  std::vector<Part::Pin> pins;
  uint64_t failed = 0;
  if (absl::Status s = Part::pin_all(inputs, &pins, &failed); !s.ok()) {
    MutexLock lock(&write_mu_);
    unreadable_parts_.insert(failed);  // no merge picks it again
    return s;
  }
  std::vector<const Part*> parts;
  for (const auto& part : inputs) parts.push_back(part.get());
  BuiltPart built;
  built.part = PartBuilder::merge(parts, id, month, dictionaries_.feature, dictionaries_.version);
  // The merged part's rollup, built from its rows like a sealed part's: the
  // inputs' rollups leave with them (RollupSet::remove_parts).
  if (with_rollup) built.rollup = PartitionRollup::build(month, std::span(&built.part, 1));
  return built;
}

void EventStoreImpl::add_part(PartitionWriter& p, BuiltPart built) {
  if (built.rollup) p.rollups.add(std::move(built.rollup));
  p.parts.push_back(std::move(built.part));
}

bool EventStoreImpl::install_merge_locked(uint32_t month, const std::vector<std::shared_ptr<const Part>>& inputs,
                                          BuiltPart merged) {
  auto it = partitions_.find(month);
  if (it == partitions_.end()) return false;
  auto& parts = it->second->parts;
  // By id: a checkpoint may have replaced an input by its lazy twin (the
  // same rows) meanwhile.
  std::vector<uint64_t> ids;
  for (const auto& input : inputs) ids.push_back(input->id());
  for (const uint64_t id : ids) {
    if (!holds_part(parts, id)) return false;  // merged or rewritten meanwhile
  }
  PartitionWriter& p = *it->second;
  p.rollups.remove_parts(ids);
  std::erase_if(parts, [&](const auto& part) { return std::find(ids.begin(), ids.end(), part->id()) != ids.end(); });
  add_part(p, std::move(merged));
  rollups_changed_ = true;
  return true;
}

std::optional<uint32_t> EventStoreImpl::pick_rollup_locked() const {
  if (bulk_ingests_ > 0) return std::nullopt;  // its end builds them (build_part)
  for (const auto& [month, p] : partitions_) {
    for (const auto& part : p->parts) {
      if (!p->rollups.covers(part->id()) && !unreadable_parts_.contains(part->id())) return month;
    }
  }
  return std::nullopt;
}

bool EventStoreImpl::refresh_rollup(uint32_t month) {
  std::vector<std::shared_ptr<const Part>> parts;
  {
    MutexLock lock(&write_mu_);
    auto it = partitions_.find(month);
    if (it == partitions_.end()) return false;
    parts = it->second->uncovered_parts();
  }
  if (parts.empty()) return false;
  std::vector<Part::Pin> pins;
  uint64_t failed = 0;
  if (!Part::pin_all(parts, &pins, &failed).ok()) {
    // Queries that read the part report its damage; no build picks it again.
    MutexLock lock(&write_mu_);
    unreadable_parts_.insert(failed);
    return false;
  }
  std::vector<std::shared_ptr<const PartitionRollup>> built;
  for (const auto& part : parts) built.push_back(PartitionRollup::build(month, std::span(&part, 1)));
  MutexLock lock(&write_mu_);
  auto it = partitions_.find(month);
  if (it == partitions_.end()) return false;
  PartitionWriter& p = *it->second;
  bool installed = false;
  for (size_t i = 0; i < parts.size(); ++i) {
    // A part merged or rewritten meanwhile left with its rollup unneeded
    // (one handed to the part cache meanwhile is the same rows).
    if (!holds_part(p.parts, parts[i]->id())) continue;
    installed = p.rollups.add(std::move(built[i])) || installed;
  }
  if (installed) {
    rollups_changed_ = true;
    install_version_locked();
  }
  return installed;
}

void EventStoreImpl::refresh_rollups(bool warm_cache) {
  std::vector<uint32_t> months;
  {
    MutexLock lock(&write_mu_);
    for (const auto& [month, p] : partitions_) months.push_back(month);
  }
  // Each month's rollups are built from its own parts: two at a time.
  for_each_index_on_two_threads(months.size(), true, [&](size_t i) { refresh_rollup(months[i]); });
  if (warm_cache) warm_rollup_cache();
}

void EventStoreImpl::refresh_rollups(std::span<const uint32_t> months) {
  for_each_index_on_two_threads(months.size(), true, [&](size_t i) { refresh_rollup(months[i]); });
}

void EventStoreImpl::warm_rollup_cache(bool all) const {
  const Snapshot s = snapshot();
  std::vector<const PartitionRollup*> rollups;
  for (const PartitionView& p : s.partitions()) {
    uint64_t largest = 0;
    for (const CoveredRollup& e : p.rollups().entries()) largest = std::max(largest, e.rollup->rows());
    for (const CoveredRollup& e : p.rollups().entries()) {
      if (all || 4 * e.rollup->rows() >= largest) rollups.push_back(e.rollup.get());
    }
  }
  if (rollups.size() >= 2 && rollup_cache_.find(rollups) == nullptr) rollup_cache_.summary(rollups);
}

bool EventStoreImpl::settled_locked(const PartitionWriter& p) const {
  return idle_seal_rows_ > 0 && appended_rows_ - p.last_append >= idle_seal_rows_ && p.sealing.empty() &&
         p.buffer->size() == 0;
}

std::vector<std::shared_ptr<const Part>> EventStoreImpl::unwritten_parts_locked(const PartitionWriter& p) const {
  std::vector<std::shared_ptr<const Part>> out;
  for (const auto& part : p.parts) {
    if (files_ == nullptr || (!part->lazy() && !files_->names_part(part->id()))) out.push_back(part);
  }
  return out;
}

void EventStoreImpl::merge_unwritten_parts(std::span<const uint32_t> months, bool two_threads) {
  for_each_index_on_two_threads(months.size(), two_threads && std::thread::hardware_concurrency() >= 2, [&](size_t i) {
    const uint32_t month = months[i];
    std::vector<std::shared_ptr<const Part>> inputs;
    uint64_t id;
    {
      MutexLock lock(&write_mu_);
      auto it = partitions_.find(month);
      if (it == partitions_.end()) return;
      inputs = unwritten_parts_locked(*it->second);
      if (inputs.size() < 2) return;
      id = new_part_id();
    }
    // Resident parts: the merge cannot fail on a damaged file. Its rollup
    // is built from the merged rows by the checkpoint (the inputs, built
    // by a bulk ingest, have none to merge).
    absl::StatusOr<BuiltPart> merged = merge_parts(inputs, id, month, /*with_rollup=*/false);
    if (!merged.ok()) return;
    MutexLock lock(&write_mu_);
    // False when a part was merged or rewritten meanwhile (compact,
    // delete_user): the parts are then written as they are.
    if (install_merge_locked(month, inputs, *std::move(merged))) install_version_locked();
  });
}

std::optional<EventStoreImpl::MergeTask> EventStoreImpl::pick_merge_locked() {
  // A bulk ingest merges the parts it builds one month at a time, when it
  // writes them (merge_unwritten_parts): a merge by tiers meanwhile would
  // rewrite the rows of the month it is in once more.
  if (bulk_ingests_ > 0) return std::nullopt;
  // A process that has written nothing merges nothing: it would not keep
  // the merge (it closes without a checkpoint), and the merged part, built
  // in memory, would stay there, outside Options::cache_bytes (a CLI query
  // of a 100M-event store merged for 1.7 s and 770 MB, then threw it away).
  // The first write lets merges run; compact() merges regardless.
  if (!wrote_since_open_locked()) return std::nullopt;
  for (const auto& [month, p] : partitions_) {
    bool unreadable = false;  // a damaged file: merging would fail again
    for (const auto& part : p->parts) unreadable = unreadable || unreadable_parts_.contains(part->id());
    if (unreadable) continue;
    std::vector<uint32_t> rows;
    for (const auto& part : p->parts) rows.push_back(part->rows());
    const std::vector<size_t> pick = pick_merge(rows, options_.part_rows);
    if (pick.empty()) continue;
    MergeTask task{month, {}};
    for (const size_t i : pick) task.inputs.push_back(p->parts[i]);
    return task;
  }
  return std::nullopt;
}

// The thread-safety analysis cannot follow the condition variable's
// unlock/relock of write_mu_, so this function is checked by TSan instead.
void EventStoreImpl::background_loop() ABSL_NO_THREAD_SAFETY_ANALYSIS {
  write_mu_.lock();
  while (!stopping_) {
    // Versions queries have let go of, freed outside the lock.
    if (std::vector<std::shared_ptr<const Version>> unread = take_unread_versions_locked(); !unread.empty()) {
      write_mu_.unlock();
      unread.clear();
      write_mu_.lock();
      continue;
    }
    // Sealing first: it is what keeps writers from slowing down.
    std::optional<SealTask> seal;
    for (const auto& [month, p] : partitions_) {
      if (!p->sealing.empty()) {
        seal = SealTask{month, p->sealing.front().first, p->sealing.front().second, bulk_ingests_ == 0};
        break;
      }
    }
    if (seal) {
      busy_ = true;
      write_mu_.unlock();
      BuiltPart built = build_part(*seal->buffer, seal->part_id, seal->month, seal->with_rollup);
      write_mu_.lock();
      busy_ = false;
      auto it = partitions_.find(seal->month);
      if (it != partitions_.end()) {
        auto& sealing = it->second->sealing;
        auto entry = std::find_if(sealing.begin(), sealing.end(),
                                  [&](const auto& s) { return s.first == seal->buffer; });
        // Absent when a checkpoint, compaction, deletion or retention dealt
        // with it meanwhile.
        if (entry != sealing.end()) {
          sealing.erase(entry);
          add_part(*it->second, std::move(built));
          rollups_changed_ = true;
          install_version_locked();
          // The last part of a month the input has left: it may be written.
          maybe_request_bulk_checkpoint_locked();
        }
      }
      work_cv_.notify_all();
      continue;
    }
    if (checkpoint_requested_ && write_error_.ok()) {
      busy_ = true;
      write_mu_.unlock();
      // A failed checkpoint leaves the previous one in place and the log
      // intact; it is retried when the log grows again.
      absl::Status s = requested_checkpoint();
      write_mu_.lock();
      busy_ = false;
      if (!s.ok()) checkpoint_requested_ = false;
      work_cv_.notify_all();
      continue;
    }
    // Rollups last: they only make reads faster. Parts get theirs when
    // they are built; the ones left uncovered (rewritten by delete_user,
    // read from an older store) get theirs here.
    if (std::optional<uint32_t> month = pick_rollup_locked()) {
      busy_ = true;
      write_mu_.unlock();
      const bool refreshed = refresh_rollup(*month);
      write_mu_.lock();
      busy_ = false;
      work_cv_.notify_all();
      if (refreshed) continue;
      // Parts changed under the build: wait for the next event rather than
      // spin on a partition that merges keep changing. write_mu_ was
      // released meanwhile, so a stop requested then (its notification
      // already spent) must be seen here, not after a wait that never ends.
      if (stopping_) break;
    }
    // The merged multi-month summary of a queried store: of every rollup
    // once writes pause, of the settled ones (what queries add the newest
    // rollups to) at most every kWarmInterval while they go on.
    const auto now = std::chrono::steady_clock::now();
    // last_write_ is coarse (a few ms behind at most): so is the idle time.
    const bool idle = coarse_now() - last_write_ >= kRollupIdle;
    if (rollups_changed_ && queried_.load(std::memory_order_relaxed) && (idle || now - last_warm_ >= kWarmInterval)) {
      rollups_changed_ = !idle;
      last_warm_ = now;
      busy_ = true;
      write_mu_.unlock();
      warm_rollup_cache(/*all=*/idle);
      write_mu_.lock();
      busy_ = false;
      work_cv_.notify_all();
      continue;
    }
    if ((rollups_changed_ && queried_.load(std::memory_order_relaxed)) || !retired_.empty()) {
      work_cv_.wait_for(write_mu_, retired_.empty() ? kRollupIdle : kRetiredPoll);
    } else {
      work_cv_.wait(write_mu_);
    }
  }
  write_mu_.unlock();
}

// Merges run on a thread of their own: a merge of large parts (and the
// merged part's rollup) takes far longer than a seal, and a seal waiting
// behind it would make writers seal on their own threads
// (Options::max_unrolled_rows).
void EventStoreImpl::merge_loop() ABSL_NO_THREAD_SAFETY_ANALYSIS {
  write_mu_.lock();
  while (!stopping_) {
    // A bulk ingest's checkpoint of the parts it has built: here, so that
    // the seal thread keeps sealing meanwhile.
    if (bulk_checkpoint_requested_ && write_error_.ok()) {
      merging_ = true;
      write_mu_.unlock();
      absl::Status s = requested_checkpoint();
      write_mu_.lock();
      merging_ = false;
      if (!s.ok()) bulk_checkpoint_requested_ = false;  // asked again as the parts grow
      work_cv_.notify_all();
      continue;
    }
    if (std::optional<MergeTask> merge = pick_merge_locked()) {
      const uint64_t id = new_part_id();
      const bool with_rollup = bulk_ingests_ == 0;
      merging_ = true;
      write_mu_.unlock();
      absl::StatusOr<BuiltPart> merged = merge_parts(merge->inputs, id, merge->month, with_rollup);
      write_mu_.lock();
      merging_ = false;
      if (merged.ok() && install_merge_locked(merge->month, merge->inputs, *std::move(merged))) {
        install_version_locked();
      }
      work_cv_.notify_all();
      continue;
    }
    work_cv_.wait(write_mu_);
  }
  write_mu_.unlock();
}

void EventStoreImpl::wait_for_background_work() ABSL_NO_THREAD_SAFETY_ANALYSIS {
  write_mu_.lock();
  // Work may wait for a thread no write has woken (merges a process's first
  // write released, e.g. after a delete_user): wake them to look.
  if (background_.joinable()) work_cv_.notify_all();
  while (background_.joinable() && (busy_ || merging_ || sealing_count_locked() > 0 || pick_merge_locked().has_value() ||
                                    ((checkpoint_requested_ || bulk_checkpoint_requested_) && write_error_.ok()))) {
    work_cv_.wait(write_mu_);
  }
  write_mu_.unlock();
}

absl::Status EventStoreImpl::compact() {
  MutexLock checkpointing(&checkpoint_mu_);
  std::vector<uint32_t> months;
  {
    MutexLock lock(&write_mu_);
    seal_all_locked();
    install_version_locked();
    for (const auto& [month, p] : partitions_) months.push_back(month);
  }
  // Months merge independently: two at a time.
  std::vector<absl::Status> errors(months.size());
  for_each_index_on_two_threads(months.size(), std::thread::hardware_concurrency() >= 2, [&](size_t i) {
    const uint32_t month = months[i];
    // A concurrent writer or merge may change the parts while we merge
    // outside the lock; then the install fails and we try again.
    for (int attempt = 0; attempt < 3; ++attempt) {
      MergeTask task{month, {}};
      uint64_t id;
      {
        MutexLock lock(&write_mu_);
        auto it = partitions_.find(month);
        if (it == partitions_.end() || it->second->parts.size() < 2) break;
        task.inputs = it->second->parts;
        id = new_part_id();
      }
      absl::StatusOr<BuiltPart> merged = merge_parts(task.inputs, id, month, /*with_rollup=*/true);
      if (!merged.ok()) {
        errors[i] = merged.status();  // a damaged part file
        break;
      }
      MutexLock lock(&write_mu_);
      if (install_merge_locked(month, task.inputs, *std::move(merged))) {
        install_version_locked();
        break;
      }
    }
  });
  for (const absl::Status& s : errors) USAGEDB_RETURN_IF_ERROR(s);
  refresh_rollups();
  return checkpoint_locked();
}

}  // namespace usagedb
