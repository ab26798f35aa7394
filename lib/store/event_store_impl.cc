#include "lib/store/event_store_impl.h"

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "lib/ingest/validate.h"
#include "lib/query/endpoints.h"
#include "lib/store/merge_policy.h"
#include "lib/store/part_builder.h"
#include "lib/util/civil_time.h"
#include "lib/util/text.h"

namespace usagedb {
namespace {

// Sealed buffers waiting for the background thread beyond which writers
// seal inline: the writer slows down to the speed of sealing instead of
// queueing unbounded memory.
constexpr size_t kMaxQueuedSeals = 2;

}  // namespace

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
  if (options_.background_threads) background_ = std::thread([this] { background_loop(); });
}

EventStoreImpl::~EventStoreImpl() {
  {
    MutexLock lock(&write_mu_);
    stopping_ = true;
  }
  work_cv_.notify_all();
  if (background_.joinable()) background_.join();
}

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

std::shared_ptr<AppendBuffer> EventStoreImpl::new_buffer() const {
  return std::make_shared<AppendBuffer>(static_cast<uint32_t>(options_.part_rows));
}

EventStoreImpl::PartitionWriter& EventStoreImpl::partition_locked(uint32_t month, bool* created) {
  auto it = partitions_.find(month);
  if (it != partitions_.end()) return *it->second;
  auto p = std::make_unique<PartitionWriter>();
  p->month = month;
  p->buffer = new_buffer();
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

size_t EventStoreImpl::sealing_count_locked() const {
  size_t n = 0;
  for (const auto& [month, p] : partitions_) n += p->sealing.size();
  return n;
}

void EventStoreImpl::seal_locked(PartitionWriter& p) {
  if (p.buffer->size() == 0) return;
  p.buffer->publish();  // readers of the current Version keep seeing every row
  const uint64_t id = next_part_id_++;
  if (background_.joinable() && sealing_count_locked() < kMaxQueuedSeals) {
    p.sealing.emplace_back(p.buffer, id);
    work_cv_.notify_all();
  } else {
    p.parts.push_back(build_part(*p.buffer, id, p.month));
    if (background_.joinable()) work_cv_.notify_all();  // there may be parts to merge
  }
  p.buffer = new_buffer();
}

void EventStoreImpl::seal_all_locked() {
  for (auto& [month, p] : partitions_) {
    for (auto& [buffer, id] : p->sealing) p->parts.push_back(build_part(*buffer, id, month));
    p->sealing.clear();
    if (p->buffer->size() > 0) {
      p->buffer->publish();
      p->parts.push_back(build_part(*p->buffer, next_part_id_++, month));
      p->buffer = new_buffer();
    }
  }
}

std::shared_ptr<const Part> EventStoreImpl::build_part(const AppendBuffer& buffer, uint64_t id,
                                                       uint32_t month) const {
  PartBuilder builder(buffer.size());
  for (uint32_t i = 0; i < buffer.size(); ++i) builder.add(buffer.row(i), buffer.event_id(i), buffer.metadata(i));
  return std::move(builder).finish(id, month, dictionaries_.feature, dictionaries_.version);
}

std::shared_ptr<const Part> EventStoreImpl::merge_parts(const std::vector<std::shared_ptr<const Part>>& inputs,
                                                        uint64_t id, uint32_t month) const {
  size_t rows = 0;
  for (const auto& part : inputs) rows += part->rows();
  PartBuilder builder(rows);
  for (const auto& part : inputs) builder.add_part(*part);
  return std::move(builder).finish(id, month, dictionaries_.feature, dictionaries_.version);
}

bool EventStoreImpl::install_merge_locked(uint32_t month, const std::vector<std::shared_ptr<const Part>>& inputs,
                                          std::shared_ptr<const Part> merged) {
  auto it = partitions_.find(month);
  if (it == partitions_.end()) return false;
  auto& parts = it->second->parts;
  for (const auto& input : inputs) {
    if (std::find(parts.begin(), parts.end(), input) == parts.end()) return false;  // replaced meanwhile
  }
  std::erase_if(parts, [&](const auto& part) { return std::find(inputs.begin(), inputs.end(), part) != inputs.end(); });
  parts.push_back(std::move(merged));
  return true;
}

std::optional<EventStoreImpl::MergeTask> EventStoreImpl::pick_merge_locked() {
  for (const auto& [month, p] : partitions_) {
    std::vector<uint32_t> rows;
    for (const auto& part : p->parts) rows.push_back(part->rows());
    const std::vector<size_t> pick = pick_merge(rows, options_.part_rows);
    if (pick.empty()) continue;
    MergeTask task{month, {}};
    for (const size_t i : pick) task.inputs.push_back(p->parts[i]);
    return task;
  }
  return std::nullopt;
}

// The thread-safety analysis cannot follow the condition variable's
// unlock/relock of write_mu_, so this function is checked by TSan instead.
void EventStoreImpl::background_loop() ABSL_NO_THREAD_SAFETY_ANALYSIS {
  write_mu_.lock();
  while (!stopping_) {
    // Sealing first: it is what keeps writers from slowing down.
    std::optional<SealTask> seal;
    for (const auto& [month, p] : partitions_) {
      if (!p->sealing.empty()) {
        seal = SealTask{month, p->sealing.front().first, p->sealing.front().second};
        break;
      }
    }
    if (seal) {
      busy_ = true;
      write_mu_.unlock();
      std::shared_ptr<const Part> part = build_part(*seal->buffer, seal->part_id, seal->month);
      write_mu_.lock();
      busy_ = false;
      auto it = partitions_.find(seal->month);
      if (it != partitions_.end()) {
        auto& sealing = it->second->sealing;
        auto entry = std::find_if(sealing.begin(), sealing.end(),
                                  [&](const auto& s) { return s.first == seal->buffer; });
        // Absent when compact/delete_user/retention dealt with it meanwhile.
        if (entry != sealing.end()) {
          sealing.erase(entry);
          it->second->parts.push_back(std::move(part));
          install_version_locked();
        }
      }
      work_cv_.notify_all();
      continue;
    }
    if (std::optional<MergeTask> merge = pick_merge_locked()) {
      const uint64_t id = next_part_id_++;
      busy_ = true;
      write_mu_.unlock();
      std::shared_ptr<const Part> merged = merge_parts(merge->inputs, id, merge->month);
      write_mu_.lock();
      busy_ = false;
      if (install_merge_locked(merge->month, merge->inputs, std::move(merged))) install_version_locked();
      work_cv_.notify_all();
      continue;
    }
    work_cv_.wait(write_mu_);
  }
  write_mu_.unlock();
}

void EventStoreImpl::wait_for_background_work() ABSL_NO_THREAD_SAFETY_ANALYSIS {
  write_mu_.lock();
  while (background_.joinable() && (busy_ || sealing_count_locked() > 0 || pick_merge_locked().has_value())) {
    work_cv_.wait(write_mu_);
  }
  write_mu_.unlock();
}

absl::Status EventStoreImpl::compact() {
  std::vector<uint32_t> months;
  {
    MutexLock lock(&write_mu_);
    seal_all_locked();
    install_version_locked();
    for (const auto& [month, p] : partitions_) months.push_back(month);
  }
  for (const uint32_t month : months) {
    // A concurrent writer or merge may change the parts while we merge
    // outside the lock; then the install fails and we try again.
    for (int attempt = 0; attempt < 3; ++attempt) {
      MergeTask task{month, {}};
      uint64_t id;
      {
        MutexLock lock(&write_mu_);
        auto it = partitions_.find(month);
        if (it == partitions_.end() || it->second->parts.size() < 2) break;
        task.inputs = it->second->parts;
        id = next_part_id_++;
      }
      std::shared_ptr<const Part> merged = merge_parts(task.inputs, id, month);
      MutexLock lock(&write_mu_);
      if (install_merge_locked(month, task.inputs, std::move(merged))) {
        install_version_locked();
        break;
      }
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> EventStoreImpl::drop_partitions_before(uint32_t yyyymm) {
  const uint32_t year = yyyymm / 100, month = yyyymm % 100;
  if (month < 1 || month > 12 || year < 1970 || year > 2106) {
    return absl::InvalidArgumentError(
        absl::StrCat("month: expected YYYYMM between 197001 and 210601, got ", yyyymm));
  }
  MutexLock lock(&write_mu_);
  uint64_t removed = 0;
  for (auto it = partitions_.begin(); it != partitions_.end() && it->first < yyyymm;) {
    const PartitionWriter& p = *it->second;
    for (const auto& part : p.parts) removed += part->rows();
    for (const auto& [buffer, id] : p.sealing) removed += buffer->size();
    removed += p.buffer->size();
    it = partitions_.erase(it);
  }
  install_version_locked();
  return removed;
}

absl::StatusOr<uint64_t> EventStoreImpl::delete_user(std::string_view user_id) {
  MutexLock lock(&write_mu_);
  const std::optional<uint32_t> code = dictionaries_.user.find(user_id);
  if (!code.has_value()) return 0;
  seal_all_locked();
  uint64_t removed = 0;
  for (auto& [month_key, writer] : partitions_) {
    // Plain references: lambdas cannot capture structured bindings in C++20.
    const uint32_t month = month_key;
    PartitionWriter* p = writer.get();
    std::vector<std::shared_ptr<const Part>> kept;
    for (auto& part : p->parts) {
      const Bitmap* rows = part->user_rows(*code);
      if (rows == nullptr) {
        kept.push_back(std::move(part));
        continue;
      }
      rows->for_each([&](uint32_t row) {
        if (!part->event_id(row).empty()) p->event_ids.erase(part->event_id(row));
      });
      removed += rows->cardinality();
      if (rows->cardinality() == part->rows()) continue;  // the part held only this user
      PartBuilder builder(part->rows() - rows->cardinality());
      const PartColumns& c = part->columns();
      for (uint32_t i = 0; i < part->rows(); ++i) {
        if (c.user[i] == *code) continue;
        builder.add(RowCodes{c.timestamp[i], c.feature[i], c.version[i], c.user[i], c.event_type[i], c.session[i]},
                    part->event_id(i), part->metadata(i));
      }
      kept.push_back(std::move(builder).finish(next_part_id_++, month, dictionaries_.feature, dictionaries_.version));
    }
    p->parts = std::move(kept);
  }
  dictionaries_.user.erase(*code);
  install_version_locked();
  return removed;
}

void EventStoreImpl::install_version_locked() {
  auto v = std::make_shared<Version>();
  v->partitions.reserve(partitions_.size());
  for (const auto& [month, p] : partitions_) {
    PartitionState state{month, p->parts, {}, p->buffer};
    for (const auto& [buffer, id] : p->sealing) state.sealing.push_back(buffer);
    v->partitions.push_back(std::move(state));
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
