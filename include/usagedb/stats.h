// usagedb/stats.h: what a store holds and what it costs (EventStore::stats,
// `usagedb stats`).
//
// Thread-safety: plain values.
#ifndef USAGEDB_STATS_H_
#define USAGEDB_STATS_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace usagedb {

struct PartitionStats {
  uint32_t month = 0;          // yyyymm
  uint64_t parts = 0;
  uint64_t rows = 0;           // in parts and unsealed buffers
  uint64_t unsealed_rows = 0;  // in buffers not yet sorted into parts
  uint64_t bytes_on_disk = 0;  // part files
  uint64_t dedup_memory_bytes = 0;  // its dedup index (0 when released: rebuilt from its rows on its next write)
};

struct ColumnStats {
  std::string name;            // a table column, or "<column> index"
  uint64_t bytes_on_disk = 0;  // in part files, plus its dictionary segments
};

struct StoreStats {
  std::string directory;  // "" for an in-memory store
  std::vector<PartitionStats> partitions;
  std::vector<ColumnStats> columns;  // durable stores only
  uint64_t rows = 0;
  uint64_t parts = 0;
  uint64_t bytes_on_disk = 0;  // every file of the store
  uint64_t log_bytes = 0;      // the write-ahead log
  uint64_t memory_bytes = 0;   // columns, indexes, dictionaries, dedup (approximate)
  // memory_bytes by what holds it: parts (columns and indexes), append
  // buffers (unsealed rows, and sealed ones whose parts are being built),
  // dedup indexes, dictionaries, rollups (the sections in memory, and the
  // merged summaries kept for multi-month questions).
  uint64_t part_memory_bytes = 0, buffer_memory_bytes = 0, dedup_memory_bytes = 0, dictionary_memory_bytes = 0;
  uint64_t rollup_memory_bytes = 0;
  // Options::cache_bytes and what it holds now: the parts read from files
  // (part_memory_bytes counts them, with the parts built in memory) and the
  // rollup sections read from files (counted in rollup_memory_bytes), with
  // the lazy parts' rows by user that the funnel reads (counted in
  // part_memory_bytes).
  uint64_t cache_budget_bytes = 0, cache_part_bytes = 0, cache_rollup_bytes = 0;
  // How often the cache made room: parts evicted, and rollups whose sections
  // it dropped (no query held them; the next use reads them again).
  uint64_t cache_part_evictions = 0, cache_rollup_drops = 0;
  uint64_t quarantined_rows = 0;
  // Distinct values of each dictionary-encoded column ever stored.
  uint64_t users = 0, features = 0, versions = 0, event_types = 0, sessions = 0;
  // The writer queue since the store opened (record_event(s) and flush()
  // calls share the log's work in groups, docs/STORAGE.md "Writing"): the
  // groups, the calls and events they held, the groups that fsynced and the
  // events those carried; write_group_sizes[i] counts the groups of i + 1
  // calls (its last entry, kWriteGroupSizes calls or more).
  static constexpr size_t kWriteGroupSizes = 16;
  uint64_t write_groups = 0, write_group_calls = 0, write_group_events = 0;
  uint64_t write_syncs = 0, write_synced_events = 0;
  std::vector<uint64_t> write_group_sizes;
};

}  // namespace usagedb

#endif  // USAGEDB_STATS_H_
