// Forwarder (usagedb/forwarder.h; docs/FORWARD.md).
//
// One pass (run): this thread reads the store's feed after the cursor and
// cuts it into batches of NDJSON; `connections` sender threads each take the
// next batch, gzip it (unless it goes plain: ForwardCompression) and POST it
// until it is acknowledged. Batches are numbered in feed order; the cursor
// advances over the longest prefix of acknowledged batches, and this thread
// saves it. At most 2 * connections batches are in memory at once.
#include <httplib.h>
#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "lib/export/event_json.h"
#include "lib/forward/loopback.h"
#include "lib/util/hash.h"
#include "lib/util/status_macros.h"
#include "lib/util/text.h"
#include "usagedb/forwarder.h"

namespace usagedb {
namespace {

using Clock = std::chrono::steady_clock;
using text::absl_view;

// "scheme://host[:port]" and the path prefix ("" or "/x/y") of a base URL.
absl::Status split_url(const std::string& url, std::string* origin, std::string* prefix) {
  const size_t scheme = url.find("://");
  if (scheme == std::string::npos || (url.compare(0, scheme, "http") != 0 && url.compare(0, scheme, "https") != 0)) {
    return absl::InvalidArgumentError(absl::StrCat("forward: --to: expected http://host[:port] or https://..., got '",
                                                   url, "'"));
  }
  const size_t path = url.find('/', scheme + 3);
  *origin = url.substr(0, path);
  *prefix = path == std::string::npos ? "" : url.substr(path);
  while (!prefix->empty() && prefix->back() == '/') prefix->pop_back();
  if (origin->size() == scheme + 3) return absl::InvalidArgumentError(absl::StrCat("forward: --to: no host in '", url, "'"));
  return absl::OkStatus();
}

// The default cursor: "forward-<host and path>-<datasource>", characters
// a cursor name cannot hold as '_', hashed when longer than 64 bytes.
std::string default_cursor(const std::string& url, const std::string& datasource) {
  const size_t scheme = url.find("://");
  std::string name = absl::StrCat("forward-", scheme == std::string::npos ? url : url.substr(scheme + 3), "-", datasource);
  for (char& c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                    c == '.' || c == '-';
    if (!ok) c = '_';
  }
  if (name.size() > 64) {
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(hash::hash64(name)));
    name = absl::StrCat(name.substr(0, 47), "-", hex);
  }
  return name;
}

absl::Status gzip(std::string_view in, int level, std::string* out) {
  z_stream zs{};
  if (deflateInit2(&zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    return absl::InternalError("forward: deflateInit2 failed");
  }
  out->resize(deflateBound(&zs, in.size()));
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(out->data());
  zs.avail_out = static_cast<uInt>(out->size());
  const int rc = deflate(&zs, Z_FINISH);
  out->resize(zs.total_out);
  deflateEnd(&zs);
  return rc == Z_STREAM_END ? absl::OkStatus() : absl::InternalError("forward: gzip failed");
}

struct Batch {
  uint64_t index = 0;    // in feed order
  uint64_t through = 0;  // the cursor once it and every batch before it are acknowledged
  uint64_t events = 0;
  std::string ndjson;
};

}  // namespace

class Forwarder::Impl {
 public:
  Impl(EventStore& store, ForwarderOptions options) : store_(store), o_(std::move(options)) {}

  absl::Status prepare() {
    if (o_.token.empty()) return absl::InvalidArgumentError("forward: --token: required");
    if (o_.batch_events == 0 || o_.batch_bytes == 0) {
      return absl::InvalidArgumentError("forward: the batch size must be at least 1 event and 1 byte");
    }
    if (o_.connections < 1) return absl::InvalidArgumentError("forward: connections must be at least 1");
    if (o_.gzip_level < 1 || o_.gzip_level > 9) return absl::InvalidArgumentError("forward: gzip level: 1 to 9");
    if (absl::Status s = split_url(o_.url, &origin_, &prefix_); !s.ok()) return s;
    gzip_ = o_.compression == ForwardCompression::kGzip ||
            (o_.compression == ForwardCompression::kAuto && !forwarding::is_loopback_origin(origin_));
    cursor_name_ = o_.cursor.empty() ? default_cursor(o_.url, o_.datasource) : o_.cursor;
    if (absl::StatusOr<uint64_t> c = store_.load_cursor(cursor_name_); !c.ok()) {
      return c.status();
    } else {
      std::lock_guard lock(stats_mu_);
      stats_.cursor = *c;
    }
    return absl::OkStatus();
  }

  // One pass: to the end of what is durable (follow = false), or until
  // stop() (follow = true).
  absl::Status run(bool follow) {
    USAGEDB_RETURN_IF_ERROR(prepare());
    absl::StatusOr<uint64_t> start = store_.load_cursor(cursor_name_);
    if (!start.ok()) return start.status();
    Pipeline p;
    p.committed = *start;
    p.saved = *start;
    // The clients are made here, one after the other: httplib's constructor
    // parses the URL with a regular expression that is not safe to build
    // from several threads at once.
    std::vector<std::unique_ptr<httplib::Client>> clients;
    for (int i = 0; i < o_.connections; ++i) clients.push_back(make_client());
    std::vector<std::thread> senders;
    for (int i = 0; i < o_.connections; ++i) senders.emplace_back([&, i] { send_loop(p, *clients[i]); });
    absl::Status status = produce(p, *start, follow);
    {
      std::lock_guard lock(p.mu);
      p.producing = false;
      if (!status.ok()) p.failed = true;  // abandon the batches in flight: sent again next time
    }
    p.cv.notify_all();
    for (std::thread& t : senders) t.join();
    // What was acknowledged is saved, whatever stopped the pass.
    absl::Status saved = save(p);
    if (status.ok()) status = p.error;
    if (status.ok()) status = saved;
    return status;
  }

  absl::Status start() {
    if (background_.joinable()) return absl::FailedPreconditionError("forward: already started");
    USAGEDB_RETURN_IF_ERROR(prepare());
    stopping_ = false;
    background_status_ = absl::OkStatus();
    running_ = true;
    background_ = std::thread([this] {
      background_status_ = run(/*follow=*/true);
      running_ = false;
    });
    return absl::OkStatus();
  }

  absl::Status stop() {
    {
      std::lock_guard lock(sleep_mu_);
      stopping_ = true;
    }
    sleep_cv_.notify_all();
    if (!background_.joinable()) return absl::OkStatus();
    background_.join();
    absl::Status s = background_status_;
    // A stop is not an error of the forwarding.
    return s.code() == absl::StatusCode::kCancelled ? absl::OkStatus() : s;
  }

  bool running() const { return running_; }

  ForwarderStats stats() const {
    std::lock_guard lock(stats_mu_);
    return stats_;
  }

 private:
  struct Pipeline {
    std::mutex mu;
    std::condition_variable cv;
    std::deque<std::shared_ptr<Batch>> queue;  // made, not yet taken by a sender
    size_t in_flight = 0;                     // taken, not yet acknowledged
    std::map<uint64_t, uint64_t> acked;       // index -> through, beyond the committed prefix
    uint64_t next_commit = 0;                 // the index of the first batch not yet committed
    uint64_t committed = 0;                   // the cursor the acknowledged prefix reaches
    uint64_t saved = 0;                       // the cursor saved in the store
    bool producing = true;
    absl::Status error;                       // the first sender's error: stops the pass
    std::atomic<bool> failed{false};          // error is set, or the producer failed: senders stop

    // Waits until `done()`, waking at least every 50 ms to notice stop().
    template <typename F>
    void wait(std::unique_lock<std::mutex>& lock, F done) {
      while (!done()) cv.wait_for(lock, std::chrono::milliseconds(50));
    }
  };

  // Marks batch `index` acknowledged. REQUIRES: p.mu held.
  static void acknowledge(Pipeline& p, uint64_t index, uint64_t through) {
    p.acked[index] = through;
    for (auto it = p.acked.begin(); it != p.acked.end() && it->first == p.next_commit; it = p.acked.erase(it)) {
      p.committed = std::max(p.committed, it->second);
      ++p.next_commit;
    }
  }

  absl::Status save(Pipeline& p) {
    uint64_t committed;
    {
      std::lock_guard lock(p.mu);
      if (p.committed == p.saved) return absl::OkStatus();
      committed = p.committed;
    }
    USAGEDB_RETURN_IF_ERROR(store_.save_cursor(cursor_name_, committed));
    std::lock_guard lock(p.mu);
    p.saved = committed;
    std::lock_guard stats_lock(stats_mu_);
    stats_.cursor = committed;
    return absl::OkStatus();
  }

  // Reads the feed and queues batches; saves the cursor as it advances.
  absl::Status produce(Pipeline& p, uint64_t after, bool follow) {
    uint64_t index = 0;
    for (;;) {
      {
        std::unique_lock lock(p.mu);
        p.wait(lock, [&] {
          return !p.error.ok() || stopping_ || p.queue.size() + p.in_flight < 2 * static_cast<size_t>(o_.connections);
        });
        if (!p.error.ok()) return p.error;
      }
      if (stopping_) return absl::CancelledError("forward: stopped");
      USAGEDB_RETURN_IF_ERROR(save(p));
      absl::StatusOr<EventFeedPage> page = store_.read_feed(after, o_.batch_events);
      if (!page.ok()) return page.status();
      const bool caught_up = page->next_after == page->durable_through;
      // Cut the page into batches of at most batch_bytes (each at least one
      // event). Each batch's text is made in room for all of it (the bytes
      // an event took so far, times the page's events, at most batch_bytes
      // and an event): growing a string of megabytes copies it over and over.
      std::vector<std::shared_ptr<Batch>> batches;
      const auto reserved_batch = [&](size_t events) {
        auto b = std::make_shared<Batch>();
        const size_t each = events_made_ > 0 ? bytes_made_ / events_made_ + 16 : 512;
        b->ndjson.reserve(std::min(o_.batch_bytes + 2 * each, events * each));
        return b;
      };
      auto batch = reserved_batch(page->events.size());
      for (size_t i = 0; i < page->events.size(); ++i) {
        const size_t before = batch->ndjson.size();
        exporting::append_event_json(page->events[i].event, &batch->ndjson);
        if (batch->ndjson.size() > o_.batch_bytes && batch->events > 0) {
          std::string line = batch->ndjson.substr(before);
          batch->ndjson.resize(before);
          batch->through = page->events[i - 1].sequence;
          batches.push_back(std::move(batch));
          batch = reserved_batch(page->events.size() - i);
          batch->ndjson.append(line);
        }
        ++batch->events;
      }
      for (const auto& b : batches) bytes_made_ += b->ndjson.size();
      bytes_made_ += batch->ndjson.size();
      events_made_ += page->events.size();
      batch->through = page->next_after;  // gaps after the last event included
      if (batch->events > 0 || batch->through > after) batches.push_back(std::move(batch));
      after = page->next_after;
      {
        std::lock_guard lock(p.mu);
        for (auto& b : batches) {
          b->index = index++;
          if (b->events == 0) {
            acknowledge(p, b->index, b->through);  // numbers with no event left: nothing to send
          } else {
            p.queue.push_back(std::move(b));
          }
        }
      }
      p.cv.notify_all();
      if (!caught_up) continue;
      if (!follow) {
        // Wait for the last acknowledgements.
        std::unique_lock lock(p.mu);
        p.wait(lock, [&] { return !p.error.ok() || stopping_ || (p.queue.empty() && p.in_flight == 0); });
        if (!p.error.ok()) return p.error;
        if (stopping_) return absl::CancelledError("forward: stopped");
        return absl::OkStatus();
      }
      sleep_for(o_.poll_interval);
    }
  }

  std::unique_ptr<httplib::Client> make_client() const {
    auto client = std::make_unique<httplib::Client>(origin_);
    client->set_keep_alive(true);
    const auto seconds = [](std::chrono::milliseconds d) { return static_cast<time_t>(d.count() / 1000); };
    const auto micros = [](std::chrono::milliseconds d) { return static_cast<time_t>((d.count() % 1000) * 1000); };
    client->set_connection_timeout(seconds(o_.connect_timeout), micros(o_.connect_timeout));
    client->set_read_timeout(seconds(o_.request_timeout), micros(o_.request_timeout));
    client->set_write_timeout(seconds(o_.request_timeout), micros(o_.request_timeout));
    return client;
  }

  void send_loop(Pipeline& p, httplib::Client& client) {
    httplib::Headers headers = {{"Authorization", "Bearer " + o_.token}};
    if (gzip_) headers.emplace("Content-Encoding", "gzip");
    const std::string path = absl::StrCat(prefix_, "/v0/events?name=", o_.datasource, "&wait=true");
    std::string body;
    for (;;) {
      std::shared_ptr<Batch> batch;
      {
        std::unique_lock lock(p.mu);
        p.wait(lock, [&] { return !p.queue.empty() || !p.producing || !p.error.ok() || stopping_; });
        if (p.queue.empty() || !p.error.ok() || stopping_) return;
        batch = std::move(p.queue.front());
        p.queue.pop_front();
        ++p.in_flight;
      }
      absl::Status s = gzip_ ? gzip(batch->ndjson, o_.gzip_level, &body) : absl::OkStatus();
      const std::string& sent = gzip_ ? body : batch->ndjson;
      if (s.ok()) s = send(client, path, headers, sent, p.failed);
      {
        std::lock_guard lock(p.mu);
        --p.in_flight;
        if (s.ok()) {
          acknowledge(p, batch->index, batch->through);
          std::lock_guard stats_lock(stats_mu_);
          stats_.events_sent += batch->events;
          ++stats_.batches_sent;
          stats_.bytes_sent += sent.size();
        } else if (p.error.ok()) {
          p.error = s;
          p.failed = true;
        }
      }
      p.cv.notify_all();
    }
  }

  // POSTs one batch until it is acknowledged, retrying what may succeed later.
  absl::Status send(httplib::Client& client, const std::string& path, const httplib::Headers& headers,
                    const std::string& body, const std::atomic<bool>& failed) {
    std::chrono::milliseconds backoff = o_.initial_backoff;
    for (bool first = true;; first = false) {
      if (stopping_ || failed) return absl::CancelledError("forward: stopped");
      if (!first) {
        std::lock_guard lock(stats_mu_);
        ++stats_.retries;
      }
      // From `body` as it is (a body given as a string is copied into the
      // request first).
      httplib::Result r = client.Post(
          path, headers, body.size(),
          [&body](size_t offset, size_t length, httplib::DataSink& sink) {
            return sink.write(body.data() + offset, std::min(length, body.size() - offset));
          },
          "application/x-ndjson");
      std::chrono::milliseconds wait = backoff;
      if (!r) {
        std::lock_guard lock(stats_mu_);
        ++stats_.connection_errors;
      } else if (r->status == 200 || r->status == 202) {
        return absl::OkStatus();
      } else if (r->status == 429) {
        {
          std::lock_guard lock(stats_mu_);
          ++stats_.rate_limited;
        }
        const std::string after = r->get_header_value("Retry-After");
        uint64_t retry_after = 0;
        if (std::from_chars(after.data(), after.data() + after.size(), retry_after).ec == std::errc() &&
            retry_after < 3600) {
          wait = std::chrono::seconds(retry_after);
          if (wait.count() == 0) wait = o_.initial_backoff;
        }
      } else if (r->status >= 500) {
        std::lock_guard lock(stats_mu_);
        ++stats_.server_errors;
      } else {
        return absl::FailedPreconditionError(absl::StrCat("forward: POST ", origin_, path, " answered ", r->status,
                                                          ": ", r->body.substr(0, 500)));
      }
      sleep_for(wait);
      backoff = std::min(backoff * 2, o_.max_backoff);
    }
  }

  // Waits `d`, or less when stop() is called.
  void sleep_for(std::chrono::milliseconds d) {
    std::unique_lock lock(sleep_mu_);
    sleep_cv_.wait_for(lock, d, [&] { return stopping_.load(); });
  }

  EventStore& store_;
  const ForwarderOptions o_;
  std::string origin_, prefix_, cursor_name_;
  uint64_t bytes_made_ = 0, events_made_ = 0;  // NDJSON made by produce(), for the next batches' room
  bool gzip_ = true;  // batches go gzipped (else plain): compression, resolved by prepare()

  mutable std::mutex stats_mu_;
  ForwarderStats stats_;

  std::atomic<bool> stopping_{false};
  std::atomic<bool> running_{false};
  std::mutex sleep_mu_;
  std::condition_variable sleep_cv_;
  std::thread background_;
  absl::Status background_status_;
};

Forwarder::Forwarder(EventStore& store, ForwarderOptions options)
    : impl_(std::make_unique<Impl>(store, std::move(options))) {}

Forwarder::~Forwarder() { impl_->stop().IgnoreError(); }

absl::Status Forwarder::run_until_caught_up() { return impl_->run(/*follow=*/false); }
absl::Status Forwarder::start() { return impl_->start(); }
absl::Status Forwarder::stop() { return impl_->stop(); }
bool Forwarder::running() const { return impl_->running(); }
ForwarderStats Forwarder::stats() const { return impl_->stats(); }

}  // namespace usagedb
