// The handlers of the HTTP API's routes (SPEC 5; docs/HTTP.md), each called
// after admission (lib/http/admission.h) let its request through, and
// answering it in ex.res.
//
// Thread-safety: called on the thread serving the request; they share only
// ServerState, which is safe for concurrent use.
#ifndef USAGEDB_HTTP_ROUTES_H_
#define USAGEDB_HTTP_ROUTES_H_

#include <optional>
#include <string_view>

#include "absl/status/statusor.h"
#include "lib/http/exchange.h"

namespace usagedb::http {

// POST /v0/events?name=feature_events[&wait=true]   (events_route.cc)
void handle_events(Exchange& ex);
// Events bodies up to this size (decoded) are read whole, ingested as text
// and made durable by the group commit: every tracker request and SDK batch,
// and batches of ~15,000 events. Larger ones stream into the store.
inline constexpr size_t kEventsBufferedBytes = 4 << 20;
// POST /v0/datasources?name=feature_events&mode=append[&format=csv|ndjson]   (datasources_routes.cc)
void handle_datasources_append(Exchange& ex);
// POST /v0/datasources/feature_events/delete   (datasources_routes.cc)
void handle_datasources_delete(Exchange& ex);
// GET /v0/pipes, GET /v0/pipes/NAME, GET /v0/pipes/NAME.FORMAT   (pipes_routes.cc)
void handle_pipes_list(Exchange& ex);
void handle_pipe_info(Exchange& ex);
void handle_pipe(Exchange& ex);
// GET /v0/health, GET /metrics   (pipes_routes.cc)
void handle_health(Exchange& ex);
void handle_metrics(Exchange& ex);
// GET /, GET /FILE: the dashboard's embedded files   (dashboard_route.cc)
void handle_dashboard(Exchange& ex);

// Calls the handler of ex.state.route.
void dispatch(Exchange& ex);

// A boolean query parameter: true, false, 1 or 0 (absent: `fallback`).
// InvalidArgumentError naming it otherwise.
absl::StatusOr<bool> bool_param(const Exchange& ex, std::string_view name, bool fallback);

// A body that is one JSON object written over several lines (pretty-printed,
// as the tutorial's `curl -d '{ ... }'` sends it) as one NDJSON line; nullopt
// for any other body (NDJSON as it is). Only when the first non-blank line is
// not itself a complete object, and the whole body parses as one JSON object.
std::optional<std::string> events_body_as_one_line(std::string_view body);

}  // namespace usagedb::http

#endif  // USAGEDB_HTTP_ROUTES_H_
