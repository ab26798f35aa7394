// ScopedTempDir: a fresh directory for one test's files, removed with
// everything in it when the object goes out of scope.
//
//   testing::ScopedTempDir dir;
//   std::string path = dir.file("000001.log");
//
// Thread-safety: immutable after construction.
#ifndef USAGEDB_TESTS_TESTUTIL_TEMP_DIR_H_
#define USAGEDB_TESTS_TESTUTIL_TEMP_DIR_H_

#include <stdlib.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>

namespace usagedb::testing {

class ScopedTempDir {
 public:
  ScopedTempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "usagedb_test_XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) {
      std::perror("ScopedTempDir: mkdtemp");
      std::abort();
    }
    path_ = tmpl;
  }
  ~ScopedTempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  ScopedTempDir(const ScopedTempDir&) = delete;
  ScopedTempDir& operator=(const ScopedTempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string file(std::string_view name) const { return path_ + "/" + std::string(name); }

 private:
  std::string path_;
};

}  // namespace usagedb::testing

#endif  // USAGEDB_TESTS_TESTUTIL_TEMP_DIR_H_
