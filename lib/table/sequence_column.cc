#include "lib/table/sequence_column.h"

#include <algorithm>
#include <bit>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "lib/util/coding.h"

namespace usagedb {
namespace {

uint64_t low_mask(unsigned width) { return width >= 64 ? ~uint64_t{0} : (uint64_t{1} << width) - 1; }

// Bytes of `count` values of `width` bits.
size_t packed_bytes(size_t count, unsigned width) { return (count * width + 7) / 8; }

// The `width`-bit value that starts at bit `bit` of `words`.
uint64_t extract(const uint64_t* words, size_t bit, unsigned width) {
  const size_t w = bit >> 6;
  const unsigned shift = bit & 63;
  uint64_t v = words[w] >> shift;
  if (shift + width > 64) v |= words[w + 1] << (64 - shift);
  return v & low_mask(width);
}

}  // namespace

SequenceColumn SequenceColumn::pack(std::span<const uint64_t> values) {
  SequenceColumn c;
  c.blocks_.reserve((values.size() + kBlockRows - 1) / kBlockRows);
  for (size_t begin = 0; begin < values.size(); begin += kBlockRows) {
    c.add_block(values.subspan(begin, std::min<size_t>(kBlockRows, values.size() - begin)));
  }
  c.words_.shrink_to_fit();
  return c;
}

void SequenceColumn::add_block(std::span<const uint64_t> values) {
  const auto [lo, hi] = std::minmax_element(values.begin(), values.end());
  Block block{*lo, *hi, static_cast<uint32_t>(words_.size()), static_cast<uint8_t>(std::bit_width(*hi - *lo))};
  const size_t words = (values.size() * block.width + 63) / 64;
  words_.resize(words_.size() + words, 0);
  uint64_t* out = words_.data() + block.first_word;
  for (size_t i = 0; i < values.size() && block.width > 0; ++i) {
    const uint64_t v = values[i] - block.min;
    const size_t bit = i * block.width;
    const unsigned shift = bit & 63;
    out[bit >> 6] |= v << shift;
    if (shift + block.width > 64) out[(bit >> 6) + 1] |= v >> (64 - shift);
  }
  min_ = size_ == 0 ? block.min : std::min(min_, block.min);
  max_ = size_ == 0 ? block.max : std::max(max_, block.max);
  size_ += values.size();
  blocks_.push_back(block);
}

uint64_t SequenceColumn::at(size_t row) const {
  const Block& block = blocks_[row / kBlockRows];
  if (block.width == 0) return block.min;
  return block.min + extract(words_.data() + block.first_word, (row % kBlockRows) * block.width, block.width);
}

void SequenceColumn::unpack_block(size_t b, uint64_t* out) const {
  const Block& block = blocks_[b];
  const uint32_t n = block_rows(b);
  if (block.width == 0) {
    std::fill(out, out + n, block.min);
    return;
  }
  const uint64_t* words = words_.data() + block.first_word;
  for (uint32_t i = 0; i < n; ++i) out[i] = block.min + extract(words, size_t{i} * block.width, block.width);
}

std::optional<uint64_t> SequenceColumn::smallest_in(uint64_t after, uint64_t through) const {
  std::optional<uint64_t> best;
  if (size_ == 0 || max_ <= after || min_ > through || after >= through) return best;
  uint64_t values[kBlockRows];
  for (size_t b = 0; b < blocks_.size(); ++b) {
    const Block& block = blocks_[b];
    if (block.max <= after || block.min > through || (best && block.min >= *best)) continue;
    if (block.min > after) {  // the block's smallest value is in the range
      best = block.min;
      continue;
    }
    const uint32_t n = block_rows(b);
    unpack_block(b, values);
    for (uint32_t i = 0; i < n; ++i) {
      if (values[i] > after && values[i] <= through && (!best || values[i] < *best)) best = values[i];
    }
  }
  return best;
}

void SequenceColumn::unpack(std::vector<uint64_t>* out) const {
  out->resize(size_);
  for (size_t b = 0; b < blocks_.size(); ++b) unpack_block(b, out->data() + b * kBlockRows);
}

void SequenceColumn::encode(std::string* out) const {
  for (size_t b = 0; b < blocks_.size(); ++b) {
    const Block& block = blocks_[b];
    coding::put_varint64(out, block.min);
    out->push_back(static_cast<char>(block.width));
    const size_t bytes = packed_bytes(block_rows(b), block.width);
    const uint64_t* words = words_.data() + block.first_word;
    for (size_t i = 0; i < bytes; ++i) out->push_back(static_cast<char>(words[i / 8] >> (8 * (i % 8))));
  }
}

absl::StatusOr<SequenceColumn> SequenceColumn::decode(std::string_view* in, size_t rows) {
  SequenceColumn c;
  c.blocks_.reserve((rows + kBlockRows - 1) / kBlockRows);
  std::vector<uint64_t> values;
  for (size_t begin = 0; begin < rows; begin += kBlockRows) {
    const size_t n = std::min<size_t>(kBlockRows, rows - begin);
    uint64_t min;
    if (!coding::get_varint64(in, &min) || in->empty()) {
      return absl::InvalidArgumentError(absl::StrCat("block ", begin / kBlockRows, " truncated"));
    }
    const auto width = static_cast<unsigned char>(in->front());
    in->remove_prefix(1);
    if (width > 64) return absl::InvalidArgumentError(absl::StrCat("a width of ", width, " bits (at most 64)"));
    const size_t bytes = packed_bytes(n, width);
    if (in->size() < bytes) return absl::InvalidArgumentError(absl::StrCat("block ", begin / kBlockRows, " truncated"));
    std::vector<uint64_t> words((bytes + 7) / 8 + 1, 0);
    for (size_t i = 0; i < bytes; ++i) {
      words[i / 8] |= uint64_t{static_cast<unsigned char>((*in)[i])} << (8 * (i % 8));
    }
    in->remove_prefix(bytes);
    if (const size_t used_bits = n * width; used_bits % 8 != 0 &&
                                            (words[used_bits / 64] >> (used_bits % 64)) != 0) {
      return absl::InvalidArgumentError(absl::StrCat("block ", begin / kBlockRows, ": padding bits are not zero"));
    }
    values.resize(n);
    for (size_t i = 0; i < n; ++i) {
      const uint64_t delta = width == 0 ? 0 : extract(words.data(), i * width, width);
      if (delta > ~uint64_t{0} - min) {
        return absl::InvalidArgumentError(absl::StrCat("row ", begin + i, ": a value past 2^64 - 1"));
      }
      values[i] = min + delta;
    }
    // Re-packed, not adopted: a block's stored minimum need not be its
    // smallest value (any frame of reference decodes), and the column's
    // invariants (min, max, width) must hold for what it read.
    c.add_block(values);
  }
  c.words_.shrink_to_fit();
  return c;
}

bool operator==(const SequenceColumn& a, const SequenceColumn& b) {
  if (a.size_ != b.size_) return false;
  std::vector<uint64_t> va, vb;
  a.unpack(&va);
  b.unpack(&vb);
  return va == vb;
}

}  // namespace usagedb
