// Micro benchmarks of the engine on generated events (lib/gen, the generator
// the tests and the CLI use): record_event throughput and the latency of
// each endpoint on a store of 1M events (USAGEDB_BENCH_EVENTS overrides),
// and record_event from several threads on a durable store.
//
//   build/bench/usagedb_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <stdlib.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "lib/gen/generator.h"
#include "lib/query/snapshot.h"
#include "lib/table/part_builder.h"
#include "usagedb/usagedb.h"

namespace usagedb {
namespace {

uint64_t bench_events() {
  const char* env = std::getenv("USAGEDB_BENCH_EVENTS");
  return env != nullptr ? std::strtoull(env, nullptr, 10) : 1'000'000;
}

struct OwnedEvents {
  std::vector<std::string> strings;  // backing store for the views
  std::vector<Event> events;
};

// Materializes generated events once, so benchmarks time only the store.
const OwnedEvents& generated() {
  static const OwnedEvents* owned = [] {
    auto* o = new OwnedEvents;
    gen::Generator g({.events = bench_events(), .seed = 42});
    std::vector<std::array<size_t, 6>> offsets;
    std::string& blob = o->strings.emplace_back();
    std::vector<Event> raw;
    while (const Event* e = g.next()) {
      std::array<size_t, 6> at{};
      const std::string_view fields[] = {e->event_id, e->user_id, e->feature_id, e->product_version,
                                         e->session_id, e->metadata};
      for (int i = 0; i < 6; ++i) {
        at[i] = blob.size();
        blob.append(fields[i]);
      }
      offsets.push_back(at);
      raw.push_back(*e);  // event_type points at a static literal
    }
    for (size_t i = 0; i < raw.size(); ++i) {
      const auto& at = offsets[i];
      const Event& r = raw[i];
      auto view = [&](int k, size_t len) { return std::string_view(blob).substr(at[k], len); };
      o->events.push_back(Event{view(0, r.event_id.size()), view(1, r.user_id.size()), view(2, r.feature_id.size()),
                                view(3, r.product_version.size()), r.event_type, r.timestamp,
                                view(4, r.session_id.size()), view(5, r.metadata.size())});
    }
    return o;
  }();
  return *owned;
}

// The store every query benchmark reads, and the users it picks.
struct Loaded {
  std::unique_ptr<EventStore> store;
  std::string typical_user;  // median events per user
  std::string heavy_user;    // most events
  std::string top_feature;
  std::vector<std::string> top_features;  // the three most used, most used first
};

const Loaded& loaded() {
  static const Loaded* l = [] {
    auto* out = new Loaded;
    out->store = EventStore::open({}).value();
    const auto& events = generated().events;
    for (size_t i = 0; i < events.size(); i += 10000) {
      const size_t n = std::min<size_t>(10000, events.size() - i);
      if (!out->store->record_events(std::span<const Event>(events.data() + i, n)).ok()) std::abort();
    }
    // One part per month and every rollup built: the steady state of a store
    // whose writes have paused (USAGEDB_BENCH_NO_COMPACT=1 measures the
    // freshly written store instead: many parts, scans, no rollups yet).
    if (std::getenv("USAGEDB_BENCH_NO_COMPACT") == nullptr) {
      if (!out->store->compact().ok()) std::abort();
    }
    absl::flat_hash_map<std::string_view, uint64_t> per_user, per_feature;
    for (const Event& e : events) {
      ++per_user[e.user_id];
      ++per_feature[e.feature_id];
    }
    std::vector<std::pair<uint64_t, std::string_view>> users;
    for (const auto& [u, n] : per_user) users.emplace_back(n, u);
    std::sort(users.begin(), users.end());
    out->typical_user = std::string(users[users.size() / 2].second);
    out->heavy_user = std::string(users.back().second);
    std::vector<std::pair<uint64_t, std::string_view>> features;
    for (const auto& [f, n] : per_feature) features.emplace_back(n, f);
    std::sort(features.begin(), features.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
    out->top_feature = std::string(features.front().second);
    for (size_t i = 0; i < 3 && i < features.size(); ++i) out->top_features.emplace_back(features[i].second);
    return out;
  }();
  return *l;
}

Timestamp at(const char* s) { return parse_timestamp(s).value(); }

void BM_RecordEvent(benchmark::State& state) {
  const auto& events = generated().events;
  for (auto _ : state) {
    state.PauseTiming();
    auto store = EventStore::open({}).value();
    state.ResumeTiming();
    for (const Event& e : events) benchmark::DoNotOptimize(store->record_event(e));
    state.PauseTiming();
    store.reset();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * events.size()));
}
BENCHMARK(BM_RecordEvent)->Unit(benchmark::kMillisecond)->Iterations(1);

void BM_RecordEventsBatch(benchmark::State& state) {
  const auto& events = generated().events;
  const size_t batch = static_cast<size_t>(state.range(0));
  for (auto _ : state) {
    state.PauseTiming();
    auto store = EventStore::open({}).value();
    state.ResumeTiming();
    for (size_t i = 0; i < events.size(); i += batch) {
      benchmark::DoNotOptimize(
          store->record_events(std::span<const Event>(events.data() + i, std::min(batch, events.size() - i))));
    }
    state.PauseTiming();
    store.reset();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * events.size()));
}
BENCHMARK(BM_RecordEventsBatch)->Arg(1000)->Unit(benchmark::kMillisecond)->Iterations(1);

// record_event from 1, 2, 4 and 8 application threads on one durable store
// (a fresh directory under $TMPDIR), without and with Options::sync
// (arg 0 / 1): the writer path of docs/STORAGE.md "Writing". Each call is
// one of the generated events restamped into one month (an application
// stamps events with the current time) under a new event_id, so none is a
// duplicate; items_per_second is the rate of all threads together.
//
//   build/bench/usagedb_bench --benchmark_filter=RecordEventThreads
struct WriterStore {
  std::string dir;
  std::unique_ptr<EventStore> store;
};
WriterStore* writer_store = nullptr;

void open_writer_store(const benchmark::State& state) {
  std::string tmpl = (std::filesystem::temp_directory_path() / "usagedb_writers_bench_XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) {
    std::perror("mkdtemp");
    std::abort();
  }
  auto store = EventStore::open({.directory = tmpl, .sync = state.range(0) != 0});
  if (!store.ok()) {
    std::fprintf(stderr, "open %s: %s\n", tmpl.c_str(), store.status().ToString().c_str());
    std::abort();
  }
  writer_store = new WriterStore{tmpl, *std::move(store)};
}

void close_writer_store(const benchmark::State&) {
  writer_store->store.reset();  // its closing checkpoint is not timed
  std::error_code ignored;
  std::filesystem::remove_all(writer_store->dir, ignored);
  delete writer_store;
  writer_store = nullptr;
}

void BM_RecordEventThreads(benchmark::State& state) {
  const auto& events = generated().events;
  const Timestamp month = at("2025-12-01 00:00:00");
  const size_t thread = static_cast<size_t>(state.thread_index());
  const size_t threads = static_cast<size_t>(state.threads());
  EventStore& store = *writer_store->store;
  std::string id;
  size_t i = thread;
  uint64_t n = 0;
  for (auto _ : state) {
    Event e = events[i % events.size()];
    id.assign("bench-");
    absl::StrAppend(&id, thread, "-", n++);
    e.event_id = id;
    e.timestamp = month + std::chrono::seconds(i % (28 * 86400));
    if (absl::Status s = store.record_event(e); !s.ok()) {
      state.SkipWithError(std::string(s.message()).c_str());
      break;
    }
    i += threads;
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_RecordEventThreads)
    ->ArgName("sync")
    ->Arg(0)
    ->Arg(1)
    ->Threads(1)
    ->Threads(2)
    ->Threads(4)
    ->Threads(8)
    ->UseRealTime()
    ->Setup(open_writer_store)
    ->Teardown(close_writer_store);

// Sealing: sorting a buffer's rows into a part and building its indexes.
void BM_PartBuild(benchmark::State& state) {
  const auto& events = generated().events;
  const size_t rows = static_cast<size_t>(state.range(0));
  Dictionaries dicts;
  std::vector<RowCodes> codes;
  for (size_t i = 0; i < rows && i < events.size(); ++i) {
    const Event& e = events[i];
    codes.push_back(RowCodes{static_cast<uint32_t>(e.timestamp.time_since_epoch().count()),
                             dicts.feature.intern(e.feature_id), dicts.version.intern(e.product_version),
                             dicts.user.intern(e.user_id), dicts.event_type.intern(e.event_type),
                             dicts.session.intern(e.session_id)});
  }
  for (auto _ : state) {
    PartBuilder builder(codes.size());
    for (size_t i = 0; i < codes.size(); ++i) builder.add(codes[i], i + 1, events[i].event_id, events[i].metadata);
    benchmark::DoNotOptimize(std::move(builder).finish(1, 202501, dicts.feature, dicts.version));
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * codes.size()));
}
BENCHMARK(BM_PartBuild)->Arg(16384)->Arg(1 << 20)->Unit(benchmark::kMillisecond);

template <typename Query>
void run_query(benchmark::State& state, Query query) {
  const Loaded& l = loaded();
  uint64_t rows = 0, rows_read = 0;
  for (auto _ : state) {
    auto result = query(*l.store, l);
    if (!result.ok()) state.SkipWithError(std::string(result.status().message()).c_str());
    rows = result->rows.size();
    rows_read = result->statistics.rows_read;
    benchmark::DoNotOptimize(result);
  }
  state.counters["rows"] = static_cast<double>(rows);
  state.counters["rows_read"] = static_cast<double>(rows_read);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}

void BM_UserFeatureUsage_Typical(benchmark::State& state) {
  run_query(state, [](const EventStore& s, const Loaded& l) { return s.user_feature_usage({.user_id = l.typical_user}); });
}
BENCHMARK(BM_UserFeatureUsage_Typical)->Unit(benchmark::kMicrosecond);

void BM_UserFeatureUsage_Heavy(benchmark::State& state) {
  run_query(state, [](const EventStore& s, const Loaded& l) { return s.user_feature_usage({.user_id = l.heavy_user}); });
}
BENCHMARK(BM_UserFeatureUsage_Heavy)->Unit(benchmark::kMicrosecond);

void BM_UserFeatureUsage_HeavyWithFeature(benchmark::State& state) {
  run_query(state, [](const EventStore& s, const Loaded& l) {
    return s.user_feature_usage({.user_id = l.heavy_user, .feature_id = l.top_feature});
  });
}
BENCHMARK(BM_UserFeatureUsage_HeavyWithFeature)->Unit(benchmark::kMicrosecond);

void BM_Summary_Month(benchmark::State& state) {
  run_query(state, [](const EventStore& s, const Loaded&) {
    return s.feature_usage_summary({.start_date = at("2025-06-01 00:00:00"), .end_date = at("2025-07-01 00:00:00")});
  });
}
BENCHMARK(BM_Summary_Month)->Unit(benchmark::kMillisecond);

void BM_Summary_Year(benchmark::State& state) {
  run_query(state, [](const EventStore& s, const Loaded&) {
    return s.feature_usage_summary({.start_date = at("2025-01-01 00:00:00"), .end_date = at("2026-01-01 00:00:00")});
  });
}
BENCHMARK(BM_Summary_Year)->Unit(benchmark::kMillisecond);

void BM_Timeline_DailyOneFeatureYear(benchmark::State& state) {
  run_query(state, [](const EventStore& s, const Loaded& l) {
    return s.feature_usage_timeline({.granularity = Granularity::kDay, .feature_id = l.top_feature,
                                     .start_date = at("2025-01-01 00:00:00"), .end_date = at("2026-01-01 00:00:00")});
  });
}
BENCHMARK(BM_Timeline_DailyOneFeatureYear)->Unit(benchmark::kMillisecond);

void BM_Timeline_HourlyWeek(benchmark::State& state) {
  run_query(state, [](const EventStore& s, const Loaded&) {
    return s.feature_usage_timeline({.granularity = Granularity::kHour, .start_date = at("2025-06-02 00:00:00"),
                                     .end_date = at("2025-06-09 00:00:00")});
  });
}
BENCHMARK(BM_Timeline_HourlyWeek)->Unit(benchmark::kMillisecond);

void BM_Adoption_Month(benchmark::State& state) {
  run_query(state, [](const EventStore& s, const Loaded&) {
    return s.feature_adoption({.start_date = at("2025-06-01 00:00:00"), .end_date = at("2025-07-01 00:00:00")});
  });
}
BENCHMARK(BM_Adoption_Month)->Unit(benchmark::kMillisecond);

void BM_Adoption_Year(benchmark::State& state) {
  run_query(state, [](const EventStore& s, const Loaded&) {
    return s.feature_adoption({.start_date = at("2025-01-01 00:00:00"), .end_date = at("2026-01-01 00:00:00")});
  });
}
BENCHMARK(BM_Adoption_Year)->Unit(benchmark::kMillisecond);

// Daily, weekly and monthly active users over the year: the argument is window_days.
void BM_ActiveUsers_Year(benchmark::State& state) {
  const auto w = static_cast<uint32_t>(state.range(0));
  run_query(state, [w](const EventStore& s, const Loaded&) {
    using std::chrono::sys_days;
    return s.active_users({.window_days = w,
                           .start_date = sys_days{std::chrono::year{2025} / 1 / 1},
                           .end_date = sys_days{std::chrono::year{2026} / 1 / 1}});
  });
}
BENCHMARK(BM_ActiveUsers_Year)->Arg(1)->Arg(7)->Arg(28)->Unit(benchmark::kMillisecond);

void BM_Retention_WeeklyOneFeatureYear(benchmark::State& state) {
  run_query(state, [](const EventStore& s, const Loaded& l) {
    return s.feature_retention({.feature_id = l.top_feature, .granularity = Granularity::kWeek,
                                .start_date = at("2025-01-01 00:00:00"), .end_date = at("2026-01-01 00:00:00")});
  });
}
BENCHMARK(BM_Retention_WeeklyOneFeatureYear)->Unit(benchmark::kMillisecond);

void BM_Retention_WeeklyProductYear(benchmark::State& state) {
  run_query(state, [](const EventStore& s, const Loaded&) {
    return s.feature_retention({.granularity = Granularity::kWeek, .start_date = at("2025-01-01 00:00:00"),
                                .end_date = at("2026-01-01 00:00:00")});
  });
}
BENCHMARK(BM_Retention_WeeklyProductYear)->Unit(benchmark::kMillisecond);

// SPEC 2.11 on the engagement endpoints: weekly active users and weekly
// product retention over the year in New York (whole hours: hour cells and
// day bitmaps) and in Kolkata (+5:30: a UTC hour a day read from the rows).
void BM_ActiveUsers_WeeklyYearInZone(benchmark::State& state, const char* zone) {
  run_query(state, [zone](const EventStore& s, const Loaded&) {
    using std::chrono::sys_days;
    return s.active_users({.window_days = 7,
                           .start_date = sys_days{std::chrono::year{2025} / 1 / 1},
                           .end_date = sys_days{std::chrono::year{2026} / 1 / 1},
                           .tz = zone});
  });
}
BENCHMARK_CAPTURE(BM_ActiveUsers_WeeklyYearInZone, NewYork, "America/New_York")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_ActiveUsers_WeeklyYearInZone, Kolkata, "Asia/Kolkata")->Unit(benchmark::kMillisecond);

void BM_Retention_WeeklyProductYearInZone(benchmark::State& state, const char* zone) {
  run_query(state, [zone](const EventStore& s, const Loaded&) {
    return s.feature_retention({.granularity = Granularity::kWeek, .start_date = at("2025-01-01 00:00:00"),
                                .end_date = at("2026-01-01 00:00:00"), .tz = zone});
  });
}
BENCHMARK_CAPTURE(BM_Retention_WeeklyProductYearInZone, NewYork, "America/New_York")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Retention_WeeklyProductYearInZone, Kolkata, "Asia/Kolkata")->Unit(benchmark::kMillisecond);

void BM_Funnel_ThreeStepsOneDayYear(benchmark::State& state) {
  run_query(state, [](const EventStore& s, const Loaded& l) {
    return s.feature_funnel({.steps = l.top_features, .window = std::chrono::seconds(86400),
                             .start_date = at("2025-01-01 00:00:00"), .end_date = at("2026-01-01 00:00:00")});
  });
}
BENCHMARK(BM_Funnel_ThreeStepsOneDayYear)->Unit(benchmark::kMillisecond);

// SPEC 2.11: the daily timeline of one feature in a zone of whole-hour
// offsets (from hour cells) and in one of half hours (a UTC hour a day read
// from the rows).
void BM_Timeline_DailyOneFeatureYearNewYork(benchmark::State& state) {
  run_query(state, [](const EventStore& s, const Loaded& l) {
    return s.feature_usage_timeline({.granularity = Granularity::kDay, .feature_id = l.top_feature,
                                     .start_date = at("2025-01-01 00:00:00"), .end_date = at("2026-01-01 00:00:00"),
                                     .tz = "America/New_York"});
  });
}
BENCHMARK(BM_Timeline_DailyOneFeatureYearNewYork)->Unit(benchmark::kMillisecond);

void BM_Timeline_DailyOneFeatureYearKolkata(benchmark::State& state) {
  run_query(state, [](const EventStore& s, const Loaded& l) {
    return s.feature_usage_timeline({.granularity = Granularity::kDay, .feature_id = l.top_feature,
                                     .start_date = at("2025-01-01 00:00:00"), .end_date = at("2026-01-01 00:00:00"),
                                     .tz = "Asia/Kolkata"});
  });
}
BENCHMARK(BM_Timeline_DailyOneFeatureYearKolkata)->Unit(benchmark::kMillisecond);

// The hourly week of every feature in New York (hour cells, as in UTC) and
// in Kolkata (every UTC hour is cut by a local hour: the rows).
void BM_Timeline_HourlyWeekNewYork(benchmark::State& state) {
  run_query(state, [](const EventStore& s, const Loaded&) {
    return s.feature_usage_timeline({.granularity = Granularity::kHour, .start_date = at("2025-06-02 00:00:00"),
                                     .end_date = at("2025-06-09 00:00:00"), .tz = "America/New_York"});
  });
}
BENCHMARK(BM_Timeline_HourlyWeekNewYork)->Unit(benchmark::kMillisecond);

void BM_Timeline_HourlyWeekKolkata(benchmark::State& state) {
  run_query(state, [](const EventStore& s, const Loaded&) {
    return s.feature_usage_timeline({.granularity = Granularity::kHour, .start_date = at("2025-06-02 00:00:00"),
                                     .end_date = at("2025-06-09 00:00:00"), .tz = "Asia/Kolkata"});
  });
}
BENCHMARK(BM_Timeline_HourlyWeekKolkata)->Unit(benchmark::kMillisecond);

// SPEC 2.9 over the year, and for one feature.
void BM_PropertyBreakdown_Year(benchmark::State& state) {
  run_query(state, [](const EventStore& s, const Loaded&) {
    return s.property_breakdown({.property = "device", .start_date = at("2025-01-01 00:00:00"),
                                 .end_date = at("2026-01-01 00:00:00")});
  });
}
BENCHMARK(BM_PropertyBreakdown_Year)->Unit(benchmark::kMillisecond);

void BM_PropertyBreakdown_YearOneFeature(benchmark::State& state) {
  run_query(state, [](const EventStore& s, const Loaded& l) {
    return s.property_breakdown({.property = "device", .feature_id = l.top_feature,
                                 .start_date = at("2025-01-01 00:00:00"), .end_date = at("2026-01-01 00:00:00")});
  });
}
BENCHMARK(BM_PropertyBreakdown_YearOneFeature)->Unit(benchmark::kMillisecond);

// The same events with metadata that never repeats (a request id in each),
// compacted: no rollup counts strings that do not repeat, so the breakdown
// reads every row and parses every string once.
const EventStore& store_with_distinct_metadata() {
  static const EventStore* store = [] {
    EventStore* out = EventStore::open({}).value().release();
    const auto& events = generated().events;
    std::vector<std::string> metadata;
    std::vector<Event> batch;
    for (size_t i = 0; i < events.size(); i += 10000) {
      const size_t n = std::min<size_t>(10000, events.size() - i);
      metadata.clear();
      batch.assign(events.begin() + static_cast<ptrdiff_t>(i), events.begin() + static_cast<ptrdiff_t>(i + n));
      for (size_t k = 0; k < n; ++k) {
        std::string m(batch[k].metadata);
        if (m.size() > 1) m.insert(m.size() - 1, absl::StrCat(",\"request_id\":\"r", i + k, "\""));
        metadata.push_back(std::move(m));
      }
      for (size_t k = 0; k < n; ++k) batch[k].metadata = metadata[k];
      if (!out->record_events(batch).ok()) std::abort();
    }
    if (!out->compact().ok()) std::abort();
    return out;
  }();
  return *store;
}

void BM_PropertyBreakdown_Year_DistinctMetadata(benchmark::State& state) {
  const EventStore& store = store_with_distinct_metadata();
  uint64_t rows_read = 0;
  for (auto _ : state) {
    auto result = store.property_breakdown(
        {.property = "device", .start_date = at("2025-01-01 00:00:00"), .end_date = at("2026-01-01 00:00:00")});
    if (!result.ok()) state.SkipWithError(std::string(result.status().message()).c_str());
    rows_read = result->statistics.rows_read;
    benchmark::DoNotOptimize(result);
  }
  state.counters["rows_read"] = static_cast<double>(rows_read);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_PropertyBreakdown_Year_DistinctMetadata)->Unit(benchmark::kMillisecond);

// SPEC 2.10: weekly over the year, in UTC and in New York.
void BM_VersionAdoption_WeeklyYear(benchmark::State& state) {
  run_query(state, [](const EventStore& s, const Loaded&) {
    return s.version_adoption({.granularity = Granularity::kWeek, .start_date = at("2025-01-01 00:00:00"),
                               .end_date = at("2026-01-01 00:00:00")});
  });
}
BENCHMARK(BM_VersionAdoption_WeeklyYear)->Unit(benchmark::kMillisecond);

void BM_VersionAdoption_WeeklyYearNewYork(benchmark::State& state) {
  run_query(state, [](const EventStore& s, const Loaded&) {
    return s.version_adoption({.granularity = Granularity::kWeek, .start_date = at("2025-01-01 00:00:00"),
                               .end_date = at("2026-01-01 00:00:00"), .tz = "America/New_York"});
  });
}
BENCHMARK(BM_VersionAdoption_WeeklyYearNewYork)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace usagedb

BENCHMARK_MAIN();
