// SPEC 2.1: one user's usage per (feature, version).
//
// Per partition, the user's entries in each of its rollups, then only the
// parts no rollup holds: the user's rows there (filtered on their feature
// and version codes; a part not in memory whose file can seek users reads
// only the blocks holding them), and the unsealed buffer rows. A rollup
// whose user entries are not in memory yet is skipped for its parts' blocks
// when they can all be read so (PartitionRollup::defer_user_entries).
#include <algorithm>

#include "absl/container/flat_hash_map.h"
#include "lib/query/endpoints.h"
#include "lib/query/query_common.h"

namespace usagedb {
namespace {

struct Usage {
  uint64_t count = 0;
  uint32_t first = UINT32_MAX;
  uint32_t last = 0;

  void add(uint32_t t) {
    ++count;
    first = std::min(first, t);
    last = std::max(last, t);
  }
  void add(uint64_t n, uint32_t first_seen, uint32_t last_seen) {
    count += n;
    first = std::min(first, first_seen);
    last = std::max(last, last_seen);
  }
};

uint64_t group_key(uint32_t feature, uint32_t version) { return (static_cast<uint64_t>(feature) << 32) | version; }

// Columns read per row: feature, version, timestamp codes.
constexpr uint64_t kBytesPerRow = 3 * sizeof(uint32_t);

}  // namespace

absl::StatusOr<QueryResult<UserFeatureUsageRow>> run_user_feature_usage(const Snapshot& snapshot,
                                                                        const UserFeatureUsageQuery& q) {
  query::Stats stats;
  const Dictionaries& dicts = snapshot.dictionaries();
  // The seed's `AND 0=1`: no user, no rows.
  if (!q.user_id.has_value()) return query::page<UserFeatureUsageRow>({}, q.limit, q.skip, stats);
  const query::CodeFilter user = query::resolve_filter(dicts.user, q.user_id);
  const query::CodeFilter feature = query::resolve_filter(dicts.feature, q.feature_id);
  const query::CodeFilter version = query::resolve_filter(dicts.version, q.product_version);
  if (user.matches_nothing || feature.matches_nothing || version.matches_nothing) {
    return query::page<UserFeatureUsageRow>({}, q.limit, q.skip, stats);
  }

  absl::flat_hash_map<uint64_t, Usage> groups;
  std::vector<uint64_t> deferred;  // parts read for a rollup whose user entries are not read
  for (const PartitionView& partition : snapshot.partitions()) {
    deferred.clear();
    for (const CoveredRollup& covered : partition.rollups().entries()) {
      const PartitionRollup* rollup = covered.rollup.get();
      // A new process's first look-ups: the parts' blocks holding the user
      // rather than the rollup's whole user entries section, when every
      // part the rollup holds can be read so.
      const auto every_part_seeks_users = [&] {
        const size_t seekable = std::count_if(partition.parts().begin(), partition.parts().end(), [&](const auto& part) {
          return part->reads_users_alone() && std::binary_search(covered.parts.begin(), covered.parts.end(), part->id());
        });
        return seekable == covered.parts.size();
      };
      if (rollup->defer_user_entries(every_part_seeks_users)) {
        deferred.insert(deferred.end(), covered.parts.begin(), covered.parts.end());
        continue;
      }
      const std::span<const UserEntry> entries = rollup->user(user.code);
      for (const UserEntry& e : entries) {
        // The cell's key only: the summary's bitmaps stay unread.
        const FvCell& cell = rollup->group(e.group);
        if (feature.accepts(cell.feature) && version.accepts(cell.version)) {
          groups[group_key(cell.feature, cell.version)].add(rollup->count(e), e.first, e.last);
        }
      }
      stats.read_rows(entries.size(), sizeof(UserEntry));
    }
    std::sort(deferred.begin(), deferred.end());
    for (const auto& part : partition.parts()) {
      const bool read_alone = std::binary_search(deferred.begin(), deferred.end(), part->id());
      if (partition.covered(*part) && !read_alone) continue;
      if (read_alone || part->reads_users_alone()) {
        // A part not in memory: its file's blocks holding the user's rows,
        // not the whole part (part format version 3).
        UserRows rows;
        if (!snapshot.user_rows(*part, user.code, &rows)) continue;
        for (size_t i = 0; i < rows.timestamp.size(); ++i) {
          if (feature.accepts(rows.feature[i]) && version.accepts(rows.version[i])) {
            groups[group_key(rows.feature[i], rows.version[i])].add(rows.timestamp[i]);
          }
        }
        stats.read_rows(rows.timestamp.size(), kBytesPerRow);
        continue;
      }
      const HeldPart held = snapshot.hold(*part);
      if (!held) continue;
      // The user's rows, filtered on their feature and version codes (a
      // user's rows in a part are few: cheaper than intersecting bitmaps).
      const std::span<const uint32_t> rows = part->user_rows(user.code);
      if (rows.empty()) continue;
      const PartColumns& c = part->columns();
      for (const uint32_t row : rows) {
        const uint32_t f = c.feature[row];
        const uint32_t v = c.version[row];
        if (feature.accepts(f) && version.accepts(v)) groups[group_key(f, v)].add(c.timestamp[row]);
      }
      stats.read_rows(rows.size(), kBytesPerRow);
    }
    // The unsealed rows: the user's, through a live buffer's user index;
    // every row of a buffer without one (a bulk ingest's).
    for (const BufferView& b : partition.buffers) {
      const auto add = [&](const RowCodes& r) {
        if (feature.accepts(r.feature) && version.accepts(r.version)) {
          groups[group_key(r.feature, r.version)].add(r.timestamp);
        }
      };
      if (b.buffer->indexes_users()) {
        uint64_t rows = 0;
        b.buffer->for_each_user_row(user.code, b.rows, [&](uint32_t i) {
          add(b.buffer->row(i));
          ++rows;
        });
        stats.read_rows(rows, kBytesPerRow);
        continue;
      }
      b.buffer->for_each_chunk(b.rows, [&](std::span<const RowCodes> chunk) {
        for (const RowCodes& r : chunk) {
          if (r.user == user.code) add(r);
        }
      });
      stats.read_rows(b.rows, sizeof(uint32_t));
    }
  }

  // ORDER BY usage_count DESC, feature_id ASC, product_version ASC, on
  // codes; rows for the page only.
  const auto sorted = query::order_by_count_feature_version(groups, dicts.feature, dicts.version,
                                                            [](const Usage& u) { return u.count; });
  return query::page_of<UserFeatureUsageRow>(sorted.size(), q.limit, q.skip, stats, [&](size_t i) {
    const auto& [key, usage] = sorted[i];
    return UserFeatureUsageRow{*q.user_id, std::string(dicts.feature.lookup(static_cast<uint32_t>(key >> 32))),
                               std::string(dicts.version.lookup(static_cast<uint32_t>(key))), usage->count,
                               query::to_timestamp(usage->first), query::to_timestamp(usage->last)};
  });
}

}  // namespace usagedb
