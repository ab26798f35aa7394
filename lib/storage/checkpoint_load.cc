// StoreFiles::load_checkpoint: the dictionary segments, parts and rollups
// the MANIFEST names, read and verified on two threads when a store opens;
// of a part file only the footer and the sequence block (the part is lazy:
// lib/table/part.h), the rest on first use.
#include <algorithm>
#include <map>
#include <set>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "lib/storage/dictionary_file.h"
#include "lib/storage/part_file.h"
#include "lib/storage/rollup_file.h"
#include "lib/storage/summary_file.h"
#include "lib/storage/store_file_names.h"
#include "lib/storage/store_files.h"
#include "lib/util/parallel.h"
#include "lib/util/status_macros.h"

namespace usagedb::storage {
namespace {

// A file the MANIFEST names: one that is gone is lost data, not a file to
// create (DataLossError naming it).
absl::StatusOr<std::string> read_live_file(FileSystem* fs, const std::string& path) {
  absl::StatusOr<std::string> bytes = fs->read_file(path);
  if (absl::IsNotFound(bytes.status())) {
    return absl::DataLossError(absl::StrCat(path, ": missing (the MANIFEST names it)"));
  }
  return bytes;
}

// The size of a file the MANIFEST names (DataLossError when it is gone).
absl::StatusOr<uint64_t> live_file_size(FileSystem* fs, const std::string& path) {
  absl::StatusOr<uint64_t> size = fs->file_size(path);
  if (absl::IsNotFound(size.status())) {
    return absl::DataLossError(absl::StrCat(path, ": missing (the MANIFEST names it)"));
  }
  return size;
}

// Reads, checks and appends the dictionary segment `file` named by `entry`
// to `dict`; returns the file's size.
absl::StatusOr<uint64_t> load_segment(FileSystem* fs, const std::string& file, const DictionarySegmentEntry& entry,
                                      Dictionary& dict) {
  USAGEDB_ASSIGN_OR_RETURN(std::string read, read_live_file(fs, file));
  // The dictionary adopts the bytes: its entries point into them.
  auto bytes = std::make_unique<std::string>(std::move(read));
  USAGEDB_ASSIGN_OR_RETURN(DictionarySegment segment, decode_dictionary_segment(*bytes, file));
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
  return size;
}

absl::Status not_the_named_part(const std::string& file) {
  return absl::DataLossError(absl::StrCat(file, ": is not the part the MANIFEST names"));
}

// The columns and indexes of the part file `file` named by `e`, every byte
// checked: what a lazy part reads on first use.
absl::StatusOr<PartData> load_part_data(FileSystem* fs, const std::string& file, const PartFileEntry& e,
                                        const DictionarySizes& sizes) {
  USAGEDB_ASSIGN_OR_RETURN(std::string bytes, read_live_file(fs, file));
  if (bytes.size() != e.bytes) return not_the_named_part(file);
  PartFileInfo info;
  USAGEDB_ASSIGN_OR_RETURN(PartData data, decode_part_data(bytes, file, sizes, &info));
  if (info.id != e.file_number || info.month != e.month || info.rows != e.rows) return not_the_named_part(file);
  return data;
}

// The number of codes of each dictionary `manifest` names (into `names`,
// by DictionaryColumn), as the sizes a part's codes are checked against.
DictionarySizes named_dictionary_sizes(const Manifest& manifest, uint64_t (&names)[kDictionaryColumns]) {
  for (const DictionarySegmentEntry& d : manifest.dictionary_segments) {
    uint64_t& n = names[static_cast<int>(d.column)];
    n = std::max(n, d.first_code + d.count);
  }
  return DictionarySizes{
      names[static_cast<int>(DictionaryColumn::kUser)], names[static_cast<int>(DictionaryColumn::kFeature)],
      names[static_cast<int>(DictionaryColumn::kVersion)], names[static_cast<int>(DictionaryColumn::kEventType)],
      names[static_cast<int>(DictionaryColumn::kSession)]};
}

// The part file `file` named by `e` as a lazy part (lib/table/part.h): its
// size, header and footer read and checked now (a missing, truncated or
// replaced file is DataLossError), its blocks on first use through `cache`;
// one user's rows read alone when the file can seek users. Into *info, the
// footer's description of the file.
absl::StatusOr<std::shared_ptr<const Part>> open_lazy_part(FileSystem* fs, const std::string& file,
                                                           const PartFileEntry& e, const DictionarySizes& sizes,
                                                           std::shared_ptr<PartCache> cache, PartFileInfo* info) {
  absl::StatusOr<uint64_t> size = fs->file_size(file);
  if (absl::IsNotFound(size.status())) return read_live_file(fs, file).status();
  USAGEDB_RETURN_IF_ERROR(size.status());
  if (*size != e.bytes) return not_the_named_part(file);
  USAGEDB_ASSIGN_OR_RETURN(std::string head, fs->read_file_range(file, 0, 12));
  const uint64_t tail_bytes = std::min<uint64_t>(*size, kPartTailBytes);
  USAGEDB_ASSIGN_OR_RETURN(std::string tail, fs->read_file_range(file, *size - tail_bytes, tail_bytes));
  if (tail.size() != tail_bytes) return not_the_named_part(file);  // shrank meanwhile
  const auto read = [fs, &file](uint64_t offset, size_t n) { return fs->read_file_range(file, offset, n); };
  USAGEDB_ASSIGN_OR_RETURN(PartFileSummary summary, read_part_summary(head, tail, *size, read, file));
  *info = summary.info;
  if (info->id != e.file_number || info->month != e.month || info->rows != e.rows) return not_the_named_part(file);
  const Part::Summary s{info->rows, info->min_timestamp, info->max_timestamp, summary.max_sequence};
  Part::UserReader user_reader;
  if (seeks_users(*info)) {
    user_reader = [fs, file, info = *info, sizes](uint32_t user) {
      const auto read = [fs, &file](std::span<const ByteRange> ranges) { return fs->read_file_ranges(file, ranges); };
      return read_user_rows(info, read, file, sizes, user);
    };
  }
  Part::ColumnsReader columns_reader = [fs, file, info = *info, sizes] {
    const auto read = [fs, &file](std::span<const ByteRange> ranges) { return fs->read_file_ranges(file, ranges); };
    return read_user_ordered_columns(info, read, file, sizes);
  };
  return std::make_shared<const Part>(
      e.file_number, e.month, s, [fs, file, e, sizes] { return load_part_data(fs, file, e, sizes); },
      std::move(cache), std::move(user_reader), std::move(columns_reader));
}

}  // namespace

std::vector<std::shared_ptr<const Part>> StoreFiles::lazy_twins(std::span<const std::shared_ptr<const Part>> parts,
                                                                const std::shared_ptr<PartCache>& cache) const {
  Manifest manifest;
  {
    MutexLock l(&mu_);
    manifest = manifest_;
  }
  uint64_t names[kDictionaryColumns] = {};
  const DictionarySizes sizes = named_dictionary_sizes(manifest, names);
  std::map<uint64_t, const PartFileEntry*> named;
  for (const PartFileEntry& e : manifest.parts) named[e.file_number] = &e;
  std::vector<std::shared_ptr<const Part>> twins(parts.size());
  for (size_t i = 0; i < parts.size(); ++i) {
    const Part& part = *parts[i];
    auto it = named.find(part.id());
    if (part.lazy() || it == named.end()) continue;
    const PartFileEntry& e = *it->second;
    // The footer just written, read back (a file that cannot be read
    // keeps the part in memory: the twin is for memory, not correctness).
    PartFileInfo info;
    absl::StatusOr<std::shared_ptr<const Part>> twin =
        open_lazy_part(fs_, path(part_file_name(e.month, e.file_number)), e, sizes, cache, &info);
    if (twin.ok() && (*twin)->max_sequence() == part.max_sequence()) twins[i] = *std::move(twin);
  }
  return twins;
}

std::vector<std::shared_ptr<const PartitionRollup>> StoreFiles::lazy_rollups(
    std::span<const PersistedRollup> rollups) const {
  Manifest manifest;
  std::set<uint64_t> unusable;
  {
    MutexLock l(&mu_);
    manifest = manifest_;
    unusable = unusable_rollups_;
  }
  uint64_t names[kDictionaryColumns] = {};
  const DictionarySizes sizes = named_dictionary_sizes(manifest, names);
  std::map<uint64_t, uint64_t> part_rows;
  for (const PartFileEntry& e : manifest.parts) part_rows[e.file_number] = e.rows;
  std::vector<std::shared_ptr<const PartitionRollup>> lazy(rollups.size());
  for (size_t i = 0; i < rollups.size(); ++i) {
    const PersistedRollup& r = rollups[i];
    if (r.rollup->origin() != 0) continue;
    auto named = std::find_if(manifest.rollups.begin(), manifest.rollups.end(), [&](const RollupFileEntry& e) {
      return e.month == r.month && e.parts == r.parts && !unusable.contains(e.file_number);
    });
    if (named == manifest.rollups.end()) continue;
    RollupExpectation expect{0, sizes.users, sizes.features, sizes.versions, sizes.sessions, r.month, r.parts};
    bool parts_named = true;
    for (const uint64_t id : r.parts) {
      auto it = part_rows.find(id);
      parts_named = parts_named && it != part_rows.end();
      if (parts_named) expect.rows += it->second;
    }
    if (!parts_named || expect.rows != r.rollup->rows()) continue;
    uint32_t version = 0;
    absl::StatusOr<std::shared_ptr<const PartitionRollup>> opened =
        open_rollup(fs_, path(rollup_file_name(r.month, named->file_number)), named->file_number, expect, &version);
    if (opened.ok() && version == kRollupFileVersion) lazy[i] = *std::move(opened);
  }
  return lazy;
}

absl::StatusOr<std::vector<std::shared_ptr<const Part>>> StoreFiles::load_checkpoint(
    Dictionaries& dictionaries, std::vector<PersistedRollup>* rollups, std::shared_ptr<PartCache> cache) {
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
  const DictionarySizes sizes = named_dictionary_sizes(manifest, names);

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
  std::vector<DictionarySegmentEntry> sessions;
  auto load_dictionaries = [&]() -> absl::Status {
    for (const DictionarySegmentEntry& entry : manifest.dictionary_segments) {
      const std::string file = path(dictionary_file_name(entry.column, entry.file_number));
      if (entry.column == DictionaryColumn::kSession) {
        // Read on first use (load_sessions): only its size is checked here.
        USAGEDB_ASSIGN_OR_RETURN(const uint64_t size, live_file_size(fs_, file));
        dictionary_bytes[static_cast<int>(entry.column)] += size;
        sessions.push_back(entry);
        continue;
      }
      USAGEDB_ASSIGN_OR_RETURN(const uint64_t size, load_segment(fs_, file, entry, dictionaries.get(entry.column)));
      dictionary_bytes[static_cast<int>(entry.column)] += size;
    }
    return absl::OkStatus();
  };
  // A part: its footer now (a missing, truncated or replaced file fails the
  // open), its other blocks on first use.
  auto open_part = [&](size_t i) -> absl::Status {
    const PartFileEntry& e = entries[i];
    PartFileInfo info;
    USAGEDB_ASSIGN_OR_RETURN(parts[i], open_lazy_part(fs_, path(part_file_name(e.month, e.file_number)), e, sizes, cache, &info));
    for (const auto& block : info.blocks) sections[i].emplace_back(block.section, block.size);
    sections[i].emplace_back("(part header and footer)", info.header_bytes + info.footer_bytes);
    return absl::OkStatus();
  };
  auto load_part = [&](size_t i) { errors[i] = open_part(i); };
  const std::vector<RollupFileEntry>& rollup_entries = manifest.rollups;
  std::vector<std::shared_ptr<const PartitionRollup>> loaded(rollup_entries.size());
  std::vector<uint64_t> rollup_sizes(rollup_entries.size());
  std::vector<uint32_t> rollup_versions(rollup_entries.size());
  // A rollup: its directory now (a damaged one leaves the rollup unused),
  // its sections on first use (PartitionRollup::lazy).
  auto load_rollup = [&](size_t i) {
    const RollupFileEntry& e = rollup_entries[i];
    RollupExpectation expect{0, sizes.users, sizes.features, sizes.versions, sizes.sessions, e.month, e.parts};
    for (const PartFileEntry& p : entries) {
      if (std::binary_search(e.parts.begin(), e.parts.end(), p.file_number)) expect.rows += p.rows;
    }
    const std::string file = path(rollup_file_name(e.month, e.file_number));
    absl::StatusOr<uint64_t> size = fs_->file_size(file);
    if (!size.ok()) return;
    // Its sections are charged to the parts' budget as they are read.
    absl::StatusOr<std::shared_ptr<const PartitionRollup>> rollup =
        open_rollup(fs_, file, e.file_number, expect, &rollup_versions[i], cache);
    if (!rollup.ok() || (*rollup)->month() != e.month || (*rollup)->part_ids() != e.parts) return;
    loaded[i] = std::move(*rollup);
    rollup_sizes[i] = *size;
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
    if (column == DictionaryColumn::kSession) {
      // Segments are contiguous from code 0 (as load_segment() checks).
      uint64_t next = 0;
      for (const DictionarySegmentEntry& e : sessions) {
        if (e.first_code != next) break;
        next += e.count;
      }
      if (next == names[c]) continue;
    } else if (dictionaries.get(column).size() == names[c]) {
      continue;
    }
    return absl::DataLossError(absl::StrCat(path(kManifestFileName), ": the ", column_name(column),
                                            " dictionary segments do not hold codes 0..", names[c]));
  }
  for (const absl::Status& s : errors) USAGEDB_RETURN_IF_ERROR(s);
  MutexLock l(&mu_);
  deferred_sessions_ = std::move(sessions);
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
    // A file of an older format (read whole on first use) is written anew,
    // in sections, by the next checkpoint (a writer's: `usagedb compact`
    // upgrades a store).
    if (rollup_versions[i] < kRollupFileVersion) unusable_rollups_.insert(rollup_entries[i].file_number);
    rollups->push_back(PersistedRollup{rollup_entries[i].month, std::move(loaded[i]), rollup_entries[i].parts});
  }
  return parts;
}

std::shared_ptr<const StoredSummary> StoreFiles::load_summary(uint64_t features, uint64_t versions) {
  std::vector<uint64_t> parts;
  uint64_t rows = 0;
  {
    MutexLock l(&mu_);
    for (const PartFileEntry& p : manifest_.parts) {
      parts.push_back(p.file_number);
      rows += p.rows;
    }
  }
  std::sort(parts.begin(), parts.end());
  const std::string file = path(std::string(kSummaryFileName));
  if (parts.empty() || !fs_->file_exists(file)) return nullptr;
  absl::StatusOr<std::string> bytes = fs_->read_file(file);
  if (!bytes.ok()) return nullptr;
  absl::StatusOr<StoredSummary> summary = decode_summary(*bytes, file, features, versions, rows);
  if (!summary.ok() || summary->parts != parts) return nullptr;
  return std::make_shared<const StoredSummary>(*std::move(summary));
}

absl::Status StoreFiles::save_summary(const StoredSummary& summary) {
  return fs_->write_file_atomically(path(std::string(kSummaryFileName)), encode_summary(summary));
}

void StoreFiles::mark_rollup_unusable(uint64_t file_number) {
  MutexLock l(&mu_);
  unusable_rollups_.insert(file_number);
}

absl::Status StoreFiles::load_sessions(Dictionary& sessions) {
  std::vector<DictionarySegmentEntry> segments;
  {
    MutexLock l(&mu_);
    segments = deferred_sessions_;
  }
  if (sessions.size() != 0 && !segments.empty()) {
    return absl::FailedPreconditionError("load_sessions: the session dictionary is not empty");
  }
  for (const DictionarySegmentEntry& entry : segments) {
    const std::string file = path(dictionary_file_name(entry.column, entry.file_number));
    USAGEDB_RETURN_IF_ERROR(load_segment(fs_, file, entry, sessions).status());
  }
  MutexLock l(&mu_);
  deferred_sessions_.clear();
  return absl::OkStatus();
}

uint64_t StoreFiles::deferred_session_codes() const {
  MutexLock l(&mu_);
  uint64_t n = 0;
  for (const DictionarySegmentEntry& e : deferred_sessions_) n = std::max(n, e.first_code + e.count);
  return n;
}

}  // namespace usagedb::storage
