// usagedb: the command-line tool (SPEC section 4), a thin layer over the
// library. Each command lives in its own file; see commands.h.
#include <malloc.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "tools/usagedb/cli.h"
#include "tools/usagedb/commands.h"

namespace {

constexpr std::string_view kUsage = R"(usagedb: feature-usage analytics in a local store

usage:
  usagedb demo [--store DIR] [--events N]         generate, ingest and answer the endpoints
  usagedb ingest --store DIR [--format ndjson|csv] FILE...    ('-' reads standard input)
  usagedb query NAME --store DIR [--format json|csv|ndjson|table] [param=value ...]
        NAME: user_feature_usage       user_id feature_id product_version
              feature_usage_summary    feature_id product_version event_type start_date end_date
              feature_usage_timeline   granularity feature_id product_version event_type start_date end_date
              feature_adoption         feature_id product_version event_type start_date end_date
              active_users             window_days feature_id product_version event_type start_date end_date
              feature_retention        feature_id granularity product_version event_type start_date end_date
              feature_funnel           steps window product_version event_type start_date end_date
        every endpoint also takes limit and skip
  usagedb quarantine --store DIR [--format ...] [--clear]
  usagedb generate --events N [--seed S] [--users U] [--features F] [--versions V] [--months M]
                   [--start YYYY-MM-DD] [--output FILE]
  usagedb stats --store DIR
  usagedb compact --store DIR
  usagedb delete-user --store DIR USER_ID
  usagedb drop-before --store DIR YYYYMM
  usagedb serve [--store DIR] [--host 127.0.0.1] [--port 7181] [--tokens FILE] [--threads N]
                [--max-body-bytes 10485760] [--max-file-bytes 1073741824]
                [--tls-cert PEM --tls-key PEM] [--cors-origin '*'] [--access-log FILE|-|off]
        the Tinybird-compatible HTTP API (docs/HTTP.md); without --tokens, the store's
        tokens.json, created on the first start with an ADMIN token printed once

  usagedb export clickhouse|tinybird --store DIR --out DIR [--start DATE] [--end DATE] [--no-events]
        the store as ClickHouse SQL or a Tinybird project, endpoints and events (docs/EXPORT.md)
  usagedb forward --store DIR --to URL --token T [--follow] [--cursor NAME] [--batch-events N]
                  [--connections N] [--compression auto|gzip|none]
        sends the store's events to a Tinybird-compatible Events API, resuming where it stopped

--store defaults to ./usagedb-data. Exit status: 0 success, 1 runtime error, 2 usage error.
)";

// A bulk ingest's heap on transparent huge pages: glibc's
// `glibc.malloc.hugetlb=1` tunable (glibc 2.35 and later; ignored by older
// ones) has malloc advise the memory it takes from the kernel
// (madvise(MADV_HUGEPAGE)). Its parts, buffers and indexes are tens to
// hundreds of MiB sorted, gathered and probed at random; on 4 KiB pages a
// 100M-event ingest took ~536k page faults and ~19 s more user CPU in
// TLB misses (a two-level page walk under a VM; bench/RESULTS.md, bulk9).
// A tunable is read when the process starts, so the process runs itself
// again with it added to GLIBC_TUNABLES, once: not when GLIBC_TUNABLES
// already names it (the user's choice, or the second run), and as it is
// when the exec fails. Nothing has been read or written yet (the standard
// input of `ingest -` is intact).
void run_again_with_huge_page_heap(char** argv) {
  constexpr const char* kTunable = "glibc.malloc.hugetlb";
  const char* tunables = std::getenv("GLIBC_TUNABLES");
  if (tunables != nullptr && std::strstr(tunables, kTunable) != nullptr) return;
  std::string value = tunables != nullptr && *tunables != '\0' ? std::string(tunables) + ":" : std::string();
  value += kTunable;
  value += "=1";
  if (::setenv("GLIBC_TUNABLES", value.c_str(), 1) != 0) return;
  ::execv("/proc/self/exe", argv);
  // Still here: run without it (the variable names it now, so a child
  // process does not try either).
}

}  // namespace

int main(int argc, char** argv) {
  using namespace usagedb::cli;
  // Ingestion allocates and frees many large buffers; glibc would return
  // each to the kernel (mmap/munmap) and fault every page in again on the
  // next one. Keep them in the heap instead.
  mallopt(M_MMAP_THRESHOLD, 256 << 20);
  mallopt(M_TRIM_THRESHOLD, 512 << 20);
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    std::fputs(kUsage.data(), stderr);
    return kExitUsage;
  }
  const std::string command = args.front();
  args.erase(args.begin());
  if (command == "ingest" || command == "demo") {
    // A bulk ingest's seal and merge threads allocate a month's columns
    // and indexes, tens of MiB each: from a thread's own arena (heaps of
    // at most 64 MiB, unmapped when empty) those are mapped afresh and
    // every page faulted in again at each merge (4.3M page faults of a
    // 100M-event ingest). One arena, the main heap, keeps them: 1.9M
    // faults, 8 s less system CPU, and a lower peak (docs/STORAGE.md).
    mallopt(M_ARENA_MAX, 1);
#ifdef __GLIBC__
    run_again_with_huge_page_heap(argv);
#endif
  }
  if (command == "help" || command == "--help" || command == "-h") {
    std::fputs(kUsage.data(), stdout);
    return kExitOk;
  }
  struct Entry {
    std::string_view name;
    int (*run)(const Args&);
  };
  constexpr Entry kCommands[] = {
      {"demo", run_demo},       {"ingest", run_ingest},   {"query", run_query},
      {"quarantine", run_quarantine}, {"generate", run_generate}, {"stats", run_stats},
      {"compact", run_compact}, {"delete-user", run_delete_user}, {"drop-before", run_drop_before},
      {"serve", run_serve},     {"export", run_export},   {"forward", run_forward},
  };
  for (const Entry& e : kCommands) {
    if (e.name == command) return e.run(args);
  }
  print_error("unknown command '" + command + "' (try: usagedb help)");
  return kExitUsage;
}
