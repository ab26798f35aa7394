#include "lib/rollup/partition_rollup.h"

#include <algorithm>
#include <atomic>
#include <limits>

#include "lib/util/civil_time.h"

namespace usagedb {
namespace {

std::atomic<uint64_t> next_serial{1};

struct FvBuild {
  uint64_t key;  // feature << 32 | version
  uint64_t events = 0;
  uint32_t first = std::numeric_limits<uint32_t>::max();
  uint32_t last = 0;
  std::vector<uint32_t> users;
  std::vector<uint32_t> sessions;
};

struct UserBuild {
  uint64_t count = 0;
  uint32_t first = std::numeric_limits<uint32_t>::max();
  uint32_t last = 0;
};

struct CellBuild {
  uint64_t key;  // bucket << 32 | feature
  uint64_t events = 0;
  std::vector<uint32_t> users;
};

void sort_unique(std::vector<uint32_t>& v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
}

// Groups of one granularity while building: (bucket, feature) -> cell.
class LevelBuilder {
 public:
  void add(uint32_t bucket, uint32_t feature, uint32_t user) {
    const uint64_t key = (static_cast<uint64_t>(bucket) << 32) | feature;
    if (key != last_key_) {
      auto [it, inserted] = index_.try_emplace(key, static_cast<uint32_t>(cells_.size()));
      if (inserted) cells_.push_back(CellBuild{key});
      last_key_ = key;
      last_ = it->second;
    }
    CellBuild& c = cells_[last_];
    ++c.events;
    c.users.push_back(user);
  }

  TimelineLevel finish() && {
    std::sort(cells_.begin(), cells_.end(), [](const CellBuild& a, const CellBuild& b) { return a.key < b.key; });
    TimelineLevel level;
    level.cells.reserve(cells_.size());
    for (CellBuild& c : cells_) {
      sort_unique(c.users);
      const auto begin = static_cast<uint32_t>(level.user_codes.size());
      level.user_codes.insert(level.user_codes.end(), c.users.begin(), c.users.end());
      level.cells.push_back(TimelineCell{static_cast<uint32_t>(c.key >> 32), static_cast<uint32_t>(c.key), c.events,
                                         begin, static_cast<uint32_t>(level.user_codes.size())});
      std::vector<uint32_t>().swap(c.users);
    }
    level.user_codes.shrink_to_fit();
    return level;
  }

 private:
  absl::flat_hash_map<uint64_t, uint32_t> index_;
  std::vector<CellBuild> cells_;
  uint64_t last_key_ = std::numeric_limits<uint64_t>::max();
  uint32_t last_ = 0;
};

}  // namespace

std::span<const TimelineCell> TimelineLevel::cells_between(int64_t begin, int64_t end) const {
  auto lo = std::lower_bound(cells.begin(), cells.end(), begin,
                             [](const TimelineCell& c, int64_t t) { return static_cast<int64_t>(c.bucket) < t; });
  auto hi = std::lower_bound(lo, cells.end(), end,
                             [](const TimelineCell& c, int64_t t) { return static_cast<int64_t>(c.bucket) < t; });
  return std::span<const TimelineCell>(lo, hi);
}

std::shared_ptr<const PartitionRollup> PartitionRollup::build(uint32_t month,
                                                              std::span<const std::shared_ptr<const Part>> parts) {
  std::shared_ptr<PartitionRollup> r(new PartitionRollup());
  r->serial_ = next_serial.fetch_add(1, std::memory_order_relaxed);
  r->month_ = month;

  absl::flat_hash_map<uint64_t, uint32_t> fv_index;
  std::vector<FvBuild> fv;
  absl::flat_hash_map<uint64_t, UserBuild> users;  // user << 32 | fv index
  LevelBuilder levels[4];
  const auto month_bucket = static_cast<uint32_t>(civil::month_start(month));

  size_t rows = 0;
  for (const auto& part : parts) rows += part->rows();
  users.reserve(rows / 4);
  for (const auto& part : parts) {
    r->part_ids_.push_back(part->id());
    const PartColumns& c = part->columns();
    uint64_t last_fv_key = std::numeric_limits<uint64_t>::max();
    uint32_t fv_i = 0;
    for (uint32_t row = 0; row < part->rows(); ++row) {
      const uint32_t t = c.timestamp[row], f = c.feature[row], v = c.version[row], u = c.user[row];
      const uint64_t fv_key = (static_cast<uint64_t>(f) << 32) | v;
      if (fv_key != last_fv_key) {
        auto [it, inserted] = fv_index.try_emplace(fv_key, static_cast<uint32_t>(fv.size()));
        if (inserted) fv.push_back(FvBuild{fv_key});
        fv_i = it->second;
        last_fv_key = fv_key;
      }
      FvBuild& g = fv[fv_i];
      ++g.events;
      g.first = std::min(g.first, t);
      g.last = std::max(g.last, t);
      g.users.push_back(u);
      g.sessions.push_back(c.session[row]);

      UserBuild& ub = users[(static_cast<uint64_t>(u) << 32) | fv_i];
      ++ub.count;
      ub.first = std::min(ub.first, t);
      ub.last = std::max(ub.last, t);

      levels[static_cast<int>(Granularity::kHour)].add(static_cast<uint32_t>(civil::start_of_hour(t)), f, u);
      levels[static_cast<int>(Granularity::kDay)].add(static_cast<uint32_t>(civil::start_of_day(t)), f, u);
      levels[static_cast<int>(Granularity::kWeek)].add(static_cast<uint32_t>(civil::start_of_week(t)), f, u);
      levels[static_cast<int>(Granularity::kMonth)].add(month_bucket, f, u);
    }
  }
  r->rows_ = rows;
  std::sort(r->part_ids_.begin(), r->part_ids_.end());

  // Summary cells in (feature, version) order; `rank` maps build order to it.
  std::vector<uint32_t> order(fv.size());
  for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) { return fv[a].key < fv[b].key; });
  std::vector<uint32_t> rank(fv.size());
  r->fv_.reserve(fv.size());
  for (uint32_t i = 0; i < order.size(); ++i) {
    FvBuild& g = fv[order[i]];
    rank[order[i]] = i;
    sort_unique(g.users);
    sort_unique(g.sessions);
    FvCell cell{static_cast<uint32_t>(g.key >> 32), static_cast<uint32_t>(g.key), g.events, g.first, g.last,
                Bitmap::from_strictly_ascending(g.users), Bitmap::from_strictly_ascending(g.sessions)};
    cell.users.seal();
    cell.sessions.seal();
    r->fv_.push_back(std::move(cell));
    std::vector<uint32_t>().swap(g.users);
    std::vector<uint32_t>().swap(g.sessions);
  }

  // Per-user entries, grouped by user, each group in (feature, version) order.
  std::vector<std::pair<uint64_t, UserBuild>> flat;
  flat.reserve(users.size());
  for (const auto& [key, u] : users) flat.emplace_back((key & ~uint64_t{0xffffffff}) | rank[static_cast<uint32_t>(key)], u);
  absl::flat_hash_map<uint64_t, UserBuild>().swap(users);
  std::sort(flat.begin(), flat.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  r->entries_.reserve(flat.size());
  r->user_ranges_.reserve(flat.size() / 8);
  for (size_t i = 0; i < flat.size();) {
    const auto user = static_cast<uint32_t>(flat[i].first >> 32);
    const auto begin = static_cast<uint32_t>(r->entries_.size());
    for (; i < flat.size() && (flat[i].first >> 32) == user; ++i) {
      const FvCell& cell = r->fv_[static_cast<uint32_t>(flat[i].first)];
      const UserBuild& u = flat[i].second;
      r->entries_.push_back(UserEntry{cell.feature, cell.version, u.count, u.first, u.last});
    }
    r->user_ranges_.emplace(user, std::pair{begin, static_cast<uint32_t>(r->entries_.size())});
  }

  for (int g = 0; g < 4; ++g) r->levels_[g] = std::move(levels[g]).finish();
  return r;
}

std::span<const UserEntry> PartitionRollup::user(uint32_t user_code) const {
  auto it = user_ranges_.find(user_code);
  if (it == user_ranges_.end()) return {};
  return std::span<const UserEntry>(entries_).subspan(it->second.first, it->second.second - it->second.first);
}

size_t PartitionRollup::memory_bytes() const {
  size_t n = sizeof(*this) + part_ids_.capacity() * sizeof(uint64_t) + fv_.capacity() * sizeof(FvCell) +
             entries_.capacity() * sizeof(UserEntry) +
             user_ranges_.capacity() * (sizeof(uint32_t) + sizeof(std::pair<uint32_t, uint32_t>) + 1);
  for (const FvCell& c : fv_) n += c.users.memory_bytes() + c.sessions.memory_bytes();
  for (const TimelineLevel& l : levels_) {
    n += l.cells.capacity() * sizeof(TimelineCell) + l.user_codes.capacity() * sizeof(uint32_t);
  }
  return n;
}

std::vector<FvCell> merge_summaries(std::span<const PartitionRollup* const> rollups) {
  absl::flat_hash_map<uint64_t, std::vector<const FvCell*>> groups;
  for (const PartitionRollup* r : rollups) {
    for (const FvCell& c : r->summary()) groups[(static_cast<uint64_t>(c.feature) << 32) | c.version].push_back(&c);
  }
  std::vector<FvCell> out;
  out.reserve(groups.size());
  std::vector<const Bitmap*> users, sessions;
  for (const auto& [key, cells] : groups) {
    FvCell m{cells[0]->feature, cells[0]->version, 0, std::numeric_limits<uint32_t>::max(), 0, {}, {}};
    users.clear();
    sessions.clear();
    for (const FvCell* c : cells) {
      m.events += c->events;
      m.first = std::min(m.first, c->first);
      m.last = std::max(m.last, c->last);
      users.push_back(&c->users);
      sessions.push_back(&c->sessions);
    }
    m.users = Bitmap::union_of(users);
    m.sessions = Bitmap::union_of(sessions);
    m.users.seal();
    m.sessions.seal();
    out.push_back(std::move(m));
  }
  std::sort(out.begin(), out.end(), [](const FvCell& a, const FvCell& b) {
    return a.feature != b.feature ? a.feature < b.feature : a.version < b.version;
  });
  return out;
}

}  // namespace usagedb
