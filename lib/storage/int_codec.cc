#include "lib/storage/int_codec.h"

#include <algorithm>
#include <array>

#include "absl/strings/str_cat.h"
#include "lib/util/bit_packing.h"
#include "lib/util/coding.h"
#include "lib/util/status_macros.h"

namespace usagedb::storage {
namespace {

// Smallest kFor encoding of a block: a one-byte varint min and a width byte.
constexpr size_t kMinBlockBytes = 2;

size_t block_count(size_t count) { return (count + kIntBlockRows - 1) / kIntBlockRows; }

struct Frame {
  uint32_t min;
  unsigned width;
};

Frame frame_of(std::span<const uint32_t> block) {
  // Two plain reductions, which the compiler vectorizes (minmax_element's
  // first-min/last-max contract keeps it scalar): this was the larger half
  // of encoding a part's code columns.
  uint32_t lo = UINT32_MAX, hi = 0;
  for (const uint32_t v : block) {
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  if (block.empty()) lo = 0;
  return Frame{lo, coding::bit_width_of(hi - lo)};
}

// Reads blocks of kFor into out[0, count): values must be < limit.
absl::Status decode_for(std::string_view* in, size_t count, uint64_t limit, uint32_t* out) {
  for (size_t pos = 0, block = 0; pos < count; pos += kIntBlockRows, ++block) {
    const size_t n = std::min(kIntBlockRows, count - pos);
    uint64_t min;
    if (!coding::get_varint64(in, &min) || in->empty()) {
      return absl::DataLossError(absl::StrCat("block ", block, " of ", block_count(count), ": truncated header"));
    }
    const unsigned width = static_cast<unsigned char>(in->front());
    in->remove_prefix(1);
    if (width > coding::kMaxBitWidth) {
      return absl::DataLossError(absl::StrCat("block ", block, ": bit width ", width, " is over 32"));
    }
    const size_t bytes = coding::packed_size(n, width);
    if (in->size() < bytes) {
      return absl::DataLossError(
          absl::StrCat("block ", block, ": truncated, needs ", bytes, " bytes, ", in->size(), " left"));
    }
    uint32_t* values = out + pos;
    coding::unpack_bits(in->data(), n, width, values);
    in->remove_prefix(bytes);
    uint32_t max = 0;
    for (size_t i = 0; i < n; ++i) max = std::max(max, values[i]);
    // min comes from a varint of up to 64 bits: compare without wrapping.
    if (min >= limit || max >= limit - min) {
      return absl::DataLossError(absl::StrCat("block ", block, ": value ", min, " + ", max,
                                              " is out of range (limit ", limit, ")"));
    }
    if (min != 0) {
      const auto base = static_cast<uint32_t>(min);
      for (size_t i = 0; i < n; ++i) values[i] += base;
    }
  }
  return absl::OkStatus();
}

absl::Status decode_delta(std::string_view* in, size_t count, uint64_t limit, uint32_t* out) {
  if (count == 0) return absl::OkStatus();
  uint64_t first;
  if (!coding::get_varint64(in, &first)) return absl::DataLossError("truncated first value");
  if (first >= limit) {
    return absl::DataLossError(absl::StrCat("first value ", first, " is out of range (limit ", limit, ")"));
  }
  out[0] = static_cast<uint32_t>(first);
  if (absl::Status s = decode_for(in, count - 1, kNoLimit, out + 1); !s.ok()) {
    return absl::DataLossError(absl::StrCat("deltas: ", s.message()));
  }
  // Deltas are < 2^32 and there are < 2^32 of them, so the sum cannot wrap.
  uint64_t acc = first;
  for (size_t i = 1; i < count; ++i) {
    acc += out[i];
    out[i] = static_cast<uint32_t>(acc);
  }
  if (acc >= limit) {
    return absl::DataLossError(absl::StrCat("value ", acc, " is out of range (limit ", limit, ")"));
  }
  return absl::OkStatus();
}

absl::Status decode_dict(std::string_view* in, size_t count, uint64_t limit, uint32_t* out) {
  uint64_t size;
  if (!coding::get_varint64(in, &size)) return absl::DataLossError("truncated dictionary size");
  // Each entry takes at least one byte: bound the allocation by the input.
  if (size > count || size > in->size() || (count > 0 && size == 0)) {
    return absl::DataLossError(absl::StrCat("dictionary of ", size, " values for ", count, " rows in ",
                                            in->size(), " bytes"));
  }
  std::vector<uint32_t> dict(size);
  uint64_t code = 0;
  for (size_t i = 0; i < size; ++i) {
    uint64_t gap;
    if (!coding::get_varint64(in, &gap)) return absl::DataLossError("truncated dictionary");
    if (i > 0 && gap == 0) return absl::DataLossError(absl::StrCat("dictionary entry ", i, " repeats a value"));
    code += gap;
    if (gap >= limit || code >= limit) {
      return absl::DataLossError(
          absl::StrCat("dictionary entry ", i, " is out of range (limit ", limit, ")"));
    }
    dict[i] = static_cast<uint32_t>(code);
  }
  if (absl::Status s = decode_for(in, count, size, out); !s.ok()) {
    return absl::DataLossError(absl::StrCat("local ids: ", s.message()));
  }
  for (size_t i = 0; i < count; ++i) out[i] = dict[out[i]];
  return absl::OkStatus();
}

}  // namespace

namespace {

// The frame of each block of `values`.
std::vector<Frame> frames_of(std::span<const uint32_t> values) {
  std::vector<Frame> frames;
  frames.reserve(block_count(values.size()));
  for (size_t pos = 0; pos < values.size(); pos += kIntBlockRows) {
    frames.push_back(frame_of(values.subspan(pos, std::min(kIntBlockRows, values.size() - pos))));
  }
  return frames;
}

// Bytes of the kFor encoding of `count` values in blocks of `frames`.
size_t for_size(std::span<const Frame> frames, size_t count) {
  size_t bytes = 0;
  for (size_t b = 0; b < frames.size(); ++b) {
    const size_t n = std::min(kIntBlockRows, count - b * kIntBlockRows);
    bytes += coding::varint_length(frames[b].min) + 1 + coding::packed_size(n, frames[b].width);
  }
  return bytes;
}

// encode_for() with the blocks' frames computed already.
void encode_for(std::span<const uint32_t> values, std::span<const Frame> frames, std::string* out) {
  out->reserve(out->size() + for_size(frames, values.size()));
  std::array<uint32_t, kIntBlockRows> shifted;
  for (size_t pos = 0, b = 0; pos < values.size(); pos += kIntBlockRows, ++b) {
    const auto block = values.subspan(pos, std::min(kIntBlockRows, values.size() - pos));
    const Frame f = frames[b];
    coding::put_varint64(out, f.min);
    out->push_back(static_cast<char>(f.width));
    for (size_t i = 0; i < block.size(); ++i) shifted[i] = block[i] - f.min;
    coding::pack_bits(std::span<const uint32_t>(shifted.data(), block.size()), f.width, out);
  }
}

}  // namespace

size_t for_size(std::span<const uint32_t> values) { return for_size(frames_of(values), values.size()); }

void encode_for(std::span<const uint32_t> values, std::string* out) { encode_for(values, frames_of(values), out); }

void encode_ascending(std::span<const uint32_t> values, std::string* out) {
  if (values.empty()) return;
  coding::put_varint64(out, values[0]);
  std::vector<uint32_t> deltas(values.size() - 1);
  for (size_t i = 1; i < values.size(); ++i) deltas[i - 1] = values[i] - values[i - 1];
  encode_for(deltas, out);
}

IntEncoding encode_codes(std::span<const uint32_t> values, std::string* out) {
  if (values.empty()) {
    encode_for(values, out);
    return IntEncoding::kFor;
  }
  // The distinct values, sorted, so local ids keep the codes' order (and the
  // locality of codes assigned at about the same time).
  std::vector<uint32_t> dict;
  std::vector<uint32_t> local(values.size());
  // Two plain reductions, vectorized (minmax_element is not).
  uint32_t min = UINT32_MAX, max = 0;
  for (const uint32_t v : values) {
    min = std::min(min, v);
    max = std::max(max, v);
  }
  const uint64_t span = uint64_t{max} - min + 1;
  if (span <= 4 * values.size() + 4096) {
    // Dense enough for a direct table indexed by value - min.
    std::vector<uint32_t> id_of(span, 0);
    for (const uint32_t v : values) id_of[v - min] = 1;
    for (uint64_t i = 0; i < span; ++i) {
      if (id_of[i] != 0) {
        id_of[i] = static_cast<uint32_t>(dict.size());
        dict.push_back(static_cast<uint32_t>(min + i));
      }
    }
    for (size_t i = 0; i < values.size(); ++i) local[i] = id_of[values[i] - min];
  } else {
    dict.assign(values.begin(), values.end());
    std::sort(dict.begin(), dict.end());
    dict.erase(std::unique(dict.begin(), dict.end()), dict.end());
    for (size_t i = 0; i < values.size(); ++i) {
      local[i] = static_cast<uint32_t>(std::lower_bound(dict.begin(), dict.end(), values[i]) - dict.begin());
    }
  }
  size_t dict_bytes = coding::varint_length(dict.size());
  for (size_t i = 0; i < dict.size(); ++i) dict_bytes += coding::varint_length(dict[i] - (i == 0 ? 0 : dict[i - 1]));
  // Each block's frame once per candidate: sizing and encoding share them.
  const std::vector<Frame> value_frames = frames_of(values);
  const std::vector<Frame> local_frames = frames_of(local);
  if (for_size(value_frames, values.size()) <= dict_bytes + for_size(local_frames, local.size())) {
    encode_for(values, value_frames, out);
    return IntEncoding::kFor;
  }
  coding::put_varint64(out, dict.size());
  for (size_t i = 0; i < dict.size(); ++i) coding::put_varint64(out, dict[i] - (i == 0 ? 0 : dict[i - 1]));
  encode_for(local, local_frames, out);
  return IntEncoding::kDictFor;
}

absl::StatusOr<IntLayout> int_layout(IntEncoding encoding, std::string_view payload, size_t count) {
  IntLayout layout;
  std::string_view in = payload;
  size_t values = count;
  if (encoding == IntEncoding::kDeltaFor && count > 0) {
    uint64_t first;
    if (!coding::get_varint64(&in, &first)) return absl::DataLossError("truncated first value");
    values = count - 1;
  } else if (encoding == IntEncoding::kDictFor) {
    uint64_t size, gap;
    if (!coding::get_varint64(&in, &size)) return absl::DataLossError("truncated dictionary size");
    for (uint64_t i = 0; i < size; ++i) {
      if (!coding::get_varint64(&in, &gap)) return absl::DataLossError("truncated dictionary");
    }
  }
  layout.head_bytes = payload.size() - in.size();
  for (size_t pos = 0; pos < values; pos += kIntBlockRows) {
    const size_t n = std::min(kIntBlockRows, values - pos);
    const size_t before = in.size();
    uint64_t min;
    if (!coding::get_varint64(&in, &min) || in.empty()) return absl::DataLossError("truncated block header");
    const unsigned width = static_cast<unsigned char>(in.front());
    in.remove_prefix(1);
    const size_t bytes = coding::packed_size(n, width);
    if (width > coding::kMaxBitWidth || in.size() < bytes) return absl::DataLossError("truncated block");
    in.remove_prefix(bytes);
    layout.block_bytes.push_back(before - in.size());
  }
  if (!in.empty()) return absl::DataLossError(absl::StrCat(in.size(), " bytes after the values"));
  return layout;
}

size_t int_block_first_row(IntEncoding encoding, size_t block) {
  return block * kIntBlockRows + (encoding == IntEncoding::kDeltaFor ? 1 : 0);
}

size_t int_block_rows(IntEncoding encoding, size_t count, size_t block) {
  const size_t first = int_block_first_row(encoding, block);
  return first >= count ? 0 : std::min(kIntBlockRows, count - first);
}

absl::Status decode_int_block(IntEncoding encoding, std::string_view head, std::string_view bytes, size_t count,
                              size_t block, uint64_t base, uint64_t limit, std::vector<uint32_t>* out) {
  const size_t n = int_block_rows(encoding, count, block);
  if (n == 0) return absl::DataLossError(absl::StrCat("block ", block, " is past the column's ", count, " values"));
  out->resize(n);
  std::string_view in = bytes;
  switch (encoding) {
    case IntEncoding::kFor:
      USAGEDB_RETURN_IF_ERROR(decode_for(&in, n, limit, out->data()));
      break;
    case IntEncoding::kDeltaFor: {
      if (absl::Status s = decode_for(&in, n, kNoLimit, out->data()); !s.ok()) {
        return absl::DataLossError(absl::StrCat("deltas: ", s.message()));
      }
      uint64_t acc = base;  // < 2^64: a base below 2^32 plus 1024 deltas below 2^32
      for (size_t i = 0; i < n; ++i) {
        acc += (*out)[i];
        (*out)[i] = static_cast<uint32_t>(acc);
      }
      if (base >= limit || acc >= limit) {
        return absl::DataLossError(
            absl::StrCat("block ", block, ": value ", acc, " is out of range (limit ", limit, ")"));
      }
      break;
    }
    case IntEncoding::kDictFor: {
      std::string_view h = head;
      std::vector<uint32_t> dict;
      uint64_t size;
      if (!coding::get_varint64(&h, &size) || size > h.size()) return absl::DataLossError("truncated dictionary size");
      dict.resize(size);
      uint64_t code = 0;
      for (size_t i = 0; i < size; ++i) {
        uint64_t gap;
        if (!coding::get_varint64(&h, &gap)) return absl::DataLossError("truncated dictionary");
        code += gap;
        if ((i > 0 && gap == 0) || gap >= limit || code >= limit) {
          return absl::DataLossError(absl::StrCat("dictionary entry ", i, " repeats a value or is out of range"));
        }
        dict[i] = static_cast<uint32_t>(code);
      }
      if (!h.empty()) return absl::DataLossError(absl::StrCat(h.size(), " bytes after the dictionary"));
      if (absl::Status s = decode_for(&in, n, size, out->data()); !s.ok()) {
        return absl::DataLossError(absl::StrCat("local ids: ", s.message()));
      }
      for (uint32_t& v : *out) v = dict[v];
      break;
    }
    default:
      return absl::DataLossError(absl::StrCat("unknown integer encoding ", static_cast<int>(encoding)));
  }
  if (!in.empty()) {
    return absl::DataLossError(absl::StrCat("block ", block, ": ", in.size(), " bytes after the values"));
  }
  return absl::OkStatus();
}

absl::Status decode_ints(IntEncoding encoding, std::string_view* in, size_t count, uint64_t limit,
                         std::vector<uint32_t>* out) {
  // Every block takes at least kMinBlockBytes: a corrupt row count cannot
  // make us allocate much more than the input justifies.
  if (in->size() < block_count(count) * kMinBlockBytes - (count > 0 && encoding == IntEncoding::kDeltaFor ? 1 : 0)) {
    return absl::DataLossError(
        absl::StrCat(in->size(), " bytes cannot hold ", count, " values"));
  }
  out->resize(count);
  switch (encoding) {
    case IntEncoding::kFor:
      return decode_for(in, count, limit, out->data());
    case IntEncoding::kDeltaFor:
      return decode_delta(in, count, limit, out->data());
    case IntEncoding::kDictFor:
      return decode_dict(in, count, limit, out->data());
  }
  return absl::DataLossError(absl::StrCat("unknown integer encoding ", static_cast<int>(encoding)));
}

}  // namespace usagedb::storage
