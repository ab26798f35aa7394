// The write-ahead log: round trips, and the recovery rules of
// lib/storage/log_format.md under truncation, corruption, garbage tails and
// injected write and sync failures (leveldb's log_test, recovery_test and
// fault_injection_test).
#include <sys/resource.h>

#include <algorithm>
#include <csignal>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/gen/random.h"
#include "lib/storage/file.h"
#include "lib/storage/log_format.h"
#include "lib/storage/log_reader.h"
#include "lib/storage/log_writer.h"
#include "lib/util/coding.h"
#include "lib/util/hash.h"
#include "tests/testutil/fault_injection_fs.h"
#include "tests/testutil/temp_dir.h"
#include "tests/testutil/helpers.h"

namespace usagedb::storage {
namespace {

using ::testing::HasSubstr;
using usagedb::testing::FaultInjectionFileSystem;
using usagedb::testing::ScopedTempDir;

constexpr char kName[] = "test.log";

using ::usagedb::testing::message;

std::string random_bytes(gen::Random& random, size_t n) {
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(random.uniform(256));
  return s;
}

// Printable text, like the JSON strings event batches mostly hold. The
// reader's torn-tail scan skips text quickly (no byte is a fragment type), so
// the tests that read a log thousands of times use it for large records;
// random bytes, the scan's slow case, fill the others.
std::string text_bytes(gen::Random& random, size_t n) {
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(' ' + random.uniform(95));
  return s;
}

// Writes into a string, to build logs in memory.
class StringFile final : public WritableFile {
 public:
  explicit StringFile(std::string* out) : out_(out) {}
  absl::Status append(std::string_view data) override {
    out_->append(data);
    return absl::OkStatus();
  }
  absl::Status flush() override { return absl::OkStatus(); }
  absl::Status sync() override { return absl::OkStatus(); }
  absl::Status close() override { return absl::OkStatus(); }
  uint64_t size() const override { return out_->size(); }
  const std::string& path() const override { return path_; }

 private:
  std::string* const out_;
  const std::string path_ = kName;
};

// Reads a string without copying it, so tests can read thousands of cuts.
class ViewFile final : public SequentialFile {
 public:
  explicit ViewFile(std::string_view bytes) : bytes_(bytes) {}
  absl::StatusOr<size_t> read(char* scratch, size_t n) override {
    const size_t k = std::min(n, bytes_.size());
    std::copy_n(bytes_.data(), k, scratch);
    bytes_.remove_prefix(k);
    return k;
  }
  const std::string& path() const override { return path_; }

 private:
  std::string_view bytes_;
  const std::string path_ = kName;
};

// A log built in memory, with where the format puts each fragment.
struct BuiltLog {
  std::string bytes;
  std::vector<std::string> records;
  std::vector<uint64_t> starts;  // each record's first fragment
  std::vector<uint64_t> ends;    // the byte after each record's last fragment
  std::vector<uint64_t> fragment_starts;
};

// Where the fragments of a `size`-byte record written at `pos` go, derived
// from the format description rather than the writer's code.
uint64_t place_record(uint64_t pos, uint64_t size, BuiltLog* log) {
  bool first = true;
  do {
    const uint64_t leftover = kLogBlockSize - pos % kLogBlockSize;
    if (leftover < kLogFragmentHeaderSize) pos += leftover;  // zero padding
    if (first) log->starts.push_back(pos);
    log->fragment_starts.push_back(pos);
    const uint64_t n = std::min<uint64_t>(size, kLogBlockSize - pos % kLogBlockSize - kLogFragmentHeaderSize);
    pos += kLogFragmentHeaderSize + n;
    size -= n;
    first = false;
  } while (size > 0);
  return pos;
}

BuiltLog build_log(const std::vector<std::string>& records, uint64_t log_number = 1) {
  BuiltLog log;
  log.bytes = encode_log_file_header(log_number);
  LogWriter writer(std::make_unique<StringFile>(&log.bytes));
  for (const std::string& record : records) {
    const uint64_t end = place_record(log.bytes.size(), record.size(), &log);
    EXPECT_TRUE(writer.add_record(record).ok());
    EXPECT_EQ(writer.size(), end) << "the writer disagrees with the format";
    log.ends.push_back(end);
  }
  log.records = records;
  return log;
}

struct ReadResult {
  absl::Status status;
  std::vector<std::string> records;
  std::vector<uint64_t> offsets;
  uint64_t valid_end = 0;
  uint64_t dropped = 0;
};

ReadResult read_reader(LogReader* reader) {
  ReadResult r;
  std::string_view record;
  for (;;) {
    absl::StatusOr<bool> more = reader->read_record(&record);
    if (!more.ok()) {
      r.status = more.status();
      break;
    }
    if (!*more) break;
    r.records.emplace_back(record);
    r.offsets.push_back(reader->last_record_offset());
  }
  r.valid_end = reader->valid_prefix_end();
  r.dropped = r.status.ok() ? reader->dropped_bytes() : 0;
  return r;
}

ReadResult read_log(std::string_view bytes, std::optional<uint64_t> expected = 1) {
  auto reader = LogReader::open(std::make_unique<ViewFile>(bytes), expected);
  if (!reader.ok()) return ReadResult{reader.status()};
  return read_reader(reader->get());
}

ReadResult read_log_file(const std::string& path, std::optional<uint64_t> expected = 1) {
  auto reader = LogReader::open(path, expected);
  if (!reader.ok()) return ReadResult{reader.status()};
  return read_reader(reader->get());
}

std::vector<std::string> prefix(const std::vector<std::string>& v, size_t n) {
  return std::vector<std::string>(v.begin(), v.begin() + static_cast<ptrdiff_t>(n));
}

std::string fragment(LogFragmentType type, std::string_view payload) {
  char header[kLogFragmentHeaderSize];
  encode_log_fragment_header(type, payload, header);
  return std::string(header, sizeof(header)) + std::string(payload);
}

// Records spanning three blocks: empty ones, tiny ones, one crossing a block
// boundary and one longer than a block.
std::vector<std::string> three_block_records() {
  gen::Random random(11);
  std::vector<std::string> records;
  for (size_t n : {0, 1, 100, 20000, 5, 12700, 0, 9, 33000, 3, 250}) {
    records.push_back(n < 1000 ? random_bytes(random, n) : text_bytes(random, n));
  }
  return records;
}

TEST(LogFormat, FindFragmentTypeByteFindsExactlyTheBytesOneToFour) {
  // Every byte value at every position of a word and of the bytewise tail,
  // among fillers that must not match.
  for (char filler : {'\0', '\x05', ' ', '\x7f', '\x80', '\x81', '\x84', '\x85', '\xff'}) {
    for (int v = 0; v < 256; ++v) {
      for (size_t at = 0; at < 19; ++at) {
        std::string bytes(19, filler);
        bytes[at] = static_cast<char>(v);
        const size_t expected = (v >= 1 && v <= 4) ? at : bytes.size();
        ASSERT_EQ(find_fragment_type_byte(bytes), expected) << "filler " << int{filler} << " value " << v << " at " << at;
      }
    }
  }
  gen::Random random(12);
  for (int i = 0; i < 20000; ++i) {
    const std::string bytes = random_bytes(random, random.uniform(40));
    size_t expected = 0;
    while (expected < bytes.size() && static_cast<uint8_t>(bytes[expected]) - 1u >= 4) ++expected;
    ASSERT_EQ(find_fragment_type_byte(bytes), expected);
  }
}

TEST(Log, EmptyLogHasNoRecords) {
  const std::string bytes = encode_log_file_header(1);
  ASSERT_EQ(bytes.size(), kLogFileHeaderSize);
  ReadResult r = read_log(bytes);
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_TRUE(r.records.empty());
  EXPECT_EQ(r.valid_end, kLogFileHeaderSize);
  EXPECT_EQ(r.dropped, 0u);
}

TEST(Log, RoundTripOfRandomSizesThroughFiles) {
  ScopedTempDir dir;
  const std::string path = dir.file("000007.log");
  gen::Random random(1);
  std::vector<std::string> records;
  for (size_t n : {size_t{0}, size_t{1}, kLogBlockSize - kLogFileHeaderSize - kLogFragmentHeaderSize, kLogBlockSize,
                   size_t{3} << 20, (size_t{5} << 20) + 17}) {
    records.push_back(random_bytes(random, n));
  }
  for (int i = 0; i < 300; ++i) records.push_back(random_bytes(random, random.uniform(2000)));
  for (int i = 0; i < 20; ++i) records.push_back(random_bytes(random, random.uniform(200000)));
  std::shuffle(records.begin() + 6, records.end(), std::mt19937(5));

  auto writer = LogWriter::create(path, 7);
  ASSERT_TRUE(writer.ok()) << writer.status();
  BuiltLog expected;
  uint64_t pos = kLogFileHeaderSize;
  for (size_t i = 0; i < records.size(); ++i) {
    pos = place_record(pos, records[i].size(), &expected);
    ASSERT_TRUE((*writer)->add_record(records[i]).ok());
    if (i % 50 == 0) ASSERT_TRUE((*writer)->sync().ok());
  }
  EXPECT_EQ((*writer)->size(), pos);
  ASSERT_TRUE((*writer)->close().ok());
  EXPECT_EQ(*file_size(path), pos);

  ReadResult r = read_log_file(path, 7);
  ASSERT_TRUE(r.status.ok()) << r.status;
  ASSERT_EQ(r.records.size(), records.size());
  for (size_t i = 0; i < records.size(); ++i) ASSERT_EQ(r.records[i], records[i]) << "record " << i;
  EXPECT_EQ(r.offsets, expected.starts);
  EXPECT_EQ(r.valid_end, pos);
  EXPECT_EQ(r.dropped, 0u);
}

TEST(Log, RecordsAroundEveryBlockTrailerSize) {
  gen::Random random(2);
  // The first record leaves `trailer` bytes in block 0: fewer than a header
  // are zero padding, exactly a header's worth holds an empty first fragment.
  for (size_t trailer = 0; trailer <= kLogFragmentHeaderSize + 1; ++trailer) {
    const std::vector<std::string> records = {
        random_bytes(random, kLogBlockSize - trailer - kLogFileHeaderSize - kLogFragmentHeaderSize),
        random_bytes(random, 100), random_bytes(random, 0)};
    BuiltLog log = build_log(records);
    ASSERT_EQ(log.ends[0], kLogBlockSize - trailer);
    EXPECT_EQ(log.starts[1], trailer < kLogFragmentHeaderSize ? kLogBlockSize : kLogBlockSize - trailer);
    if (trailer < kLogFragmentHeaderSize) {
      EXPECT_EQ(log.bytes.substr(kLogBlockSize - trailer, trailer), std::string(trailer, '\0'));
    }
    ReadResult r = read_log(log.bytes);
    ASSERT_TRUE(r.status.ok()) << "trailer " << trailer << ": " << r.status;
    EXPECT_EQ(r.records, records) << "trailer " << trailer;
    EXPECT_EQ(r.offsets, log.starts);

    // A writer reopened at the end of the first record pads the same way.
    std::string resumed = log.bytes.substr(0, log.ends[0]);
    LogWriter writer(std::make_unique<StringFile>(&resumed));
    ASSERT_TRUE(writer.add_record(records[1]).ok());
    ASSERT_TRUE(writer.add_record(records[2]).ok());
    EXPECT_EQ(resumed, log.bytes) << "trailer " << trailer;
  }
}

TEST(Log, TruncationAtEveryOffsetKeepsExactlyTheWholeRecords) {
  const BuiltLog log = build_log(three_block_records());
  ASSERT_GT(log.bytes.size(), 2 * kLogBlockSize);
  for (size_t cut = 0; cut <= log.bytes.size(); ++cut) {
    ReadResult r = read_log(std::string_view(log.bytes).substr(0, cut));
    if (cut < kLogFileHeaderSize) {
      ASSERT_TRUE(absl::IsDataLoss(r.status)) << "cut " << cut << ": " << r.status;
      ASSERT_THAT(message(r.status), HasSubstr(kName));
      continue;
    }
    ASSERT_TRUE(r.status.ok()) << "cut " << cut << ": " << r.status;
    const size_t whole = std::upper_bound(log.ends.begin(), log.ends.end(), cut) - log.ends.begin();
    ASSERT_EQ(r.records, prefix(log.records, whole)) << "cut " << cut;
    const uint64_t valid_end = whole == 0 ? kLogFileHeaderSize : log.ends[whole - 1];
    ASSERT_EQ(r.valid_end, valid_end) << "cut " << cut;
    ASSERT_EQ(r.dropped, cut - valid_end) << "cut " << cut;
  }
}

// A damaged byte is never returned: the reader reports DataLoss when any
// valid fragment follows the damage, and otherwise drops it as a torn tail.
TEST(Log, FlippingAnyByteIsDetected) {
  gen::Random random(3);
  std::vector<std::string> records;
  for (size_t n : {0, 1, 50, 3000, 29000, 10, 2000, 0, 6000}) {
    records.push_back(n < 1000 ? random_bytes(random, n) : text_bytes(random, n));
  }
  const BuiltLog log = build_log(records);
  ASSERT_GT(log.bytes.size(), kLogBlockSize);
  std::string bytes = log.bytes;
  for (size_t p = 0; p < bytes.size(); ++p) {
    const char mask = (p % 2 == 0) ? static_cast<char>(1 << (p / 2 % 8)) : static_cast<char>(0xFF);
    bytes[p] ^= mask;
    ReadResult r = read_log(bytes);
    bytes[p] ^= mask;
    ASSERT_LE(r.records.size(), records.size());
    ASSERT_EQ(r.records, prefix(records, r.records.size())) << "byte " << p << ": a wrong record";
    const bool followed = log.fragment_starts.back() > p;
    if (p < kLogFileHeaderSize || followed) {
      ASSERT_TRUE(absl::IsDataLoss(r.status)) << "byte " << p << ": " << r.status;
      ASSERT_THAT(message(r.status), HasSubstr(kName));
      if (p >= kLogFileHeaderSize) {
        ASSERT_THAT(message(r.status), HasSubstr("offset"));
        const size_t n = r.records.size();
        ASSERT_EQ(r.valid_end, n == 0 ? kLogFileHeaderSize : log.ends[n - 1]);
      }
    } else {
      ASSERT_TRUE(r.status.ok()) << "byte " << p << ": " << r.status;
      ASSERT_EQ(r.records, prefix(records, records.size() - 1)) << "byte " << p;
      ASSERT_EQ(r.valid_end, log.ends[records.size() - 2]);
      ASSERT_EQ(r.dropped, bytes.size() - r.valid_end);
    }
  }
}

TEST(Log, ZerosOrGarbageAfterTheLastRecordAreATornTail) {
  gen::Random random(4);
  const BuiltLog log = build_log(three_block_records());
  std::vector<std::string> tails;
  for (size_t n : {size_t{1}, size_t{10}, size_t{11}, size_t{12}, size_t{5000}, 3 * kLogBlockSize + 7}) {
    tails.emplace_back(n, '\0');
  }
  for (size_t n : {1, 20, 40000, 300000}) tails.push_back(random_bytes(random, n));
  // A header with a plausible type and length whose checksum fails.
  tails.push_back(fragment(LogFragmentType::kFull, std::string(100, 'x')));
  tails.back()[0] ^= 1;
  // The first fragments of a record whose last one never arrived.
  tails.push_back(fragment(LogFragmentType::kFirst, "abc"));
  tails.push_back(fragment(LogFragmentType::kFirst, "abc") + fragment(LogFragmentType::kMiddle, "def"));
  for (const std::string& tail : tails) {
    ReadResult r = read_log(log.bytes + tail);
    ASSERT_TRUE(r.status.ok()) << tail.size() << "-byte tail: " << r.status;
    EXPECT_EQ(r.records, log.records);
    EXPECT_EQ(r.valid_end, log.bytes.size());
    EXPECT_EQ(r.dropped, tail.size());
  }
}

TEST(Log, CorruptRecordFollowedByValidOnesIsDataLossNamingTheOffset) {
  gen::Random random(5);
  std::vector<std::string> records;
  for (int i = 0; i < 5; ++i) records.push_back(random_bytes(random, 100));
  BuiltLog log = build_log(records);
  log.bytes[log.starts[1] + kLogFragmentHeaderSize + 50] ^= 0x10;
  ReadResult r = read_log(log.bytes);
  EXPECT_TRUE(absl::IsDataLoss(r.status)) << r.status;
  EXPECT_THAT(message(r.status), HasSubstr(absl::StrCat(kName, ": corrupt log record at offset ", log.starts[1],
                                                        " (checksum mismatch) followed by a valid fragment at offset ",
                                                        log.starts[2])));
  EXPECT_EQ(r.records, prefix(records, 1));
  EXPECT_EQ(r.valid_end, log.ends[0]);
}

TEST(Log, DamageSpanningABlockBoundaryIsFoundByLaterValidFragments) {
  gen::Random random(6);
  std::vector<std::string> records;
  for (int i = 0; i < 200; ++i) records.push_back(random_bytes(random, random.uniform(1000)));
  BuiltLog log = build_log(records);
  ASSERT_GT(log.bytes.size(), 3 * kLogBlockSize);
  // Zero from inside block 0 to 1000 bytes into block 1.
  const uint64_t from = kLogBlockSize - 5000, to = kLogBlockSize + 1000;
  std::fill(log.bytes.begin() + from, log.bytes.begin() + to, '\0');
  // The damage starts in the fragment holding byte `from`, and the next
  // fragment whose header survived starts at or after `to`.
  const auto& starts = log.fragment_starts;
  const uint64_t damaged = *(std::upper_bound(starts.begin(), starts.end(), from) - 1);
  const uint64_t next_valid = *std::lower_bound(starts.begin(), starts.end(), to);
  ReadResult r = read_log(log.bytes);
  EXPECT_TRUE(absl::IsDataLoss(r.status)) << r.status;
  EXPECT_THAT(message(r.status), HasSubstr(absl::StrCat("corrupt log record at offset ", damaged)));
  EXPECT_THAT(message(r.status), HasSubstr(absl::StrCat("followed by a valid fragment at offset ", next_valid)));

  // The same damage with nothing after it is a torn tail.
  ReadResult torn = read_log(std::string_view(log.bytes).substr(0, to));
  ASSERT_TRUE(torn.status.ok()) << torn.status;
  const size_t whole = std::upper_bound(log.ends.begin(), log.ends.end(), damaged) - log.ends.begin();
  EXPECT_EQ(torn.records, prefix(records, whole));
  EXPECT_EQ(torn.valid_end, log.ends[whole - 1]);
  EXPECT_EQ(torn.dropped, to - torn.valid_end);
}

TEST(Log, NonZeroBlockPaddingBeforeARecordIsDataLoss) {
  gen::Random random(7);
  const std::vector<std::string> records = {
      random_bytes(random, kLogBlockSize - 5 - kLogFileHeaderSize - kLogFragmentHeaderSize), random_bytes(random, 10)};
  BuiltLog log = build_log(records);
  ASSERT_EQ(log.starts[1], kLogBlockSize);
  log.bytes[kLogBlockSize - 2] = 'x';
  ReadResult r = read_log(log.bytes);
  EXPECT_TRUE(absl::IsDataLoss(r.status)) << r.status;
  EXPECT_THAT(message(r.status), HasSubstr(absl::StrCat("at offset ", kLogBlockSize - 5, " (non-zero bytes in the padding")));
  EXPECT_EQ(r.records, prefix(records, 1));
}

TEST(Log, FragmentsOutOfOrderAreDataLoss) {
  using T = LogFragmentType;
  const std::string header = encode_log_file_header(1);
  struct Case {
    std::string body;
    std::string error;  // empty: no error
    std::vector<std::string> records;
  };
  const std::vector<Case> cases = {
      {fragment(T::kFirst, "a") + fragment(T::kMiddle, "b") + fragment(T::kLast, "c"), "", {"abc"}},
      {fragment(T::kFirst, "") + fragment(T::kLast, ""), "", {""}},
      {fragment(T::kMiddle, "b") + fragment(T::kFull, "x"),
       "corrupt log at offset 28: a record's later fragment with no first fragment before it", {}},
      {fragment(T::kFull, "x") + fragment(T::kLast, "c"),
       "corrupt log at offset 40: a record's later fragment with no first fragment before it", {"x"}},
      {fragment(T::kFirst, "a") + fragment(T::kFull, "x"),
       "corrupt log at offset 40: a whole record inside the record begun at offset 28", {}},
      {fragment(T::kFirst, "a") + fragment(T::kFirst, "a"),
       "corrupt log at offset 40: a record's first fragment inside the record begun at offset 28", {}},
  };
  for (const Case& c : cases) {
    ReadResult r = read_log(header + c.body);
    if (c.error.empty()) {
      EXPECT_TRUE(r.status.ok()) << r.status;
    } else {
      EXPECT_TRUE(absl::IsDataLoss(r.status)) << r.status;
      EXPECT_EQ(message(r.status), absl::StrCat(kName, ": ", c.error));
    }
    EXPECT_EQ(r.records, c.records);
  }
}

TEST(Log, BadFileHeaderIsDataLossNamingTheFile) {
  const std::string good = encode_log_file_header(7) + fragment(LogFragmentType::kFull, "record");
  ASSERT_TRUE(read_log(good, 7).status.ok());

  ReadResult r = read_log("", 7);
  EXPECT_TRUE(absl::IsDataLoss(r.status)) << r.status;
  EXPECT_EQ(message(r.status), "test.log: too short to be a usagedb log (0 bytes; its file header alone is 28)");

  r = read_log(good.substr(0, 27), 7);
  EXPECT_TRUE(absl::IsDataLoss(r.status)) << r.status;

  std::string bad_magic = good;
  bad_magic[1] = 'X';
  r = read_log(bad_magic, 7);
  EXPECT_TRUE(absl::IsDataLoss(r.status)) << r.status;
  EXPECT_THAT(message(r.status), HasSubstr("test.log: not a usagedb log"));

  for (size_t p = kLogMagic.size(); p < kLogFileHeaderSize; ++p) {
    std::string damaged = good;
    damaged[p] ^= 4;
    r = read_log(damaged, std::nullopt);
    EXPECT_TRUE(absl::IsDataLoss(r.status)) << p << ": " << r.status;
    EXPECT_THAT(message(r.status), HasSubstr("test.log: log file header checksum mismatch"));
  }

  r = read_log(good, 8);
  EXPECT_TRUE(absl::IsDataLoss(r.status)) << r.status;
  EXPECT_EQ(message(r.status), "test.log: holds log 7, expected log 8 (a renamed or misplaced file?)");

  // Any log number is accepted without an expectation.
  auto reader = LogReader::open(std::make_unique<ViewFile>(good), std::nullopt);
  ASSERT_TRUE(reader.ok());
  EXPECT_EQ((*reader)->log_number(), 7u);
}

TEST(Log, NewerFormatVersionIsFailedPrecondition) {
  // A well-formed header of version 2, built by hand.
  std::string header(kLogMagic);
  coding::put_fixed32(&header, 2);
  coding::put_fixed64(&header, 7);
  coding::put_fixed64(&header, hash::checksum(header));
  ReadResult r = read_log(header, 7);
  EXPECT_TRUE(absl::IsFailedPrecondition(r.status)) << r.status;
  EXPECT_THAT(message(r.status), HasSubstr("test.log: log format version 2 is not supported"));
}

TEST(Log, MissingFileIsNotFound) {
  ScopedTempDir dir;
  ReadResult r = read_log_file(dir.file("000001.log"));
  EXPECT_TRUE(absl::IsNotFound(r.status)) << r.status;
  EXPECT_THAT(message(r.status), HasSubstr(dir.file("000001.log")));
}

TEST(Log, ReadErrorsAreReturnedAsTheyAre) {
  // Fails its second read, after the first block.
  class FailingFile final : public SequentialFile {
   public:
    explicit FailingFile(std::string_view bytes) : inner_(bytes) {}
    absl::StatusOr<size_t> read(char* scratch, size_t n) override {
      if (++reads_ == 2) return absl::UnavailableError("read test.log at offset 32768: Input/output error");
      return inner_.read(scratch, n);
    }
    const std::string& path() const override { return inner_.path(); }

   private:
    ViewFile inner_;
    int reads_ = 0;
  };
  const BuiltLog log = build_log(three_block_records());
  auto reader = LogReader::open(std::make_unique<FailingFile>(log.bytes), 1);
  ASSERT_TRUE(reader.ok());
  ReadResult r = read_reader(reader->get());
  EXPECT_TRUE(absl::IsUnavailable(r.status)) << r.status;
  EXPECT_EQ(r.records, prefix(log.records, r.records.size()));
  std::string_view record;
  EXPECT_TRUE(absl::IsUnavailable((*reader)->read_record(&record).status()));  // and stays so
}

TEST(Log, ReadRecordKeepsReturningTheEnd) {
  const BuiltLog log = build_log({"a", "b"});
  auto reader = LogReader::open(std::make_unique<ViewFile>(log.bytes), 1);
  ASSERT_TRUE(reader.ok());
  std::string_view record;
  for (int i = 0; i < 2; ++i) ASSERT_TRUE(*(*reader)->read_record(&record));
  for (int i = 0; i < 3; ++i) {
    auto more = (*reader)->read_record(&record);
    ASSERT_TRUE(more.ok());
    EXPECT_FALSE(*more);
  }
}

TEST(Log, AppendingAfterCuttingATornTailWorks) {
  ScopedTempDir dir;
  const std::string path = dir.file("000003.log");
  gen::Random random(8);
  std::vector<std::string> before, after;
  for (int i = 0; i < 10; ++i) before.push_back(random_bytes(random, random.uniform(50000)));
  for (int i = 0; i < 10; ++i) after.push_back(random_bytes(random, random.uniform(50000)));
  {
    auto writer = LogWriter::create(path, 3);
    ASSERT_TRUE(writer.ok()) << writer.status();
    for (const std::string& record : before) ASSERT_TRUE((*writer)->add_record(record).ok());
    ASSERT_TRUE((*writer)->add_record(random_bytes(random, 100000)).ok());
    ASSERT_TRUE((*writer)->close().ok());
  }
  // A crash mid-append: half of the last record, then zeros the file system
  // allocated but never wrote.
  const uint64_t full = *file_size(path);
  ASSERT_TRUE(truncate_file(path, full - 60000).ok());
  ASSERT_TRUE(truncate_file(path, full - 60000 + 5000).ok());

  ReadResult r = read_log_file(path, 3);
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_EQ(r.records, before);
  ASSERT_GT(r.dropped, 0u);
  EXPECT_EQ(r.valid_end + r.dropped, full - 55000);

  // Appending without cutting the tail first would leave damage followed by
  // valid records.
  const std::string uncut = dir.file("000004.log");
  ASSERT_TRUE(write_file_atomically(uncut, *read_file(path)).ok());
  {
    auto writer = LogWriter::reopen(uncut);
    ASSERT_TRUE(writer.ok());
    ASSERT_TRUE((*writer)->add_record("x").ok());
  }
  EXPECT_TRUE(absl::IsDataLoss(read_log_file(uncut, 3).status));

  ASSERT_TRUE(truncate_file(path, r.valid_end).ok());
  {
    auto writer = LogWriter::reopen(path);
    ASSERT_TRUE(writer.ok()) << writer.status();
    EXPECT_EQ((*writer)->size(), r.valid_end);
    for (const std::string& record : after) ASSERT_TRUE((*writer)->add_record(record).ok());
    ASSERT_TRUE((*writer)->sync().ok());
  }
  r = read_log_file(path, 3);
  ASSERT_TRUE(r.status.ok()) << r.status;
  std::vector<std::string> all = before;
  all.insert(all.end(), after.begin(), after.end());
  EXPECT_EQ(r.records, all);
  EXPECT_EQ(r.dropped, 0u);
}

TEST(LogWriter, CreateRefusesAnExistingFileAndReopenAMissingOrShortOne) {
  ScopedTempDir dir;
  const std::string path = dir.file("000001.log");
  ASSERT_TRUE(LogWriter::create(path, 1).ok());
  auto again = LogWriter::create(path, 1);
  EXPECT_TRUE(absl::IsAlreadyExists(again.status())) << again.status();
  EXPECT_THAT(message(again.status()), HasSubstr(path));

  auto missing = LogWriter::reopen(dir.file("000002.log"));
  EXPECT_TRUE(absl::IsNotFound(missing.status())) << missing.status();
  EXPECT_FALSE(file_exists(dir.file("000002.log")));

  ASSERT_TRUE(write_file_atomically(dir.file("short.log"), "abc").ok());
  auto short_log = LogWriter::reopen(dir.file("short.log"));
  EXPECT_TRUE(absl::IsFailedPrecondition(short_log.status())) << short_log.status();
  EXPECT_THAT(message(short_log.status()), HasSubstr(dir.file("short.log")));
}

TEST(LogWriter, CallsAfterCloseFail) {
  ScopedTempDir dir;
  auto writer = LogWriter::create(dir.file("000001.log"), 1);
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->add_record("a").ok());
  ASSERT_TRUE((*writer)->close().ok());
  for (const absl::Status& s : {(*writer)->add_record("b"), (*writer)->flush(), (*writer)->sync(), (*writer)->close()}) {
    EXPECT_TRUE(absl::IsFailedPrecondition(s)) << s;
    EXPECT_THAT(message(s), HasSubstr("was closed"));
  }
  EXPECT_EQ(read_log_file(dir.file("000001.log")).records, std::vector<std::string>{"a"});
}

TEST(LogWriter, AFullDiskStopsTheWriterAndRecoveryKeepsTheWholeRecords) {
  ScopedTempDir dir;
  const std::string path = dir.file("000001.log");
  FaultInjectionFileSystem fs;
  auto writer = LogWriter::create(path, 1, &fs);
  ASSERT_TRUE(writer.ok()) << writer.status();
  fs.set_write_budget(1000);
  ASSERT_TRUE((*writer)->add_record(std::string(100, 'a')).ok());
  absl::Status s = (*writer)->add_record(std::string(5000, 'b'));
  EXPECT_TRUE(absl::IsResourceExhausted(s)) << s;
  EXPECT_THAT(message(s), HasSubstr(path));
  fs.clear_faults();  // even with space again, the writer stays stopped
  for (const absl::Status& later : {(*writer)->add_record("c"), (*writer)->flush(), (*writer)->sync()}) {
    EXPECT_TRUE(absl::IsResourceExhausted(later)) << later;
    EXPECT_THAT(message(later), HasSubstr("stopped after an earlier error"));
  }
  writer->reset();
  EXPECT_EQ(*file_size(path), kLogFileHeaderSize + 1000);
  ReadResult r = read_log_file(path);
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_EQ(r.records, std::vector<std::string>{std::string(100, 'a')});
  EXPECT_EQ(r.dropped, 1000 - 111u);
}

// A crash after any number of bytes of a run of appends: recovery returns
// exactly the records written whole, and appending after the cut works.
TEST(LogWriter, ACrashMidWriteLosesOnlyTheUnfinishedRecord) {
  gen::Random random(9);
  std::vector<std::string> records;
  for (size_t n : {10, 0, 40000, 300, 100000, 7}) records.push_back(random_bytes(random, n));
  const BuiltLog log = build_log(records);
  const uint64_t body = log.bytes.size() - kLogFileHeaderSize;
  std::vector<uint64_t> budgets = {0, 1, 10, 11, 12, 21, 22, body - 1, body};
  for (uint64_t b = 23; b < body; b += 997) budgets.push_back(b);
  for (uint64_t e : log.ends) budgets.push_back(e - kLogFileHeaderSize);
  for (uint64_t budget : budgets) {
    ScopedTempDir dir;
    const std::string path = dir.file("000001.log");
    FaultInjectionFileSystem fs;
    {
      auto writer = LogWriter::create(path, 1, &fs);
      ASSERT_TRUE(writer.ok()) << writer.status();
      fs.set_write_budget(budget);
      absl::Status s;
      for (const std::string& record : records) {
        s = (*writer)->add_record(record);
        if (!s.ok()) break;
      }
      if (s.ok()) s = (*writer)->flush();
      EXPECT_EQ(s.ok(), budget >= body) << budget << ": " << s;
    }
    const uint64_t cut = kLogFileHeaderSize + budget;
    ASSERT_EQ(*file_size(path), cut);
    ReadResult r = read_log_file(path);
    ASSERT_TRUE(r.status.ok()) << "budget " << budget << ": " << r.status;
    const size_t whole = std::upper_bound(log.ends.begin(), log.ends.end(), cut) - log.ends.begin();
    ASSERT_EQ(r.records, prefix(records, whole)) << "budget " << budget;
    ASSERT_EQ(r.valid_end + r.dropped, cut);

    ASSERT_TRUE(truncate_file(path, r.valid_end).ok());
    auto writer = LogWriter::reopen(path);
    ASSERT_TRUE(writer.ok());
    ASSERT_TRUE((*writer)->add_record("after").ok());
    ASSERT_TRUE((*writer)->close().ok());
    std::vector<std::string> expected = prefix(records, whole);
    expected.push_back("after");
    ASSERT_EQ(read_log_file(path).records, expected) << "budget " << budget;
  }
}

TEST(LogWriter, AFailedSyncIsReportedAndAPowerLossKeepsTheSyncedRecords) {
  ScopedTempDir dir;
  const std::string path = dir.file("000001.log");
  FaultInjectionFileSystem fs;
  {
    auto writer = LogWriter::create(path, 1, &fs);
    ASSERT_TRUE(writer.ok());
    ASSERT_TRUE((*writer)->add_record("synced").ok());
    ASSERT_TRUE((*writer)->sync().ok());
    ASSERT_TRUE((*writer)->add_record("not synced").ok());
    fs.set_fail_syncs(true);
    absl::Status s = (*writer)->sync();
    EXPECT_FALSE(s.ok());
    EXPECT_THAT(message(s), HasSubstr("fdatasync " + path));
    s = (*writer)->add_record("after the failure");
    EXPECT_THAT(message(s), HasSubstr("stopped after an earlier error"));
  }
  fs.clear_faults();
  // Before the power loss the unsynced record is in the file...
  EXPECT_EQ(read_log_file(path).records, (std::vector<std::string>{"synced", "not synced"}));
  // ...after it, only what was synced.
  ASSERT_TRUE(fs.drop_unsynced_data().ok());
  ReadResult r = read_log_file(path);
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_EQ(r.records, std::vector<std::string>{"synced"});
  EXPECT_EQ(r.dropped, 0u);
}

// A writer that keeps zeros written ahead of its records (what a store with
// Options::sync does): the file on disk reaches past the records; recovery
// reads every record and the zeros after them as a torn tail, and appending
// after they are cut off works. Damage inside the records is still found.
TEST(LogWriter, ZerosWrittenAheadAreATornTailToRecovery) {
  ScopedTempDir dir;
  const std::string path = dir.file("000001.log");
  const std::vector<std::string> records = three_block_records();
  constexpr uint64_t kAhead = 16 * 1024;
  {
    auto writer = LogWriter::create(path, 1);
    ASSERT_TRUE(writer.ok()) << writer.status();
    (*writer)->zero_fill_ahead(kAhead);
    for (const std::string& record : records) {
      ASSERT_TRUE((*writer)->add_record(record).ok());
      ASSERT_TRUE((*writer)->sync().ok());
      // The record went into zeros written before it: the file's size did not change.
      EXPECT_GE((*writer)->zero_filled_end(), (*writer)->size());
      EXPECT_EQ(*file_size(path), (*writer)->zero_filled_end());
    }
    EXPECT_EQ((*writer)->zero_filled_end() % kAhead, 0u);
    ASSERT_TRUE((*writer)->close().ok());
  }
  const BuiltLog built = build_log(records);
  const uint64_t on_disk = *file_size(path);
  ASSERT_GT(on_disk, built.bytes.size());
  // The bytes are the format's, then zeros.
  const std::string bytes = *read_file(path);
  EXPECT_EQ(bytes.substr(0, built.bytes.size()), built.bytes);
  EXPECT_EQ(bytes.find_first_not_of('\0', built.bytes.size()), std::string::npos);
  ReadResult r = read_log_file(path);
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_EQ(r.records, records);
  EXPECT_EQ(r.valid_end, built.bytes.size());
  EXPECT_EQ(r.dropped, on_disk - built.bytes.size());

  // A byte flipped in any record but the last: the records after it are valid data.
  for (size_t i = 0; i + 1 < records.size(); ++i) {
    std::string damaged = bytes;
    damaged[built.starts[i] + 3] ^= 0x20;
    ReadResult d = read_log(damaged);
    EXPECT_TRUE(absl::IsDataLoss(d.status)) << i << ": " << d.status;
  }
  // The last record's end lost (a crash before its page reached the disk
  // leaves the zeros there): a torn tail, the other records kept.
  {
    std::string torn = bytes;
    std::fill(torn.begin() + static_cast<ptrdiff_t>(built.ends.back() - 100),
              torn.begin() + static_cast<ptrdiff_t>(built.ends.back()), '\0');
    ReadResult t = read_log(torn);
    ASSERT_TRUE(t.status.ok()) << t.status;
    EXPECT_EQ(t.records, prefix(records, records.size() - 1));
  }

  // Recovery's cut, then more records with zeros ahead again.
  ASSERT_TRUE(truncate_file(path, r.valid_end).ok());
  {
    auto writer = LogWriter::reopen(path);
    ASSERT_TRUE(writer.ok());
    (*writer)->zero_fill_ahead(kAhead);
    ASSERT_TRUE((*writer)->add_record("after").ok());
    ASSERT_TRUE((*writer)->sync().ok());
    EXPECT_GT(*file_size(path), (*writer)->size());
  }
  std::vector<std::string> expected = records;
  expected.push_back("after");
  EXPECT_EQ(read_log_file(path).records, expected);
}

// A zero-fill that fails (a disk too full for the zeros ahead) is not a
// failure of the log: the writer appends as without it, until the records
// themselves no longer fit.
TEST(LogWriter, AZeroFillThatDoesNotFitIsDroppedAndTheRecordsGoOn) {
  ScopedTempDir dir;
  const std::string path = dir.file("000001.log");
  FaultInjectionFileSystem fs;
  auto writer = LogWriter::create(path, 1, &fs);
  ASSERT_TRUE(writer.ok()) << writer.status();
  (*writer)->zero_fill_ahead(1 << 20);
  fs.set_write_budget(1000);
  ASSERT_TRUE((*writer)->add_record(std::string(100, 'a')).ok());
  ASSERT_TRUE((*writer)->sync().ok());
  EXPECT_EQ((*writer)->zero_filled_end(), 0u);
  EXPECT_EQ(*file_size(path), kLogFileHeaderSize + 111);
  fs.clear_faults();  // space again: the writer no longer fills ahead
  ASSERT_TRUE((*writer)->add_record(std::string(100, 'b')).ok());
  ASSERT_TRUE((*writer)->sync().ok());
  EXPECT_EQ((*writer)->zero_filled_end(), 0u);
  EXPECT_EQ(*file_size(path), kLogFileHeaderSize + 222);
  writer->reset();
  ReadResult r = read_log_file(path);
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_EQ(r.records, (std::vector<std::string>{std::string(100, 'a'), std::string(100, 'b')}));
  EXPECT_EQ(r.dropped, 0u);
}

// The same on the real file system: a file size limit (RLIMIT_FSIZE, EFBIG
// past it, as ENOSPC would stop the write) that leaves room for the records
// but not the zeros. The zeros written before the failure are cut off again.
TEST(LogWriter, APosixZeroFillThatFailsIsCutOffAndTheRecordsGoOn) {
  ScopedTempDir dir;
  const std::string path = dir.file("000001.log");
  auto writer = LogWriter::create(path, 1);
  ASSERT_TRUE(writer.ok()) << writer.status();
  (*writer)->zero_fill_ahead(1 << 20);
  struct rlimit old_limit;
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &old_limit), 0);
  void (*old_handler)(int) = std::signal(SIGXFSZ, SIG_IGN);
  struct rlimit limit = old_limit;
  limit.rlim_cur = 100 * 1024;
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &limit), 0);
  const absl::Status added = (*writer)->add_record(std::string(1000, 'a'));
  const absl::Status synced = (*writer)->sync();
  const uint64_t filled = (*writer)->zero_filled_end();
  const uint64_t size = *file_size(path);
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &old_limit), 0);
  std::signal(SIGXFSZ, old_handler);
  ASSERT_TRUE(added.ok()) << added;
  ASSERT_TRUE(synced.ok()) << synced;
  EXPECT_EQ(filled, 0u);
  EXPECT_EQ(size, kLogFileHeaderSize + kLogFragmentHeaderSize + 1000);
  ASSERT_TRUE((*writer)->add_record("b").ok());
  ASSERT_TRUE((*writer)->close().ok());
  ReadResult r = read_log_file(path);
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_EQ(r.records, (std::vector<std::string>{std::string(1000, 'a'), "b"}));
  EXPECT_EQ(r.dropped, 0u);
}

// A file that cannot write zeros ahead (the default of WritableFile) is
// written as before.
TEST(LogWriter, AFileWithoutZeroFillIsAppendedAsBefore) {
  std::string bytes = encode_log_file_header(1);
  LogWriter writer(std::make_unique<StringFile>(&bytes));
  writer.zero_fill_ahead(4096);
  ASSERT_TRUE(writer.add_record("x").ok());
  EXPECT_EQ(writer.zero_filled_end(), 0u);
  EXPECT_EQ(bytes.size(), kLogFileHeaderSize + kLogFragmentHeaderSize + 1);
  EXPECT_EQ(read_log(bytes).records, std::vector<std::string>{"x"});
}

}  // namespace
}  // namespace usagedb::storage
