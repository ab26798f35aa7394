#include "lib/storage/store_files.h"

#include <algorithm>
#include <set>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "lib/storage/cursor_file.h"
#include "lib/storage/event_codec.h"
#include "lib/storage/log_format.h"
#include "lib/storage/log_reader.h"
#include "lib/storage/store_file_names.h"
#include "lib/util/status_macros.h"

namespace usagedb::storage {

StoreFiles::StoreFiles(std::string dir, FileSystem* fs, std::unique_ptr<FileLock> lock)
    : dir_(std::move(dir)), fs_(fs), lock_(std::move(lock)) {}

StoreFiles::~StoreFiles() {
  if (log_) log_->close().IgnoreError();  // unsynced records were never acknowledged
  if (quarantine_) quarantine_->close().IgnoreError();
}

// The names in `dir`, a directory without a MANIFEST, after checking that
// none of them is store data. Files of an attempt to create a store that
// crashed before its MANIFEST are garbage (the caller removes them so the
// numbers can be used again). Such an attempt leaves at most logs with a
// header and no record (nothing is written before the first MANIFEST);
// anything more means the MANIFEST of a store that held data is gone, and
// creating a new store would delete the data: DataLossError.
static absl::StatusOr<std::vector<std::string>> names_without_store_data(FileSystem* fs, const std::string& dir,
                                                                  const std::string& manifest_path) {
  USAGEDB_ASSIGN_OR_RETURN(auto names, fs->list_dir(dir));
  for (const std::string& name : names) {
    if (!is_store_file(name) || name.ends_with(".tmp")) continue;
    bool holds_data = name.starts_with("part-") || name.starts_with("dict-") || name.starts_with("rollup-");
    if (!holds_data) {
      USAGEDB_ASSIGN_OR_RETURN(const uint64_t size, fs->file_size(absl::StrCat(dir, "/", name)));
      holds_data = size > kLogFileHeaderSize;
    }
    if (holds_data) {
      return absl::DataLossError(absl::StrCat(manifest_path, ": missing, but the directory holds the store's data (",
                                              name, "); refusing to create a new store over it"));
    }
  }
  return names;
}

absl::StatusOr<std::unique_ptr<StoreFiles>> StoreFiles::open(const std::string& dir, bool create_if_missing,
                                                             FileSystem* fs) {
  if (!fs->file_exists(dir)) {
    if (!create_if_missing) return absl::NotFoundError(absl::StrCat("store directory ", dir, " does not exist"));
    USAGEDB_RETURN_IF_ERROR(fs->create_dir(dir));
  }
  const std::string manifest_path = absl::StrCat(dir, "/", kManifestFileName);
  if (!create_if_missing && !fs->file_exists(manifest_path)) {
    // Not a store, and not to be made one: leave the directory as it is
    // (no LOCK file created in it).
    USAGEDB_RETURN_IF_ERROR(names_without_store_data(fs, dir, manifest_path).status());
    return absl::NotFoundError(absl::StrCat("no usagedb store in ", dir, " (no MANIFEST)"));
  }
  USAGEDB_ASSIGN_OR_RETURN(auto lock, fs->lock_file(absl::StrCat(dir, "/", kLockFileName)));
  std::unique_ptr<StoreFiles> files(new StoreFiles(dir, fs, std::move(lock)));
  MutexLock l(&files->mu_);
  if (fs->file_exists(manifest_path)) {
    USAGEDB_ASSIGN_OR_RETURN(std::string bytes, fs->read_file(manifest_path));
    USAGEDB_ASSIGN_OR_RETURN(files->manifest_, decode_manifest(bytes, manifest_path));
    files->next_file_number_ = files->manifest_.next_file_number;
    return files;
  }
  // A new store (or a MANIFEST removed since the check above).
  USAGEDB_ASSIGN_OR_RETURN(auto names, names_without_store_data(fs, dir, manifest_path));
  if (!create_if_missing) return absl::NotFoundError(absl::StrCat("no usagedb store in ", dir, " (no MANIFEST)"));
  for (const std::string& name : names) {
    if (is_store_file(name)) USAGEDB_RETURN_IF_ERROR(fs->remove_file(files->path(name)));
  }
  files->manifest_.log_number = files->new_file_number();
  files->manifest_.quarantine_number = files->new_file_number();
  USAGEDB_ASSIGN_OR_RETURN(files->log_, LogWriter::create(files->path(log_file_name(files->manifest_.log_number)),
                                                          files->manifest_.log_number, fs));
  USAGEDB_ASSIGN_OR_RETURN(files->quarantine_,
                           LogWriter::create(files->path(quarantine_file_name(files->manifest_.quarantine_number)),
                                             files->manifest_.quarantine_number, fs));
  files->logs_ = {files->manifest_.log_number};
  USAGEDB_RETURN_IF_ERROR(files->write_manifest_locked());
  return files;
}

absl::Status StoreFiles::write_manifest_locked() {
  manifest_.next_file_number = next_file_number_.load();
  return fs_->write_file_atomically(path(kManifestFileName), encode_manifest(manifest_));
}

absl::Status StoreFiles::replay_logs(const std::function<absl::Status(std::string_view record)>& apply) {
  uint64_t first;
  {
    MutexLock l(&mu_);
    first = manifest_.log_number;
  }
  USAGEDB_ASSIGN_OR_RETURN(auto names, fs_->list_dir(dir_));
  std::vector<uint64_t> numbers;
  for (const std::string& name : names) {
    if (auto n = log_file_number(name); n && *n >= first) numbers.push_back(*n);
  }
  std::sort(numbers.begin(), numbers.end());
  // A checkpoint interrupted after it started a new log leaves that log (and
  // maybe parts) numbered at or above the MANIFEST's next_file_number: the
  // counter moved on after the MANIFEST was written. Number new files above
  // every file there, or a new log could reuse a number (creating it fails)
  // or sort before older records.
  for (const std::string& name : names) {
    const std::optional<uint64_t> n = is_store_file(name) ? file_number(name) : std::nullopt;
    if (n && *n >= next_file_number_.load()) next_file_number_ = *n + 1;
  }
  if (numbers.empty() || numbers.front() != first) {
    return absl::DataLossError(absl::StrCat(path(log_file_name(first)), ": the write-ahead log the MANIFEST names is missing"));
  }
  for (const uint64_t n : numbers) {
    const std::string file = path(log_file_name(n));
    USAGEDB_ASSIGN_OR_RETURN(auto reader, LogReader::open(file, n, fs_));
    std::string_view record;
    for (;;) {
      USAGEDB_ASSIGN_OR_RETURN(bool more, reader->read_record(&record));
      if (!more) break;
      USAGEDB_RETURN_IF_ERROR(apply(record));
    }
    if (reader->dropped_bytes() > 0) {
      // A crash while appending: drop the torn tail so appends continue
      // after the last whole record.
      USAGEDB_RETURN_IF_ERROR(fs_->truncate_file(file, reader->valid_prefix_end()));
    }
  }
  USAGEDB_ASSIGN_OR_RETURN(log_, LogWriter::reopen(path(log_file_name(numbers.back())), fs_));
  log_->zero_fill_ahead(log_zero_fill_);
  MutexLock l(&mu_);
  logs_ = numbers;
  return absl::OkStatus();
}

absl::StatusOr<std::vector<QuarantinedRow>> StoreFiles::load_quarantine() {
  uint64_t number;
  {
    MutexLock l(&mu_);
    number = manifest_.quarantine_number;
  }
  const std::string file = path(quarantine_file_name(number));
  if (!fs_->file_exists(file)) {
    return absl::DataLossError(absl::StrCat(file, ": missing (the MANIFEST names it)"));
  }
  USAGEDB_ASSIGN_OR_RETURN(auto reader, LogReader::open(file, number, fs_));
  std::vector<QuarantinedRow> rows;
  std::string_view record;
  for (;;) {
    USAGEDB_ASSIGN_OR_RETURN(bool more, reader->read_record(&record));
    if (!more) break;
    USAGEDB_ASSIGN_OR_RETURN(QuarantinedRow row, decode_quarantined_row(record, file));
    rows.push_back(std::move(row));
  }
  if (reader->dropped_bytes() > 0) USAGEDB_RETURN_IF_ERROR(fs_->truncate_file(file, reader->valid_prefix_end()));
  USAGEDB_ASSIGN_OR_RETURN(quarantine_, LogWriter::reopen(file, fs_));
  return rows;
}

absl::Status StoreFiles::remove_garbage() {
  std::set<std::string> live;
  {
    MutexLock l(&mu_);
    for (const uint64_t n : logs_) live.insert(log_file_name(n));
    live.insert(quarantine_file_name(manifest_.quarantine_number));
    for (const PartFileEntry& p : manifest_.parts) live.insert(part_file_name(p.month, p.file_number));
    for (const DictionarySegmentEntry& d : manifest_.dictionary_segments) {
      live.insert(dictionary_file_name(d.column, d.file_number));
    }
    for (const RollupFileEntry& r : manifest_.rollups) live.insert(rollup_file_name(r.month, r.file_number));
  }
  USAGEDB_ASSIGN_OR_RETURN(auto names, fs_->list_dir(dir_));
  std::vector<std::string> garbage;
  for (const std::string& name : names) {
    if (is_store_file(name) && !live.contains(name)) garbage.push_back(name);
  }
  return remove_files(garbage);
}

absl::Status StoreFiles::remove_files(const std::vector<std::string>& names) {
  absl::Status first_error;
  for (const std::string& name : names) {
    absl::Status s = fs_->remove_file(path(name));
    if (!s.ok() && !absl::IsNotFound(s) && first_error.ok()) first_error = s;
  }
  if (!names.empty()) {
    absl::Status s = fs_->sync_dir(dir_);
    if (!s.ok() && first_error.ok()) first_error = s;
  }
  return first_error;
}

absl::StatusOr<uint64_t> StoreFiles::load_cursor(std::string_view name) {
  const std::string file = path(cursor_file_name(name));
  if (!fs_->file_exists(file)) return 0;
  USAGEDB_ASSIGN_OR_RETURN(std::string bytes, fs_->read_file(file));
  return decode_cursor(bytes, name, file);
}

absl::Status StoreFiles::save_cursor(std::string_view name, uint64_t sequence) {
  MutexLock l(&cursor_mu_);
  return fs_->write_file_atomically(path(cursor_file_name(name)), encode_cursor(name, sequence));
}

absl::StatusOr<uint64_t> StoreFiles::max_cursor() {
  USAGEDB_ASSIGN_OR_RETURN(auto names, fs_->list_dir(dir_));
  uint64_t max = 0;
  for (const std::string& file : names) {
    const std::optional<std::string> name = cursor_name_of_file(file);
    if (!name) continue;
    USAGEDB_ASSIGN_OR_RETURN(const uint64_t n, load_cursor(*name));
    max = std::max(max, n);
  }
  return max;
}

void StoreFiles::set_log_zero_fill(uint64_t bytes) {
  log_zero_fill_ = bytes;
  if (log_) log_->zero_fill_ahead(bytes);
}

absl::Status StoreFiles::append_log(std::string_view record) { return log_->add_record(record); }

absl::Status StoreFiles::append_quarantine(std::string_view record) { return quarantine_->add_record(record); }

absl::Status StoreFiles::sync() {
  USAGEDB_RETURN_IF_ERROR(log_->sync());
  return quarantine_->sync();
}

uint64_t StoreFiles::log_bytes() const { return log_ ? log_->size() : 0; }

uint64_t StoreFiles::log_number() const {
  MutexLock l(&mu_);
  return logs_.back();
}

bool StoreFiles::names_part(uint64_t id) const {
  MutexLock l(&mu_);
  return part_sections_.contains(id);
}

absl::StatusOr<uint64_t> StoreFiles::rotate_log() {
  const uint64_t n = new_file_number();
  USAGEDB_ASSIGN_OR_RETURN(auto next, LogWriter::create(path(log_file_name(n)), n, fs_));
  // The old log's records are in the parts this checkpoint writes, but until
  // the new MANIFEST lands the old log is what holds them, and a flush()
  // only syncs the new log: sync the old one now, or a checkpoint that fails
  // (or a power loss) before its MANIFEST would lose records written before
  // a later, successful flush().
  USAGEDB_RETURN_IF_ERROR(log_->sync());
  USAGEDB_RETURN_IF_ERROR(log_->close());
  log_ = std::move(next);
  log_->zero_fill_ahead(log_zero_fill_);
  MutexLock l(&mu_);
  logs_.push_back(n);
  return n;
}

absl::Status StoreFiles::clear_quarantine() {
  const uint64_t n = new_file_number();
  USAGEDB_ASSIGN_OR_RETURN(auto next, LogWriter::create(path(quarantine_file_name(n)), n, fs_));
  uint64_t old;
  {
    MutexLock l(&mu_);
    old = manifest_.quarantine_number;
    manifest_.quarantine_number = n;
    if (absl::Status s = write_manifest_locked(); !s.ok()) {
      manifest_.quarantine_number = old;
      return s;
    }
  }
  quarantine_->close().IgnoreError();
  quarantine_ = std::move(next);
  return remove_files({quarantine_file_name(old)});
}

void StoreFiles::add_stats(StoreStats* stats) const {
  MutexLock l(&mu_);
  stats->directory = dir_;
  std::map<uint32_t, uint64_t> by_month;
  for (const PartFileEntry& p : manifest_.parts) by_month[p.month] += p.bytes;
  for (const RollupFileEntry& r : manifest_.rollups) {
    auto it = rollup_bytes_.find(r.file_number);
    if (it != rollup_bytes_.end()) by_month[r.month] += it->second;
  }
  for (PartitionStats& p : stats->partitions) p.bytes_on_disk = by_month[p.month];
  std::map<std::string, uint64_t> by_section;
  for (const auto& [id, sections] : part_sections_) {
    for (const auto& [section, bytes] : sections) by_section[section] += bytes;
  }
  for (const auto& [c, bytes] : dictionary_bytes_) {
    by_section[absl::StrCat(column_name(static_cast<DictionaryColumn>(c)), " dictionary")] += bytes;
  }
  for (const auto& [number, bytes] : rollup_bytes_) by_section["(rollups)"] += bytes;
  stats->columns.clear();
  uint64_t total = 0;
  for (const auto& [section, bytes] : by_section) {
    stats->columns.push_back(ColumnStats{section, bytes});
    total += bytes;
  }
  stats->log_bytes = log_ ? log_->size() : 0;
  // The log's file holds the zeros written ahead of its records too.
  const uint64_t log_file = log_ ? std::max(stats->log_bytes, log_->zero_filled_end()) : 0;
  stats->bytes_on_disk = total + log_file + (quarantine_ ? quarantine_->size() : 0);
}

}  // namespace usagedb::storage
