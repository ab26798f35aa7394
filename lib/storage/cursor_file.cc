#include "lib/storage/cursor_file.h"

#include "absl/strings/str_cat.h"
#include "lib/storage/framed_file.h"
#include "lib/util/coding.h"
#include "lib/util/text.h"

namespace usagedb::storage {
namespace {

constexpr std::string_view kMagic = "UDBCURSR";
constexpr uint32_t kVersion = 1;
constexpr std::string_view kPrefix = "cursor-";
constexpr std::string_view kSuffix = ".udbc";
constexpr size_t kMaxNameBytes = 64;

}  // namespace

absl::Status check_cursor_name(std::string_view name) {
  const auto allowed = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
           c == '-';
  };
  bool ok = !name.empty() && name.size() <= kMaxNameBytes && name != "." && name != "..";
  for (const char c : name) ok = ok && allowed(c);
  if (ok) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat("cursor name: expected 1 to ", kMaxNameBytes,
                                                 " bytes of letters, digits, '_', '.' and '-', got '",
                                                 text::absl_view(name), "'"));
}

std::string cursor_file_name(std::string_view name) {
  return absl::StrCat(text::absl_view(kPrefix), text::absl_view(name), text::absl_view(kSuffix));
}

std::optional<std::string> cursor_name_of_file(std::string_view file) {
  if (!file.starts_with(kPrefix) || !file.ends_with(kSuffix)) return std::nullopt;
  const std::string_view name = file.substr(kPrefix.size(), file.size() - kPrefix.size() - kSuffix.size());
  if (!check_cursor_name(name).ok()) return std::nullopt;
  return std::string(name);
}

std::string encode_cursor(std::string_view name, uint64_t sequence) {
  std::string body;
  coding::put_varint64(&body, sequence);
  coding::put_length_prefixed(&body, name);
  return frame_file(kMagic, kVersion, body);
}

absl::StatusOr<uint64_t> decode_cursor(std::string_view bytes, std::string_view name, std::string_view path) {
  absl::StatusOr<FramedBody> framed = unframe_file(bytes, kMagic, kVersion, path);
  if (!framed.ok()) return framed.status();
  std::string_view in = framed->body;
  uint64_t sequence;
  std::string_view stored;
  if (!coding::get_varint64(&in, &sequence) || !coding::get_length_prefixed(&in, &stored) || !in.empty()) {
    return absl::DataLossError(absl::StrCat(text::absl_view(path), ": malformed cursor"));
  }
  if (stored != name) {
    return absl::DataLossError(absl::StrCat(text::absl_view(path), ": holds the cursor '", text::absl_view(stored),
                                            "', not '", text::absl_view(name), "'"));
  }
  return sequence;
}

}  // namespace usagedb::storage
