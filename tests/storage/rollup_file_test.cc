// Rollup files: what is written reads back the same, and damage is a
// DataLossError naming the file, whether the checksum catches it or the
// body disagrees with what the manifest says it must hold.
#include "lib/storage/rollup_file.h"

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/gen/random.h"
#include "lib/storage/file_system.h"
#include "lib/storage/framed_file.h"
#include "lib/storage/int_codec.h"
#include "lib/table/dictionary.h"
#include "lib/table/part_builder.h"
#include "lib/util/civil_time.h"
#include "lib/util/coding.h"
#include "lib/util/compression.h"
#include "tests/testutil/rollup_testing.h"

namespace usagedb::storage {
namespace {

using ::testing::HasSubstr;
using usagedb::testing::expect_same_rollup;

constexpr uint32_t kFileTestMonth = 202505;

struct RollupFileFixture {
  std::vector<std::shared_ptr<const Part>> parts;
  std::shared_ptr<const PartitionRollup> rollup;
  std::vector<uint32_t> users;
  RollupExpectation expect;
};

// Two parts of random rows in May 2025.
RollupFileFixture make_rollup_file_fixture() {
  RollupFileFixture f;
  Dictionary features, versions;  // the parts' sort order
  for (int i = 0; i < 5; ++i) features.intern(absl::StrCat("feature_", i));
  for (int i = 0; i < 3; ++i) versions.intern(absl::StrCat("2.", i));
  gen::Random rng(17);
  const auto begin = static_cast<uint32_t>(civil::month_start(kFileTestMonth));
  for (int p = 0; p < 2; ++p) {
    PartBuilder builder;
    for (int i = 0; i < 700; ++i) {
      RowCodes r;
      r.timestamp = begin + static_cast<uint32_t>(rng.uniform(31 * 86400));
      r.feature = static_cast<uint32_t>(rng.uniform(5));
      r.version = static_cast<uint32_t>(rng.uniform(3));
      r.user = static_cast<uint32_t>(rng.uniform(60));
      r.event_type = 0;
      r.session = static_cast<uint32_t>(rng.uniform(300));
      builder.add(r, static_cast<uint64_t>(i + 1), absl::StrCat("id", p, "_", i), absl::StrCat(R"({"device":"d)", rng.uniform(4), R"("})"));
    }
    f.parts.push_back(std::move(builder).finish(10 + p, kFileTestMonth, features, versions));
  }
  f.rollup = PartitionRollup::build(kFileTestMonth, f.parts);
  for (uint32_t u = 0; u < 61; ++u) f.users.push_back(u);
  f.expect = RollupExpectation{1400, 60, 5, 3, 300};
  return f;
}

TEST(RollupFile, RoundTrip) {
  const RollupFileFixture f = make_rollup_file_fixture();
  const std::string bytes = encode_rollup(*f.rollup, f.rollup->part_ids());
  auto back = decode_rollup(bytes, "r.udbr", f.expect);
  ASSERT_TRUE(back.ok()) << back.status();
  expect_same_rollup(**back, *f.rollup, f.users);
  EXPECT_NE((*back)->serial(), f.rollup->serial());  // a cache key of its own
}

// After a merge the same rows are covered by another part: the file names
// the parts it covers now.
TEST(RollupFile, CoveredPartsAreTheFilesNotTheBuildsOnes) {
  const RollupFileFixture f = make_rollup_file_fixture();
  const std::vector<uint64_t> merged = {12};
  auto back = decode_rollup(encode_rollup(*f.rollup, merged), "r.udbr", f.expect);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ((*back)->part_ids(), merged);
}

TEST(RollupFile, EveryByteFlipOrTruncationIsDataLoss) {
  const RollupFileFixture f = make_rollup_file_fixture();
  for (const uint32_t version : {2u, 3u}) {
  const std::string bytes = encode_rollup(*f.rollup, f.rollup->part_ids(), version);
  for (size_t i = 0; i < bytes.size(); i += 7) {
    std::string bad = bytes;
    bad[i] ^= 0x04;
    auto r = decode_rollup(bad, "/s/rollup-202505-9.udbr", f.expect);
    ASSERT_EQ(r.status().code(), absl::StatusCode::kDataLoss) << i;
    EXPECT_THAT(std::string(r.status().message()), HasSubstr("/s/rollup-202505-9.udbr"));
  }
  for (size_t n = 0; n < bytes.size(); n += 5) {
    ASSERT_EQ(decode_rollup(bytes.substr(0, n), "r", f.expect).status().code(), absl::StatusCode::kDataLoss) << n;
  }
  }
}

// A well-framed file that does not hold what the manifest says it must.
TEST(RollupFile, RejectsContentsTheManifestDoesNotAllow) {
  const RollupFileFixture f = make_rollup_file_fixture();
  const std::string bytes = encode_rollup(*f.rollup, f.rollup->part_ids(), 2);
  const auto message = [&](const RollupExpectation& e) {
    auto r = decode_rollup(bytes, "R", e);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss);
    return std::string(r.status().message());
  };
  // Each expectation the file does not meet, and what the error says.
  const std::pair<uint64_t RollupExpectation::*, std::pair<uint64_t, const char*>> cases[] = {
      {&RollupExpectation::rows, {1399, "R: holds 1400 rows, its parts 1399"}},
      {&RollupExpectation::users, {50, "R: summary users"}},
      {&RollupExpectation::features, {4, "R: summary code out of range"}},
      {&RollupExpectation::sessions, {200, "R: summary sessions"}},
  };
  for (const auto& [field, change] : cases) {
    RollupExpectation e = f.expect;
    e.*field = change.first;
    EXPECT_THAT(message(e), HasSubstr(change.second));
  }

  auto framed = unframe_file(bytes, "UDBROLUP", 2, "R");
  ASSERT_TRUE(framed.ok());
  const std::string after_frame = frame_file("UDBROLUP", 2, std::string(framed->body) + "x");
  EXPECT_THAT(std::string(decode_rollup(after_frame, "R", f.expect).status().message()),
              HasSubstr("R: body: zstd: 1 bytes after the frame"));
  // A byte past the rollup inside the compressed body.
  std::string_view packed = framed->body;
  uint64_t size = 0;
  ASSERT_TRUE(coding::get_varint64(&packed, &size));
  std::string body;
  ASSERT_TRUE(compression::decompress(packed, size, &body).ok());
  body += "x";
  std::string longer;
  coding::put_varint64(&longer, body.size());
  compression::compress(body, 1, &longer);
  EXPECT_THAT(std::string(decode_rollup(frame_file("UDBROLUP", 2, longer), "R", f.expect).status().message()),
              HasSubstr("R: trailing bytes"));
  std::string newer = encode_rollup(*f.rollup, f.rollup->part_ids());
  newer[8] = 4;
  EXPECT_THAT(std::string(decode_rollup(newer, "R", f.expect).status().message()),
              HasSubstr("R: unsupported rollup file version 4"));
  // Version 3: the same checks, named by section.
  const std::string v3 = encode_rollup(*f.rollup, f.rollup->part_ids());
  RollupExpectation e = f.expect;
  e.sessions = 200;
  EXPECT_THAT(std::string(decode_rollup(v3, "R", e).status().message()),
              HasSubstr("R: summary bitmaps: summary sessions"));
  e = f.expect;
  e.rows = 1399;
  EXPECT_THAT(std::string(decode_rollup(v3, "R", e).status().message()),
              HasSubstr("R: directory: holds 1400 rows, its parts 1399"));
  e = f.expect;
  e.month = kFileTestMonth;
  e.parts = {10, 12};
  EXPECT_THAT(std::string(decode_rollup(v3, "R", e).status().message()),
              HasSubstr("R: directory: not the month and parts the MANIFEST names"));
}

// The sections of version 2: present, built from the rows, read back the
// same; the metadata counts absent past their limit, and so read back.
TEST(RollupFile, VersionTimelineAndMetadataCounts) {
  const RollupFileFixture f = make_rollup_file_fixture();
  ASSERT_NE(f.rollup->versions(), nullptr);
  ASSERT_NE(f.rollup->metadata(), nullptr);
  EXPECT_EQ(f.rollup->metadata()->values.size(), 4u);
  for (const uint32_t version : {2u, 3u}) {
    const std::string bytes = encode_rollup(*f.rollup, f.rollup->part_ids(), version);
    auto back = decode_rollup(bytes, "r.udbr", f.expect);
    ASSERT_TRUE(back.ok()) << back.status();
    expect_same_rollup(**back, *f.rollup, f.users);
  }

  // Every row its own metadata string: more than MetadataCounts::kMaxValues.
  Dictionary features, versions;
  features.intern("f");
  versions.intern("1.0");
  PartBuilder builder;
  const auto begin = static_cast<uint32_t>(civil::month_start(kFileTestMonth));
  for (uint32_t i = 0; i <= MetadataCounts::kMaxValues; ++i) {
    builder.add(RowCodes{begin + i, 0, 0, i % 7, 0, 0}, i + 1, "", absl::StrCat(R"({"n":)", i, "}"));
  }
  const std::shared_ptr<const Part> part = std::move(builder).finish(20, kFileTestMonth, features, versions);
  const auto rollup = PartitionRollup::build(kFileTestMonth, {&part, 1});
  EXPECT_EQ(rollup->metadata(), nullptr);
  EXPECT_NE(rollup->versions(), nullptr);
  const RollupExpectation expect{MetadataCounts::kMaxValues + 1, 7, 1, 1, 1};
  auto distinct = decode_rollup(encode_rollup(*rollup, rollup->part_ids()), "r.udbr", expect);
  ASSERT_TRUE(distinct.ok()) << distinct.status();
  EXPECT_EQ((*distinct)->metadata(), nullptr);
  expect_same_rollup(**distinct, *rollup, {0, 1, 2, 3, 4, 5, 6});
}

// A user's count of one group past 32 bits (a month of over 4G events, which
// no test can build from rows): written by hand in the file's format, read
// back exactly, and written again the same.
TEST(RollupFile, CountsPast32BitsStayExact) {
  constexpr uint64_t kEvents = (uint64_t{5} << 30) + 7;  // > UINT32_MAX
  const auto t = static_cast<uint32_t>(civil::month_start(kFileTestMonth));
  std::string body;
  const auto put = [&](uint64_t v) { coding::put_varint64(&body, v); };
  const auto one = [](uint32_t v) { return std::vector<uint32_t>{v}; };
  put(kFileTestMonth);
  put(kEvents);  // rows
  put(1);        // covered parts
  put(10);
  put(1);  // summary cells
  put(0);  // feature
  put(0);  // version
  put(kEvents);
  put(t);
  put(0);  // last - first
  for (int i = 0; i < 2; ++i) coding::put_length_prefixed(&body, Bitmap::from_sorted(one(0)).serialize());
  put(1);  // users
  encode_ascending(one(0), &body);
  encode_for(one(1), &body);  // entries of the user
  encode_for(one(0), &body);  // its summary cell
  put(kEvents);
  encode_for(one(t), &body);
  encode_for(one(0), &body);
  for (int level = 0; level < 4; ++level) {
    put(1);  // cells
    encode_ascending(one(t), &body);
    encode_for(one(0), &body);  // feature
    put(kEvents);
    encode_for(one(1), &body);  // users per cell
    encode_for(one(0), &body);  // user 0
  }
  std::string packed;
  coding::put_varint64(&packed, body.size());
  compression::compress(body, 1, &packed);
  const RollupExpectation expect{kEvents, 1, 1, 1, 1};
  auto rollup = decode_rollup(frame_file("UDBROLUP", 1, packed), "R", expect);
  ASSERT_TRUE(rollup.ok()) << rollup.status();
  // A version 1 file: without the sections version 2 added.
  EXPECT_EQ((*rollup)->versions(), nullptr);
  EXPECT_EQ((*rollup)->metadata(), nullptr);
  ASSERT_EQ((*rollup)->user(0).size(), 1u);
  EXPECT_EQ((*rollup)->user(0)[0].count32, UserEntry::kBigCount);
  EXPECT_EQ((*rollup)->count((*rollup)->user(0)[0]), kEvents);
  auto again = decode_rollup(encode_rollup(**rollup, (*rollup)->part_ids()), "R", expect);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ((*again)->count((*again)->user(0)[0]), kEvents);
  expect_same_rollup(**again, **rollup, {0});
}

// A file in memory for open_rollup(), counting what is read of it.
class RollupReadCounter : public FileSystem {
 public:
  explicit RollupReadCounter(std::string bytes) : bytes_(std::move(bytes)) {}
  absl::StatusOr<std::string> read_file(const std::string&) override {
    read_ += bytes_.size();
    return bytes_;
  }
  absl::StatusOr<std::string> read_file_range(const std::string&, uint64_t offset, size_t n) override {
    if (offset >= bytes_.size()) return std::string();
    std::string out = bytes_.substr(offset, n);
    read_ += out.size();
    return out;
  }
  absl::StatusOr<uint64_t> file_size(const std::string&) override { return bytes_.size(); }
  bool file_exists(const std::string&) override { return true; }
  absl::StatusOr<std::unique_ptr<WritableFile>> open_append(const std::string&) override { return nullptr; }
  absl::StatusOr<std::unique_ptr<WritableFile>> open_truncate(const std::string&) override { return nullptr; }
  absl::StatusOr<std::unique_ptr<SequentialFile>> open_sequential(const std::string&) override { return nullptr; }
  absl::Status sync_dir(const std::string&) override { return absl::OkStatus(); }
  absl::Status create_dir(const std::string&) override { return absl::OkStatus(); }
  absl::StatusOr<std::vector<std::string>> list_dir(const std::string&) override {
    return std::vector<std::string>{};
  }
  absl::Status remove_file(const std::string&) override { return absl::OkStatus(); }
  absl::Status rename_file(const std::string&, const std::string&) override { return absl::OkStatus(); }
  absl::Status truncate_file(const std::string&, uint64_t) override { return absl::OkStatus(); }
  absl::StatusOr<std::unique_ptr<FileLock>> lock_file(const std::string&) override { return nullptr; }
  uint64_t read() const { return read_; }

 private:
  std::string bytes_;
  uint64_t read_ = 0;
};

RollupExpectation named(const RollupFileFixture& f) {
  RollupExpectation e = f.expect;
  e.month = kFileTestMonth;
  e.parts = f.rollup->part_ids();
  return e;
}

// Open reads the directory; each accessor reads its sections once, and
// the rollup answers as the one it was written from.
TEST(RollupFile, OpenReadsTheDirectoryAndSectionsOnFirstUse) {
  const RollupFileFixture f = make_rollup_file_fixture();
  const std::string bytes = encode_rollup(*f.rollup, f.rollup->part_ids());
  RollupReadCounter fs(bytes);
  uint32_t version = 0;
  auto r = open_rollup(&fs, "/s/rollup-202505-9.udbr", 9, named(f), &version);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(version, 3u);
  EXPECT_EQ((*r)->origin(), 9u);
  EXPECT_EQ((*r)->rows(), 1400u);
  EXPECT_EQ((*r)->part_ids(), f.rollup->part_ids());
  const uint64_t at_open = fs.read();
  EXPECT_LE(at_open, 4096u);
  // A caller that can read a user's rows elsewhere is told to, for the first
  // kUserLookupsBeforeRead look-ups, with nothing read; then it reads them.
  // One that cannot is never told to, and its look-ups do not count.
  const auto can = [] { return true; };
  EXPECT_FALSE((*r)->defer_user_entries([] { return false; }));
  for (uint32_t i = 0; i < PartitionRollup::kUserLookupsBeforeRead; ++i) EXPECT_TRUE((*r)->defer_user_entries(can)) << i;
  EXPECT_FALSE((*r)->defer_user_entries(can));
  EXPECT_EQ(fs.read(), at_open);
  // A user's entries: the summary cells and the entries, not the bitmaps.
  ASSERT_EQ((*r)->user(7).size(), f.rollup->user(7).size());
  const uint64_t after_user = fs.read();
  EXPECT_GT(after_user, at_open);
  EXPECT_LT(after_user - at_open, bytes.size() / 2);
  (void)(*r)->user(8);
  EXPECT_EQ(fs.read(), after_user);  // read once
  // Once in memory, user() is the cheapest way: never deferred.
  auto second = open_rollup(&fs, "/s/rollup-202505-9.udbr", 9, named(f), &version);
  ASSERT_TRUE(second.ok()) << second.status();
  (void)(*second)->user(7);
  EXPECT_FALSE((*second)->defer_user_entries(can));
  EXPECT_FALSE(f.rollup->defer_user_entries(can));  // built in memory
  expect_same_rollup(**r, *f.rollup, f.users);
  EXPECT_FALSE((*r)->damaged());
  EXPECT_TRUE((*r)->load_all().ok());
  // A version 2 file: read whole on first use, then answers the same.
  RollupReadCounter old(encode_rollup(*f.rollup, f.rollup->part_ids(), 2));
  auto whole = open_rollup(&old, "/s/rollup-202505-9.udbr", 9, named(f), &version);
  ASSERT_TRUE(whole.ok()) << whole.status();
  EXPECT_EQ(version, 2u);
  EXPECT_EQ((*whole)->rows(), 1400u);
  expect_same_rollup(**whole, *f.rollup, f.users);
  EXPECT_FALSE((*whole)->damaged());
}

// The sections a lazy rollup reads are charged to the budget it was given
// (the store's PartCache: its parts make room for them), and given back
// when the rollup goes.
TEST(RollupFile, SectionsReadAreChargedToTheBudgetUntilTheRollupGoes) {
  const RollupFileFixture f = make_rollup_file_fixture();
  RollupReadCounter fs(encode_rollup(*f.rollup, f.rollup->part_ids()));
  auto budget = std::make_shared<PartCache>(0);
  uint32_t version = 0;
  auto r = open_rollup(&fs, "/s/rollup-202505-9.udbr", 9, named(f), &version, budget);
  ASSERT_TRUE(r.ok()) << r.status();
  const size_t at_open = (*r)->memory_bytes();
  EXPECT_EQ(budget->charged(), 0u);
  (void)(*r)->user(7);
  const size_t after_user = budget->charged();
  EXPECT_GT(after_user, 0u);
  EXPECT_EQ(after_user, (*r)->charged_bytes());
  EXPECT_EQ(after_user, (*r)->memory_bytes() - at_open);
  (void)(*r)->user(8);
  EXPECT_EQ(budget->charged(), after_user);  // read once, charged once
  ASSERT_TRUE((*r)->load_all().ok());
  EXPECT_GT(budget->charged(), after_user);
  EXPECT_EQ(budget->charged(), (*r)->memory_bytes() - at_open);
  r = absl::StatusOr<std::shared_ptr<const PartitionRollup>>(nullptr);
  EXPECT_EQ(budget->charged(), 0u);
  // Without a budget nothing is charged anywhere.
  auto free = open_rollup(&fs, "/s/rollup-202505-9.udbr", 9, named(f), &version);
  ASSERT_TRUE(free.ok()) << free.status();
  ASSERT_TRUE((*free)->load_all().ok());
  EXPECT_EQ((*free)->charged_bytes(), 0u);
}

// Sections nobody holds are dropped when the budget needs room (a store's
// rollups are held by the Snapshot of each query while it runs), read from
// the file again on their next use, the same; while a Hold lives they stay.
TEST(RollupFile, SectionsNobodyHoldsAreDroppedAndReadAgain) {
  const RollupFileFixture f = make_rollup_file_fixture();
  RollupReadCounter fs(encode_rollup(*f.rollup, f.rollup->part_ids()));
  auto budget = std::make_shared<PartCache>(1);  // room for nothing
  uint32_t version = 0;
  auto r = open_rollup(&fs, "/s/rollup-202505-9.udbr", 9, named(f), &version, budget);
  ASSERT_TRUE(r.ok()) << r.status();
  const PartitionRollup& rollup = **r;
  const size_t at_open = rollup.memory_bytes();
  {
    PartitionRollup::Hold hold = rollup.hold();
    EXPECT_TRUE(hold);
    ASSERT_TRUE(rollup.load_all().ok());
    (void)rollup.day_user_bits(rollup.group(0).feature);
    (void)rollup.feature_hours(rollup.group(0).feature);
    EXPECT_GT(budget->charged(), 1u);  // held: over the budget
    const uint64_t read = fs.read();
    expect_same_rollup(rollup, *f.rollup, f.users);
    EXPECT_EQ(fs.read(), read);  // nothing read twice while held
    EXPECT_EQ(budget->drops(), 0u);
    PartitionRollup::Hold second = rollup.hold();
    hold = PartitionRollup::Hold();  // one of two let go: kept
    EXPECT_EQ(budget->drops(), 0u);
    EXPECT_GT(rollup.charged_bytes(), 0u);
  }
  // The last let go: dropped, the day bits and feature hours with them.
  EXPECT_EQ(budget->charged(), 0u);
  EXPECT_EQ(budget->drops(), 1u);
  EXPECT_EQ(rollup.charged_bytes(), 0u);
  EXPECT_EQ(rollup.memory_bytes(), at_open);
  {
    PartitionRollup::Hold hold = rollup.hold();
    const uint64_t read = fs.read();
    expect_same_rollup(rollup, *f.rollup, f.users);
    EXPECT_GT(fs.read(), read);  // read again
    EXPECT_FALSE(rollup.damaged());
    EXPECT_GT(budget->charged(), 1u);
  }
  // (The day and month levels read to make the activity bitmaps, which
  // nobody asked for, may have gone already while held.)
  EXPECT_GE(budget->drops(), 2u);
  EXPECT_EQ(budget->charged(), 0u);
  EXPECT_EQ(rollup.memory_bytes(), at_open);
  // Within the budget nothing is dropped.
  auto roomy = std::make_shared<PartCache>(size_t{1} << 30);
  auto kept = open_rollup(&fs, "/s/rollup-202505-9.udbr", 9, named(f), &version, roomy);
  ASSERT_TRUE(kept.ok()) << kept.status();
  {
    PartitionRollup::Hold hold = (*kept)->hold();
    ASSERT_TRUE((*kept)->load_all().ok());
  }
  EXPECT_EQ(roomy->drops(), 0u);
  EXPECT_GT(roomy->charged(), 0u);
  // A rollup without a budget: an empty Hold, nothing ever dropped.
  EXPECT_FALSE(f.rollup->hold());
}

// Memory of another owner charged to the same budget, held by the test.
class HeldRollupTestCharge : public ChargedMemory {
 public:
  size_t drop_charged(bool /*all*/) const override { return 0; }
};

// While a Hold lives, the sections no holder asked for since the holds
// began (read by earlier queries and kept, within the budget then) go when
// the budget needs room; those asked for stay, and one dropped is read
// again by the holder that asks for it next.
TEST(RollupFile, HeldRollupsDropTheSectionsNoHolderAskedFor) {
  const RollupFileFixture f = make_rollup_file_fixture();
  RollupReadCounter fs(encode_rollup(*f.rollup, f.rollup->part_ids()));
  const size_t kBudget = size_t{1} << 20;
  auto budget = std::make_shared<PartCache>(kBudget);
  uint32_t version = 0;
  auto r = open_rollup(&fs, "/s/rollup-202505-9.udbr", 9, named(f), &version, budget);
  ASSERT_TRUE(r.ok()) << r.status();
  const PartitionRollup& rollup = **r;
  const std::vector<UserEntry> entries(rollup.user(7).begin(), rollup.user(7).end());
  ASSERT_FALSE(entries.empty());
  {
    PartitionRollup::Hold earlier = rollup.hold();  // a query of the user and the days
    EXPECT_EQ(rollup.user(7).size(), entries.size());
    EXPECT_GT(rollup.timeline(Granularity::kDay).cells.size(), 0u);
  }
  const size_t both = rollup.charged_bytes();
  EXPECT_EQ(budget->drops(), 0u);  // within the budget: kept
  {
    PartitionRollup::Hold hold = rollup.hold();  // a query of the user alone
    const std::span<const UserEntry> mine = rollup.user(7);
    HeldRollupTestCharge other;
    budget->charge(&other, static_cast<int64_t>(kBudget));  // the budget needs room
    EXPECT_EQ(budget->drops(), 1u);
    const size_t users_only = rollup.charged_bytes();
    EXPECT_LT(users_only, both);
    EXPECT_GT(users_only, 0u);
    // What the holder reads is still there, and the day level is read
    // again when asked for.
    ASSERT_EQ(mine.size(), entries.size());
    for (size_t i = 0; i < mine.size(); ++i) EXPECT_EQ(mine[i].group, entries[i].group);
    const uint64_t read = fs.read();
    EXPECT_GT(rollup.timeline(Granularity::kDay).cells.size(), 0u);
    EXPECT_GT(fs.read(), read);
    EXPECT_GT(rollup.charged_bytes(), users_only);
    EXPECT_EQ(budget->drops(), 1u);  // asked for now: kept over the budget
    budget->forget(&other);
  }
  EXPECT_FALSE(rollup.damaged());
}

// A flipped byte in the directory fails open_rollup(); in a section, the
// accessors of that section read it as empty and damaged() says which file
// and section, while the other sections answer.
TEST(RollupFile, ADamagedSectionIsFoundByItsFirstReader) {
  const RollupFileFixture f = make_rollup_file_fixture();
  const std::string bytes = encode_rollup(*f.rollup, f.rollup->part_ids());
  const uint32_t header = coding::decode_fixed32(bytes.data() + 12);
  const size_t data_start = 16 + header + 8;
  for (size_t i = 0; i < data_start; i += 3) {
    std::string bad = bytes;
    bad[i] ^= 0x10;
    RollupReadCounter fs(bad);
    uint32_t version = 0;
    auto r = open_rollup(&fs, "/s/rollup-202505-9.udbr", 9, named(f), &version);
    if (i >= 8 && i < 12) continue;  // the version: another format, or none
    ASSERT_EQ(r.status().code(), absl::StatusCode::kDataLoss) << i;
    EXPECT_THAT(std::string(r.status().message()), HasSubstr("/s/rollup-202505-9.udbr")) << i;
  }
  int damaged_sections = 0;
  for (size_t i = data_start; i < bytes.size(); i += 11) {
    std::string bad = bytes;
    bad[i] ^= 0x10;
    RollupReadCounter fs(bad);
    uint32_t version = 0;
    auto r = open_rollup(&fs, "/s/rollup-202505-9.udbr", 9, named(f), &version);
    ASSERT_TRUE(r.ok()) << i << " " << r.status();
    EXPECT_FALSE((*r)->damaged());
    (void)(*r)->user(7);
    const bool entries_damaged = (*r)->damaged();
    (void)(*r)->summary();
    (void)(*r)->timeline(Granularity::kDay);
    const absl::Status loaded = (*r)->load_all();
    ASSERT_EQ(loaded.code(), absl::StatusCode::kDataLoss) << i;
    EXPECT_THAT(std::string(loaded.message()), HasSubstr("/s/rollup-202505-9.udbr: ")) << i;
    EXPECT_TRUE((*r)->damaged());
    if (entries_damaged) {
      EXPECT_TRUE((*r)->user(7).empty());
      ++damaged_sections;
    }
  }
  EXPECT_GT(damaged_sections, 0);
  // Named by section.
  std::string bad = bytes;
  bad[bytes.size() - 1] ^= 0x10;  // the last section: the metadata counts
  RollupReadCounter fs(bad);
  uint32_t version = 0;
  auto r = open_rollup(&fs, "R", 9, named(f), &version);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE((*r)->summary().empty());
  EXPECT_EQ((*r)->metadata(), nullptr);
  EXPECT_EQ(std::string((*r)->damage().message()), "R: metadata counts: checksum mismatch");
}

}  // namespace
}  // namespace usagedb::storage
