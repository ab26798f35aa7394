#include "lib/storage/log_reader.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "lib/util/status_macros.h"
#include "lib/util/text.h"

namespace usagedb::storage {

absl::StatusOr<std::unique_ptr<LogReader>> LogReader::open(const std::string& path,
                                                           std::optional<uint64_t> expected_log_number,
                                                           FileSystem* fs) {
  USAGEDB_ASSIGN_OR_RETURN(std::unique_ptr<SequentialFile> file, fs->open_sequential(path));
  return open(std::move(file), expected_log_number);
}

absl::StatusOr<std::unique_ptr<LogReader>> LogReader::open(std::unique_ptr<SequentialFile> file,
                                                           std::optional<uint64_t> expected_log_number) {
  std::unique_ptr<LogReader> reader(new LogReader(std::move(file)));
  USAGEDB_RETURN_IF_ERROR(reader->read_header(expected_log_number));
  return reader;
}

LogReader::LogReader(std::unique_ptr<SequentialFile> file)
    : file_(std::move(file)), backing_(new char[kLogBlockSize]) {}

absl::Status LogReader::read_header(std::optional<uint64_t> expected_log_number) {
  USAGEDB_RETURN_IF_ERROR(read_block().status());
  USAGEDB_ASSIGN_OR_RETURN(log_number_, decode_log_file_header(block_, path()));
  if (expected_log_number.has_value() && log_number_ != *expected_log_number) {
    return absl::DataLossError(absl::StrCat(path(), ": holds log ", log_number_, ", expected log ",
                                            *expected_log_number, " (a renamed or misplaced file?)"));
  }
  pos_ = kLogFileHeaderSize;
  valid_end_ = kLogFileHeaderSize;
  return absl::OkStatus();
}

absl::StatusOr<bool> LogReader::read_block() {
  block_start_ = end_of_data_;  // every block but the last is read whole
  USAGEDB_ASSIGN_OR_RETURN(const size_t n, file_->read(backing_.get(), kLogBlockSize));
  block_ = std::string_view(backing_.get(), n);
  pos_ = 0;
  end_of_data_ += n;
  eof_ = n < kLogBlockSize;
  return n > 0;
}

absl::StatusOr<LogReader::Next> LogReader::next_fragment(LogFragment* fragment, uint64_t* offset) {
  for (;;) {
    *offset = block_start_ + pos_;
    const size_t left = block_.size() - pos_;
    if (left < kLogFragmentHeaderSize) {
      if (left > 0 && eof_) {
        bad_reason_ = "the file ends inside a fragment header";
        return Next::kBad;
      }
      if (block_.substr(pos_).find_first_not_of('\0') != std::string_view::npos) {
        bad_reason_ = "non-zero bytes in the padding at the end of a block";
        return Next::kBad;
      }
      if (eof_) return Next::kEnd;
      USAGEDB_ASSIGN_OR_RETURN(const bool more, read_block());
      if (!more) return Next::kEnd;
      continue;
    }
    switch (parse_log_fragment(block_.substr(pos_), fragment)) {
      case FragmentParse::kOk:
        pos_ += fragment->encoded_size();
        return Next::kFragment;
      case FragmentParse::kTruncated:
        bad_reason_ = eof_ ? "the file ends inside the fragment, or its length is damaged"
                           : "the fragment's length runs past the end of its block";
        return Next::kBad;
      case FragmentParse::kBadType:
        bad_reason_ = absl::StrCat("unknown fragment type ", static_cast<int>(static_cast<uint8_t>(block_[pos_ + 10])));
        return Next::kBad;
      case FragmentParse::kChecksumMismatch:
        bad_reason_ = "checksum mismatch";
        return Next::kBad;
    }
  }
}

absl::Status LogReader::check_torn_tail() {
  const uint64_t bad_offset = block_start_ + pos_;
  // Fragments never cross blocks, so scanning each block on its own finds
  // every valid fragment. The type byte rejects almost every wrong position
  // before a checksum is computed.
  size_t from = pos_ + 1;
  for (;;) {
    // Candidate q has its type byte at q + 10.
    for (size_t q = from; q + kLogFragmentHeaderSize <= block_.size(); ++q) {
      q += find_fragment_type_byte(block_.substr(q + 10));
      if (q + kLogFragmentHeaderSize > block_.size()) break;
      LogFragment fragment;
      if (parse_log_fragment(block_.substr(q), &fragment) == FragmentParse::kOk) {
        return absl::DataLossError(absl::StrCat(
            path(), ": corrupt log record at offset ", bad_offset, " (", bad_reason_,
            ") followed by a valid fragment at offset ", block_start_ + q,
            ": the log is damaged, not torn by a crash; its records after offset ", valid_end_,
            " cannot be read"));
      }
    }
    if (eof_) return absl::OkStatus();
    USAGEDB_ASSIGN_OR_RETURN(const bool more, read_block());
    if (!more) return absl::OkStatus();
    from = 0;
  }
}

absl::Status LogReader::corruption(uint64_t offset, std::string_view reason) {
  return absl::DataLossError(absl::StrCat(path(), ": corrupt log at offset ", offset, ": ", text::absl_view(reason)));
}

absl::StatusOr<bool> LogReader::read_record(std::string_view* record) {
  if (ended_) {
    if (!final_.ok()) return final_;
    return false;
  }
  const auto end = [this](absl::Status status) -> absl::StatusOr<bool> {
    ended_ = true;
    final_ = std::move(status);
    if (!final_.ok()) return final_;
    return false;
  };
  scratch_.clear();
  bool in_record = false;
  uint64_t record_start = 0;
  for (;;) {
    LogFragment fragment;
    uint64_t offset = 0;
    absl::StatusOr<Next> next = next_fragment(&fragment, &offset);
    if (!next.ok()) return end(next.status());
    // A torn tail also ends a record whose first fragments were read.
    if (*next == Next::kEnd) return end(absl::OkStatus());
    if (*next == Next::kBad) return end(check_torn_tail());
    switch (fragment.type) {
      case LogFragmentType::kFull:
        if (in_record) {
          return end(corruption(offset, absl::StrCat("a whole record inside the record begun at offset ", record_start)));
        }
        last_record_offset_ = offset;
        valid_end_ = offset + fragment.encoded_size();
        *record = fragment.payload;
        return true;
      case LogFragmentType::kFirst:
        if (in_record) {
          return end(corruption(offset, absl::StrCat("a record's first fragment inside the record begun at offset ",
                                                      record_start)));
        }
        in_record = true;
        record_start = offset;
        scratch_.assign(fragment.payload.data(), fragment.payload.size());
        break;
      case LogFragmentType::kMiddle:
      case LogFragmentType::kLast:
        if (!in_record) return end(corruption(offset, "a record's later fragment with no first fragment before it"));
        scratch_.append(fragment.payload.data(), fragment.payload.size());
        if (fragment.type == LogFragmentType::kLast) {
          last_record_offset_ = record_start;
          valid_end_ = offset + fragment.encoded_size();
          *record = scratch_;
          return true;
        }
        break;
      case LogFragmentType::kZero:  // parse_log_fragment() rejects it
        return end(corruption(offset, "fragment type 0"));
    }
  }
}

}  // namespace usagedb::storage
