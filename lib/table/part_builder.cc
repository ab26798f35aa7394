#include "lib/table/part_builder.h"

#include <algorithm>
#include <bit>
#include <numeric>

#include "absl/container/flat_hash_map.h"
#include "lib/table/part_index.h"
#include "lib/table/string_rank.h"
#include "lib/util/hash.h"
#include "lib/util/radix_sort.h"

namespace usagedb {
namespace {

// The rank of each code of `column` among the rows, by its string's byte
// order, so rows sort by string without comparing strings per row.
StringRank string_ranks(const std::vector<RowCodes>& rows, uint32_t RowCodes::*column, const Dictionary& dict) {
  std::vector<uint32_t> codes(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) codes[i] = rows[i].*column;
  return StringRank(dict, std::move(codes));
}

// Hashes metadata strings with xxHash (std::hash of string_view is slower).
struct ViewHash {
  size_t operator()(std::string_view s) const { return hash::hash64(s); }
};

// The part of sorted columns `c`, given its rows' sequence numbers and
// strings apart, with its indexes built.
std::shared_ptr<const Part> make_part(uint64_t id, uint32_t month, PartColumns c, std::span<const uint64_t> sequences,
                                      StringColumn::Builder event_ids, StringColumn::Builder metadata_values) {
  c.event_id = std::move(event_ids).finish();
  c.metadata_values = std::move(metadata_values).finish();
  c.sequence = SequenceColumn::pack(sequences);
  PartIndexes indexes = build_part_indexes(c);
  return std::make_shared<const Part>(id, month, std::move(c), std::move(indexes));
}

}  // namespace

PartBuilder::PartBuilder(size_t expected_rows) : expected_rows_(expected_rows) {
  rows_.reserve(expected_rows);
  sequences_.reserve(expected_rows);
}

void PartBuilder::add(const RowCodes& row, uint64_t sequence, std::string_view event_id, std::string_view metadata) {
  if (segments_.empty() || segments_.back().part != nullptr || segments_.back().buffer != nullptr) {
    if (event_ids_.size() == 0) {
      event_ids_.reserve(expected_rows_, expected_rows_ * 16);
      metadata_.reserve(expected_rows_, expected_rows_ * 32);
    }
    segments_.push_back(Segment{nullptr, nullptr, event_ids_.size(), 0});
  }
  rows_.push_back(row);
  sequences_.push_back(sequence);
  event_ids_.add(event_id);
  metadata_.add(metadata);
  ++segments_.back().rows;
}

void PartBuilder::add_part(const Part& part) {
  const PartColumns& c = part.columns();
  for (uint32_t i = 0; i < part.rows(); ++i) {
    rows_.push_back(RowCodes{c.timestamp[i], c.feature[i], c.version[i], c.user[i], c.event_type[i], c.session[i]});
  }
  const size_t first = sequences_.size();
  sequences_.resize(first + part.rows());
  std::vector<uint64_t> sequences;
  c.sequence.unpack(&sequences);
  std::copy(sequences.begin(), sequences.end(), sequences_.begin() + static_cast<std::ptrdiff_t>(first));
  segments_.push_back(Segment{&part, nullptr, 0, part.rows()});
}

void PartBuilder::add_buffer(const AppendBuffer& buffer, uint32_t rows) {
  buffer.for_each_chunk(rows, [&](std::span<const RowCodes> chunk) { rows_.insert(rows_.end(), chunk.begin(), chunk.end()); });
  for (uint32_t i = 0; i < rows; ++i) sequences_.push_back(buffer.sequence(i));
  segments_.push_back(Segment{nullptr, &buffer, 0, rows});
}

std::shared_ptr<const Part> PartBuilder::finish(uint64_t id, uint32_t month, const Dictionary& features,
                                                const Dictionary& versions) && {
  const size_t n = rows_.size();

  // Each input row's event_id, and its metadata as an index into `values`
  // (the distinct strings, in first-seen input order).
  std::vector<std::string_view> ids(n);
  std::vector<uint32_t> metadata(n);
  std::vector<std::string_view> values;
  {
    absl::flat_hash_map<std::string_view, uint32_t, ViewHash> value_index;
    const auto index_of = [&](std::string_view s) {
      auto [it, inserted] = value_index.emplace(s, static_cast<uint32_t>(values.size()));
      if (inserted) values.push_back(s);
      return it->second;
    };
    size_t row = 0;
    for (const Segment& seg : segments_) {
      if (seg.part != nullptr) {
        const PartColumns& c = seg.part->columns();
        std::vector<uint32_t> mapped(c.metadata_values.size());
        for (size_t v = 0; v < mapped.size(); ++v) mapped[v] = index_of(c.metadata_values.at(v));
        for (size_t i = 0; i < seg.rows; ++i, ++row) {
          ids[row] = c.event_id.at(i);
          metadata[row] = mapped[c.metadata[i]];
        }
      } else if (seg.buffer != nullptr) {
        const AppendBuffer& b = *seg.buffer;
        std::vector<uint32_t> mapped(b.metadata_values());
        for (uint32_t v = 0; v < mapped.size(); ++v) mapped[v] = index_of(b.metadata_value(v));
        for (uint32_t i = 0; i < seg.rows; ++i, ++row) {
          ids[row] = b.event_id(i);
          metadata[row] = mapped[b.metadata_code(i)];
        }
      } else {
        for (size_t i = seg.first; i < seg.first + seg.rows; ++i, ++row) {
          ids[row] = event_ids_.at(i);
          metadata[row] = index_of(metadata_.at(i));
        }
      }
    }
  }

  const StringRank feature_rank = string_ranks(rows_, &RowCodes::feature, features);
  const StringRank version_rank = string_ranks(rows_, &RowCodes::version, versions);
  struct Key {
    uint32_t timestamp, feature_rank, version_rank, input;
  };
  std::vector<Key> keys(n);
  for (uint32_t i = 0; i < n; ++i) {
    keys[i] = Key{rows_[i].timestamp, feature_rank(rows_[i].feature), version_rank(rows_[i].version), i};
  }
  // Input order breaks ties, so equal keys keep their arrival order.
  const auto less = [](const Key& a, const Key& b) {
    if (a.timestamp != b.timestamp) return a.timestamp < b.timestamp;
    if (a.feature_rank != b.feature_rank) return a.feature_rank < b.feature_rank;
    if (a.version_rank != b.version_rank) return a.version_rank < b.version_rank;
    return a.input < b.input;
  };
  // Sorts `keys` as `less` does when each key fits one integer, as a rule:
  // a part's seconds span at most a month (22 bits), its ranks count
  // distinct features and versions, and the input row needs log2(rows)
  // bits, rounded up to whole bytes. A radix sort takes a few counting
  // passes instead of ~log2(n) comparisons of four fields per key; the
  // input row's bytes are in order already and take none (4 passes for a
  // 1M-row month, not 7). false, keys untouched, when they do not fit.
  const auto radix_sort_keys = [&] {
    uint32_t min_time = UINT32_MAX, max_time = 0, max_feature = 0, max_version = 0;
    for (const Key& k : keys) {
      min_time = std::min(min_time, k.timestamp);
      max_time = std::max(max_time, k.timestamp);
      max_feature = std::max(max_feature, k.feature_rank);
      max_version = std::max(max_version, k.version_rank);
    }
    const int input_bits = (std::bit_width(n) + 7) / 8 * 8;
    const int version_bits = std::bit_width(max_version);
    const int feature_bits = std::bit_width(max_feature);
    const int time_bits = n == 0 ? 0 : std::bit_width(max_time - min_time);
    if (input_bits + version_bits + feature_bits + time_bits > 64) return false;
    std::vector<uint64_t> packed(n), scratch;
    for (size_t i = 0; i < n; ++i) {
      const Key& k = keys[i];
      packed[i] = (((static_cast<uint64_t>(k.timestamp - min_time) << feature_bits | k.feature_rank) << version_bits |
                    k.version_rank)
                   << input_bits) |
                  k.input;
    }
    radix_sort(std::span<uint64_t>(packed), scratch, /*sorted_low_bytes=*/input_bits / 8);
    const uint64_t input_mask = (uint64_t{1} << input_bits) - 1;
    std::vector<Key> sorted(n);
    for (size_t i = 0; i < n; ++i) sorted[i] = keys[packed[i] & input_mask];
    keys = std::move(sorted);
    return true;
  };
  // Rows often arrive in time order (an export sorted by time, a log that
  // never runs late): then only the rows of one second may be out of order,
  // and sorting each second's rows sorts them all.
  const bool time_ordered =
      std::is_sorted(keys.begin(), keys.end(), [](const Key& a, const Key& b) { return a.timestamp < b.timestamp; });
  if (time_ordered) {
    for (size_t i = 0; i < n;) {
      size_t j = i + 1;
      while (j < n && keys[j].timestamp == keys[i].timestamp) ++j;
      if (j - i > 1) {
        std::sort(keys.begin() + static_cast<std::ptrdiff_t>(i), keys.begin() + static_cast<std::ptrdiff_t>(j), less);
      }
      i = j;
    }
  } else if (!radix_sort_keys()) {
    std::sort(keys.begin(), keys.end(), less);
  }

  PartColumns c;
  for (auto* column : {&c.timestamp, &c.feature, &c.version, &c.user, &c.event_type, &c.session, &c.metadata}) {
    column->resize(n);
  }
  std::vector<uint64_t> sequences(n);
  size_t id_bytes = 0;
  for (const std::string_view id : ids) id_bytes += id.size();
  StringColumn::Builder event_ids;
  event_ids.reserve(n, id_bytes);
  // The part's metadata values in order of first use by its sorted rows.
  constexpr uint32_t kUnused = UINT32_MAX;
  std::vector<uint32_t> value_code(values.size(), kUnused);
  StringColumn::Builder metadata_values;
  for (size_t out = 0; out < n; ++out) {
    const uint32_t in = keys[out].input;
    const RowCodes& r = rows_[in];
    c.timestamp[out] = r.timestamp;
    c.feature[out] = r.feature;
    c.version[out] = r.version;
    c.user[out] = r.user;
    c.event_type[out] = r.event_type;
    c.session[out] = r.session;
    sequences[out] = sequences_[in];
    event_ids.add(ids[in]);
    uint32_t& code = value_code[metadata[in]];
    if (code == kUnused) {
      code = static_cast<uint32_t>(metadata_values.size());
      metadata_values.add(values[metadata[in]]);
    }
    c.metadata[out] = code;
  }
  return make_part(id, month, std::move(c), sequences, std::move(event_ids), std::move(metadata_values));
}

std::shared_ptr<const Part> PartBuilder::merge(std::span<const Part* const> parts, uint64_t id, uint32_t month,
                                               const Dictionary& features, const Dictionary& versions) {
  // The ranks of every feature and version code of the inputs (their bitmap
  // indexes list them): a part's rows are sorted by these ranks already.
  std::vector<uint32_t> feature_codes, version_codes;
  size_t n = 0, id_bytes = 0;
  for (const Part* part : parts) {
    for (const auto& [code, rows] : part->indexes().feature) feature_codes.push_back(code);
    for (const auto& [code, rows] : part->indexes().version) version_codes.push_back(code);
    n += part->rows();
    id_bytes += part->columns().event_id.bytes().size();
  }
  // The ranks must fit 16 bits each for the packed key below; else (never
  // in practice: 65,536 distinct features in a month) they compare apart.
  const bool packed = std::max(feature_codes.size(), version_codes.size()) <= (size_t{1} << 16);
  const StringRank feature_rank(features, std::move(feature_codes));
  const StringRank version_rank(versions, std::move(version_codes));

  // One cursor per input, with the sort key of its next row. Equal keys
  // take the earlier input first: the order finish() gives the inputs'
  // rows (input order breaks its ties).
  struct Cursor {
    const PartColumns* c;
    size_t row = 0, rows = 0;
    uint64_t key = 0;  // (timestamp, feature rank, version rank) when row < rows
    std::vector<uint32_t> value_of;  // its metadata code -> index into `values`
    std::vector<uint64_t> sequences;  // its sequence numbers, unpacked
  };
  const auto key_of = [&](const Cursor& k) {
    const PartColumns& c = *k.c;
    return (uint64_t{c.timestamp[k.row]} << 32) | (uint64_t{feature_rank(c.feature[k.row])} << 16) |
           version_rank(c.version[k.row]);
  };
  std::vector<std::string_view> values;  // distinct metadata strings, first-seen order
  absl::flat_hash_map<std::string_view, uint32_t, ViewHash> value_index;
  std::vector<Cursor> cursors;
  for (const Part* part : parts) {
    Cursor k{&part->columns(), 0, part->rows()};
    if (k.rows == 0) continue;
    const StringColumn& part_values = k.c->metadata_values;
    k.value_of.resize(part_values.size());
    for (size_t v = 0; v < part_values.size(); ++v) {
      auto [it, inserted] = value_index.emplace(part_values.at(v), static_cast<uint32_t>(values.size()));
      if (inserted) values.push_back(part_values.at(v));
      k.value_of[v] = it->second;
    }
    k.c->sequence.unpack(&k.sequences);
    k.key = key_of(k);
    cursors.push_back(std::move(k));
  }
  const auto before = [&](const Cursor& a, const Cursor& b) {
    if (packed) return a.key < b.key;
    const PartColumns &x = *a.c, &y = *b.c;
    if (x.timestamp[a.row] != y.timestamp[b.row]) return x.timestamp[a.row] < y.timestamp[b.row];
    const uint32_t fa = feature_rank(x.feature[a.row]), fb = feature_rank(y.feature[b.row]);
    if (fa != fb) return fa < fb;
    return version_rank(x.version[a.row]) < version_rank(y.version[b.row]);
  };

  PartColumns c;
  for (auto* column : {&c.timestamp, &c.feature, &c.version, &c.user, &c.event_type, &c.session, &c.metadata}) {
    column->resize(n);
  }
  std::vector<uint64_t> sequences(n);
  StringColumn::Builder event_ids;
  event_ids.reserve(n, id_bytes);
  constexpr uint32_t kUnused = UINT32_MAX;
  std::vector<uint32_t> value_code(values.size(), kUnused);
  StringColumn::Builder metadata_values;
  size_t out = 0;
  while (!cursors.empty()) {
    // The input whose next row comes first (few inputs: a scan), then its
    // rows up to the next input's head, copied without comparing again.
    size_t best = 0;
    for (size_t k = 1; k < cursors.size(); ++k) {
      if (before(cursors[k], cursors[best])) best = k;
    }
    Cursor& k = cursors[best];
    const PartColumns& in = *k.c;
    // The other input whose next row comes first.
    size_t next = cursors.size();
    for (size_t j = 0; j < cursors.size(); ++j) {
      if (j != best && (next == cursors.size() || before(cursors[j], cursors[next]))) next = j;
    }
    size_t end = k.row + 1;
    if (next == cursors.size()) {
      end = k.rows;
    } else {
      // The rows of `k` that come before `next`'s: with equal keys too when
      // `k` is the earlier input.
      const bool earlier = best < next;
      for (Cursor probe{k.c, end, k.rows}; end < k.rows; probe.row = ++end) {
        if (packed) probe.key = key_of(probe);
        if (earlier ? before(cursors[next], probe) : !before(probe, cursors[next])) break;
      }
    }
    for (size_t i = k.row; i < end; ++i, ++out) {
      c.timestamp[out] = in.timestamp[i];
      c.feature[out] = in.feature[i];
      c.version[out] = in.version[i];
      c.user[out] = in.user[i];
      c.event_type[out] = in.event_type[i];
      c.session[out] = in.session[i];
      sequences[out] = k.sequences[i];
      event_ids.add(in.event_id.at(i));
      uint32_t& code = value_code[k.value_of[in.metadata[i]]];
      if (code == kUnused) {
        code = static_cast<uint32_t>(metadata_values.size());
        metadata_values.add(values[k.value_of[in.metadata[i]]]);
      }
      c.metadata[out] = code;
    }
    k.row = end;
    if (k.row == k.rows) {
      cursors.erase(cursors.begin() + static_cast<std::ptrdiff_t>(best));
    } else {
      k.key = key_of(k);
    }
  }
  return make_part(id, month, std::move(c), sequences, std::move(event_ids), std::move(metadata_values));
}

}  // namespace usagedb
