#include "lib/index/posting_index.h"

#include <algorithm>
#include <utility>

#include "absl/container/flat_hash_map.h"

namespace usagedb {
namespace {

// The dense layout for `entries` values spanning `span` codes: at most about
// twice the sparse layout's bytes (4 per code against 8 per value), for
// look-ups without a search.
bool dense_is_better(uint64_t span, size_t entries) { return span <= 4 * uint64_t{entries} + 1024; }

}  // namespace

void PostingIndex::Builder::reserve(size_t entries, size_t rows) {
  codes_.reserve(entries);
  starts_.reserve(entries + 1);
  rows_.reserve(rows);
}

void PostingIndex::Builder::add(uint32_t code, std::span<const uint32_t> rows) {
  codes_.push_back(code);
  rows_.insert(rows_.end(), rows.begin(), rows.end());
  starts_.push_back(static_cast<uint32_t>(rows_.size()));
  has_empty_ |= rows.empty();
}

void PostingIndex::Builder::add(uint32_t code, const Bitmap& rows) {
  codes_.push_back(code);
  rows.for_each_batch([&](std::span<const uint32_t> batch) { rows_.insert(rows_.end(), batch.begin(), batch.end()); });
  starts_.push_back(static_cast<uint32_t>(rows_.size()));
  has_empty_ |= rows.empty();
}

PostingIndex PostingIndex::Builder::finish() && {
  PostingIndex x;
  x.entries_ = codes_.size();
  x.rows_ = std::move(rows_);
  if (codes_.empty()) return x;
  const uint32_t lo = codes_.front();
  const uint64_t span = uint64_t{codes_.back()} - lo + 1;
  if (has_empty_ || !dense_is_better(span, codes_.size())) {
    x.codes_ = std::move(codes_);
    x.starts_ = std::move(starts_);
    return x;
  }
  // Dense: code lo + i starts at starts[i] and ends where the next code starts.
  x.lo_ = lo;
  x.starts_.resize(span + 1);
  size_t k = 0;
  for (uint64_t i = 0; i < span; ++i) {
    x.starts_[i] = starts_[k];
    if (k < codes_.size() && codes_[k] == lo + i) ++k;
  }
  x.starts_[span] = starts_.back();
  return x;
}

PostingIndex PostingIndex::build(std::span<const uint32_t> column) {
  PostingIndex x;
  if (column.empty()) return x;
  const auto [lo_it, hi_it] = std::minmax_element(column.begin(), column.end());
  const uint32_t lo = *lo_it;
  const uint64_t span = uint64_t{*hi_it} - lo + 1;
  x.rows_.resize(column.size());
  if (span <= 2 * uint64_t{column.size()} + 65536) {
    // cursor[i]: first the rows of code lo + i, then where its next row goes.
    std::vector<uint32_t> cursor(span, 0);
    for (const uint32_t v : column) ++cursor[v - lo];
    size_t entries = 0;
    for (const uint32_t count : cursor) entries += count != 0;
    x.entries_ = entries;
    uint32_t start = 0;
    if (dense_is_better(span, entries)) {
      x.lo_ = lo;
      x.starts_.resize(span + 1);
      for (uint64_t i = 0; i < span; ++i) {
        x.starts_[i] = start;
        start += std::exchange(cursor[i], start);
      }
      x.starts_[span] = start;
    } else {
      x.codes_.reserve(entries);
      x.starts_.reserve(entries + 1);
      for (uint64_t i = 0; i < span; ++i) {
        if (cursor[i] == 0) continue;
        x.codes_.push_back(static_cast<uint32_t>(lo + i));
        x.starts_.push_back(start);
        start += std::exchange(cursor[i], start);
      }
      x.starts_.push_back(start);
    }
    for (uint32_t row = 0; row < column.size(); ++row) x.rows_[cursor[column[row] - lo]++] = row;
    return x;
  }
  // Codes spread too thin for an array over their range: count by hash.
  absl::flat_hash_map<uint32_t, uint32_t> cursor;
  for (const uint32_t v : column) ++cursor[v];
  x.codes_.reserve(cursor.size());
  for (const auto& [code, count] : cursor) x.codes_.push_back(code);
  std::sort(x.codes_.begin(), x.codes_.end());
  x.entries_ = x.codes_.size();
  x.starts_.reserve(x.codes_.size() + 1);
  uint32_t start = 0;
  for (const uint32_t code : x.codes_) {
    x.starts_.push_back(start);
    start += std::exchange(cursor[code], start);
  }
  x.starts_.push_back(start);
  for (uint32_t row = 0; row < column.size(); ++row) x.rows_[cursor[column[row]]++] = row;
  return x;
}

size_t PostingIndex::sparse_find(uint32_t code) const {
  const auto it = std::lower_bound(codes_.begin(), codes_.end(), code);
  return it != codes_.end() && *it == code ? static_cast<size_t>(it - codes_.begin()) : codes_.size();
}

}  // namespace usagedb
