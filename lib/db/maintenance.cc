// EventStoreImpl's maintenance that changes stored data other than by
// appending: retention, GDPR deletion, clearing the quarantine. Each holds
// checkpoint_mu_ and ends with a checkpoint, so it is durable once it
// returns (and a deleted user's events leave the write-ahead log too).
#include "absl/strings/str_cat.h"
#include "lib/db/event_store_impl.h"
#include "lib/table/part_builder.h"
#include "lib/util/status_macros.h"

namespace usagedb {

absl::StatusOr<uint64_t> EventStoreImpl::drop_partitions_before(uint32_t yyyymm) {
  const uint32_t month = yyyymm % 100;
  // 210601 is the first month past the DateTime range: it drops everything.
  if (month < 1 || month > 12 || yyyymm < 197001 || yyyymm > 210601) {
    return absl::InvalidArgumentError(
        absl::StrCat("month: expected YYYYMM between 197001 and 210601, got ", yyyymm));
  }
  MutexLock checkpointing(&checkpoint_mu_);
  uint64_t removed = 0;
  {
    MutexLock lock(&write_mu_);
    if (!write_error_.ok()) return write_error_;
    for (auto it = partitions_.begin(); it != partitions_.end() && it->first < yyyymm;) {
      const PartitionWriter& p = *it->second;
      for (const auto& part : p.parts) removed += part->rows();
      for (const auto& [buffer, id] : p.sealing) removed += buffer->size();
      removed += p.buffer->size();
      it = partitions_.erase(it);
      changed_ = true;
    }
    install_version_locked();
  }
  if (absl::Status s = checkpoint_locked(); !s.ok()) return s;
  return removed;
}

absl::StatusOr<uint64_t> EventStoreImpl::delete_user(std::string_view user_id) {
  MutexLock checkpointing(&checkpoint_mu_);
  uint64_t removed = 0;
  {
    MutexLock lock(&write_mu_);
    if (!write_error_.ok()) return write_error_;
    const std::optional<uint32_t> code = dictionaries_.user.find(user_id);
    if (!code.has_value()) return 0;
    // Every part is read (lazy ones from their files) before anything
    // changes: a damaged file fails the deletion with nothing deleted.
    // A Pin points at its Part without owning it: `read` keeps the parts
    // alive until the pins (declared after it, so destroyed first) let go,
    // after the rewritten parts and a new Version have replaced them.
    std::vector<std::shared_ptr<const Part>> read;
    std::vector<Part::Pin> pins;
    for (const auto& [month, p] : partitions_) {
      read.insert(read.end(), p->parts.begin(), p->parts.end());
      USAGEDB_RETURN_IF_ERROR(Part::pin_all(p->parts, &pins));
    }
    seal_all_locked();
    for (auto& [month_key, writer] : partitions_) {
      // Plain references: lambdas cannot capture structured bindings in C++20.
      const uint32_t month = month_key;
      PartitionWriter* p = writer.get();
      std::vector<std::shared_ptr<const Part>> kept;
      for (auto& part : p->parts) {
        const std::span<const uint32_t> rows = part->user_rows(*code);
        if (rows.empty()) {
          kept.push_back(std::move(part));
          continue;
        }
        // The part's rollup counts the user's events: the rewritten part's
        // is built by the checkpoint below.
        const uint64_t id = part->id();
        p->rollups.remove_parts(std::span(&id, 1));
        if (p->event_ids_ready) {  // otherwise built later from the rewritten parts
          for (const uint32_t row : rows) {
            if (!part->event_id(row).empty()) p->event_ids.erase(part->event_id(row));
          }
        }
        removed += rows.size();
        if (rows.size() == part->rows()) continue;  // the part held only this user
        PartBuilder builder(part->rows() - rows.size());
        const PartColumns& c = part->columns();
        for (uint32_t i = 0; i < part->rows(); ++i) {
          if (c.user[i] == *code) continue;
          builder.add(RowCodes{c.timestamp[i], c.feature[i], c.version[i], c.user[i], c.event_type[i], c.session[i]},
                      part->sequence(i), part->event_id(i), part->metadata(i));
        }
        kept.push_back(std::move(builder).finish(new_part_id(), month, dictionaries_.feature, dictionaries_.version));
      }
      p->parts = std::move(kept);
    }
    {
      MutexLock erasing(&user_strings_mu_);  // no reader of events looks the string up meanwhile
      dictionaries_.user.erase(*code);
    }
    users_erased_ = true;
    install_version_locked();
    work_cv_.notify_all();  // the rewritten parts' rollups
  }
  // The checkpoint rewrites the parts and the user dictionary and drops the
  // old files and logs that still hold the user.
  if (absl::Status s = checkpoint_locked(); !s.ok()) return s;
  return removed;
}

absl::StatusOr<uint64_t> EventStoreImpl::clear_quarantine() {
  MutexLock checkpointing(&checkpoint_mu_);
  MutexLock lock(&write_mu_);
  if (!write_error_.ok()) return write_error_;
  if (files_) {
    if (absl::Status s = files_->clear_quarantine(); !s.ok()) return s;
  }
  const uint64_t n = quarantine_.size();
  quarantine_.clear();
  return n;
}

}  // namespace usagedb
