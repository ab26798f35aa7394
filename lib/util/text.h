// Small string helpers shared by error messages and output.
#ifndef USAGEDB_UTIL_TEXT_H_
#define USAGEDB_UTIL_TEXT_H_

#include <string>
#include <string_view>

#include "absl/strings/string_view.h"

namespace usagedb::text {

// A printable excerpt of arbitrary bytes for an error message: at most
// `max_bytes` bytes, control bytes shown as \xNN, "..." when cut.
std::string excerpt(std::string_view s, size_t max_bytes = 80);

// Debian's Abseil has its own absl::string_view (not std::string_view);
// StrCat and friends take this.
inline absl::string_view absl_view(std::string_view s) { return absl::string_view(s.data(), s.size()); }

// True when `s` is well-formed UTF-8 (no overlongs, no surrogates).
bool is_valid_utf8(std::string_view s);

}  // namespace usagedb::text

#endif  // USAGEDB_UTIL_TEXT_H_
