// SPEC 2.1: one user's usage per (feature, version).
//
// The user's entries in every partition's rollups (looked up together:
// PartitionRollup::users_of), then, per partition, only the parts no rollup
// holds: the user's rows there (filtered on their feature and version codes;
// a part not in memory whose file can seek users reads only the blocks
// holding them), and the unsealed buffer rows. A rollup
// whose user entries are not in memory yet is skipped for its parts' blocks
// when they can all be read so (PartitionRollup::defer_user_entries).
#include <algorithm>
#include <span>

#include "absl/container/flat_hash_map.h"
#include "absl/container/inlined_vector.h"
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

// Columns read per row: feature, version, timestamp codes.
constexpr uint64_t kBytesPerRow = 3 * sizeof(uint32_t);

// The user's usage per (feature, version) code pair. A table indexed by the
// pair when the two dictionaries are small (tens of features and versions:
// a few KB to fill), else a hash map; the groups in a vector, in the order
// first seen. (Hashing was a quarter of a typical user's look-up at 100M
// events: ~600 entries from twelve months into ~460 groups.)
class UsageGroups {
 public:
  struct Group {
    uint32_t feature;
    uint32_t version;
    Usage usage;
  };

  // `features` and `versions`: the dictionaries' sizes (codes at or past
  // them go to the hash map).
  UsageGroups(uint32_t features, uint32_t versions) {
    if (uint64_t{features} * versions <= kMaxTableCells) {
      features_ = features;
      versions_ = versions;
      table_.assign(static_cast<size_t>(features) * versions, kNone);
    }
  }

  Usage& at(uint32_t feature, uint32_t version) {
    uint32_t* slot;
    if (feature < features_ && version < versions_) {
      slot = &table_[static_cast<size_t>(feature) * versions_ + version];
    } else {
      slot = &hashed_.try_emplace((static_cast<uint64_t>(feature) << 32) | version, kNone).first->second;
    }
    if (*slot == kNone) {
      *slot = static_cast<uint32_t>(groups_.size());
      groups_.push_back(Group{feature, version, Usage{}});
    }
    return groups_[*slot].usage;
  }

  // ORDER BY usage_count DESC, feature_id ASC, product_version ASC, on
  // codes (the strings' ranks): the groups in that order.
  std::vector<const Group*> ordered(const Dictionary& feature_dict, const Dictionary& version_dict) const;

 private:
  static constexpr uint32_t kNone = UINT32_MAX;
  static constexpr uint64_t kMaxTableCells = uint64_t{1} << 14;  // 64 KB of slots
  uint32_t features_ = 0;
  uint32_t versions_ = 0;
  std::vector<uint32_t> table_;  // slot of (feature, version): [feature * versions_ + version]
  absl::flat_hash_map<uint64_t, uint32_t> hashed_;
  std::vector<Group> groups_;
};

std::vector<const UsageGroups::Group*> UsageGroups::ordered(const Dictionary& feature_dict,
                                                            const Dictionary& version_dict) const {
  std::vector<const Group*> out;
  out.reserve(groups_.size());
  // One packed key per group when the counts fit 32 bits and the ranks 16:
  // the count's complement above the two ranks.
  const auto sort_packed = [&](const auto& feature_rank, const auto& version_rank) {
    struct Keyed {
      uint64_t key;
      const Group* group;
    };
    std::vector<Keyed> keyed;
    keyed.reserve(groups_.size());
    for (const Group& g : groups_) {
      keyed.push_back(Keyed{(UINT32_MAX - g.usage.count) << 32 | uint64_t{feature_rank(g.feature)} << 16 |
                                version_rank(g.version),
                            &g});
    }
    std::sort(keyed.begin(), keyed.end(), [](const Keyed& a, const Keyed& b) { return a.key < b.key; });
    for (const Keyed& k : keyed) out.push_back(k.group);
  };
  {
    // The dictionaries' own ranks of all their codes, when both are small
    // (the common case).
    constexpr uint32_t kMaxRanked = uint32_t{1} << 16;
    const std::shared_ptr<const std::vector<uint32_t>> feature_ranks = feature_dict.ranks(kMaxRanked);
    const std::shared_ptr<const std::vector<uint32_t>> version_ranks = version_dict.ranks(kMaxRanked);
    const auto ranked = [&](const Group& g) {
      return g.usage.count <= UINT32_MAX && g.feature < feature_ranks->size() && g.version < version_ranks->size();
    };
    if (feature_ranks != nullptr && version_ranks != nullptr && std::all_of(groups_.begin(), groups_.end(), ranked)) {
      sort_packed([&](uint32_t f) { return (*feature_ranks)[f]; }, [&](uint32_t v) { return (*version_ranks)[v]; });
      return out;
    }
  }
  std::vector<uint32_t> features, versions;
  features.reserve(groups_.size());
  versions.reserve(groups_.size());
  uint64_t most = 0;
  for (const Group& g : groups_) {
    features.push_back(g.feature);
    versions.push_back(g.version);
    most = std::max(most, g.usage.count);
  }
  const StringRank feature_rank(feature_dict, std::move(features));
  const StringRank version_rank(version_dict, std::move(versions));
  // Else the ranks among the groups' own codes (below the number of
  // groups): packed when they fit, else compared field by field.
  if (most <= UINT32_MAX && groups_.size() <= (size_t{1} << 16)) {
    sort_packed(feature_rank, version_rank);
    return out;
  }
  struct Keyed {
    uint64_t count;
    uint64_t rank;  // feature rank << 32 | version rank
    const Group* group;
  };
  std::vector<Keyed> keyed;
  keyed.reserve(groups_.size());
  for (const Group& g : groups_) {
    keyed.push_back(Keyed{g.usage.count, uint64_t{feature_rank(g.feature)} << 32 | version_rank(g.version), &g});
  }
  std::sort(keyed.begin(), keyed.end(),
            [](const Keyed& a, const Keyed& b) { return a.count != b.count ? a.count > b.count : a.rank < b.rank; });
  for (const Keyed& k : keyed) out.push_back(k.group);
  return out;
}

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

  UsageGroups groups(dicts.feature.size(), dicts.version.size());
  // First every partition's rollups (PartitionRollup::users_of: the
  // look-ups overlap), then each partition's other parts and buffers.
  absl::InlinedVector<const PartitionRollup*, 16> looked;
  std::vector<uint64_t> deferred;  // parts read for a rollup whose user entries are not read
  absl::InlinedVector<size_t, 16> deferred_ends;  // each partition's, sorted, end in `deferred`
  for (const PartitionView& partition : snapshot.partitions()) {
    const size_t begin = deferred.size();
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
      looked.push_back(rollup);
    }
    std::sort(deferred.begin() + begin, deferred.end());
    deferred_ends.push_back(deferred.size());
  }
  absl::InlinedVector<std::span<const UserEntry>, 16> entries_of(looked.size());
  PartitionRollup::users_of(looked, user.code, std::span(entries_of.data(), entries_of.size()));
  for (size_t k = 0; k < looked.size(); ++k) {
    const PartitionRollup* rollup = looked[k];
    // The cells' keys only: the summary's bitmaps stay unread.
    const std::span<const FvKey> keys = rollup->group_keys();
    for (const UserEntry& e : entries_of[k]) {
      // (A groups section that could not be read is empty: the query is
      // asked again without this rollup.)
      if (e.group >= keys.size()) continue;
      const FvKey& key = keys[e.group];
      if (feature.accepts(key.feature) && version.accepts(key.version)) {
        groups.at(key.feature, key.version).add(rollup->count(e), e.first, e.last);
      }
    }
    stats.read_rows(entries_of[k].size(), sizeof(UserEntry));
  }
  size_t partition_index = 0;
  for (const PartitionView& partition : snapshot.partitions()) {
    const auto deferred_begin = deferred.begin() + (partition_index == 0 ? 0 : deferred_ends[partition_index - 1]);
    const auto deferred_end = deferred.begin() + deferred_ends[partition_index];
    ++partition_index;
    for (const auto& part : partition.parts()) {
      const bool read_alone = std::binary_search(deferred_begin, deferred_end, part->id());
      if (partition.covered(*part) && !read_alone) continue;
      if (read_alone || part->reads_users_alone()) {
        // A part not in memory: its file's blocks holding the user's rows,
        // not the whole part (part format version 3).
        UserRows rows;
        if (!snapshot.user_rows(*part, user.code, &rows)) continue;
        for (size_t i = 0; i < rows.timestamp.size(); ++i) {
          if (feature.accepts(rows.feature[i]) && version.accepts(rows.version[i])) {
            groups.at(rows.feature[i], rows.version[i]).add(rows.timestamp[i]);
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
        if (feature.accepts(f) && version.accepts(v)) groups.at(f, v).add(c.timestamp[row]);
      }
      stats.read_rows(rows.size(), kBytesPerRow);
    }
    // The unsealed rows: the user's, through a live buffer's user index;
    // every row of a buffer without one (a bulk ingest's).
    for (const BufferView& b : partition.buffers) {
      const auto add = [&](const RowCodes& r) {
        if (feature.accepts(r.feature) && version.accepts(r.version)) {
          groups.at(r.feature, r.version).add(r.timestamp);
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

  // ORDER BY usage_count DESC, feature_id ASC, product_version ASC; rows
  // for the page only.
  const std::vector<const UsageGroups::Group*> sorted = groups.ordered(dicts.feature, dicts.version);
  return query::page_of<UserFeatureUsageRow>(sorted.size(), q.limit, q.skip, stats, [&](size_t i) {
    const UsageGroups::Group& g = *sorted[i];
    return UserFeatureUsageRow{*q.user_id, std::string(dicts.feature.lookup(g.feature)),
                               std::string(dicts.version.lookup(g.version)), g.usage.count,
                               query::to_timestamp(g.usage.first), query::to_timestamp(g.usage.last)};
  });
}

}  // namespace usagedb
