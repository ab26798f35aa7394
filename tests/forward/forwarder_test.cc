// Forwarding a store's events to another usagedb (SPEC 8, docs/FORWARD.md):
// through kill -9 of the receiver (twice) and of the forwarder (once), with
// a token rate limit that answers 429, every event arrives exactly once;
// --follow delivers a new event within a second; events without an
// event_id are delivered at least once; answers that cannot succeed stop
// the forwarder with their status; batches go plain to a loopback host and
// gzipped when asked.
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <mutex>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "lib/export/event_json.h"
#include "tests/http/serve_process.h"
#include "tests/testutil/helpers.h"
#include "tests/testutil/temp_dir.h"
#include "usagedb/forwarder.h"
#include "usagedb/http_server.h"
#include "usagedb/usagedb.h"

namespace usagedb {
namespace {

using Clock = std::chrono::steady_clock;
using testing::ServeProcess;

// A port free now (bound and released), for a receiver restarted in place.
int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

// Every event of a store as its NDJSON line, sorted.
std::vector<std::string> event_lines(const EventStore& store) {
  std::vector<std::string> lines;
  EXPECT_TRUE(store
                  .scan_events({}, [&](std::span<const StoredEvent> page) {
                    for (const StoredEvent& e : page) {
                      std::string line;
                      exporting::append_event_json(e.event, &line);
                      lines.push_back(std::move(line));
                    }
                    return absl::OkStatus();
                  })
                  .ok());
  std::sort(lines.begin(), lines.end());
  return lines;
}

std::vector<std::string> event_lines(const std::string& dir) {
  auto store = EventStore::open({.directory = dir, .create_if_missing = false});
  EXPECT_TRUE(store.ok()) << store.status();
  if (!store.ok()) return {};
  return event_lines(**store);
}

class ForwardTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (testing::serve_cli_path().empty()) GTEST_SKIP() << "no usagedb binary (USAGEDB_BUILD_TOOLS=OFF)";
    source_ = dir_.file("source");
    receiver_ = dir_.file("receiver");
    tokens_ = dir_.file("tokens.json");
  }

  // A source store of `n` generated events (each with an event_id).
  void make_source(uint64_t n) {
    const std::string ndjson = dir_.file("events.ndjson");
    ASSERT_EQ(testing::run_command({testing::serve_cli_path(), "generate", "--events", std::to_string(n), "--months",
                                    "3", "--output", ndjson})
                  .exit_code,
              0);
    ASSERT_EQ(testing::run_command({testing::serve_cli_path(), "ingest", "--store", source_, ndjson}).exit_code, 0);
  }

  // The receiver's tokens: an append token limited to `rps` requests a second.
  void write_tokens(int rps) {
    testing::write_file(tokens_, absl::StrCat(R"({"tokens":[{"name":"fwd","token":"fwd-secret","scopes":)",
                                              R"(["DATASOURCES:APPEND:feature_events"],"limits":{"rps":)", rps,
                                              R"(}},{"name":"admin","token":"admin-secret","scopes":["ADMIN"]}]})"));
  }

  std::unique_ptr<ServeProcess> start_receiver(int port) {
    auto server = std::make_unique<ServeProcess>(std::vector<std::string>{"--store", receiver_, "--tokens", tokens_},
                                                 port);
    EXPECT_TRUE(server->started()) << server->output();
    return server;
  }

  pid_t start_forwarder(int port, int* out_fd) {
    return testing::spawn({testing::serve_cli_path(), "forward", "--store", source_, "--to",
                           absl::StrCat("http://127.0.0.1:", port), "--token", "fwd-secret", "--batch-events", "4000",
                           "--connections", "4"},
                          out_fd);
  }

  testing::ScopedTempDir dir_;
  std::string source_, receiver_, tokens_;
};

// A receiver in this process (an HttpServer over an in-memory store), for
// the tests that kill nothing: they run under the sanitizers too, where CI
// builds no usagedb binary.
class InProcessReceiver {
 public:
  explicit InProcessReceiver(int port = 0) : store_(EventStore::open(Options{}).value()) {
    HttpServerOptions options;
    options.port = port;
    options.tokens = {{.name = "fwd", .token = "fwd-secret", .scopes = {"DATASOURCES:APPEND:feature_events"}},
                      {.name = "admin", .token = "admin-secret", .scopes = {"ADMIN"}}};
    server_ = std::make_unique<HttpServer>(*store_, options);
    const absl::Status s = server_->start();
    EXPECT_TRUE(s.ok()) << s;
  }
  ~InProcessReceiver() { EXPECT_TRUE(server_->stop().ok()); }

  std::string url() const { return absl::StrCat("http://127.0.0.1:", server_->port()); }
  EventStore& store() { return *store_; }

 private:
  std::unique_ptr<EventStore> store_;
  std::unique_ptr<HttpServer> server_;
};

// Reads a child's output until it exits: its exit code (-1 for a signal).
int wait_for(pid_t pid, int fd, std::string* out) {
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out->append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST_F(ForwardTest, KillingEitherSideLosesAndRepeatsNothing) {
  // 1M events by hand (bench/RESULTS.md); CI forwards 150k.
  const uint64_t n = std::getenv("USAGEDB_FORWARD_EVENTS") ? std::stoull(std::getenv("USAGEDB_FORWARD_EVENTS")) : 150000;
  make_source(n);
  // 4 connections, 6 requests a second allowed: part of the requests get 429.
  write_tokens(6);
  const int port = free_port();
  auto receiver = start_receiver(port);
  int fd = -1;
  pid_t forwarder = start_forwarder(port, &fd);
  const auto pause = [](int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); };

  pause(700);
  EXPECT_EQ(receiver->stop(SIGKILL), -1);  // 1: the receiver dies mid-batch
  pause(300);                              // the forwarder retries meanwhile
  receiver = start_receiver(port);
  pause(700);
  ::kill(forwarder, SIGKILL);  // the forwarder dies: acknowledged batches not yet saved go again
  std::string ignored;
  EXPECT_EQ(wait_for(forwarder, fd, &ignored), -1);
  forwarder = start_forwarder(port, &fd);
  pause(700);
  EXPECT_EQ(receiver->stop(SIGKILL), -1);  // 2
  pause(300);
  receiver = start_receiver(port);

  std::string out;
  EXPECT_EQ(wait_for(forwarder, fd, &out), 0) << out;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(out, m, std::regex(R"(retries (\d+) \(429: (\d+), 5xx: (\d+), no answer: (\d+)\))"))) << out;
  std::printf("last forwarder run: %s", out.c_str());
  EXPECT_GT(std::stoull(m[2]), 0u) << "the rate limit answered no 429: " << out;
  EXPECT_EQ(receiver->stop(SIGTERM), 0);

  const std::vector<std::string> sent = event_lines(source_);
  const std::vector<std::string> got = event_lines(receiver_);
  ASSERT_EQ(sent.size(), n);
  EXPECT_EQ(got.size(), sent.size()) << "the receiver holds " << got.size() << " events of " << sent.size();
  EXPECT_TRUE(got == sent) << "the receiver's events differ from the sender's";
  EXPECT_EQ(std::adjacent_find(got.begin(), got.end()), got.end()) << "an event arrived twice";
}

TEST(Forward, FollowDeliversANewEventWithinASecond) {
  InProcessReceiver receiver;
  testing::ScopedTempDir dir;
  auto store = EventStore::open({.directory = dir.file("source")}).value();
  Forwarder forwarder(*store, {.url = receiver.url(), .token = "fwd-secret"});
  ASSERT_TRUE(forwarder.start().ok());
  EXPECT_TRUE(forwarder.running());
  EXPECT_EQ(forwarder.start().code(), absl::StatusCode::kFailedPrecondition);
  for (int i = 0; i < 3; ++i) {
    const std::string user = absl::StrCat("follow_user_", i);
    const auto recorded = Clock::now();
    ASSERT_TRUE(store
                    ->record_event(Event{.event_id = absl::StrCat("follow_", i), .user_id = user, .feature_id = "f",
                                         .product_version = "1", .event_type = "view",
                                         .timestamp = testing::at("2025-06-01 10:00:00")})
                    .ok());
    bool arrived = false;
    while (!arrived && Clock::now() - recorded < std::chrono::seconds(3)) {
      auto r = receiver.store().user_feature_usage({.user_id = user});
      arrived = r.ok() && r->rows.size() == 1;
      if (!arrived) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    const double seconds = std::chrono::duration<double>(Clock::now() - recorded).count();
    ASSERT_TRUE(arrived) << "event " << i << " not delivered in 3 s";
    EXPECT_LT(seconds, 1.0) << "event " << i << " took " << seconds << " s";
  }
  EXPECT_TRUE(forwarder.stop().ok());
  EXPECT_FALSE(forwarder.running());
  EXPECT_EQ(forwarder.stats().events_sent, 3u);
  EXPECT_EQ(event_lines(receiver.store()), event_lines(*store));
}

// An event without an event_id cannot be recognised when it comes again: a
// batch acknowledged but not saved as such (the sender crashed in between,
// here: the cursor set back) is stored twice; events with an id are not.
TEST(Forward, EventsWithoutAnIdAreDeliveredAtLeastOnce) {
  InProcessReceiver receiver;
  auto store = EventStore::open(Options{}).value();
  std::vector<Event> events;
  std::vector<std::string> ids, features;  // the events' strings
  for (int i = 0; i < 10; ++i) {
    ids.push_back(i < 5 ? absl::StrCat("with_id_", i) : "");
    features.push_back(absl::StrCat("f", i));
  }
  for (int i = 0; i < 10; ++i) {
    events.push_back(Event{.event_id = ids[i], .user_id = "u", .feature_id = features[i],
                           .product_version = "1", .event_type = "view", .timestamp = testing::at("2025-06-01 10:00:00")});
  }
  ASSERT_TRUE(store->record_events(events).ok());
  const ForwarderOptions options{.url = receiver.url(), .token = "fwd-secret", .cursor = "c", .batch_events = 3};
  {
    Forwarder forwarder(*store, options);
    ASSERT_TRUE(forwarder.run_until_caught_up().ok());
    EXPECT_EQ(forwarder.stats().events_sent, 10u);
    EXPECT_EQ(forwarder.stats().batches_sent, 4u);
    EXPECT_EQ(forwarder.stats().cursor, store->load_cursor("c").value());
    EXPECT_GT(store->load_cursor("c").value(), 0u);
  }
  ASSERT_TRUE(store->save_cursor("c", 0).ok());  // as if the sender had crashed before saving
  Forwarder again(*store, options);
  ASSERT_TRUE(again.run_until_caught_up().ok());
  EXPECT_EQ(again.stats().events_sent, 10u);
  size_t with_id = 0, without = 0;
  for (const std::string& line : event_lines(receiver.store())) {
    (line.find("\"with_id_") != std::string::npos ? with_id : without)++;
  }
  EXPECT_EQ(with_id, 5u);   // deduplicated by the receiver
  EXPECT_EQ(without, 10u);  // each twice
}

TEST(Forward, AnswersThatCannotSucceedStopItWithTheirStatus) {
  InProcessReceiver receiver;
  auto store = EventStore::open(Options{}).value();
  ASSERT_TRUE(store->record_event(Event{.user_id = "u", .feature_id = "f", .product_version = "1",
                                        .event_type = "view", .timestamp = testing::at("2025-06-01 10:00:00")})
                  .ok());
  {
    Forwarder wrong_token(*store, {.url = receiver.url(), .token = "nope"});
    absl::Status s = wrong_token.run_until_caught_up();
    EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
    EXPECT_NE(testing::message(s).find("answered 403"), std::string::npos) << s;
    EXPECT_EQ(wrong_token.stats().cursor, 0u);
  }
  {
    Forwarder wrong_source(*store, {.url = receiver.url(), .token = "admin-secret", .datasource = "other"});
    absl::Status s = wrong_source.run_until_caught_up();
    EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  }
  {
    // --follow ends with the error too: running() turns false, stop() returns it.
    Forwarder following(*store, {.url = receiver.url(), .token = "nope"});
    ASSERT_TRUE(following.start().ok());
    const auto began = Clock::now();
    while (following.running() && Clock::now() - began < std::chrono::seconds(5)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    EXPECT_FALSE(following.running());
    EXPECT_EQ(following.stop().code(), absl::StatusCode::kFailedPrecondition);
  }
  for (const char* bad : {"ftp://x", "127.0.0.1:7181", "http://"}) {
    Forwarder f(*store, {.url = bad, .token = "t"});
    EXPECT_EQ(f.run_until_caught_up().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
  Forwarder no_token(*store, {.url = receiver.url()});
  EXPECT_EQ(no_token.run_until_caught_up().code(), absl::StatusCode::kInvalidArgument);
  Forwarder bad_cursor(*store, {.url = receiver.url(), .token = "t", .cursor = "a/b"});
  EXPECT_EQ(bad_cursor.run_until_caught_up().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(receiver.store().stats()->rows, 0u);
}

// A receiver that is down: the forwarder retries (connection errors) until
// it comes up, then delivers.
TEST(Forward, RetriesUntilTheReceiverAnswers) {
  auto store = EventStore::open(Options{}).value();
  ASSERT_TRUE(store->record_event(Event{.event_id = "e", .user_id = "u", .feature_id = "f", .product_version = "1",
                                        .event_type = "view", .timestamp = testing::at("2025-06-01 10:00:00")})
                  .ok());
  // A port nothing listens on yet: the receiver starts there a little later.
  const int port = free_port();
  Forwarder forwarder(*store, {.url = absl::StrCat("http://127.0.0.1:", port),
                               .token = "fwd-secret",
                               .initial_backoff = std::chrono::milliseconds(20),
                               .max_backoff = std::chrono::milliseconds(100)});
  ASSERT_TRUE(forwarder.start().ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_GT(forwarder.stats().connection_errors, 0u);
  EXPECT_EQ(forwarder.stats().events_sent, 0u);
  InProcessReceiver receiver(port);
  const auto began = Clock::now();
  while (forwarder.stats().events_sent == 0 && Clock::now() - began < std::chrono::seconds(5)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(forwarder.stats().events_sent, 1u);
  EXPECT_GT(forwarder.stats().retries, 0u);
  EXPECT_TRUE(forwarder.stop().ok());
  EXPECT_EQ(receiver.store().stats()->rows, 1u);
}

// What arrives: Content-Encoding and body of each request, answered 200.
class RecordingReceiver {
 public:
  RecordingReceiver() {
    server_.Post("/v0/events", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mu_);
      encodings_.push_back(req.get_header_value("Content-Encoding"));
      bodies_.push_back(req.body);
      res.set_content("{\"successful_rows\":1}", "application/json");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~RecordingReceiver() {
    server_.stop();
    thread_.join();
  }
  int port() const { return port_; }
  std::vector<std::string> encodings() {
    std::lock_guard lock(mu_);
    return encodings_;
  }
  std::vector<std::string> bodies() {
    std::lock_guard lock(mu_);
    return bodies_;
  }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::vector<std::string> encodings_, bodies_;
};

TEST(Forward, BatchesGoPlainToALoopbackHostAndGzippedWhenAsked) {
  auto store = EventStore::open(Options{}).value();
  ASSERT_TRUE(store->record_event(Event{.event_id = "e1", .user_id = "u", .feature_id = "f", .product_version = "1",
                                        .event_type = "view", .timestamp = testing::at("2025-06-01 10:00:00")})
                  .ok());
  std::string line;
  exporting::append_event_json(store->read_feed(0, 10).value().events.at(0).event, &line);
  struct Case {
    const char* host;
    ForwardCompression compression;
    bool gzipped;
  };
  for (const Case& c : {Case{"127.0.0.1", ForwardCompression::kAuto, false},
                        Case{"localhost", ForwardCompression::kAuto, false},
                        Case{"127.0.0.1", ForwardCompression::kNone, false},
                        Case{"127.0.0.1", ForwardCompression::kGzip, true}}) {
    RecordingReceiver receiver;
    Forwarder forwarder(*store, {.url = absl::StrCat("http://", c.host, ":", receiver.port()),
                                 .token = "t",
                                 .cursor = "recorded",
                                 .compression = c.compression});
    ASSERT_TRUE(forwarder.run_until_caught_up().ok()) << c.host;
    ASSERT_TRUE(store->save_cursor("recorded", 0).ok());
    ASSERT_EQ(receiver.bodies().size(), 1u) << c.host;
    // httplib's server inflates a gzipped body before the handler sees it.
    EXPECT_EQ(receiver.bodies()[0], line) << c.host;
    if (c.gzipped) {
      EXPECT_EQ(receiver.encodings()[0], "gzip");
      EXPECT_LT(forwarder.stats().bytes_sent, line.size());  // the line's repeated keys shrink
    } else {
      EXPECT_EQ(receiver.encodings()[0], "") << c.host;
      EXPECT_EQ(forwarder.stats().bytes_sent, line.size()) << c.host;
    }
  }
}

// Both encodings reach a usagedb receiver whole.
TEST(Forward, ReceiverStoresPlainAndGzippedBatchesAlike) {
  auto store = EventStore::open(Options{}).value();
  std::vector<std::string> ids;
  for (int i = 0; i < 50; ++i) ids.push_back(absl::StrCat("e", i));
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(store->record_event(Event{.event_id = ids[i], .user_id = "u", .feature_id = "f",
                                          .product_version = "1", .event_type = "view",
                                          .timestamp = testing::at("2025-06-01 10:00:00") + std::chrono::seconds(i)})
                    .ok());
  }
  for (const ForwardCompression compression : {ForwardCompression::kGzip, ForwardCompression::kNone}) {
    InProcessReceiver receiver;
    Forwarder forwarder(*store, {.url = receiver.url(), .token = "fwd-secret", .cursor = "both",
                                 .batch_events = 7, .compression = compression});
    ASSERT_TRUE(forwarder.run_until_caught_up().ok());
    ASSERT_TRUE(store->save_cursor("both", 0).ok());
    EXPECT_EQ(forwarder.stats().batches_sent, 8u);
    EXPECT_EQ(event_lines(receiver.store()), event_lines(*store));
  }
}

}  // namespace
}  // namespace usagedb
