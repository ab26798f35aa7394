// Bitmap: a compressed set of 32-bit row positions or dictionary codes.
//
// The one header that wraps CRoaring's ::Roaring, so an upgrade touches only
// this file and bitmap.cc. Bitmaps index a part's rows by user, feature and
// version; seal() (runOptimize + shrinkToFit) is called once a part's index
// is complete.
//
//   Bitmap rows;
//   rows.add(7);
//   rows.for_each([&](uint32_t row) { ... });   // ascending
//
// Thread-safety: const methods may be called concurrently; mutation needs
// exclusive access.
#ifndef USAGEDB_INDEX_BITMAP_H_
#define USAGEDB_INDEX_BITMAP_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include <roaring/roaring.hh>

namespace usagedb {

class Bitmap {
 public:
  Bitmap() = default;
  Bitmap(Bitmap&&) noexcept = default;
  Bitmap& operator=(Bitmap&&) noexcept = default;
  // Copies are explicit (they allocate): use copy().
  Bitmap copy() const { return Bitmap(roaring_); }

  // REQUIRES: `values` ascending (duplicates allowed).
  static Bitmap from_sorted(std::span<const uint32_t> values);
  // The same as from_sorted() for strictly ascending values, several times
  // faster: builds each container once at its final size (through the
  // portable format) instead of growing it value by value.
  // REQUIRES: `values` strictly ascending.
  static Bitmap from_strictly_ascending(std::span<const uint32_t> values);
  // Every value in [begin, end).
  static Bitmap from_range(uint32_t begin, uint32_t end);

  void add(uint32_t value) { roaring_.add(value); }
  void add_many(std::span<const uint32_t> values) { roaring_.addMany(values.size(), values.data()); }
  void remove(uint32_t value) { roaring_.remove(value); }

  bool contains(uint32_t value) const { return roaring_.contains(value); }
  bool empty() const { return roaring_.isEmpty(); }
  uint64_t cardinality() const { return roaring_.cardinality(); }
  // Values in [begin, end).
  uint64_t range_cardinality(uint32_t begin, uint32_t end) const;
  uint64_t and_cardinality(const Bitmap& other) const { return roaring_.and_cardinality(other.roaring_); }
  // |this ∪ other|, without making the union.
  uint64_t or_cardinality(const Bitmap& other) const { return roaring_.or_cardinality(other.roaring_); }
  uint32_t minimum() const { return roaring_.minimum(); }  // REQUIRES: !empty()
  uint32_t maximum() const { return roaring_.maximum(); }  // REQUIRES: !empty()

  // this &= other; this |= other; this -= other.
  void intersect_with(const Bitmap& other) { roaring_ &= other.roaring_; }
  void union_with(const Bitmap& other) { roaring_ |= other.roaring_; }
  void subtract(const Bitmap& other) { roaring_ -= other.roaring_; }
  static Bitmap intersection(const Bitmap& a, const Bitmap& b) { return Bitmap(a.roaring_ & b.roaring_); }
  // The union of many bitmaps at once (CRoaring's fastunion).
  static Bitmap union_of(std::span<const Bitmap* const> inputs);
  // The union of many strictly ascending arrays (a rollup's per-feature user
  // lists), made by marking every value in a bit vector as wide as the
  // largest one: O(values + largest / 64), whatever the overlap.
  static Bitmap union_of_ascending(std::span<const std::span<const uint32_t>> arrays);

  // Compresses runs and releases spare capacity: call when done adding.
  void seal();

  // Calls f(uint32_t) for each value in ascending order.
  template <typename F>
  void for_each(F&& f) const {
    for_each_batch([&](std::span<const uint32_t> batch) {
      for (const uint32_t v : batch) f(v);
    });
  }
  // Calls f(std::span<const uint32_t>) with consecutive ascending batches.
  template <typename F>
  void for_each_batch(F&& f) const {
    roaring_uint32_iterator_t it;
    roaring_init_iterator(&roaring_.roaring, &it);
    uint32_t buf[256];
    while (uint32_t n = roaring_read_uint32_iterator(&it, buf, 256)) {
      f(std::span<const uint32_t>(buf, n));
    }
  }

  // Heap bytes held (approximate, for statistics).
  size_t memory_bytes() const;

  // CRoaring's portable format (interoperable with Java/Go Roaring).
  size_t serialized_size() const { return roaring_.getSizeInBytes(/*portable=*/true); }
  // REQUIRES: `out` has serialized_size() bytes.
  void serialize(char* out) const { roaring_.write(out, /*portable=*/true); }
  std::string serialize() const;
  // Reads a portable bitmap from untrusted bytes (readSafe: never reads past
  // `bytes`). DataLossError when the bytes are not a valid bitmap. Call
  // validate() before trusting the values: readSafe checks bounds, not
  // container contents.
  static absl::StatusOr<Bitmap> deserialize(std::string_view bytes);

  // Checks what CRoaring 0.2.66's readSafe leaves unchecked, walking the
  // containers (no iterator, nothing copied): container keys strictly
  // ascending, every container non-empty, an array's values strictly
  // ascending, a bitset's stored cardinality exact, a run inside its
  // container and after the previous one; and every value below `limit`.
  // Then cardinality() is exact, and every value the bitmap yields is
  // distinct and in [0, limit). Returns the cardinality, or a DataLossError
  // naming the first fault. O(values of array containers + containers).
  absl::StatusOr<uint64_t> validate(uint64_t limit) const;

  friend bool operator==(const Bitmap& a, const Bitmap& b) { return a.roaring_ == b.roaring_; }

 private:
  explicit Bitmap(const Roaring& r) : roaring_(r) {}
  explicit Bitmap(Roaring&& r) : roaring_(std::move(r)) {}
  Roaring roaring_;
};

}  // namespace usagedb

#endif  // USAGEDB_INDEX_BITMAP_H_
