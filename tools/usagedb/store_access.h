// Opening the store a command works on (--store DIR, default ./usagedb-data).
#ifndef USAGEDB_TOOLS_USAGEDB_STORE_ACCESS_H_
#define USAGEDB_TOOLS_USAGEDB_STORE_ACCESS_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "usagedb/event_store.h"

namespace usagedb::cli {

// Opens the durable store in `directory`. Commands that only read it pass
// create = false, so a mistyped --store is an error rather than a new,
// empty store. InvalidArgumentError for an empty `directory` (which would
// otherwise be an in-memory store, gone when the command exits).
absl::StatusOr<std::unique_ptr<EventStore>> open_store(const std::string& directory, bool create);

}  // namespace usagedb::cli

#endif  // USAGEDB_TOOLS_USAGEDB_STORE_ACCESS_H_
