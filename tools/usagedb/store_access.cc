#include "tools/usagedb/store_access.h"

#include <sys/stat.h>

#include "absl/strings/str_cat.h"

namespace usagedb::cli {

absl::StatusOr<std::unique_ptr<EventStore>> open_store(const std::string& directory, bool create) {
  // An empty directory would open an in-memory store: `ingest --store=` would
  // report success and keep nothing.
  if (directory.empty()) return absl::InvalidArgumentError("--store: expected a directory, got ''");
  struct stat st;
  if (!create && ::stat(directory.c_str(), &st) != 0) {
    return absl::NotFoundError(absl::StrCat("store '", directory,
                                            "' does not exist (create it with usagedb ingest or usagedb demo, "
                                            "or name another with --store DIR)"));
  }
  Options options;
  options.directory = directory;
  options.create_if_missing = create;
  return EventStore::open(options);
}

}  // namespace usagedb::cli
