#include "lib/storage/index_codec.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "lib/util/coding.h"
#include "lib/util/compression.h"

namespace usagedb::storage {
namespace {

void encode_entries(const BitmapIndex& index, std::string* out) {
  std::vector<uint32_t> codes;
  codes.reserve(index.size());
  for (const auto& [code, rows] : index) codes.push_back(code);
  std::sort(codes.begin(), codes.end());
  coding::put_varint64(out, codes.size());
  std::string bitmap;
  for (size_t i = 0; i < codes.size(); ++i) {
    coding::put_varint64(out, codes[i] - (i == 0 ? 0 : codes[i - 1]));
    const Bitmap& rows = index.at(codes[i]);
    const size_t size = rows.serialized_size();
    coding::put_varint64(out, size);
    const size_t at = out->size();
    out->resize(at + size);
    rows.serialize(out->data() + at);
  }
}

absl::StatusOr<BitmapIndex> decode_entries(std::string_view in) {
  uint64_t n;
  if (!coding::get_varint64(&in, &n)) return absl::DataLossError("truncated entry count");
  // An entry takes at least 3 bytes (gap, length, a bitmap's first byte).
  if (n > in.size() / 3) {
    return absl::DataLossError(absl::StrCat(in.size(), " bytes cannot hold ", n, " entries"));
  }
  BitmapIndex index;
  index.reserve(n);
  uint64_t code = 0;
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
    absl::StatusOr<Bitmap> rows = Bitmap::deserialize(bytes);
    if (!rows.ok()) {
      return absl::DataLossError(absl::StrCat("entry ", i, " (value ", code, "): ", rows.status().message()));
    }
    if (rows->empty()) return absl::DataLossError(absl::StrCat("entry ", i, " (value ", code, "): no rows"));
    index.emplace(static_cast<uint32_t>(code), *std::move(rows));
  }
  if (!in.empty()) return absl::DataLossError(absl::StrCat(in.size(), " bytes after the last entry"));
  return index;
}

}  // namespace

void encode_index(const BitmapIndex& index, IndexEncoding encoding, int level, std::string* out) {
  if (encoding == IndexEncoding::kRoaring) {
    encode_entries(index, out);
    return;
  }
  std::string raw;
  encode_entries(index, &raw);
  coding::put_varint64(out, raw.size());
  compression::compress(raw, level, out);
}

absl::StatusOr<BitmapIndex> decode_index(IndexEncoding encoding, std::string_view in) {
  switch (encoding) {
    case IndexEncoding::kRoaring:
      return decode_entries(in);
    case IndexEncoding::kRoaringZstd: {
      uint64_t size;
      if (!coding::get_varint64(&in, &size)) return absl::DataLossError("truncated size");
      std::string raw;
      if (absl::Status s = compression::decompress(in, size, &raw); !s.ok()) return s;
      return decode_entries(raw);
    }
  }
  return absl::DataLossError(absl::StrCat("unknown index encoding ", static_cast<int>(encoding)));
}

absl::Status verify_index(const BitmapIndex& index, std::span<const uint32_t> column) {
  // Writes each bitmap's value at its rows, then compares with the column in
  // row order: sequential reads instead of a random read per row. A row no
  // bitmap lists keeps a value that differs from the column's.
  std::vector<uint32_t> values(column.size());
  for (size_t row = 0; row < column.size(); ++row) values[row] = column[row] + 1;
  uint64_t total = 0;
  for (const auto& entry : index) {
    // Plain names: lambdas cannot capture structured bindings in C++20 (clang).
    const uint32_t code = entry.first;
    const auto& rows = entry.second;
    if (rows.empty()) return absl::DataLossError(absl::StrCat("value ", code, " has no rows"));
    // CRoaring 0.2.66's readSafe checks bounds, not container contents, so
    // iterate defensively: rows strictly ascending (hence distinct), in
    // range, and as many as the bitmap claims.
    uint64_t seen = 0;
    int64_t prev = -1;
    bool ok = true;
    rows.for_each_batch([&](std::span<const uint32_t> batch) {
      if (!ok || batch.front() <= prev || batch.back() >= column.size()) {
        ok = false;
        return;
      }
      for (size_t i = 1; i < batch.size(); ++i) ok &= batch[i - 1] < batch[i];
      for (const uint32_t row : batch) values[row] = code;
      prev = batch.back();
      seen += batch.size();
    });
    if (!ok) {
      return absl::DataLossError(absl::StrCat("value ", code, ": rows out of order or past the part's ",
                                              column.size(), " rows"));
    }
    if (seen != rows.cardinality()) {
      return absl::DataLossError(
          absl::StrCat("value ", code, ": the bitmap claims ", rows.cardinality(), " rows and holds ", seen));
    }
    total += seen;
  }
  // Bitmaps are sets: as many members as rows, and every row holding the
  // value of the last bitmap that listed it, means each row is listed exactly
  // once, in the bitmap of its value.
  if (total != column.size()) {
    return absl::DataLossError(absl::StrCat("the bitmaps list ", total, " rows, the part has ", column.size()));
  }
  for (size_t row = 0; row < column.size(); ++row) {
    if (values[row] != column[row]) {
      return absl::DataLossError(absl::StrCat("row ", row, " holds value ", column[row], ", the index says ",
                                              values[row] - (values[row] == column[row] + 1 ? 1 : 0),
                                              values[row] == column[row] + 1 ? " (not listed)" : ""));
    }
  }
  return absl::OkStatus();
}

}  // namespace usagedb::storage
