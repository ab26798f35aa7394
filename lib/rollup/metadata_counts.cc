#include "lib/rollup/metadata_counts.h"

#include <algorithm>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "lib/util/radix_sort.h"

namespace usagedb {

namespace {

// The section of rows that all have metadata `value`, from their month
// timeline (one cell per feature: its events and distinct users) and
// their distinct users.
MetadataCounts of_one_value(std::string_view value, uint64_t rows, const TimelineLevel& month,
                            std::span<const uint32_t> users) {
  MetadataCounts m;
  m.values.emplace_back(value);
  m.cells.reserve(month.cells.size());
  for (const TimelineCell& c : month.cells) {
    MetadataCell cell{0, c.feature, c.events, Bitmap::from_strictly_ascending(month.users(c))};
    cell.users.seal();
    m.cells.push_back(std::move(cell));
  }
  MetadataCell total{0, 0, rows, Bitmap::from_strictly_ascending(users)};
  total.users.seal();
  m.totals.push_back(std::move(total));
  return m;
}

}  // namespace

std::optional<MetadataCounts> MetadataCounts::build(std::span<const std::shared_ptr<const Part>> parts,
                                                    const TimelineLevel* month, std::span<const uint32_t> month_users) {
  if (month != nullptr && !parts.empty()) {
    // Each part's strings are those of its rows: one string in every part,
    // the same, is every row's.
    const std::string_view first =
        parts[0]->columns().metadata_values.size() == 1 ? parts[0]->columns().metadata_values.at(0) : "";
    bool one_value = true;
    uint64_t rows = 0;
    for (const auto& part : parts) {
      const StringColumn& values = part->columns().metadata_values;
      one_value = one_value && values.size() == 1 && values.at(0) == first;
      rows += part->rows();
    }
    if (one_value) return of_one_value(first, rows, *month, month_users);
  }
  MetadataCounts m;
  // The distinct strings across the parts (views of the parts' own), and
  // for each the rows' (feature << 32 | user) pairs.
  absl::flat_hash_map<std::string_view, uint32_t> index;
  std::vector<std::vector<uint64_t>> pairs;
  for (const auto& part : parts) {
    const PartColumns& c = part->columns();
    std::vector<uint32_t> value_of(c.metadata_values.size());
    for (size_t code = 0; code < value_of.size(); ++code) {
      const std::string_view s = c.metadata_values.at(code);
      auto [it, inserted] = index.try_emplace(s, static_cast<uint32_t>(m.values.size()));
      if (inserted) {
        if (m.values.size() == kMaxValues) return std::nullopt;
        m.values.emplace_back(s);
        pairs.emplace_back();
      }
      value_of[code] = it->second;
    }
    for (uint32_t row = 0; row < part->rows(); ++row) {
      pairs[value_of[c.metadata[row]]].push_back((static_cast<uint64_t>(c.feature[row]) << 32) | c.user[row]);
    }
  }
  // The strings in byte order, whatever the parts' order.
  std::vector<uint32_t> order(m.values.size());
  for (uint32_t v = 0; v < order.size(); ++v) order[v] = v;
  std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) { return m.values[a] < m.values[b]; });
  std::vector<std::string> sorted;
  sorted.reserve(order.size());
  for (const uint32_t v : order) sorted.push_back(std::move(m.values[v]));
  m.values = std::move(sorted);
  std::vector<uint64_t> scratch;
  std::vector<uint32_t> users, user_scratch;
  for (uint32_t v = 0; v < order.size(); ++v) {
    std::vector<uint64_t>& p = pairs[order[v]];
    radix_sort(std::span<uint64_t>(p), scratch);
    users.clear();
    for (size_t i = 0; i < p.size();) {
      const auto feature = static_cast<uint32_t>(p[i] >> 32);
      const size_t first = i;
      const size_t begin = users.size();
      for (; i < p.size() && (p[i] >> 32) == feature; ++i) {
        const auto user = static_cast<uint32_t>(p[i]);
        if (users.size() == begin || users.back() != user) users.push_back(user);
      }
      MetadataCell cell{v, feature, i - first, Bitmap::from_strictly_ascending(std::span<const uint32_t>(users).subspan(begin))};
      cell.users.seal();
      m.cells.push_back(std::move(cell));
    }
    radix_sort(std::span<uint32_t>(users), user_scratch);
    users.erase(std::unique(users.begin(), users.end()), users.end());
    MetadataCell total{v, 0, p.size(), Bitmap::from_strictly_ascending(users)};
    total.users.seal();
    m.totals.push_back(std::move(total));
    std::vector<uint64_t>().swap(p);
  }
  return m;
}

std::span<const MetadataCell> MetadataCounts::cells_of(uint32_t value) const {
  const auto lo = std::lower_bound(cells.begin(), cells.end(), value,
                                   [](const MetadataCell& c, uint32_t v) { return c.value < v; });
  const auto hi = std::upper_bound(lo, cells.end(), value, [](uint32_t v, const MetadataCell& c) { return v < c.value; });
  return std::span<const MetadataCell>(lo, hi);
}

size_t MetadataCounts::memory_bytes() const {
  size_t n = values.capacity() * sizeof(std::string) + (cells.capacity() + totals.capacity()) * sizeof(MetadataCell);
  for (const std::string& s : values) n += s.capacity() > 15 ? s.capacity() : 0;
  for (const MetadataCell& c : cells) n += c.users.memory_bytes();
  for (const MetadataCell& c : totals) n += c.users.memory_bytes();
  return n;
}

}  // namespace usagedb
