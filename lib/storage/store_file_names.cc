#include "lib/storage/store_file_names.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace usagedb::storage {
namespace {

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

}  // namespace

std::string log_file_name(uint64_t number) { return absl::StrCat("log-", number, ".wal"); }
std::string quarantine_file_name(uint64_t number) { return absl::StrCat("quarantine-", number, ".log"); }
std::string part_file_name(uint32_t month, uint64_t number) {
  return absl::StrCat("part-", month, "-", number, ".udbp");
}
std::string dictionary_file_name(DictionaryColumn column, uint64_t number) {
  return absl::StrCat("dict-", column_name(column), "-", number, ".udbd");
}
std::string rollup_file_name(uint32_t month, uint64_t number) {
  return absl::StrCat("rollup-", month, "-", number, ".udbr");
}

bool is_store_file(std::string_view name) {
  return name.starts_with("log-") || name.starts_with("part-") || name.starts_with("dict-") ||
         name.starts_with("rollup-") || name.starts_with("quarantine-") || name == "MANIFEST.tmp";
}

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

std::optional<uint64_t> log_file_number(std::string_view name) { return number_in(name, "log-", ".wal"); }

}  // namespace usagedb::storage
