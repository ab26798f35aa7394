#include "lib/index/bitmap.h"

#include <exception>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace usagedb {

Bitmap Bitmap::from_sorted(std::span<const uint32_t> values) {
  Bitmap b;
  b.add_many(values);
  return b;
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

void Bitmap::seal() {
  roaring_.runOptimize();
  roaring_.shrinkToFit();
}

size_t Bitmap::memory_bytes() const {
  roaring_statistics_t stats;
  roaring_bitmap_statistics(&roaring_.roaring, &stats);
  // Container payloads plus the per-container bookkeeping (key, type, pointer).
  return sizeof(Roaring) + stats.n_bytes_array_containers + stats.n_bytes_run_containers +
         stats.n_bytes_bitset_containers + stats.n_containers * (sizeof(uint16_t) + 1 + sizeof(void*) + 16);
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

}  // namespace usagedb
