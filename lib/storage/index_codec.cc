#include "lib/storage/index_codec.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "lib/table/part_index.h"
#include "lib/util/coding.h"
#include "lib/util/compression.h"
#include "lib/util/status_macros.h"

namespace usagedb::storage {
namespace {

// Appends `count` entries: visit(put) calls put(code, const Bitmap& rows)
// for each, in ascending code order.
template <typename Visit>
void encode_entries(size_t count, const Visit& visit, std::string* out) {
  coding::put_varint64(out, count);
  uint32_t previous = 0;
  visit([&](uint32_t code, const Bitmap& rows) {
    coding::put_varint64(out, code - previous);
    previous = code;
    const size_t size = rows.serialized_size();
    coding::put_varint64(out, size);
    const size_t at = out->size();
    out->resize(at + size);
    rows.serialize(out->data() + at);
  });
}

void encode_entries(const BitmapIndex& index, std::string* out) {
  std::vector<uint32_t> codes;
  codes.reserve(index.size());
  for (const auto& [code, rows] : index) codes.push_back(code);
  std::sort(codes.begin(), codes.end());
  encode_entries(
      codes.size(),
      [&](const auto& put) {
        for (const uint32_t code : codes) put(code, index.at(code));
      },
      out);
}

// Each list as the sealed bitmap build_bitmap_index() makes of the same rows.
void encode_entries(const PostingIndex& index, std::string* out) {
  encode_entries(
      index.size(),
      [&](const auto& put) {
        index.for_each([&](uint32_t code, std::span<const uint32_t> rows) { put(code, bitmap_of_rows(rows)); });
      },
      out);
}

template <typename Index>
void encode_payload(const Index& index, IndexEncoding encoding, int level, std::string* out) {
  if (encoding == IndexEncoding::kRoaring) {
    encode_entries(index, out);
    return;
  }
  std::string raw;
  encode_entries(index, &raw);
  coding::put_varint64(out, raw.size());
  compression::compress(raw, level, out);
}

// verify_index()'s check of one bitmap; adds its rows to *total.
absl::Status verify_entry(uint32_t code, const Bitmap& rows, std::span<const uint32_t> column, uint64_t* total) {
  absl::StatusOr<uint64_t> listed = rows.validate(column.size());
  if (!listed.ok()) {
    return absl::DataLossError(
        absl::StrCat("value ", code, ": ", listed.status().message(), " (the part has ", column.size(), " rows)"));
  }
  if (*listed == 0) return absl::DataLossError(absl::StrCat("value ", code, " has no rows"));
  const uint32_t first = rows.minimum();
  if (column[first] != code) {
    return absl::DataLossError(absl::StrCat("row ", first, " holds value ", column[first], ", the index says ", code));
  }
  *total += *listed;
  return absl::OkStatus();
}

absl::Status verify_total(uint64_t total, std::span<const uint32_t> column) {
  if (total != column.size()) {
    return absl::DataLossError(absl::StrCat("the bitmaps list ", total, " rows, the part has ", column.size()));
  }
  return absl::OkStatus();
}

// Decodes the entries, handing each to sink->add(code, Bitmap&&) in
// ascending code order after sink->reserve(entries). With `column`, verifies
// each bitmap right after decoding it.
// Across the chunks of a chunked index: the last value decoded and the rows
// listed so far.
struct EntriesState {
  bool any = false;
  uint64_t last = 0;
  uint64_t total = 0;
};

// decode_entries() of one payload among several (chunks): values must ascend
// past state->last; the total is not checked. `first`, when not null, is the
// value the payload must start with.
template <typename Sink>
absl::Status decode_entries_from(std::string_view in, const std::span<const uint32_t>* column, Sink* sink,
                                 EntriesState* state, const uint32_t* first) {
  uint64_t n;
  if (!coding::get_varint64(&in, &n)) return absl::DataLossError("truncated entry count");
  // An entry takes at least 3 bytes (gap, length, a bitmap's first byte).
  if (n > in.size() / 3) {
    return absl::DataLossError(absl::StrCat(in.size(), " bytes cannot hold ", n, " entries"));
  }
  if (first != nullptr && n == 0) return absl::DataLossError("a chunk with no entries");
  sink->reserve(n);
  uint64_t code = 0;
  uint64_t& total = state->total;
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t gap;
    std::string_view bytes;
    if (!coding::get_varint64(&in, &gap) || !coding::get_length_prefixed(&in, &bytes)) {
      return absl::DataLossError(absl::StrCat("entry ", i, " of ", n, ": truncated"));
    }
    if (i > 0 && gap == 0) return absl::DataLossError(absl::StrCat("entry ", i, ": repeats value ", code));
    code += gap;
    if (gap > UINT32_MAX || code > UINT32_MAX) {
      return absl::DataLossError(absl::StrCat("entry ", i, ": value is over 2^32-1"));
    }
    if (i == 0 && first != nullptr && code != *first) {
      return absl::DataLossError(absl::StrCat("the chunk starts with value ", code, ", the seek block says ", *first));
    }
    if (i == 0 && state->any && code <= state->last) {
      return absl::DataLossError(absl::StrCat("value ", code, " does not follow the previous chunk's ", state->last));
    }
    absl::StatusOr<Bitmap> rows = Bitmap::deserialize(bytes);
    if (!rows.ok()) {
      return absl::DataLossError(absl::StrCat("entry ", i, " (value ", code, "): ", rows.status().message()));
    }
    if (rows->empty()) return absl::DataLossError(absl::StrCat("entry ", i, " (value ", code, "): no rows"));
    if (column != nullptr) {
      USAGEDB_RETURN_IF_ERROR(verify_entry(static_cast<uint32_t>(code), *rows, *column, &total));
    }
    sink->add(static_cast<uint32_t>(code), *std::move(rows));
  }
  if (!in.empty()) return absl::DataLossError(absl::StrCat(in.size(), " bytes after the last entry"));
  if (n > 0) {
    state->any = true;
    state->last = code;
  }
  return absl::OkStatus();
}

template <typename Sink>
absl::Status decode_entries(std::string_view in, const std::span<const uint32_t>* column, Sink* sink) {
  EntriesState state;
  USAGEDB_RETURN_IF_ERROR(decode_entries_from(in, column, sink, &state, nullptr));
  if (column != nullptr) USAGEDB_RETURN_IF_ERROR(verify_total(state.total, *column));
  return absl::OkStatus();
}

// The raw (kRoaring) entries of a payload of `encoding`: `in` itself, or
// decompressed into *scratch.
absl::StatusOr<std::string_view> raw_entries(IndexEncoding encoding, std::string_view in, std::string* scratch) {
  switch (encoding) {
    case IndexEncoding::kRoaring:
      return in;
    case IndexEncoding::kRoaringZstd: {
      uint64_t size;
      if (!coding::get_varint64(&in, &size)) return absl::DataLossError("truncated size");
      USAGEDB_RETURN_IF_ERROR(compression::decompress(in, size, scratch));
      return std::string_view(*scratch);
    }
  }
  return absl::DataLossError(absl::StrCat("unknown index encoding ", static_cast<int>(encoding)));
}

template <typename Sink>
absl::Status decode_payload(IndexEncoding encoding, std::string_view in, const std::span<const uint32_t>* column,
                            Sink* sink) {
  std::string scratch;
  USAGEDB_ASSIGN_OR_RETURN(const std::string_view raw, raw_entries(encoding, in, &scratch));
  return decode_entries(raw, column, sink);
}

struct BitmapIndexSink {
  BitmapIndex index;
  void reserve(uint64_t n) { index.reserve(n); }
  void add(uint32_t code, Bitmap&& rows) { index.emplace(code, std::move(rows)); }
};

absl::StatusOr<BitmapIndex> decode_bitmap_index(IndexEncoding encoding, std::string_view in,
                                                const std::span<const uint32_t>* column) {
  BitmapIndexSink sink;
  USAGEDB_RETURN_IF_ERROR(decode_payload(encoding, in, column, &sink));
  return std::move(sink.index);
}

}  // namespace

void encode_index(const BitmapIndex& index, IndexEncoding encoding, int level, std::string* out) {
  encode_payload(index, encoding, level, out);
}

void encode_index(const PostingIndex& index, IndexEncoding encoding, int level, std::string* out) {
  encode_payload(index, encoding, level, out);
}

absl::StatusOr<BitmapIndex> decode_index(IndexEncoding encoding, std::string_view in) {
  return decode_bitmap_index(encoding, in, nullptr);
}

absl::StatusOr<BitmapIndex> decode_verified_index(IndexEncoding encoding, std::string_view in,
                                                  std::span<const uint32_t> column) {
  return decode_bitmap_index(encoding, in, &column);
}

absl::StatusOr<PostingIndex> decode_verified_postings(IndexEncoding encoding, std::string_view in,
                                                      std::span<const uint32_t> column) {
  // Each bitmap is verified, copied into the lists and freed before the next
  // one is decoded.
  struct Sink {
    PostingIndex::Builder builder;
    size_t rows;
    void reserve(uint64_t n) { builder.reserve(n, rows); }
    void add(uint32_t code, Bitmap&& bitmap) { builder.add(code, bitmap); }
  } sink{{}, column.size()};
  USAGEDB_RETURN_IF_ERROR(decode_payload(encoding, in, &column, &sink));
  return std::move(sink.builder).finish();
}

void encode_index_chunks(const PostingIndex& index, IndexEncoding encoding, int level, std::string* out,
                         std::vector<IndexChunk>* chunks) {
  std::vector<std::pair<uint32_t, std::span<const uint32_t>>> entries;
  entries.reserve(index.size());
  index.for_each([&](uint32_t code, std::span<const uint32_t> rows) { entries.emplace_back(code, rows); });
  std::string raw;
  for (size_t begin = 0; begin < entries.size();) {
    size_t end = begin, rows = 0;
    while (end < entries.size() && rows < kChunkRows) rows += entries[end++].second.size();
    const auto visit = [&](const auto& put) {
      for (size_t i = begin; i < end; ++i) put(entries[i].first, bitmap_of_rows(entries[i].second));
    };
    const size_t at = out->size();
    if (encoding == IndexEncoding::kRoaring) {
      encode_entries(end - begin, visit, out);
    } else {
      raw.clear();
      encode_entries(end - begin, visit, &raw);
      coding::put_varint64(out, raw.size());
      compression::compress(raw, level, out);
    }
    chunks->push_back(IndexChunk{entries[begin].first, out->size() - at});
    begin = end;
  }
}

absl::StatusOr<PostingIndex> decode_verified_chunked_postings(IndexEncoding encoding,
                                                              std::span<const IndexChunk> chunks, std::string_view in,
                                                              std::span<const uint32_t> column) {
  struct Sink {
    PostingIndex::Builder builder;
    void reserve(uint64_t) {}
    void add(uint32_t code, Bitmap&& bitmap) { builder.add(code, bitmap); }
  } sink;
  sink.builder.reserve(0, column.size());
  EntriesState state;
  std::string scratch;
  for (size_t i = 0; i < chunks.size(); ++i) {
    const IndexChunk& chunk = chunks[i];
    if (chunk.bytes > in.size()) {
      return absl::DataLossError(absl::StrCat("chunk ", i, " of ", chunk.bytes, " bytes, ", in.size(), " left"));
    }
    USAGEDB_ASSIGN_OR_RETURN(const std::string_view raw, raw_entries(encoding, in.substr(0, chunk.bytes), &scratch));
    if (absl::Status s = decode_entries_from(raw, &column, &sink, &state, &chunk.first_code); !s.ok()) {
      return absl::DataLossError(absl::StrCat("chunk ", i, ": ", s.message()));
    }
    in.remove_prefix(chunk.bytes);
  }
  if (!in.empty()) return absl::DataLossError(absl::StrCat(in.size(), " bytes after the last chunk"));
  USAGEDB_RETURN_IF_ERROR(verify_total(state.total, column));
  return std::move(sink.builder).finish();
}

absl::StatusOr<std::vector<uint32_t>> find_postings(IndexEncoding encoding, std::string_view chunk, uint32_t code,
                                                    uint32_t rows) {
  std::string scratch;
  USAGEDB_ASSIGN_OR_RETURN(std::string_view in, raw_entries(encoding, chunk, &scratch));
  uint64_t n;
  if (!coding::get_varint64(&in, &n)) return absl::DataLossError("truncated entry count");
  uint64_t value = 0;
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t gap;
    std::string_view bytes;
    if (!coding::get_varint64(&in, &gap) || !coding::get_length_prefixed(&in, &bytes)) {
      return absl::DataLossError(absl::StrCat("entry ", i, " of ", n, ": truncated"));
    }
    if (i > 0 && gap == 0) return absl::DataLossError(absl::StrCat("entry ", i, ": repeats value ", value));
    value += gap;
    if (value > code) break;  // ascending: `code` is not in the chunk
    if (value < code) continue;
    absl::StatusOr<Bitmap> bitmap = Bitmap::deserialize(bytes);
    if (!bitmap.ok()) {
      return absl::DataLossError(absl::StrCat("entry ", i, " (value ", code, "): ", bitmap.status().message()));
    }
    absl::StatusOr<uint64_t> listed = bitmap->validate(rows);
    if (!listed.ok()) {
      return absl::DataLossError(
          absl::StrCat("value ", code, ": ", listed.status().message(), " (the part has ", rows, " rows)"));
    }
    if (*listed == 0) return absl::DataLossError(absl::StrCat("value ", code, " has no rows"));
    std::vector<uint32_t> out;
    out.reserve(*listed);
    bitmap->for_each([&](uint32_t row) { out.push_back(row); });
    return out;
  }
  return std::vector<uint32_t>();
}

absl::Status verify_index(const BitmapIndex& index, std::span<const uint32_t> column) {
  // What a reader relies on, in O(containers + values of array containers)
  // and one read of the column per bitmap, not per row (reopening a store
  // spent ~0.5 s CPU per 10M rows comparing every row with the column):
  // - Bitmap::validate(): each bitmap well formed, its rows distinct and
  //   below the part's row count, its cardinality exact (memory safety);
  // - each bitmap's first row holds the bitmap's value (so every value is a
  //   code the column has, hence one its dictionary has, and a bitmap
  //   filed under the wrong value is caught);
  // - the bitmaps list as many rows as the part has (a row missing, or one
  //   listed under two values, changes the count).
  // Not proved: that every other row of a bitmap holds its value (a row
  // missing from one bitmap and listed in another keeps the count); such
  // an index, checksummed by a writer with a bug, answers wrongly but reads
  // no memory it should not.
  uint64_t total = 0;
  for (const auto& [code, rows] : index) USAGEDB_RETURN_IF_ERROR(verify_entry(code, rows, column, &total));
  return verify_total(total, column);
}

}  // namespace usagedb::storage
