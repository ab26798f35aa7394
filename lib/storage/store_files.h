// StoreFiles: the files of a durable store and the protocols that keep them
// consistent: recovery on open, the write-ahead log, checkpoints, and the
// quarantine log. EventStoreImpl decides what to persist and when; this
// class knows where it goes and in which order, so a crash at any point
// leaves a directory that opens to a consistent store.
//
// The files of a store directory and their names: store_file_names.h. The
// code is in three files: store_files.cc (opening, the logs, the
// quarantine, garbage, stats), checkpoint_load.cc and checkpoint_write.cc.
//
// Checkpoint protocol (docs/STORAGE.md): under the store's write lock, every
// buffer is sealed and rotate_log() syncs log n and starts log n+1 (new
// records go there); then, without the write lock, checkpoint() writes and
// fsyncs the parts and dictionary codes not yet on disk, atomically replaces
// MANIFEST (log n+1, exactly these parts), and only then deletes log n and
// obsolete files.
// Recovery replays every log numbered >= the manifest's log_number, so
// records written to log n+1 before the manifest landed are not lost.
//
// Thread-safety: the writing methods (append_*, sync, rotate_log) require the
// store's write lock; checkpoint() and clear_quarantine() require its
// checkpoint lock; recovery methods run before the store is shared. An
// internal mutex guards the state those two groups share.
#ifndef USAGEDB_STORAGE_STORE_FILES_H_
#define USAGEDB_STORAGE_STORE_FILES_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "lib/rollup/partition_rollup.h"
#include "lib/rollup/rollup_cache.h"
#include "lib/storage/file_system.h"
#include "lib/storage/log_writer.h"
#include "lib/storage/manifest.h"
#include "lib/storage/store_file_names.h"
#include "lib/table/dictionaries.h"
#include "lib/table/part.h"
#include "lib/util/mutex.h"
#include "usagedb/ingest.h"
#include "usagedb/stats.h"

namespace usagedb::storage {

// Codes of each dictionary covered by a checkpoint.
struct DictionaryCounts {
  uint32_t counts[5] = {};  // indexed by DictionaryColumn
};

// A partition's rollup and the parts whose rows it holds (ascending ids):
// what a checkpoint persists and an open loads.
struct PersistedRollup {
  uint32_t month = 0;
  std::shared_ptr<const PartitionRollup> rollup;
  std::vector<uint64_t> parts;
};

class StoreFiles {
 public:
  // Locks `dir` and reads its MANIFEST, or creates an empty store there when
  // the directory has none and `create_if_missing`. NotFoundError when it
  // does not exist or holds no store and may not be created (the directory
  // is left as it was: no LOCK file is made in it); FailedPreconditionError
  // when another process has it open; DataLossError for a damaged MANIFEST.
  static absl::StatusOr<std::unique_ptr<StoreFiles>> open(const std::string& dir, bool create_if_missing,
                                                          FileSystem* fs);
  ~StoreFiles();

  const std::string& directory() const { return dir_; }
  // A new file number (also used as part ids, so part files are unique).
  uint64_t new_file_number() { return next_file_number_.fetch_add(1); }

  // ---- Recovery: each once, in this order, before the store is shared ----
  // Reads the dictionary segments into `dictionaries` (empty before) and
  // opens every checkpointed part, on two threads. A part is lazy
  // (lib/table/part.h): here its file's size, footer and sequence block are
  // checked; its other blocks are read, verified (the codes against the
  // dictionary sizes the MANIFEST names) and decoded on first use,
  // accounted in `cache`. DataLossError for damage found here (a
  // dictionary's first). Adds the partitions' rollups to `rollups`: a
  // rollup file that is missing or damaged is left out (rollups are derived
  // from the parts, which stay exact without it: the store rebuilds it, and
  // its next checkpoint writes a new file).
  absl::StatusOr<std::vector<std::shared_ptr<const Part>>> load_checkpoint(Dictionaries& dictionaries,
                                                                           std::vector<PersistedRollup>* rollups,
                                                                           std::shared_ptr<PartCache> cache);
  // The session dictionary's segments, which load_checkpoint() leaves
  // unread (only a write, an export or the feed needs session strings):
  // reads them into `sessions` (empty) in code order, once. DataLossError
  // naming a damaged segment (the dictionary then holds the codes before it).
  absl::Status load_sessions(Dictionary& sessions);
  // The session codes the unread segments hold (0 once load_sessions() ran).
  uint64_t deferred_session_codes() const;
  // Calls apply() with every record of every log to replay, oldest first,
  // drops a torn tail (truncating the file), then opens the last log for
  // appending. DataLossError for damage that is not a torn tail.
  absl::Status replay_logs(const std::function<absl::Status(std::string_view record)>& apply);
  absl::StatusOr<std::vector<QuarantinedRow>> load_quarantine();
  // Deletes the files the manifest does not name.
  absl::Status remove_garbage();

  // ---- Writing (REQUIRES: the store's write lock) ----
  // The write-ahead log (this one and those rotate_log() starts) keeps
  // `bytes` of zeros written ahead of its records (LogWriter::
  // zero_fill_ahead): a store that syncs every write (Options::sync) then
  // makes each fsync an overwrite of allocated blocks, not a size change.
  // 0: off (the default).
  void set_log_zero_fill(uint64_t bytes);
  absl::Status append_log(std::string_view record);
  absl::Status append_quarantine(std::string_view record);
  // Makes every appended record durable.
  absl::Status sync();
  uint64_t log_bytes() const;
  // The number of the current log (the one append_log() writes to).
  uint64_t log_number() const;
  // Whether the MANIFEST names part `id` (its file is on disk).
  bool names_part(uint64_t id) const;
  // Syncs and closes the current log and starts a new one; later
  // append_log() calls go to it. Returns its number.
  absl::StatusOr<uint64_t> rotate_log();

  // ---- Checkpoint (REQUIRES: the store's checkpoint lock) ----
  // REQUIRES: `parts` hold every event of the logs before `log_number`, and
  // the dictionaries hold at least counts.counts[c] codes. rewrite_users:
  // write the user dictionary whole (after a GDPR erase) so erased strings
  // leave the disk with the old segments. `rollups`: at most one per month,
  // each covering some of `parts` (others are not persisted); a rollup
  // already on disk with the same coverage is kept, not written again.
  absl::Status checkpoint(uint64_t log_number, std::span<const std::shared_ptr<const Part>> parts,
                          std::span<const PersistedRollup> rollups, const Dictionaries& dictionaries,
                          const DictionaryCounts& counts, bool rewrite_users);
  absl::Status clear_quarantine();
  // A lazy twin (lib/table/part.h) of each of `parts` that the MANIFEST
  // names, read from its file on first use and accounted in `cache`, as
  // load_checkpoint() opens them: a checkpoint of a bulk ingest hands the
  // parts it wrote to the cache instead of keeping their columns in memory.
  // Null for a part the MANIFEST does not name, and for a lazy part (it is
  // one already). Codes are checked against the dictionary sizes the
  // MANIFEST names (what the checkpoint that wrote the part persisted).
  std::vector<std::shared_ptr<const Part>> lazy_twins(std::span<const std::shared_ptr<const Part>> parts,
                                                      const std::shared_ptr<PartCache>& cache) const;
  // The rollup file of each of `rollups` that the MANIFEST names (same
  // month, same parts), opened as load_checkpoint() opens it (open_rollup:
  // its directory read and checked now, its sections on first use): a
  // checkpoint of a bulk ingest drops the rollups it wrote from memory.
  // Null for a rollup the MANIFEST does not name (or names in a file the
  // next checkpoint rewrites), for one read from a file already, and for a
  // file that cannot be opened (the rollup in memory is kept: the lazy one
  // is for memory, not correctness).
  std::vector<std::shared_ptr<const PartitionRollup>> lazy_rollups(std::span<const PersistedRollup> rollups) const
      ABSL_LOCKS_EXCLUDED(mu_);
  // The stored summary (summary_file.h) if the directory has a usable
  // one: its parts must be the MANIFEST's, all of them; null otherwise.
  std::shared_ptr<const StoredSummary> load_summary(uint64_t features, uint64_t versions) ABSL_LOCKS_EXCLUDED(mu_);
  // Replaces the stored summary (atomically; not fsynced beyond that: it is
  // derived data, a crash leaves the old file, the new or none).
  absl::Status save_summary(const StoredSummary& summary);
  // Rollup file `file_number` turned out damaged when a section was read:
  // the next checkpoint writes its coverage's rollup to a new file.
  void mark_rollup_unusable(uint64_t file_number) ABSL_LOCKS_EXCLUDED(mu_);

  // ---- Cursors (cursor_file.h; thread-safe, no store lock needed) ----
  // The sequence number saved as cursor `name`, 0 when there is none.
  // DataLossError for a damaged cursor file.
  absl::StatusOr<uint64_t> load_cursor(std::string_view name);
  // Replaces cursor `name`'s file atomically; durable when it returns.
  absl::Status save_cursor(std::string_view name, uint64_t sequence);
  // The largest number of every cursor file in the directory (0 for none).
  absl::StatusOr<uint64_t> max_cursor();

  // Bytes of the store's files, per partition and per column.
  // REQUIRES: the store's write lock (it reads the logs' sizes).
  void add_stats(StoreStats* stats) const;

 private:
  StoreFiles(std::string dir, FileSystem* fs, std::unique_ptr<FileLock> lock);
  std::string path(const std::string& name) const { return dir_ + "/" + name; }
  absl::Status write_manifest_locked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Removes the files named in `names` (failures only logged in the status
  // returned: the data is already safe without them).
  absl::Status remove_files(const std::vector<std::string>& names);

  const std::string dir_;
  FileSystem* const fs_;
  std::unique_ptr<FileLock> lock_;
  std::atomic<uint64_t> next_file_number_{1};

  // Writer state (the store's write lock).
  std::unique_ptr<LogWriter> log_;
  uint64_t log_zero_fill_ = 0;  // set_log_zero_fill
  std::unique_ptr<LogWriter> quarantine_;

  // Serializes save_cursor (each write goes through the same *.tmp name).
  Mutex cursor_mu_;

  mutable Mutex mu_;
  Manifest manifest_ ABSL_GUARDED_BY(mu_);
  // Logs written since the manifest's log, in order (the current one last).
  std::vector<uint64_t> logs_ ABSL_GUARDED_BY(mu_);
  // Per-section byte counts of every part file in the manifest, by part id.
  std::map<uint64_t, std::vector<std::pair<std::string, uint64_t>>> part_sections_ ABSL_GUARDED_BY(mu_);
  std::map<int, uint64_t> dictionary_bytes_ ABSL_GUARDED_BY(mu_);   // by DictionaryColumn
  // The session segments load_checkpoint() left for load_sessions().
  std::vector<DictionarySegmentEntry> deferred_sessions_ ABSL_GUARDED_BY(mu_);
  std::map<uint64_t, uint64_t> rollup_bytes_ ABSL_GUARDED_BY(mu_);  // by file number
  // Rollup files the manifest names that the next checkpoint writes anew:
  // missing or damaged on open or later, or of an older format.
  std::set<uint64_t> unusable_rollups_ ABSL_GUARDED_BY(mu_);
};

}  // namespace usagedb::storage

#endif  // USAGEDB_STORAGE_STORE_FILES_H_
