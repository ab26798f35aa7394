// usagedb forward --store DIR --to URL --token T [--follow] [--cursor NAME]
//                 [--batch-events N] [--connections N] [--compression auto|gzip|none]
#include <signal.h>
#include <time.h>

#include <chrono>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "tools/usagedb/cli.h"
#include "tools/usagedb/commands.h"
#include "tools/usagedb/store_access.h"
#include "usagedb/forwarder.h"

namespace usagedb::cli {

int run_forward(const Args& args) {
  static const CommandSpec kSpec{
      "forward",
      {"store", "to", "token", "cursor", "datasource", "batch-events", "connections", "compression"},
      {"follow"}};
  auto parsed = parse_args(kSpec, args);
  if (!parsed.ok()) return fail(parsed.status());
  if (!parsed->positional.empty()) {
    return fail(absl::InvalidArgumentError(absl::StrCat("usagedb forward: unexpected argument '",
                                                        parsed->positional[0], "'")));
  }
  ForwarderOptions options;
  const std::optional<std::string> to = parsed->value("to");
  const std::optional<std::string> token = parsed->value("token");
  if (!to) return fail(absl::InvalidArgumentError("usagedb forward: --to URL is required"));
  if (!token) return fail(absl::InvalidArgumentError("usagedb forward: --token T is required"));
  options.url = *to;
  options.token = *token;
  options.cursor = parsed->value("cursor").value_or("");
  options.datasource = parsed->value("datasource").value_or(options.datasource);
  for (const auto& [name, field] : {std::pair<const char*, size_t*>{"batch-events", &options.batch_events}}) {
    auto n = parsed->number(name);
    if (!n.ok()) return fail(n.status());
    if (*n) {
      if (**n == 0) return fail(absl::InvalidArgumentError(absl::StrCat("--", name, ": expected at least 1")));
      *field = **n;
    }
  }
  auto connections = parsed->number("connections");
  if (!connections.ok()) return fail(connections.status());
  if (*connections) {
    if (**connections == 0 || **connections > 64) {
      return fail(absl::InvalidArgumentError("--connections: expected 1 to 64"));
    }
    options.connections = static_cast<int>(**connections);
  }
  if (const std::optional<std::string> compression = parsed->value("compression")) {
    if (*compression == "auto") {
      options.compression = ForwardCompression::kAuto;
    } else if (*compression == "gzip") {
      options.compression = ForwardCompression::kGzip;
    } else if (*compression == "none") {
      options.compression = ForwardCompression::kNone;
    } else {
      return fail(absl::InvalidArgumentError(
          absl::StrCat("--compression: expected auto, gzip or none, got '", *compression, "'")));
    }
  }

  // SIGINT/SIGTERM stop --follow cleanly (what was acknowledged is saved);
  // taken by sigtimedwait below, in this thread.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  if (parsed->flag("follow")) pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  auto store = open_store(parsed->store(), /*create=*/false);
  if (!store.ok()) return fail(store.status());
  Forwarder forwarder(**store, options);
  const auto began = std::chrono::steady_clock::now();
  absl::Status status;
  if (parsed->flag("follow")) {
    status = forwarder.start();
    if (status.ok()) {
      std::fprintf(stderr, "usagedb forward: following %s; SIGINT or SIGTERM stops\n", options.url.c_str());
      const timespec second{1, 0};
      while (forwarder.running()) {
        if (sigtimedwait(&signals, nullptr, &second) > 0) break;
      }
      status = forwarder.stop();
    }
  } else {
    status = forwarder.run_until_caught_up();
  }
  const ForwarderStats s = forwarder.stats();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
  std::string summary = absl::StrFormat(
      "forwarded %d events in %d batches (%d bytes sent) in %.2f s (%.0f events/s); cursor %d; retries %d "
      "(429: %d, 5xx: %d, no answer: %d)\n",
      s.events_sent, s.batches_sent, s.bytes_sent, seconds, seconds > 0 ? s.events_sent / seconds : 0.0, s.cursor,
      s.retries, s.rate_limited, s.server_errors, s.connection_errors);
  write_stdout(summary);
  if (!status.ok()) return fail(status);
  return kExitOk;
}

}  // namespace usagedb::cli
