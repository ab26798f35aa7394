// EventStoreImpl: the engine behind usagedb::EventStore.
//
// Writers (record_event(s), ingest*) serialize on write_mu_: they append the
// batch to the write-ahead log (durable stores), dedup, encode strings
// through the store-wide dictionaries and append rows to the partition's
// AppendBuffer. A full buffer is frozen and handed to the background (seal)
// thread, which sorts it into an immutable Part with its rollup (so the
// writer's core keeps ingesting) and runs checkpoints when the log grows
// (StoreFiles writes the parts, dictionaries, rollups and MANIFEST); a
// second thread merges small parts MergeTree-style, each merged part with
// its rollup (lib/rollup/rollup_set.h).
//
// Readers never take write_mu_: a query copies the current Version under
// version_mu_ (a pointer copy) and reads parts and published buffer rows
// without locks, so queries neither block writers nor each other.
//
// record_event(s) and flush() go through a writer queue first (group commit,
// as leveldb's DBImpl::Write): the writer at its head takes the batches
// queued behind it and, under write_mu_, appends their log records, fsyncs
// once for all of them (Options::sync, or a flush() among them) and applies
// them, while the next callers queue up for the next group.
//
// Lock order: checkpoint_mu_, then write_mu_, then version_mu_ (the writer
// queue takes no lock).
//
// Thread-safety: safe for concurrent use (see usagedb/event_store.h).
#ifndef USAGEDB_DB_EVENT_STORE_IMPL_H_
#define USAGEDB_DB_EVENT_STORE_IMPL_H_

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <functional>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <optional>
#include <set>
#include <span>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/btree_map.h"
#include "lib/ingest/parsed_batch.h"
#include "lib/query/snapshot.h"
#include "lib/rollup/rollup_cache.h"
#include "lib/rollup/rollup_set.h"
#include "lib/storage/file_system.h"
#include "lib/storage/store_files.h"
#include "lib/table/append_buffer.h"
#include "lib/table/dedup_index.h"
#include "lib/util/mutex.h"
#include "usagedb/event_store.h"

namespace usagedb {

// What the file ingest's parser threads computed for each event of a batch
// while its strings were in their core's cache, so the writer does not read
// them again: the dictionary codes (encode_rows), the hash of the event_id
// (DedupIndex::hash) and of the metadata (AppendBuffer::metadata_hash).
struct Precoded {
  const RowCodes* codes;
  const uint64_t* id_hashes;
  const uint64_t* metadata_hashes;
};

class EventStoreImpl final : public EventStore {
 public:
  // EventStore::open with a FileSystem (tests inject faults through it).
  static absl::StatusOr<std::unique_ptr<EventStoreImpl>> open(const Options& options, storage::FileSystem* fs);
  ~EventStoreImpl() override;

  absl::Status record_event(const Event& event) override;
  absl::StatusOr<IngestReport> record_events(std::span<const Event> events) override;
  absl::StatusOr<IngestReport> ingest(std::string_view text, const IngestOptions& options) override;
  absl::StatusOr<IngestReport> ingest_file(const std::string& path, const IngestFileOptions& options) override;
  absl::StatusOr<IngestReport> ingest_stream(const InputSource& read, const IngestStreamOptions& options) override;
  absl::Status flush() override;

  absl::StatusOr<std::vector<QuarantinedRow>> quarantine() const override;
  absl::StatusOr<uint64_t> clear_quarantine() override;

  absl::Status compact() override;
  absl::StatusOr<uint64_t> drop_partitions_before(uint32_t yyyymm) override;
  absl::StatusOr<uint64_t> delete_user(std::string_view user_id) override;
  absl::StatusOr<StoreStats> stats() const override;

  absl::Status scan_events(const ScanOptions& options, const EventPageVisitor& visit) const override;
  absl::StatusOr<EventFeedPage> read_feed(uint64_t after_sequence, size_t max_events) override;
  absl::StatusOr<uint64_t> load_cursor(std::string_view name) const override;
  absl::Status save_cursor(std::string_view name, uint64_t sequence) override;

  absl::StatusOr<QueryResult<UserFeatureUsageRow>> user_feature_usage(
      const UserFeatureUsageQuery& query) const override;
  absl::StatusOr<QueryResult<FeatureUsageSummaryRow>> feature_usage_summary(
      const FeatureUsageSummaryQuery& query) const override;
  absl::StatusOr<QueryResult<FeatureUsageTimelineRow>> feature_usage_timeline(
      const FeatureUsageTimelineQuery& query) const override;
  absl::StatusOr<QueryResult<FeatureAdoptionRow>> feature_adoption(const FeatureAdoptionQuery& query) const override;
  absl::StatusOr<QueryResult<ActiveUsersRow>> active_users(const ActiveUsersQuery& query) const override;
  absl::StatusOr<QueryResult<FeatureRetentionRow>> feature_retention(
      const FeatureRetentionQuery& query) const override;
  absl::StatusOr<QueryResult<FeatureFunnelRow>> feature_funnel(const FeatureFunnelQuery& query) const override;
  absl::StatusOr<QueryResult<PropertyBreakdownRow>> property_breakdown(
      const PropertyBreakdownQuery& query) const override;
  absl::StatusOr<QueryResult<VersionAdoptionRow>> version_adoption(const VersionAdoptionQuery& query) const override;

  // The view a query reads: every event recorded before this call.
  Snapshot snapshot() const ABSL_LOCKS_EXCLUDED(version_mu_);
  // After a checkpoint of `parts` and `rollups`: stores the summary of all
  // parts (lib/storage/summary_file.h) when the rollups hold every part.
  void store_summary(std::span<const std::shared_ptr<const Part>> parts,
                     std::span<const storage::PersistedRollup> rollups);
  // run(snapshot(), query), asked again without the rollups it found
  // damaged.
  template <typename Run, typename Query>
  auto answer(Run run, const Query& query) const -> decltype(run(std::declval<Snapshot>(), query));
  // The session dictionary's strings are read on first use: a write, an
  // export or the feed (StoreFiles::load_sessions); queries never need them.
  // Before it returns OK, snapshot().dictionaries().session may be empty.
  absl::Status ensure_sessions() const ABSL_LOCKS_EXCLUDED(sessions_mu_);

  // Writes every event recorded so far into part files and starts a new
  // write-ahead log (a no-op in memory).
  absl::Status checkpoint() ABSL_LOCKS_EXCLUDED(checkpoint_mu_, write_mu_);

  // Waits until the background thread has nothing left to do (tests).
  void wait_for_background_work() ABSL_LOCKS_EXCLUDED(write_mu_);

  // Builds the rollups of the parts none covers (checkpoints and compact()
  // do this; the background thread does it as soon as it finds one), then,
  // with `warm_cache`, merges the summary of all months for the next query.
  void refresh_rollups(bool warm_cache = true) ABSL_LOCKS_EXCLUDED(write_mu_);
  // refresh_rollups() of `months` only, without warming the cache.
  void refresh_rollups(std::span<const uint32_t> months) ABSL_LOCKS_EXCLUDED(write_mu_);

 private:
  explicit EventStoreImpl(const Options& options);

  // The writer's state of one monthly partition.
  struct PartitionWriter {
    uint32_t month = 0;
    std::vector<std::shared_ptr<const Part>> parts;
    // Full buffers whose parts are being built, oldest first, each with the
    // part id it will get.
    std::vector<std::pair<std::shared_ptr<const AppendBuffer>, uint64_t>> sealing;
    std::shared_ptr<AppendBuffer> buffer;
    DedupIndex event_ids;
    // False after a reopen until the partition is first written: event_ids
    // is then built from its parts (ensure_event_ids_locked), so opening a
    // store does not index the ids of months nobody writes to any more.
    bool event_ids_ready = true;
    // During a bulk ingest: event_ids was released when the input left the
    // month and rebuilt for a late event since; kept until the ingest ends,
    // so a trickle of late events rebuilds it once, not once per event.
    bool event_ids_pinned = false;
    // The rollups of its parts (lib/rollup/rollup_set.h).
    RollupSet rollups;
    // The number of rows appended to the store up to the last one appended
    // here (EventStoreImpl::appended_rows_ counts them all).
    uint64_t last_append = 0;

    uint64_t part_rows() const {
      uint64_t n = 0;
      for (const auto& part : parts) n += part->rows();
      return n;
    }
    uint64_t sealing_rows() const {
      uint64_t n = 0;
      for (const auto& [buffer, id] : sealing) n += buffer->size();
      return n;
    }
    // Parts no rollup covers.
    std::vector<std::shared_ptr<const Part>> uncovered_parts() const {
      std::vector<std::shared_ptr<const Part>> out;
      for (const auto& part : parts) {
        if (!rollups.covers(part->id())) out.push_back(part);
      }
      return out;
    }
  };

  // A part and its rollup, built together (the rollup may be null only for
  // parts that maintenance rewrites; the background thread covers those).
  struct BuiltPart {
    std::shared_ptr<const Part> part;
    std::shared_ptr<const PartitionRollup> rollup;
  };

  // A unit of background work.
  struct SealTask {
    uint32_t month;
    std::shared_ptr<const AppendBuffer> buffer;
    uint64_t part_id;
    bool with_rollup;
  };
  struct MergeTask {
    uint32_t month;
    std::vector<std::shared_ptr<const Part>> inputs;
  };

  // The zeros a store with Options::sync keeps written ahead of its log's
  // records (storage::LogWriter::zero_fill_ahead): ~7,000 small events; the
  // fsync after each fill writes them and commits the log's new size once.
  static constexpr uint64_t kSyncedLogZeroFill = 1 << 20;

  // ---- Recovery (event_store_impl.cc) ----
  absl::Status recover(storage::FileSystem* fs);

  // ---- The writer queue (event_store_impl.cc) ----
  // One record_events() or flush() call waiting in the queue: a node of an
  // intrusive list that callers join with one atomic exchange (as an MCS
  // lock's queue), with no lock: the queue's mutex and condition variables
  // were the writers' contention (futex waits and wake-ups under the lock,
  // bench/RESULTS.md).
  struct QueuedWrite {
    std::span<const Event> events;  // empty for a flush()
    std::string record;             // the events' log record (durable stores)
    // DedupIndex::hash of each event's event_id, hashed on the caller's
    // thread (when the store deduplicates).
    std::vector<uint64_t> id_hashes;
    bool sync = false;              // durable before the call returns
    absl::StatusOr<IngestReport> result;
    // The write queued behind this one, linked by its caller right after
    // it joined the queue.
    std::atomic<QueuedWrite*> next{nullptr};
    // kQueued, then kDone (a group holding it is done: `result` is set) or
    // kLead (it heads the queue); kSleeping while its caller sleeps in
    // a futex wait on it, so whoever changes it knows to wake it.
    std::atomic<uint32_t> state{0};
  };
  static constexpr uint32_t kQueued = 0, kSleeping = 1, kDone = 2, kLead = 3;
  // The QueuedWrite of a call: its thread's, reused from call to call (its
  // record's buffer is allocated once per thread, not once per call: malloc
  // and free were a tenth of a writer's CPU), or one of its own should a
  // call run inside another. Nodes are never freed, only handed back to a
  // process-wide pool when their thread exits: a leader may still wake a
  // node (a futex wake of its state) after its caller has seen
  // kDone and returned.
  class ThreadWrite {
   public:
    ThreadWrite();
    ~ThreadWrite();
    ThreadWrite(const ThreadWrite&) = delete;
    ThreadWrite& operator=(const ThreadWrite&) = delete;
    QueuedWrite& write() { return *write_; }

    // A node from the pool (a new one when it is empty), and back.
    static QueuedWrite* take_node();
    static void give_node(QueuedWrite* node);

   private:
    QueuedWrite* write_ = nullptr;
    bool* busy_ = nullptr;  // the thread's flag, when write_ is its QueuedWrite
  };
  // Queues `w` and returns its result once a group holding it is done: the
  // caller leads the group when it reaches the head of the queue.
  absl::StatusOr<IngestReport> commit(QueuedWrite& w) ABSL_LOCKS_EXCLUDED(write_mu_);
  // Waits (looks `spins` times, pausing between looks, then sleeps) until
  // `w` leaves kQueued: kDone or kLead.
  static uint32_t await_turn(QueuedWrite& w, int spins);
  // Moves `w` to `state` (kDone or kLead), waking its caller if it sleeps.
  static void release_write(QueuedWrite& w, uint32_t state);
  // Logs, fsyncs (once, when any of them asks) and applies a group.
  void write_group_locked(std::span<QueuedWrite* const> group) ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);

  // ---- Writing (event_store_impl.cc, ingest.cc) ----
  // Whether events go through the write-ahead log before they are applied.
  // kBulk skips it for large file ingests, which end with a checkpoint that
  // writes their events straight into part files instead.
  enum class Logging { kLogged, kBulk };
  // Logs (durable stores) and stores validated events, numbered from
  // next_sequence_ (docs/STORAGE.md, "The arrival sequence"). REQUIRES:
  // write_mu_. `precoded`, when given, holds each event's codes and hashes.
  absl::StatusOr<IngestReport> write_locked(std::span<const Event> events, Logging logging,
                                            const Precoded* precoded = nullptr) ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  // ingest_file's work on an open input (a file, or ingest()'s text through
  // fmemopen): `total_bytes` of it when `size_known`.
  absl::StatusOr<IngestReport> ingest_stream(FILE* file, const std::string& source, uint64_t total_bytes,
                                             bool size_known, InputFormat format,
                                             const std::function<void(uint64_t, uint64_t)>& progress)
      ABSL_LOCKS_EXCLUDED(write_mu_);
  // Stores a parsed chunk: its events as write_locked, its rejected rows in
  // the quarantine (logged when durable).
  absl::StatusOr<IngestReport> store_batch(const ParsedBatch& batch, std::string_view source, Logging logging,
                                           const Precoded* precoded = nullptr) ABSL_LOCKS_EXCLUDED(write_mu_);
  // ingest_file and ingest_stream: the input pulled from `read` through the
  // chunk pipeline, `size_hint` bytes long when known (0: unknown), durable
  // when it returns. Errors of the input and of its chunks are prefixed with
  // `error_prefix` ("" for none).
  absl::StatusOr<IngestReport> ingest_pipelined(const InputSource& read, InputFormat format, std::string_view source,
                                                std::string_view error_prefix, uint64_t size_hint,
                                                const std::function<void(uint64_t, uint64_t)>& progress)
      ABSL_LOCKS_EXCLUDED(write_mu_);
  // Records `failure` of the write-ahead log, the quarantine log or their
  // sync as the store's write_error_ (with what it means and what to do)
  // and returns it. REQUIRES: write_mu_ held.
  absl::Status stop_writes_locked(const absl::Status& failure) ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  // Makes every dictionary ready for interning (the session dictionary
  // builds its index on the first write after a reopen) before anything is
  // logged. A dictionary found to hold a string twice (damaged files) stops
  // writes for good: write_error_ becomes its DataLossError, which names it.
  absl::Status prepare_dictionaries_locked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  // Stores validated events in memory, event i numbered first_sequence + i,
  // with their codes and hashes from `precoded` when given; with
  // `duplicate`, sets (*duplicate)[i] to 1 for each events[i] dropped as a
  // duplicate, 0 for the others. REQUIRES: write_mu_ held; first_sequence
  // above every number appended before.
  // `id_hashes`, when given without `precoded`, holds each event's
  // DedupIndex::hash of its event_id (any value for an event without one).
  IngestReport append_locked(std::span<const Event> events, uint64_t first_sequence,
                             const Precoded* precoded = nullptr, std::vector<uint8_t>* duplicate = nullptr,
                             const uint64_t* id_hashes = nullptr) ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  // Asks the CPU for the dedup index slots the group's events will probe
  // first, so the misses overlap one another and the log append.
  void prefetch_dedup_slots_locked(std::span<QueuedWrite* const> group) ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  // The highest number through which every event stored is durable once
  // the log is synced: all of them but those of bulk ingests (unlogged_)
  // that no checkpoint has written yet. REQUIRES: write_mu_.
  uint64_t durable_sequence_locked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  PartitionWriter& partition_locked(uint32_t month, bool* created) ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  // Builds p.event_ids from its rows when it is not ready (see above).
  // The DataLossError of a damaged part file of the partition (a lazy part
  // is read here): the index is then left unbuilt.
  absl::Status ensure_event_ids_locked(PartitionWriter& p) ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  // ensure_event_ids_locked() for the partitions `events` write to, before
  // any of them is logged or applied.
  absl::Status prepare_event_ids_locked(std::span<const Event> events) ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  // Frees the dedup index of every partition but the newest month: a bulk
  // file ingest is done with the months it loaded, and the end of it (the
  // checkpoint that builds the rollups) is its peak of memory. A month
  // written again rebuilds its index from its rows, as after a reopen.
  void release_event_ids_locked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  // Frees `p`'s dedup index (ensure_event_ids_locked rebuilds it from the
  // partition's rows when the month is written again); true when it held
  // any. The caller gives the memory back (trim_freed_memory).
  static bool release_partition_ids(PartitionWriter& p);
  // Returns the heap pages freed indexes leave mapped to the system; not
  // during a bulk ingest (`bulk_ingest`) when malloc has one arena.
  static void trim_freed_memory(bool bulk_ingest);
  std::shared_ptr<AppendBuffer> new_buffer() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  // Sealed buffers of one partition that may wait for the background
  // thread (seal_locked).
  static constexpr size_t kSealsQueuedPerPartition = 2;
  // Rows of an append buffer outside bulk ingests: part_rows, at most
  // max_unrolled_rows shared among the active buffer and the queued ones.
  static uint32_t live_buffer_rows(const Options& options);
  // Publishes a Version built from the writers' state.
  void install_version_locked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_) ABSL_LOCKS_EXCLUDED(version_mu_);
  // Removes from retired_ the Versions no query reads any more, for the
  // caller to free after it releases write_mu_.
  std::vector<std::shared_ptr<const Version>> take_unread_versions_locked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  // Asks for a checkpoint when the log has grown past the threshold.
  void maybe_request_checkpoint_locked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  // Runs a requested checkpoint on the calling thread when there is no
  // background thread to run it.
  absl::Status run_requested_checkpoint() ABSL_LOCKS_EXCLUDED(checkpoint_mu_, write_mu_);
  // What a checkpoint writes. kAll: every event stored (every buffer is
  // sealed, a new log started). kBuiltParts, asked for during a bulk ingest
  // (bulk_checkpoint_rows_): the parts built so far, their rollups and the
  // dictionaries, with the buffers left to fill and the log kept, when no
  // event has been logged since the last log was started (the parts then
  // hold only unlogged events, which no log replays); kAll otherwise.
  enum class CheckpointScope { kAll, kBuiltParts };
  // The requested checkpoint (the background threads', or
  // run_requested_checkpoint's): kBuiltParts.
  absl::Status requested_checkpoint() ABSL_LOCKS_EXCLUDED(checkpoint_mu_, write_mu_);
  // checkpoint() with checkpoint_mu_ already held. During a bulk ingest, the
  // parts written are handed to the part cache (hand_parts_to_cache).
  absl::Status checkpoint_locked(CheckpointScope scope = CheckpointScope::kAll)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(checkpoint_mu_) ABSL_LOCKS_EXCLUDED(write_mu_);
  // Replaces each of `written` (parts a checkpoint just wrote) that is still
  // in its partition by its lazy twin (StoreFiles::lazy_twins), so its
  // columns leave memory once no query reads them, and are read back from
  // the file when a merge, a late event's dedup or a query needs them.
  void hand_parts_to_cache(std::vector<std::shared_ptr<const Part>> written) ABSL_LOCKS_EXCLUDED(write_mu_);
  // Replaces each of `written` (rollups a checkpoint just wrote) that is
  // still in its partition by the rollup of its file (StoreFiles::
  // lazy_rollups), so it leaves memory and its sections are read back when
  // a query (or the stored summary's merge) needs them.
  void hand_rollups_to_files(std::vector<storage::PersistedRollup> written) ABSL_LOCKS_EXCLUDED(write_mu_);
  // Asks for a kBuiltParts checkpoint when the parts not on disk yet hold
  // enough rows (bulk_checkpoint_rows_).
  void maybe_request_bulk_checkpoint_locked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);

  // ---- Parts (background.cc) ----
  // Freezes the partition's full buffer: queued for the background thread,
  // or sorted into a part right here when there is no background thread or
  // it is already behind.
  void seal_locked(PartitionWriter& p) ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  // Seals every non-empty buffer and builds every queued part, inline.
  void seal_all_locked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  // A sealed buffer's part and, `with_rollup`, its rollup. A bulk ingest
  // builds its parts without: their rollups are built by the checkpoints
  // that write them (as it goes, and when it ends; refresh_rollups in
  // memory), not on the seal thread that keeps up with the parser threads.
  BuiltPart build_part(const AppendBuffer& buffer, uint64_t id, uint32_t month, bool with_rollup) const;
  // The merge of `inputs` and, `with_rollup`, its rollup.
  // The DataLossError of a damaged (lazy) input, whose id then goes to
  // unreadable_parts_.
  absl::StatusOr<BuiltPart> merge_parts(const std::vector<std::shared_ptr<const Part>>& inputs, uint64_t id,
                                        uint32_t month, bool with_rollup) ABSL_LOCKS_EXCLUDED(write_mu_);
  // Adds a built part and its rollup to `p`.
  static void add_part(PartitionWriter& p, BuiltPart built);
  // Replaces `inputs` by `merged` in partition `month`, and their rollups by
  // its rollup; false (and no change) when the partition or any input is
  // gone.
  bool install_merge_locked(uint32_t month, const std::vector<std::shared_ptr<const Part>>& inputs,
                            BuiltPart merged) ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  std::optional<MergeTask> pick_merge_locked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  // During a bulk ingest: the input has left the month (no row appended to
  // it for idle_seal_rows_) and its buffers are all sealed into parts.
  bool settled_locked(const PartitionWriter& p) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  // The parts of `p` not written to the store's files yet (of an in-memory
  // store: every part).
  std::vector<std::shared_ptr<const Part>> unwritten_parts_locked(const PartitionWriter& p) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  // A bulk ingest's one part a month: merges the unwritten parts of each of
  // `months` into one, whatever their tiers (two months at a time with
  // `two_threads`), before a checkpoint builds their rollups and writes
  // them. The parts built while the input was in the month are merged once,
  // when it leaves (or the ingest ends), and written once; each time the
  // input comes back to a month it has left, the month gets one more part
  // (merged likewise), left to the merge policy once the ingest ends.
  void merge_unwritten_parts(std::span<const uint32_t> months, bool two_threads) ABSL_LOCKS_EXCLUDED(write_mu_);
  // A partition with parts no rollup covers (rewritten by delete_user, or
  // read from a store without their rollup files).
  std::optional<uint32_t> pick_rollup_locked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  // Builds the rollup of each part of partition `month` that no rollup
  // covers (outside the lock) and installs those whose parts are still
  // there and uncovered; false when there was nothing to install.
  bool refresh_rollup(uint32_t month) ABSL_LOCKS_EXCLUDED(write_mu_);
  // Merges into the cache the summary of the rollups a multi-month query
  // starts from: with `all`, every rollup; otherwise each partition's
  // settled ones (its largest, and those at least a quarter of its size),
  // to which queries add the few new ones while writes go on.
  void warm_rollup_cache(bool all = true) const ABSL_LOCKS_EXCLUDED(version_mu_);
  size_t sealing_count_locked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  uint64_t new_part_id() ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  void background_loop();
  void merge_loop();

  const Options options_;
  Dictionaries dictionaries_;
  std::unique_ptr<storage::StoreFiles> files_;  // null for an in-memory store

  // Held for a whole checkpoint and for maintenance that must be durable
  // when it returns (compact, delete_user, retention, clearing the quarantine).
  Mutex checkpoint_mu_ ABSL_ACQUIRED_BEFORE(write_mu_);

  // The writer queue's last node (null: empty). Joining it is one exchange;
  // the caller that finds it empty leads the next group.
  std::atomic<QueuedWrite*> queue_tail_{nullptr};
  // The size of the last group: read and written by group leaders only (one
  // at a time: leadership passes with a release/acquire on the next
  // leader's state, or through queue_tail_).
  size_t last_group_size_ = 0;
  // A group's events and their duplicate flags (write_group_locked).
  std::vector<Event> group_events_ ABSL_GUARDED_BY(write_mu_);
  std::vector<uint8_t> group_duplicate_ ABSL_GUARDED_BY(write_mu_);
  std::vector<uint64_t> group_id_hashes_ ABSL_GUARDED_BY(write_mu_);
  // StoreStats' write_* counters: the groups applied since the store opened.
  struct GroupCounts {
    uint64_t groups = 0, calls = 0, events = 0, syncs = 0, synced_events = 0;
    std::array<uint64_t, StoreStats::kWriteGroupSizes> sizes{};
  };
  GroupCounts group_counts_ ABSL_GUARDED_BY(write_mu_);

  mutable Mutex write_mu_ ABSL_ACQUIRED_BEFORE(version_mu_);
  absl::btree_map<uint32_t, std::unique_ptr<PartitionWriter>> partitions_ ABSL_GUARDED_BY(write_mu_);
  uint64_t next_part_id_ ABSL_GUARDED_BY(write_mu_) = 1;  // in-memory stores
  // Rows of a new append buffer: live_buffer_rows(), more during a bulk
  // ingest (bigger first parts, fewer merges).
  uint32_t buffer_rows_ ABSL_GUARDED_BY(write_mu_);
  // Rows appended since the store opened.
  uint64_t appended_rows_ ABSL_GUARDED_BY(write_mu_) = 0;
  // During a bulk file ingest: a partition's buffer that has received no row
  // for this many rows appended elsewhere is sealed without waiting to be
  // full (input ordered by time moves on from a month for good, and its
  // rows become one part early, sorted while the rest is parsed). 0: never.
  uint64_t idle_seal_rows_ ABSL_GUARDED_BY(write_mu_) = 0;
  // During a bulk file ingest: the most rows all buffers may hold together;
  // past it, the largest is sealed (input not ordered by time fills every
  // month's buffer at once, and a buffer and its part coexist while the
  // final checkpoint seals them). 0: no limit.
  uint64_t unsealed_rows_limit_ ABSL_GUARDED_BY(write_mu_) = 0;
  // During a bulk ingest of a durable store: once the months the input has
  // left (settled_locked) hold this many rows not on disk yet, a kBuiltParts
  // checkpoint merges each such month's unwritten parts into one, writes it,
  // its rollup and the dictionaries' new codes, and hands them to the part
  // cache; once the other months hold kBulkCheckpointRowsAnyway times as many
  // (input in no order leaves no month), it does so for every month. The
  // ingest's memory is bounded by its buffers and the months it is in, not
  // by what it has stored. 0: never.
  uint64_t bulk_checkpoint_rows_ ABSL_GUARDED_BY(write_mu_) = 0;
  // In bulk buffers (~12.6M rows): well above a month of a 100M-event year
  // (~8.4M rows; the month just left counts too until its last part is
  // built), so input ordered by time never writes a month it is still in
  // (which would leave it two parts); input in no order holds at most this
  // many rows of parts before they are written.
  static constexpr uint64_t kBulkCheckpointRowsAnyway = 12;
  // An event was logged since the current log was started (or replayed from
  // the logs at open): a checkpoint must then seal it into a part and start
  // a new log (CheckpointScope::kAll).
  bool logged_since_rotation_ ABSL_GUARDED_BY(write_mu_) = false;
  // Bulk file ingests running: the last one to end restores the buffers.
  int bulk_ingests_ ABSL_GUARDED_BY(write_mu_) = 0;
  // The arrival sequence (docs/STORAGE.md): the number the next event gets.
  uint64_t next_sequence_ ABSL_GUARDED_BY(write_mu_) = 1;
  // The first number of each batch stored without the log (a bulk ingest)
  // that no completed checkpoint holds yet, ascending: not durable.
  std::deque<uint64_t> unlogged_ ABSL_GUARDED_BY(write_mu_);
  // Every logged event numbered up to this is synced to disk.
  uint64_t synced_through_ ABSL_GUARDED_BY(write_mu_) = 0;
  // An in-memory store's cursors (a durable store keeps them in files).
  absl::flat_hash_map<std::string, uint64_t> memory_cursors_ ABSL_GUARDED_BY(write_mu_);
  // Held shared while a reader of events (scan_events, read_feed) turns the
  // user codes of parts into strings without write_mu_, and exclusively
  // (with write_mu_) while delete_user erases one: Dictionary::lookup must
  // not race with erase.
  mutable Mutex user_strings_mu_ ABSL_ACQUIRED_AFTER(write_mu_);
  std::vector<QuarantinedRow> quarantine_ ABSL_GUARDED_BY(write_mu_);
  // The first failure to write the log: the store stops accepting writes
  // (reads continue) until it is reopened and recovers from the files.
  absl::Status write_error_ ABSL_GUARDED_BY(write_mu_);
  // prepare_dictionaries_locked() succeeded.
  bool dictionaries_ready_ ABSL_GUARDED_BY(write_mu_) = false;
  mutable Mutex sessions_mu_;
  mutable bool sessions_loaded_ ABSL_GUARDED_BY(sessions_mu_) = false;
  bool checkpoint_requested_ ABSL_GUARDED_BY(write_mu_) = false;
  // A kBuiltParts checkpoint is asked for (maybe_request_bulk_checkpoint_locked):
  // the merge thread runs it, so the seal thread goes on sealing the
  // ingest's buffers meanwhile (a writer that finds it behind seals on its
  // own thread, and the parser threads then wait for the writer).
  bool bulk_checkpoint_requested_ ABSL_GUARDED_BY(write_mu_) = false;
  // The requested kBuiltParts checkpoint writes every month, not only the
  // settled ones (kBulkCheckpointRowsAnyway).
  bool bulk_checkpoint_all_months_ ABSL_GUARDED_BY(write_mu_) = false;
  // A user was erased since the last checkpoint: the next one rewrites the
  // user dictionary so the erased strings leave the disk.
  bool users_erased_ ABSL_GUARDED_BY(write_mu_) = false;
  // What the store held when open() ended, and whether anything changed
  // since in a way that no checkpoint has made durable (a replayed log, a
  // dropped month): a store that wrote nothing does not checkpoint when it
  // closes (wrote_since_open_locked()).
  uint64_t sequence_at_open_ ABSL_GUARDED_BY(write_mu_) = 0;
  size_t quarantine_at_open_ ABSL_GUARDED_BY(write_mu_) = 0;
  bool changed_ ABSL_GUARDED_BY(write_mu_) = false;
  // append_locked woke the merge thread for the process's first write.
  bool merges_released_ ABSL_GUARDED_BY(write_mu_) = false;
  bool wrote_since_open_locked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_) {
    return changed_ || users_erased_ || next_sequence_ != sequence_at_open_ ||
           quarantine_.size() != quarantine_at_open_;
  }
  // Background thread state.
  mutable std::condition_variable_any work_cv_;  // waits on write_mu_
  bool stopping_ ABSL_GUARDED_BY(write_mu_) = false;
  bool busy_ ABSL_GUARDED_BY(write_mu_) = false;     // the seal thread is working outside the lock
  bool merging_ ABSL_GUARDED_BY(write_mu_) = false;  // the merge thread is
  // When events were last appended (rollups are rebuilt once writes pause),
  // by coarse_now().
  std::chrono::steady_clock::time_point last_write_ ABSL_GUARDED_BY(write_mu_);
  // steady_clock::now() to the kernel's tick (CLOCK_MONOTONIC_COARSE, the
  // same clock, a few ms behind at most): every group of writes reads it,
  // and a precise read (a pvclock read on this VM) was 1.2% of the CPU of
  // 4 unsynced writers (perf, bench/RESULTS.md).
  static std::chrono::steady_clock::time_point coarse_now();
  // Rollups were installed since the rollup cache was last warmed, and when
  // that was.
  bool rollups_changed_ ABSL_GUARDED_BY(write_mu_) = false;
  // Lazy parts whose file a merge or a rollup build found damaged: neither
  // picks them again (queries that read them report the damage).
  std::set<uint64_t> unreadable_parts_ ABSL_GUARDED_BY(write_mu_);
  std::chrono::steady_clock::time_point last_warm_ ABSL_GUARDED_BY(write_mu_);
  std::thread background_;  // seals, checkpoints, rollups of uncovered parts, the summary cache
  std::thread merger_;      // merges

  mutable RollupCache rollup_cache_;
  // The lazy parts read from part files (Options::cache_bytes).
  const std::shared_ptr<PartCache> part_cache_;
  // A query has run: the background thread keeps rollups up to date.
  mutable std::atomic<bool> queried_{false};
  void note_query() const;

  mutable Mutex version_mu_;
  std::shared_ptr<const Version> version_ ABSL_GUARDED_BY(version_mu_);
  // Versions replaced while a query was reading them: the background thread
  // frees them (and what only they hold) once no query does.
  std::vector<std::shared_ptr<const Version>> retired_ ABSL_GUARDED_BY(write_mu_);
};

}  // namespace usagedb

#endif  // USAGEDB_DB_EVENT_STORE_IMPL_H_
