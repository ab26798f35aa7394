// usagedb quarantine --store DIR [--format ...] [--clear]
// Lists the quarantined rows (SPEC 1.2), or removes them all with --clear.
#include <chrono>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "lib/api/format.h"
#include "lib/api/result_table.h"
#include "tools/usagedb/cli.h"
#include "tools/usagedb/commands.h"
#include "tools/usagedb/store_access.h"

namespace usagedb::cli {

absl::StatusOr<api::OutputFormat> output_format(const ParsedArgs& args);  // query_command.cc

namespace {

// The quarantine as a result table: when, where, which columns, why, what.
api::ResultTable quarantine_table(std::vector<QuarantinedRow> rows) {
  api::ResultTable t;
  t.columns = {{"inserted_at", api::ColumnType::kDateTime}, {"source", api::ColumnType::kString},
               {"line", api::ColumnType::kUInt64},         {"columns", api::ColumnType::kString},
               {"error", api::ColumnType::kString},        {"raw", api::ColumnType::kString}};
  for (QuarantinedRow& r : rows) {
    t.rows.push_back({r.inserted_at, std::move(r.source), r.line, absl::StrJoin(r.columns, ","), std::move(r.error),
                      std::move(r.raw)});
  }
  t.rows_before_limit = t.rows.size();
  return t;
}

}  // namespace

int run_quarantine(const Args& args) {
  static const CommandSpec kSpec{"quarantine", {"store", "format"}, {"clear"}};
  auto parsed = parse_args(kSpec, args);
  if (!parsed.ok()) return fail(parsed.status());
  if (!parsed->positional.empty()) {
    return fail(absl::InvalidArgumentError(
        absl::StrCat("usagedb quarantine: unexpected argument '", parsed->positional[0], "'")));
  }
  auto format = output_format(*parsed);
  if (!format.ok()) return fail(format.status());
  auto store = open_store(parsed->store(), /*create=*/false);
  if (!store.ok()) return fail(store.status());
  if (parsed->flag("clear")) {
    auto cleared = (*store)->clear_quarantine();
    if (!cleared.ok()) return fail(cleared.status());
    std::fprintf(stderr, "cleared %llu quarantined rows\n", static_cast<unsigned long long>(*cleared));
    return kExitOk;
  }
  const auto start = std::chrono::steady_clock::now();
  auto rows = (*store)->quarantine();
  if (!rows.ok()) return fail(rows.status());
  api::ResultTable table = quarantine_table(std::move(*rows));
  table.statistics.elapsed_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  table.statistics.rows_read = table.rows.size();
  std::string out;
  api::append_result(*format, table, &out);
  if (!write_stdout(out)) return fail(absl::UnavailableError("writing to standard output failed"));
  return kExitOk;
}

}  // namespace usagedb::cli
