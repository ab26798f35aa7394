// SPEC 2.9: events and distinct users per value of one metadata property.
//
// A metadata string is parsed once per query wherever it is stored: a
// part keeps its distinct metadata values dictionary-encoded, so each of
// its values is read once (json::PropertyReader) and mapped to the query's
// value number, and its rows only look the number up; an unsealed buffer's
// values likewise. Values are grouped as strings, users as bitmaps of their
// codes.
#include <algorithm>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "lib/query/endpoints.h"
#include "lib/query/property_values.h"
#include "lib/query/scan.h"

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
  struct Group {
    uint64_t events = 0;
    Bitmap users;
  };
  std::vector<Group> groups;
  auto add = [&](uint32_t value, uint32_t user) {
    if (value >= groups.size()) groups.resize(value + 1);
    ++groups[value].events;
    groups[value].users.add(user);
  };
  if (!filters.matches_nothing()) {
    for (const PartitionView& partition : snapshot.partitions()) {
      if (!filters.window.overlaps_month(partition.month())) continue;
      for (const auto& part : partition.parts()) {
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
    const Group& g = groups[order[i]];
    return PropertyBreakdownRow{std::string(values.value(order[i])), g.events, g.users.cardinality()};
  });
}

}  // namespace usagedb
