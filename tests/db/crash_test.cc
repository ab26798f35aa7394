// Real crashes: a child process (this test binary again, through fork and
// exec, running only CrashChild.IngestAndReport) ingests generated events in
// small batches - through record_events, ingest_ndjson, and ingest_file of a
// file large enough to skip the write-ahead log (bulk: its events reach the
// disk only through the checkpoint that ends it) - flush()es after each and
// reports each acknowledged count through a pipe; the parent SIGKILLs it at a
// random moment - while it appends, syncs, seals, merges, compacts,
// checkpoints (tiny part_rows and checkpoint_log_bytes make those constant)
// or is still recovering - then reopens the store and checks that it holds
// exactly evt_1..evt_k for some k at least the last acknowledged count (a
// prefix: nothing lost, nothing twice), and that the endpoints answer as the
// reference of those k events. The next child resumes a little before k, so
// retries of stored events must be deduplicated.
//
// 6 kills by default; 60 with USAGEDB_LONG_TESTS=1.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "lib/gen/generator.h"
#include "lib/gen/random.h"
#include "lib/util/coding.h"
#include "tests/db/durability_testing.h"
#include "tests/testutil/temp_dir.h"

extern char** environ;

namespace usagedb::testing {
namespace {

constexpr char kDirEnv[] = "USAGEDB_CRASH_CHILD_DIR";
constexpr char kStartEnv[] = "USAGEDB_CRASH_CHILD_START";
constexpr char kSeedEnv[] = "USAGEDB_CRASH_CHILD_SEED";
constexpr char kFdEnv[] = "USAGEDB_CRASH_CHILD_FD";
constexpr uint64_t kMaxEvents = 2'000'000;
// Events per batch: record_events and ingest_ndjson batches take up to
// kMaxBatch, bulk ingest_file batches kMinBulkBatch..kMaxBulkBatch (NDJSON of
// more than checkpoint_log_bytes).
constexpr uint64_t kMaxBatch = 60;
constexpr uint64_t kMinBulkBatch = 100;
constexpr uint64_t kMaxBulkBatch = 200;

Options store_options() { return {.part_rows = 40, .checkpoint_log_bytes = 12 << 10}; }

gen::Generator generator(uint64_t seed) {
  return gen::Generator({.events = kMaxEvents, .seed = seed, .users = 300, .features = 12, .versions = 6, .months = 5});
}

uint64_t env_number(const char* name) {
  uint64_t n = 0;
  const char* value = std::getenv(name);
  if (value == nullptr || !absl::SimpleAtoi(value, &n)) {
    std::fprintf(stderr, "CrashChild: bad or missing %s\n", name);
    std::_Exit(3);
  }
  return n;
}

// The child: records evt_<start+1>... in batches (record_events 60% of the
// time, ingest_ndjson 25%, a bulk ingest_file 15%), flush()es after each and
// writes the count acknowledged so far to the pipe (8 bytes, one atomic
// write). The store is `dir`/store. Runs until killed.
TEST(CrashChild, IngestAndReport) {
  const char* dir = std::getenv(kDirEnv);
  if (dir == nullptr) GTEST_SKIP() << "runs only as the child process of CrashTest";
  const uint64_t start = env_number(kStartEnv);
  const uint64_t seed = env_number(kSeedEnv);
  const int fd = static_cast<int>(env_number(kFdEnv));
  const std::string input = absl::StrCat(dir, "/input.ndjson");
  auto store = open_durable(absl::StrCat(dir, "/store"), storage::FileSystem::posix(), store_options());
  if (!store.ok()) {
    std::fprintf(stderr, "CrashChild: open: %s\n", store.status().ToString().c_str());
    std::_Exit(4);
  }
  gen::Generator g = generator(seed);
  for (uint64_t i = 0; i < start; ++i) g.next();
  gen::Random random(seed ^ start);
  uint64_t acknowledged = start;
  std::vector<OwnedEvent> batch;
  std::vector<Event> views;
  std::string text;
  for (int round = 1;; ++round) {
    batch.clear();
    views.clear();
    const uint64_t mode = random.uniform(100);  // < 60 record_events, < 85 ingest_ndjson, else ingest_file
    const uint64_t size =
        mode < 85 ? 1 + random.uniform(kMaxBatch) : kMinBulkBatch + random.uniform(kMaxBulkBatch - kMinBulkBatch + 1);
    for (uint64_t n = size; n > 0; --n) {
      const Event* e = g.next();
      if (e == nullptr) std::_Exit(0);
      batch.push_back(OwnedEvent::from(*e));
    }
    for (const OwnedEvent& e : batch) views.push_back(e.view());
    absl::Status s;
    if (mode < 60) {
      s = (*store)->record_events(views).status();
    } else {
      text.clear();
      for (const Event& e : views) gen::Generator::append_ndjson(e, &text);
      if (mode < 85) {
        s = (*store)->ingest_ndjson(text).status();
      } else {
        if (text.size() < store_options().checkpoint_log_bytes) std::_Exit(7);  // would not be a bulk ingest
        std::ofstream(input, std::ios::binary | std::ios::trunc) << text;
        s = (*store)->ingest_file(input, {}).status();
      }
    }
    if (s.ok() && round % 40 == 0) s = (*store)->compact();
    if (s.ok()) s = (*store)->flush();
    if (!s.ok()) {
      std::fprintf(stderr, "CrashChild: %s\n", s.ToString().c_str());
      std::_Exit(5);
    }
    acknowledged += batch.size();
    char bytes[8];
    coding::encode_fixed64(bytes, acknowledged);
    if (::write(fd, bytes, sizeof bytes) != sizeof bytes) std::_Exit(6);
  }
}

// Reads the child's reports until `deadline` or the end of the pipe; the
// last complete one is the acknowledged count.
bool read_acks(int fd, std::chrono::steady_clock::time_point deadline, std::string* pending, uint64_t* acked,
               uint64_t* reports) {
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    pollfd p{fd, POLLIN, 0};
    const int ready = ::poll(&p, 1, left.count() > 0 ? static_cast<int>(left.count()) : 0);
    if (ready <= 0) return true;  // the deadline passed
    char buf[4096];
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) return false;  // the child is gone
    pending->append(buf, n);
    while (pending->size() >= 8) {
      *acked = coding::decode_fixed64(pending->data());
      ++*reports;
      pending->erase(0, 8);
    }
  }
}

uint64_t event_number(const std::string& id) {
  uint64_t n = 0;
  return id.starts_with("evt_") && absl::SimpleAtoi(id.substr(4), &n) ? n : 0;
}

TEST(CrashTest, KilledWriterLosesNothingAcknowledged) {
  const bool long_run = long_tests();
  const int kills = long_run ? 60 : 6;
  const uint64_t seed = 20250511;
  ScopedTempDir dir;
  gen::Random random(seed);
  const std::string exe = std::filesystem::read_symlink("/proc/self/exe").string();
  const std::string store_dir = dir.file("store");
  const auto started = std::chrono::steady_clock::now();
  uint64_t stored = 0, reports = 0, total_acked = 0;
  int killed_before_first_ack = 0;
  for (int kill = 0; kill < kills; ++kill) {
    // Resume a little before what is stored: those are retries.
    const uint64_t start = stored - std::min<uint64_t>(stored, random.uniform(40));
    SCOPED_TRACE(absl::StrCat("kill ", kill, ", the child resumed at event ", start));
    int fds[2];
    ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
    const int child_fd = ::fcntl(fds[1], F_DUPFD, 10);  // not close-on-exec
    ASSERT_GE(child_fd, 0);
    ::close(fds[1]);
    // Everything the child needs is built before fork(): after it, only exec.
    std::vector<std::string> env_strings = {absl::StrCat(kDirEnv, "=", dir.path()), absl::StrCat(kStartEnv, "=", start),
                                            absl::StrCat(kSeedEnv, "=", seed), absl::StrCat(kFdEnv, "=", child_fd)};
    for (char** e = environ; *e != nullptr; ++e) {
      if (!std::string_view(*e).starts_with("GTEST_")) env_strings.push_back(*e);
    }
    std::vector<char*> envp;
    for (std::string& s : env_strings) envp.push_back(s.data());
    envp.push_back(nullptr);
    std::string filter = "--gtest_filter=CrashChild.IngestAndReport";
    std::vector<char*> argv = {const_cast<char*>(exe.c_str()), filter.data(), nullptr};
    const int devnull = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
    ASSERT_GE(devnull, 0);

    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::dup2(devnull, STDOUT_FILENO);  // gtest's chatter; errors still reach stderr
      ::execve(exe.c_str(), argv.data(), envp.data());
      ::_exit(127);
    }
    ::close(child_fd);
    ::close(devnull);
    // Kill at a random moment: sometimes during recovery, mostly mid-ingest.
    // The first child is given its first acknowledgement before the random
    // delay starts, so at least one kill lands mid-ingest however slow the
    // machine (a sanitizer build, a loaded CI runner).
    const int delay_ms = static_cast<int>(random.uniform(long_run ? 400 : 250));
    std::string pending;
    uint64_t acked = start;
    const uint64_t reports_before = reports;
    bool alive = true;
    if (kill == 0) {
      const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
      while (alive && reports == reports_before && std::chrono::steady_clock::now() < give_up) {
        alive = read_acks(fds[0], std::chrono::steady_clock::now() + std::chrono::milliseconds(20), &pending, &acked,
                          &reports);
      }
    }
    if (alive) {
      alive = read_acks(fds[0], std::chrono::steady_clock::now() + std::chrono::milliseconds(delay_ms), &pending,
                        &acked, &reports);
    }
    ::kill(pid, SIGKILL);
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    read_acks(fds[0], std::chrono::steady_clock::time_point::max(), &pending, &acked, &reports);
    ::close(fds[0]);
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
        << "the child ended by itself (status " << status << ", alive " << alive << "): see its stderr";
    total_acked += acked - start;

    // Recover and check: exactly evt_1..evt_k, k at least what was acknowledged.
    if (reports == reports_before) ++killed_before_first_ack;
    auto store = open_durable(store_dir, storage::FileSystem::posix(), store_options());
    ASSERT_TRUE(store.ok()) << store.status();
    const std::vector<OwnedEvent> events = stored_events(**store);
    std::vector<uint64_t> numbers;
    for (const OwnedEvent& e : events) numbers.push_back(event_number(e.event_id));
    std::sort(numbers.begin(), numbers.end());
    for (size_t i = 0; i < numbers.size(); ++i) {
      ASSERT_EQ(numbers[i], i + 1) << "not a prefix of the child's events (" << numbers.size() << " stored)";
    }
    const uint64_t k = numbers.size();
    ASSERT_GE(k, acked) << "an acknowledged event was lost";
    ASSERT_GE(k, stored) << "an event stored before this child was lost";
    EXPECT_LE(k, acked + kMaxBulkBatch) << "more than the batch in flight beyond the last acknowledgement";
    Reference reference;
    gen::Generator g = generator(seed);
    for (uint64_t i = 0; i < k; ++i) reference.record(*g.next());
    ASSERT_TRUE(matches_reference(**store, reference, kill, 10));
    stored = k;
    RecordProperty(absl::StrCat("kill_", kill),
                   absl::StrCat("delay ", delay_ms, "ms, ", reports - reports_before, " acks, ", k, " events stored"));
  }
  EXPECT_GT(reports, 0u) << "no child ever acknowledged a batch";
  EXPECT_GT(total_acked, 0u);
  EXPECT_LT(killed_before_first_ack, kills) << "every kill came before the child's first acknowledgement";
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::printf(
      "CrashTest: %d kills (%d before the child's first acknowledgement) in %.1f s, %llu batches "
      "acknowledged, %llu events stored at the end\n",
      kills, killed_before_first_ack, seconds, static_cast<unsigned long long>(reports),
      static_cast<unsigned long long>(stored));
}

}  // namespace
}  // namespace usagedb::testing
