#include "lib/export/export.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "lib/api/endpoint_catalog.h"
#include "lib/export/event_json.h"
#include "lib/export/project_files.h"
#include "lib/storage/file.h"
#include "lib/util/status_macros.h"
#include "lib/util/text.h"

namespace usagedb::exporting {
namespace {

// Writes whole small files under one directory, listing them in the report.
class OutDir {
 public:
  OutDir(std::string dir, ExportReport* report) : dir_(std::move(dir)), report_(report) {}

  std::string path(const std::string& name) const { return absl::StrCat(dir_, "/", name); }

  absl::Status write(const std::string& name, std::string_view contents) {
    USAGEDB_RETURN_IF_ERROR(storage::create_dir(storage::dirname(path(name))));
    USAGEDB_ASSIGN_OR_RETURN(auto file, storage::WritableFile::open_truncate(path(name)));
    USAGEDB_RETURN_IF_ERROR(file->append(contents));
    USAGEDB_RETURN_IF_ERROR(file->close());
    report_->files.push_back(name);
    return absl::OkStatus();
  }

  // The events, streamed: one page of scan_events at a time.
  absl::Status write_events(const EventStore& store, const std::string& name, const ExportOptions& options) {
    USAGEDB_RETURN_IF_ERROR(storage::create_dir(storage::dirname(path(name))));
    USAGEDB_ASSIGN_OR_RETURN(auto file, storage::WritableFile::open_truncate(path(name)));
    std::string buffer;
    const ScanOptions scan{.start = options.start, .end = options.end, .page_events = 8192};
    USAGEDB_RETURN_IF_ERROR(store.scan_events(scan, [&](std::span<const StoredEvent> page) -> absl::Status {
      buffer.clear();
      for (const StoredEvent& e : page) append_event_json(e.event, &buffer);
      report_->events += page.size();
      report_->event_bytes += buffer.size();
      USAGEDB_RETURN_IF_ERROR(file->append(buffer));
      if (options.progress) options.progress(report_->events);
      return absl::OkStatus();
    }));
    USAGEDB_RETURN_IF_ERROR(file->close());
    report_->files.push_back(name);
    return absl::OkStatus();
  }

 private:
  std::string dir_;
  ExportReport* report_;
};

}  // namespace

absl::StatusOr<ExportReport> export_store(const EventStore& store, const ExportOptions& options) {
  if (options.out_dir.empty()) return absl::InvalidArgumentError("export: --out: expected a directory");
  if (options.start && options.end && *options.end <= *options.start) {
    return absl::InvalidArgumentError(absl::StrCat("export: --end (", format_timestamp(*options.end),
                                                   ") must be after --start (", format_timestamp(*options.start),
                                                   ")"));
  }
  ExportReport report;
  OutDir out(options.out_dir, &report);
  USAGEDB_RETURN_IF_ERROR(storage::create_dir(options.out_dir));
  if (options.target == ExportTarget::kClickHouse) {
    USAGEDB_RETURN_IF_ERROR(out.write("schema.sql", clickhouse_schema_sql()));
    for (const api::EndpointSpec& spec : api::endpoint_catalog()) {
      USAGEDB_RETURN_IF_ERROR(out.write(absl::StrCat(text::absl_view(spec.name), ".sql"), clickhouse_endpoint_sql(spec)));
    }
    USAGEDB_RETURN_IF_ERROR(out.write("README.md", clickhouse_readme()));
    if (options.events) USAGEDB_RETURN_IF_ERROR(out.write_events(store, "events.ndjson", options));
  } else {
    USAGEDB_RETURN_IF_ERROR(out.write("datasources/feature_events.datasource", tinybird_datasource()));
    for (const api::EndpointSpec& spec : api::endpoint_catalog()) {
      USAGEDB_ASSIGN_OR_RETURN(const std::string pipe, tinybird_pipe(spec));
      USAGEDB_RETURN_IF_ERROR(out.write(absl::StrCat("endpoints/", text::absl_view(spec.name), ".pipe"), pipe));
    }
    USAGEDB_RETURN_IF_ERROR(out.write("README.md", tinybird_readme()));
    if (options.events) USAGEDB_RETURN_IF_ERROR(out.write_events(store, "fixtures/feature_events.ndjson", options));
  }
  return report;
}

}  // namespace usagedb::exporting
