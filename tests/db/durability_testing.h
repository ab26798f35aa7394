// Helpers shared by the durability tests (recovery_test, corruption_test,
// crash_test): opening a durable store over a chosen FileSystem, simulating
// a power loss, reading back every stored event, and comparing a store with
// the brute-force Reference on all three endpoints.
//
//   FaultInjectionFileSystem fs(posix_without_fsync());
//   auto store = open_durable(dir.path(), &fs).value();
//   ... record, flush ...
//   crash(store, fs);                                   // no checkpoint, unsynced bytes lost
//   auto reopened = open_durable(dir.path()).value();
//   EXPECT_TRUE(matches_reference(*reopened, reference, /*seed=*/1, /*queries=*/50));
//
// Thread-safety: the functions are thread-compatible; a store they read must
// have no concurrent writer.
#ifndef USAGEDB_TESTS_DB_DURABILITY_TESTING_H_
#define USAGEDB_TESTS_DB_DURABILITY_TESTING_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "gtest/gtest.h"
#include "lib/db/event_store_impl.h"
#include "lib/gen/generator.h"
#include "lib/storage/file_system.h"
#include "tests/testutil/fault_injection_fs.h"
#include "tests/testutil/reference.h"

namespace usagedb::testing {

// The POSIX file system with fdatasync(2)/fsync(2) reduced to write(2), for
// tests that model power loss with a FaultInjectionFileSystem over it (which
// counts a sync as done when its base's sync returns): real fsyncs would
// only cost time (milliseconds each). Never destroyed.
storage::FileSystem* posix_without_fsync();

// Whether USAGEDB_LONG_TESTS=1: the durability tests then try more crash
// points and damaged offsets than the default, fast run.
bool long_tests();

// `options` with `dir` as its directory, opened over `fs`.
// With Options::cache_bytes 1 unless `options` set it: every lazy part read
// is evicted once no query uses it.
absl::StatusOr<std::unique_ptr<EventStoreImpl>> open_durable(const std::string& dir,
                                                             storage::FileSystem* fs = storage::FileSystem::posix(),
                                                             Options options = {});

// A power loss: the store goes away without its closing checkpoint (every
// mutating file operation fails from now on, so nothing more reaches the
// disk), then every file loses what was not synced. `fs` is healthy again
// afterwards. REQUIRES: `store` was opened over `fs`.
void crash(std::unique_ptr<EventStoreImpl>& store, FaultInjectionFileSystem& fs);

// Every event the store holds (parts, sealing and active buffers), sorted.
// Waits for the background thread first. REQUIRES: no concurrent writer.
std::vector<OwnedEvent> stored_events(EventStoreImpl& store);

// Every event of a generator with these options, owned.
std::vector<OwnedEvent> generate_events(const gen::GeneratorOptions& options);
// events[begin, end) as views (they borrow from `events`).
std::vector<Event> views(const std::vector<OwnedEvent>& events, size_t begin, size_t end);
// `events` sorted the same way, for comparison with stored_events().
std::vector<OwnedEvent> sorted(std::vector<OwnedEvent> events);
bool same_event(const OwnedEvent& a, const OwnedEvent& b);

// Success when `store` holds exactly the reference's events and answers
// `queries` random requests of each endpoint (drawn from the reference's
// values, with paging and date windows) with the reference's rows.
::testing::AssertionResult matches_reference(EventStoreImpl& store, const Reference& reference, uint64_t seed,
                                             int queries);

// The quarantine's rows, comparable (inserted_at included).
bool same_quarantine(const std::vector<QuarantinedRow>& a, const std::vector<QuarantinedRow>& b);

// Copies every regular file of `from` into the existing directory `to`.
void copy_dir(const std::string& from, const std::string& to);
// The names of the regular files in `dir`, sorted.
std::vector<std::string> file_names(const std::string& dir);
// The whole content of `path` (empty when it cannot be read).
std::string file_bytes(const std::string& path);
// End offsets of each whole record of the log file `path`, in order.
std::vector<uint64_t> log_record_ends(const std::string& path);

// An NDJSON line the store quarantines (a month that does not exist).
inline constexpr const char* kBadLine = R"({"user_id":"u","timestamp":"2025-13-01 00:00:00"})";

}  // namespace usagedb::testing

#endif  // USAGEDB_TESTS_DB_DURABILITY_TESTING_H_
