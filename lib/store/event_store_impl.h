// EventStoreImpl: the engine behind usagedb::EventStore.
//
// Writers (record_event, record_events) serialize on write_mu_: they dedup,
// encode strings through the store-wide dictionaries, append rows to the
// partition's AppendBuffer and seal a full buffer into an immutable Part.
// Readers never take write_mu_: a query copies the current Version under
// version_mu_ (a pointer copy) and reads parts and published buffer rows
// without locks, so queries neither block writers nor each other.
//
// Thread-safety: safe for concurrent use (see usagedb/event_store.h).
#ifndef USAGEDB_STORE_EVENT_STORE_IMPL_H_
#define USAGEDB_STORE_EVENT_STORE_IMPL_H_

#include <cstdint>
#include <memory>
#include <span>

#include "absl/base/thread_annotations.h"
#include "absl/container/btree_map.h"
#include "lib/util/mutex.h"
#include "lib/store/append_buffer.h"
#include "lib/store/dedup_index.h"
#include "lib/store/snapshot.h"
#include "usagedb/event_store.h"

namespace usagedb {

class EventStoreImpl final : public EventStore {
 public:
  explicit EventStoreImpl(const Options& options);
  ~EventStoreImpl() override;

  absl::Status record_event(const Event& event) override;
  absl::StatusOr<IngestReport> record_events(std::span<const Event> events) override;
  absl::Status flush() override;

  absl::StatusOr<QueryResult<UserFeatureUsageRow>> user_feature_usage(
      const UserFeatureUsageQuery& query) const override;
  absl::StatusOr<QueryResult<FeatureUsageSummaryRow>> feature_usage_summary(
      const FeatureUsageSummaryQuery& query) const override;
  absl::StatusOr<QueryResult<FeatureUsageTimelineRow>> feature_usage_timeline(
      const FeatureUsageTimelineQuery& query) const override;

  // The view a query reads: every event recorded before this call.
  Snapshot snapshot() const ABSL_LOCKS_EXCLUDED(version_mu_);

 private:
  // The writer's state of one monthly partition.
  struct PartitionWriter {
    uint32_t month = 0;
    std::vector<std::shared_ptr<const Part>> parts;
    std::shared_ptr<AppendBuffer> buffer;
    DedupIndex event_ids;
  };

  // Stores already-validated events. REQUIRES: write_mu_ held.
  IngestReport append_locked(std::span<const Event> events) ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  PartitionWriter& partition_locked(uint32_t month, bool* created) ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  // Sorts the buffer's rows into a new part and starts an empty buffer.
  void seal_locked(PartitionWriter& p) ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  // Publishes a Version built from the writers' state.
  void install_version_locked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_) ABSL_LOCKS_EXCLUDED(version_mu_);

  const Options options_;
  Dictionaries dictionaries_;

  Mutex write_mu_;
  absl::btree_map<uint32_t, std::unique_ptr<PartitionWriter>> partitions_ ABSL_GUARDED_BY(write_mu_);
  uint64_t next_part_id_ ABSL_GUARDED_BY(write_mu_) = 1;

  mutable Mutex version_mu_;
  std::shared_ptr<const Version> version_ ABSL_GUARDED_BY(version_mu_);
};

}  // namespace usagedb

#endif  // USAGEDB_STORE_EVENT_STORE_IMPL_H_
