#include "tests/db/durability_testing.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "lib/gen/random.h"
#include "lib/storage/log_reader.h"
#include "tests/testutil/printers.h"

namespace usagedb::testing {
namespace {

auto key(const OwnedEvent& e) {
  return std::tie(e.timestamp, e.event_id, e.user_id, e.feature_id, e.product_version, e.event_type, e.session_id,
                  e.metadata);
}

std::string describe(const OwnedEvent& e) {
  return absl::StrCat("{", e.event_id, ", ", e.user_id, ", ", e.feature_id, ", ", e.product_version, ", ", e.event_type,
                      ", ", format_timestamp(e.timestamp), ", ", e.session_id, ", ", e.metadata, "}");
}

OwnedEvent owned(const Dictionaries& d, const RowCodes& row, std::string_view event_id, std::string_view metadata) {
  return OwnedEvent{std::string(event_id),
                    std::string(d.user.lookup(row.user)),
                    std::string(d.feature.lookup(row.feature)),
                    std::string(d.version.lookup(row.version)),
                    std::string(d.event_type.lookup(row.event_type)),
                    Timestamp{std::chrono::seconds{row.timestamp}},
                    std::string(d.session.lookup(row.session)),
                    std::string(metadata)};
}

// Random requests whose parameters come from the data, so most of them hit.
class QueryMaker {
 public:
  QueryMaker(const Reference& reference, uint64_t seed) : random_(seed) {
    std::set<std::string> users, features, versions, types;
    for (const OwnedEvent& e : reference.events()) {
      users.insert(e.user_id);
      features.insert(e.feature_id);
      versions.insert(e.product_version);
      types.insert(e.event_type);
      times_.push_back(e.timestamp);
    }
    users_.assign(users.begin(), users.end());
    features_.assign(features.begin(), features.end());
    versions_.assign(versions.begin(), versions.end());
    types_.assign(types.begin(), types.end());
  }

  UserFeatureUsageQuery user() {
    UserFeatureUsageQuery q;
    q.user_id = pick(users_, 0.02);
    q.feature_id = pick(features_, 0.6);
    q.product_version = pick(versions_, 0.8);
    paging(&q.limit, &q.skip);
    return q;
  }
  FeatureUsageSummaryQuery summary() {
    FeatureUsageSummaryQuery q;
    q.feature_id = pick(features_, 0.6);
    q.product_version = pick(versions_, 0.8);
    q.event_type = pick(types_, 0.7);
    window(&q.start_date, &q.end_date);
    paging(&q.limit, &q.skip);
    return q;
  }
  FeatureUsageTimelineQuery timeline() {
    FeatureUsageTimelineQuery q;
    constexpr Granularity kAll[] = {Granularity::kHour, Granularity::kDay, Granularity::kWeek, Granularity::kMonth};
    q.granularity = kAll[random_.uniform(4)];
    q.feature_id = pick(features_, 0.6);
    q.product_version = pick(versions_, 0.8);
    q.event_type = pick(types_, 0.7);
    window(&q.start_date, &q.end_date);
    paging(&q.limit, &q.skip);
    return q;
  }

 private:
  std::optional<std::string> pick(const std::vector<std::string>& pool, double p_absent) {
    if (pool.empty() || random_.chance(p_absent)) return std::nullopt;
    return pool[random_.uniform(pool.size())];
  }
  void window(std::optional<Timestamp>* start, std::optional<Timestamp>* end) {
    if (times_.empty()) return;
    if (random_.chance(0.4)) *start = times_[random_.uniform(times_.size())];
    if (random_.chance(0.4)) *end = times_[random_.uniform(times_.size())];
    if (*start && *end && **end < **start) std::swap(*start, *end);
  }
  void paging(std::optional<uint64_t>* limit, std::optional<uint64_t>* skip) {
    if (random_.chance(0.2)) *limit = random_.uniform(5);
    if (random_.chance(0.2)) *skip = random_.uniform(5);
  }

  gen::Random random_;
  std::vector<std::string> users_, features_, versions_, types_;
  std::vector<Timestamp> times_;
};

template <typename Row>
::testing::AssertionResult same_result(const absl::StatusOr<QueryResult<Row>>& got, const QueryResult<Row>& want,
                                       std::string_view endpoint, int i) {
  if (!got.ok()) return ::testing::AssertionFailure() << endpoint << " query " << i << ": " << got.status();
  if (got->rows != want.rows || got->rows_before_limit != want.rows_before_limit) {
    return ::testing::AssertionFailure() << endpoint << " query " << i << ": got "
                                         << ::testing::PrintToString(got->rows) << " (" << got->rows_before_limit
                                         << " before limit), want " << ::testing::PrintToString(want.rows) << " ("
                                         << want.rows_before_limit << ")";
  }
  return ::testing::AssertionSuccess();
}

class FlushOnlyFile final : public storage::WritableFile {
 public:
  explicit FlushOnlyFile(std::unique_ptr<storage::WritableFile> base) : base_(std::move(base)) {}
  absl::Status append(std::string_view data) override { return base_->append(data); }
  absl::Status flush() override { return base_->flush(); }
  absl::Status sync() override { return base_->flush(); }
  absl::Status zero_fill(uint64_t end) override { return base_->zero_fill(end); }
  absl::Status close() override { return base_->close(); }
  uint64_t size() const override { return base_->size(); }
  const std::string& path() const override { return base_->path(); }

 private:
  const std::unique_ptr<storage::WritableFile> base_;
};

class NoFsyncFileSystem final : public storage::FileSystem {
 public:
  using Writable = absl::StatusOr<std::unique_ptr<storage::WritableFile>>;
  Writable open_append(const std::string& path) override { return wrap(posix()->open_append(path)); }
  Writable open_truncate(const std::string& path) override { return wrap(posix()->open_truncate(path)); }
  absl::StatusOr<std::unique_ptr<storage::SequentialFile>> open_sequential(const std::string& path) override {
    return posix()->open_sequential(path);
  }
  absl::StatusOr<std::string> read_file(const std::string& path) override { return posix()->read_file(path); }
  absl::Status sync_dir(const std::string&) override { return absl::OkStatus(); }
  absl::Status create_dir(const std::string& dir) override { return posix()->create_dir(dir); }
  absl::StatusOr<std::vector<std::string>> list_dir(const std::string& dir) override { return posix()->list_dir(dir); }
  absl::Status remove_file(const std::string& path) override { return posix()->remove_file(path); }
  absl::Status rename_file(const std::string& from, const std::string& to) override {
    return posix()->rename_file(from, to);
  }
  absl::StatusOr<uint64_t> file_size(const std::string& path) override { return posix()->file_size(path); }
  bool file_exists(const std::string& path) override { return posix()->file_exists(path); }
  absl::Status truncate_file(const std::string& path, uint64_t size) override {
    return posix()->truncate_file(path, size);
  }
  absl::StatusOr<std::unique_ptr<storage::FileLock>> lock_file(const std::string& path) override {
    return posix()->lock_file(path);
  }

 private:
  static Writable wrap(Writable file) {
    if (!file.ok()) return file;
    return std::make_unique<FlushOnlyFile>(*std::move(file));
  }
};

}  // namespace

storage::FileSystem* posix_without_fsync() {
  static NoFsyncFileSystem* const fs = new NoFsyncFileSystem;
  return fs;
}

bool long_tests() {
  const char* value = std::getenv("USAGEDB_LONG_TESTS");
  return value != nullptr && std::string_view(value) == "1";
}

absl::StatusOr<std::unique_ptr<EventStoreImpl>> open_durable(const std::string& dir, storage::FileSystem* fs,
                                                             Options options) {
  options.directory = dir;
  // Every read of a reopened part goes through the cache's eviction.
  if (options.cache_bytes == 0) options.cache_bytes = 1;
  return EventStoreImpl::open(options, fs);
}

void crash(std::unique_ptr<EventStoreImpl>& store, FaultInjectionFileSystem& fs) {
  fs.set_operation_budget(0);
  store.reset();
  fs.clear_faults();
  const absl::Status dropped = fs.drop_unsynced_data();
  ASSERT_TRUE(dropped.ok()) << dropped;
}

std::vector<OwnedEvent> stored_events(EventStoreImpl& store) {
  store.wait_for_background_work();
  if (absl::Status s = store.ensure_sessions(); !s.ok()) ADD_FAILURE() << s;
  const Snapshot snapshot = store.snapshot();
  const Dictionaries& d = snapshot.dictionaries();
  std::vector<OwnedEvent> events;
  for (const PartitionView& p : snapshot.partitions()) {
    for (const auto& part : p.parts()) {
      if (!snapshot.pin(*part)) {
        ADD_FAILURE() << snapshot.status();
        continue;
      }
      const PartColumns& c = part->columns();
      for (uint32_t i = 0; i < part->rows(); ++i) {
        const RowCodes row{c.timestamp[i], c.feature[i], c.version[i], c.user[i], c.event_type[i], c.session[i]};
        events.push_back(owned(d, row, part->event_id(i), part->metadata(i)));
      }
    }
    // Without a writer, the buffers' writer-side accessors are safe to read.
    for (const BufferView& b : p.buffers) {
      for (uint32_t i = 0; i < b.rows; ++i) {
        events.push_back(owned(d, b.buffer->row(i), b.buffer->event_id(i), b.buffer->metadata(i)));
      }
    }
  }
  return sorted(std::move(events));
}

std::vector<OwnedEvent> sorted(std::vector<OwnedEvent> events) {
  std::sort(events.begin(), events.end(), [](const OwnedEvent& a, const OwnedEvent& b) { return key(a) < key(b); });
  return events;
}

bool same_event(const OwnedEvent& a, const OwnedEvent& b) { return key(a) == key(b); }

::testing::AssertionResult matches_reference(EventStoreImpl& store, const Reference& reference, uint64_t seed,
                                             int queries) {
  const std::vector<OwnedEvent> got = stored_events(store);
  const std::vector<OwnedEvent> want = sorted(reference.events());
  for (size_t i = 0; i < std::max(got.size(), want.size()); ++i) {
    if (i >= got.size() || i >= want.size() || !same_event(got[i], want[i])) {
      return ::testing::AssertionFailure() << "the store holds " << got.size() << " events, the reference "
                                           << want.size() << "; first difference at sorted position " << i << ": store "
                                           << (i < got.size() ? describe(got[i]) : "(none)") << ", reference "
                                           << (i < want.size() ? describe(want[i]) : "(none)");
    }
  }
  QueryMaker maker(reference, seed);
  for (int i = 0; i < queries; ++i) {
    const UserFeatureUsageQuery uq = maker.user();
    if (auto r = same_result(store.user_feature_usage(uq), reference.user_feature_usage(uq), "user_feature_usage", i);
        !r) {
      return r;
    }
    const FeatureUsageSummaryQuery sq = maker.summary();
    if (auto r = same_result(store.feature_usage_summary(sq), reference.feature_usage_summary(sq),
                             "feature_usage_summary", i);
        !r) {
      return r;
    }
    const FeatureUsageTimelineQuery tq = maker.timeline();
    if (auto r = same_result(store.feature_usage_timeline(tq), reference.feature_usage_timeline(tq),
                             "feature_usage_timeline", i);
        !r) {
      return r;
    }
  }
  return ::testing::AssertionSuccess();
}

bool same_quarantine(const std::vector<QuarantinedRow>& a, const std::vector<QuarantinedRow>& b) {
  const auto k = [](const QuarantinedRow& r) {
    return std::tie(r.source, r.line, r.raw, r.columns, r.error, r.inserted_at);
  };
  return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                    [&](const QuarantinedRow& x, const QuarantinedRow& y) { return k(x) == k(y); });
}

void copy_dir(const std::string& from, const std::string& to) {
  for (const std::string& name : file_names(from)) {
    std::filesystem::copy_file(std::filesystem::path(from) / name, std::filesystem::path(to) / name,
                               std::filesystem::copy_options::overwrite_existing);
  }
}

std::vector<std::string> file_names(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.is_regular_file()) names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::string file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::vector<uint64_t> log_record_ends(const std::string& path) {
  std::vector<uint64_t> ends;
  auto reader = storage::LogReader::open(path, std::nullopt);
  if (!reader.ok()) {
    ADD_FAILURE() << reader.status();
    return ends;
  }
  std::string_view record;
  for (;;) {
    auto more = (*reader)->read_record(&record);
    if (!more.ok()) {
      ADD_FAILURE() << more.status();
      break;
    }
    if (!*more) break;
    ends.push_back((*reader)->valid_prefix_end());
  }
  return ends;
}

std::vector<OwnedEvent> generate_events(const gen::GeneratorOptions& options) {
  gen::Generator g(options);
  std::vector<OwnedEvent> out;
  while (const Event* e = g.next()) out.push_back(OwnedEvent::from(*e));
  return out;
}

std::vector<Event> views(const std::vector<OwnedEvent>& events, size_t begin, size_t end) {
  std::vector<Event> out;
  for (size_t i = begin; i < end; ++i) out.push_back(events[i].view());
  return out;
}

}  // namespace usagedb::testing
