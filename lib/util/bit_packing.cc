#include "lib/util/bit_packing.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "lib/util/coding.h"

namespace usagedb::coding {
namespace {

// Eight bytes at `p` as a little-endian integer.
inline uint64_t load64(const unsigned char* p) {
  if constexpr (std::endian::native == std::endian::little) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    return v;
  } else {
    return decode_fixed64(reinterpret_cast<const char*>(p));
  }
}

// Value i at byte-by-byte speed, for the last values of a stream where an
// eight-byte load would read past its end.
inline uint32_t unpack_one_slow(const unsigned char* in, size_t bytes, size_t i, unsigned width) {
  const size_t bit = i * width;
  uint64_t word = 0;
  for (size_t b = bit / 8, k = 0; b < bytes && k < 8; ++b, ++k) word |= static_cast<uint64_t>(in[b]) << (8 * k);
  word >>= bit % 8;
  return static_cast<uint32_t>(word & ((uint64_t{1} << width) - 1));
}

// The width is a template argument so the compiler turns shifts and masks
// into constants and unrolls: this loop is most of a column's decode time.
template <unsigned W>
void unpack_fixed(const unsigned char* in, size_t count, uint32_t* out) {
  const size_t bytes = packed_size(count, W);
  constexpr uint64_t kMask = (uint64_t{1} << W) - 1;
  // Value i needs bytes [i*W/8, i*W/8 + 8) for the fast load (W <= 32 and a
  // bit offset <= 7 fit in 8 bytes).
  const size_t fast = bytes < 8 ? 0 : std::min(count, ((bytes - 8) * 8) / W + 1);
  size_t i = 0;
  for (; i < fast; ++i) {
    const size_t bit = i * W;
    out[i] = static_cast<uint32_t>((load64(in + bit / 8) >> (bit % 8)) & kMask);
  }
  for (; i < count; ++i) out[i] = unpack_one_slow(in, bytes, i, W);
}

template <size_t... Ws>
void unpack_dispatch(const unsigned char* in, size_t count, unsigned width, uint32_t* out,
                     std::index_sequence<Ws...>) {
  using Fn = void (*)(const unsigned char*, size_t, uint32_t*);
  static constexpr Fn kTable[] = {&unpack_fixed<Ws + 1>...};
  kTable[width - 1](in, count, out);
}

}  // namespace

void pack_bits(std::span<const uint32_t> values, unsigned width, std::string* out) {
  if (width == 0 || values.empty()) return;
  const size_t start = out->size();
  out->resize(start + packed_size(values.size(), width));
  auto* p = reinterpret_cast<unsigned char*>(out->data() + start);
  // Whole 32-bit words while there are (one store, no loop per byte);
  // bits < 32 before each value and width <= 32, so acc never overflows.
  uint64_t acc = 0;
  unsigned bits = 0;
  for (const uint32_t v : values) {
    acc |= static_cast<uint64_t>(v) << bits;
    bits += width;
    if (bits >= 32) {
      p[0] = static_cast<unsigned char>(acc);
      p[1] = static_cast<unsigned char>(acc >> 8);
      p[2] = static_cast<unsigned char>(acc >> 16);
      p[3] = static_cast<unsigned char>(acc >> 24);
      p += 4;
      acc >>= 32;
      bits -= 32;
    }
  }
  for (; bits > 0; bits = bits > 8 ? bits - 8 : 0) {
    *p++ = static_cast<unsigned char>(acc);
    acc >>= 8;
  }
}

void unpack_bits(const char* in, size_t count, unsigned width, uint32_t* out) {
  if (count == 0) return;  // `out` may be null then
  if (width == 0) {
    std::memset(out, 0, count * sizeof(uint32_t));
    return;
  }
  unpack_dispatch(reinterpret_cast<const unsigned char*>(in), count, width, out,
                  std::make_index_sequence<kMaxBitWidth>());
}

}  // namespace usagedb::coding
