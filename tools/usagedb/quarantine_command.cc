// usagedb quarantine --store DIR [--format ...] [--clear]
// Lists the quarantined rows (SPEC 1.2), or removes them all with --clear.
#include <chrono>

#include "absl/strings/str_cat.h"
#include "lib/api/format.h"
#include "lib/api/quarantine_table.h"
#include "tools/usagedb/cli.h"
#include "tools/usagedb/commands.h"
#include "tools/usagedb/store_access.h"

namespace usagedb::cli {

absl::StatusOr<api::OutputFormat> output_format(const ParsedArgs& args);  // query_command.cc

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
  api::ResultTable table = api::quarantine_table(std::move(*rows));
  table.statistics.elapsed_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::string out;
  api::append_result(*format, table, &out);
  if (!write_stdout(out)) return fail(absl::UnavailableError("writing to standard output failed"));
  return kExitOk;
}

}  // namespace usagedb::cli
