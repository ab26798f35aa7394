// SPEC 2.9: events and distinct users per value of one metadata property.
//
// A metadata string is parsed once per query wherever it is stored
// (PropertyValues). The rollups that count their metadata strings
// (metadata_counts.h), of a partition the window holds whole, answer from
// those counts when the request filters at most on feature_id: a few strings
// parsed, their groups' events added up and their user bitmaps united, no
// row read. Other parts are read: each part keeps its distinct
// metadata strings dictionary-encoded, so each is parsed once and its rows
// only look up a value number; an unsealed buffer's likewise.
#include <algorithm>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "lib/query/endpoints.h"
#include "lib/query/property_values.h"
#include "lib/query/scan.h"
#include "lib/rollup/metadata_counts.h"
#include "lib/util/civil_time.h"

namespace usagedb {

absl::StatusOr<QueryResult<PropertyBreakdownRow>> run_property_breakdown(const Snapshot& snapshot,
                                                                         const PropertyBreakdownQuery& q) {
  query::Stats stats;
  if (q.property.empty() || q.property.size() > query::kMaxPropertyBytes) {
    return absl::InvalidArgumentError(absl::StrCat("property: expected a metadata key of 1 to ", query::kMaxPropertyBytes,
                                                   " bytes, got ", q.property.size(), " bytes"));
  }
  auto window = query::make_window(q.start_date, q.end_date);
  if (!window.ok()) return window.status();
  const Dictionaries& dicts = snapshot.dictionaries();
  const query::ScanFilters filters{query::resolve_filter(dicts.feature, q.feature_id),
                                   query::resolve_filter(dicts.version, q.product_version),
                                   query::resolve_filter(dicts.event_type, q.event_type), *window};

  query::PropertyValues values(q.property);
  // By value number: events, the users of the rows read, the users of the
  // rollup groups it gathers.
  struct Group {
    uint64_t events = 0;
    Bitmap users;
    std::vector<const Bitmap*> group_users;
  };
  std::vector<Group> groups;
  const auto group = [&](uint32_t value) -> Group& {
    if (value >= groups.size()) groups.resize(value + 1);
    return groups[value];
  };
  const auto add = [&](uint32_t value, uint32_t user) {
    Group& g = group(value);
    ++g.events;
    g.users.add(user);
  };

  // The rollups that count their metadata strings, of partitions the window
  // holds whole, when the request filters at most on feature_id (a rollup
  // over too many distinct strings, or read from an older file, does not:
  // its parts are read).
  const auto has_counts = [](const PartitionRollup* r) { return r != nullptr && r->metadata() != nullptr; };
  std::vector<const PartitionView*> rolled;
  if (!filters.matches_nothing() && !filters.version.active && !filters.event_type.active) {
    for (const PartitionView& p : snapshot.partitions()) {
      if (p.rollups().empty() || filters.window.begin > civil::month_start(p.month()) ||
          filters.window.end < civil::month_start(civil::next_month(p.month()))) {
        continue;
      }
      rolled.push_back(&p);
      for (const CoveredRollup& e : p.rollups().entries()) {
        const MetadataCounts* counts = e.rollup->metadata();
        if (counts == nullptr) continue;
        query::PropertyValues::Mapping mapping = values.mapping();
        for (uint32_t v = 0; v < counts->values.size(); ++v) {
          const MetadataCell* cell = &counts->totals[v];
          if (filters.feature.active) {
            const std::span<const MetadataCell> cells = counts->cells_of(v);
            const auto it = std::lower_bound(cells.begin(), cells.end(), filters.feature.code,
                                             [](const MetadataCell& c, uint32_t f) { return c.feature < f; });
            if (it == cells.end() || it->feature != filters.feature.code) continue;
            cell = &*it;
          }
          Group& g =
              group(mapping.value_of(v, [&](uint32_t code) { return std::string_view(counts->values[code]); }));
          g.events += cell->events;
          g.group_users.push_back(&cell->users);
        }
        stats.read_rows(counts->values.size(), sizeof(MetadataCell));
      }
    }
  }
  if (!filters.matches_nothing()) {
    for (const PartitionView& partition : snapshot.partitions()) {
      if (!filters.window.overlaps_month(partition.month())) continue;
      const bool counted = std::find(rolled.begin(), rolled.end(), &partition) != rolled.end();
      for (const auto& part : partition.parts()) {
        if (counted && has_counts(partition.rollup_of(*part))) continue;
        const HeldPart held = query::readable(snapshot, *part, filters);
        if (!held) continue;
        const PartColumns& c = part->columns();
        query::PropertyValues::Mapping mapping = values.mapping();
        query::scan_part_rows(*part, filters, stats, [&](uint32_t row) {
          add(mapping.value_of(c.metadata[row], [&](uint32_t code) { return c.metadata_values.at(code); }),
              c.user[row]);
        });
      }
      for (const BufferView& b : partition.buffers) {
        query::PropertyValues::Mapping mapping = values.mapping();
        const AppendBuffer& buffer = *b.buffer;
        query::scan_buffer(b, filters, stats, [&](uint32_t i) {
          add(mapping.value_of(buffer.metadata_code(i), [&](uint32_t code) { return buffer.metadata_value(code); }),
              buffer.row(i).user);
        });
      }
    }
  }
  std::vector<uint64_t> users(groups.size(), 0);
  for (uint32_t v = 0; v < groups.size(); ++v) {
    Group& g = groups[v];
    if (g.group_users.empty()) {
      users[v] = g.users.cardinality();
      continue;
    }
    if (!g.users.empty()) g.group_users.push_back(&g.users);
    users[v] = g.group_users.size() == 1 ? g.group_users[0]->cardinality() : Bitmap::union_of(g.group_users).cardinality();
  }

  // ORDER BY events DESC, value ASC.
  std::vector<uint32_t> order;
  for (uint32_t v = 0; v < groups.size(); ++v) {
    if (groups[v].events > 0) order.push_back(v);
  }
  std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
    return groups[a].events != groups[b].events ? groups[a].events > groups[b].events
                                                : values.value(a) < values.value(b);
  });
  return query::page_of<PropertyBreakdownRow>(order.size(), q.limit, q.skip, stats, [&](size_t i) {
    return PropertyBreakdownRow{std::string(values.value(order[i])), groups[order[i]].events, users[order[i]]};
  });
}

}  // namespace usagedb
