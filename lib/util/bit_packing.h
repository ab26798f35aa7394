// Bit packing of unsigned 32-bit integers: `count` values of `width` bits
// each (0..32), stored LSB-first in a little-endian bit stream, so value i
// occupies bits [i*width, (i+1)*width) and bit k is bit k%8 of byte k/8.
// The packed half of lib/util/coding.h, for columns of small integers.
//
//   std::string out;
//   coding::pack_bits(values, coding::bit_width_of(max), &out);
//   coding::unpack_bits(out.data(), values.size(), width, decoded.data());
//
// Pure functions, thread-safe.
#ifndef USAGEDB_UTIL_BIT_PACKING_H_
#define USAGEDB_UTIL_BIT_PACKING_H_

#include <bit>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace usagedb::coding {

inline constexpr unsigned kMaxBitWidth = 32;

// Bits needed to hold `max` (0 for 0).
inline unsigned bit_width_of(uint32_t max) { return static_cast<unsigned>(std::bit_width(max)); }

// Bytes taken by `count` values of `width` bits.
inline constexpr size_t packed_size(size_t count, unsigned width) { return (count * width + 7) / 8; }

// Appends packed_size(values.size(), width) bytes to `out`.
// REQUIRES: width <= 32, every value < 2^width.
void pack_bits(std::span<const uint32_t> values, unsigned width, std::string* out);

// Reads `count` values of `width` bits from `in` into `out`. Reads exactly
// packed_size(count, width) bytes of `in` and nothing past them.
// REQUIRES: width <= 32.
void unpack_bits(const char* in, size_t count, unsigned width, uint32_t* out);

}  // namespace usagedb::coding

#endif  // USAGEDB_UTIL_BIT_PACKING_H_
