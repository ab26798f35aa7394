// Damaged files: for each kind of file of a store directory (write-ahead
// log, part, dictionary segment, rollup, MANIFEST, quarantine log), bytes
// flipped at many positions and the file truncated at many lengths. The
// documented outcome (docs/STORAGE.md, "Failure modes and what happens") is
// asserted exactly: open() fails with a DataLossError naming the file (or,
// for damage inside a part file's blocks, which a lazy open does not read,
// the first read of that part does: here scan_events, which reads every
// part, and the same for the session dictionary's segments), or,
// for damage confined to the last record of a log (what a crash during an
// append leaves), the store opens without that record and answers exactly
// as the reference of what remains; a damaged or missing rollup (derived
// from the parts) is left unused, and the store answers everything. Never a
// crash, never other rows.
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/gen/generator.h"
#include "lib/gen/random.h"
#include "lib/storage/dictionary_file.h"
#include "lib/storage/part_file.h"
#include "lib/storage/store_files.h"
#include "tests/db/durability_testing.h"
#include "tests/testutil/helpers.h"
#include "tests/testutil/temp_dir.h"

namespace usagedb::testing {
namespace {

using ::testing::HasSubstr;

constexpr uint64_t kLogHeaderBytes = 28;
constexpr size_t kCheckpointed = 600;  // events in parts; the rest are in the log
constexpr size_t kLogBatches = 8;
constexpr size_t kBatch = 15;

enum class Kind { kLog, kPart, kDictionary, kManifest, kQuarantine, kRollup, kOther };

Kind kind_of(const std::string& name) {
  if (name.starts_with("log-")) return Kind::kLog;
  if (name.starts_with("part-")) return Kind::kPart;
  if (name.starts_with("dict-")) return Kind::kDictionary;
  if (name == "MANIFEST") return Kind::kManifest;
  if (name.starts_with("quarantine-")) return Kind::kQuarantine;
  // Derived data too: the stored summary is used only while it is sound.
  if (name.starts_with("rollup-") || name == "SUMMARY") return Kind::kRollup;
  return Kind::kOther;
}

// One store directory with every kind of file, built once: parts and
// dictionary segments from a checkpoint, then flushed batches in the log
// (one record each) and quarantined rows, then a crash.
class CorruptionTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new ScopedTempDir;
    events_ = new std::vector<OwnedEvent>;
    quarantine_ = new std::vector<QuarantinedRow>;
    gen::Generator g({.events = kCheckpointed + kLogBatches * kBatch, .seed = 31, .users = 50, .months = 3});
    while (const Event* e = g.next()) events_->push_back(OwnedEvent::from(*e));
    FaultInjectionFileSystem fs(posix_without_fsync());
    auto store = open_durable(dir_->path(), &fs, {.part_rows = 100, .background_threads = false});
    ASSERT_TRUE(store.ok()) << store.status();
    std::vector<Event> batch;
    for (size_t i = 0; i < kCheckpointed; ++i) batch.push_back((*events_)[i].view());
    ASSERT_TRUE((*store)->record_events(batch).ok());
    ASSERT_TRUE((*store)->ingest_ndjson(kBadLine).ok());
    ASSERT_TRUE((*store)->checkpoint().ok());
    for (size_t b = 0; b < kLogBatches; ++b) {
      batch.clear();
      for (size_t i = 0; i < kBatch; ++i) batch.push_back((*events_)[kCheckpointed + b * kBatch + i].view());
      ASSERT_TRUE((*store)->record_events(batch).ok());
      ASSERT_TRUE((*store)->ingest_ndjson(kBadLine).ok());
      ASSERT_TRUE((*store)->flush().ok());
    }
    *quarantine_ = (*store)->quarantine().value();
    crash(*store, fs);
    work_ = new ScopedTempDir;
    copy_dir(dir_->path(), work_->path());
  }
  static void TearDownTestSuite() {
    delete work_;
    delete dir_;
    delete events_;
    delete quarantine_;
  }

  // Copies the store into `copy` without its rollup files (so every query
  // reads the parts); the name of its first part file.
  static std::string copy_without_rollups(const ScopedTempDir& copy) {
    copy_dir(dir_->path(), copy.path());
    std::string part;
    for (const std::string& name : file_names(copy.path())) {
      if (kind_of(name) == Kind::kPart && part.empty()) part = name;
      if (kind_of(name) == Kind::kRollup) std::filesystem::remove(copy.file(name));
    }
    return part;
  }

  // The reference of the checkpointed events and the first `batches` batches.
  static Reference reference(size_t batches) {
    Reference r;
    for (size_t i = 0; i < kCheckpointed + batches * kBatch; ++i) r.record((*events_)[i].view());
    return r;
  }

  // Copies the store, lets `damage` change file `name` in the copy, opens it
  // and checks the outcome: DataLossError naming the file (and `also`, when
  // given) when `kept` is -1,
  // else a store holding `kept` log batches (a log) or quarantined rows.
  void expect_outcome(const std::string& name, const std::string& what, int64_t kept,
                      const std::function<void(const std::string& path)>& damage, const std::string& also = "") {
    SCOPED_TRACE(absl::StrCat(name, ": ", what));
    // Damage the working copy in place and put the file back afterwards
    // (a copy of the directory per case would cost more than the case).
    struct Restore {
      std::string path, bytes;
      ~Restore() { std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes; }
    } restore{work_->file(name), file_bytes(dir_->file(name))};
    damage(work_->file(name));
    std::vector<std::string> names = file_names(work_->path());
    if (const std::string lock = storage::kLockFileName; !std::binary_search(names.begin(), names.end(), lock)) {
      names.insert(std::lower_bound(names.begin(), names.end(), lock), lock);
    }
    FaultInjectionFileSystem fs(posix_without_fsync());
    auto store = open_durable(work_->path(), &fs);
    // Neither a failed open nor a crashed store adds or removes a file (but
    // the LOCK, which any open creates when it is missing).
    EXPECT_EQ(file_names(work_->path()), names);
    if (kept < 0) {
      absl::Status error = store.status();
      if (store.ok()) {
        // A part is lazy: its blocks are checked when they are first read;
        // so is the session dictionary (by a write, an export, the feed).
        ASSERT_TRUE(kind_of(name) == Kind::kPart || name.starts_with("dict-session_id-")) << "opened a damaged store";
        error = (*store)->scan_events({}, [](std::span<const StoredEvent>) { return absl::OkStatus(); });
        ASSERT_FALSE(error.ok()) << "read a damaged part";
        crash(*store, fs);
        EXPECT_EQ(file_names(work_->path()), names);
        ++read_data_loss_;
      }
      EXPECT_EQ(error.code(), absl::StatusCode::kDataLoss) << error;
      EXPECT_THAT(std::string(error.message()), HasSubstr(name));
      if (!also.empty()) EXPECT_THAT(std::string(error.message()), HasSubstr(also));
      ++data_loss_;
      return;
    }
    ASSERT_TRUE(store.ok()) << store.status();
    ++opened_;
    const bool quarantine = kind_of(name) == Kind::kQuarantine;
    ASSERT_TRUE(matches_reference(**store, reference(quarantine ? kLogBatches : kept), kept, 3));
    const std::vector<QuarantinedRow> rows = (*store)->quarantine().value();
    const size_t want_rows = quarantine ? kept : quarantine_->size();
    ASSERT_TRUE(
        same_quarantine(rows, std::vector<QuarantinedRow>(quarantine_->begin(), quarantine_->begin() + want_rows)));
    crash(*store, fs);  // skips the closing checkpoint's fsyncs
  }

  // Positions to damage: the first and last bytes, record boundaries, and a
  // random spread.
  static std::vector<uint64_t> positions(uint64_t size, const std::vector<uint64_t>& boundaries, int spread,
                                         uint64_t seed) {
    std::set<uint64_t> out;
    for (uint64_t i = 0; i < std::min<uint64_t>(size, 40); ++i) out.insert(i);
    for (uint64_t i = size > 24 ? size - 24 : 0; i < size; ++i) out.insert(i);
    for (const uint64_t b : boundaries) {
      for (uint64_t d = 0; d < 3; ++d) {
        if (b >= d) out.insert(b - d);
        if (b + d < size) out.insert(b + d);
      }
    }
    gen::Random random(seed);
    for (int i = 0; i < spread; ++i) out.insert(random.uniform(size));
    out.erase(out.lower_bound(size), out.end());  // a boundary may be the end of the file
    return {out.begin(), out.end()};
  }

  // What damage at `offset` of a log file with records ending at `ends`
  // leaves: the records before it when it is inside the last one (a torn
  // tail), else nothing (-1: DataLossError).
  static int64_t kept_after_flip(uint64_t offset, const std::vector<uint64_t>& ends) {
    const uint64_t last_start = ends.size() >= 2 ? ends[ends.size() - 2] : kLogHeaderBytes;
    return offset >= last_start ? static_cast<int64_t>(ends.size()) - 1 : -1;
  }
  static int64_t kept_after_truncation(uint64_t length, const std::vector<uint64_t>& ends) {
    if (length < kLogHeaderBytes) return -1;
    int64_t kept = 0;
    while (kept < static_cast<int64_t>(ends.size()) && ends[kept] <= length) ++kept;
    return kept;
  }

  void damage_every_kind(bool flip) {
    int kinds_seen[7] = {};
    for (const std::string& name : file_names(dir_->path())) {
      const Kind kind = kind_of(name);
      if (kind == Kind::kOther) continue;
      const bool log = kind == Kind::kLog || kind == Kind::kQuarantine;
      // A rollup is derived data: the store opens without it.
      const int64_t unused = kind == Kind::kRollup ? static_cast<int64_t>(kLogBatches) : -1;
      const uint64_t size = std::filesystem::file_size(dir_->file(name));
      const std::vector<uint64_t> ends = log ? log_record_ends(dir_->file(name)) : std::vector<uint64_t>{};
      // The first file of each kind in full, the others at a few places.
      const bool first = kinds_seen[static_cast<int>(kind)]++ == 0;
      const std::vector<uint64_t> places = first ? positions(size, ends, 60, size)
                                                 : std::vector<uint64_t>{0, 9, size / 3, size / 2, size - 13, size - 1};
      for (const uint64_t pos : places) {
        if (flip) {
          const char mask = static_cast<char>(1 + pos % 255);
          expect_outcome(name, absl::StrCat("byte ", pos, " flipped"), log ? kept_after_flip(pos, ends) : unused,
                         [&](const std::string& path) {
                           std::string bytes = file_bytes(path);
                           bytes[pos] ^= mask;
                           std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
                         });
        } else {
          expect_outcome(name, absl::StrCat("truncated to ", pos, " bytes"),
                         log ? kept_after_truncation(pos, ends) : unused,
                         [&](const std::string& path) { std::filesystem::resize_file(path, pos); });
        }
        if (HasFatalFailure()) return;
      }
    }
    for (const Kind k :
         {Kind::kLog, Kind::kPart, Kind::kDictionary, Kind::kManifest, Kind::kQuarantine, Kind::kRollup}) {
      EXPECT_GT(kinds_seen[static_cast<int>(k)], 0) << "no file of kind " << static_cast<int>(k);
    }
    EXPECT_GT(kinds_seen[static_cast<int>(Kind::kDictionary)], 3);
    EXPECT_GT(kinds_seen[static_cast<int>(Kind::kPart)], 3);
    EXPECT_GT(data_loss_, 300);
    EXPECT_GT(opened_, 20);
  }

  static ScopedTempDir* dir_;   // the store as built
  static ScopedTempDir* work_;  // a copy, damaged one file at a time
  static std::vector<OwnedEvent>* events_;
  static std::vector<QuarantinedRow>* quarantine_;
  int data_loss_ = 0;
  int read_data_loss_ = 0;  // of data_loss_: found by the first read, not by open()
  int opened_ = 0;
};

ScopedTempDir* CorruptionTest::dir_ = nullptr;
ScopedTempDir* CorruptionTest::work_ = nullptr;
std::vector<OwnedEvent>* CorruptionTest::events_ = nullptr;
std::vector<QuarantinedRow>* CorruptionTest::quarantine_ = nullptr;

TEST_F(CorruptionTest, UndamagedCopyOpensWithEverything) {
  expect_outcome("MANIFEST", "nothing", kLogBatches, [](const std::string&) {});
  EXPECT_EQ(opened_, 1);
}

TEST_F(CorruptionTest, FlippedBytes) { damage_every_kind(/*flip=*/true); }

TEST_F(CorruptionTest, TruncatedFiles) { damage_every_kind(/*flip=*/false); }

// Garbage after the last record of a log (a crash that extended the file
// without writing its data) is a torn tail too.
TEST_F(CorruptionTest, GarbageAfterTheLastLogRecordIsATornTail) {
  for (const std::string& name : file_names(dir_->path())) {
    const Kind kind = kind_of(name);
    if (kind != Kind::kLog && kind != Kind::kQuarantine) continue;
    const int64_t all = kind == Kind::kLog ? kLogBatches : static_cast<int64_t>(quarantine_->size());
    for (const std::string& tail : {std::string(100, '\0'), std::string(5000, '\x7f'), std::string("\x01\x02\x03")}) {
      expect_outcome(name, absl::StrCat(tail.size(), " bytes appended"), all,
                     [&](const std::string& path) { std::ofstream(path, std::ios::binary | std::ios::app) << tail; });
    }
  }
}

// Every block of every part file, the three bitmap indexes included: a byte
// flipped in its payload or in its checksum is a DataLossError naming the
// file and the section.
TEST_F(CorruptionTest, EverySectionOfAPartFileIsChecked) {
  std::set<std::string> sections;
  int parts = 0;
  for (const std::string& name : file_names(dir_->path())) {
    if (kind_of(name) != Kind::kPart) continue;
    ++parts;
    const std::string bytes = file_bytes(dir_->file(name));
    auto info = storage::read_part_file_info(bytes, name);
    ASSERT_TRUE(info.ok()) << info.status();
    ASSERT_EQ(info->blocks.size(), 14u) << name
                                        << ": the store writes its bitmap indexes, arrival numbers and seek block";
    for (const auto& block : info->blocks) {
      sections.insert(block.section);
      // The middle of the payload, and the last byte of the block (its checksum).
      for (const uint64_t pos : {block.offset + block.size / 2, block.offset + block.size - 1}) {
        expect_outcome(
            name, absl::StrCat(block.section, ": byte ", pos, " flipped"), -1,
            [&](const std::string& path) {
              std::string damaged = file_bytes(path);
              damaged[pos] ^= 0x10;
              std::ofstream(path, std::ios::binary | std::ios::trunc) << damaged;
            },
            block.section);
        if (HasFatalFailure()) return;
      }
    }
  }
  EXPECT_GT(parts, 3);
  // A lazy open reads no block (format version 3: the footer holds the
  // largest arrival number), but the log's replay reads the parts of the
  // months it writes to (their dedup index): the first whole read after the
  // open finds the rest.
  EXPECT_GT(read_data_loss_, data_loss_ / 2) << "a lazy open reads no block of a part it does not write to";
  for (const char* section : {"timestamp", "feature_id", "product_version", "user_id", "event_type", "session_id",
                              "metadata", "metadata values", "event_id", "user_id index", "feature_id index",
                              "product_version index", "sequence", "seek"}) {
    EXPECT_TRUE(sections.contains(section)) << "no part file has a " << section << " block";
  }
}

// A part file damaged inside a block opens (a lazy open reads its footer
// only); the query that reads the part returns the
// DataLossError naming the file and the section instead of an answer,
// queries that do not read it answer, and writes to its month fail before
// anything is logged (the month's dedup index needs the part's ids).
TEST_F(CorruptionTest, ADamagedBlockIsReportedByTheQueryThatReadsIt) {
  ScopedTempDir copy;
  const std::string part_name = copy_without_rollups(copy);
  ASSERT_FALSE(part_name.empty());
  std::string bytes = file_bytes(copy.file(part_name));
  auto info = storage::read_part_file_info(bytes, part_name);
  ASSERT_TRUE(info.ok()) << info.status();
  const auto& timestamps = info->blocks.front();
  ASSERT_EQ(timestamps.section, "timestamp");
  bytes[timestamps.offset + timestamps.size / 2] ^= 0x20;
  std::ofstream(copy.file(part_name), std::ios::binary | std::ios::trunc) << bytes;

  FaultInjectionFileSystem fs(posix_without_fsync());
  auto store = open_durable(copy.path(), &fs, {.background_threads = false});
  ASSERT_TRUE(store.ok()) << store.status();
  auto summary = (*store)->feature_usage_summary({});
  ASSERT_FALSE(summary.ok());
  EXPECT_EQ(summary.status().code(), absl::StatusCode::kDataLoss) << summary.status();
  EXPECT_THAT(std::string(summary.status().message()), HasSubstr(part_name));
  EXPECT_THAT(std::string(summary.status().message()), HasSubstr("timestamp"));
  // A month without the part answers.
  const uint32_t month = static_cast<uint32_t>(std::stoul(part_name.substr(5, 6)));
  uint32_t other = 0;
  for (const std::string& name : file_names(copy.path())) {
    if (kind_of(name) == Kind::kPart && name.substr(5, 6) != part_name.substr(5, 6)) {
      other = static_cast<uint32_t>(std::stoul(name.substr(5, 6)));
    }
  }
  ASSERT_NE(other, 0u);
  const auto day = std::chrono::sys_days(std::chrono::year_month_day(
      std::chrono::year(static_cast<int>(other / 100)), std::chrono::month(other % 100), std::chrono::day(1)));
  FeatureUsageSummaryQuery in_other;
  in_other.start_date = Timestamp(day);
  in_other.end_date = Timestamp(day + std::chrono::days(28));
  auto answered = (*store)->feature_usage_summary(in_other);
  ASSERT_TRUE(answered.ok()) << answered.status();
  EXPECT_FALSE(answered->rows.empty());
  // A write to the damaged month is refused, and nothing reaches the log.
  const uint64_t log_bytes = (*store)->stats()->log_bytes;
  Event e = (*events_)[0].view();
  e.timestamp = Timestamp(std::chrono::sys_days(std::chrono::year_month_day(
                    std::chrono::year(static_cast<int>(month / 100)), std::chrono::month(month % 100),
                    std::chrono::day(2))));
  e.event_id = "a-new-event";
  const absl::Status written = (*store)->record_event(e);
  EXPECT_EQ(written.code(), absl::StatusCode::kDataLoss) << written;
  EXPECT_THAT(std::string(written.message()), HasSubstr(part_name));
  EXPECT_EQ((*store)->stats()->log_bytes, log_bytes);
  crash(*store, fs);
}

// A one-user query of a part not in memory reads only the blocks holding
// the user's rows (part format version 3, "What is read when"): damage
// elsewhere in the file does not stop it (a whole read would), damage in
// those blocks is its DataLossError naming the file and the section; a
// whole read (scan_events) still reports either.
TEST_F(CorruptionTest, AOneUserQueryReadsOnlyTheBlocksOfItsRows) {
  std::set<std::string> users;
  for (const OwnedEvent& e : *events_) users.insert(e.user_id);
  const Reference want = reference(kLogBatches);
  for (const auto& [section, answers] : {std::pair{"event_id", true}, std::pair{"session_id", true},
                                         std::pair{"feature_id", false}, std::pair{"user_id index", false}}) {
    SCOPED_TRACE(section);
    ScopedTempDir copy;
    const std::string part_name = copy_without_rollups(copy);
    ASSERT_FALSE(part_name.empty());
    std::string bytes = file_bytes(copy.file(part_name));
    auto info = storage::read_part_file_info(bytes, part_name);
    ASSERT_TRUE(info.ok()) << info.status();
    ASSERT_TRUE(storage::seeks_users(*info));
    for (const auto& block : info->blocks) {
      if (block.section == section) bytes[block.offset + block.size / 2] ^= 0x20;
    }
    std::ofstream(copy.file(part_name), std::ios::binary | std::ios::trunc) << bytes;

    FaultInjectionFileSystem fs(posix_without_fsync());
    auto store = open_durable(copy.path(), &fs, {.background_threads = false});
    ASSERT_TRUE(store.ok()) << store.status();
    int failed = 0;
    for (const std::string& user : users) {
      UserFeatureUsageQuery q;
      q.user_id = user;
      auto got = (*store)->user_feature_usage(q);
      if (got.ok()) {
        EXPECT_EQ(got->rows, want.user_feature_usage(q).rows) << user;
        continue;
      }
      EXPECT_FALSE(answers) << user << ": " << got.status();
      EXPECT_EQ(got.status().code(), absl::StatusCode::kDataLoss) << got.status();
      EXPECT_THAT(std::string(got.status().message()), HasSubstr(part_name));
      EXPECT_THAT(std::string(got.status().message()), HasSubstr(section));
      ++failed;
    }
    if (!answers) EXPECT_GT(failed, 0);
    const absl::Status scanned =
        (*store)->scan_events({}, [](std::span<const StoredEvent>) { return absl::OkStatus(); });
    EXPECT_EQ(scanned.code(), absl::StatusCode::kDataLoss) << scanned;
    EXPECT_THAT(std::string(scanned.message()), HasSubstr(section));
    crash(*store, fs);
  }
}

// A file the MANIFEST names is gone: DataLossError naming it (a missing
// MANIFEST names the MANIFEST: the store's data is still there, and a new
// store must not be created over it). A missing LOCK is created again; a
// missing rollup is rebuilt from the parts.
TEST_F(CorruptionTest, MissingFiles) {
  int kinds_seen[7] = {};
  for (const std::string& name : file_names(dir_->path())) {
    ++kinds_seen[static_cast<int>(kind_of(name))];
    const bool opens = name == storage::kLockFileName || kind_of(name) == Kind::kRollup;
    expect_outcome(name, "removed", opens ? static_cast<int64_t>(kLogBatches) : -1,
                   [](const std::string& path) { std::filesystem::remove(path); });
    if (HasFatalFailure()) return;
  }
  for (const Kind k : {Kind::kLog, Kind::kPart, Kind::kDictionary, Kind::kManifest, Kind::kQuarantine, Kind::kRollup}) {
    EXPECT_GT(kinds_seen[static_cast<int>(k)], 0) << "no file of kind " << static_cast<int>(k);
  }
  EXPECT_EQ(kinds_seen[static_cast<int>(Kind::kOther)], 1) << "only the LOCK";
}

// The files of a new store that crashed before its first MANIFEST (logs
// with a header and no record) are not data: the next open removes them and
// creates the store.
TEST(CorruptionNewStore, CrashBeforeTheFirstManifestIsNotData) {
  ScopedTempDir dir;
  {
    auto store = open_durable(dir.path(), posix_without_fsync());
    ASSERT_TRUE(store.ok()) << store.status();
  }
  // What the first open leaves before it writes MANIFEST: the LOCK, the log
  // and the quarantine log, each a bare header.
  ASSERT_TRUE(std::filesystem::remove(dir.file(storage::kManifestFileName)));
  std::ofstream(dir.file("MANIFEST.tmp"), std::ios::binary) << "half a manifest";
  auto store = open_durable(dir.path(), posix_without_fsync());
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_TRUE((*store)
                  ->record_event(OwnedEvent{.event_id = "e",
                                            .user_id = "u",
                                            .feature_id = "f",
                                            .product_version = "1",
                                            .event_type = "view",
                                            .timestamp = Timestamp{std::chrono::seconds{1'700'000'000}}}
                                     .view())
                  .ok());
  store->reset();
  // With a record in the log, a missing MANIFEST is lost data.
  ASSERT_TRUE(std::filesystem::remove(dir.file(storage::kManifestFileName)));
  store = open_durable(dir.path(), posix_without_fsync());
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), absl::StatusCode::kDataLoss) << store.status();
  EXPECT_THAT(std::string(store.status().message()), HasSubstr("MANIFEST: missing"));
  store = open_durable(dir.path(), posix_without_fsync(), {.create_if_missing = false});
  EXPECT_EQ(store.status().code(), absl::StatusCode::kDataLoss) << store.status();
}

// A dictionary segment that holds one string under two codes, with valid
// checksums (a writer bug, or bytes put there on purpose): only the
// dictionary can notice. The documented outcome (docs/STORAGE.md):
// - feature, version, event type (indexed as they load): open fails with a
//   DataLossError naming the segment and the dictionary;
// - user and session (their index is built on the first write after a
//   reopen, so a store that is only read never hashes its 2.8M session
//   strings, and a one-user question compares the user strings once): the
//   store opens and answers queries; the first write builds the index, finds
//   the duplicate, and every write fails with a DataLossError naming the
//   dictionary, nothing logged.
// The funnel reads the rows of the users its bounds leave open from each
// lazy part's timestamp, feature_id and user_id blocks alone (its rows by
// user, Part::user_ordered_rows): damage in one of them is the funnel's
// DataLossError naming the file and the section; damage in another block
// does not stop it (a whole read, scan_events, still reports it).
TEST(CorruptionFunnel, TheOpenUsersRowsAreReadFromThreeBlocks) {
  for (const auto& [section, answers] : {std::pair{"user_id", false}, std::pair{"timestamp", false},
                                         std::pair{"feature_id", false}, std::pair{"event_id", true},
                                         std::pair{"session_id", true}}) {
    SCOPED_TRACE(section);
    ScopedTempDir dir;
    {
      auto store = EventStore::open({.directory = dir.path()});
      ASSERT_TRUE(store.ok()) << store.status();
      std::vector<Event> batch;
      const auto add = [&](const char* id, const char* user, const char* feature, const char* ts) {
        batch.push_back(Event{.event_id = id, .user_id = user, .feature_id = feature, .product_version = "1.0",
                              .event_type = "view", .timestamp = at(ts), .session_id = "s"});
      };
      // u1: b, then a in the same hour: its hour cells cannot order them
      // (the bounds leave it open), its level is 1. u3: a then b in one
      // hour: open, level 2. u2: a, then b two hours later: settled, 2.
      add("e1", "u1", "b", "2025-01-10 10:10:00");
      add("e2", "u1", "a", "2025-01-10 10:30:00");
      add("e3", "u2", "a", "2025-01-10 10:10:00");
      add("e4", "u2", "b", "2025-01-10 12:30:00");
      add("e5", "u3", "a", "2025-01-11 09:05:00");
      add("e6", "u3", "b", "2025-01-11 09:50:00");
      // Settled users, whose step rows make the open users' few (the walk
      // reads those through their rows by user, not every step row).
      std::vector<std::string> ids, users;  // the events' strings live here
      for (int i = 0; i < 80; ++i) ids.push_back(absl::StrCat("s", i));
      for (int i = 0; i < 40; ++i) users.push_back(absl::StrCat("w", i));
      for (int i = 0; i < 40; ++i) {
        const std::string& user = users[i];
        batch.push_back(Event{.event_id = ids[2 * i], .user_id = user, .feature_id = "a", .product_version = "1.0",
                              .event_type = "view", .timestamp = at("2025-01-12 08:00:00"), .session_id = "s"});
        batch.push_back(Event{.event_id = ids[2 * i + 1], .user_id = user, .feature_id = "b",
                              .product_version = "1.0", .event_type = "view", .timestamp = at("2025-01-12 11:00:00"),
                              .session_id = "s"});
      }
      ASSERT_TRUE((*store)->record_events(batch).ok());
      ASSERT_TRUE((*store)->compact().ok());
    }
    std::string part_name;
    for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
      if (entry.path().filename().string().starts_with("part-")) part_name = entry.path().filename().string();
    }
    ASSERT_FALSE(part_name.empty());
    std::string bytes = file_bytes(dir.file(part_name));
    auto info = storage::read_part_file_info(bytes, part_name);
    ASSERT_TRUE(info.ok()) << info.status();
    for (const auto& block : info->blocks) {
      if (block.section == section) bytes[block.offset + block.size / 2] ^= 0x20;
    }
    std::ofstream(dir.file(part_name), std::ios::binary | std::ios::trunc) << bytes;

    auto store = EventStore::open({.directory = dir.path(), .create_if_missing = false, .cache_bytes = 1});
    ASSERT_TRUE(store.ok()) << store.status();
    FeatureFunnelQuery q;
    q.steps = {"a", "b"};
    auto got = (*store)->feature_funnel(q);
    if (answers) {
      ASSERT_TRUE(got.ok()) << got.status();
      EXPECT_EQ(got->rows, (std::vector<FeatureFunnelRow>{{1, "a", 43}, {2, "b", 42}}));
      const absl::Status scanned =
          (*store)->scan_events({}, [](std::span<const StoredEvent>) { return absl::OkStatus(); });
      EXPECT_EQ(scanned.code(), absl::StatusCode::kDataLoss) << scanned;
    } else {
      ASSERT_FALSE(got.ok());
      EXPECT_EQ(got.status().code(), absl::StatusCode::kDataLoss) << got.status();
      EXPECT_THAT(std::string(got.status().message()), HasSubstr(part_name));
      EXPECT_THAT(std::string(got.status().message()), HasSubstr(section));
    }
  }
}

TEST(CorruptionDictionary, AStringUnderTwoCodes) {
  for (const DictionaryColumn column :
       {DictionaryColumn::kFeature, DictionaryColumn::kUser, DictionaryColumn::kSession}) {
    SCOPED_TRACE(column_name(column));
    ScopedTempDir dir;
    const Timestamp t{std::chrono::seconds{1'700'000'000}};
    {
      auto store = open_durable(dir.path(), posix_without_fsync());
      ASSERT_TRUE(store.ok()) << store.status();
      for (const char* id : {"a", "b", "c"}) {
        ASSERT_TRUE((*store)
                        ->record_event(OwnedEvent{.event_id = id,
                                                  .user_id = absl::StrCat("user_", id),
                                                  .feature_id = absl::StrCat("f", id),
                                                  .product_version = "1",
                                                  .event_type = "view",
                                                  .timestamp = t,
                                                  .session_id = absl::StrCat("session_", id)}
                                           .view())
                        .ok());
      }
    }  // the closing checkpoint writes the parts and the segments
    std::string segment_path;
    for (const auto& f : std::filesystem::directory_iterator(dir.path())) {
      if (f.path().filename().string().starts_with(absl::StrCat("dict-", column_name(column), "-"))) {
        segment_path = f.path().string();
      }
    }
    ASSERT_FALSE(segment_path.empty());
    // The same codes, code 1 holding code 0's string.
    std::string bytes;
    {
      std::ifstream in(segment_path, std::ios::binary);
      bytes.assign(std::istreambuf_iterator<char>(in), {});
    }
    auto segment = storage::decode_dictionary_segment(bytes, segment_path);
    ASSERT_TRUE(segment.ok()) << segment.status();
    ASSERT_GE(segment->strings.size(), 2u);
    Dictionary twice("", Dictionary::Indexing::kLazy);
    for (size_t i = 0; i < segment->strings.size(); ++i) {
      ASSERT_TRUE(twice.restore(segment->strings[i == 1 ? 0 : i], segment->erased[i]));
    }
    std::ofstream(segment_path, std::ios::binary | std::ios::trunc)
        << storage::encode_dictionary_segment(column, twice, static_cast<uint32_t>(segment->first_code),
                                              static_cast<uint32_t>(segment->strings.size()));

    auto store = open_durable(dir.path(), posix_without_fsync());
    if (column == DictionaryColumn::kFeature) {
      ASSERT_FALSE(store.ok());
      EXPECT_EQ(store.status().code(), absl::StatusCode::kDataLoss) << store.status();
      EXPECT_THAT(std::string(store.status().message()),
                  HasSubstr(absl::StrCat("appears twice in the ", column_name(column), " dictionary")));
      EXPECT_THAT(std::string(store.status().message()), HasSubstr(segment_path));
      continue;
    }
    // Indexed lazily: the open does not look for the duplicate, the first
    // write does.
    ASSERT_TRUE(store.ok()) << store.status();
    // Reads go on.
    auto summary = (*store)->feature_usage_summary({});
    ASSERT_TRUE(summary.ok()) << summary.status();
    EXPECT_EQ((*store)->stats()->rows, 3u);
    // Writes do not, whichever way they come, and say why.
    const OwnedEvent more{.event_id = "d", .user_id = "user_d", .feature_id = "f", .product_version = "1",
                          .event_type = "view", .timestamp = t, .session_id = "session_d"};
    for (int attempt = 0; attempt < 2; ++attempt) {
      const absl::Status s = (*store)->record_event(more.view());
      EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
      EXPECT_THAT(std::string(s.message()), HasSubstr(absl::StrCat(column_name(column), " dictionary is damaged")));
    }
    EXPECT_EQ((*store)->ingest_ndjson(R"({"user_id":"u","feature_id":"f","product_version":"1",)"
                                      R"("event_type":"view","timestamp":"2025-01-01 00:00:00"})")
                  .status()
                  .code(),
              absl::StatusCode::kDataLoss);
    // A file ingest interns on its parser threads: the error comes back from there.
    ScopedTempDir input_dir;
    const std::string input = input_dir.file("more.ndjson");
    std::ofstream(input) << R"({"user_id":"u","feature_id":"f","product_version":"1",)"
                         << R"("event_type":"view","timestamp":"2025-01-01 00:00:00"})" << "\n";
    const auto ingested = (*store)->ingest_file(input, {});
    EXPECT_EQ(ingested.status().code(), absl::StatusCode::kDataLoss) << ingested.status();
    EXPECT_THAT(std::string(ingested.status().message()),
                HasSubstr(absl::StrCat(column_name(column), " dictionary is damaged")));
    EXPECT_EQ((*store)->stats()->rows, 3u);
    store->reset();
    // Nothing was logged: the store still opens, with the same rows.
    store = open_durable(dir.path(), posix_without_fsync());
    ASSERT_TRUE(store.ok()) << store.status();
    EXPECT_EQ((*store)->stats()->rows, 3u);
  }
}

}  // namespace
}  // namespace usagedb::testing
