#include "lib/db/event_store_impl.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <pthread.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <linux/futex.h>
#include <sys/syscall.h>
#endif

#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "absl/container/flat_hash_map.h"
#include "absl/container/inlined_vector.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "lib/db/heap_trim.h"
#include "lib/ingest/validate.h"
#include "lib/query/endpoints.h"
#include "lib/storage/event_codec.h"
#include "lib/util/civil_time.h"
#include "lib/util/status_macros.h"
#include "lib/util/text.h"

namespace usagedb {

absl::StatusOr<std::unique_ptr<EventStore>> EventStore::open(const Options& options) {
  auto store = EventStoreImpl::open(options, storage::FileSystem::posix());
  if (!store.ok()) return store.status();
  return std::unique_ptr<EventStore>(std::move(*store));
}

absl::StatusOr<std::unique_ptr<EventStoreImpl>> EventStoreImpl::open(const Options& options,
                                                                      storage::FileSystem* fs) {
#ifdef NDEBUG
  // Debian's Abseil is built with its debug-mode Mutex deadlock detection,
  // which makes every Lock() and ReaderLock() in the process take one global
  // spinlock (the lock graph's). A thread preempted while holding it stalls
  // every other: in bench/live mixed, queries' snapshot() waited tens of ms
  // on it behind the writers (bench/RESULTS.md). Release builds turn it off;
  // debug builds keep it.
  static const bool kNoDeadlockGraph = [] {
    absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
    return true;
  }();
  (void)kNoDeadlockGraph;
#endif
  if (options.part_rows < 1 || options.part_rows > (1u << 30)) {
    return absl::InvalidArgumentError(
        absl::StrCat("options.part_rows: must be 1..", 1u << 30, ", got ", options.part_rows));
  }
  if (options.checkpoint_log_bytes < 1) {
    return absl::InvalidArgumentError("options.checkpoint_log_bytes: must be at least 1");
  }
  if (options.max_unrolled_rows < kSealsQueuedPerPartition + 1) {
    return absl::InvalidArgumentError(absl::StrCat("options.max_unrolled_rows: must be at least ",
                                                   kSealsQueuedPerPartition + 1, ", got ", options.max_unrolled_rows));
  }
  std::unique_ptr<EventStoreImpl> store(new EventStoreImpl(options));
  if (!options.directory.empty()) {
    if (absl::Status s = store->recover(fs); !s.ok()) {
      // Let go of the files before the destructor's closing checkpoint sees
      // them: a store that failed to open must not write (its log may not
      // even be open, and its state is partial).
      store->files_.reset();
      return s;
    }
  }
  if (options.background_threads) {
    // Named for top -H and perf (at most 15 characters).
    store->background_ = std::thread([s = store.get()] {
      pthread_setname_np(pthread_self(), "usagedb-seal");
      s->background_loop();
    });
    store->merger_ = std::thread([s = store.get()] {
      pthread_setname_np(pthread_self(), "usagedb-merge");
      s->merge_loop();
    });
  }
  return store;
}

EventStoreImpl::EventStoreImpl(const Options& options)
    : options_(options),
      buffer_rows_(live_buffer_rows(options)),
      part_cache_(std::make_shared<PartCache>(options.cache_bytes)),
      version_(std::make_shared<const Version>()) {}

// Recovery: dictionaries and the checkpointed parts (together), then the logs
// replayed through the normal write path (so dedup decides exactly as it
// did), then the quarantine. Runs before the store is shared.
absl::Status EventStoreImpl::recover(storage::FileSystem* fs) ABSL_NO_THREAD_SAFETY_ANALYSIS {
  USAGEDB_ASSIGN_OR_RETURN(files_, storage::StoreFiles::open(options_.directory, options_.create_if_missing, fs));
  // A store that fsyncs every write group keeps zeros written ahead of its
  // log's records: each fsync then overwrites allocated blocks and commits
  // no size change (ext4: no journal commit, one device round trip less).
  if (options_.sync) files_->set_log_zero_fill(kSyncedLogZeroFill);
  std::vector<storage::PersistedRollup> rollups;
  USAGEDB_ASSIGN_OR_RETURN(auto parts, files_->load_checkpoint(dictionaries_, &rollups, part_cache_));
  bool created = false;
  for (auto& part : parts) {
    PartitionWriter& p = partition_locked(part->month(), &created);
    p.event_ids_ready = false;  // built on the partition's first write
    p.parts.push_back(std::move(part));
  }
  // The manifest lists a rollup only with parts of its month it holds.
  for (storage::PersistedRollup& r : rollups) {
    PartitionWriter& p = partition_locked(r.month, &created);
    p.rollups.add(std::move(r.rollup), std::move(r.parts));  // the manifest covers no part twice
  }
  // New events are numbered above every row of the parts, every replayed
  // record and every saved cursor (docs/STORAGE.md, "The arrival sequence").
  for (const auto& [month, p] : partitions_) {
    for (const auto& part : p->parts) next_sequence_ = std::max(next_sequence_, part->max_sequence() + 1);
  }
  uint64_t record_number = 0;
  // Single-threaded here, like the rest of recover().
  USAGEDB_RETURN_IF_ERROR(files_->replay_logs([&](std::string_view record) ABSL_NO_THREAD_SAFETY_ANALYSIS -> absl::Status {
    // A damaged dictionary fails the open here, before anything is replayed.
    USAGEDB_RETURN_IF_ERROR(prepare_dictionaries_locked());
    USAGEDB_ASSIGN_OR_RETURN(storage::DecodedEvents batch,
                             storage::decode_events(record, absl::StrCat("write-ahead log record ", record_number++)));
    USAGEDB_RETURN_IF_ERROR(prepare_event_ids_locked(batch.events));
    // A record of the format before arrival numbers: numbered as it is
    // replayed, the same way at every open until a checkpoint keeps them.
    const uint64_t first = batch.first_sequence.value_or(next_sequence_);
    if (first < next_sequence_) {
      return absl::DataLossError(absl::StrCat("write-ahead log record ", record_number - 1, ": events numbered from ",
                                              first, ", below ", next_sequence_, " already in the store"));
    }
    append_locked(batch.events, first);
    next_sequence_ = first + batch.events.size();
    logged_since_rotation_ = true;  // in memory now, and only the logs hold it
    return absl::OkStatus();
  }));
  USAGEDB_ASSIGN_OR_RETURN(const uint64_t max_cursor, files_->max_cursor());
  next_sequence_ = std::max(next_sequence_, max_cursor + 1);
  synced_through_ = next_sequence_ - 1;  // replayed from the disk
  USAGEDB_ASSIGN_OR_RETURN(quarantine_, files_->load_quarantine());
  USAGEDB_RETURN_IF_ERROR(files_->remove_garbage());
  // The summary of every part, as the last checkpoint counted it.
  rollup_cache_.set_stored(files_->load_summary(dictionaries_.feature.size(), dictionaries_.version.size()));
  // A replayed log is checkpointed when the store closes, whatever else.
  changed_ = record_number > 0;
  sequence_at_open_ = next_sequence_;
  quarantine_at_open_ = quarantine_.size();
  install_version_locked();
  maybe_request_checkpoint_locked();
  return absl::OkStatus();
}

EventStoreImpl::~EventStoreImpl() {
  {
    MutexLock lock(&write_mu_);
    stopping_ = true;
  }
  work_cv_.notify_all();
  if (background_.joinable()) background_.join();
  if (merger_.joinable()) merger_.join();
  // Leave the events in part files so the next open has no log to replay.
  // Nothing is lost if this fails: the log holds them. A store that wrote
  // nothing (a CLI query) leaves its files as they are: no new log, no
  // fsync, no MANIFEST (parts merged or rollups built meanwhile are made
  // again from the same files when needed).
  bool wrote;
  {
    MutexLock lock(&write_mu_);
    wrote = wrote_since_open_locked();
  }
  if (files_ && wrote) checkpoint().IgnoreError();
}

// ---- Writing ----------------------------------------------------------------

absl::Status EventStoreImpl::record_event(const Event& event) {
  auto report = record_events(std::span<const Event>(&event, 1));
  return report.status();
}

absl::StatusOr<IngestReport> EventStoreImpl::record_events(std::span<const Event> events) {
  for (size_t i = 0; i < events.size(); ++i) {
    if (auto err = validate_event(events[i])) {
      return absl::InvalidArgumentError(events.size() == 1
                                            ? absl::StrCat(text::absl_view(err->column), ": ", err->message)
                                            : absl::StrCat("events[", i, "].", text::absl_view(err->column), ": ",
                                                           err->message));
    }
  }
  ThreadWrite slot;
  QueuedWrite& w = slot.write();
  w.events = events;
  w.sync = options_.sync;
  // Encoded on the caller's thread, before the queue: writers encode in
  // parallel and the group's leader only copies the bytes into the log.
  // Its first arrival number is set by the group's leader (set_first_sequence).
  if (files_ && !events.empty()) storage::encode_events(events, /*first_sequence=*/0, &w.record);
  // Hashed here too, in parallel with the other writers: the leader
  // prefetches the slots they name and probes with them.
  if (options_.deduplicate) {
    w.id_hashes.resize(events.size());
    for (size_t i = 0; i < events.size(); ++i) {
      w.id_hashes[i] = events[i].event_id.empty() ? 0 : DedupIndex::hash(events[i].event_id);
    }
  }
  // Unsynced calls go through the queue too, though they have no fsync to
  // share: each taking write_mu_ on its own was measured slower from 4
  // threads on the loaded 2-core machine (58-86k against 108-135k events/s,
  // bench/RESULTS.md), where a lock holder preempted mid-call stalls every
  // other writer, while a group's leader applies many calls per hold.
  absl::StatusOr<IngestReport> report = commit(w);
  if (!report.ok()) return report;
  USAGEDB_RETURN_IF_ERROR(run_requested_checkpoint());
  return report;
}

uint32_t EventStoreImpl::live_buffer_rows(const Options& options) {
  // A partition holds its active buffer and at most kSealsQueuedPerPartition
  // sealed buffers whose parts and rollups are being built (seal_locked).
  return static_cast<uint32_t>(std::min<size_t>(
      {options.part_rows, std::max<size_t>(1, options.max_unrolled_rows / (kSealsQueuedPerPartition + 1)),
       UINT32_MAX}));
}

// ---- The writer queue -------------------------------------------------------

namespace {
// The most log bytes one group writes: a leader does not keep its own
// caller waiting for an unbounded queue behind it (leveldb's 1 MB).
constexpr size_t kMaxGroupBytes = 1 << 20;

// The largest log record buffer a thread keeps for its next call, and the
// most events of a group whose room is kept for the next group.
constexpr size_t kKeptRecordBytes = 64 << 10;
constexpr size_t kKeptGroupEvents = 4096;
}  // namespace

namespace {
// How many times a queued caller looks at its state, pausing between looks,
// before it sleeps: a group of a few record_event calls is applied in about
// a microsecond a call, and a wake-up costs the leader a futex call and the
// caller a context switch.
constexpr int kSpinsBeforeSleep = 64;

void cpu_pause() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#else
  std::this_thread::yield();
#endif
}

// Sleeps while *state == expected (or until woken), and wakes one sleeper.
// On Linux the futex itself: std::atomic::wait of libstdc++ 12 first calls
// sched_yield four times, which on a loaded machine hands the core to other
// processes, and counts its waiters in a shared table.
void sleep_while(std::atomic<uint32_t>& state, uint32_t expected) {
#ifdef __linux__
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(&state), FUTEX_WAIT_PRIVATE, expected, nullptr, nullptr, 0);
#else
  state.wait(expected, std::memory_order_acquire);
#endif
}
void wake_one(std::atomic<uint32_t>& state) {
#ifdef __linux__
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(&state), FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr, 0);
#else
  state.notify_one();
#endif
}

// The pool of queue nodes of threads that have exited (ThreadWrite::
// take_node): a process-wide singleton, never destroyed, so a node's memory
// outlives every store and thread that used it.
struct NodePool {
  Mutex mu;
  std::vector<void*> free ABSL_GUARDED_BY(mu);
};
NodePool& node_pool() {
  static NodePool* pool = new NodePool;
  return *pool;
}
}  // namespace

EventStoreImpl::QueuedWrite* EventStoreImpl::ThreadWrite::take_node() {
  NodePool& pool = node_pool();
  {
    MutexLock lock(&pool.mu);
    if (!pool.free.empty()) {
      void* node = pool.free.back();
      pool.free.pop_back();
      return static_cast<QueuedWrite*>(node);
    }
  }
  return new QueuedWrite;
}

void EventStoreImpl::ThreadWrite::give_node(QueuedWrite* node) {
  // Its buffers go; the node itself stays (see ThreadWrite).
  std::string().swap(node->record);
  std::vector<uint64_t>().swap(node->id_hashes);
  node->result = IngestReport{};
  NodePool& pool = node_pool();
  MutexLock lock(&pool.mu);
  pool.free.push_back(node);
}

EventStoreImpl::ThreadWrite::ThreadWrite() {
  // One per thread, for every store: a thread is in one call at a time,
  // and a write leaves the queue before its call returns. The node goes
  // back to the pool when the thread exits.
  struct Kept {
    QueuedWrite* node = take_node();
    bool busy = false;
    ~Kept() { give_node(node); }
  };
  thread_local Kept kept;
  if (!kept.busy) {
    kept.busy = true;
    write_ = kept.node;
    busy_ = &kept.busy;
    write_->record.clear();  // keeps its capacity
    write_->id_hashes.clear();
  } else {
    write_ = take_node();  // not reached today: no call nests another
  }
  write_->events = {};
  write_->sync = false;
  write_->result = IngestReport{};
}

EventStoreImpl::ThreadWrite::~ThreadWrite() {
  if (busy_ == nullptr) {
    give_node(write_);
    return;
  }
  if (write_->record.capacity() > kKeptRecordBytes) {
    std::string().swap(write_->record);
    std::vector<uint64_t>().swap(write_->id_hashes);
  }
  *busy_ = false;
}

uint32_t EventStoreImpl::await_turn(QueuedWrite& w, int spins) {
  for (int i = 0; i < spins; ++i) {
    const uint32_t s = w.state.load(std::memory_order_acquire);
    if (s != kQueued) return s;
    cpu_pause();
  }
  uint32_t s = kQueued;
  if (!w.state.compare_exchange_strong(s, kSleeping, std::memory_order_acq_rel)) return s;
  while ((s = w.state.load(std::memory_order_acquire)) == kSleeping) sleep_while(w.state, kSleeping);
  return s;
}

void EventStoreImpl::release_write(QueuedWrite& w, uint32_t state) {
  // After the exchange, w's caller may return and its thread reuse the node
  // for its next call (or exit): the node is never freed (ThreadWrite), so
  // the notify at worst wakes that next wait, which looks at its state again.
  if (w.state.exchange(state, std::memory_order_acq_rel) == kSleeping) wake_one(w.state);
}

absl::StatusOr<IngestReport> EventStoreImpl::commit(QueuedWrite& w) {
  w.next.store(nullptr, std::memory_order_relaxed);
  w.state.store(kQueued, std::memory_order_relaxed);
  // Join the queue. A caller that finds it empty leads; the others link
  // themselves behind their predecessor, which is not released (nor its
  // node reused) before the link is made: its leader waits for it.
  if (QueuedWrite* prev = queue_tail_.exchange(&w, std::memory_order_acq_rel)) {
    prev->next.store(&w, std::memory_order_release);
    // A synced call sleeps at once: it waits for an fsync at least (its
    // group's, and before it leads, the previous group's), so its spins
    // would only take the core from the callers the last group released
    // (the spin loop was 7.4% of the samples of 8 synced writers; session
    // 30, bench/RESULTS.md).
    if (await_turn(w, w.sync && files_ ? 0 : kSpinsBeforeSleep) == kDone) return std::move(w.result);
  }
  // The head of the queue leads a group: itself and the writers queued
  // behind it, in order, up to kMaxGroupBytes of log records. A leader
  // that will fsync first lets the writers the previous group just
  // released queue up again (an fsync costs far more than the wait),
  // yielding once, and only after a group of several: a lone writer would
  // only give its core away (on a busy machine, for a whole time slice).
  // Waiting longer, until every synced caller had queued (branch writers5:
  // asleep, woken by each joiner, half an fsync at most), made groups of
  // all 8 callers (7.87 events an fsync) but no faster: 8 threads 21-30k
  // (median 28.2k) against 26-29k (28.3k) events/s with this yield, and
  // 24-33 against 22-24 us of the callers' CPU an event (bench/RESULTS.md,
  // session 29): a full group waits for its slowest member's wake-up while
  // no fsync runs; smaller groups keep the disk busy (with the yield: 6.45
  // events an fsync, most groups of 6-8 calls, not two alternating groups
  // of 4).
  if (w.sync && files_ && last_group_size_ > 1) std::this_thread::yield();
  // The leader's thread keeps its group's vector from call to call.
  thread_local std::vector<QueuedWrite*> group;
  group.clear();
  group.push_back(&w);
  size_t bytes = w.record.size();
  for (QueuedWrite* q = &w;;) {
    QueuedWrite* n = q->next.load(std::memory_order_acquire);
    if (n == nullptr || bytes + n->record.size() > kMaxGroupBytes) break;
    group.push_back(n);
    bytes += n->record.size();
    q = n;
  }
  last_group_size_ = group.size();
  {
    MutexLock lock(&write_mu_);
    write_group_locked(group);
  }
  // The next leader: the write behind the group's last one, or none, when
  // the queue can be emptied. Found before the last one is released (its
  // node is its caller's again then), and made leader before the group's
  // callers are woken, so the next group starts while they wake.
  QueuedWrite* last = group.back();
  QueuedWrite* next = last->next.load(std::memory_order_acquire);
  if (next == nullptr) {
    QueuedWrite* expected = last;
    if (!queue_tail_.compare_exchange_strong(expected, nullptr, std::memory_order_acq_rel)) {
      // A caller has joined behind `last` and is linking itself: wake the
      // others meanwhile, then wait for the link (its caller may have been
      // preempted between the two steps: give it the core).
      for (size_t i = 1; i + 1 < group.size(); ++i) release_write(*group[i], kDone);
      for (int spins = 0; (next = last->next.load(std::memory_order_acquire)) == nullptr; ++spins) {
        if (spins < kSpinsBeforeSleep) cpu_pause();
        else std::this_thread::yield();
      }
      release_write(*next, kLead);
      if (last != &w) release_write(*last, kDone);
      return std::move(w.result);
    }
  }
  if (next != nullptr) release_write(*next, kLead);
  for (size_t i = 1; i < group.size(); ++i) release_write(*group[i], kDone);
  return std::move(w.result);
}

void EventStoreImpl::write_group_locked(std::span<QueuedWrite* const> group) {
  auto fail_all = [&](const absl::Status& s) {
    for (QueuedWrite* q : group) q->result = s;
  };
  if (!write_error_.ok()) return fail_all(write_error_);
  if (absl::Status s = prepare_dictionaries_locked(); !s.ok()) return fail_all(s);
  for (QueuedWrite* q : group) {
    // A damaged part file of a month written to fails the whole group:
    // nothing of it is logged yet.
    if (absl::Status s = prepare_event_ids_locked(q->events); !s.ok()) return fail_all(s);
  }
  if (options_.deduplicate) prefetch_dedup_slots_locked(group);
  // The group's events are numbered in queue order (docs/STORAGE.md, "The
  // arrival sequence"), each record carrying its first number.
  const uint64_t first = next_sequence_;
  if (files_) {
    bool sync = false;
    absl::Status s;
    uint64_t number = first;
    for (QueuedWrite* q : group) {
      sync = sync || q->sync;
      if (!q->record.empty()) storage::set_first_sequence(number, &q->record);
      number += q->events.size();
      if (s.ok() && !q->record.empty()) {
        s = files_->append_log(q->record);
        logged_since_rotation_ = true;
      }
    }
    // One fsync makes the whole group durable.
    if (s.ok() && sync) s = files_->sync();
    if (!s.ok()) return fail_all(stop_writes_locked(s));
    if (sync) {
      synced_through_ = number - 1;
      ++group_counts_.syncs;
      group_counts_.synced_events += number - first;
    }
  }
  size_t count = 0;
  for (QueuedWrite* q : group) count += q->events.size();
  next_sequence_ += count;
  GroupCounts& counts = group_counts_;
  ++counts.groups;
  counts.calls += group.size();
  counts.events += count;
  ++counts.sizes[std::min(group.size(), counts.sizes.size()) - 1];
  if (group.size() == 1) {
    const std::vector<uint64_t>& hashes = group[0]->id_hashes;
    group[0]->result = append_locked(group[0]->events, first, nullptr, nullptr, hashes.empty() ? nullptr : hashes.data());
  } else {
    // One pass over the whole group (one set of scratch vectors, one
    // publication per buffer), with each event's duplicate flag to make
    // each call's report.
    // Kept between groups (write_mu_ guards them): no allocation per group.
    std::vector<Event>& events = group_events_;
    std::vector<uint8_t>& duplicate = group_duplicate_;
    std::vector<uint64_t>& hashes = group_id_hashes_;
    events.clear();
    hashes.clear();
    for (QueuedWrite* q : group) {
      events.insert(events.end(), q->events.begin(), q->events.end());
      hashes.insert(hashes.end(), q->id_hashes.begin(), q->id_hashes.end());
    }
    append_locked(events, first, nullptr, &duplicate, options_.deduplicate ? hashes.data() : nullptr);
    size_t at = 0;
    for (QueuedWrite* q : group) {
      IngestReport report;
      for (size_t i = 0; i < q->events.size(); ++i) {
        ++(duplicate[at + i] ? report.duplicate_rows : report.successful_rows);
      }
      at += q->events.size();
      q->result = report;
    }
    // Views of the callers' strings, which are theirs again; a large
    // group's room is given back.
    events.clear();
    if (events.capacity() > kKeptGroupEvents) {
      std::vector<Event>().swap(events);
      std::vector<uint8_t>().swap(duplicate);
      std::vector<uint64_t>().swap(hashes);
    }
  }
  maybe_request_checkpoint_locked();
}

void EventStoreImpl::prefetch_dedup_slots_locked(std::span<QueuedWrite* const> group) {
  // The first events only: a large group's later events are prefetched a
  // few ahead as append_locked goes (and would evict these first).
  constexpr size_t kPrefetched = 16;
  size_t n = 0;
  const PartitionWriter* p = nullptr;
  for (const QueuedWrite* q : group) {
    for (size_t i = 0; i < q->events.size() && n < kPrefetched; ++i, ++n) {
      if (q->events[i].event_id.empty()) continue;
      const uint32_t month = civil::month_id(q->events[i].timestamp.time_since_epoch().count());
      if (p == nullptr || p->month != month) {
        auto it = partitions_.find(month);
        if (it == partitions_.end()) continue;
        p = it->second.get();
      }
      if (p->event_ids_ready) p->event_ids.prefetch(q->id_hashes[i]);
    }
  }
}

absl::StatusOr<IngestReport> EventStoreImpl::write_locked(std::span<const Event> events, Logging logging,
                                                          const Precoded* precoded) {
  if (!write_error_.ok()) return write_error_;
  USAGEDB_RETURN_IF_ERROR(prepare_dictionaries_locked());
  USAGEDB_RETURN_IF_ERROR(prepare_event_ids_locked(events));
  const uint64_t first = next_sequence_;
  if (files_ && !events.empty()) {
    if (logging == Logging::kLogged) {
      std::string record;
      storage::encode_events(events, first, &record);
      absl::Status s = files_->append_log(record);
      logged_since_rotation_ = true;
      if (s.ok() && options_.sync) s = files_->sync();
      if (!s.ok()) return stop_writes_locked(s);
      if (options_.sync) synced_through_ = first + events.size() - 1;
    } else {
      unlogged_.push_back(first);  // durable once a checkpoint writes it
    }
  }
  next_sequence_ += events.size();
  IngestReport report = append_locked(events, first, precoded);
  maybe_request_checkpoint_locked();
  return report;
}

absl::Status EventStoreImpl::stop_writes_locked(const absl::Status& failure) {
  // The log's tail is unknown now; accepting more writes could make
  // acknowledged events unreadable. Reads continue; reopening recovers.
  write_error_ = absl::Status(
      failure.code(),
      absl::StrCat("the store stopped accepting writes after a write-ahead log failure (reopen it to recover): ",
                   failure.message()));
  return write_error_;
}

absl::Status EventStoreImpl::ensure_sessions() const {
  MutexLock lock(&sessions_mu_);
  if (sessions_loaded_ || !files_) return absl::OkStatus();
  // The dictionary locks itself; no reader looks a session code up before
  // this returns (it is the only writer until sessions_loaded_).
  USAGEDB_RETURN_IF_ERROR(files_->load_sessions(const_cast<Dictionary&>(dictionaries_.session)));
  sessions_loaded_ = true;
  return absl::OkStatus();
}

absl::Status EventStoreImpl::prepare_dictionaries_locked() {
  if (dictionaries_ready_) return absl::OkStatus();
  if (absl::Status s = ensure_sessions(); !s.ok()) {
    // Reopening does not help: the file is damaged.
    write_error_ = absl::DataLossError(absl::StrCat("the store stopped accepting writes: ", s.message()));
    return write_error_;
  }
  for (int c = 0; c < kDictionaryColumns; ++c) {
    if (absl::Status s = dictionaries_.get(static_cast<DictionaryColumn>(c)).prepare_for_writes(); !s.ok()) {
      // Reopening does not help: the files hold the duplicate.
      write_error_ = absl::DataLossError(absl::StrCat("the store stopped accepting writes: ", s.message()));
      return write_error_;
    }
  }
  dictionaries_ready_ = true;
  return absl::OkStatus();
}

absl::Status EventStoreImpl::flush() {
  if (!files_) {
    MutexLock lock(&write_mu_);
    return write_error_;
  }
  // Through the writer queue: concurrent flush() calls (and writers with
  // Options::sync) share one fsync.
  ThreadWrite slot;
  QueuedWrite& w = slot.write();
  w.sync = true;
  return commit(w).status();
}

uint64_t EventStoreImpl::durable_sequence_locked() const {
  const uint64_t appended = next_sequence_ - 1;
  return unlogged_.empty() ? appended : std::min(appended, unlogged_.front() - 1);
}

std::shared_ptr<AppendBuffer> EventStoreImpl::new_buffer() const {
  // A live buffer indexes its rows by user (the user questions read that
  // user's rows only); a bulk ingest's, which queries rarely read, does not.
  return std::make_shared<AppendBuffer>(buffer_rows_, /*index_users=*/bulk_ingests_ == 0);
}

EventStoreImpl::PartitionWriter& EventStoreImpl::partition_locked(uint32_t month, bool* created) {
  auto it = partitions_.find(month);
  if (it != partitions_.end()) return *it->second;
  auto p = std::make_unique<PartitionWriter>();
  p->month = month;
  p->buffer = new_buffer();
  *created = true;
  return *partitions_.emplace(month, std::move(p)).first->second;
}

absl::Status EventStoreImpl::ensure_event_ids_locked(PartitionWriter& p) {
  uint64_t rows = 0;
  for (const auto& part : p.parts) rows += part->rows();
  // Each part is read (a lazy one from its file) before the index changes,
  // so a damaged file leaves the partition without an index, not a partial one.
  std::vector<Part::Pin> pins;
  for (const auto& part : p.parts) {
    USAGEDB_ASSIGN_OR_RETURN(Part::Pin pin, part->pin());
    pins.push_back(std::move(pin));
  }
  p.event_ids.reserve(rows);
  for (const auto& part : p.parts) {
    for (uint32_t row = 0; row < part->rows(); ++row) {
      if (std::string_view id = part->event_id(row); !id.empty()) p.event_ids.insert(id);
    }
  }
  // Rows not in parts yet: none before the first write, but keep the index
  // exact whatever the caller.
  auto add_buffer = [&](const AppendBuffer& b) {
    for (uint32_t i = 0; i < b.size(); ++i) {
      if (std::string_view id = b.event_id(i); !id.empty()) p.event_ids.insert(id);
    }
  };
  for (const auto& [buffer, id] : p.sealing) add_buffer(*buffer);
  add_buffer(*p.buffer);
  p.event_ids_ready = true;
  return absl::OkStatus();
}

absl::Status EventStoreImpl::prepare_event_ids_locked(std::span<const Event> events) {
  if (!options_.deduplicate) return absl::OkStatus();
  uint32_t last = 0;
  for (const Event& e : events) {
    const uint32_t month = civil::month_id(e.timestamp.time_since_epoch().count());
    if (month == last) continue;
    last = month;
    auto it = partitions_.find(month);
    if (it != partitions_.end() && !it->second->event_ids_ready) {
      USAGEDB_RETURN_IF_ERROR(ensure_event_ids_locked(*it->second));
      // A late event of a month a bulk ingest had left: keep the rebuilt
      // index for the rest of the ingest (see the release in append_locked).
      it->second->event_ids_pinned = idle_seal_rows_ > 0;
    }
  }
  return absl::OkStatus();
}

#ifdef __GLIBC__
namespace {

// The process's resident set in bytes (/proc/self/statm), 0 when unknown.
size_t resident_bytes() {
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  unsigned long size = 0, resident = 0;
  const int read = std::fscanf(f, "%lu %lu", &size, &resident);
  std::fclose(f);
  if (read != 2) return 0;
  return static_cast<size_t>(resident) * static_cast<size_t>(::sysconf(_SC_PAGESIZE));
}

// The number of malloc's arenas (the heaps malloc_info lists), 0 when unknown.
size_t malloc_arenas() {
  char* text = nullptr;
  size_t size = 0;
  std::FILE* f = open_memstream(&text, &size);
  if (f == nullptr) return 0;
  const bool ok = malloc_info(0, f) == 0;
  std::fclose(f);
  size_t arenas = 0;
  for (const char* p = text; ok && (p = std::strstr(p, "<heap nr=")) != nullptr; ++p) ++arenas;
  std::free(text);
  return arenas;
}

}  // namespace
#endif

bool EventStoreImpl::release_partition_ids(PartitionWriter& p) {
  if (!p.event_ids_ready) return false;
  const bool held = p.event_ids.memory_bytes() > 0;
  p.event_ids.clear();
  p.event_ids_ready = false;
  p.event_ids_pinned = false;
  return held;
}

void EventStoreImpl::trim_freed_memory(bool bulk_ingest) {
#ifdef __GLIBC__
  // The indexes' 1 MiB arena chunks come from malloc's heap, which keeps
  // freed memory mapped: give it back to the system once there is much of
  // it. Not every time: malloc_trim returns every free page of every arena,
  // and the next buffers, parts and indexes (of the same sizes) fault them
  // in again, each zeroed by the kernel. Trimming at each of the 21 calls
  // of a 10M-event ingest was ~3/4 of its page faults (~580k against ~145k)
  // and ~1.3 s of its ~2.2 s system CPU, while its heap never held more
  // than ~320 MiB resident and free; never trimming let a 100M-event
  // ingest's peak RSS grow past 3.5 GiB (the free memory of one thread's
  // arena is not reused by another's). kTrimFreeBytes bounds what stays
  // resident unused: the process's resident bytes less what malloc has
  // handed out (the rest of the difference, code and stacks, is small). A
  // 10M-event ingest never reaches it; a 100M-event one trims at 13 of its
  // 24 calls and peaked at 3,380 MiB (bench/RESULTS.md). Without /proc, it
  // trims every time.
  //
  // Except during a bulk ingest in a process whose malloc has one arena
  // (`usagedb ingest` sets M_ARENA_MAX 1): there, every thread reuses what
  // any thread freed, and a month frees about what the next one allocates.
  // A 100M-event ingest still trimmed at about half of its 24 calls (its
  // free memory exceeded what it had in use, too), which cost 1.1-1.3M of
  // its 1.8M page faults and 12-17 s of system CPU, for no lower a peak
  // (2,935-2,998 MiB not trimming, 3,074-3,136 MiB trimming;
  // bench/RESULTS.md).
  // (kTrimFreeBytes and the rule: lib/db/heap_trim.h.)
  const size_t arenas = bulk_ingest ? malloc_arenas() : 0;
  const size_t resident = resident_bytes();
  const struct mallinfo2 info = mallinfo2();
  const size_t in_use = info.uordblks + info.hblkhd;
  if (should_trim_heap(bulk_ingest, arenas, resident, in_use)) malloc_trim(0);
#endif
}

void EventStoreImpl::release_event_ids_locked() {
  if (partitions_.empty()) return;
  const uint32_t newest = partitions_.rbegin()->first;
  for (auto& [month, p] : partitions_) {
    if (month != newest) release_partition_ids(*p);
  }
  trim_freed_memory(bulk_ingests_ > 0);
}

std::chrono::steady_clock::time_point EventStoreImpl::coarse_now() {
#ifdef __linux__
  timespec ts;
  if (clock_gettime(CLOCK_MONOTONIC_COARSE, &ts) == 0) {
    return std::chrono::steady_clock::time_point(std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec));
  }
#endif
  return std::chrono::steady_clock::now();
}

IngestReport EventStoreImpl::append_locked(std::span<const Event> events, uint64_t first_sequence,
                                           const Precoded* precoded, std::vector<uint8_t>* duplicate,
                                           const uint64_t* id_hashes) {
  if (precoded != nullptr) id_hashes = precoded->id_hashes;
  IngestReport report;
  if (duplicate != nullptr) duplicate->assign(events.size(), 0);
  bool version_changed = false;

  // Pass 1: route each event to its month's partition and drop duplicates.
  // Inline for the few events of a record_event call: no allocation.
  absl::InlinedVector<const Event*, 4> accepted;
  absl::InlinedVector<uint32_t, 4> index;  // into `events`
  absl::InlinedVector<PartitionWriter*, 4> target;
  accepted.reserve(events.size());
  index.reserve(events.size());
  target.reserve(events.size());
  PartitionWriter* last = nullptr;
  // The events' strings were parsed on another core, whose cache holds
  // them, and the dedup index is large: fetch both a few events ahead, so
  // their loads overlap (pass 3 copies the same strings into the buffers).
  // The slot prefetched is in the previous event's partition, the usual
  // case; a wrong guess only costs the prefetch.
  constexpr size_t kAhead = 8;
  const auto prefetch = [&](size_t i) {
    __builtin_prefetch(events[i].event_id.data());
    __builtin_prefetch(events[i].metadata.data());
  };
  for (size_t i = 0; i < std::min(kAhead, events.size()); ++i) prefetch(i);
  for (size_t i = 0; i < events.size(); ++i) {
    if (i + kAhead < events.size()) {
      prefetch(i + kAhead);
      if (id_hashes != nullptr && last != nullptr) last->event_ids.prefetch(id_hashes[i + kAhead]);
    }
    const Event& e = events[i];
    const uint32_t month = civil::month_id(e.timestamp.time_since_epoch().count());
    PartitionWriter* p = last;
    if (p == nullptr || p->month != month) {
      p = &partition_locked(month, &version_changed);
      // Cannot fail: prepare_event_ids_locked() read the partition's parts
      // (and pinned the index of a month a bulk ingest had left); a new
      // partition starts with its (empty) index ready.
      if (options_.deduplicate && !p->event_ids_ready) ensure_event_ids_locked(*p).IgnoreError();
      last = p;
    }
    if (options_.deduplicate && !e.event_id.empty() &&
        !(id_hashes != nullptr ? p->event_ids.insert(e.event_id, id_hashes[i]) : p->event_ids.insert(e.event_id))) {
      ++report.duplicate_rows;
      if (duplicate != nullptr) (*duplicate)[i] = 1;
      continue;
    }
    accepted.push_back(&e);
    index.push_back(static_cast<uint32_t>(i));
    target.push_back(p);
  }

  // Pass 2: dictionary codes, unless the caller encoded them already (the
  // file ingest does it on its reader thread).
  const size_t n = accepted.size();
  absl::InlinedVector<RowCodes, 4> rows(n);
  if (precoded == nullptr) {
    // Cannot fail: write_locked() and recovery prepare the dictionaries
    // first, and a prepared dictionary never finds a duplicate later.
    encode_rows(dictionaries_, accepted, rows.data()).IgnoreError();
  } else {
    // A user erased (delete_user) after the codes were made is a new user
    // now: it gets a new code, so its events are not attached to the erased
    // entry. (Erasing takes write_mu_, held here.)
    const bool check_erased = dictionaries_.user.erasures() > 0;
    for (size_t i = 0; i < n; ++i) {
      rows[i] = precoded->codes[index[i]];
      if (check_erased && dictionaries_.user.erased(rows[i].user)) {
        rows[i].user = dictionaries_.user.intern(accepted[i]->user_id);
      }
    }
  }

  // Pass 3: append to the buffers, sealing full ones; publish once at the end.
  absl::InlinedVector<PartitionWriter*, 4> touched;
  for (size_t i = 0; i < n; ++i) {
    const Event& e = *accepted[i];
    PartitionWriter* p = target[i];
    if (touched.empty() || touched.back() != p) touched.push_back(p);
    p->last_append = appended_rows_ + i + 1;
    const uint64_t sequence = first_sequence + index[i];
    if (precoded != nullptr) {
      p->buffer->append(rows[i], sequence, e.event_id, e.metadata, precoded->metadata_hashes[index[i]]);
    } else {
      p->buffer->append(rows[i], sequence, e.event_id, e.metadata);
    }
    if (p->buffer->full()) {
      seal_locked(*p);
      version_changed = true;
    }
  }
  report.successful_rows = n;
  last_write_ = coarse_now();
  appended_rows_ += n;
  for (PartitionWriter* p : touched) p->buffer->publish();
  if (idle_seal_rows_ > 0) {
    uint64_t unsealed = 0;
    PartitionWriter* largest = nullptr;
    bool released = false;
    for (auto& [month, p] : partitions_) {
      if (appended_rows_ - p->last_append >= idle_seal_rows_) {
        if (p->buffer->size() > 0) {
          seal_locked(*p);
          version_changed = true;
        }
        // The input has left the month: its dedup index (the largest state
        // a bulk ingest keeps per month, ~27 bytes an event) is freed, and
        // rebuilt from the month's rows if a late event comes, so dedup
        // stays exact and an ingest holds the indexes of the months it is
        // in, not of every month it loaded.
        if (!p->event_ids_pinned) released |= release_partition_ids(*p);
      }
      unsealed += p->buffer->size();
      if (largest == nullptr || p->buffer->size() > largest->buffer->size()) largest = p.get();
    }
    if (unsealed_rows_limit_ > 0 && unsealed > unsealed_rows_limit_) {
      seal_locked(*largest);
      version_changed = true;
    }
    if (released) trim_freed_memory(bulk_ingests_ > 0);
    if (version_changed || released) maybe_request_bulk_checkpoint_locked();
  }
  if (version_changed) install_version_locked();
  // A process's first write lets merges run (pick_merge_locked); the merge
  // thread sleeps until something wakes it, and this write may seal nothing.
  if (!merges_released_ && background_.joinable() && wrote_since_open_locked()) {
    merges_released_ = true;
    work_cv_.notify_all();
  }
  return report;
}

// ---- Checkpoints ------------------------------------------------------------

void EventStoreImpl::maybe_request_checkpoint_locked() {
  if (files_ && !checkpoint_requested_ && files_->log_bytes() >= options_.checkpoint_log_bytes) {
    checkpoint_requested_ = true;
    work_cv_.notify_all();
  }
}

void EventStoreImpl::maybe_request_bulk_checkpoint_locked() {
  if (!files_ || bulk_checkpoint_rows_ == 0 || checkpoint_requested_ || bulk_checkpoint_requested_) return;
  uint64_t settled = 0;  // unwritten rows of the months the input has left
  uint64_t other = 0;    // of the months it is in
  for (const auto& [month, p] : partitions_) {
    uint64_t rows = 0;
    for (const auto& part : unwritten_parts_locked(*p)) rows += part->rows();
    (settled_locked(*p) ? settled : other) += rows;
  }
  const bool all_months = other >= kBulkCheckpointRowsAnyway * bulk_checkpoint_rows_;
  if (all_months || settled >= bulk_checkpoint_rows_) {
    bulk_checkpoint_requested_ = true;
    bulk_checkpoint_all_months_ = all_months;
    work_cv_.notify_all();
  }
}

absl::Status EventStoreImpl::run_requested_checkpoint() {
  if (background_.joinable()) return absl::OkStatus();  // the background thread runs it
  {
    MutexLock lock(&write_mu_);
    if (!checkpoint_requested_ && !bulk_checkpoint_requested_) return absl::OkStatus();
  }
  return requested_checkpoint();
}

absl::Status EventStoreImpl::requested_checkpoint() {
  MutexLock checkpointing(&checkpoint_mu_);
  return checkpoint_locked(CheckpointScope::kBuiltParts);
}

absl::Status EventStoreImpl::checkpoint() {
  MutexLock checkpointing(&checkpoint_mu_);
  return checkpoint_locked();
}

absl::Status EventStoreImpl::checkpoint_locked(CheckpointScope scope) {
  if (!files_) return absl::OkStatus();
  uint64_t log_number;
  uint64_t sequence_at_rotation = 0;
  std::vector<std::shared_ptr<const Part>> parts;
  std::vector<storage::PersistedRollup> rollups;
  storage::DictionaryCounts counts;
  bool rewrite_users;
  bool built_parts_only;
  bool bulk;
  std::vector<uint32_t> bulk_months;  // the months whose unwritten parts merge first
  {
    MutexLock lock(&write_mu_);
    if (!write_error_.ok()) return write_error_;
    built_parts_only = scope == CheckpointScope::kBuiltParts && bulk_ingests_ > 0 && !logged_since_rotation_;
    if (!built_parts_only) {
      seal_all_locked();
      // A rollup whose file turned out damaged when a section was read is
      // dropped: its parts get a new one below, written to a new file, and
      // the damaged file leaves with the MANIFEST that no longer names it.
      for (auto& [month, p] : partitions_) {
        std::vector<uint64_t> damaged;
        for (const CoveredRollup& e : p->rollups.entries()) {
          if (!e.rollup->damaged()) continue;
          damaged.insert(damaged.end(), e.parts.begin(), e.parts.end());
          if (e.rollup->origin() != 0) files_->mark_rollup_unusable(e.rollup->origin());
        }
        if (!damaged.empty()) p->rollups.remove_parts(damaged);
      }
      install_version_locked();
    }
    if (bulk_ingests_ > 0) {
      for (const auto& [month, p] : partitions_) {
        if (!built_parts_only || bulk_checkpoint_all_months_ || settled_locked(*p)) bulk_months.push_back(month);
      }
    }
  }
  // A bulk ingest writes each month as one part: the parts it has built
  // there merge first (the months it is still in wait, unless its input is
  // in no order; the final checkpoint merges them all, two at a time).
  if (!bulk_months.empty()) merge_unwritten_parts(bulk_months, /*two_threads=*/!built_parts_only);
  // The rollups of the partitions written to since they were built, which
  // the checkpoint persists with the parts (of a bulk ingest's kBuiltParts
  // checkpoint, of the months it writes).
  if (built_parts_only) {
    refresh_rollups(std::span<const uint32_t>(bulk_months));
  } else {
    refresh_rollups(/*warm_cache=*/false);
  }
  {
    MutexLock lock(&write_mu_);
    if (!write_error_.ok()) return write_error_;
    // An event logged meanwhile (another writer) must reach a part before
    // a new log replaces the one that holds it.
    built_parts_only = built_parts_only && bulk_ingests_ > 0 && !logged_since_rotation_;
    bulk = bulk_ingests_ > 0;
    if (built_parts_only) {
      // The parts hold every event of the logs before the current one (the
      // checkpoint that started it sealed them all) and, since, only
      // unlogged ones: the current log stays the one to replay.
      log_number = files_->log_number();
    } else {
      // Every event of the current log goes into a part, then new events go
      // to a new log: the parts and the new log together hold everything.
      seal_all_locked();
      install_version_locked();
      auto rotated = files_->rotate_log();
      if (!rotated.ok()) return stop_writes_locked(rotated.status());
      log_number = *rotated;
      logged_since_rotation_ = false;
      sequence_at_rotation = next_sequence_;
      synced_through_ = next_sequence_ - 1;  // rotate_log synced the log
    }
    for (const auto& [month, p] : partitions_) {
      for (const auto& part : p->parts) {
        // Of the parts not on disk yet, kBuiltParts writes those with their
        // rollup: one sealed since refresh_rollups() waits for the next
        // checkpoint, rather than be read back from its file for its rollup.
        if (built_parts_only && !p->rollups.covers(part->id()) && !files_->names_part(part->id())) continue;
        parts.push_back(part);
      }
      for (const CoveredRollup& e : p->rollups.entries()) {
        rollups.push_back(storage::PersistedRollup{month, e.rollup, e.parts});
      }
    }
    for (int c = 0; c < kDictionaryColumns; ++c) {
      counts.counts[c] = dictionaries_.get(static_cast<DictionaryColumn>(c)).size();
    }
    rewrite_users = users_erased_;
    checkpoint_requested_ = false;
    bulk_checkpoint_requested_ = false;
    bulk_checkpoint_all_months_ = false;
  }
  // A bulk ingest's final checkpoint stores the store's summary once the
  // files are written (store_summary, below): its merge of every month's
  // summary (bitmap unions, on one thread) is made meanwhile, into the
  // rollup cache where store_summary finds it, rather than after the files
  // with the other core idle (~3% of the 10M ingest's wall).
  std::thread summary_merge;
  if (!built_parts_only && bulk && rollups.size() >= 2 && std::thread::hardware_concurrency() >= 2) {
    summary_merge = std::thread([this, &rollups] {
      std::vector<const PartitionRollup*> merged;
      std::vector<PartitionRollup::Hold> holds;  // their summaries, while they are merged
      for (const storage::PersistedRollup& r : rollups) {
        merged.push_back(r.rollup.get());
        holds.push_back(r.rollup->hold());
      }
      rollup_cache_.summary(merged);
    });
  }
  // The slow part, while writers go on appending to the new log.
  absl::Status written = files_->checkpoint(log_number, parts, rollups, dictionaries_, counts, rewrite_users);
  if (summary_merge.joinable()) summary_merge.join();
  if (absl::Status s = std::move(written); !s.ok()) {
    // The parts sealed with the new log hold events of the old one, which
    // the MANIFEST still names: the next checkpoint must write them all.
    MutexLock lock(&write_mu_);
    if (!built_parts_only) logged_since_rotation_ = true;
    return s;
  }
  {
    MutexLock lock(&write_mu_);
    if (rewrite_users) users_erased_ = false;
    // The bulk ingests' events stored before the rotation are in part files
    // now. (Without a rotation, some are still in buffers.)
    while (!built_parts_only && !unlogged_.empty() && unlogged_.front() < sequence_at_rotation) unlogged_.pop_front();
  }
  // (A checkpoint of a bulk ingest's built parts writes a part of the
  // store: the summary waits for the checkpoint that writes them all.)
  if (!built_parts_only) store_summary(parts, rollups);
  if (bulk) {
    hand_rollups_to_files(std::move(rollups));
    hand_parts_to_cache(std::move(parts));
  }
  return absl::OkStatus();
}

void EventStoreImpl::hand_rollups_to_files(std::vector<storage::PersistedRollup> written) {
  const std::vector<std::shared_ptr<const PartitionRollup>> lazy = files_->lazy_rollups(written);
  {
    MutexLock lock(&write_mu_);
    bool replaced = false;
    for (size_t i = 0; i < written.size(); ++i) {
      if (lazy[i] == nullptr) continue;
      auto it = partitions_.find(written[i].month);
      // Absent from its partition: its parts were merged or rewritten since.
      if (it == partitions_.end()) continue;
      replaced = it->second->rollups.replace(written[i].rollup.get(), lazy[i]) || replaced;
    }
    if (replaced) install_version_locked();
  }
}

void EventStoreImpl::hand_parts_to_cache(std::vector<std::shared_ptr<const Part>> written) {
  const std::vector<std::shared_ptr<const Part>> twins = files_->lazy_twins(written, part_cache_);
  absl::flat_hash_map<const Part*, std::shared_ptr<const Part>> twin_of;
  for (size_t i = 0; i < written.size(); ++i) {
    if (twins[i] != nullptr) twin_of[written[i].get()] = twins[i];
  }
  if (twin_of.empty()) return;
  bool bulk_ingest = false;
  {
    MutexLock lock(&write_mu_);
    bulk_ingest = bulk_ingests_ > 0;
    bool replaced = false;
    for (auto& [month, p] : partitions_) {
      for (auto& part : p->parts) {
        // Absent: merged or rewritten since (its replacement is not on disk yet).
        auto it = twin_of.find(part.get());
        if (it == twin_of.end()) continue;
        part = it->second;
        replaced = true;
      }
    }
    // The resident parts are freed with the last Version that holds them:
    // this one's predecessor, or a query's (retired_).
    if (replaced) install_version_locked();
  }
  written.clear();
  trim_freed_memory(bulk_ingest);
}

void EventStoreImpl::store_summary(std::span<const std::shared_ptr<const Part>> parts,
                                   std::span<const storage::PersistedRollup> rollups) {
  // Only when the rollups hold every part (as after a bulk ingest or a
  // compaction), and the parts changed since it was last stored.
  std::vector<uint64_t> ids, covered;
  for (const auto& part : parts) ids.push_back(part->id());
  std::vector<const PartitionRollup*> merged;
  std::vector<PartitionRollup::Hold> holds;  // their summaries, while they are merged
  for (const storage::PersistedRollup& r : rollups) {
    covered.insert(covered.end(), r.parts.begin(), r.parts.end());
    merged.push_back(r.rollup.get());
    holds.push_back(r.rollup->hold());
  }
  std::sort(ids.begin(), ids.end());
  std::sort(covered.begin(), covered.end());
  if (ids.empty() || ids != covered) return;
  if (std::shared_ptr<const StoredSummary> stored = rollup_cache_.stored(); stored && stored->parts == ids) return;
  auto summary = std::make_shared<StoredSummary>();
  summary->parts = std::move(ids);
  std::sort(merged.begin(), merged.end(), [](const PartitionRollup* a, const PartitionRollup* b) {
    return a->month() < b->month();
  });
  if (merged.size() == 1) {
    summary->cells = count_summary(merged[0]->summary());
  } else {
    summary->cells = count_summary(*rollup_cache_.summary(merged));
  }
  // A rollup whose file turned out damaged read as empty: nothing stored.
  for (const PartitionRollup* r : merged) {
    if (r->damaged()) return;
  }
  // Derived data: a failure only costs the next new process the merge.
  if (files_->save_summary(*summary).ok()) rollup_cache_.set_stored(std::move(summary));
}

// ---- Reading ----------------------------------------------------------------

void EventStoreImpl::install_version_locked() {
  auto v = std::make_shared<Version>();
  v->partitions.reserve(partitions_.size());
  for (const auto& [month, p] : partitions_) {
    PartitionState state{month, p->parts, {}, p->buffer, p->rollups};
    for (const auto& [buffer, id] : p->sealing) state.sealing.push_back(buffer);
    v->partitions.push_back(std::move(state));
  }
  std::shared_ptr<const Version> old;
  {
    MutexLock lock(&version_mu_);
    old = std::exchange(version_, std::move(v));
  }
  // What only the old Version held (a merge's input parts and their
  // rollups, a sealed buffer) is freed here, after version_mu_ is released
  // so snapshot() never waits for it. A Version a query still reads goes to
  // retired_ for the background thread to free once the query is done
  // (take_unread_versions_locked), rather than the query's own thread at
  // its end: a large merge's inputs take milliseconds to free.
  if (old != nullptr && old.use_count() > 1 && background_.joinable()) {
    retired_.push_back(std::move(old));
    work_cv_.notify_all();
  }
}

std::vector<std::shared_ptr<const Version>> EventStoreImpl::take_unread_versions_locked() {
  std::vector<std::shared_ptr<const Version>> unread;
  // use_count() == 1: no query holds it, and none can get it any more.
  std::erase_if(retired_, [&](std::shared_ptr<const Version>& v) {
    if (v.use_count() > 1) return false;
    unread.push_back(std::move(v));
    return true;
  });
  return unread;
}

Snapshot EventStoreImpl::snapshot() const {
  std::shared_ptr<const Version> v;
  {
    ReaderMutexLock lock(&version_mu_);
    v = version_;
  }
  return Snapshot(&dictionaries_, std::move(v), &rollup_cache_);
}

void EventStoreImpl::note_query() const {
  // The first query of a store that has a background thread starts the
  // rollup builds (a store that is only written, like the CLI's ingest,
  // never pays for them).
  if (!queried_.exchange(true, std::memory_order_relaxed)) {
    // Under the lock, so the wake-up cannot fall between the background
    // thread's look at queried_ and its wait.
    MutexLock lock(&write_mu_);
    work_cv_.notify_all();
  }
}

namespace {

}  // namespace

// run(snapshot, query), or the error of a part file the query found damaged
// (Snapshot::pin: the query skipped that part, so its answer is not given).
// A rollup section found damaged (read as empty) is not an error: the
// query is asked again of a snapshot without that rollup, which answers
// from its parts (each time one rollup fewer: a few times at most).
template <typename Run, typename Query>
auto EventStoreImpl::answer(Run run, const Query& query) const -> decltype(run(std::declval<Snapshot>(), query)) {
  for (;;) {
    const Snapshot s = snapshot();
    auto result = run(s, query);
    USAGEDB_RETURN_IF_ERROR(s.status());
    if (!s.read_damaged_rollup()) return result;
  }
}

absl::StatusOr<QueryResult<UserFeatureUsageRow>> EventStoreImpl::user_feature_usage(
    const UserFeatureUsageQuery& query) const {
  note_query();
  return answer(run_user_feature_usage, query);
}

absl::StatusOr<QueryResult<FeatureUsageSummaryRow>> EventStoreImpl::feature_usage_summary(
    const FeatureUsageSummaryQuery& query) const {
  note_query();
  return answer(run_feature_usage_summary, query);
}

absl::StatusOr<QueryResult<FeatureUsageTimelineRow>> EventStoreImpl::feature_usage_timeline(
    const FeatureUsageTimelineQuery& query) const {
  note_query();
  return answer(run_feature_usage_timeline, query);
}

absl::StatusOr<QueryResult<FeatureAdoptionRow>> EventStoreImpl::feature_adoption(
    const FeatureAdoptionQuery& query) const {
  note_query();
  return answer(run_feature_adoption, query);
}

absl::StatusOr<QueryResult<ActiveUsersRow>> EventStoreImpl::active_users(const ActiveUsersQuery& query) const {
  note_query();
  return answer(run_active_users, query);
}

absl::StatusOr<QueryResult<FeatureRetentionRow>> EventStoreImpl::feature_retention(
    const FeatureRetentionQuery& query) const {
  note_query();
  return answer(run_feature_retention, query);
}

absl::StatusOr<QueryResult<FeatureFunnelRow>> EventStoreImpl::feature_funnel(const FeatureFunnelQuery& query) const {
  note_query();
  return answer(run_feature_funnel, query);
}

absl::StatusOr<QueryResult<PropertyBreakdownRow>> EventStoreImpl::property_breakdown(
    const PropertyBreakdownQuery& query) const {
  note_query();
  return answer(run_property_breakdown, query);
}

absl::StatusOr<QueryResult<VersionAdoptionRow>> EventStoreImpl::version_adoption(
    const VersionAdoptionQuery& query) const {
  note_query();
  return answer(run_version_adoption, query);
}

absl::StatusOr<std::vector<QuarantinedRow>> EventStoreImpl::quarantine() const {
  MutexLock lock(&write_mu_);
  return quarantine_;
}

absl::StatusOr<StoreStats> EventStoreImpl::stats() const {
  StoreStats s;
  MutexLock lock(&write_mu_);
  for (const auto& [month, p] : partitions_) {
    PartitionStats ps{.month = month, .parts = p->parts.size(), .dedup_memory_bytes = p->event_ids.memory_bytes()};
    for (const auto& part : p->parts) {
      ps.rows += part->rows();
      s.part_memory_bytes += part->memory_bytes();
    }
    for (const auto& [buffer, id] : p->sealing) {
      ps.unsealed_rows += buffer->size();
      s.buffer_memory_bytes += buffer->memory_bytes();
    }
    ps.unsealed_rows += p->buffer->size();
    ps.rows += ps.unsealed_rows;
    s.buffer_memory_bytes += p->buffer->memory_bytes();
    s.dedup_memory_bytes += ps.dedup_memory_bytes;
    for (const CoveredRollup& e : p->rollups.entries()) s.rollup_memory_bytes += e.rollup->memory_bytes();
    s.rows += ps.rows;
    s.parts += ps.parts;
    s.partitions.push_back(ps);
  }
  s.quarantined_rows = quarantine_.size();
  s.users = dictionaries_.user.size();
  s.features = dictionaries_.feature.size();
  s.versions = dictionaries_.version.size();
  s.event_types = dictionaries_.event_type.size();
  s.sessions = dictionaries_.session.size();
  if (files_) s.sessions = std::max<uint64_t>(s.sessions, files_->deferred_session_codes());
  for (int c = 0; c < kDictionaryColumns; ++c) {
    s.dictionary_memory_bytes += dictionaries_.get(static_cast<DictionaryColumn>(c)).memory_bytes();
  }
  s.rollup_memory_bytes += rollup_cache_.memory_bytes();
  s.cache_budget_bytes = part_cache_->budget();
  s.cache_part_bytes = part_cache_->bytes();
  s.cache_rollup_bytes = part_cache_->charged();
  s.cache_part_evictions = part_cache_->evictions();
  s.cache_rollup_drops = part_cache_->drops();
  s.write_groups = group_counts_.groups;
  s.write_group_calls = group_counts_.calls;
  s.write_group_events = group_counts_.events;
  s.write_syncs = group_counts_.syncs;
  s.write_synced_events = group_counts_.synced_events;
  s.write_group_sizes.assign(group_counts_.sizes.begin(), group_counts_.sizes.end());
  s.memory_bytes = s.part_memory_bytes + s.buffer_memory_bytes + s.dedup_memory_bytes + s.dictionary_memory_bytes +
                   s.rollup_memory_bytes;
  if (files_) files_->add_stats(&s);
  return s;
}

}  // namespace usagedb
