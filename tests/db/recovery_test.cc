// Recovery: a durable store reopens to exactly what it acknowledged. Round
// trips through a clean close, crashes (a power loss simulated by the fault
// injecting file system: no closing checkpoint, unsynced bytes lost), torn
// write-ahead log tails, the store lock, options.sync, dedup state,
// durable maintenance (delete_user, retention, clearing the quarantine) and
// write-ahead log failures. Crashes in the middle of a checkpoint, compact()
// or delete_user() are in interrupted_operation_test.cc.
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/gen/generator.h"
#include "tests/db/durability_testing.h"
#include "tests/testutil/helpers.h"
#include "tests/testutil/printers.h"
#include "tests/testutil/random_events.h"
#include "tests/testutil/temp_dir.h"

namespace usagedb::testing {
namespace {

using ::testing::HasSubstr;

using ::usagedb::testing::message;

// Rejected lines for an NDJSON input: not JSON, an invalid timestamp, missing
// fields, a field of the wrong type.
constexpr const char* kBadLines[] = {
    "not json at all",
    R"({"event_id":"bad_1","user_id":"u","feature_id":"f","product_version":"1","event_type":"view","timestamp":"2025-13-01 00:00:00"})",
    R"({"user_id":"u"})",
    R"({"event_id":"bad_2","user_id":"u","feature_id":"f","product_version":"1","event_type":"view","timestamp":"2025-01-01 00:00:00","metadata":42})",
};

// `events` as NDJSON with every bad line after every `every`-th event.
std::string ndjson(const std::vector<OwnedEvent>& events, size_t every) {
  std::string text;
  for (size_t i = 0; i < events.size(); ++i) {
    gen::Generator::append_ndjson(events[i].view(), &text);
    if (i % every == every - 1) {
      for (const char* bad : kBadLines) absl::StrAppend(&text, bad, "\n");
    }
  }
  return text;
}

std::vector<OwnedEvent> generated(uint64_t n, uint64_t seed, uint32_t months = 3) {
  return generate_events({.events = n, .seed = seed, .users = 60, .features = 8, .versions = 5, .months = months});
}

// Records events[begin, end) through record_event (single) or record_events.
void record(EventStore& store, Reference& reference, const std::vector<OwnedEvent>& events, size_t begin, size_t end) {
  const std::vector<Event> batch = views(events, begin, end);
  uint64_t stored = 0;
  for (const Event& e : batch) stored += reference.record(e);
  if (batch.size() == 1) {
    ASSERT_TRUE(store.record_event(batch[0]).ok());
    return;
  }
  auto report = store.record_events(batch);
  ASSERT_TRUE(report.ok()) << report.status();
  ASSERT_EQ(report->successful_rows, stored);
}

absl::StatusOr<std::unique_ptr<EventStoreImpl>> reopen(const std::string& dir, storage::FileSystem* fs,
                                                       Options options = {}) {
  return open_durable(dir, fs, options);
}

struct RoundTripConfig {
  size_t part_rows;
  bool background_threads;
};

class RoundTripTest : public ::testing::TestWithParam<RoundTripConfig> {};

// Records, ingests (with rejected lines), closes and reopens, crashes and
// reopens, runs maintenance and reopens: every time the store answers as the
// reference does, and the quarantine comes back as it was.
TEST_P(RoundTripTest, ReopenedStoreAnswersAsBefore) {
  const Options options{.part_rows = GetParam().part_rows, .background_threads = GetParam().background_threads};
  ScopedTempDir dir;
  FaultInjectionFileSystem fs(posix_without_fsync());
  Reference reference;
  RandomEvents gen(GetParam().part_rows);
  const std::vector<OwnedEvent> events = gen.events(3000);
  auto store = open_durable(dir.path(), &fs, options);
  ASSERT_TRUE(store.ok()) << store.status();
  size_t i = 0;
  const auto write_until = [&](size_t end) {
    while (i < end) {
      const size_t n = std::min<size_t>(end - i, 1 + gen.random().uniform(200));
      if (gen.random().chance(0.3)) {
        std::vector<OwnedEvent> slice(events.begin() + i, events.begin() + i + n);
        uint64_t stored = 0;
        for (const OwnedEvent& e : slice) stored += reference.record(e.view());
        auto report = (*store)->ingest_ndjson(ndjson(slice, 50));
        ASSERT_TRUE(report.ok()) << report.status();
        ASSERT_EQ(report->successful_rows, stored);
        ASSERT_EQ(report->quarantined_rows, (n / 50) * std::size(kBadLines));
      } else {
        ASSERT_NO_FATAL_FAILURE(record(**store, reference, events, i, i + n));
      }
      i += n;
    }
  };

  // 1. A clean close: the closing checkpoint leaves everything in parts.
  ASSERT_NO_FATAL_FAILURE(write_until(1200));
  ASSERT_TRUE(matches_reference(**store, reference, 1, 30));
  const std::vector<QuarantinedRow> quarantine = (*store)->quarantine().value();
  ASSERT_GT(quarantine.size(), 0u);
  store->reset();
  store = reopen(dir.path(), &fs, options);
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_TRUE(matches_reference(**store, reference, 2, 150));
  EXPECT_TRUE(same_quarantine((*store)->quarantine().value(), quarantine));

  // 2. A crash after flush(): the parts plus the replayed log.
  ASSERT_NO_FATAL_FAILURE(write_until(2400));
  ASSERT_TRUE((*store)->flush().ok());
  const std::vector<QuarantinedRow> quarantine2 = (*store)->quarantine().value();
  ASSERT_GT(quarantine2.size(), quarantine.size());
  ASSERT_NO_FATAL_FAILURE(crash(*store, fs));
  store = reopen(dir.path(), &fs, options);
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_TRUE(matches_reference(**store, reference, 3, 150));
  EXPECT_TRUE(same_quarantine((*store)->quarantine().value(), quarantine2));

  // 3. Maintenance, more writes, a clean close.
  ASSERT_TRUE((*store)->compact().ok());
  const std::string user = gen.users()[0];
  ASSERT_EQ((*store)->delete_user(user).value(), reference.delete_user(user));
  ASSERT_EQ((*store)->drop_partitions_before(197002).value(), reference.drop_partitions_before(197002));
  ASSERT_NO_FATAL_FAILURE(write_until(events.size()));
  ASSERT_TRUE(matches_reference(**store, reference, 4, 30));
  store->reset();
  store = reopen(dir.path(), &fs, options);
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_TRUE(matches_reference(**store, reference, 5, 150));
}

INSTANTIATE_TEST_SUITE_P(Configs, RoundTripTest,
                         ::testing::Values(RoundTripConfig{1 << 20, true},  // buffers only
                                           RoundTripConfig{64, true},       // parts, seals and merges
                                           RoundTripConfig{16, false}),     // sealing inline
                         [](const auto& info) {
                           return absl::StrCat("rows", info.param.part_rows,
                                               info.param.background_threads ? "" : "_inline");
                         });

// Several rounds of writes and crashes: what a completed flush() (or a
// checkpoint) acknowledged survives, what was written after it is lost (the
// crash simulation does lose data), and nothing is stored twice.
// A process that has written nothing merges nothing (it would throw the
// merge away at its close, which writes nothing, and hold the merged parts
// in memory meanwhile); its first write lets the merges run.
TEST(Recovery, AReaderMergesNothingItsFirstWriteDoes) {
  ScopedTempDir dir;
  const std::vector<OwnedEvent> events = generate_events({.events = 3000, .seed = 5, .users = 50, .months = 1});
  const std::vector<Event> all = views(events, 0, events.size());
  uint64_t parts_written = 0;
  {
    // Small parts, no merge thread: the closing checkpoint leaves them all.
    auto store = open_durable(dir.path(), storage::FileSystem::posix(), {.part_rows = 64, .background_threads = false});
    ASSERT_TRUE(store.ok()) << store.status();
    for (size_t i = 0; i + 1 < all.size(); i += 100) {
      ASSERT_TRUE((*store)->record_events(std::span(all).subspan(i, std::min<size_t>(100, all.size() - 1 - i))).ok());
      ASSERT_TRUE((*store)->checkpoint().ok());
    }
    parts_written = (*store)->stats()->parts;
  }
  ASSERT_GT(parts_written, 8u);
  auto store = open_durable(dir.path(), storage::FileSystem::posix(), {.part_rows = 64});
  ASSERT_TRUE(store.ok()) << store.status();
  (*store)->wait_for_background_work();
  EXPECT_EQ((*store)->stats()->parts, parts_written) << "a reader merged";
  ASSERT_TRUE((*store)->record_event(all.back()).ok());
  // The write itself wakes the merge thread (it seals nothing): wait for the
  // merges without wait_for_background_work, which would wake it too.
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  while ((*store)->stats()->parts >= parts_written && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(5));
  EXPECT_LT((*store)->stats()->parts, parts_written) << "the first write did not let merges run";
  (*store)->wait_for_background_work();
  const std::vector<OwnedEvent> got = stored_events(**store);
  const std::vector<OwnedEvent> want = sorted(events);
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) ASSERT_TRUE(same_event(got[i], want[i])) << i;
}

TEST(Recovery, CrashKeepsExactlyWhatWasFlushed) {
  const Options options{.part_rows = 32};
  ScopedTempDir dir;
  FaultInjectionFileSystem fs(posix_without_fsync());
  const std::vector<OwnedEvent> events = generated(4000, 7);
  Reference acknowledged;
  size_t i = 0;
  for (int round = 0; round < 5; ++round) {
    SCOPED_TRACE(absl::StrCat("round ", round));
    auto store = reopen(dir.path(), &fs, options);
    ASSERT_TRUE(store.ok()) << store.status();
    ASSERT_TRUE(matches_reference(**store, acknowledged, round, 20));
    Reference all = acknowledged;
    for (int batch = 0; batch < 6; ++batch) {
      const size_t n = 1 + batch * 37 % 120;
      ASSERT_NO_FATAL_FAILURE(record(**store, all, events, i, i + n));
      i += n;
    }
    if (round == 2) {
      ASSERT_TRUE((*store)->compact().ok());  // a checkpoint: durable without a flush
    } else {
      ASSERT_TRUE((*store)->flush().ok());
    }
    acknowledged = all;
    // Retries of acknowledged events are duplicates, even before the crash.
    auto retry = (*store)->record_events(views(events, i - 20, i));
    ASSERT_TRUE(retry.ok());
    EXPECT_EQ(retry->duplicate_rows, 20u);
    ASSERT_NO_FATAL_FAILURE(record(**store, all, events, i, i + 50));  // never flushed: lost
    i += 50;
    ASSERT_NO_FATAL_FAILURE(crash(*store, fs));
    i -= 50;  // the next round records them again
  }
  auto store = reopen(dir.path(), &fs, options);
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_TRUE(matches_reference(**store, acknowledged, 99, 100));
}

// A crash during an append leaves a partial record at the end of the newest
// log: the store opens, keeps exactly the whole records, and appends after
// them.
TEST(Recovery, TornLogTailKeepsExactlyTheWholeRecords) {
  const Options options{.background_threads = false};
  ScopedTempDir dir;
  FaultInjectionFileSystem fs(posix_without_fsync());
  const std::vector<OwnedEvent> events = generated(1200, 11);
  // Batch i ends at bounds[i]; the second to last is longer than a 32 KiB
  // log block, so it is written as FIRST, MIDDLE... LAST fragments.
  std::vector<size_t> bounds;
  for (size_t end = 5; end <= 200; end += 5) bounds.push_back(end);
  bounds.push_back(1000);
  bounds.push_back(1010);
  {
    auto store = open_durable(dir.path(), &fs, options);
    ASSERT_TRUE(store.ok()) << store.status();
    Reference ignored;
    size_t begin = 0;
    for (const size_t end : bounds) {
      ASSERT_NO_FATAL_FAILURE(record(**store, ignored, events, begin, end));
      ASSERT_TRUE((*store)->flush().ok());
      begin = end;
    }
    ASSERT_NO_FATAL_FAILURE(crash(*store, fs));  // everything synced: the log keeps every batch
  }
  std::string log_name;
  for (const std::string& name : file_names(dir.path())) {
    if (name.starts_with("log-")) log_name = name;
  }
  ASSERT_FALSE(log_name.empty());
  const std::vector<uint64_t> ends = log_record_ends(dir.file(log_name));
  ASSERT_EQ(ends.size(), bounds.size());
  ASSERT_GT(ends.back() - ends[ends.size() - 3], 32u << 10);

  // Offsets inside the last three records: every byte near their starts,
  // ends and the block boundaries, and a spread in between (denser in the
  // long run).
  std::set<uint64_t> offsets;
  const uint64_t first = ends[ends.size() - 4];
  for (uint64_t o = first; o < ends.back(); o += long_tests() ? 97 : 997) offsets.insert(o);
  for (size_t r = ends.size() - 4; r < ends.size(); ++r) {
    for (uint64_t d = 0; d < 24; ++d) {
      offsets.insert(ends[r] - d);
      if (ends[r] + d < ends.back()) offsets.insert(ends[r] + d);
    }
  }
  for (uint64_t block = 32768; block < ends.back(); block += 32768) {
    for (uint64_t o = block - 12; o < block + 13; ++o) offsets.insert(o);
  }
  int checked = 0;
  for (const uint64_t offset : offsets) {
    SCOPED_TRACE(absl::StrCat("log truncated to ", offset, " bytes"));
    ScopedTempDir copy;
    copy_dir(dir.path(), copy.path());
    std::filesystem::resize_file(copy.file(log_name), offset);
    Reference reference;
    size_t kept = 0;
    while (kept < ends.size() && ends[kept] <= offset) ++kept;
    for (size_t e = 0; e < (kept == 0 ? 0 : bounds[kept - 1]); ++e) reference.record(events[e].view());
    // Each store is crashed rather than closed: a closing checkpoint would
    // cost a dozen fsyncs per offset.
    FaultInjectionFileSystem copy_fs(posix_without_fsync());
    auto store = open_durable(copy.path(), &copy_fs, options);
    ASSERT_TRUE(store.ok()) << store.status();
    ASSERT_TRUE(matches_reference(**store, reference, offset, 2));
    if (++checked % 8 == 0) {
      // The torn tail is gone from the file: records appended now are
      // replayed after the kept ones.
      ASSERT_NO_FATAL_FAILURE(record(**store, reference, events, 1010, 1200));
      ASSERT_TRUE((*store)->flush().ok());
      ASSERT_NO_FATAL_FAILURE(crash(*store, copy_fs));
      store = open_durable(copy.path(), &copy_fs, options);
      ASSERT_TRUE(store.ok()) << store.status();
      ASSERT_TRUE(matches_reference(**store, reference, offset, 2));
    }
    ASSERT_NO_FATAL_FAILURE(crash(*store, copy_fs));
  }
  EXPECT_GT(checked, 150);
}

// A checkpoint interrupted after it started log n+1 leaves that log, whose
// number is above the MANIFEST's next_file_number (the counter moved on
// while parts were sealed). The reopened store must number its new files
// above it: reusing the number made a later checkpoint fail ("log file ...
// already exists", found by CrashTest), and a new log numbered below the
// orphan one would be replayed before older records (and the orphan never
// deleted, so replayed again). Half the events have no event_id, so a
// record replayed twice shows as a duplicate row.
TEST(Recovery, FileNumbersAreNotReusedAfterACrashInACheckpoint) {
  const Options options{.part_rows = 32, .checkpoint_log_bytes = 1 << 30, .background_threads = false};
  std::vector<OwnedEvent> events = generated(368, 37);
  for (size_t i = 0; i < events.size(); i += 2) events[i].event_id.clear();
  bool completed = false;
  int orphan_logs = 0;
  for (uint64_t budget = 0; !completed && budget < 500; ++budget) {
    SCOPED_TRACE(absl::StrCat("the checkpoint fails from mutating file operation ", budget));
    ScopedTempDir dir;
    FaultInjectionFileSystem fs(posix_without_fsync());
    Reference reference;
    auto store = open_durable(dir.path(), &fs, options);
    ASSERT_TRUE(store.ok()) << store.status();
    // Sealing 32-row parts moves the counter past the MANIFEST's.
    for (size_t i = 0; i < 128; i += 32) ASSERT_NO_FATAL_FAILURE(record(**store, reference, events, i, i + 32));
    ASSERT_TRUE((*store)->checkpoint().ok());
    for (size_t i = 128; i < 288; i += 32) ASSERT_NO_FATAL_FAILURE(record(**store, reference, events, i, i + 32));
    ASSERT_TRUE((*store)->flush().ok());
    fs.set_operation_budget(budget);
    completed = (*store)->checkpoint().ok();
    fs.clear_faults();
    ASSERT_NO_FATAL_FAILURE(crash(*store, fs));
    int logs = 0;
    for (const std::string& name : file_names(dir.path())) logs += name.starts_with("log-") && name.ends_with(".wal");
    orphan_logs += logs > 1;

    // Enough checkpoints to use every number up to and past the orphan's.
    store = open_durable(dir.path(), &fs, options);
    ASSERT_TRUE(store.ok()) << store.status();
    for (size_t i = 288; i < 368; i += 4) {
      ASSERT_NO_FATAL_FAILURE(record(**store, reference, events, i, i + 4));
      const absl::Status s = (*store)->checkpoint();
      ASSERT_TRUE(s.ok()) << "checkpoint after events " << i << ": " << s;
    }
    ASSERT_NO_FATAL_FAILURE(crash(*store, fs));
    store = open_durable(dir.path(), &fs, options);
    ASSERT_TRUE(store.ok()) << store.status();
    ASSERT_TRUE(matches_reference(**store, reference, budget, 3));
    ASSERT_NO_FATAL_FAILURE(crash(*store, fs));
  }
  EXPECT_TRUE(completed);
  EXPECT_GT(orphan_logs, 0) << "no crash left a log beyond the MANIFEST's";
}

// The LOCK: a second open of an open store fails cleanly, from this process
// or from a forked child, and the store is none the worse for it.
TEST(Recovery, SecondOpenIsRefusedNotCorrupting) {
  ScopedTempDir dir;
  const std::vector<OwnedEvent> events = generated(300, 3);
  Reference reference;
  auto store = open_durable(dir.path());
  ASSERT_TRUE(store.ok()) << store.status();
  ASSERT_NO_FATAL_FAILURE(record(**store, reference, events, 0, 200));
  ASSERT_TRUE((*store)->flush().ok());

  auto second = open_durable(dir.path());
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition) << second.status();
  EXPECT_THAT(message(second.status()), HasSubstr("already open in this process"));
  EXPECT_THAT(message(second.status()), HasSubstr(dir.path()));

  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // The child only opens (it fails at the lock, before any thread starts)
    // and reports; _exit skips the parent's atexit handlers and gtest.
    ::close(fds[0]);
    auto child = EventStore::open({.directory = dir.path()});
    const std::string report =
        child.ok() ? std::string("opened") : absl::StrCat(child.status().code(), " ", child.status().message());
    (void)!::write(fds[1], report.data(), report.size());
    ::_exit(0);
  }
  ::close(fds[1]);
  std::string report;
  char buf[512];
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;) report.append(buf, n);
  ::close(fds[0]);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_THAT(report, HasSubstr(absl::StrCat(absl::StatusCode::kFailedPrecondition)));
  EXPECT_THAT(report, HasSubstr("in use by another process"));
  EXPECT_THAT(report, HasSubstr(absl::StrCat("pid ", ::getpid())));

  // The first store is unharmed and keeps working; a later open succeeds.
  ASSERT_NO_FATAL_FAILURE(record(**store, reference, events, 200, 300));
  EXPECT_TRUE(matches_reference(**store, reference, 1, 20));
  store->reset();
  store = open_durable(dir.path());
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_TRUE(matches_reference(**store, reference, 2, 50));
}

// options.sync: every acknowledged write survives a crash without flush().
TEST(Recovery, SyncOptionMakesEveryWriteDurable) {
  for (const bool sync : {true, false}) {
    SCOPED_TRACE(absl::StrCat("sync=", sync));
    const Options options{.sync = sync};
    ScopedTempDir dir;
    FaultInjectionFileSystem fs(posix_without_fsync());
    const std::vector<OwnedEvent> events = generated(400, 5);
    Reference reference;
    auto store = open_durable(dir.path(), &fs, options);
    ASSERT_TRUE(store.ok()) << store.status();
    ASSERT_NO_FATAL_FAILURE(record(**store, reference, events, 0, 1));
    ASSERT_NO_FATAL_FAILURE(record(**store, reference, events, 1, 300));
    const std::vector<OwnedEvent> rest(events.begin() + 300, events.end());
    for (const OwnedEvent& e : rest) reference.record(e.view());
    ASSERT_TRUE((*store)->ingest_ndjson(ndjson(rest, 40)).ok());
    ASSERT_NO_FATAL_FAILURE(crash(*store, fs));
    store = open_durable(dir.path(), &fs, options);
    ASSERT_TRUE(store.ok()) << store.status();
    // Without sync, the crash loses every write since the last flush (none).
    EXPECT_TRUE(matches_reference(**store, sync ? reference : Reference(), 1, 30));
    EXPECT_EQ((*store)->quarantine()->size(), sync ? 2 * std::size(kBadLines) : 0u);
  }
}

// The write-ahead log of a store with options.sync, on disk: its records,
// then zeros written ahead of them (storage::LogWriter::zero_fill_ahead).
uint64_t log_bytes_on_disk(const std::string& dir) {
  uint64_t bytes = 0;
  for (const std::string& name : file_names(dir)) {
    if (name.starts_with("log-")) bytes += std::filesystem::file_size(dir + "/" + name);
  }
  return bytes;
}

// options.sync keeps zeros written ahead of the log's records (each fsync
// then overwrites allocated blocks): a crash of the process leaves them
// after the last record, and recovery reads them as a torn tail; a power
// loss keeps every acknowledged write too.
TEST(Recovery, ZerosAheadOfASyncedLogAreCutOffByRecovery) {
  ScopedTempDir dir;
  FaultInjectionFileSystem fs(posix_without_fsync());
  const std::vector<OwnedEvent> events = generated(400, 12);
  Reference reference;
  const Options options{.sync = true};
  auto store = open_durable(dir.path(), &fs, options);
  ASSERT_TRUE(store.ok()) << store.status();
  for (size_t i = 0; i < 100; ++i) ASSERT_NO_FATAL_FAILURE(record(**store, reference, events, i, i + 1));
  ASSERT_NO_FATAL_FAILURE(record(**store, reference, events, 100, 200));
  const uint64_t logged = (*store)->stats()->log_bytes;
  EXPECT_GE(log_bytes_on_disk(dir.path()), uint64_t{1} << 20);
  EXPECT_GT(log_bytes_on_disk(dir.path()), logged);
  EXPECT_GE((*store)->stats()->bytes_on_disk, log_bytes_on_disk(dir.path()));  // the zeros counted
  // The process dies: no checkpoint, every byte handed to the OS kept.
  fs.set_operation_budget(0);
  store->reset();
  fs.clear_faults();
  EXPECT_GT(log_bytes_on_disk(dir.path()), logged);
  store = open_durable(dir.path(), &fs, options);
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_TRUE(matches_reference(**store, reference, 1, 30));
  EXPECT_EQ((*store)->stats()->log_bytes, logged);
  // Writes go on after the cut, with zeros ahead again; then a power loss.
  for (size_t i = 200; i < 250; ++i) ASSERT_NO_FATAL_FAILURE(record(**store, reference, events, i, i + 1));
  ASSERT_NO_FATAL_FAILURE(record(**store, reference, events, 250, 400));
  EXPECT_GT(log_bytes_on_disk(dir.path()), (*store)->stats()->log_bytes);
  ASSERT_NO_FATAL_FAILURE(crash(*store, fs));
  store = open_durable(dir.path(), &fs, options);
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_TRUE(matches_reference(**store, reference, 1, 30));
}

// A disk with room for the records but not for the zeros ahead of them: the
// store writes on without them (as a store without options.sync), and
// every acknowledged write survives a power loss.
TEST(Recovery, ASyncedStoreWritesOnWhenItsZerosAheadDoNotFit) {
  ScopedTempDir dir;
  FaultInjectionFileSystem fs(posix_without_fsync());
  const std::vector<OwnedEvent> events = generated(300, 13);
  Reference reference;
  const Options options{.sync = true};
  auto store = open_durable(dir.path(), &fs, options);
  ASSERT_TRUE(store.ok()) << store.status();
  fs.set_write_budget(256 << 10);
  for (size_t i = 0; i < 100; ++i) ASSERT_NO_FATAL_FAILURE(record(**store, reference, events, i, i + 1));
  ASSERT_NO_FATAL_FAILURE(record(**store, reference, events, 100, 300));
  EXPECT_EQ(log_bytes_on_disk(dir.path()), (*store)->stats()->log_bytes);
  ASSERT_NO_FATAL_FAILURE(crash(*store, fs));
  store = open_durable(dir.path(), &fs, options);
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_TRUE(matches_reference(**store, reference, 1, 30));
}

// SPEC 1.3 across reopens: a retried event_id is still a duplicate, whether
// its first copy is in a part file (clean close) or in the log (crash).
TEST(Recovery, DedupSurvivesReopen) {
  ScopedTempDir dir;
  FaultInjectionFileSystem fs(posix_without_fsync());
  const std::vector<OwnedEvent> events = generated(300, 9);
  Reference reference;
  auto store = open_durable(dir.path(), &fs);
  ASSERT_TRUE(store.ok()) << store.status();
  ASSERT_NO_FATAL_FAILURE(record(**store, reference, events, 0, 150));
  store->reset();  // into part files
  store = open_durable(dir.path(), &fs);
  ASSERT_TRUE(store.ok()) << store.status();
  ASSERT_NO_FATAL_FAILURE(record(**store, reference, events, 150, 300));
  ASSERT_TRUE((*store)->flush().ok());
  ASSERT_NO_FATAL_FAILURE(crash(*store, fs));  // 150..300 only in the log
  store = open_durable(dir.path(), &fs);
  ASSERT_TRUE(store.ok()) << store.status();
  auto retried = (*store)->record_events(views(events, 0, 300));
  ASSERT_TRUE(retried.ok());
  EXPECT_EQ(*retried, (IngestReport{.successful_rows = 0, .quarantined_rows = 0, .duplicate_rows = 300}));
  auto ingested = (*store)->ingest_ndjson(ndjson(events, 1000));
  ASSERT_TRUE(ingested.ok());
  EXPECT_EQ(ingested->duplicate_rows, 300u);
  EXPECT_TRUE(matches_reference(**store, reference, 1, 30));
}

// GDPR: after delete_user returns, no file of the directory holds the user's
// string, and a reopen after a crash does not bring the events back.
TEST(Recovery, DeleteUserIsDurableAndLeavesNoTrace) {
  const std::string user = "erased-user-\xE2\x9C\x93-Qx7";
  const Options options{.part_rows = 16, .background_threads = false};
  ScopedTempDir dir;
  FaultInjectionFileSystem fs(posix_without_fsync());
  std::vector<OwnedEvent> events = generated(600, 13);
  for (size_t i = 0; i < events.size(); i += 15) events[i].user_id = user;  // in parts, buffers and the log
  Reference reference;
  auto store = open_durable(dir.path(), &fs, options);
  ASSERT_TRUE(store.ok()) << store.status();
  ASSERT_NO_FATAL_FAILURE(record(**store, reference, events, 0, 300));
  ASSERT_TRUE((*store)->checkpoint().ok());
  ASSERT_NO_FATAL_FAILURE(record(**store, reference, events, 300, 600));
  ASSERT_TRUE((*store)->ingest_ndjson(kBadLines[1]).ok());
  ASSERT_TRUE((*store)->flush().ok());
  ASSERT_EQ((*store)->delete_user(user).value(), reference.delete_user(user));
  ASSERT_EQ(reference.events().size(), 560u);
  for (const std::string& name : file_names(dir.path())) {
    EXPECT_EQ(file_bytes(dir.file(name)).find(user), std::string::npos) << name << " still holds the user";
  }
  ASSERT_NO_FATAL_FAILURE(crash(*store, fs));
  store = open_durable(dir.path(), &fs, options);
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_TRUE((*store)->user_feature_usage({.user_id = user})->rows.empty());
  EXPECT_TRUE(matches_reference(**store, reference, 1, 50));
  // The erased events' ids left the dedup index: recording one again stores it.
  ASSERT_NO_FATAL_FAILURE(record(**store, reference, events, 15, 16));
  ASSERT_NO_FATAL_FAILURE(record(**store, reference, events, 0, 300));  // the others are still duplicates
  EXPECT_TRUE(matches_reference(**store, reference, 2, 50));
}

TEST(Recovery, DropPartitionsBeforeIsDurable) {
  ScopedTempDir dir;
  FaultInjectionFileSystem fs(posix_without_fsync());
  const std::vector<OwnedEvent> events = generated(500, 17, 4);
  Reference reference;
  auto store = open_durable(dir.path(), &fs, {.part_rows = 64});
  ASSERT_TRUE(store.ok()) << store.status();
  ASSERT_NO_FATAL_FAILURE(record(**store, reference, events, 0, 250));
  ASSERT_TRUE((*store)->checkpoint().ok());
  ASSERT_NO_FATAL_FAILURE(record(**store, reference, events, 250, 500));
  const uint64_t dropped = reference.drop_partitions_before(202503);
  ASSERT_GT(dropped, 100u);
  ASSERT_EQ((*store)->drop_partitions_before(202503).value(), dropped);
  ASSERT_NO_FATAL_FAILURE(crash(*store, fs));  // no flush: drop_partitions_before is durable itself
  store = open_durable(dir.path(), &fs);
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_TRUE(matches_reference(**store, reference, 1, 50));
  // The dropped months' event_ids are gone too: a retry stores them again.
  ASSERT_NO_FATAL_FAILURE(record(**store, reference, events, 0, 500));
  EXPECT_TRUE(matches_reference(**store, reference, 2, 50));
}

TEST(Recovery, ClearQuarantineIsDurable) {
  ScopedTempDir dir;
  FaultInjectionFileSystem fs(posix_without_fsync());
  auto store = open_durable(dir.path(), &fs);
  ASSERT_TRUE(store.ok()) << store.status();
  const std::vector<OwnedEvent> events = generated(100, 19);
  ASSERT_TRUE((*store)->ingest_ndjson(ndjson(events, 10)).ok());
  ASSERT_TRUE((*store)->flush().ok());
  ASSERT_EQ((*store)->clear_quarantine().value(), 10 * std::size(kBadLines));
  ASSERT_NO_FATAL_FAILURE(crash(*store, fs));
  store = open_durable(dir.path(), &fs);
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_TRUE((*store)->quarantine()->empty());
  // The new quarantine log takes rows and keeps them.
  ASSERT_TRUE((*store)->ingest_ndjson(kBadLines[0]).ok());
  ASSERT_TRUE((*store)->flush().ok());
  ASSERT_NO_FATAL_FAILURE(crash(*store, fs));
  store = open_durable(dir.path(), &fs);
  ASSERT_TRUE(store.ok()) << store.status();
  ASSERT_EQ((*store)->quarantine()->size(), 1u);
  EXPECT_EQ((*store)->quarantine()->at(0).raw, kBadLines[0]);
}

// A failed write-ahead log append (a full disk) or fsync: the store refuses
// writes with an error saying why and what to do, keeps answering queries,
// and a reopen recovers every acknowledged event.
TEST(Recovery, LogFailureStopsWritesNotReads) {
  for (const bool fail_sync : {false, true}) {
    SCOPED_TRACE(fail_sync ? "failing fsync" : "full disk");
    ScopedTempDir dir;
    FaultInjectionFileSystem fs(posix_without_fsync());
    const std::vector<OwnedEvent> events = generated(400, 23);
    Reference reference;
    auto store = open_durable(dir.path(), &fs);
    ASSERT_TRUE(store.ok()) << store.status();
    ASSERT_NO_FATAL_FAILURE(record(**store, reference, events, 0, 200));
    ASSERT_TRUE((*store)->flush().ok());
    absl::Status failure;
    if (fail_sync) {
      fs.set_fail_syncs(true);
      ASSERT_TRUE((*store)->record_events(views(events, 200, 250)).ok());  // not durable yet
      failure = (*store)->flush();
      EXPECT_FALSE(failure.ok());
    } else {
      fs.set_write_budget(100);
      failure = (*store)->record_events(views(events, 200, 250)).status();
      EXPECT_EQ(failure.code(), absl::StatusCode::kResourceExhausted) << failure;
    }
    EXPECT_THAT(message(failure), HasSubstr("stopped accepting writes"));
    EXPECT_THAT(message(failure), HasSubstr("reopen"));
    EXPECT_THAT(message(failure), HasSubstr("injected fault"));
    fs.clear_faults();  // even with a healthy disk again, the store stays read-only
    for (const absl::Status& s : {(*store)->record_event(events[300].view()),
                                  (*store)->ingest_ndjson(ndjson({events[300]}, 1)).status(), (*store)->flush()}) {
      EXPECT_EQ(s.code(), failure.code()) << s;
      EXPECT_THAT(message(s), HasSubstr("stopped accepting writes"));
      EXPECT_THAT(message(s), HasSubstr("injected fault"));
    }
    Reference visible = reference;
    if (fail_sync) {
      for (size_t e = 200; e < 250; ++e) visible.record(events[e].view());
    }
    EXPECT_TRUE(matches_reference(**store, visible, 1, 30));
    ASSERT_NO_FATAL_FAILURE(crash(*store, fs));
    store = open_durable(dir.path(), &fs);
    ASSERT_TRUE(store.ok()) << store.status();
    EXPECT_TRUE(matches_reference(**store, reference, 2, 30));
    ASSERT_NO_FATAL_FAILURE(record(**store, reference, events, 300, 400));
    store->reset();
    store = open_durable(dir.path(), &fs);
    ASSERT_TRUE(store.ok()) << store.status();
    EXPECT_TRUE(matches_reference(**store, reference, 3, 30));
  }
}

}  // namespace
}  // namespace usagedb::testing
