// Small helpers the test files share (one definition, so the test target can
// be built as a unity build: several test files in one translation unit).
#ifndef USAGEDB_TESTS_TESTUTIL_HELPERS_H_
#define USAGEDB_TESTS_TESTUTIL_HELPERS_H_

#include <fstream>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "gtest/gtest.h"
#include "usagedb/usagedb.h"

namespace usagedb::testing {

// A timestamp from a literal in a SPEC input form ("2024-03-01 12:00:00");
// a malformed literal throws (std::bad_optional_access), failing the test.
inline Timestamp at(const char* text) { return parse_timestamp(text).value(); }

// A Status's message as a std::string (Debian's Abseil has its own string_view).
inline std::string message(const absl::Status& status) { return std::string(status.message()); }

// Writes `bytes` to `path` (replacing it); a failed write fails the test.
inline void write_file(const std::string& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(out.good()) << path;
}

}  // namespace usagedb::testing

#endif  // USAGEDB_TESTS_TESTUTIL_HELPERS_H_
