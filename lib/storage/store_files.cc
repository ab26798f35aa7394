#include "lib/storage/store_files.h"

#include <algorithm>
#include <set>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "lib/storage/dictionary_file.h"
#include "lib/storage/event_codec.h"
#include "lib/storage/log_format.h"
#include "lib/storage/log_reader.h"
#include "lib/storage/part_file.h"
#include "lib/storage/rollup_file.h"
#include "lib/util/parallel.h"
#include "lib/util/status_macros.h"

namespace usagedb::storage {
namespace {

// Writes a file that did not exist before and fsyncs it (the directory is
// fsynced once for all of a checkpoint's new files).
absl::Status write_new_file(FileSystem* fs, const std::string& path, std::string_view bytes) {
  USAGEDB_ASSIGN_OR_RETURN(auto file, fs->open_truncate(path));
  USAGEDB_RETURN_IF_ERROR(file->append(bytes));
  USAGEDB_RETURN_IF_ERROR(file->sync());
  return file->close();
}

// A new dictionary segment file, written piece by piece; its size.
absl::StatusOr<uint64_t> write_dictionary_file(FileSystem* fs, const std::string& path, const DictionarySegmentEntry& d,
                                               const Dictionary& dict) {
  USAGEDB_ASSIGN_OR_RETURN(auto file, fs->open_truncate(path));
  absl::StatusOr<uint64_t> bytes =
      write_dictionary_segment(d.column, dict, static_cast<uint32_t>(d.first_code), static_cast<uint32_t>(d.count),
                               [&](std::string_view piece) { return file->append(piece); });
  if (!bytes.ok()) return bytes.status();
  USAGEDB_RETURN_IF_ERROR(file->sync());
  USAGEDB_RETURN_IF_ERROR(file->close());
  return bytes;
}

// A file the MANIFEST names: one that is gone is lost data, not a file to
// create (DataLossError naming it).
absl::StatusOr<std::string> read_live_file(FileSystem* fs, const std::string& path) {
  absl::StatusOr<std::string> bytes = fs->read_file(path);
  if (absl::IsNotFound(bytes.status())) {
    return absl::DataLossError(absl::StrCat(path, ": missing (the MANIFEST names it)"));
  }
  return bytes;
}

// The number in "<prefix><number><suffix>", if `name` has that shape.
std::optional<uint64_t> number_in(std::string_view name, std::string_view prefix, std::string_view suffix) {
  if (!name.starts_with(prefix) || !name.ends_with(suffix) || name.size() <= prefix.size() + suffix.size()) {
    return std::nullopt;
  }
  uint64_t n;
  const std::string digits(name.substr(prefix.size(), name.size() - prefix.size() - suffix.size()));
  if (!absl::SimpleAtoi(digits, &n)) return std::nullopt;
  return n;
}

// The file number in a store file's name ("log-7.wal", "part-202505-7.udbp",
// "dict-user_id-7.udbd", "quarantine-7.log", also with ".tmp" appended).
std::optional<uint64_t> file_number(std::string_view name) {
  const size_t dash = name.rfind('-');
  if (dash == std::string_view::npos) return std::nullopt;
  const size_t dot = name.find('.', dash);
  uint64_t n;
  if (dot == std::string_view::npos || !absl::SimpleAtoi(std::string(name.substr(dash + 1, dot - dash - 1)), &n)) {
    return std::nullopt;
  }
  return n;
}

// The entries of `before` (a manifest's parts, segments or rollups) whose
// file is not among those of `after`.
template <typename Entry>
std::vector<Entry> dropped_entries(const std::vector<Entry>& before, const std::vector<Entry>& after) {
  std::set<uint64_t> live;
  for (const Entry& e : after) live.insert(e.file_number);
  std::vector<Entry> dropped;
  for (const Entry& e : before) {
    if (!live.contains(e.file_number)) dropped.push_back(e);
  }
  return dropped;
}

bool is_store_file(std::string_view name) {
  return name.starts_with("log-") || name.starts_with("part-") || name.starts_with("dict-") ||
         name.starts_with("rollup-") || name.starts_with("quarantine-") || name == "MANIFEST.tmp";
}

}  // namespace

std::string log_file_name(uint64_t number) { return absl::StrCat("log-", number, ".wal"); }
std::string quarantine_file_name(uint64_t number) { return absl::StrCat("quarantine-", number, ".log"); }
std::string part_file_name(uint32_t month, uint64_t number) { return absl::StrCat("part-", month, "-", number, ".udbp"); }
std::string dictionary_file_name(DictionaryColumn column, uint64_t number) {
  return absl::StrCat("dict-", column_name(column), "-", number, ".udbd");
}
std::string rollup_file_name(uint32_t month, uint64_t number) {
  return absl::StrCat("rollup-", month, "-", number, ".udbr");
}

StoreFiles::StoreFiles(std::string dir, FileSystem* fs, std::unique_ptr<FileLock> lock)
    : dir_(std::move(dir)), fs_(fs), lock_(std::move(lock)) {}

StoreFiles::~StoreFiles() {
  if (log_) log_->close().IgnoreError();  // unsynced records were never acknowledged
  if (quarantine_) quarantine_->close().IgnoreError();
}

// The size of each section of the part file `bytes` (named `name`), for
// stats; empty when its layout does not read (the part was checked already).
static std::vector<std::pair<std::string, uint64_t>> part_file_sections(std::string_view bytes,
                                                                        const std::string& name) {
  std::vector<std::pair<std::string, uint64_t>> sections;
  if (auto info = read_part_file_info(bytes, name); info.ok()) {
    for (const auto& block : info->blocks) sections.emplace_back(block.section, block.size);
    sections.emplace_back("(part header and footer)", info->header_bytes + info->footer_bytes);
  }
  return sections;
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

absl::StatusOr<std::vector<std::shared_ptr<const Part>>> StoreFiles::load_checkpoint(
    Dictionaries& dictionaries, std::vector<PersistedRollup>* rollups) {
  Manifest manifest;
  {
    MutexLock l(&mu_);
    manifest = manifest_;
  }
  // The dictionary sizes the MANIFEST names: the parts' codes are checked
  // against them, so the parts need not wait for the segments. Segments
  // are contiguous per column (checked while loading them), so once loaded
  // each dictionary has exactly this size (checked at the end).
  uint64_t names[kDictionaryColumns] = {};
  for (const DictionarySegmentEntry& d : manifest.dictionary_segments) {
    uint64_t& n = names[static_cast<int>(d.column)];
    n = std::max(n, d.first_code + d.count);
  }
  const DictionarySizes sizes{
      names[static_cast<int>(DictionaryColumn::kUser)], names[static_cast<int>(DictionaryColumn::kFeature)],
      names[static_cast<int>(DictionaryColumn::kVersion)], names[static_cast<int>(DictionaryColumn::kEventType)],
      names[static_cast<int>(DictionaryColumn::kSession)]};

  // Task 0 loads the dictionary segments (one task: they fill the
  // dictionaries in code order), tasks 1.. the parts, largest first so the
  // two threads end together, then the rollups. Reading and verifying is
  // CPU-bound (checksums, decoding, index checks).
  const std::vector<PartFileEntry>& entries = manifest.parts;
  std::vector<size_t> order(entries.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return entries[a].bytes > entries[b].bytes; });
  std::vector<std::shared_ptr<const Part>> parts(entries.size());
  std::vector<std::vector<std::pair<std::string, uint64_t>>> sections(entries.size());
  std::vector<absl::Status> errors(entries.size());
  absl::Status dictionary_error;
  std::map<int, uint64_t> dictionary_bytes;
  auto load_dictionaries = [&]() -> absl::Status {
    for (const DictionarySegmentEntry& entry : manifest.dictionary_segments) {
      const std::string file = path(dictionary_file_name(entry.column, entry.file_number));
      USAGEDB_ASSIGN_OR_RETURN(std::string read, read_live_file(fs_, file));
      // The dictionary adopts the bytes: its entries point into them.
      auto bytes = std::make_unique<std::string>(std::move(read));
      USAGEDB_ASSIGN_OR_RETURN(DictionarySegment segment, decode_dictionary_segment(*bytes, file));
      Dictionary& dict = dictionaries.get(entry.column);
      if (segment.column != entry.column || segment.first_code != entry.first_code ||
          segment.strings.size() != entry.count || dict.size() != entry.first_code) {
        return absl::DataLossError(absl::StrCat(file, ": does not hold the codes the MANIFEST names (",
                                                column_name(entry.column), " ", entry.first_code, "..",
                                                entry.first_code + entry.count, ")"));
      }
      const size_t size = bytes->size();
      // The strings are in the file's bytes (version 1) or rebuilt (2).
      std::unique_ptr<std::string> owner = segment.storage ? std::move(segment.storage) : std::move(bytes);
      if (const ptrdiff_t i = dict.restore_many(segment.strings, segment.erased, std::move(owner)); i >= 0) {
        return absl::DataLossError(absl::StrCat(file, ": the string of code ", entry.first_code + i,
                                                " appears twice in the ", column_name(entry.column), " dictionary"));
      }
      dictionary_bytes[static_cast<int>(entry.column)] += size;
    }
    return absl::OkStatus();
  };
  auto load_part = [&](size_t i) {
    const PartFileEntry& e = entries[i];
    const std::string file = path(part_file_name(e.month, e.file_number));
    auto bytes = read_live_file(fs_, file);
    if (!bytes.ok()) {
      errors[i] = bytes.status();
      return;
    }
    auto part = decode_part(*bytes, file, sizes);
    if (!part.ok()) {
      errors[i] = part.status();
      return;
    }
    if ((*part)->id() != e.file_number || (*part)->month() != e.month || (*part)->rows() != e.rows ||
        bytes->size() != e.bytes) {
      errors[i] = absl::DataLossError(absl::StrCat(file, ": is not the part the MANIFEST names"));
      return;
    }
    sections[i] = part_file_sections(*bytes, file);
    parts[i] = std::move(*part);
  };
  const std::vector<RollupFileEntry>& rollup_entries = manifest.rollups;
  std::vector<std::shared_ptr<const PartitionRollup>> loaded(rollup_entries.size());
  std::vector<uint64_t> rollup_sizes(rollup_entries.size());
  auto load_rollup = [&](size_t i) {
    const RollupFileEntry& e = rollup_entries[i];
    RollupExpectation expect{0, sizes.users, sizes.features, sizes.versions, sizes.sessions};
    for (const PartFileEntry& p : entries) {
      if (std::binary_search(e.parts.begin(), e.parts.end(), p.file_number)) expect.rows += p.rows;
    }
    const std::string file = path(rollup_file_name(e.month, e.file_number));
    absl::StatusOr<std::string> bytes = fs_->read_file(file);
    if (!bytes.ok()) return;
    absl::StatusOr<std::shared_ptr<const PartitionRollup>> rollup = decode_rollup(*bytes, file, expect);
    if (!rollup.ok() || (*rollup)->month() != e.month || (*rollup)->part_ids() != e.parts) return;
    loaded[i] = std::move(*rollup);
    rollup_sizes[i] = bytes->size();
  };
  for_each_index_on_two_threads(entries.size() + rollup_entries.size() + 1, /*two_threads=*/true, [&](size_t task) {
    if (task == 0) {
      dictionary_error = load_dictionaries();
    } else if (task <= entries.size()) {
      load_part(order[task - 1]);
    } else {
      load_rollup(task - 1 - entries.size());
    }
  });
  // Dictionary damage first: it says more than the parts' codes it breaks.
  USAGEDB_RETURN_IF_ERROR(dictionary_error);
  for (int c = 0; c < kDictionaryColumns; ++c) {
    const DictionaryColumn column = static_cast<DictionaryColumn>(c);
    if (dictionaries.get(column).size() != names[c]) {
      return absl::DataLossError(absl::StrCat(path(kManifestFileName), ": the ", column_name(column),
                                              " dictionary segments do not hold codes 0..", names[c]));
    }
  }
  for (const absl::Status& s : errors) USAGEDB_RETURN_IF_ERROR(s);
  MutexLock l(&mu_);
  for (const auto& [c, bytes] : dictionary_bytes) dictionary_bytes_[c] += bytes;
  for (size_t i = 0; i < entries.size(); ++i) part_sections_[entries[i].file_number] = std::move(sections[i]);
  for (size_t i = 0; i < rollup_entries.size(); ++i) {
    if (loaded[i] == nullptr) {
      // The file stays until the next checkpoint, which writes the rebuilt
      // rollup anew instead of keeping it.
      unusable_rollups_.insert(rollup_entries[i].file_number);
      continue;
    }
    rollup_bytes_[rollup_entries[i].file_number] = rollup_sizes[i];
    rollups->push_back(PersistedRollup{rollup_entries[i].month, std::move(loaded[i]), rollup_entries[i].parts});
  }
  return parts;
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
    if (auto n = number_in(name, "log-", ".wal"); n && *n >= first) numbers.push_back(*n);
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

absl::Status StoreFiles::append_log(std::string_view record) { return log_->add_record(record); }

absl::Status StoreFiles::append_quarantine(std::string_view record) { return quarantine_->add_record(record); }

absl::Status StoreFiles::sync() {
  USAGEDB_RETURN_IF_ERROR(log_->sync());
  return quarantine_->sync();
}

uint64_t StoreFiles::log_bytes() const { return log_ ? log_->size() : 0; }

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
  MutexLock l(&mu_);
  logs_.push_back(n);
  return n;
}

absl::Status StoreFiles::checkpoint(uint64_t log_number, std::span<const std::shared_ptr<const Part>> parts,
                                    std::span<const PersistedRollup> rollups, const Dictionaries& dictionaries,
                                    const DictionaryCounts& counts, bool rewrite_users) {
  Manifest next;
  std::set<uint64_t> unusable_rollups;
  {
    MutexLock l(&mu_);
    next = manifest_;
    unusable_rollups = unusable_rollups_;
  }
  // 1. Part files not on disk yet (parts are immutable: a part on disk never
  //    changes, it is only replaced by a new one), and
  // 2. dictionary codes not on disk yet, as one new segment per column.
  //    Encoding is CPU-bound: two threads share the files, the dictionary
  //    segments first (the session dictionary's is the largest task, and
  //    was the tail of the checkpoint when it came last, on one thread).
  std::vector<PartFileEntry> entries(parts.size());
  std::vector<const Part*> to_write;
  std::vector<size_t> slot;
  for (size_t i = 0; i < parts.size(); ++i) {
    auto existing = std::find_if(next.parts.begin(), next.parts.end(),
                                 [&](const PartFileEntry& e) { return e.file_number == parts[i]->id(); });
    if (existing != next.parts.end()) {
      entries[i] = *existing;
    } else {
      to_write.push_back(parts[i].get());
      slot.push_back(i);
    }
  }
  std::vector<DictionarySegmentEntry> segments;
  std::vector<DictionarySegmentEntry> new_segments;
  for (int c = 0; c < kDictionaryColumns; ++c) {
    const DictionaryColumn column = static_cast<DictionaryColumn>(c);
    uint64_t persisted = 0;
    const bool rewrite = rewrite_users && column == DictionaryColumn::kUser;
    for (const DictionarySegmentEntry& d : next.dictionary_segments) {
      if (d.column != column) continue;
      if (!rewrite) segments.push_back(d);
      persisted = d.first_code + d.count;
    }
    const uint64_t from = rewrite ? 0 : persisted;
    if (counts.counts[c] <= from) continue;
    new_segments.push_back(DictionarySegmentEntry{column, new_file_number(), from, counts.counts[c] - from});
  }
  // 3. Rollups whose coverage is not on disk yet (a rollup is a function
  //    of the rows it covers: the same coverage is the same file).
  std::set<uint64_t> part_ids;
  for (const auto& part : parts) part_ids.insert(part->id());
  std::vector<RollupFileEntry> rollup_entries;
  std::vector<const PersistedRollup*> rollups_to_write;
  std::vector<size_t> rollup_slot;
  for (const PersistedRollup& r : rollups) {
    const bool covered = !r.parts.empty() && std::all_of(r.parts.begin(), r.parts.end(),
                                                         [&](uint64_t id) { return part_ids.contains(id); });
    if (!covered) continue;
    auto existing = std::find_if(next.rollups.begin(), next.rollups.end(), [&](const RollupFileEntry& e) {
      return e.month == r.month && e.parts == r.parts && !unusable_rollups.contains(e.file_number);
    });
    if (existing == next.rollups.end()) {
      rollups_to_write.push_back(&r);
      rollup_slot.push_back(rollup_entries.size());
      rollup_entries.push_back(RollupFileEntry{r.month, new_file_number(), r.parts});
    } else {
      rollup_entries.push_back(*existing);
    }
  }
  std::vector<uint64_t> new_rollup_files, new_rollup_bytes(rollups_to_write.size());
  for (const size_t slot : rollup_slot) new_rollup_files.push_back(rollup_entries[slot].file_number);
  std::vector<uint64_t> new_segment_bytes(new_segments.size());
  std::vector<absl::Status> errors(new_segments.size() + to_write.size() + rollups_to_write.size());
  std::vector<std::vector<std::pair<std::string, uint64_t>>> written_sections(to_write.size());
  for_each_index_on_two_threads(errors.size(), /*two_threads=*/true, [&](size_t task) {
    if (task < new_segments.size()) {
      const DictionarySegmentEntry& d = new_segments[task];
      absl::StatusOr<uint64_t> bytes = write_dictionary_file(fs_, path(dictionary_file_name(d.column, d.file_number)),
                                                             d, dictionaries.get(d.column));
      errors[task] = bytes.status();
      if (bytes.ok()) new_segment_bytes[task] = *bytes;
      return;
    }
    if (task >= new_segments.size() + to_write.size()) {
      const size_t k = task - new_segments.size() - to_write.size();
      const RollupFileEntry& e = rollup_entries[rollup_slot[k]];
      const std::string bytes = encode_rollup(*rollups_to_write[k]->rollup, e.parts);
      errors[task] = write_new_file(fs_, path(rollup_file_name(e.month, e.file_number)), bytes);
      new_rollup_bytes[k] = bytes.size();
      return;
    }
    const size_t k = task - new_segments.size();
    const Part& part = *to_write[k];
    const std::string bytes = encode_part(part);
    const std::string name = part_file_name(part.month(), part.id());
    errors[task] = write_new_file(fs_, path(name), bytes);
    entries[slot[k]] = PartFileEntry{part.month(), part.id(), part.rows(), bytes.size()};
    written_sections[k] = part_file_sections(bytes, name);
  });
  for (const absl::Status& e : errors) USAGEDB_RETURN_IF_ERROR(e);
  std::map<uint64_t, std::vector<std::pair<std::string, uint64_t>>> new_sections;
  for (size_t k = 0; k < to_write.size(); ++k) new_sections[to_write[k]->id()] = std::move(written_sections[k]);
  std::map<int, uint64_t> segment_bytes;
  for (size_t i = 0; i < new_segments.size(); ++i) {
    segments.push_back(new_segments[i]);
    segment_bytes[static_cast<int>(new_segments[i].column)] = new_segment_bytes[i];
  }
  const bool wrote = !errors.empty();
  if (wrote) USAGEDB_RETURN_IF_ERROR(fs_->sync_dir(dir_));
  // Segments in code order per column, as the manifest requires.
  std::stable_sort(segments.begin(), segments.end(), [](const auto& a, const auto& b) {
    return a.column != b.column ? a.column < b.column : a.first_code < b.first_code;
  });

  std::sort(rollup_entries.begin(), rollup_entries.end(),
            [](const RollupFileEntry& a, const RollupFileEntry& b) { return a.month < b.month; });

  // 4. The new MANIFEST: from here on, the checkpoint is what a reopen sees.
  std::vector<std::string> obsolete;
  {
    MutexLock l(&mu_);
    Manifest m = manifest_;
    m.parts = entries;
    m.dictionary_segments = segments;
    m.rollups = rollup_entries;
    m.log_number = log_number;
    const Manifest previous = manifest_;
    manifest_ = m;
    if (absl::Status s = write_manifest_locked(); !s.ok()) {
      manifest_ = previous;
      return s;
    }
    // 5. What the old MANIFEST named and the new one does not.
    for (const PartFileEntry& e : dropped_entries(previous.parts, entries)) {
      obsolete.push_back(part_file_name(e.month, e.file_number));
      part_sections_.erase(e.file_number);
    }
    for (auto& [id, s] : new_sections) part_sections_[id] = std::move(s);
    for (const DictionarySegmentEntry& d : dropped_entries(previous.dictionary_segments, segments)) {
      obsolete.push_back(dictionary_file_name(d.column, d.file_number));
    }
    for (const RollupFileEntry& r : dropped_entries(previous.rollups, rollup_entries)) {
      obsolete.push_back(rollup_file_name(r.month, r.file_number));
      rollup_bytes_.erase(r.file_number);
      unusable_rollups_.erase(r.file_number);
    }
    for (size_t k = 0; k < rollups_to_write.size(); ++k) rollup_bytes_[new_rollup_files[k]] = new_rollup_bytes[k];
    if (rewrite_users) dictionary_bytes_[static_cast<int>(DictionaryColumn::kUser)] = 0;
    for (const auto& [c, bytes] : segment_bytes) dictionary_bytes_[c] += bytes;
    while (!logs_.empty() && logs_.front() < log_number) {
      obsolete.push_back(log_file_name(logs_.front()));
      logs_.erase(logs_.begin());
    }
  }
  return remove_files(obsolete);
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
  stats->bytes_on_disk = total + stats->log_bytes + (quarantine_ ? quarantine_->size() : 0);
}

}  // namespace usagedb::storage
