// usagedb ingest --store DIR [--format ndjson|csv] FILE...   ('-' = standard input)
// Ingests each file and prints its counts, seconds and events/s. Returns only
// after what it ingested is durable.
#include <sys/stat.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "tools/usagedb/cli.h"
#include "tools/usagedb/commands.h"
#include "tools/usagedb/progress.h"
#include "tools/usagedb/store_access.h"

namespace usagedb::cli {

// "file: 1,000 stored, 2 quarantined, 0 duplicate in 0.41 s (2.40M events/s)"
std::string report_line(std::string_view name, const IngestReport& r, double seconds) {
  const uint64_t records = r.successful_rows + r.quarantined_rows + r.duplicate_rows;
  return absl::StrFormat("%s: %d stored, %d quarantined, %d duplicate in %.2f s (%s events/s)\n", name,
                         r.successful_rows, r.quarantined_rows, r.duplicate_rows, seconds,
                         human_count(seconds > 0 ? static_cast<double>(records) / seconds : 0));
}

int run_ingest(const Args& args) {
  static const CommandSpec kSpec{"ingest", {"store", "format"}, {}};
  auto parsed = parse_args(kSpec, args);
  if (!parsed.ok()) return fail(parsed.status());
  if (parsed->positional.empty()) {
    return fail(absl::InvalidArgumentError("usagedb ingest: name at least one FILE ('-' reads standard input)"));
  }
  InputFormat format = InputFormat::kNdjson;
  if (auto name = parsed->value("format")) {
    if (*name == "csv") {
      format = InputFormat::kCsv;
    } else if (*name != "ndjson") {
      return fail(absl::InvalidArgumentError(absl::StrCat("--format: expected ndjson or csv, got '", *name, "'")));
    }
  }
  // Check every file before the store is opened (and created): a mistyped
  // name must not leave a new, empty store behind, nor ingest the files
  // before it and then fail.
  for (const std::string& path : parsed->positional) {
    struct stat st;
    if (path == "-") continue;
    if (::stat(path.c_str(), &st) != 0) {
      const int err = errno;
      return fail(absl::Status(err == ENOENT ? absl::StatusCode::kNotFound : absl::StatusCode::kUnavailable,
                               absl::StrCat(path, ": cannot open: ", std::strerror(err))));
    }
    if (S_ISDIR(st.st_mode)) return fail(absl::FailedPreconditionError(absl::StrCat(path, ": is a directory")));
  }
  auto store = open_store(parsed->store(), /*create=*/true);
  if (!store.ok()) return fail(store.status());

  IngestReport total;
  const auto all_start = std::chrono::steady_clock::now();
  for (const std::string& path : parsed->positional) {
    const std::string name = path == "-" ? "<stdin>" : path;
    struct stat st;
    const uint64_t size = path != "-" && ::stat(path.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
    // Only worth a bar when it will be on screen for a moment.
    ProgressBar bar(name, size);
    IngestFileOptions options{.format = format};
    if (size == 0 || size >= (64u << 20)) options.progress = [&](uint64_t done, uint64_t) { bar.update(done); };
    const auto start = std::chrono::steady_clock::now();
    auto report = (*store)->ingest_file(path, options);
    bar.finish();
    if (!report.ok()) return fail(report.status());
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    write_stdout(report_line(name, *report, seconds));
    total += *report;
  }
  if (parsed->positional.size() > 1) {
    write_stdout(report_line(
        "total", total, std::chrono::duration<double>(std::chrono::steady_clock::now() - all_start).count()));
  }
  if (total.quarantined_rows > 0) {
    std::fprintf(stderr, "see the rejected rows with: usagedb quarantine --store %s\n", parsed->store().c_str());
  }
  return kExitOk;
}

}  // namespace usagedb::cli
