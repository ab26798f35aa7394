// usagedb demo [--store DIR] [--events N]
// The main job: generates N realistic events (default 1M), ingests them as
// NDJSON into the store with a progress bar, and answers every endpoint for a
// real user and feature (the monthly timeline also in New York's time, the
// feature's usage by device), showing each answer's time and the `usagedb
// query` command that gives it.
#include <chrono>
#include <cstdio>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "lib/api/endpoint_request.h"
#include "lib/api/format.h"
#include "lib/api/result_table.h"
#include "lib/gen/generator.h"
#include "tools/usagedb/cli.h"
#include "tools/usagedb/commands.h"
#include "tools/usagedb/progress.h"
#include "tools/usagedb/store_access.h"

namespace usagedb::cli {

std::string report_line(std::string_view name, const IngestReport& r, double seconds);  // ingest_command.cc

namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Runs one endpoint the way `usagedb query` does and prints the command, its
// answer as a table and how long the store took.
absl::Status show(const EventStore& store, const std::string& store_dir, std::string_view endpoint_name,
                  const api::Params& params) {
  auto endpoint = api::parse_endpoint(endpoint_name);
  if (!endpoint.ok()) return endpoint.status();
  auto request = api::parse_request(*endpoint, params, api::UnknownParameters::kReject);
  if (!request.ok()) return request.status();
  auto table = api::run_request(store, *request);
  if (!table.ok()) return table.status();
  std::string command = absl::StrCat("usagedb query ", std::string(endpoint_name), " --store ", store_dir);
  for (const auto& [k, v] : params) absl::StrAppend(&command, " ", k, "=", v);
  std::string out = absl::StrFormat("\n$ %s\n", command);
  api::append_result(api::OutputFormat::kTable, *table, &out);
  write_stdout(out);
  return absl::OkStatus();
}

}  // namespace

int run_demo(const Args& args) {
  static const CommandSpec kSpec{"demo", {"store", "events"}, {}};
  auto parsed = parse_args(kSpec, args);
  if (!parsed.ok()) return fail(parsed.status());
  if (!parsed->positional.empty()) {
    return fail(absl::InvalidArgumentError(absl::StrCat("usagedb demo: unexpected argument '", parsed->positional[0], "'")));
  }
  auto events = parsed->number("events");
  if (!events.ok()) return fail(events.status());
  const uint64_t n = events->value_or(1'000'000);
  if (n == 0) return fail(absl::InvalidArgumentError("--events: must be at least 1"));
  const std::string dir = parsed->store();

  auto store = open_store(dir, /*create=*/true);
  if (!store.ok()) return fail(store.status());
  write_stdout(absl::StrFormat("usagedb demo: %d generated events (12 months, 20k users, 60 features) into %s\n", n, dir));

  // Generate NDJSON in chunks and ingest each through the Events API path;
  // only ingestion is timed.
  gen::Generator generator({.events = n, .seed = 42});
  constexpr uint64_t kChunkEvents = 100'000;
  IngestReport total;
  double ingest_seconds = 0;
  std::string chunk;
  std::string last_user;
  ProgressBar bar("ingest", n);
  for (uint64_t done = 0; done < n;) {
    chunk.clear();
    uint64_t in_chunk = 0;
    while (in_chunk < kChunkEvents) {
      const Event* e = generator.next();
      if (e == nullptr) break;
      gen::Generator::append_ndjson(*e, &chunk);
      if (done + in_chunk == n / 2) last_user = std::string(e->user_id);
      ++in_chunk;
    }
    const auto start = std::chrono::steady_clock::now();
    auto report = (*store)->ingest(chunk, {.format = InputFormat::kNdjson, .source = "demo"});
    if (!report.ok()) return fail(report.status());
    ingest_seconds += seconds_since(start);
    total += *report;
    done += in_chunk;
    bar.update(done);
  }
  const auto flush_start = std::chrono::steady_clock::now();
  if (absl::Status s = (*store)->flush(); !s.ok()) return fail(s);
  ingest_seconds += seconds_since(flush_start);
  bar.finish();
  write_stdout(report_line("ingest", total, ingest_seconds));
  if (total.duplicate_rows > 0) {
    write_stdout("(the store already held these events: retries are idempotent, so they were skipped)\n");
  }

  // The most used feature, from the summary itself; the three most adopted
  // features for a funnel.
  auto summary = (*store)->feature_usage_summary({.limit = 1});
  if (!summary.ok()) return fail(summary.status());
  const std::string feature = summary->rows.empty() ? "feature_1" : summary->rows[0].feature_id;
  auto adoption = (*store)->feature_adoption({.limit = 3});
  if (!adoption.ok()) return fail(adoption.status());
  std::string steps;
  for (const FeatureAdoptionRow& row : adoption->rows) absl::StrAppend(&steps, steps.empty() ? "" : ",", row.feature_id);
  if (adoption->rows.size() < 2) steps = "feature_1,feature_2,feature_3";

  for (const auto& [name, params] : std::vector<std::pair<std::string, api::Params>>{
           {"user_feature_usage", {{"user_id", last_user}}},
           {"feature_usage_summary", {{"feature_id", feature}}},
           {"feature_usage_timeline", {{"granularity", "month"}, {"feature_id", feature}}},
           {"feature_adoption", {{"limit", "5"}}},
           {"active_users", {{"window_days", "7"}, {"limit", "7"}}},
           {"feature_retention", {{"feature_id", feature}, {"granularity", "month"}, {"limit", "6"}}},
           {"feature_funnel", {{"steps", steps}, {"window", "86400"}}},
           // The same months as New York sees them (SPEC 2.11), and the
           // feature's usage by device (SPEC 2.9).
           {"feature_usage_timeline", {{"granularity", "month"}, {"feature_id", feature}, {"tz", "America/New_York"}}},
           {"property_breakdown", {{"property", "device"}, {"feature_id", feature}}},
       }) {
    if (absl::Status s = show(**store, dir, name, params); !s.ok()) return fail(s);
  }
  return kExitOk;
}

}  // namespace usagedb::cli
