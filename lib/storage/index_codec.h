// Encodings of a part's bitmap index (value -> rows) in a part file (see
// part_format.md): the entries in ascending value order, each the value's
// gap from the previous one and its rows as a portable Roaring bitmap, read
// back with CRoaring's readSafe; optionally the whole payload as one zstd
// frame.
//
//   std::string out;
//   IndexEncoding e = encode_index(part.indexes().user, &out);
//   absl::StatusOr<BitmapIndex> back = decode_index(e, out);
//   absl::Status s = verify_index(*back, part.columns().user);
//
// Pure functions, thread-safe.
#ifndef USAGEDB_STORAGE_INDEX_CODEC_H_
#define USAGEDB_STORAGE_INDEX_CODEC_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "lib/table/part.h"

namespace usagedb::storage {

// The persisted id of each encoding: never renumber.
enum class IndexEncoding : uint8_t {
  kRoaring = 1,      // entries as they are
  kRoaringZstd = 2,  // varint size of the kRoaring payload, then it as one zstd frame
};

// Appends `index` as `encoding`, compressing at `level` for kRoaringZstd.
// A PostingIndex (the user index) is written in the same format, each list
// as a roaring bitmap: files do not depend on the in-memory layout.
void encode_index(const BitmapIndex& index, IndexEncoding encoding, int level, std::string* out);
void encode_index(const PostingIndex& index, IndexEncoding encoding, int level, std::string* out);

// Decodes a whole payload written by encode_index() with `encoding`.
// DataLossError (without a file name: the caller adds it) when the bytes are
// not such a payload, a bitmap does not decode or is empty, or bytes follow.
absl::StatusOr<BitmapIndex> decode_index(IndexEncoding encoding, std::string_view in);

// OK when `index` is safe to read as the index of `column`: every bitmap
// well formed, its rows below column.size() and its cardinality exact; each
// bitmap's first row holding the bitmap's value; as many rows listed as the
// column has. DataLossError naming the first disagreement otherwise. Cheap
// (no per-row comparison), so it does not prove every row is in the bitmap
// of its value: a row moved from one bitmap to another passes (see
// index_codec.cc).
absl::Status verify_index(const BitmapIndex& index, std::span<const uint32_t> column);

// decode_index() and verify_index() in one pass, each bitmap verified right
// after it is decoded, while it is in cache (what decode_part() uses).
absl::StatusOr<BitmapIndex> decode_verified_index(IndexEncoding encoding, std::string_view in,
                                                  std::span<const uint32_t> column);
// The same checks, read into a PostingIndex (each bitmap's rows are copied
// into the lists once it is verified).
absl::StatusOr<PostingIndex> decode_verified_postings(IndexEncoding encoding, std::string_view in,
                                                      std::span<const uint32_t> column);

// Part format version 3's user index (part_format.md, "The seek block"): the
// entries cut into chunks of consecutive values, each chunk a whole payload
// of `encoding` as above, so one value's rows are found by reading one chunk.
// A chunk ends after the entry that brings its rows to kChunkRows.
inline constexpr size_t kChunkRows = 8192;
struct IndexChunk {
  uint32_t first_code;  // the chunk's first value
  size_t bytes;         // its payload's size; chunks follow each other
};
// Appends the chunks of `index` and lists them in *chunks.
void encode_index_chunks(const PostingIndex& index, IndexEncoding encoding, int level, std::string* out,
                         std::vector<IndexChunk>* chunks);
// decode_verified_postings() of chunked payloads (in order): each chunk
// must start with its `first_code` and values ascend across chunks.
absl::StatusOr<PostingIndex> decode_verified_chunked_postings(IndexEncoding encoding,
                                                              std::span<const IndexChunk> chunks, std::string_view in,
                                                              std::span<const uint32_t> column);
// The rows of `code` in one chunk's payload (empty when it has none): only
// that entry's bitmap is decoded, and it must be well formed with every row
// below `rows`. DataLossError as decode_index().
absl::StatusOr<std::vector<uint32_t>> find_postings(IndexEncoding encoding, std::string_view chunk, uint32_t code,
                                                    uint32_t rows);

}  // namespace usagedb::storage

#endif  // USAGEDB_STORAGE_INDEX_CODEC_H_
