#include "lib/storage/log_writer.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "lib/util/status_macros.h"

namespace usagedb::storage {

absl::StatusOr<std::unique_ptr<LogWriter>> LogWriter::create(const std::string& path, uint64_t log_number,
                                                             FileSystem* fs) {
  if (fs->file_exists(path)) {
    return absl::AlreadyExistsError(absl::StrCat("log file ", path, " already exists; refusing to overwrite it"));
  }
  USAGEDB_RETURN_IF_ERROR(fs->write_file_atomically(path, encode_log_file_header(log_number)));
  return reopen(path, fs);
}

absl::StatusOr<std::unique_ptr<LogWriter>> LogWriter::reopen(const std::string& path, FileSystem* fs) {
  // open_append() would create it.
  if (!fs->file_exists(path)) return absl::NotFoundError(absl::StrCat("log file ", path, " does not exist"));
  USAGEDB_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> file, fs->open_append(path));
  if (file->size() < kLogFileHeaderSize) {
    return absl::FailedPreconditionError(absl::StrCat("cannot append to log ", path, ": it has ", file->size(),
                                                      " bytes, fewer than a log file header (",
                                                      kLogFileHeaderSize, ")"));
  }
  return std::make_unique<LogWriter>(std::move(file));
}

LogWriter::LogWriter(std::unique_ptr<WritableFile> file)
    : file_(std::move(file)), block_offset_(file_->size() % kLogBlockSize) {}

void LogWriter::zero_fill_for(size_t payload_bytes) {
  // The record's bytes at most: a fragment header a block, the zeros that
  // pad a block's end, the payload.
  const uint64_t need = size() + payload_bytes +
                        (payload_bytes / (kLogBlockSize - kLogFragmentHeaderSize) + 2) * kLogFragmentHeaderSize;
  if (need <= zero_filled_end_) return;
  const uint64_t end = (need / zero_fill_bytes_ + 1) * zero_fill_bytes_;
  if (!file_->zero_fill(end).ok()) {
    // Appended as before: a size change each sync. Zeros a file left
    // before the failure (the POSIX one cuts them off) would lie past the
    // records: a torn tail to recovery.
    zero_fill_bytes_ = 0;
    return;
  }
  zero_filled_end_ = end;
}

absl::Status LogWriter::add_record(std::string_view payload) {
  if (!error_.ok()) return stopped();
  if (zero_fill_bytes_ > 0) zero_fill_for(payload.size());
  // One fragment per iteration; an empty record is one empty kFull fragment.
  bool first = true;
  do {
    const size_t leftover = kLogBlockSize - block_offset_;
    if (leftover < kLogFragmentHeaderSize) {
      // No header fits: pad the block with zeros, which the reader skips.
      static constexpr char kZeros[kLogFragmentHeaderSize] = {};
      if (leftover > 0) {
        if (absl::Status s = file_->append(std::string_view(kZeros, leftover)); !s.ok()) return fail(std::move(s));
      }
      block_offset_ = 0;
    }
    const size_t room = kLogBlockSize - block_offset_ - kLogFragmentHeaderSize;
    const size_t n = std::min(payload.size(), room);
    const bool last = n == payload.size();
    const LogFragmentType type = first ? (last ? LogFragmentType::kFull : LogFragmentType::kFirst)
                                       : (last ? LogFragmentType::kLast : LogFragmentType::kMiddle);
    USAGEDB_RETURN_IF_ERROR(emit_fragment(type, payload.substr(0, n)));
    payload.remove_prefix(n);
    first = false;
  } while (!payload.empty());
  return absl::OkStatus();
}

absl::Status LogWriter::emit_fragment(LogFragmentType type, std::string_view payload) {
  char header[kLogFragmentHeaderSize];
  encode_log_fragment_header(type, payload, header);
  absl::Status s = file_->append(std::string_view(header, sizeof(header)));
  if (s.ok()) s = file_->append(payload);
  if (!s.ok()) return fail(std::move(s));
  block_offset_ += kLogFragmentHeaderSize + payload.size();
  return absl::OkStatus();
}

absl::Status LogWriter::flush() {
  if (!error_.ok()) return stopped();
  if (absl::Status s = file_->flush(); !s.ok()) return fail(std::move(s));
  return absl::OkStatus();
}

absl::Status LogWriter::sync() {
  if (!error_.ok()) return stopped();
  if (size() == synced_size_) return absl::OkStatus();
  if (absl::Status s = file_->sync(); !s.ok()) return fail(std::move(s));
  synced_size_ = size();
  return absl::OkStatus();
}

absl::Status LogWriter::close() {
  if (!error_.ok()) return stopped();
  if (absl::Status s = file_->close(); !s.ok()) return fail(std::move(s));
  closed_ = true;
  error_ = absl::FailedPreconditionError(absl::StrCat("log ", file_->path(), " was closed"));
  return absl::OkStatus();
}

absl::Status LogWriter::fail(absl::Status status) {
  error_ = status;
  return status;
}

absl::Status LogWriter::stopped() const {
  if (closed_) return error_;
  return absl::Status(error_.code(), absl::StrCat("log ", file_->path(), " stopped after an earlier error: ",
                                                  error_.message()));
}

}  // namespace usagedb::storage
