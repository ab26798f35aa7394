// usagedb/options.h: how an EventStore is opened.
//
//   usagedb::Options options;
//   options.directory = "/var/lib/myapp/usage";   // empty = in memory only
//   auto store = usagedb::EventStore::open(options);
//
// Thread-safety: Options is a plain value, copied by EventStore::open().
#ifndef USAGEDB_OPTIONS_H_
#define USAGEDB_OPTIONS_H_

#include <cstddef>
#include <string>

namespace usagedb {

struct Options {
  // Where the store keeps its files. Empty: the store lives in memory only
  // and is gone when the EventStore is destroyed.
  std::string directory;

  // Create `directory` (and an empty store in it) when it does not exist.
  bool create_if_missing = true;

  // SPEC 1.3: skip an event whose non-empty event_id is already stored in the
  // same monthly partition (first write wins). false stores every event.
  bool deduplicate = true;

  // Durable stores only: fsync the write-ahead log before every record_event /
  // ingest call returns, instead of only in flush().
  bool sync = false;

  // Rows an unsealed partition buffer collects before it is sealed into an
  // immutable sorted part (at most a third of max_unrolled_rows), and the size
  // below which parts are merged. A bulk ingest_file or a large ingest
  // (see checkpoint_log_bytes) seals larger buffers, sized from this one,
  // while it runs. REQUIRES: >= 1.
  size_t part_rows = 16384;

  // The most rows of one monthly partition that a query reads one by one
  // because no rollup (pre-aggregate) holds them yet: the rows recorded
  // since its buffer was last sealed, and a sealed buffer whose part and
  // rollup are being built. Every sealed part gets its rollup as it is
  // built, so this bounds the work a query does beyond reading rollups,
  // however fast events arrive. Smaller keeps queries on a store that is
  // being written faster, at the cost of sealing (and merging) more, smaller
  // parts; a writer that finds the sealing thread behind seals on its
  // own thread rather than let the rows pile up. The default lets a live
  // buffer reach part_rows: a part of 16,384 rows costs a record_event far
  // less CPU than four of 4,096 (fewer sorts, rollups and merges:
  // bench/RESULTS.md). A question about one user reads only that user's
  // unsealed rows (they are indexed by user as they arrive); the others
  // scan them. A bulk ingest_file or large
  // ingest exceeds it while it runs (its parts get their rollups at its
  // end), and seals everything, with rollups, before it returns.
  // REQUIRES: >= 3.
  size_t max_unrolled_rows = 49152;

  // Durable stores: when the write-ahead log grows past this many bytes, a
  // checkpoint writes the events it holds into part files and starts a new,
  // empty log (bounding both the log's size and the time to reopen after a
  // crash). REQUIRES: >= 1.
  size_t checkpoint_log_bytes = 64 << 20;

  // Seal full buffers into parts (each with its rollup: the pre-aggregated
  // endpoint answers) and merge small parts into larger ones (like
  // MergeTree) on two background threads, one sealing and one merging.
  // When false, sealing happens on the writing thread, and merges only in
  // EventStore::compact().
  bool background_threads = true;

  // Durable stores: the bytes read back from the store's files that it keeps
  // in memory: parts' columns and indexes, and rollup sections. A reopened
  // store reads them only when a query (or a merge, or the first write to
  // its month) needs them; once they exceed this budget, the least recently
  // used parts no query is reading are dropped and read again when needed.
  // Rollup sections are charged to the budget (parts make room for them) and
  // kept while their rollup lives (docs/STORAGE.md, "What is read when").
  // 0: no budget, what is read stays in memory. Parts that record_event and
  // merges build stay in memory; a bulk ingest's written parts and rollups
  // are read back from their files, within this budget.
  size_t cache_bytes = 0;
};

}  // namespace usagedb

#endif  // USAGEDB_OPTIONS_H_
