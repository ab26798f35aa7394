// Encoding of integers in bytes: the one helper every persisted or packed
// integer goes through (leveldb's util/coding.h). Little-endian fixed widths
// and LEB128 varints.
#ifndef USAGEDB_UTIL_CODING_H_
#define USAGEDB_UTIL_CODING_H_

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace usagedb::coding {

inline constexpr size_t kMaxVarint64Bytes = 10;

// Writes `v` as a varint at `out`; returns the byte after it.
inline char* encode_varint64(char* out, uint64_t v) {
  auto* p = reinterpret_cast<unsigned char*>(out);
  while (v >= 0x80) {
    *p++ = static_cast<unsigned char>(v | 0x80);
    v >>= 7;
  }
  *p++ = static_cast<unsigned char>(v);
  return reinterpret_cast<char*>(p);
}

inline size_t varint_length(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

inline void put_varint64(std::string* out, uint64_t v) {
  char buf[kMaxVarint64Bytes];
  const auto n = static_cast<size_t>(encode_varint64(buf, v) - buf);
  // Tells the optimizer what encode_varint64 guarantees: without it, g++ 12
  // warns (-Warray-bounds) that the append may read past `buf`.
  if (n > kMaxVarint64Bytes) __builtin_unreachable();
  out->append(buf, n);
}

// Reads a varint from the front of `in`, advancing it. false on truncated or
// over-long input.
inline bool get_varint64(std::string_view* in, uint64_t* v) {
  uint64_t result = 0;
  for (unsigned shift = 0, i = 0; shift <= 63 && i < in->size(); shift += 7, ++i) {
    const auto byte = static_cast<unsigned char>((*in)[i]);
    if (shift == 63 && byte > 1) return false;
    result |= static_cast<uint64_t>(byte & 0x7F) << shift;
    if (byte < 0x80) {
      in->remove_prefix(i + 1);
      *v = result;
      return true;
    }
  }
  return false;
}

// Fixed widths written into a caller's buffer (headers built in place).
inline void encode_fixed16(char* out, uint16_t v) {
  out[0] = static_cast<char>(v);
  out[1] = static_cast<char>(v >> 8);
}

inline void encode_fixed32(char* out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out[i] = static_cast<char>(v >> (8 * i));
}

inline void encode_fixed64(char* out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>(v >> (8 * i));
}

inline uint16_t decode_fixed16(const char* p) {
  return static_cast<uint16_t>(static_cast<unsigned char>(p[0]) | (static_cast<unsigned char>(p[1]) << 8));
}

inline void put_fixed32(std::string* out, uint32_t v) {
  char buf[4];
  encode_fixed32(buf, v);
  out->append(buf, 4);
}

inline void put_fixed64(std::string* out, uint64_t v) {
  char buf[8];
  encode_fixed64(buf, v);
  out->append(buf, 8);
}

inline uint32_t decode_fixed32(const char* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

inline uint64_t decode_fixed64(const char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

inline bool get_fixed32(std::string_view* in, uint32_t* v) {
  if (in->size() < 4) return false;
  *v = decode_fixed32(in->data());
  in->remove_prefix(4);
  return true;
}

inline bool get_fixed64(std::string_view* in, uint64_t* v) {
  if (in->size() < 8) return false;
  *v = decode_fixed64(in->data());
  in->remove_prefix(8);
  return true;
}

// A varint length followed by that many bytes.
inline void put_length_prefixed(std::string* out, std::string_view s) {
  put_varint64(out, s.size());
  out->append(s);
}

inline bool get_length_prefixed(std::string_view* in, std::string_view* s) {
  uint64_t n;
  if (!get_varint64(in, &n) || n > in->size()) return false;
  *s = in->substr(0, n);
  in->remove_prefix(n);
  return true;
}

}  // namespace usagedb::coding

#endif  // USAGEDB_UTIL_CODING_H_
