// StoreFiles::checkpoint: the part files, dictionary segments and rollups
// not on disk yet, then the new MANIFEST, then the files it no longer names
// (the protocol is in store_files.h and docs/STORAGE.md).
#include <algorithm>
#include <map>
#include <set>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "lib/storage/dictionary_file.h"
#include "lib/storage/part_file.h"
#include "lib/storage/rollup_file.h"
#include "lib/storage/store_file_names.h"
#include "lib/storage/store_files.h"
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

}  // namespace

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
  // What is read of them stays in memory until they are written.
  std::vector<PartitionRollup::Hold> rollup_holds;
  for (const PersistedRollup& r : rollups) {
    const bool covered = !r.parts.empty() && std::all_of(r.parts.begin(), r.parts.end(),
                                                         [&](uint64_t id) { return part_ids.contains(id); });
    if (!covered) continue;
    auto existing = std::find_if(next.rollups.begin(), next.rollups.end(), [&](const RollupFileEntry& e) {
      return e.month == r.month && e.parts == r.parts && !unusable_rollups.contains(e.file_number);
    });
    if (existing == next.rollups.end()) {
      // Every section is read first: a rollup read from a file (an older
      // format's, written anew) that turns out damaged is not written (its
      // parts are left without a rollup, which the store builds again).
      rollup_holds.push_back(r.rollup->hold());
      if (!r.rollup->load_all().ok()) continue;
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

}  // namespace usagedb::storage
