#include "lib/store/part_builder.h"

#include <algorithm>
#include <numeric>

#include "absl/container/flat_hash_map.h"
#include "lib/store/part_index.h"
#include "lib/util/hash.h"

namespace usagedb {
namespace {

// Rank of each code present in `codes` by its string's byte order, so rows
// sort by string without comparing strings per row.
absl::flat_hash_map<uint32_t, uint32_t> string_ranks(const std::vector<RowCodes>& rows,
                                                     uint32_t RowCodes::*column, const Dictionary& dict) {
  std::vector<uint32_t> codes;
  {
    absl::flat_hash_map<uint32_t, uint32_t> seen;
    for (const RowCodes& r : rows) {
      if (seen.emplace(r.*column, 0).second) codes.push_back(r.*column);
    }
  }
  std::sort(codes.begin(), codes.end(),
            [&](uint32_t a, uint32_t b) { return dict.lookup(a) < dict.lookup(b); });
  absl::flat_hash_map<uint32_t, uint32_t> rank;
  rank.reserve(codes.size());
  for (uint32_t i = 0; i < codes.size(); ++i) rank[codes[i]] = i;
  return rank;
}

// Hashes metadata strings with xxHash (std::hash of string_view is slower).
struct ViewHash {
  size_t operator()(std::string_view s) const { return hash::hash64(s); }
};

}  // namespace

PartBuilder::PartBuilder(size_t expected_rows) {
  rows_.reserve(expected_rows);
  event_ids_.reserve(expected_rows, expected_rows * 16);
  metadata_.reserve(expected_rows, expected_rows * 32);
}

void PartBuilder::add(const RowCodes& row, std::string_view event_id, std::string_view metadata) {
  rows_.push_back(row);
  event_ids_.add(event_id);
  metadata_.add(metadata);
}

void PartBuilder::add_part(const Part& part) {
  const PartColumns& c = part.columns();
  for (uint32_t i = 0; i < part.rows(); ++i) {
    add(RowCodes{c.timestamp[i], c.feature[i], c.version[i], c.user[i], c.event_type[i], c.session[i]},
        part.event_id(i), part.metadata(i));
  }
}

std::shared_ptr<const Part> PartBuilder::finish(uint64_t id, uint32_t month, const Dictionary& features,
                                                const Dictionary& versions) && {
  const auto feature_rank = string_ranks(rows_, &RowCodes::feature, features);
  const auto version_rank = string_ranks(rows_, &RowCodes::version, versions);

  struct Key {
    uint32_t timestamp, feature_rank, version_rank, input;
  };
  std::vector<Key> keys(rows_.size());
  for (uint32_t i = 0; i < rows_.size(); ++i) {
    keys[i] = Key{rows_[i].timestamp, feature_rank.at(rows_[i].feature), version_rank.at(rows_[i].version), i};
  }
  // Input order breaks ties, so equal keys keep their arrival order.
  std::sort(keys.begin(), keys.end(), [](const Key& a, const Key& b) {
    if (a.timestamp != b.timestamp) return a.timestamp < b.timestamp;
    if (a.feature_rank != b.feature_rank) return a.feature_rank < b.feature_rank;
    if (a.version_rank != b.version_rank) return a.version_rank < b.version_rank;
    return a.input < b.input;
  });

  const size_t n = rows_.size();
  PartColumns c;
  for (auto* column : {&c.timestamp, &c.feature, &c.version, &c.user, &c.event_type, &c.session, &c.metadata}) {
    column->resize(n);
  }
  StringColumn::Builder event_ids;
  StringColumn::Builder metadata_values;
  event_ids.reserve(n, n * 12);
  absl::flat_hash_map<std::string_view, uint32_t, ViewHash> metadata_codes;
  for (size_t out = 0; out < n; ++out) {
    const uint32_t in = keys[out].input;
    const RowCodes& r = rows_[in];
    c.timestamp[out] = r.timestamp;
    c.feature[out] = r.feature;
    c.version[out] = r.version;
    c.user[out] = r.user;
    c.event_type[out] = r.event_type;
    c.session[out] = r.session;
    event_ids.add(event_ids_.at(in));
    const std::string_view meta = metadata_.at(in);
    auto [it, inserted] = metadata_codes.emplace(meta, static_cast<uint32_t>(metadata_values.size()));
    if (inserted) metadata_values.add(meta);
    c.metadata[out] = it->second;
  }
  c.event_id = std::move(event_ids).finish();
  c.metadata_values = std::move(metadata_values).finish();

  PartIndexes indexes;
  indexes.user = build_bitmap_index(c.user);
  indexes.feature = build_bitmap_index(c.feature);
  indexes.version = build_bitmap_index(c.version);
  return std::make_shared<const Part>(id, month, std::move(c), std::move(indexes));
}

}  // namespace usagedb
