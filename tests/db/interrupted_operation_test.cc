// A crash at every step of a checkpoint, compact(), delete_user(),
// drop_partitions_before() and clear_quarantine(): the fault injecting file
// system fails the Nth mutating file operation and every one after it (the
// process "dies" there, nothing more reaches the disk), the unsynced bytes
// are dropped, and a reopen with a healthy file system must find the state
// before the operation or after it, never a mix, and every event a flush()
// acknowledged. N runs from 0 until the operation completes.
#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "lib/gen/generator.h"
#include "tests/db/durability_testing.h"
#include "tests/testutil/temp_dir.h"

namespace usagedb::testing {
namespace {

enum class Operation { kCheckpoint, kCompact, kDeleteUser, kDropPartitions, kClearQuarantine };

constexpr uint32_t kDropBefore = 202502;

// What a reopened store may hold.
struct Outcome {
  std::string name;
  Reference reference;
  size_t quarantined = 0;
};

std::vector<OwnedEvent> few_user_events(uint64_t n, uint64_t seed) {
  return generate_events({.events = n, .seed = seed, .users = 30, .features = 6, .versions = 4, .months = 3});
}

void add(Reference& reference, const std::vector<OwnedEvent>& events, size_t begin, size_t end) {
  for (size_t i = begin; i < end; ++i) reference.record(events[i].view());
}

// Which outcome the store holds, or a failure naming every candidate.
::testing::AssertionResult holds_one_of(EventStoreImpl& store, const std::vector<Outcome>& outcomes,
                                        std::string* which) {
  const std::vector<OwnedEvent> got = stored_events(store);
  const size_t quarantined = store.quarantine()->size();
  for (const Outcome& o : outcomes) {
    const std::vector<OwnedEvent> want = sorted(o.reference.events());
    if (quarantined != o.quarantined || !std::equal(got.begin(), got.end(), want.begin(), want.end(), same_event)) {
      continue;
    }
    *which = o.name;
    return matches_reference(store, o.reference, got.size(), 5);
  }
  auto failure = ::testing::AssertionFailure() << "the store holds " << got.size() << " events and " << quarantined
                                               << " quarantined rows, which is none of:";
  for (const Outcome& o : outcomes) {
    failure << " [" << o.name << ": " << o.reference.events().size() << " events, " << o.quarantined << " rows]";
  }
  return failure;
}

class InterruptedOperationTest : public ::testing::TestWithParam<Operation> {
 protected:
  absl::Status run(EventStoreImpl& store, const std::string& user) {
    switch (GetParam()) {
      case Operation::kCheckpoint:
        return store.checkpoint();
      case Operation::kCompact:
        return store.compact();
      case Operation::kDeleteUser:
        return store.delete_user(user).status();
      case Operation::kDropPartitions:
        return store.drop_partitions_before(kDropBefore).status();
      case Operation::kClearQuarantine:
        return store.clear_quarantine().status();
    }
    return absl::InternalError("unknown operation");
  }
  // `reference` after the operation (the quarantine's size in `quarantined`).
  Reference apply(Reference reference, const std::string& user, size_t* quarantined) {
    switch (GetParam()) {
      case Operation::kDeleteUser:
        reference.delete_user(user);
        break;
      case Operation::kDropPartitions:
        reference.drop_partitions_before(kDropBefore);
        break;
      case Operation::kClearQuarantine:
        *quarantined = 0;
        break;
      default:
        break;
    }
    return reference;
  }
  bool changes_data() const { return GetParam() != Operation::kCheckpoint && GetParam() != Operation::kCompact; }
};

TEST_P(InterruptedOperationTest, CrashAtEveryStepLeavesTheStateBeforeOrAfter) {
  // A: checkpointed; B: flushed; B2: recorded, not flushed; C: recorded and
  // flushed after the interrupted operation; E: after the reopen.
  constexpr size_t kA = 200, kB = 350, kB2 = 390, kC = 400, kE = 403;
  const Options options{.part_rows = 32, .checkpoint_log_bytes = 1 << 30, .background_threads = false};
  std::vector<OwnedEvent> events = few_user_events(kE, 29);
  for (size_t i = kC; i < kE; ++i) events[i].timestamp = events[kB2 - 1].timestamp;  // a partition with a buffer
  const std::string user = events[0].user_id;
  bool completed = false;
  int before = 0, after = 0;
  uint64_t budget = 0;
  for (; !completed && budget < 2000; ++budget) {
    SCOPED_TRACE(absl::StrCat("the operation fails from mutating file operation ", budget));
    ScopedTempDir dir;
    FaultInjectionFileSystem fs(posix_without_fsync());
    auto store = open_durable(dir.path(), &fs, options);
    ASSERT_TRUE(store.ok()) << store.status();
    for (size_t i = 0; i < kA; i += 50) ASSERT_TRUE((*store)->record_events(views(events, i, i + 50)).ok());
    ASSERT_TRUE((*store)->ingest_ndjson(kBadLine).ok());
    ASSERT_TRUE((*store)->checkpoint().ok());
    for (size_t i = kA; i < kB; i += 50) ASSERT_TRUE((*store)->record_events(views(events, i, i + 50)).ok());
    ASSERT_TRUE((*store)->ingest_ndjson(kBadLine).ok());
    ASSERT_TRUE((*store)->flush().ok());
    ASSERT_TRUE((*store)->record_events(views(events, kB, kB2)).ok());

    fs.set_operation_budget(budget);
    completed = run(**store, user).ok();
    fs.clear_faults();
    const bool acknowledged = (*store)->record_events(views(events, kB2, kC)).ok() && (*store)->flush().ok();
    ASSERT_NO_FATAL_FAILURE(crash(*store, fs));

    Reference flushed, pre;
    add(flushed, events, 0, kB);
    add(pre, events, 0, kB2);
    size_t quarantined_after = 2;
    Reference post = apply(pre, user, &quarantined_after);
    std::vector<Outcome> outcomes;
    if (acknowledged) {
      // flush() acknowledges B2 as well as C.
      add(pre, events, kB2, kC);
      add(post, events, kB2, kC);
      if (!completed) outcomes.push_back({"before", pre, 2});
      outcomes.push_back({"after", post, quarantined_after});
    } else {
      ASSERT_FALSE(completed);
      outcomes.push_back({"before, unflushed events lost", flushed, 2});
      outcomes.push_back({"before", pre, 2});
      outcomes.push_back({"after", post, quarantined_after});
    }
    store = open_durable(dir.path(), &fs, options);
    ASSERT_TRUE(store.ok()) << store.status();
    std::string which;
    ASSERT_TRUE(holds_one_of(**store, outcomes, &which));
    ++(which == "after" ? after : before);

    // The reopened store goes on: a flushed write, then the same crash in a
    // checkpoint, loses nothing.
    Outcome next = *std::find_if(outcomes.begin(), outcomes.end(), [&](const Outcome& o) { return o.name == which; });
    ASSERT_TRUE((*store)->record_events(views(events, kC, kE)).ok());
    ASSERT_TRUE((*store)->flush().ok());
    add(next.reference, events, kC, kE);
    fs.set_operation_budget(budget);
    (*store)->checkpoint().IgnoreError();
    fs.clear_faults();
    ASSERT_NO_FATAL_FAILURE(crash(*store, fs));
    store = open_durable(dir.path(), &fs, options);
    ASSERT_TRUE(store.ok()) << store.status();
    ASSERT_TRUE(holds_one_of(**store, {next}, &which)) << "after a second interrupted checkpoint";
  }
  EXPECT_TRUE(completed) << "the operation did not complete within " << budget << " file operations";
  EXPECT_GT(budget, GetParam() == Operation::kClearQuarantine ? 8u : 30u) << "too few steps to mean anything";
  EXPECT_GT(before, 0);
  if (changes_data()) EXPECT_GT(after, 1) << "no crash left the operation's effect";
}

std::string operation_name(const ::testing::TestParamInfo<Operation>& info) {
  switch (info.param) {
    case Operation::kCheckpoint:
      return "Checkpoint";
    case Operation::kCompact:
      return "Compact";
    case Operation::kDeleteUser:
      return "DeleteUser";
    case Operation::kDropPartitions:
      return "DropPartitionsBefore";
    case Operation::kClearQuarantine:
      return "ClearQuarantine";
  }
  return "Unknown";
}

INSTANTIATE_TEST_SUITE_P(Operations, InterruptedOperationTest,
                         ::testing::Values(Operation::kCheckpoint, Operation::kCompact, Operation::kDeleteUser,
                                           Operation::kDropPartitions, Operation::kClearQuarantine),
                         operation_name);

}  // namespace
}  // namespace usagedb::testing
