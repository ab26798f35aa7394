// POST /v0/events?name=feature_events[&wait=true]: the Events API (SPEC 5).
//
// The body is NDJSON (SPEC 1.1), gzip accepted, up to max_body_bytes as sent
// and inflated. Its rows are stored (and visible to queries) before the
// answer; with wait=true the answer is 200 once they are durable (the group
// commit's shared flush), without it 202 and the background flusher makes
// them durable within the flush interval.
//
// A body of up to kEventsBufferedBytes (decoded) is read whole and ingested
// as text. A larger one is streamed into the store (EventStore::ingest_stream:
// parsed on the store's threads as it arrives, memory bounded by a few
// chunks), which returns once its rows are durable.
#include "absl/strings/str_cat.h"
#include "lib/http/request_body.h"
#include "lib/http/routes.h"
#include "lib/util/text.h"
#include "simdjson.h"

namespace usagedb::http {
namespace {

std::string_view trim_line(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

}  // namespace

absl::StatusOr<bool> bool_param(const Exchange& ex, std::string_view name, bool fallback) {
  const std::string* value = ex.param(name);
  if (value == nullptr) return fallback;
  if (*value == "true" || *value == "1") return true;
  if (*value == "false" || *value == "0") return false;
  return absl::InvalidArgumentError(
      absl::StrCat(text::absl_view(name), ": expected true or false, got '", text::excerpt(*value), "'"));
}

std::optional<std::string> events_body_as_one_line(std::string_view body) {
  std::string_view rest = body;
  std::string_view first;
  while (!rest.empty()) {
    const size_t eol = rest.find('\n');
    first = trim_line(rest.substr(0, eol));
    rest = eol == std::string_view::npos ? std::string_view() : rest.substr(eol + 1);
    if (!first.empty()) break;
  }
  // NDJSON lines end with '}'; a first line that does not, but opens an
  // object, may be the start of one object over several lines.
  if (first.empty() || first.front() != '{' || first.back() == '}') return std::nullopt;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(body.data(), body.size(), true).get(doc) != simdjson::SUCCESS || !doc.is_object()) {
    return std::nullopt;
  }
  std::string line(body.size(), '\0');
  size_t length = 0;
  if (simdjson::minify(body.data(), body.size(), line.data(), length) != simdjson::SUCCESS) return std::nullopt;
  line.resize(length);
  line.push_back('\n');
  return line;
}

void handle_events(Exchange& ex) {
  absl::StatusOr<bool> wait = bool_param(ex, "wait", false);
  if (!wait.ok()) return reply_status(ex.res, wait.status());
  absl::StatusOr<std::unique_ptr<RequestBody>> body = RequestBody::open(ex, ex.server.options.max_body_bytes);
  if (!body.ok()) return reply_status(ex.res, body.status());
  InputBuffer prefix;
  absl::StatusOr<bool> whole = (*body)->read_prefix(kEventsBufferedBytes, &prefix);
  if (!whole.ok()) return reply_status(ex.res, whole.status());
  absl::StatusOr<IngestReport> report;
  bool durable = false;
  if (*whole) {
    const std::optional<std::string> one_line = events_body_as_one_line(prefix.view());
    report = ex.server.store.ingest(one_line ? std::string_view(*one_line) : prefix.view(),
                                    IngestOptions{.format = InputFormat::kNdjson, .source = "events API"});
  } else {
    report = ex.server.store.ingest_stream(
        input_source(prefix.view(), (*body)->source()),
        IngestStreamOptions{.format = InputFormat::kNdjson, .source = "events API", .size_hint = (*body)->size_hint()});
    durable = true;
  }
  if (!report.ok()) return reply_status(ex.res, report.status());
  ex.server.metrics.record_ingest(*report);
  // A streamed body is durable already (ingest_stream returned once it was).
  if (!durable && *wait) {
    if (absl::Status s = ex.server.commit.sync(); !s.ok()) {
      return reply_error(ex.res, 500,
                         absl::StrCat("the rows were stored but could not be made durable: ", s.message()));
    }
  } else if (!durable) {
    ex.server.commit.note_write();
  }
  reply_json(ex.res, *wait ? 200 : 202,
             absl::StrCat("{\"successful_rows\":", report->successful_rows, ",\"quarantined_rows\":",
                          report->quarantined_rows, ",\"duplicate_rows\":", report->duplicate_rows, "}"));
}

}  // namespace usagedb::http
