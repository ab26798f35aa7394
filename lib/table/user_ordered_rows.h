// UserOrderedRows: the (timestamp, feature) of every row of a part, grouped
// by user (a projection of the part in user order, as ClickHouse's
// projections keep a part's rows in a second order).
//
// A question that reads a few users' rows over many parts (the funnel's
// users its bounds leave open, feature_funnel.cc) would otherwise load each
// part whole (all columns and indexes: ~48 bytes a row) to read a few rows
// of each through the user index, and a year of 100M events does not fit a
// 1 GB cache. Here a row costs 4 bytes: its timestamp minus the part's
// first and its feature code, packed in one word, the users' rows one after
// the other in row order (so ascending timestamps), with each user's start.
// Built from a loaded part (Part::user_ordered_rows(), which keeps it in
// the PartCache's budget beside the part, after the part itself is
// evicted); null when the rows do not pack in 32 bits (a part spanning more
// than 2^(32 - feature bits) seconds: a month's part fits with up to 1024
// features).
//
//   std::unique_ptr<const UserOrderedRows> r = UserOrderedRows::build(columns);
//   for (const uint32_t v : r->rows(user)) use(r->timestamp(v), r->feature(v));
//
// Thread-safety: immutable once built.
#ifndef USAGEDB_TABLE_USER_ORDERED_ROWS_H_
#define USAGEDB_TABLE_USER_ORDERED_ROWS_H_

#include <algorithm>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

namespace usagedb {

struct PartColumns;

class UserOrderedRows {
 public:
  // Null when the rows do not pack in 32 bits (see the top) or there are
  // none. Reads the timestamp, feature and user columns alone (the
  // timestamps ascending, as a part's are).
  static std::unique_ptr<const UserOrderedRows> build(const PartColumns& columns);

  // The packed rows of `user` in row order (ascending timestamps); empty
  // when the part has none.
  std::span<const uint32_t> rows(uint32_t user) const {
    const auto it = std::lower_bound(users_.begin(), users_.end(), user);
    if (it == users_.end() || *it != user) return {};
    const auto i = static_cast<size_t>(it - users_.begin());
    return std::span<const uint32_t>(values_).subspan(starts_[i], starts_[i + 1] - starts_[i]);
  }
  uint32_t timestamp(uint32_t value) const { return base_timestamp_ + (value >> feature_bits_); }
  uint32_t feature(uint32_t value) const { return value & feature_mask_; }
  // How many rows of the part hold feature `code`.
  uint64_t feature_rows(uint32_t code) const { return code < feature_counts_.size() ? feature_counts_[code] : 0; }

  size_t rows() const { return values_.size(); }
  // Heap bytes held (and this object's).
  size_t memory_bytes() const;

 private:
  UserOrderedRows() = default;

  uint32_t base_timestamp_ = 0;
  uint32_t feature_bits_ = 0;
  uint32_t feature_mask_ = 0;
  std::vector<uint32_t> users_;           // the codes with rows, ascending
  std::vector<uint32_t> starts_;          // users_[i]'s rows: values_[starts_[i], starts_[i + 1])
  std::vector<uint32_t> values_;          // (timestamp - base) << feature_bits | feature
  std::vector<uint32_t> feature_counts_;  // by feature code
};

}  // namespace usagedb

#endif  // USAGEDB_TABLE_USER_ORDERED_ROWS_H_
