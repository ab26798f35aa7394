#include "lib/index/bitmap.h"

#include <algorithm>
#include <exception>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include <roaring/containers/containers.h>

namespace usagedb {

Bitmap Bitmap::from_sorted(std::span<const uint32_t> values) {
  Bitmap b;
  b.add_many(values);
  return b;
}

Bitmap Bitmap::from_strictly_ascending(std::span<const uint32_t> values) {
  if (values.empty()) return Bitmap();
  // CRoaring's portable format without run containers (RoaringFormatSpec):
  // cookie 12346, container count, (key, cardinality - 1) per container, a
  // byte offset per container, then each container: an array of uint16 when
  // it holds at most 4096 values, else a bitset of 1024 uint64 words.
  constexpr uint32_t kCookieNoRuns = 12346;
  constexpr size_t kMaxArray = 4096;
  struct Chunk {
    uint16_t key;
    size_t begin, end;
  };
  // Scratch reused across calls: an index build makes thousands of bitmaps.
  thread_local std::vector<Chunk> chunks;
  thread_local std::string buf;
  chunks.clear();
  for (size_t i = 0; i < values.size();) {
    const uint32_t key = values[i] >> 16;
    size_t j = i + 1;
    while (j < values.size() && (values[j] >> 16) == key) ++j;
    chunks.push_back(Chunk{static_cast<uint16_t>(key), i, j});
    i = j;
  }
  size_t size = 8 + chunks.size() * 8;
  for (const Chunk& c : chunks) size += c.end - c.begin <= kMaxArray ? 2 * (c.end - c.begin) : 8192;
  buf.assign(size, '\0');
  auto put16 = [&](size_t at, uint16_t v) {
    buf[at] = static_cast<char>(v);
    buf[at + 1] = static_cast<char>(v >> 8);
  };
  auto put32 = [&](size_t at, uint32_t v) {
    put16(at, static_cast<uint16_t>(v));
    put16(at + 2, static_cast<uint16_t>(v >> 16));
  };
  put32(0, kCookieNoRuns);
  put32(4, static_cast<uint32_t>(chunks.size()));
  size_t data = 8 + chunks.size() * 8;
  for (size_t k = 0; k < chunks.size(); ++k) {
    const Chunk& c = chunks[k];
    const size_t n = c.end - c.begin;
    put16(8 + 4 * k, c.key);
    put16(8 + 4 * k + 2, static_cast<uint16_t>(n - 1));
    put32(8 + 4 * chunks.size() + 4 * k, static_cast<uint32_t>(data));
    if (n <= kMaxArray) {
      for (size_t i = c.begin; i < c.end; ++i, data += 2) put16(data, static_cast<uint16_t>(values[i]));
    } else {
      for (size_t i = c.begin; i < c.end; ++i) {
        const uint16_t low = static_cast<uint16_t>(values[i]);
        buf[data + low / 8] = static_cast<char>(buf[data + low / 8] | (1 << (low % 8)));
      }
      data += 8192;
    }
  }
  // The bytes are well formed by construction; readSafe cannot fail on them.
  return Bitmap(Roaring::readSafe(buf.data(), buf.size()));
}

Bitmap Bitmap::from_range(uint32_t begin, uint32_t end) {
  Bitmap b;
  if (begin < end) roaring_bitmap_add_range(&b.roaring_.roaring, begin, end);
  return b;
}

uint64_t Bitmap::range_cardinality(uint32_t begin, uint32_t end) const {
  if (begin >= end) return 0;
  return roaring_bitmap_range_cardinality(&roaring_.roaring, begin, end);
}

Bitmap Bitmap::union_of(std::span<const Bitmap* const> inputs) {
  if (inputs.empty()) return Bitmap();
  if (inputs.size() == 1) return inputs[0]->copy();
  std::vector<const roaring_bitmap_t*> raw(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) raw[i] = &inputs[i]->roaring_.roaring;
  return Bitmap(Roaring(roaring_bitmap_or_many(raw.size(), raw.data())));
}

Bitmap Bitmap::union_of_ascending(std::span<const std::span<const uint32_t>> arrays) {
  uint32_t max = 0;
  size_t non_empty = 0;
  const std::span<const uint32_t>* last = nullptr;
  for (const std::span<const uint32_t>& a : arrays) {
    if (a.empty()) continue;
    max = std::max(max, a.back());
    ++non_empty;
    last = &a;
  }
  if (non_empty == 0) return Bitmap();
  if (non_empty == 1) return from_strictly_ascending(*last);
  thread_local std::vector<uint64_t> words;
  thread_local std::vector<uint32_t> values;
  words.assign(static_cast<size_t>(max / 64) + 1, 0);
  for (const std::span<const uint32_t>& a : arrays) {
    for (const uint32_t v : a) words[v >> 6] |= uint64_t{1} << (v & 63);
  }
  values.clear();
  for (size_t w = 0; w < words.size(); ++w) {
    for (uint64_t bits = words[w]; bits != 0; bits &= bits - 1) {
      values.push_back(static_cast<uint32_t>(w * 64 + static_cast<size_t>(__builtin_ctzll(bits))));
    }
  }
  return from_strictly_ascending(values);
}

void Bitmap::seal() {
  roaring_.runOptimize();
  roaring_.shrinkToFit();
}

size_t Bitmap::memory_bytes() const {
  // From the containers' headers (roaring_bitmap_statistics() also counts
  // values: a tenth of a year summary's time went there).
  const roaring_array_t& ra = roaring_.roaring.high_low_container;
  size_t n = sizeof(Roaring) + static_cast<size_t>(ra.size) * (sizeof(uint16_t) + 1 + sizeof(void*) + 16);
  for (int32_t i = 0; i < ra.size; ++i) {
    const void* c = ra.containers[i];
    uint8_t type = ra.typecodes[i];
    if (type == SHARED_CONTAINER_TYPE_CODE) {
      const auto* shared = static_cast<const shared_container_t*>(c);
      type = shared->typecode;
      c = shared->container;
    }
    switch (type) {
      case ARRAY_CONTAINER_TYPE_CODE:
        n += static_cast<size_t>(static_cast<const array_container_t*>(c)->capacity) * sizeof(uint16_t);
        break;
      case BITSET_CONTAINER_TYPE_CODE: n += (1 << 16) / 8; break;
      case RUN_CONTAINER_TYPE_CODE:
        n += static_cast<size_t>(static_cast<const run_container_t*>(c)->capacity) * sizeof(rle16_t);
        break;
      default: break;
    }
  }
  return n;
}

std::string Bitmap::serialize() const {
  std::string out(serialized_size(), '\0');
  serialize(out.data());
  return out;
}

absl::StatusOr<Bitmap> Bitmap::deserialize(std::string_view bytes) {
  // readSafe checks bounds but reports failure with an exception; the API
  // boundary of usagedb is exception-free, so convert here.
  try {
    Roaring r = Roaring::readSafe(bytes.data(), bytes.size());
    if (r.getSizeInBytes(/*portable=*/true) != bytes.size()) {
      return absl::DataLossError(
          absl::StrCat("bitmap: ", bytes.size(), " bytes given, the encoded bitmap has ",
                       r.getSizeInBytes(true)));
    }
    return Bitmap(std::move(r));
  } catch (const std::exception& e) {
    return absl::DataLossError(absl::StrCat("bitmap: not a valid portable Roaring bitmap (", e.what(), ")"));
  }
}

absl::StatusOr<uint64_t> Bitmap::validate(uint64_t limit) const {
  const roaring_array_t& ra = roaring_.roaring.high_low_container;
  uint64_t total = 0;
  uint64_t max = 0;  // the largest value so far (values ascend: the last)
  int64_t previous_key = -1;
  for (int32_t i = 0; i < ra.size; ++i) {
    const uint32_t key = ra.keys[i];
    if (key <= previous_key) return absl::DataLossError("bitmap: containers out of order");
    previous_key = key;
    const uint64_t high = uint64_t{key} << 16;
    switch (ra.typecodes[i]) {
      case ARRAY_CONTAINER_TYPE_CODE: {
        const auto* c = static_cast<const array_container_t*>(ra.containers[i]);
        const int32_t n = c->cardinality;
        if (n <= 0 || n > 65536) return absl::DataLossError(absl::StrCat("bitmap: array container of ", n, " values"));
        unsigned out_of_order = 0;
        for (int32_t j = 1; j < n; ++j) out_of_order |= c->array[j - 1] >= c->array[j];
        if (out_of_order) return absl::DataLossError("bitmap: array container values out of order");
        total += static_cast<uint64_t>(n);
        max = high | c->array[n - 1];
        break;
      }
      case BITSET_CONTAINER_TYPE_CODE: {
        const auto* c = static_cast<const bitset_container_t*>(ra.containers[i]);
        constexpr int kWords = (1 << 16) / 64;
        uint64_t count = 0;
        for (int w = 0; w < kWords; ++w) count += static_cast<uint64_t>(__builtin_popcountll(c->array[w]));
        if (count == 0 || count != static_cast<uint64_t>(c->cardinality)) {
          return absl::DataLossError(
              absl::StrCat("bitmap: bitset container claims ", c->cardinality, " values and holds ", count));
        }
        int w = kWords - 1;
        while (c->array[w] == 0) --w;
        total += count;
        max = high | static_cast<uint64_t>(w * 64 + 63 - __builtin_clzll(c->array[w]));
        break;
      }
      case RUN_CONTAINER_TYPE_CODE: {
        const auto* c = static_cast<const run_container_t*>(ra.containers[i]);
        if (c->n_runs <= 0) return absl::DataLossError("bitmap: empty run container");
        int64_t previous_end = -1;
        for (int32_t r = 0; r < c->n_runs; ++r) {
          const int64_t start = c->runs[r].value;
          const int64_t end = start + c->runs[r].length;  // inclusive
          if (start <= previous_end || end > 0xFFFF) {
            return absl::DataLossError("bitmap: run container runs out of order or past the container");
          }
          previous_end = end;
          total += static_cast<uint64_t>(end - start + 1);
        }
        max = high | static_cast<uint64_t>(previous_end);
        break;
      }
      default:
        return absl::DataLossError(absl::StrCat("bitmap: unexpected container type ", ra.typecodes[i]));
    }
  }
  if (total > 0 && max >= limit) {
    return absl::DataLossError(absl::StrCat("bitmap: value ", max, " is not below ", limit));
  }
  return total;
}

}  // namespace usagedb
