// Version and Snapshot: the consistent view of a store a query reads.
//
// A Version is an immutable list of partitions, each with its sealed parts
// and its current append buffer; the writer installs a new Version whenever
// a partition appears or a buffer is sealed into a part. A Snapshot pins one
// Version and the number of published rows of each buffer at the moment the
// query started, so the query sees exactly the events recorded before it,
// however long it runs and whatever writers do meanwhile.
//
// Thread-safety: Version and Snapshot are immutable once built.
#ifndef USAGEDB_STORE_SNAPSHOT_H_
#define USAGEDB_STORE_SNAPSHOT_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "lib/store/append_buffer.h"
#include "lib/store/dictionary.h"
#include "lib/store/part.h"
#include "lib/store/row.h"

namespace usagedb {

// The store-wide dictionaries, one per low-cardinality string column.
struct Dictionaries {
  Dictionary user;
  Dictionary feature;
  Dictionary version;
  Dictionary event_type;
  Dictionary session;

  const Dictionary& get(Column c) const {
    switch (c) {
      case Column::kUser: return user;
      case Column::kFeature: return feature;
      case Column::kVersion: return version;
      case Column::kEventType: return event_type;
      case Column::kSession: return session;
    }
    return user;
  }
};

struct PartitionState {
  uint32_t month = 0;                               // yyyymm
  std::vector<std::shared_ptr<const Part>> parts;   // oldest first
  std::shared_ptr<const AppendBuffer> buffer;       // never null
};

struct Version {
  std::vector<PartitionState> partitions;  // ascending by month
};

// One partition as a query sees it.
struct PartitionView {
  const PartitionState* state;
  uint32_t buffer_rows;  // published buffer rows when the snapshot was taken
};

class Snapshot {
 public:
  Snapshot(const Dictionaries* dictionaries, std::shared_ptr<const Version> version)
      : dictionaries_(dictionaries), version_(std::move(version)) {
    partitions_.reserve(version_->partitions.size());
    for (const PartitionState& p : version_->partitions) {
      partitions_.push_back(PartitionView{&p, p.buffer->published_rows()});
    }
  }

  const Dictionaries& dictionaries() const { return *dictionaries_; }
  const std::vector<PartitionView>& partitions() const { return partitions_; }

 private:
  const Dictionaries* dictionaries_;
  std::shared_ptr<const Version> version_;
  std::vector<PartitionView> partitions_;
};

}  // namespace usagedb

#endif  // USAGEDB_STORE_SNAPSHOT_H_
