// usagedb stats --store DIR
// usagedb compact --store DIR
// usagedb delete-user --store DIR USER_ID
// usagedb drop-before --store DIR YYYYMM
#include <sys/resource.h>

#include <chrono>
#include <cstdio>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "lib/util/text.h"
#include "tools/usagedb/cli.h"
#include "tools/usagedb/commands.h"
#include "tools/usagedb/progress.h"
#include "tools/usagedb/store_access.h"

namespace usagedb::cli {
namespace {

// Parses the store option and exactly `positional` arguments.
absl::StatusOr<ParsedArgs> parse_store_command(std::string_view name, const Args& args, size_t positional,
                                               std::string_view what) {
  const CommandSpec spec{name, {"store"}, {}};
  auto parsed = parse_args(spec, args);
  if (!parsed.ok()) return parsed.status();
  if (parsed->positional.size() != positional) {
    return absl::InvalidArgumentError(absl::StrCat("usagedb ", text::absl_view(name), ": expected ", text::absl_view(what)));
  }
  return parsed;
}

}  // namespace

int run_stats(const Args& args) {
  auto parsed = parse_store_command("stats", args, 0, "no arguments besides --store DIR");
  if (!parsed.ok()) return fail(parsed.status());
  // Wall time until EventStore::open returns (ready to answer queries):
  // issue #4's reopen goal.
  // Also its CPU time (all threads): on a loaded machine wall time says
  // more about the neighbours than about the store.
  const auto cpu_ms = [] {
    struct rusage u;
    ::getrusage(RUSAGE_SELF, &u);
    const auto ms = [](const timeval& t) { return t.tv_sec * 1e3 + t.tv_usec / 1e3; };
    return ms(u.ru_utime) + ms(u.ru_stime);
  };
  const double cpu_before = cpu_ms();
  const auto opening = std::chrono::steady_clock::now();
  auto store = open_store(parsed->store(), /*create=*/false);
  if (!store.ok()) return fail(store.status());
  const double open_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - opening).count();
  const double open_cpu_ms = cpu_ms() - cpu_before;
  auto stats = (*store)->stats();
  if (!stats.ok()) return fail(stats.status());
  const StoreStats& s = *stats;
  const double per_event = s.rows > 0 ? static_cast<double>(s.bytes_on_disk) / static_cast<double>(s.rows) : 0;
  std::string out = absl::StrFormat(
      "store %s\n  %d events in %d partitions, %d parts\n  %d bytes on disk (%.1f bytes/event), write-ahead log %d "
      "bytes\n  %d bytes in memory\n  %d quarantined rows\n  distinct: %d users, %d features, %d versions, %d event "
      "types, %d sessions\n",
      s.directory, s.rows, s.partitions.size(), s.parts, s.bytes_on_disk, per_event, s.log_bytes, s.memory_bytes,
      s.quarantined_rows, s.users, s.features, s.versions, s.event_types, s.sessions);
  out += absl::StrFormat("  opened in %.0f ms (%.0f ms CPU)\n", open_ms, open_cpu_ms);
  out += "\n  partition      parts        rows   unsealed   bytes on disk\n";
  for (const PartitionStats& p : s.partitions) {
    out += absl::StrFormat("  %-10d %9d %11d %10d %15d\n", p.month, p.parts, p.rows, p.unsealed_rows, p.bytes_on_disk);
  }
  if (!s.columns.empty()) {
    out += "\n  column                   bytes on disk   bytes/event\n";
    for (const ColumnStats& c : s.columns) {
      out += absl::StrFormat("  %-22s %15d %13.2f\n", c.name, c.bytes_on_disk,
                             s.rows > 0 ? static_cast<double>(c.bytes_on_disk) / static_cast<double>(s.rows) : 0);
    }
  }
  write_stdout(out);
  return kExitOk;
}

int run_compact(const Args& args) {
  auto parsed = parse_store_command("compact", args, 0, "no arguments besides --store DIR");
  if (!parsed.ok()) return fail(parsed.status());
  auto store = open_store(parsed->store(), /*create=*/false);
  if (!store.ok()) return fail(store.status());
  if (absl::Status s = (*store)->compact(); !s.ok()) return fail(s);
  return kExitOk;
}

int run_delete_user(const Args& args) {
  auto parsed = parse_store_command("delete-user", args, 1, "one USER_ID");
  if (!parsed.ok()) return fail(parsed.status());
  auto store = open_store(parsed->store(), /*create=*/false);
  if (!store.ok()) return fail(store.status());
  auto removed = (*store)->delete_user(parsed->positional[0]);
  if (!removed.ok()) return fail(removed.status());
  write_stdout(absl::StrCat("deleted ", *removed, " events of user '", parsed->positional[0], "'\n"));
  return kExitOk;
}

int run_drop_before(const Args& args) {
  auto parsed = parse_store_command("drop-before", args, 1, "one month YYYYMM (partitions before it are dropped)");
  if (!parsed.ok()) return fail(parsed.status());
  uint32_t month;
  if (!absl::SimpleAtoi(parsed->positional[0], &month) || parsed->positional[0].size() != 6) {
    return fail(absl::InvalidArgumentError(
        absl::StrCat("usagedb drop-before: expected a month YYYYMM, got '", parsed->positional[0], "'")));
  }
  auto store = open_store(parsed->store(), /*create=*/false);
  if (!store.ok()) return fail(store.status());
  auto removed = (*store)->drop_partitions_before(month);
  if (!removed.ok()) return fail(removed.status());
  write_stdout(absl::StrCat("dropped ", *removed, " events before ", month, "\n"));
  return kExitOk;
}

}  // namespace usagedb::cli
