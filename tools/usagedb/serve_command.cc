// usagedb serve [--store DIR] [--host 127.0.0.1] [--port 7181] [--tokens FILE] [--threads N]
//               [--max-body-bytes N] [--max-file-bytes N] [--tls-cert PEM --tls-key PEM]
//               [--cors-origin ORIGIN] [--access-log FILE|-|off] [--no-dashboard]
//
// The HTTP API of SPEC 5 over a store (usagedb/http_server.h). Without
// --tokens it uses the store's tokens.json, created on the first start with
// one random ADMIN token, printed once. SIGINT or SIGTERM stops it: requests
// arriving then get 503, those in flight finish, the store is flushed and
// closed, and the exit status is 0.
#include <signal.h>

#include <cstdio>
#include <string>

#include "absl/strings/str_cat.h"
#include "tools/usagedb/cli.h"
#include "tools/usagedb/commands.h"
#include "tools/usagedb/store_access.h"
#include "usagedb/http_server.h"

namespace usagedb::cli {

int run_serve(const Args& args) {
  static const CommandSpec kSpec{"serve",
                                 {"store", "host", "port", "tokens", "threads", "max-body-bytes", "max-file-bytes",
                                  "tls-cert", "tls-key", "cors-origin", "access-log"},
                                 {"no-dashboard"}};
  auto parsed = parse_args(kSpec, args);
  if (!parsed.ok()) return fail(parsed.status());
  if (!parsed->positional.empty()) {
    return fail(
        absl::InvalidArgumentError(absl::StrCat("usagedb serve: unexpected argument '", parsed->positional[0], "'")));
  }
  HttpServerOptions options;
  options.host = parsed->value("host").value_or("127.0.0.1");
  struct Number {
    const char* name;
    uint64_t max;
  };
  for (const Number n : {Number{"port", 65535}, Number{"threads", 4096}, Number{"max-body-bytes", UINT64_MAX},
                         Number{"max-file-bytes", UINT64_MAX}}) {
    auto value = parsed->number(n.name);
    if (!value.ok()) return fail(value.status());
    if (!value->has_value()) continue;
    if (**value > n.max || (**value == 0 && std::string_view(n.name) != "port")) {
      return fail(absl::InvalidArgumentError(
          absl::StrCat("--", n.name, ": expected 1..", n.max,
                       std::string_view(n.name) == "port" ? " (or 0: any free port)" : "", ", got ", **value)));
    }
    const std::string_view name = n.name;
    if (name == "port") options.port = static_cast<int>(**value);
    if (name == "threads") options.threads = **value;
    if (name == "max-body-bytes") options.max_body_bytes = **value;
    if (name == "max-file-bytes") options.max_file_bytes = **value;
  }
  options.tls_cert_file = parsed->value("tls-cert").value_or("");
  options.tls_key_file = parsed->value("tls-key").value_or("");
  options.cors_origin = parsed->value("cors-origin").value_or("*");
  options.access_log = parsed->value("access-log").value_or("-");
  options.dashboard = !parsed->flag("no-dashboard");
  if (options.access_log == "off") options.access_log.clear();
  const std::string store_dir = parsed->store();
  if (auto tokens = parsed->value("tokens")) {
    options.tokens_file = *tokens;
  } else {
    options.tokens_file = store_dir + "/tokens.json";
    options.create_tokens_file = true;
  }

  // The signals are taken by sigwait below, in this thread; every thread the
  // server starts inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  auto store = open_store(store_dir, /*create=*/true);
  if (!store.ok()) return fail(store.status());
  int exit_code = kExitOk;
  {
    HttpServer server(**store, options);
    if (absl::Status s = server.start(); !s.ok()) return fail(s);
    const std::string scheme = options.tls_cert_file.empty() ? "http" : "https";
    std::printf("usagedb serve: listening on %s://%s:%d (store %s; SIGINT or SIGTERM stops)\n", scheme.c_str(),
                options.host.c_str(), server.port(), store_dir.c_str());
    if (!server.created_admin_token().empty()) {
      std::printf("usagedb serve: created %s with an ADMIN token, shown only this once:\n%s\n",
                  options.tokens_file.c_str(), server.created_admin_token().c_str());
    }
    std::fflush(stdout);
    int signal_number = 0;
    sigwait(&signals, &signal_number);
    std::fprintf(stderr, "usagedb serve: %s: finishing the requests in flight, flushing the store\n",
                 signal_number == SIGINT ? "SIGINT" : "SIGTERM");
    if (absl::Status s = server.stop(); !s.ok()) exit_code = fail(s);
  }
  store->reset();  // closes the store: its last checkpoint
  return exit_code;
}

}  // namespace usagedb::cli
