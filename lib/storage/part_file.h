// Part files: the bytes of one immutable Part on disk, and back.
//
// A part file is a header (magic, format version), one checksummed block per
// column and per bitmap index, and a checksummed footer holding the part's
// id, month, row count, timestamp range and the directory of the blocks;
// the magic again ends the file. part_format.md describes every byte.
// Writing the bytes to a temporary file, fsyncing and renaming it into place
// is the caller's job (lib/storage's file utilities).
//
//   std::string bytes = storage::encode_part(*part);
//   absl::StatusOr<std::shared_ptr<const Part>> back =
//       storage::decode_part(bytes, "/data/202505/part-17.udb");
//
// decode_part() checks every byte: any corruption (a flipped bit, a torn or
// truncated file, a file of another kind or version) is a DataLossError that
// names the path and the section at fault; it never crashes and never
// returns a part other than the one encoded.
//
// Pure functions, thread-safe.
#ifndef USAGEDB_STORAGE_PART_FILE_H_
#define USAGEDB_STORAGE_PART_FILE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "lib/storage/file_system.h"
#include "lib/storage/index_codec.h"
#include "lib/storage/int_codec.h"
#include "lib/table/part.h"
#include "lib/util/compression.h"

namespace usagedb::storage {

// 2: each row's arrival sequence number (the `sequence` block); version 1
// files are read with numbers made from the part id (part_format.md).
// 3: the `seek` block and a user index in chunks, so one user's rows are
// read without the rest of the file (read_user_rows()); versions 1 and 2
// are still read.
inline constexpr uint32_t kPartFormatVersion = 3;

// How encode_part() writes; the defaults are what the store uses.
struct PartEncodeOptions {
  // The indexes' zstd level (kRoaringZstd).
  int zstd_level = compression::kDefaultLevel;
  // The string columns' (event ids, metadata values) when zstd makes them
  // smaller. Level 1: on ids of random digits or UUIDs (an application's
  // record_event, where the generator's `evt_N` are PrefixedInts) it is
  // 3-5x faster than level 3 and 2-15% smaller (zstd's level 3 compresses
  // such high-entropy tokens worse), and a live store encodes every part
  // again after each merge; its event ids were most of a checkpoint's CPU
  // (bench/RESULTS.md, "seal10"). Readers take any level.
  int string_zstd_level = 1;
  // Whether to write the bitmap indexes. When false, decode_part() rebuilds
  // them from the columns: 37-40% fewer bytes than the default, as fast to
  // load or up to 35% slower (part_format.md has the numbers).
  bool persist_indexes = true;
  // kRoaringZstd: 11-31% fewer bytes than kRoaring for a few ms per 1M rows.
  IndexEncoding index_encoding = IndexEncoding::kRoaringZstd;
  // 1 writes the format before arrival numbers (no `sequence` block), 2 the
  // format before the `seek` block: only for tests of reading old files.
  uint32_t format_version = kPartFormatVersion;
};

// Serializes `part` into the bytes of one part file.
std::string encode_part(const Part& part, const PartEncodeOptions& options = {});

// The sizes of the store-wide dictionaries: a code of a part must be below
// its dictionary's size. kNoLimit (the default) accepts every code.
struct DictionarySizes {
  uint64_t users = kNoLimit;
  uint64_t features = kNoLimit;
  uint64_t versions = kNoLimit;
  uint64_t event_types = kNoLimit;
  uint64_t sessions = kNoLimit;
};

// Reads a part file's bytes back. DataLossError naming `path` and the
// section for any corruption: bad magic, unknown version, checksum mismatch,
// truncation, inconsistent counts, a bitmap that does not decode, an index
// that disagrees with its column, a code not in its dictionary (`sizes`:
// pass the loaded dictionaries' sizes, so a part can never make a query
// look up a code its dictionary lacks).
// The sorting key's order among rows of equal timestamp is not checked: it
// needs the dictionaries' strings.
absl::StatusOr<std::shared_ptr<const Part>> decode_part(std::string_view bytes, std::string_view path,
                                                        const DictionarySizes& sizes = {});

// What a part file holds, read from its footer alone (for tools and for the
// byte accounting of bench/part_file_benchmark.cc).
struct PartFileInfo {
  struct Block {
    std::string section;  // "timestamp", "user_id", "user_id index", ...
    uint8_t encoding;
    uint64_t offset;
    uint64_t size;  // bytes of the whole block: header, payload and checksum
    uint8_t section_id = 0;
    uint64_t checksum = 0;  // the directory's
  };
  uint64_t id;
  uint32_t month;
  uint32_t rows;
  uint32_t min_timestamp;
  uint32_t max_timestamp;
  std::vector<Block> blocks;
  uint64_t header_bytes;
  uint64_t footer_bytes;  // the footer and the trailer after it
  uint32_t version = 0;   // the format's
};

// Checks the header, the trailer and the footer's checksum (not the blocks')
// and returns the footer. DataLossError as decode_part().
absl::StatusOr<PartFileInfo> read_part_file_info(std::string_view bytes, std::string_view path);

// decode_part() of the data alone (the columns and indexes, every byte
// checked); *info gets the footer (id, month, rows, ...).
absl::StatusOr<PartData> decode_part_data(std::string_view bytes, std::string_view path, const DictionarySizes& sizes,
                                          PartFileInfo* info);

// What a lazy open reads of a part file (docs/STORAGE.md, "What is read
// when"): its footer and the largest arrival number of its rows.
struct PartFileSummary {
  PartFileInfo info;
  uint64_t max_sequence = 0;
};
// A lazy open reads a part file's first 12 bytes and its last
// min(size, kPartTailBytes) bytes, which hold the footer.
inline constexpr size_t kPartTailBytes = 4096;
// Bytes [offset, offset + n) of the file.
using RangeReader = std::function<absl::StatusOr<std::string>(uint64_t offset, size_t n)>;
// The footer (checked as read_part_file_info() does: header, trailer and
// the footer's checksum) from `head` and `tail` (see kPartTailBytes) of a
// file of `size` bytes, and the sequence block, read through `read`,
// checked and decoded for its largest number. The other blocks are not read.
absl::StatusOr<PartFileSummary> read_part_summary(std::string_view head, std::string_view tail, uint64_t size,
                                                  const RangeReader& read, std::string_view path);

// One user's rows of a part file of format version 3 (with indexes: see
// seeks_users()), reading through `read` only the seek block, the user
// index chunk that would hold `user`, and the blocks of the timestamp,
// feature and version columns that hold its rows (part_format.md, "The seek
// block"). Each piece is verified against its checksum in the seek block
// as it is read, every code against `sizes`: DataLossError naming `path`
// and the section. Empty when the part has no row of `user`.
using RangesReader = std::function<absl::StatusOr<std::vector<std::string>>(std::span<const ByteRange>)>;
bool seeks_users(const PartFileInfo& info);
absl::StatusOr<UserRows> read_user_rows(const PartFileInfo& info, const RangesReader& read, std::string_view path,
                                        const DictionarySizes& sizes, uint32_t user);

// The timestamp, feature_id and user_id columns of a part file (any format
// version) and no other, for Part::user_ordered_rows(): reads through
// `read` those three blocks alone, each checked as decode_part() checks it
// (its checksum and the directory's, its header and length, a well-formed
// encoding of exactly `rows` values, every code against `sizes`, the
// timestamps DeltaFor and spanning the footer's range): DataLossError
// naming `path` and the section. The other columns are left empty; damage
// in the other blocks is reported by the first read of the whole part.
absl::StatusOr<PartColumns> read_user_ordered_columns(const PartFileInfo& info, const RangesReader& read,
                                                      std::string_view path, const DictionarySizes& sizes);

// The size of each section of the part file `bytes` (named `name`), for
// stats; empty when its layout does not read (the part was checked already).
std::vector<std::pair<std::string, uint64_t>> part_file_sections(std::string_view bytes, const std::string& name);

}  // namespace usagedb::storage

#endif  // USAGEDB_STORAGE_PART_FILE_H_
