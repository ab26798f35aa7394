// The on-disk format of the write-ahead log, shared by LogWriter and
// LogReader; lib/storage/log_format.md explains it and the recovery rules.
//
//   file    := file_header fragment* (in 32 KiB blocks; a block's last < 11
//              bytes are zero padding when no fragment header fits)
//   header  := magic[8] version:fixed32 log_number:fixed64 checksum:fixed64
//   fragment:= checksum:fixed64 length:fixed16 type:u8 payload[length]
//
// A record (an opaque byte string) is one kFull fragment, or a kFirst, any
// number of kMiddle and a kLast fragment when it does not fit in the rest of
// its block. A fragment never crosses a block boundary.
//
// Thread-safety: constants and pure functions.
#ifndef USAGEDB_STORAGE_LOG_FORMAT_H_
#define USAGEDB_STORAGE_LOG_FORMAT_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace usagedb::storage {

// "\x89" catches 7-bit transfers, "\n" newline conversion (as PNG's magic).
inline constexpr std::string_view kLogMagic{"\x89UDBLOG\n", 8};
inline constexpr uint32_t kLogFormatVersion = 1;
inline constexpr size_t kLogFileHeaderSize = 8 + 4 + 8 + 8;

inline constexpr size_t kLogBlockSize = 32 * 1024;
inline constexpr size_t kLogFragmentHeaderSize = 8 + 2 + 1;

enum class LogFragmentType : uint8_t {
  kZero = 0,  // never written, so zero-filled bytes never parse
  kFull = 1,
  kFirst = 2,
  kMiddle = 3,
  kLast = 4,
};
inline constexpr uint8_t kLogMaxFragmentType = 4;

// The file header of log `log_number`: kLogFileHeaderSize bytes.
std::string encode_log_file_header(uint64_t log_number);

// The log number in a file header. `bytes` holds at least the header's bytes
// or the whole file; `file_name` goes into error messages.
// Errors: DataLossError for a short file, wrong magic bytes or a checksum
// mismatch; FailedPreconditionError for a format version this build does not
// read.
absl::StatusOr<uint64_t> decode_log_file_header(std::string_view bytes, std::string_view file_name);

// Writes the kLogFragmentHeaderSize-byte header of a fragment holding
// `payload` to `out`. REQUIRES: payload.size() <= kLogBlockSize -
// kLogFragmentHeaderSize.
void encode_log_fragment_header(LogFragmentType type, std::string_view payload, char* out);

struct LogFragment {
  LogFragmentType type = LogFragmentType::kZero;
  std::string_view payload;
  size_t encoded_size() const { return kLogFragmentHeaderSize + payload.size(); }
};

enum class FragmentParse {
  kOk,
  kTruncated,         // fewer bytes than the header, or than its length says
  kBadType,           // type byte not kFull..kLast
  kChecksumMismatch,
};

// The index of the first byte of `bytes` that could be a fragment's type
// byte (1..kLogMaxFragmentType), or bytes.size(): the fast path of the
// reader's search for valid fragments in a damaged tail.
size_t find_fragment_type_byte(std::string_view bytes);

// Parses the fragment at the front of `bytes` (which ends where its block,
// or the file, ends). On kOk, `*out` points into `bytes`.
FragmentParse parse_log_fragment(std::string_view bytes, LogFragment* out);

}  // namespace usagedb::storage

#endif  // USAGEDB_STORAGE_LOG_FORMAT_H_
