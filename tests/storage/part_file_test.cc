#include "lib/storage/part_file.h"

#include <algorithm>
#include <functional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/gen/random.h"
#include "lib/table/part_builder.h"
#include "lib/table/part_index.h"
#include "lib/util/civil_time.h"
#include "lib/util/coding.h"
#include "lib/util/hash.h"
#include "tests/testutil/part_testing.h"

namespace usagedb::storage {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;
using usagedb::testing::expect_same_part;

constexpr char kPath[] = "store/202505/part-000017.udb";

// ---- Random parts ----------------------------------------------------------

// How the codes and strings of a random part are drawn.
struct Shape {
  size_t rows = 1000;
  uint32_t users = 100;          // distinct users drawn from
  bool codes_near_max = false;   // user / event_type / session codes near 2^32-1
  bool sparse_users = false;     // user codes spread over [0, 2^32)
  bool large_strings = false;    // some event ids and metadata of 100+ KiB
  bool equal_timestamps = false;
  bool sequence_ids = false;     // every event id is evt_<number>, as the generator's
};

struct RandomPart {
  Dictionary features, versions;
  std::shared_ptr<const Part> part;
};

std::string random_bytes_up_to(gen::Random& random, size_t max_size) {
  std::string s(random.uniform(max_size + 1), '\0');
  for (char& c : s) c = static_cast<char>(random.uniform(256));  // '\0' and 0xFF included
  return s;
}

std::unique_ptr<RandomPart> random_part(uint64_t seed, const Shape& shape) {
  gen::Random random(seed);
  auto out = std::make_unique<RandomPart>();
  for (int i = 0; i < 1 + static_cast<int>(random.uniform(80)); ++i) out->features.intern("feature_" + std::to_string(i));
  for (int i = 0; i < 1 + static_cast<int>(random.uniform(30)); ++i) out->versions.intern(std::to_string(i) + ".0");
  // A month anywhere in the DateTime range, including its ends.
  const int64_t months[] = {0, 1740787200 /* 2025-03 */, 4289068800 /* 2105-12 */, 951868800 /* 2000-03 */};
  const int64_t month_start = months[random.uniform(std::size(months))];
  const uint32_t month = civil::month_id(month_start);
  const civil::Date d = civil::civil_from_days(month_start / civil::kSecondsPerDay);
  const int64_t month_seconds = civil::days_in_month(d.year, d.month) * civil::kSecondsPerDay;

  std::vector<std::string> metadata_pool = {"", R"({"device":"desktop"})", random_bytes_up_to(random, 40)};
  if (shape.large_strings) metadata_pool.push_back(std::string(150'000, 'm') + random_bytes_up_to(random, 1000));
  uint32_t session = 0;
  PartBuilder builder;
  for (size_t i = 0; i < shape.rows; ++i) {
    RowCodes r;
    r.timestamp = static_cast<uint32_t>(month_start + (shape.equal_timestamps ? month_seconds / 2
                                                                              : random.uniform(month_seconds)));
    r.feature = static_cast<uint32_t>(random.uniform(out->features.size()));
    r.version = static_cast<uint32_t>(random.uniform(out->versions.size()));
    r.user = shape.sparse_users ? static_cast<uint32_t>(random.next())
                                : static_cast<uint32_t>(random.uniform(shape.users));
    r.event_type = static_cast<uint32_t>(random.uniform(6));
    if (random.chance(0.3)) session = static_cast<uint32_t>(random.uniform(1'000'000));
    r.session = random.chance(0.1) ? 0 : session + static_cast<uint32_t>(i / 3);
    if (shape.codes_near_max) {
      r.user = UINT32_MAX - r.user % 1000;
      r.event_type = UINT32_MAX - r.event_type;
      r.session = UINT32_MAX - static_cast<uint32_t>(random.uniform(3));
    }
    std::string event_id;
    switch (shape.sequence_ids ? 1 : random.uniform(4)) {
      case 0: break;  // absent
      case 1: event_id = "evt_" + std::to_string(seed * 1'000'000 + i); break;
      case 2: event_id = random_bytes_up_to(random, 30); break;
      default: event_id = shape.large_strings && random.chance(0.01) ? random_bytes_up_to(random, 200'000) : "x"; break;
    }
    builder.add(r, i + 1, event_id, metadata_pool[random.uniform(metadata_pool.size())]);
  }
  out->part = std::move(builder).finish(seed + 1, month, out->features, out->versions);
  return out;
}

const PartEncodeOptions kAllOptions[] = {
    {.persist_indexes = false},
    {.persist_indexes = true, .index_encoding = IndexEncoding::kRoaring},
    {.persist_indexes = true, .index_encoding = IndexEncoding::kRoaringZstd},
    // String columns at zstd level 3, as files written before session 33
    // hold them: read the same way.
    {.string_zstd_level = 3, .persist_indexes = true, .index_encoding = IndexEncoding::kRoaringZstd},
};

void expect_round_trip(const Part& part) {
  for (const PartEncodeOptions& options : kAllOptions) {
    SCOPED_TRACE(::testing::Message() << "persist_indexes " << options.persist_indexes << ", index encoding "
                                    << static_cast<int>(options.index_encoding) << ", string level "
                                    << options.string_zstd_level);
    const std::string file = encode_part(part, options);
    absl::StatusOr<std::shared_ptr<const Part>> back = decode_part(file, kPath);
    ASSERT_TRUE(back.ok()) << back.status();
    expect_same_part(**back, part);
    // Encoding is deterministic.
    EXPECT_EQ(encode_part(**back, options), file);
  }
}

// ---- Round trips -----------------------------------------------------------

TEST(PartFile, RoundTripsRandomParts) {
  uint64_t seed = 1;
  for (const size_t rows : {1, 2, 3, 100, 1023, 1024, 1025, 5000}) {
    for (const uint32_t users : {1u, 7u, 1000u, 100'000u}) {
      SCOPED_TRACE(::testing::Message() << "rows " << rows << ", users " << users << ", seed " << seed);
      auto p = random_part(seed++, Shape{.rows = rows, .users = users});
      expect_round_trip(*p->part);
    }
  }
}

TEST(PartFile, RoundTripsSequenceNumberedEventIds) {
  for (const size_t rows : {1, 1025, 5000}) {
    auto p = random_part(200 + rows, Shape{.rows = rows, .sequence_ids = true});
    const PartFileInfo info = read_part_file_info(encode_part(*p->part), kPath).value();
    EXPECT_EQ(info.blocks[8].section, "event_id");
    EXPECT_EQ(info.blocks[8].encoding, 3);  // StringEncoding::kPrefixedInts
    expect_round_trip(*p->part);
  }
}

TEST(PartFile, RoundTripsAOneRowPart) {
  Dictionary features, versions;
  features.intern("f");
  versions.intern("v");
  PartBuilder b;
  b.add(RowCodes{0, 0, 0, UINT32_MAX, UINT32_MAX, UINT32_MAX}, UINT64_MAX, "", "");
  const auto part = std::move(b).finish(UINT64_MAX, 197001, features, versions);
  expect_round_trip(*part);
}

TEST(PartFile, RoundTripsCodesNearUint32Max) {
  auto p = random_part(77, Shape{.rows = 3000, .users = 500, .codes_near_max = true});
  EXPECT_EQ(*std::max_element(p->part->columns().session.begin(), p->part->columns().session.end()), UINT32_MAX);
  expect_round_trip(*p->part);
}

TEST(PartFile, RoundTripsManyDistinctAndSparseUsers) {
  auto dense = random_part(78, Shape{.rows = 70'000, .users = 1'000'000});
  expect_round_trip(*dense->part);
  auto sparse = random_part(79, Shape{.rows = 20'000, .sparse_users = true});
  expect_round_trip(*sparse->part);
}

TEST(PartFile, RoundTripsLargeStringsAndEqualTimestamps) {
  auto p = random_part(80, Shape{.rows = 2000, .large_strings = true, .equal_timestamps = true});
  EXPECT_GT(p->part->columns().event_id.bytes().size(), 200'000u);
  expect_round_trip(*p->part);
}

TEST(PartFile, FileInfoListsTheBlocks) {
  auto p = random_part(81, Shape{.rows = 500});
  const std::string file = encode_part(*p->part, {.persist_indexes = true});
  absl::StatusOr<PartFileInfo> info = read_part_file_info(file, kPath);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->id, p->part->id());
  EXPECT_EQ(info->month, p->part->month());
  EXPECT_EQ(info->rows, 500u);
  std::vector<std::string> sections;
  uint64_t end = info->header_bytes;
  for (const auto& b : info->blocks) {
    sections.push_back(b.section);
    EXPECT_EQ(b.offset, end);
    end += b.size;
  }
  EXPECT_EQ(end + info->footer_bytes, file.size());
  EXPECT_EQ(sections,
            (std::vector<std::string>{"timestamp", "feature_id", "product_version", "user_id", "event_type",
                                      "session_id", "metadata", "metadata values", "event_id", "user_id index",
                                      "feature_id index", "product_version index", "sequence", "seek"}));
  const std::string lean = encode_part(*p->part, {.persist_indexes = false});
  EXPECT_EQ(read_part_file_info(lean, kPath)->blocks.size(), 11u);
  const std::string v2 = encode_part(*p->part, {.persist_indexes = false, .format_version = 2});
  EXPECT_EQ(read_part_file_info(v2, kPath)->blocks.size(), 10u);
  const std::string old = encode_part(*p->part, {.persist_indexes = false, .format_version = 1});
  EXPECT_EQ(read_part_file_info(old, kPath)->blocks.size(), 9u);
}

// ---- Corruption -------------------------------------------------------------

// The section decode_part() must name for a corruption at byte `at`.
std::vector<std::string> sections_for_byte(const PartFileInfo& info, size_t file_size, size_t at) {
  // The format version is compared with the known ones, not checksummed:
  // another known version is found wrong by its footer's layout.
  if (at < info.header_bytes) return {"header", "footer"};
  for (const auto& b : info.blocks) {
    if (at >= b.offset && at < b.offset + b.size) return {b.section};
  }
  const size_t trailer = file_size - 20;
  if (at < trailer) return {"footer"};
  if (at < trailer + 4) return {"trailer", "footer"};  // the footer's length: misplaced or mis-checksummed
  if (at < trailer + 12) return {"footer"};            // the footer's checksum
  return {"trailer"};                                  // the closing magic
}

void expect_data_loss(const absl::StatusOr<std::shared_ptr<const Part>>& got, const std::vector<std::string>& sections,
                      const std::string& what) {
  ASSERT_FALSE(got.ok()) << what << ": decoded a corrupt file";
  EXPECT_EQ(got.status().code(), absl::StatusCode::kDataLoss) << what << ": " << got.status();
  const std::string message(got.status().message());
  EXPECT_THAT(message, StartsWith(absl::StrCat("part file '", kPath, "': "))) << what;
  bool named = false;
  for (const std::string& s : sections) named |= message.find(absl::StrCat("': ", s, ": ")) != std::string::npos;
  EXPECT_TRUE(named) << what << ": " << message << " does not name " << sections.front();
}

TEST(PartFile, EveryFlippedByteOfASmallPartIsDataLoss) {
  auto p = random_part(90, Shape{.rows = 40, .users = 10});
  for (const PartEncodeOptions& options : kAllOptions) {
    const std::string file = encode_part(*p->part, options);
    const PartFileInfo info = read_part_file_info(file, kPath).value();
    for (size_t at = 0; at < file.size(); ++at) {
      for (const char mask : {'\x01', '\x80', '\xff'}) {
        std::string bad = file;
        bad[at] ^= mask;
        expect_data_loss(decode_part(bad, kPath), sections_for_byte(info, file.size(), at),
                         absl::StrCat("byte ", at, " ^ ", static_cast<int>(static_cast<unsigned char>(mask))));
      }
    }
  }
}

TEST(PartFile, RandomByteFlipsOfABigPartAreDataLoss) {
  auto p = random_part(91, Shape{.rows = 30'000, .users = 3000});
  gen::Random random(92);
  for (const PartEncodeOptions& options : kAllOptions) {
    const std::string file = encode_part(*p->part, options);
    const PartFileInfo info = read_part_file_info(file, kPath).value();
    for (int trial = 0; trial < 300; ++trial) {
      std::string bad = file;
      // One to a few bytes, each anywhere; a byte's section is expected
      // only when a single one changed.
      const int flips = trial % 3 == 0 ? 1 + static_cast<int>(random.uniform(8)) : 1;
      size_t at = 0;
      for (int i = 0; i < flips; ++i) {
        at = random.uniform(file.size());
        bad[at] = static_cast<char>(bad[at] ^ static_cast<char>(1 + random.uniform(255)));
      }
      const absl::StatusOr<std::shared_ptr<const Part>> got = decode_part(bad, kPath);
      if (flips == 1) {
        expect_data_loss(got, sections_for_byte(info, file.size(), at), absl::StrCat("byte ", at));
      } else {
        ASSERT_FALSE(got.ok());
        EXPECT_EQ(got.status().code(), absl::StatusCode::kDataLoss);
      }
    }
  }
}

TEST(PartFile, EveryTruncationIsDataLoss) {
  auto small = random_part(93, Shape{.rows = 40});
  const std::string file = encode_part(*small->part, {.persist_indexes = true});
  for (size_t n = 0; n < file.size(); ++n) {
    const absl::StatusOr<std::shared_ptr<const Part>> got = decode_part(file.substr(0, n), kPath);
    expect_data_loss(got, {"header", "trailer", "footer"}, absl::StrCat("truncated to ", n));
  }
  auto big = random_part(94, Shape{.rows = 30'000});
  const std::string big_file = encode_part(*big->part);
  for (size_t n = 0; n < big_file.size(); n += 1 + n / 16) {
    ASSERT_EQ(decode_part(big_file.substr(0, n), kPath).status().code(), absl::StatusCode::kDataLoss) << n;
  }
  // Bytes after the end are corruption too (a torn rewrite, a concatenation).
  expect_data_loss(decode_part(file + "x", kPath), {"trailer"}, "one byte appended");
  expect_data_loss(decode_part(file + file, kPath), {"footer", "trailer"}, "file twice");
}

TEST(PartFile, OtherFilesAndVersionsAreDataLoss) {
  auto p = random_part(95, Shape{.rows = 10});
  const std::string file = encode_part(*p->part);
  expect_data_loss(decode_part("", kPath), {"header"}, "empty file");
  expect_data_loss(decode_part(std::string(100, '{'), kPath), {"header"}, "text file");
  for (const char version : {'\0', '\4'}) {
    std::string other = file;
    other[8] = version;  // the format version after the 8-byte magic
    const auto got = decode_part(other, kPath);
    expect_data_loss(got, {"header"}, absl::StrCat("version ", static_cast<int>(version)));
    EXPECT_THAT(std::string(got.status().message()),
                HasSubstr(absl::StrCat("unknown format version ", static_cast<int>(version))));
  }
}

// A file of format version 1 (before arrival numbers) still opens: its rows
// get the numbers (part id << 32) + row, the same at every open.
TEST(PartFile, VersionOneFilesOpenWithNumbersFromThePartId) {
  auto p = random_part(98, Shape{.rows = 3000, .users = 100});
  for (const bool indexes : {false, true}) {
    const std::string old = encode_part(*p->part, {.persist_indexes = indexes, .format_version = 1});
    absl::StatusOr<std::shared_ptr<const Part>> got = decode_part(old, kPath);
    ASSERT_TRUE(got.ok()) << got.status();
    const PartColumns& c = (*got)->columns();
    EXPECT_EQ(c.timestamp, p->part->columns().timestamp);
    EXPECT_EQ(c.event_id.bytes(), p->part->columns().event_id.bytes());
    ASSERT_EQ(c.sequence.size(), 3000u);
    for (uint32_t i = 0; i < 3000; i += 7) ASSERT_EQ((*got)->sequence(i), ((*got)->id() << 32) | i) << i;
    // Written again (as version 2), the numbers are kept.
    absl::StatusOr<std::shared_ptr<const Part>> again = decode_part(encode_part(**got), kPath);
    ASSERT_TRUE(again.ok()) << again.status();
    EXPECT_TRUE((*again)->columns().sequence == c.sequence);
  }
}

// What a lazy open reads: the footer from the file's last kPartTailBytes and
// the header, and for the largest arrival number, the sequence block of a
// version 2 file; a version 3 footer holds the number itself.
TEST(PartFile, ALazyOpenReadsNoBlockOfAVersion3File) {
  auto p = random_part(99, Shape{.rows = 5000, .users = 100});
  for (const uint32_t version : {2u, 3u}) {
    const std::string file = encode_part(*p->part, {.format_version = version});
    const std::string_view bytes = file;
    int reads = 0;
    const RangeReader read = [&](uint64_t offset, size_t n) -> absl::StatusOr<std::string> {
      ++reads;
      return std::string(bytes.substr(offset, n));
    };
    const size_t tail = std::min(file.size(), kPartTailBytes);
    absl::StatusOr<PartFileSummary> summary =
        read_part_summary(bytes.substr(0, 12), bytes.substr(file.size() - tail), file.size(), read, kPath);
    ASSERT_TRUE(summary.ok()) << summary.status();
    EXPECT_EQ(summary->max_sequence, p->part->max_sequence());
    EXPECT_EQ(reads, version >= 3 ? 0 : 1) << "version " << version;
  }
}

// ---- One user's rows (format version 3's seek block) --------------------------

// A RangesReader over the bytes of a file that records what it was asked for.
struct RecordingReader {
  std::string_view file;
  std::vector<ByteRange> asked;
  RangesReader reader() {
    return [this](std::span<const ByteRange> ranges) -> absl::StatusOr<std::vector<std::string>> {
      std::vector<std::string> out;
      for (const ByteRange& r : ranges) {
        asked.push_back(r);
        out.emplace_back(r.offset >= file.size() ? std::string_view() : file.substr(r.offset, r.size));
      }
      return out;
    };
  }
  bool read_byte(size_t at) const {
    return std::any_of(asked.begin(), asked.end(),
                       [&](const ByteRange& r) { return at >= r.offset && at < r.offset + r.size; });
  }
  uint64_t bytes() const {
    uint64_t n = 0;
    for (const ByteRange& r : asked) n += r.size;
    return n;
  }
};

// What read_user_rows() must return: the part's rows of `user`.
UserRows expected_user_rows(const Part& part, uint32_t user) {
  UserRows out;
  for (const uint32_t row : part.user_rows(user)) {
    out.timestamp.push_back(part.columns().timestamp[row]);
    out.feature.push_back(part.columns().feature[row]);
    out.version.push_back(part.columns().version[row]);
  }
  return out;
}

void expect_same_rows(const absl::StatusOr<UserRows>& got, const UserRows& want, const std::string& what) {
  ASSERT_TRUE(got.ok()) << what << ": " << got.status();
  EXPECT_EQ(got->timestamp, want.timestamp) << what;
  EXPECT_EQ(got->feature, want.feature) << what;
  EXPECT_EQ(got->version, want.version) << what;
}

// Every user of parts of every shape (and codes the parts do not hold,
// below, between and above theirs) reads back exactly its rows.
TEST(PartFileSeek, ReadsEachUsersRowsAlone) {
  const Shape shapes[] = {
      Shape{.rows = 1, .users = 1},
      Shape{.rows = 3000, .users = 300},
      Shape{.rows = 40'000, .users = 2000},
      Shape{.rows = 5000, .codes_near_max = true},
      Shape{.rows = 5000, .sparse_users = true},
      Shape{.rows = 3000, .equal_timestamps = true},
      Shape{.rows = 20'000, .users = 3},  // users of many rows: a chunk each
  };
  uint64_t seed = 300;
  for (const Shape& shape : shapes) {
    auto p = random_part(++seed, shape);
    const Part& part = *p->part;
    for (const IndexEncoding encoding : {IndexEncoding::kRoaring, IndexEncoding::kRoaringZstd}) {
      const std::string file = encode_part(part, {.persist_indexes = true, .index_encoding = encoding});
      const PartFileInfo info = read_part_file_info(file, kPath).value();
      ASSERT_TRUE(seeks_users(info));
      std::vector<uint32_t> users;
      part.indexes().user.for_each([&](uint32_t code, std::span<const uint32_t>) { users.push_back(code); });
      std::vector<uint32_t> absent = {0, UINT32_MAX, users.front() - 1, users.back() + 1};
      for (size_t i = 1; i < users.size(); ++i) {
        if (users[i] - users[i - 1] > 1) absent.push_back(users[i] - 1);
        if (absent.size() > 20) break;
      }
      for (size_t i = 0; i < users.size(); i += 1 + users.size() / 200) {
        RecordingReader reader{file, {}};
        expect_same_rows(read_user_rows(info, reader.reader(), kPath, {}, users[i]), expected_user_rows(part, users[i]),
                         absl::StrCat("user ", users[i], " of ", part.rows(), " rows"));
        if (part.rows() >= 40'000) {
          EXPECT_LT(reader.bytes() * 5, file.size()) << "user " << users[i] << ": read most of the file";
        }
      }
      for (const uint32_t user : absent) {
        if (std::binary_search(users.begin(), users.end(), user)) continue;
        RecordingReader reader{file, {}};
        absl::StatusOr<UserRows> got = read_user_rows(info, reader.reader(), kPath, {}, user);
        expect_same_rows(got, UserRows{}, absl::StrCat("absent user ", user));
        // The seek block and at most one user index chunk.
        EXPECT_LE(reader.asked.size(), 2u);
      }
    }
  }
}

// Files without a seek block (version 1 and 2, or no indexes) cannot seek:
// their parts are read whole, as before.
TEST(PartFileSeek, OlderVersionsAndFilesWithoutIndexesDoNotSeek) {
  auto p = random_part(320, Shape{.rows = 500});
  for (const PartEncodeOptions& options :
       {PartEncodeOptions{.persist_indexes = false}, PartEncodeOptions{.format_version = 2},
        PartEncodeOptions{.persist_indexes = false, .format_version = 2}}) {
    const std::string file = encode_part(*p->part, options);
    const PartFileInfo info = read_part_file_info(file, kPath).value();
    EXPECT_FALSE(seeks_users(info));
    absl::StatusOr<std::shared_ptr<const Part>> back = decode_part(file, kPath);
    ASSERT_TRUE(back.ok()) << back.status();
    expect_same_part(**back, *p->part);
    RecordingReader reader{file, {}};
    EXPECT_EQ(read_user_rows(info, reader.reader(), kPath, {}, 0).status().code(),
              absl::StatusCode::kFailedPrecondition);
  }
  EXPECT_FALSE(seeks_users(read_part_file_info(encode_part(*p->part, {.format_version = 1}), kPath).value()));
}

// A byte flipped anywhere: a user read that reads it is a DataLossError
// naming the section the byte is in; one that does not answers exactly.
TEST(PartFileSeek, DamageIsReportedByTheUserReadThatTouchesIt) {
  auto p = random_part(321, Shape{.rows = 2500, .users = 40});
  const Part& part = *p->part;
  std::vector<uint32_t> users;
  part.indexes().user.for_each([&](uint32_t code, std::span<const uint32_t>) { users.push_back(code); });
  for (const IndexEncoding encoding : {IndexEncoding::kRoaring, IndexEncoding::kRoaringZstd}) {
    const std::string file = encode_part(part, {.persist_indexes = true, .index_encoding = encoding});
    const PartFileInfo info = read_part_file_info(file, kPath).value();
    std::set<std::string> named;
    for (size_t at = info.header_bytes; at < file.size() - info.footer_bytes; at += 7) {
      std::string bad = file;
      bad[at] ^= 0x40;
      const std::vector<std::string> sections = sections_for_byte(info, file.size(), at);
      for (size_t u = at % 5; u < users.size(); u += 5) {
        RecordingReader reader{bad, {}};
        const absl::StatusOr<UserRows> got = read_user_rows(info, reader.reader(), kPath, {}, users[u]);
        const std::string what = absl::StrCat("byte ", at, " (", sections.front(), "), user ", users[u]);
        if (!reader.read_byte(at)) {
          expect_same_rows(got, expected_user_rows(part, users[u]), what);
          continue;
        }
        ASSERT_FALSE(got.ok()) << what << ": read a damaged byte";
        EXPECT_EQ(got.status().code(), absl::StatusCode::kDataLoss) << what;
        EXPECT_THAT(std::string(got.status().message()),
                    StartsWith(absl::StrCat("part file '", kPath, "': ", sections.front(), ": ")))
            << what;
        named.insert(sections.front());
      }
    }
    EXPECT_EQ(named, (std::set<std::string>{"timestamp", "feature_id", "product_version", "user_id index", "seek"}));
  }
}

// Codes a user read decodes are checked against the dictionaries' sizes,
// as decode_part() checks them.
TEST(PartFileSeek, CodesOutsideTheDictionariesAreDataLoss) {
  auto p = random_part(322, Shape{.rows = 3000, .users = 30});
  const Part& part = *p->part;
  const std::string file = encode_part(part);
  const PartFileInfo info = read_part_file_info(file, kPath).value();
  const uint32_t user = part.columns().user[0];
  const auto& c = part.columns();
  const uint64_t features = *std::max_element(c.feature.begin(), c.feature.end()) + 1;
  const uint64_t versions = *std::max_element(c.version.begin(), c.version.end()) + 1;
  RecordingReader reader{file, {}};
  expect_same_rows(read_user_rows(info, reader.reader(), kPath, {.features = features, .versions = versions}, user),
                   expected_user_rows(part, user), "exact sizes");
  // The largest code among the user's rows, one past the dictionary.
  const UserRows rows = expected_user_rows(part, user);
  const uint64_t feature_max = *std::max_element(rows.feature.begin(), rows.feature.end());
  const auto got = read_user_rows(info, reader.reader(), kPath, {.features = feature_max}, user);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(got.status().message()), HasSubstr("feature_id"));
}

// ---- The three columns of the rows by user (read_user_ordered_columns) ----------

// Of every format version, with or without indexes: exactly the part's
// timestamp, feature and user columns, reading those three blocks alone.
TEST(PartFileUserOrderedColumns, ReadsTheThreeColumnsAlone) {
  uint64_t seed = 400;
  for (const Shape& shape : {Shape{.rows = 1, .users = 1}, Shape{.rows = 3000, .users = 300},
                             Shape{.rows = 5000, .codes_near_max = true}, Shape{.rows = 5000, .sparse_users = true}}) {
    auto p = random_part(++seed, shape);
    const Part& part = *p->part;
    for (const PartEncodeOptions& options :
         {PartEncodeOptions{}, PartEncodeOptions{.persist_indexes = false}, PartEncodeOptions{.format_version = 2},
          PartEncodeOptions{.format_version = 1}}) {
      const std::string file = encode_part(part, options);
      const PartFileInfo info = read_part_file_info(file, kPath).value();
      RecordingReader reader{file, {}};
      absl::StatusOr<PartColumns> got = read_user_ordered_columns(info, reader.reader(), kPath, {});
      ASSERT_TRUE(got.ok()) << got.status();
      EXPECT_EQ(got->timestamp, part.columns().timestamp);
      EXPECT_EQ(got->feature, part.columns().feature);
      EXPECT_EQ(got->user, part.columns().user);
      EXPECT_TRUE(got->version.empty());
      EXPECT_TRUE(got->session.empty());
      uint64_t blocks = 0;
      for (const PartFileInfo::Block& b : info.blocks) {
        if (b.section == "timestamp" || b.section == "feature_id" || b.section == "user_id") blocks += b.size;
      }
      EXPECT_EQ(reader.bytes(), blocks);
    }
  }
}

// A byte flipped in one of the three blocks is a DataLossError naming its
// section; a byte elsewhere is not read, and the columns come back exact.
TEST(PartFileUserOrderedColumns, DamageInTheirBlocksIsDataLoss) {
  auto p = random_part(410, Shape{.rows = 2500, .users = 40});
  const Part& part = *p->part;
  const std::string file = encode_part(part);
  const PartFileInfo info = read_part_file_info(file, kPath).value();
  std::set<std::string> named;
  for (size_t at = info.header_bytes; at < file.size() - info.footer_bytes; at += 3) {
    std::string bad = file;
    bad[at] ^= 0x10;
    const std::string section = sections_for_byte(info, file.size(), at).front();
    RecordingReader reader{bad, {}};
    const absl::StatusOr<PartColumns> got = read_user_ordered_columns(info, reader.reader(), kPath, {});
    const std::string what = absl::StrCat("byte ", at, " (", section, ")");
    if (!reader.read_byte(at)) {
      ASSERT_TRUE(got.ok()) << what << ": " << got.status();
      EXPECT_EQ(got->user, part.columns().user) << what;
      continue;
    }
    ASSERT_FALSE(got.ok()) << what << ": read a damaged byte";
    EXPECT_EQ(got.status().code(), absl::StatusCode::kDataLoss) << what;
    EXPECT_THAT(std::string(got.status().message()), StartsWith(absl::StrCat("part file '", kPath, "': ", section, ": ")))
        << what;
    named.insert(section);
  }
  EXPECT_EQ(named, (std::set<std::string>{"timestamp", "feature_id", "user_id"}));
  // A file cut short under the reader (it shrank), in the user_id block:
  // DataLossError too.
  uint64_t cut_at = 0;
  for (const PartFileInfo::Block& b : info.blocks) {
    if (b.section == "user_id") cut_at = b.offset + b.size / 2;
  }
  ASSERT_GT(cut_at, 0u);
  RecordingReader cut{std::string_view(file).substr(0, cut_at), {}};
  const absl::StatusOr<PartColumns> got = read_user_ordered_columns(info, cut.reader(), kPath, {});
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), absl::StatusCode::kDataLoss);
}

TEST(PartFileUserOrderedColumns, CodesOutsideTheDictionariesAreDataLoss) {
  auto p = random_part(411, Shape{.rows = 3000, .users = 30});
  const Part& part = *p->part;
  const std::string file = encode_part(part);
  const PartFileInfo info = read_part_file_info(file, kPath).value();
  const auto& c = part.columns();
  const uint64_t users = *std::max_element(c.user.begin(), c.user.end()) + 1;
  const uint64_t features = *std::max_element(c.feature.begin(), c.feature.end()) + 1;
  RecordingReader reader{file, {}};
  EXPECT_TRUE(read_user_ordered_columns(info, reader.reader(), kPath, {.users = users, .features = features}).ok());
  for (const DictionarySizes& sizes :
       {DictionarySizes{.users = users - 1}, DictionarySizes{.features = features - 1}}) {
    const auto got = read_user_ordered_columns(info, reader.reader(), kPath, sizes);
    ASSERT_FALSE(got.ok());
    EXPECT_EQ(got.status().code(), absl::StatusCode::kDataLoss);
  }
}

// ---- Files that are well checksummed but inconsistent ------------------------
//
// A writer for the format as part_format.md describes it, independent of
// part_file.cc, so tests can change a field and still produce valid
// checksums: decode_part() must check more than checksums.

struct RawFile {
  struct Block {
    uint8_t section, encoding;
    std::string payload;
  };
  uint32_t version = 3;
  uint64_t id;
  uint32_t month, rows, min_timestamp, max_timestamp;
  uint64_t max_sequence = 0;  // version 3
  std::vector<Block> blocks;
};

RawFile parse(std::string_view file) {
  RawFile raw;
  raw.version = coding::decode_fixed32(file.data() + 8);
  const uint32_t footer_size = coding::decode_fixed32(file.data() + file.size() - 20);
  std::string_view footer = file.substr(file.size() - 20 - footer_size, footer_size);
  uint64_t count;
  EXPECT_TRUE(coding::get_fixed64(&footer, &raw.id) && coding::get_fixed32(&footer, &raw.month) &&
              coding::get_fixed32(&footer, &raw.rows) && coding::get_fixed32(&footer, &raw.min_timestamp) &&
              coding::get_fixed32(&footer, &raw.max_timestamp) &&
              (raw.version < 3 || coding::get_fixed64(&footer, &raw.max_sequence)) &&
              coding::get_varint64(&footer, &count));
  for (uint64_t i = 0; i < count; ++i) {
    uint64_t offset, size, checksum;
    footer.remove_prefix(2);
    EXPECT_TRUE(coding::get_varint64(&footer, &offset) && coding::get_varint64(&footer, &size) &&
                coding::get_fixed64(&footer, &checksum));
    std::string_view block = file.substr(offset, size - 8);
    RawFile::Block b{static_cast<uint8_t>(block[0]), static_cast<uint8_t>(block[1]), ""};
    block.remove_prefix(2);
    std::string_view payload;
    EXPECT_TRUE(coding::get_length_prefixed(&block, &payload));
    b.payload = std::string(payload);
    raw.blocks.push_back(std::move(b));
  }
  return raw;
}

std::string assemble(const RawFile& raw) {
  std::string out("\x89UDBPART", 8);
  coding::put_fixed32(&out, raw.version);
  std::string directory;
  for (const RawFile::Block& b : raw.blocks) {
    const size_t offset = out.size();
    out.push_back(static_cast<char>(b.section));
    out.push_back(static_cast<char>(b.encoding));
    coding::put_length_prefixed(&out, b.payload);
    const uint64_t checksum = hash::checksum(std::string_view(out).substr(offset));
    coding::put_fixed64(&out, checksum);
    directory.push_back(static_cast<char>(b.section));
    directory.push_back(static_cast<char>(b.encoding));
    coding::put_varint64(&directory, offset);
    coding::put_varint64(&directory, out.size() - offset);
    coding::put_fixed64(&directory, checksum);
  }
  std::string footer;
  coding::put_fixed64(&footer, raw.id);
  coding::put_fixed32(&footer, raw.month);
  coding::put_fixed32(&footer, raw.rows);
  coding::put_fixed32(&footer, raw.min_timestamp);
  coding::put_fixed32(&footer, raw.max_timestamp);
  if (raw.version >= 3) coding::put_fixed64(&footer, raw.max_sequence);
  coding::put_varint64(&footer, raw.blocks.size());
  footer += directory;
  coding::put_fixed32(&footer, static_cast<uint32_t>(footer.size()));
  out += footer;
  coding::put_fixed64(&out, hash::checksum(footer));
  out.append("\x89UDBPART", 8);
  return out;
}

RawFile::Block& block(RawFile& raw, std::string_view section) {
  static const std::vector<std::string> kNames = {
      "timestamp",  "feature_id",    "product_version",  "user_id",
      "event_type", "session_id",    "metadata",         "metadata values",
      "event_id",   "user_id index", "feature_id index", "product_version index",
      "sequence",   "seek"};
  const auto id = static_cast<uint8_t>(std::find(kNames.begin(), kNames.end(), section) - kNames.begin() + 1);
  for (RawFile::Block& b : raw.blocks) {
    if (b.section == id) return b;
  }
  ADD_FAILURE() << "no block " << section;
  return raw.blocks.front();
}

// The seek block's payload as part_format.md describes it ("The seek
// block"), from the part and the payloads of the blocks it describes; the
// user index chunks are checked to make up the user index block.
std::string seek_payload_as_documented(RawFile raw, const Part& part, const PartEncodeOptions& options) {
  std::string out;
  // The user index in chunks: each ends after the entry that brings its rows
  // to 8192; each is a whole index payload of the block's encoding.
  std::vector<std::pair<uint32_t, std::span<const uint32_t>>> entries;
  part.indexes().user.for_each(
      [&](uint32_t code, std::span<const uint32_t> rows) { entries.emplace_back(code, rows); });
  std::string chunks, directory;
  size_t count = 0;
  uint32_t previous = 0;
  for (size_t begin = 0; options.persist_indexes && begin < entries.size(); ++count) {
    PostingIndex::Builder builder;
    size_t end = begin, rows = 0;
    for (; end < entries.size() && rows < 8192; ++end) {
      builder.add(entries[end].first, entries[end].second);
      rows += entries[end].second.size();
    }
    std::string chunk;
    encode_index(std::move(builder).finish(), options.index_encoding, options.zstd_level, &chunk);
    coding::put_varint64(&directory, entries[begin].first - previous);
    previous = entries[begin].first;
    coding::put_varint64(&directory, chunk.size());
    coding::put_fixed64(&directory, hash::checksum(chunk));
    chunks += chunk;
    begin = end;
  }
  if (options.persist_indexes) EXPECT_EQ(chunks, block(raw, "user_id index").payload);
  coding::put_varint64(&out, count);
  out += directory;
  // The timestamp, feature_id and product_version columns: the head (the
  // first value, the dictionary, or nothing), then each For block of 1024
  // values (the rows - 1 deltas of the timestamps).
  for (const char* section : {"timestamp", "feature_id", "product_version"}) {
    const RawFile::Block& b = block(raw, section);
    std::string_view in = b.payload;
    uint64_t v, values = raw.rows;
    if (b.encoding == 2) {  // DeltaFor
      EXPECT_TRUE(coding::get_varint64(&in, &v));
      values = raw.rows - 1;
    } else if (b.encoding == 3) {  // DictFor
      uint64_t n;
      EXPECT_TRUE(coding::get_varint64(&in, &n));
      for (uint64_t i = 0; i < n; ++i) EXPECT_TRUE(coding::get_varint64(&in, &v));
    }
    const size_t head = b.payload.size() - in.size();
    coding::put_varint64(&out, head);
    coding::put_fixed64(&out, hash::checksum(std::string_view(b.payload).substr(0, head)));
    coding::put_varint64(&out, (values + 1023) / 1024);
    uint64_t base = 0;
    for (uint64_t pos = 0; pos < values; pos += 1024) {
      const std::string_view start = in;
      EXPECT_TRUE(coding::get_varint64(&in, &v) && !in.empty());
      const unsigned width = static_cast<unsigned char>(in[0]);
      in.remove_prefix(1 + (std::min<uint64_t>(1024, values - pos) * width + 7) / 8);
      const std::string_view bytes = start.substr(0, start.size() - in.size());
      coding::put_varint64(&out, bytes.size());
      coding::put_fixed64(&out, hash::checksum(bytes));
      if (std::string_view(section) == "timestamp") {
        // The value of the row before the block's first: row pos.
        const uint32_t value = part.columns().timestamp[pos];
        coding::put_varint64(&out, value - base);
        base = value;
      }
    }
    EXPECT_TRUE(in.empty()) << section;
  }
  return out;
}

TEST(PartFile, TheFormatDocumentDescribesEveryByte) {
  for (const Shape& shape : {Shape{.rows = 3000, .users = 300}, Shape{.rows = 30'000, .users = 2000}}) {
    auto p = random_part(96, shape);
    for (const PartEncodeOptions& options : kAllOptions) {
      const std::string file = encode_part(*p->part, options);
      const RawFile raw = parse(file);
      EXPECT_EQ(assemble(raw), file);
      RawFile documented = raw;
      block(documented, "seek").payload = seek_payload_as_documented(raw, *p->part, options);
      EXPECT_EQ(assemble(documented), file) << "persist_indexes " << options.persist_indexes;
    }
  }
}

class Inconsistent : public ::testing::Test {
 protected:
  void SetUp() override {
    p_ = random_part(97, Shape{.rows = 2000, .users = 200});
    file_ = encode_part(*p_->part, {.persist_indexes = true, .index_encoding = IndexEncoding::kRoaring});
    raw_ = parse(file_);
  }
  absl::StatusOr<std::shared_ptr<const Part>> decode(const RawFile& raw) { return decode_part(assemble(raw), kPath); }

  std::unique_ptr<RandomPart> p_;
  std::string file_;
  RawFile raw_;
};

TEST_F(Inconsistent, FooterCountsAndRanges) {
  RawFile raw = raw_;
  raw.rows += 1;
  expect_data_loss(decode(raw), {"timestamp"}, "one row too many");
  raw = raw_;
  raw.rows -= 1;
  expect_data_loss(decode(raw), {"timestamp"}, "one row too few");
  raw = raw_;
  raw.rows = 0;
  expect_data_loss(decode(raw), {"footer"}, "no rows");
  raw = raw_;
  raw.min_timestamp -= 1;
  expect_data_loss(decode(raw), {"timestamp"}, "min timestamp");
  raw = raw_;
  raw.max_timestamp += 1;
  expect_data_loss(decode(raw), {"timestamp"}, "max timestamp");
  raw = raw_;
  raw.month = raw.month % 100 == 12 ? raw.month - 1 : raw.month + 1;
  expect_data_loss(decode(raw), {"timestamp"}, "month");
  raw = raw_;
  raw.max_sequence += 1;
  expect_data_loss(decode(raw), {"sequence"}, "largest arrival number");
}

TEST_F(Inconsistent, BlockDirectory) {
  RawFile raw = raw_;
  std::swap(raw.blocks[1], raw.blocks[2]);
  expect_data_loss(decode(raw), {"footer"}, "sections out of order");
  raw = raw_;
  raw.blocks.pop_back();
  expect_data_loss(decode(raw), {"footer"}, "11 blocks");
  raw = raw_;
  raw.blocks.push_back(raw.blocks.back());
  expect_data_loss(decode(raw), {"footer"}, "13 blocks");
}

TEST_F(Inconsistent, UnknownEncodingsAndTrailingBytes) {
  for (const char* section : {"timestamp", "user_id", "event_id", "metadata values", "user_id index", "sequence"}) {
    RawFile raw = raw_;
    block(raw, section).encoding = 99;
    expect_data_loss(decode(raw), {section}, absl::StrCat(section, " encoding 99"));
    raw = raw_;
    block(raw, section).payload += '\0';
    expect_data_loss(decode(raw), {section}, absl::StrCat(section, " with a byte appended"));
    raw = raw_;
    block(raw, section).payload.pop_back();
    expect_data_loss(decode(raw), {section}, absl::StrCat(section, " with a byte removed"));
  }
}

TEST_F(Inconsistent, TimestampsThatDoNotAscend) {
  RawFile raw = raw_;
  std::vector<uint32_t> descending = p_->part->columns().timestamp;
  std::reverse(descending.begin(), descending.end());
  block(raw, "timestamp").encoding = static_cast<uint8_t>(IntEncoding::kFor);
  block(raw, "timestamp").payload.clear();
  encode_for(descending, &block(raw, "timestamp").payload);
  raw.min_timestamp = descending.front();
  raw.max_timestamp = descending.back();
  const auto got = decode(raw);
  expect_data_loss(got, {"timestamp"}, "timestamps as For");
  EXPECT_THAT(std::string(got.status().message()), HasSubstr("expected DeltaFor"));
}

TEST_F(Inconsistent, ABitmapThatDoesNotDecode) {
  RawFile raw = raw_;
  std::string& payload = block(raw, "feature_id index").payload;
  // The first entry: count, value gap, bitmap length, then the bitmap, whose
  // first bytes are its cookie.
  std::string_view in = payload;
  uint64_t count, gap;
  std::string_view bitmap;
  ASSERT_TRUE(coding::get_varint64(&in, &count) && coding::get_varint64(&in, &gap) &&
              coding::get_length_prefixed(&in, &bitmap));
  const size_t at = bitmap.data() - payload.data();
  payload[at] ^= 0x55;
  const auto got = decode(raw);
  expect_data_loss(got, {"feature_id index"}, "bad cookie");
  EXPECT_THAT(std::string(got.status().message()), HasSubstr("bitmap"));
}

TEST_F(Inconsistent, CodesOutsideTheDictionaries) {
  const Part& part = *p_->part;
  auto max_of = [](const std::vector<uint32_t>& v) { return uint64_t{*std::max_element(v.begin(), v.end())}; };
  const PartColumns& c = part.columns();
  const DictionarySizes exact{.users = max_of(c.user) + 1,
                              .features = max_of(c.feature) + 1,
                              .versions = max_of(c.version) + 1,
                              .event_types = max_of(c.event_type) + 1,
                              .sessions = max_of(c.session) + 1};
  ASSERT_TRUE(decode_part(file_, kPath, exact).ok());
  const std::pair<const char*, uint64_t DictionarySizes::*> columns[] = {
      {"user_id", &DictionarySizes::users},
      {"feature_id", &DictionarySizes::features},
      {"product_version", &DictionarySizes::versions},
      {"event_type", &DictionarySizes::event_types},
      {"session_id", &DictionarySizes::sessions},
  };
  for (const auto& [section, member] : columns) {
    DictionarySizes sizes = exact;
    sizes.*member -= 1;
    expect_data_loss(decode_part(file_, kPath, sizes), {section}, absl::StrCat(section, " dictionary one short"));
  }
}

// Parts that break Part's invariants, encoded as they are: the file is well
// formed and checksummed, and decode_part() still refuses it. `change` gets
// the columns and the user index as bitmaps, made into the part's
// PostingIndex as they are afterwards.
using PartChange = std::function<void(PartColumns&, BitmapIndex& users)>;
std::shared_ptr<const Part> with(const Part& part, const PartChange& change) {
  PartColumns c = part.columns();
  BitmapIndex users = build_bitmap_index(c.user);
  PartIndexes x;
  x.feature = build_bitmap_index(c.feature);
  x.version = build_bitmap_index(c.version);
  change(c, users);
  std::vector<uint32_t> codes;
  for (const auto& [code, rows] : users) codes.push_back(code);
  std::sort(codes.begin(), codes.end());
  PostingIndex::Builder builder;
  for (const uint32_t code : codes) builder.add(code, users.at(code));
  x.user = std::move(builder).finish();
  return std::make_shared<const Part>(part.id(), part.month(), std::move(c), std::move(x));
}

TEST_F(Inconsistent, IndexesThatDisagreeWithTheirColumns) {
  const Part& part = *p_->part;
  const uint32_t user0 = part.columns().user[0];
  const std::pair<const char*, PartChange> cases[] = {
      {"a row missing", [&](PartColumns&, BitmapIndex& users) { users.at(user0).remove(0); }},
      {"a row listed twice",
       [&](PartColumns& c, BitmapIndex& users) {
         for (auto& [code, rows] : users) {
           if (code != user0) {
             rows.add(0);
             break;
           }
         }
       }},
      {"a row past the end", [&](PartColumns&, BitmapIndex& users) { users.at(user0).add(part.rows()); }},
      {"an empty bitmap", [&](PartColumns&, BitmapIndex& users) { users.emplace(UINT32_MAX, Bitmap()); }},
      {"a row under another value",
       [&](PartColumns&, BitmapIndex& users) {
         Bitmap rows = std::move(users.at(user0));
         users.erase(user0);
         users.emplace(user0 + 1000000, std::move(rows));
       }},
  };
  for (const auto& [what, change] : cases) {
    const std::string file = encode_part(*with(part, change), {.persist_indexes = true});
    expect_data_loss(decode_part(file, kPath), {"user_id index"}, what);
  }
}

TEST_F(Inconsistent, ColumnsThatBreakThePartsInvariants) {
  const Part& part = *p_->part;
  const std::tuple<const char*, const char*, PartChange> cases[] = {
      {"metadata code past the values", "metadata",
       [](PartColumns& c, BitmapIndex&) { c.metadata[5] = static_cast<uint32_t>(c.metadata_values.size()); }},
      {"an event id short", "event_id",
       [](PartColumns& c, BitmapIndex&) {
         std::vector<uint64_t> ends = c.event_id.ends();
         ends.pop_back();
         std::string bytes = c.event_id.bytes().substr(0, ends.empty() ? 0 : ends.back());
         c.event_id = StringColumn(std::move(bytes), std::move(ends));
       }},
  };
  for (const auto& [what, section, change] : cases) {
    for (const PartEncodeOptions& options : kAllOptions) {
      const std::string file = encode_part(*with(part, change), options);
      expect_data_loss(decode_part(file, kPath), {section}, what);
    }
  }
}

}  // namespace
}  // namespace usagedb::storage
