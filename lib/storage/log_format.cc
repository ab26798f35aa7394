#include "lib/storage/log_format.h"

#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "lib/util/coding.h"
#include "lib/util/hash.h"
#include "lib/util/text.h"

namespace usagedb::storage {
namespace {

constexpr size_t kMagicOffset = 0;
constexpr size_t kVersionOffset = 8;
constexpr size_t kNumberOffset = 12;
constexpr size_t kHeaderChecksumOffset = 20;

// The fragment's checksum covers its length and type bytes, then the payload.
uint64_t fragment_checksum(const char* header, std::string_view payload) {
  return hash::checksum(std::string_view(header + 8, 3), payload);
}

}  // namespace

std::string encode_log_file_header(uint64_t log_number) {
  std::string header(kLogFileHeaderSize, '\0');
  header.replace(kMagicOffset, kLogMagic.size(), kLogMagic);
  coding::encode_fixed32(&header[kVersionOffset], kLogFormatVersion);
  coding::encode_fixed64(&header[kNumberOffset], log_number);
  coding::encode_fixed64(&header[kHeaderChecksumOffset],
                         hash::checksum(std::string_view(header).substr(0, kHeaderChecksumOffset)));
  return header;
}

absl::StatusOr<uint64_t> decode_log_file_header(std::string_view bytes, std::string_view file_name) {
  const absl::string_view name = text::absl_view(file_name);
  if (bytes.size() < kLogFileHeaderSize) {
    return absl::DataLossError(absl::StrCat(name, ": too short to be a usagedb log (", bytes.size(),
                                            " bytes; its file header alone is ", kLogFileHeaderSize, ")"));
  }
  if (bytes.substr(kMagicOffset, kLogMagic.size()) != kLogMagic) {
    return absl::DataLossError(absl::StrCat(name, ": not a usagedb log: its first bytes are \"",
                                            text::excerpt(bytes.substr(0, kLogMagic.size())), "\", expected \"",
                                            text::excerpt(kLogMagic), "\""));
  }
  const uint64_t stored = coding::decode_fixed64(bytes.data() + kHeaderChecksumOffset);
  if (stored != hash::checksum(bytes.substr(0, kHeaderChecksumOffset))) {
    return absl::DataLossError(
        absl::StrCat(name, ": log file header checksum mismatch (bytes 0-", kLogFileHeaderSize - 1, ")"));
  }
  const uint32_t version = coding::decode_fixed32(bytes.data() + kVersionOffset);
  if (version != kLogFormatVersion) {
    return absl::FailedPreconditionError(absl::StrCat(name, ": log format version ", version,
                                                      " is not supported (this build reads version ",
                                                      kLogFormatVersion, "); open it with the usagedb that wrote it"));
  }
  return coding::decode_fixed64(bytes.data() + kNumberOffset);
}

void encode_log_fragment_header(LogFragmentType type, std::string_view payload, char* out) {
  coding::encode_fixed16(out + 8, static_cast<uint16_t>(payload.size()));
  out[10] = static_cast<char>(type);
  coding::encode_fixed64(out, fragment_checksum(out, payload));
}

size_t find_fragment_type_byte(std::string_view bytes) {
  static_assert(kLogMaxFragmentType == 4, "the word test below looks for bytes 1..4");
  constexpr uint64_t kOnes = ~uint64_t{0} / 255;  // 0x0101...01
  size_t i = 0;
  // Eight bytes at a time: "some byte b has 0 < b < 5", the hasbetween(x, 0,
  // 5) of graphics.stanford.edu/~seander/bithacks.html. A word that may hold
  // one is searched bytewise below.
  for (; i + 8 <= bytes.size(); i += 8) {
    uint64_t x;
    std::memcpy(&x, bytes.data() + i, 8);
    const uint64_t low7 = x & (kOnes * 127);
    if ((((kOnes * (127 + 5)) - low7) & ~x & (low7 + kOnes * 127) & (kOnes * 128)) != 0) break;
  }
  for (; i < bytes.size(); ++i) {
    if (static_cast<uint8_t>(bytes[i]) - 1u < kLogMaxFragmentType) return i;
  }
  return bytes.size();
}

FragmentParse parse_log_fragment(std::string_view bytes, LogFragment* out) {
  if (bytes.size() < kLogFragmentHeaderSize) return FragmentParse::kTruncated;
  const char* header = bytes.data();
  const auto type = static_cast<uint8_t>(header[10]);
  // Checked before the length and checksum: it is what rejects most garbage
  // cheaply when the reader scans for valid fragments.
  if (type == 0 || type > kLogMaxFragmentType) return FragmentParse::kBadType;
  const size_t length = coding::decode_fixed16(header + 8);
  if (kLogFragmentHeaderSize + length > bytes.size()) return FragmentParse::kTruncated;
  const std::string_view payload = bytes.substr(kLogFragmentHeaderSize, length);
  if (coding::decode_fixed64(header) != fragment_checksum(header, payload)) return FragmentParse::kChecksumMismatch;
  out->type = static_cast<LogFragmentType>(type);
  out->payload = payload;
  return FragmentParse::kOk;
}

}  // namespace usagedb::storage
