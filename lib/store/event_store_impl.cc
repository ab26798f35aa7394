#include "lib/store/event_store_impl.h"

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "lib/ingest/validate.h"
#include "lib/query/endpoints.h"
#include "lib/store/part_builder.h"
#include "lib/util/civil_time.h"
#include "lib/util/text.h"

namespace usagedb {

absl::StatusOr<std::unique_ptr<EventStore>> EventStore::open(const Options& options) {
  if (options.part_rows < 1 || options.part_rows > (1u << 30)) {
    return absl::InvalidArgumentError(
        absl::StrCat("options.part_rows: must be 1..", 1u << 30, ", got ", options.part_rows));
  }
  if (!options.directory.empty()) {
    return absl::UnimplementedError(absl::StrCat(
        "options.directory '", options.directory, "': durable stores are not built yet; leave it empty"));
  }
  return std::unique_ptr<EventStore>(new EventStoreImpl(options));
}

EventStoreImpl::EventStoreImpl(const Options& options)
    : options_(options), version_(std::make_shared<const Version>()) {
  // The empty string is always code 0 of the session dictionary: most events
  // without a session share it.
  dictionaries_.session.intern("");
}

EventStoreImpl::~EventStoreImpl() = default;

absl::Status EventStoreImpl::record_event(const Event& event) {
  auto report = record_events(std::span<const Event>(&event, 1));
  return report.status();
}

absl::StatusOr<IngestReport> EventStoreImpl::record_events(std::span<const Event> events) {
  for (size_t i = 0; i < events.size(); ++i) {
    if (auto err = validate_event(events[i])) {
      return absl::InvalidArgumentError(events.size() == 1
                                            ? absl::StrCat(text::absl_view(err->column), ": ", err->message)
                                            : absl::StrCat("events[", i, "].", text::absl_view(err->column), ": ",
                                                           err->message));
    }
  }
  MutexLock lock(&write_mu_);
  return append_locked(events);
}

absl::Status EventStoreImpl::flush() { return absl::OkStatus(); }

EventStoreImpl::PartitionWriter& EventStoreImpl::partition_locked(uint32_t month, bool* created) {
  auto it = partitions_.find(month);
  if (it != partitions_.end()) return *it->second;
  auto p = std::make_unique<PartitionWriter>();
  p->month = month;
  p->buffer = std::make_shared<AppendBuffer>(static_cast<uint32_t>(options_.part_rows));
  *created = true;
  return *partitions_.emplace(month, std::move(p)).first->second;
}

IngestReport EventStoreImpl::append_locked(std::span<const Event> events) {
  IngestReport report;
  bool version_changed = false;

  // Pass 1: route each event to its month's partition and drop duplicates.
  std::vector<const Event*> accepted;
  std::vector<PartitionWriter*> target;
  accepted.reserve(events.size());
  target.reserve(events.size());
  PartitionWriter* last = nullptr;
  for (const Event& e : events) {
    const uint32_t month = civil::month_id(e.timestamp.time_since_epoch().count());
    PartitionWriter* p = last != nullptr && last->month == month ? last : &partition_locked(month, &version_changed);
    last = p;
    if (options_.deduplicate && !e.event_id.empty() && !p->event_ids.insert(e.event_id)) {
      ++report.duplicate_rows;
      continue;
    }
    accepted.push_back(&e);
    target.push_back(p);
  }

  // Pass 2: encode the strings one dictionary at a time, so each dictionary's
  // lock is taken once per batch and its hash table stays hot in cache.
  const size_t n = accepted.size();
  std::vector<RowCodes> rows(n);
  std::vector<std::string_view> values(n);
  std::vector<uint32_t> codes(n);
  const auto encode = [&](std::string_view Event::*field, Dictionary& dict, uint32_t RowCodes::*column) {
    for (size_t i = 0; i < n; ++i) values[i] = accepted[i]->*field;
    dict.intern_many(values, codes.data());
    for (size_t i = 0; i < n; ++i) rows[i].*column = codes[i];
  };
  encode(&Event::feature_id, dictionaries_.feature, &RowCodes::feature);
  encode(&Event::product_version, dictionaries_.version, &RowCodes::version);
  encode(&Event::user_id, dictionaries_.user, &RowCodes::user);
  encode(&Event::event_type, dictionaries_.event_type, &RowCodes::event_type);
  encode(&Event::session_id, dictionaries_.session, &RowCodes::session);

  // Pass 3: append to the buffers, sealing full ones; publish once at the end.
  std::vector<PartitionWriter*> touched;
  for (size_t i = 0; i < n; ++i) {
    const Event& e = *accepted[i];
    PartitionWriter* p = target[i];
    if (touched.empty() || touched.back() != p) touched.push_back(p);
    rows[i].timestamp = static_cast<uint32_t>(e.timestamp.time_since_epoch().count());
    p->buffer->append(rows[i], e.event_id, e.metadata);
    if (p->buffer->full()) {
      seal_locked(*p);
      version_changed = true;
    }
  }
  report.successful_rows = n;
  for (PartitionWriter* p : touched) p->buffer->publish();
  if (version_changed) install_version_locked();
  return report;
}

void EventStoreImpl::seal_locked(PartitionWriter& p) {
  AppendBuffer& buffer = *p.buffer;
  buffer.publish();  // readers of the current Version keep seeing every row
  PartBuilder builder(buffer.size());
  for (uint32_t i = 0; i < buffer.size(); ++i) builder.add(buffer.row(i), buffer.event_id(i), buffer.metadata(i));
  p.parts.push_back(std::move(builder).finish(next_part_id_++, p.month, dictionaries_.feature, dictionaries_.version));
  p.buffer = std::make_shared<AppendBuffer>(static_cast<uint32_t>(options_.part_rows));
}

void EventStoreImpl::install_version_locked() {
  auto v = std::make_shared<Version>();
  v->partitions.reserve(partitions_.size());
  for (const auto& [month, p] : partitions_) {
    v->partitions.push_back(PartitionState{month, p->parts, p->buffer});
  }
  MutexLock lock(&version_mu_);
  version_ = std::move(v);
}

Snapshot EventStoreImpl::snapshot() const {
  std::shared_ptr<const Version> v;
  {
    ReaderMutexLock lock(&version_mu_);
    v = version_;
  }
  return Snapshot(&dictionaries_, std::move(v));
}

absl::StatusOr<QueryResult<UserFeatureUsageRow>> EventStoreImpl::user_feature_usage(
    const UserFeatureUsageQuery& query) const {
  return run_user_feature_usage(snapshot(), query);
}

absl::StatusOr<QueryResult<FeatureUsageSummaryRow>> EventStoreImpl::feature_usage_summary(
    const FeatureUsageSummaryQuery& query) const {
  return run_feature_usage_summary(snapshot(), query);
}

absl::StatusOr<QueryResult<FeatureUsageTimelineRow>> EventStoreImpl::feature_usage_timeline(
    const FeatureUsageTimelineQuery& query) const {
  return run_feature_usage_timeline(snapshot(), query);
}

}  // namespace usagedb
