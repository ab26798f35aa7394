// usagedb_live: an application's view of a live store, built against the
// public API only (bench/live/CMakeLists.txt builds it with
// find_package(usagedb) from an installed package, or in the tree).
//
//   usagedb generate --events 1000000 > events.ndjson
//   usagedb_live fresh  --data events.ndjson
//       an in-memory store fed by ingest() of the whole file as one string,
//       then each question asked at once, 50 times: p50/p99, and the rows
//       checked against the same store after compact()
//   usagedb_live mixed  --data events.ndjson --dir /tmp/live-1m
//                       [--writers 2] [--rate 50000] [--readers 2] [--seconds 20]
//       a durable store pre-loaded from the file (ingest_file, once: a
//       directory that holds a store is reused), W threads calling
//       record_event at `rate` events/s each while R threads ask the eight
//       questions in a loop: query p50/p99 per question, the write rate
//       achieved and record_event's latency, and where the slowest 1% of
//       each question's runs spent their time: on the CPU (the query's
//       work), or off it, preempted by other threads (involuntary context
//       switches) or blocked (voluntary ones: a lock, I/O)
//   usagedb_live cold   --data events.ndjson --dir /tmp/live-1m [--reps 2000]
//                       [--questions NAME,NAME...]
//       the same pre-loaded store, no writers: each question asked after
//       64 MiB of other memory was written (as the other questions of a
//       mixed run evict a question's data from the caches), then again at
//       once: the thread CPU time p50 of each, cold and warm (a CPU-time
//       measure: on a shared machine it moves less than wall time)
//   usagedb_live writers --dir /tmp/live-w [--threads 4] [--events 400000] [--sync]
//       record_event throughput from N threads on a durable store (the
//       events made before the clock starts), and the process's CPU time per
//       event while the calls ran and until the store is closed
//
// --max-unrolled-rows N sets Options::max_unrolled_rows (builds of the
// package that have it).
//
// The questions are bench/compare's eight (its users and features picked
// the same way from the data: the median and the heaviest user, each one's
// most used feature, the most used feature).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <pthread.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "usagedb/usagedb.h"

namespace {

using Clock = std::chrono::steady_clock;
using usagedb::EventStore;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

struct Args {
  std::string mode;
  std::string data;
  std::string dir;
  int writers = 2;
  int readers = 2;
  int threads = 4;
  double rate = 50000;
  double seconds = 20;
  uint64_t events = 400000;
  int reps = 0;  // 0: the mode's default (fresh 50, cold 2000)
  bool sync = false;
  size_t max_unrolled_rows = 0;  // 0: the default
  std::string questions;          // mixed: the questions asked, comma-separated ("": all)
};

// Options with --max-unrolled-rows applied (when this build's Options has
// the field: the program also builds against packages from before it).
usagedb::Options store_options(const Args& a, usagedb::Options o) {
  auto apply = [&](auto& options) {
    if constexpr (requires { options.max_unrolled_rows; }) {
      if (a.max_unrolled_rows > 0) options.max_unrolled_rows = a.max_unrolled_rows;
    }
  };
  apply(o);
  return o;
}

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr,
               "usagedb_live: %s\n"
               "usage: usagedb_live fresh --data FILE [--reps N]\n"
               "       usagedb_live mixed --data FILE --dir DIR [--writers W] [--rate EVENTS_PER_S_EACH]\n"
               "                          [--readers R] [--seconds S] [--questions NAME,NAME...]\n"
               "       usagedb_live cold --data FILE --dir DIR [--reps N] [--questions NAME,NAME...]\n"
               "       usagedb_live writers --dir DIR [--threads N] [--events N] [--sync]\n"
               "       (every mode: [--max-unrolled-rows N])\n",
               why);
  std::exit(2);
}

Args parse_args(int argc, char** argv) {
  if (argc < 2) usage("no mode");
  Args a;
  a.mode = argv[1];
  for (int i = 2; i < argc; ++i) {
    const std::string flag = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(("missing value of " + flag).c_str());
      return argv[++i];
    };
    if (flag == "--data") a.data = value();
    else if (flag == "--dir") a.dir = value();
    else if (flag == "--writers") a.writers = std::stoi(value());
    else if (flag == "--readers") a.readers = std::stoi(value());
    else if (flag == "--threads") a.threads = std::stoi(value());
    else if (flag == "--rate") a.rate = std::stod(value());
    else if (flag == "--seconds") a.seconds = std::stod(value());
    else if (flag == "--events") a.events = std::stoull(value());
    else if (flag == "--reps") a.reps = std::stoi(value());
    else if (flag == "--sync") a.sync = true;
    else if (flag == "--max-unrolled-rows") a.max_unrolled_rows = std::stoull(value());
    else if (flag == "--questions") a.questions = value();
    else usage(("unknown flag " + flag).c_str());
  }
  if (a.mode != "fresh" && a.mode != "mixed" && a.mode != "cold" && a.mode != "writers") {
    usage("mode must be fresh, mixed, cold or writers");
  }
  if (a.mode != "writers" && a.data.empty()) usage("--data is required");
  if (a.mode != "fresh" && a.dir.empty()) usage("--dir is required");
  return a;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) usage(("cannot read " + path).c_str());
  std::ostringstream s;
  s << in.rdbuf();
  return std::move(s).str();
}

// ---- The questions ------------------------------------------------------------

struct Picked {
  std::string typical_user, typical_feature, heavy_user, heavy_feature, top_feature;
};

// The string value of `"key":"..."` in an NDJSON line of `usagedb generate`
// (no escapes in the generated ids).
std::string_view field(std::string_view line, std::string_view key) {
  const size_t at = line.find(key);
  if (at == std::string_view::npos) return {};
  const size_t begin = at + key.size();
  const size_t end = line.find('"', begin);
  return line.substr(begin, end - begin);
}

std::string most_used(const std::unordered_map<std::string, uint64_t>& counts) {
  std::pair<uint64_t, std::string> best{0, ""};
  for (const auto& [k, n] : counts) {
    if (n > best.first || (n == best.first && k < best.second)) best = {n, k};
  }
  return best.second;
}

// bench/compare's choice: the median user by events, the heaviest (the
// first in sorted order among equals), their most used features, the most
// used feature.
Picked pick(std::string_view text) {
  std::unordered_map<std::string, uint64_t> per_user, per_feature;
  std::vector<std::pair<std::string_view, std::string_view>> rows;  // user, feature
  for (size_t pos = 0; pos < text.size();) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    const std::string_view user = field(line, "\"user_id\":\""), feature = field(line, "\"feature_id\":\"");
    if (user.empty()) continue;
    ++per_user[std::string(user)];
    ++per_feature[std::string(feature)];
    rows.emplace_back(user, feature);
  }
  std::vector<std::pair<uint64_t, std::string>> users;
  for (const auto& [u, n] : per_user) users.emplace_back(n, u);
  std::sort(users.begin(), users.end());
  Picked p;
  p.typical_user = users[users.size() / 2].second;
  const uint64_t heavy_n = users.back().first;
  p.heavy_user = std::find_if(users.begin(), users.end(), [&](const auto& u) { return u.first == heavy_n; })->second;
  p.top_feature = most_used(per_feature);
  std::unordered_map<std::string, uint64_t> typical, heavy;
  for (const auto& [u, f] : rows) {
    if (u == p.typical_user) ++typical[std::string(f)];
    if (u == p.heavy_user) ++heavy[std::string(f)];
  }
  p.typical_feature = most_used(typical);
  p.heavy_feature = most_used(heavy);
  return p;
}

usagedb::Timestamp date(const char* text) { return *usagedb::parse_date_parameter(text); }

struct Question {
  std::string name;
  // The endpoint's rows, as text when `text` is given (rendering is not
  // part of a timed run).
  std::function<absl::Status(const EventStore&, std::string* text)> ask;
};

template <typename Result>
std::string render(const Result& r) {
  std::string out;
  for (const auto& row : r.rows) {
    if constexpr (requires { row.user_id; }) {
      out += row.feature_id + "\t" + row.product_version + "\t" + std::to_string(row.usage_count) + "\t" +
             usagedb::format_timestamp(row.first_usage) + "\t" + usagedb::format_timestamp(row.last_usage) + "\n";
    } else if constexpr (requires { row.total_events; }) {
      out += row.feature_id + "\t" + row.product_version + "\t" + std::to_string(row.total_events) + "\t" +
             std::to_string(row.unique_users) + "\t" +
             usagedb::format_timestamp(row.first_seen) + "\t" + usagedb::format_timestamp(row.last_seen) + "\n";
    } else {
      out += usagedb::format_timestamp(row.period) + "\t" + row.feature_id + "\t" + std::to_string(row.events) +
             "\t" + std::to_string(row.unique_users) + "\n";
    }
  }
  return out;
}

template <typename R>
absl::Status rendered(const absl::StatusOr<R>& r, std::string* text) {
  if (!r.ok()) return r.status();
  if (text != nullptr) *text = render(*r);
  return absl::OkStatus();
}

std::vector<Question> questions(const Picked& p) {
  auto user = [](std::string u, std::string f) {
    return [u, f](const EventStore& s, std::string* text) {
      usagedb::UserFeatureUsageQuery q;
      q.user_id = u;
      if (!f.empty()) q.feature_id = f;
      return rendered(s.user_feature_usage(q), text);
    };
  };
  auto summary = [](const char* from, const char* to) {
    return [from, to](const EventStore& s, std::string* text) {
      usagedb::FeatureUsageSummaryQuery q;
      q.start_date = date(from);
      q.end_date = date(to);
      return rendered(s.feature_usage_summary(q), text);
    };
  };
  auto timeline = [](usagedb::Granularity g, std::string f, const char* from, const char* to) {
    return [g, f, from, to](const EventStore& s, std::string* text) {
      usagedb::FeatureUsageTimelineQuery q;
      q.granularity = g;
      if (!f.empty()) q.feature_id = f;
      q.start_date = date(from);
      q.end_date = date(to);
      return rendered(s.feature_usage_timeline(q), text);
    };
  };
  return {
      {"user_typical", user(p.typical_user, "")},
      {"user_typical_feature", user(p.typical_user, p.typical_feature)},
      {"user_heavy", user(p.heavy_user, "")},
      {"user_heavy_feature", user(p.heavy_user, p.heavy_feature)},
      {"summary_month", summary("2025-06-01", "2025-07-01")},
      {"summary_year", summary("2025-01-01", "2026-01-01")},
      {"timeline_day_feature", timeline(usagedb::Granularity::kDay, p.top_feature, "2025-01-01", "2026-01-01")},
      {"timeline_hour_week", timeline(usagedb::Granularity::kHour, "", "2025-03-03", "2025-03-10")},
  };
}

double percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t rank = static_cast<size_t>(std::ceil(q * v.size()));
  return v[std::min(v.size() - 1, rank == 0 ? 0 : rank - 1)];
}

std::string us(double seconds) {
  char buf[32];
  if (seconds < 1e-3) {
    std::snprintf(buf, sizeof buf, "%.1f us", seconds * 1e6);
  } else {
    std::snprintf(buf, sizeof buf, "%.2f ms", seconds * 1e3);
  }
  return buf;
}

void print_machine() {
  double load[3] = {0, 0, 0};
  if (std::FILE* f = std::fopen("/proc/loadavg", "r")) {
    if (std::fscanf(f, "%lf %lf %lf", &load[0], &load[1], &load[2]) != 3) load[0] = -1;
    std::fclose(f);
  }
  std::printf("machine: %u cores, load average %.2f %.2f %.2f\n", std::thread::hardware_concurrency(), load[0],
              load[1], load[2]);
}

// One query's wall time, and how much of it its thread spent on a CPU and
// how often it left it: preempted (involuntary context switches: another
// thread took the core) or blocked (voluntary ones: waiting for a lock or
// I/O).
struct Sample {
  double wall = 0;
  double cpu = 0;
  long preemptions = 0;
  long blocks = 0;
};

struct ThreadTimes {
  double cpu = 0;
  long voluntary = 0, involuntary = 0;

  static ThreadTimes now() {
    ThreadTimes t;
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    t.cpu = ts.tv_sec + ts.tv_nsec * 1e-9;
    rusage ru{};
    getrusage(RUSAGE_THREAD, &ru);
    t.voluntary = ru.ru_nvcsw;
    t.involuntary = ru.ru_nivcsw;
    return t;
  }
  Sample since(const ThreadTimes& before, double wall) const {
    return Sample{wall, cpu - before.cpu, involuntary - before.involuntary, voluntary - before.voluntary};
  }
};

// The slowest `fraction` of the samples: median wall and CPU time, and the
// share of them that were preempted or blocked at least once.
struct Tail {
  double wall = 0, cpu = 0, preempted = 0, blocked = 0;
};
Tail slowest(std::vector<Sample> v, double fraction) {
  Tail t;
  if (v.empty()) return t;
  std::sort(v.begin(), v.end(), [](const Sample& a, const Sample& b) { return a.wall > b.wall; });
  v.resize(std::max<size_t>(1, static_cast<size_t>(std::ceil(fraction * v.size()))));
  std::vector<double> wall, cpu;
  for (const Sample& x : v) {
    wall.push_back(x.wall);
    cpu.push_back(x.cpu);
    t.preempted += x.preemptions > 0;
    t.blocked += x.blocks > 0;
  }
  t.wall = percentile(wall, 0.5);
  t.cpu = percentile(cpu, 0.5);
  t.preempted /= v.size();
  t.blocked /= v.size();
  return t;
}

// ---- fresh: ingest() of a string into an in-memory store, then ask at once --

int run_fresh(const Args& a) {
  const std::string text = read_file(a.data);
  const Picked p = pick(text);
  auto opened = EventStore::open(store_options(a, {}));
  if (!opened.ok()) return std::fprintf(stderr, "open: %s\n", opened.status().ToString().c_str()), 1;
  EventStore& store = **opened;
  const auto t0 = Clock::now();
  auto report = store.ingest(text, {});
  const double ingest_s = seconds_since(t0);
  if (!report.ok()) return std::fprintf(stderr, "ingest: %s\n", report.status().ToString().c_str()), 1;
  print_machine();
  std::printf("ingest(): %" PRIu64 " events in %.3f s: %.2fM events/s\n", report->successful_rows, ingest_s,
              report->successful_rows / ingest_s / 1e6);
  const std::vector<Question> qs = questions(p);
  std::vector<std::string> first_rows(qs.size());
  std::printf("%-22s %10s %10s %10s\n", "question", "first", "p50", "p99");
  for (size_t i = 0; i < qs.size(); ++i) {
    std::vector<double> lat;
    double first = 0;
    for (int r = 0; r < (a.reps > 0 ? a.reps : 50); ++r) {
      const auto t = Clock::now();
      const absl::Status status = qs[i].ask(store, nullptr);
      const double s = seconds_since(t);
      if (!status.ok()) return std::fprintf(stderr, "%s: %s\n", qs[i].name.c_str(), status.ToString().c_str()), 1;
      if (r == 0) first = s;
      lat.push_back(s);
    }
    if (absl::Status s = qs[i].ask(store, &first_rows[i]); !s.ok()) {
      return std::fprintf(stderr, "%s: %s\n", qs[i].name.c_str(), s.ToString().c_str()), 1;
    }
    std::printf("%-22s %10s %10s %10s\n", qs[i].name.c_str(), us(first).c_str(), us(percentile(lat, 0.5)).c_str(),
                us(percentile(lat, 0.99)).c_str());
  }
  // The same store compacted (one part and one rollup per month: the state
  // bench/compare checks against chDB) must give the same rows.
  if (absl::Status s = store.compact(); !s.ok()) return std::fprintf(stderr, "compact: %s\n", s.ToString().c_str()), 1;
  int differ = 0;
  for (size_t i = 0; i < qs.size(); ++i) {
    std::string rows;
    if (!qs[i].ask(store, &rows).ok() || rows != first_rows[i]) {
      std::printf("DIFFERENT %s: the live store's rows are not those of the compacted store\n", qs[i].name.c_str());
      ++differ;
    }
  }
  std::printf(differ == 0 ? "rows: the same as the compacted store's for every question\n" : "rows: DIFFERENT\n");
  return differ == 0 ? 0 : 1;
}

// ---- mixed: writers at a fixed rate, readers in a loop -----------------------

absl::StatusOr<std::unique_ptr<EventStore>> open_preloaded(const Args& a) {
  const bool exists = std::filesystem::exists(std::filesystem::path(a.dir) / "MANIFEST");
  auto store = EventStore::open(store_options(a, {.directory = a.dir}));
  if (!store.ok() || exists) return store;
  const auto t = Clock::now();
  auto report = (*store)->ingest_file(a.data, {});
  if (!report.ok()) return report.status();
  std::printf("pre-loaded %" PRIu64 " events into %s in %.1f s\n", report->successful_rows, a.dir.c_str(),
              seconds_since(t));
  return store;
}

// An application's event: a user and feature of the generated data's
// shape, stamped with the current time.
usagedb::Event live_event(std::mt19937_64& rng, uint64_t n, std::string* id) {
  *id = "live-" + std::to_string(rng()) + "-" + std::to_string(n);
  static const char* kTypes[] = {"view", "click", "submit", "error", "share"};
  usagedb::Event e;
  e.event_id = *id;
  thread_local std::string user, feature, version;
  user = "user_" + std::to_string(rng() % 20000);
  feature = "feature_" + std::to_string(rng() % 60);
  version = "1." + std::to_string(rng() % 4) + "." + std::to_string(rng() % 6);
  e.user_id = user;
  e.feature_id = feature;
  e.product_version = version;
  e.event_type = kTypes[rng() % 5];
  e.timestamp = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
  return e;
}

// The questions of `p` that --questions names (all without it): a
// question's CPU alone under perf, or its tail without the others' turns.
std::vector<Question> asked_questions(const Picked& p, const Args& a) {
  std::vector<Question> qs = questions(p);
  if (!a.questions.empty()) {
    const std::string names = "," + a.questions + ",";
    std::erase_if(qs, [&](const Question& q) { return names.find("," + q.name + ",") == std::string::npos; });
    if (qs.empty()) usage("--questions names no question");
  }
  return qs;
}

int run_mixed(const Args& a) {
  const std::string text = read_file(a.data);
  const Picked p = pick(text);
  auto opened = open_preloaded(a);
  if (!opened.ok()) return std::fprintf(stderr, "open: %s\n", opened.status().ToString().c_str()), 1;
  EventStore& store = **opened;
  auto stats = store.stats();
  std::vector<Question> qs = asked_questions(p, a);
  for (const Question& q : qs) (void)q.ask(store, nullptr);  // as an application that has been running

  std::atomic<bool> stop{false};
  std::vector<std::vector<double>> write_lat(a.writers);
  std::vector<uint64_t> written(a.writers, 0);
  std::vector<std::thread> threads;
  const auto start = Clock::now();
  for (int w = 0; w < a.writers; ++w) {
    threads.emplace_back([&, w] {
      pthread_setname_np(pthread_self(), ("writer-" + std::to_string(w)).c_str());  // for perf and top
      std::mt19937_64 rng(1000 + w);
      std::string id;
      const auto interval = std::chrono::duration<double>(1.0 / a.rate);
      auto next = Clock::now();
      for (uint64_t n = 0; !stop.load(std::memory_order_relaxed); ++n) {
        const usagedb::Event e = live_event(rng, n, &id);
        const auto t = Clock::now();
        if (absl::Status s = store.record_event(e); !s.ok()) {
          std::fprintf(stderr, "record_event: %s\n", s.ToString().c_str());
          std::exit(1);
        }
        write_lat[w].push_back(seconds_since(t));
        ++written[w];
        next += std::chrono::duration_cast<Clock::duration>(interval);
        if (next > Clock::now()) std::this_thread::sleep_until(next);
      }
    });
  }
  std::vector<std::vector<std::vector<Sample>>> read_lat(a.readers, std::vector<std::vector<Sample>>(qs.size()));
  for (int r = 0; r < a.readers; ++r) {
    threads.emplace_back([&, r] {
      pthread_setname_np(pthread_self(), ("reader-" + std::to_string(r)).c_str());
      while (!stop.load(std::memory_order_relaxed)) {
        for (size_t i = 0; i < qs.size(); ++i) {
          const ThreadTimes before = ThreadTimes::now();
          const auto t = Clock::now();
          const absl::Status status = qs[i].ask(store, nullptr);
          const double wall = seconds_since(t);
          read_lat[r][i].push_back(ThreadTimes::now().since(before, wall));
          if (!status.ok()) {
            std::fprintf(stderr, "%s: %s\n", qs[i].name.c_str(), status.ToString().c_str());
            std::exit(1);
          }
        }
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(a.seconds));
  stop = true;
  for (std::thread& t : threads) t.join();
  const double elapsed = seconds_since(start);

  print_machine();
  std::printf("store: %s, %" PRIu64 " events at the start; %d writers at %.0f events/s each, %d readers, %.0f s\n",
              a.dir.c_str(), stats.ok() ? stats->rows : 0, a.writers, a.rate, a.readers, elapsed);
  std::printf("%-22s %8s %10s %10s %10s | %-44s\n", "question", "runs", "p50", "p99", "CPU p50",
              "slowest 1%: wall, CPU (medians), preempted, blocked");
  for (size_t i = 0; i < qs.size(); ++i) {
    std::vector<Sample> all;
    for (int r = 0; r < a.readers; ++r) all.insert(all.end(), read_lat[r][i].begin(), read_lat[r][i].end());
    std::vector<double> wall, cpu;
    for (const Sample& x : all) {
      wall.push_back(x.wall);
      cpu.push_back(x.cpu);
    }
    const Tail tail = slowest(all, 0.01);
    std::printf("%-22s %8zu %10s %10s %10s | %10s %10s %9.0f%% %8.0f%%\n", qs[i].name.c_str(), all.size(),
                us(percentile(wall, 0.5)).c_str(), us(percentile(wall, 0.99)).c_str(),
                us(percentile(cpu, 0.5)).c_str(), us(tail.wall).c_str(), us(tail.cpu).c_str(), 100 * tail.preempted,
                100 * tail.blocked);
  }
  std::vector<double> wl;
  uint64_t total = 0;
  for (int w = 0; w < a.writers; ++w) {
    wl.insert(wl.end(), write_lat[w].begin(), write_lat[w].end());
    total += written[w];
  }
  std::printf("writes: %" PRIu64 " events, %.0f events/s achieved (asked %.0f); record_event p50 %s, p99 %s\n", total,
              total / elapsed, a.rate * a.writers, us(percentile(wl, 0.5)).c_str(), us(percentile(wl, 0.99)).c_str());
  return 0;
}

// ---- cold: each question with its data out of the caches, then warm ---------

int run_cold(const Args& a) {
  const std::string text = read_file(a.data);
  const Picked p = pick(text);
  auto opened = open_preloaded(a);
  if (!opened.ok()) return std::fprintf(stderr, "open: %s\n", opened.status().ToString().c_str()), 1;
  EventStore& store = **opened;
  std::vector<Question> qs = asked_questions(p, a);
  for (const Question& q : qs) (void)q.ask(store, nullptr);  // first touches: files read
  std::vector<uint64_t> other(size_t{64} << 20 >> 3);
  const int reps = a.reps > 0 ? a.reps : 2000;
  std::printf("%-22s %8s %12s %12s\n", "question", "runs", "cold CPU p50", "warm CPU p50");
  for (const Question& q : qs) {
    std::vector<double> cold, warm;
    for (int r = 0; r < reps; ++r) {
      for (size_t i = 0; i < other.size(); i += 8) other[i] += r;  // a line of every 64 bytes
      for (std::vector<double>* out : {&cold, &warm}) {
        const ThreadTimes before = ThreadTimes::now();
        const absl::Status status = q.ask(store, nullptr);
        out->push_back(ThreadTimes::now().since(before, 0).cpu);
        if (!status.ok()) return std::fprintf(stderr, "%s: %s\n", q.name.c_str(), status.ToString().c_str()), 1;
      }
    }
    std::printf("%-22s %8d %12s %12s\n", q.name.c_str(), reps, us(percentile(cold, 0.5)).c_str(),
                us(percentile(warm, 0.5)).c_str());
  }
  return 0;
}

// ---- writers: record_event throughput from N threads -------------------------

// The process's CPU time (user + system, every thread), in seconds.
double process_cpu_seconds() {
  rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

// CPU seconds of this process's threads by name (/proc/self/task/*/stat):
// the store's background threads are named usagedb-seal and usagedb-merge.
std::map<std::string, double> thread_cpu_seconds() {
  std::map<std::string, double> by_name;
  const double tick = static_cast<double>(sysconf(_SC_CLK_TCK));
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream in(task.path() / "stat");
    std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const size_t open = stat.find('('), close = stat.rfind(')');
    if (open == std::string::npos || close == std::string::npos) continue;
    std::istringstream rest(stat.substr(close + 2));
    std::string field;
    unsigned long long utime = 0, stime = 0;
    // Fields 3..13 (state .. cmajflt), then utime and stime.
    for (int i = 3; i <= 13 && rest >> field; ++i) {
    }
    rest >> utime >> stime;
    by_name[stat.substr(open + 1, close - open - 1)] += (utime + stime) / tick;
  }
  return by_name;
}

int run_writers(const Args& a) {
  std::filesystem::remove_all(a.dir);
  // The events are made before the clock starts, so the CPU measured is the
  // store's (its callers' threads and its background threads), not the
  // making of ids and names.
  struct Made {
    std::string id, user, feature, version;
    usagedb::Event event;
  };
  const uint64_t per_thread = a.events / a.threads;
  std::vector<std::vector<Made>> made(a.threads);
  for (int t = 0; t < a.threads; ++t) {
    std::mt19937_64 rng(7 + t);
    made[t].resize(per_thread);
    std::string id;
    for (uint64_t n = 0; n < per_thread; ++n) {
      Made& m = made[t][n];
      m.event = live_event(rng, n, &id);
      m.id = id;
      m.user = m.event.user_id;
      m.feature = m.event.feature_id;
      m.version = m.event.product_version;
      m.event.event_id = m.id;
      m.event.user_id = m.user;
      m.event.feature_id = m.feature;
      m.event.product_version = m.version;
    }
  }
  auto opened = EventStore::open(store_options(a, {.directory = a.dir, .sync = a.sync}));
  if (!opened.ok()) return std::fprintf(stderr, "open: %s\n", opened.status().ToString().c_str()), 1;
  EventStore& store = **opened;
  std::vector<std::thread> threads;
  const double cpu_start = process_cpu_seconds();
  const auto start = Clock::now();
  for (int t = 0; t < a.threads; ++t) {
    threads.emplace_back([&, t] {
      for (const Made& m : made[t]) {
        if (absl::Status s = store.record_event(m.event); !s.ok()) {
          std::fprintf(stderr, "record_event: %s\n", s.ToString().c_str());
          std::exit(1);
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  const double elapsed = seconds_since(start);
  const double cpu_calls = process_cpu_seconds() - cpu_start;
  const std::map<std::string, double> by_thread = thread_cpu_seconds();
  print_machine();
  const uint64_t total = per_thread * a.threads;
  std::printf("record_event, %d threads%s: %" PRIu64 " events in %.2f s: %.0f events/s\n", a.threads,
              a.sync ? ", Options::sync" : "", total, elapsed, total / elapsed);
  // The writer queue's groups: calls a group, events an fsync, and how
  // many groups held 1, 2, ... calls.
  if (auto stats = store.stats(); stats.ok() && stats->write_groups > 0) {
    std::printf("writer groups: %" PRIu64 ", %.2f calls a group; fsyncs: %" PRIu64 ", %.2f events an fsync\n",
                stats->write_groups, static_cast<double>(stats->write_group_calls) / stats->write_groups,
                stats->write_syncs,
                stats->write_syncs ? static_cast<double>(stats->write_synced_events) / stats->write_syncs : 0.0);
    std::printf("groups by calls:");
    for (size_t i = 0; i < stats->write_group_sizes.size(); ++i) {
      if (stats->write_group_sizes[i] == 0) continue;
      std::printf(" %zu%s:%" PRIu64, i + 1, i + 1 == stats->write_group_sizes.size() ? "+" : "",
                  stats->write_group_sizes[i]);
    }
    std::printf("\n");
  }
  // CPU per event: of every thread of the process while the calls ran, and
  // until the store is closed (the merges still queued and the closing
  // checkpoint), which the load of other processes does not inflate.
  // The calling threads' share is the rest (they have exited: the process's
  // total holds them).
  const auto named = [&](const char* name) { return by_thread.count(name) ? by_thread.at(name) : 0.0; };
  const double seal = named("usagedb-seal"), merge = named("usagedb-merge");
  std::printf("CPU while the calls ran, us an event: calling threads %.2f, seal thread %.2f, merge thread %.2f\n",
              (cpu_calls - seal - merge) / total * 1e6, seal / total * 1e6, merge / total * 1e6);
  opened->reset();
  const double cpu_closed = process_cpu_seconds() - cpu_start;
  std::printf("CPU: %.2f s while the calls ran (%.2f us an event), %.2f s until closed (%.2f us an event)\n",
              cpu_calls, cpu_calls / total * 1e6, cpu_closed, cpu_closed / total * 1e6);
  std::filesystem::remove_all(a.dir);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const Args a = parse_args(argc, argv);
  if (a.mode == "fresh") return run_fresh(a);
  if (a.mode == "mixed") return run_mixed(a);
  if (a.mode == "cold") return run_cold(a);
  return run_writers(a);
}
