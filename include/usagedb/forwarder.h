// usagedb/forwarder.h: sends a store's events to a Tinybird-compatible
// Events API (Tinybird itself, or another `usagedb serve`), continuously and
// without loss, from the application's own process (SPEC 8). `usagedb
// forward` is this class.
//
//   usagedb::ForwarderOptions options;
//   options.url = "https://api.tinybird.co";          // or http://host:7181
//   options.token = append_token;                     // DATASOURCES:APPEND:feature_events
//   usagedb::Forwarder forwarder(*store, options);
//   absl::Status s = forwarder.run_until_caught_up(); // everything recorded so far
//   forwarder.start();                                // or: keep following, in the background
//   ...
//   absl::Status stopped = forwarder.stop();          // the error that stopped it, if any
//
// Events go as NDJSON batches to `POST /v0/events?name=<data
// source>&wait=true` (acknowledged once durable), gzipped to a remote host
// and plain to a loopback one (ForwarderOptions::compression). 429 is
// retried after its Retry-After; 5xx, timeouts and connection errors with
// capped exponential backoff; other answers (401, 403, 400, ...) stop the
// forwarder with an error naming the status and the body. What was
// acknowledged is saved in the store (a cursor over the store's arrival
// numbers, usagedb/feed.h), so a crash or restart of either side resumes
// where it stopped: an event with an event_id reaches a receiver that
// deduplicates (usagedb does) exactly once; an event without one at least
// once (a batch acknowledged but not yet saved when the sender crashed is
// sent again). docs/FORWARD.md.
//
// Thread-safety: start(), stop() and run_until_caught_up() from one thread;
// stats() from any. The store must outlive the forwarder.
#ifndef USAGEDB_FORWARDER_H_
#define USAGEDB_FORWARDER_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "usagedb/event_store.h"

namespace usagedb {

// How batches travel (ForwarderOptions::compression).
enum class ForwardCompression {
  // Plain to a loopback host (localhost, 127.0.0.0/8, [::1]), where gzip
  // would cost CPU on both sides of the same machine and save no network;
  // gzip to any other host.
  kAuto,
  kGzip,  // Content-Encoding: gzip, at gzip_level
  kNone,  // plain NDJSON (Tinybird's Events API and usagedb serve take both)
};

struct ForwarderOptions {
  // The Events API's base URL: http://host[:port] or https://host[:port],
  // optionally with a path prefix. Required.
  std::string url;
  // Sent as `Authorization: Bearer <token>`. Required.
  std::string token;
  // The data source (the `name` query parameter).
  std::string datasource = "feature_events";
  // The store cursor that keeps what was acknowledged (1 to 64 bytes of
  // [A-Za-z0-9_.-]); "" = one derived from url and datasource, so each
  // destination has its own.
  std::string cursor;
  // A batch holds at most this many events and this many NDJSON bytes
  // before gzip (keep it under the receiver's body limit: usagedb serve's
  // default is 10 MiB, counted after inflation too).
  size_t batch_events = 20000;
  size_t batch_bytes = 8 << 20;
  // Requests in flight at once (each on its own connection). The cursor
  // advances only over a prefix of acknowledged batches.
  int connections = 4;
  ForwardCompression compression = ForwardCompression::kAuto;
  // gzip level, 1 (fastest) to 9.
  int gzip_level = 1;
  // While following, how often to look for new events when caught up.
  std::chrono::milliseconds poll_interval{100};
  // Retries: the first wait, doubled after each failure up to the cap.
  std::chrono::milliseconds initial_backoff{100};
  std::chrono::milliseconds max_backoff{5000};
  // Per request: connecting, and waiting for the answer.
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds request_timeout{60000};
};

struct ForwarderStats {
  uint64_t events_sent = 0;       // acknowledged by the receiver, this run
  uint64_t batches_sent = 0;
  uint64_t bytes_sent = 0;        // bodies acknowledged, as sent (gzipped or plain)
  uint64_t retries = 0;           // requests repeated, for any reason
  uint64_t rate_limited = 0;      // 429 answers
  uint64_t server_errors = 0;     // 5xx answers
  uint64_t connection_errors = 0; // no answer: refused, reset, timed out
  uint64_t cursor = 0;            // the arrival number saved as acknowledged
};

class Forwarder {
 public:
  Forwarder(EventStore& store, ForwarderOptions options);
  ~Forwarder();  // stop()
  Forwarder(const Forwarder&) = delete;
  Forwarder& operator=(const Forwarder&) = delete;

  // Sends every event the store holds durably now that was not acknowledged
  // before, and returns once all are acknowledged and saved. Errors:
  // InvalidArgumentError for bad options; FailedPreconditionError for an
  // answer that is not retried (naming its status and body); the store's.
  absl::Status run_until_caught_up();

  // Starts forwarding in the background, new events as they are recorded
  // (each sent within about poll_interval plus a request once durable).
  // InvalidArgumentError for bad options; FailedPreconditionError when
  // already started.
  absl::Status start();
  // Stops the background forwarding (requests in flight are abandoned and
  // sent again next time) and returns the error that stopped it, if any.
  absl::Status stop();

  // Whether background forwarding is running: true from start() until
  // stop(), or until an error ends it (stop() then returns the error).
  bool running() const;

  ForwarderStats stats() const;

  class Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace usagedb

#endif  // USAGEDB_FORWARDER_H_
