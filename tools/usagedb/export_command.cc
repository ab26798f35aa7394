// usagedb export clickhouse|tinybird --store DIR --out DIR [--start DATE] [--end DATE] [--no-events]
#include <chrono>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "lib/export/export.h"
#include "tools/usagedb/cli.h"
#include "tools/usagedb/commands.h"
#include "tools/usagedb/progress.h"
#include "tools/usagedb/store_access.h"

namespace usagedb::cli {
namespace {

// --start/--end: a DateTime or a date (midnight), as the endpoints read them.
absl::StatusOr<std::optional<Timestamp>> time_option(const ParsedArgs& args, std::string_view name) {
  const std::optional<std::string> value = args.value(name);
  if (!value) return std::optional<Timestamp>();
  absl::StatusOr<Timestamp> t = parse_date_parameter(*value);
  if (!t.ok()) return absl::InvalidArgumentError(absl::StrCat("--", std::string(name), ": ", t.status().message()));
  return std::optional<Timestamp>(*t);
}

}  // namespace

int run_export(const Args& args) {
  static const CommandSpec kSpec{"export", {"store", "out", "start", "end"}, {"no-events"}};
  auto parsed = parse_args(kSpec, args);
  if (!parsed.ok()) return fail(parsed.status());
  exporting::ExportOptions options;
  if (parsed->positional.size() != 1 ||
      (parsed->positional[0] != "clickhouse" && parsed->positional[0] != "tinybird")) {
    return fail(absl::InvalidArgumentError("usagedb export: expected clickhouse or tinybird, then --out DIR"));
  }
  options.target = parsed->positional[0] == "clickhouse" ? exporting::ExportTarget::kClickHouse
                                                         : exporting::ExportTarget::kTinybird;
  const std::optional<std::string> out = parsed->value("out");
  if (!out) return fail(absl::InvalidArgumentError("usagedb export: --out DIR is required"));
  options.out_dir = *out;
  auto start = time_option(*parsed, "start");
  if (!start.ok()) return fail(start.status());
  auto end = time_option(*parsed, "end");
  if (!end.ok()) return fail(end.status());
  options.start = *start;
  options.end = *end;
  options.events = !parsed->flag("no-events");

  auto store = open_store(parsed->store(), /*create=*/false);
  if (!store.ok()) return fail(store.status());
  auto stats = (*store)->stats();
  ProgressBar bar("exporting events", stats.ok() && !options.start && !options.end ? stats->rows : 0);
  options.progress = [&](uint64_t events) { bar.update(events); };
  const auto began = std::chrono::steady_clock::now();
  auto report = exporting::export_store(**store, options);
  bar.finish();
  if (!report.ok()) return fail(report.status());
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
  std::string summary = absl::StrFormat("exported %d events (%d bytes of NDJSON) and %d files to %s in %.2f s",
                                        report->events, report->event_bytes, report->files.size(), options.out_dir,
                                        seconds);
  if (seconds > 0 && report->events > 0) {
    absl::StrAppendFormat(&summary, " (%.0f events/s)", static_cast<double>(report->events) / seconds);
  }
  if (!write_stdout(summary + "\n")) return fail(absl::UnavailableError("writing to standard output failed"));
  return kExitOk;
}

}  // namespace usagedb::cli
