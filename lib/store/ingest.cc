// EventStoreImpl's ingestion of NDJSON and CSV inputs (SPEC 1.1, 1.2): the
// readers turn text into validated events and rejected rows chunk by chunk;
// events take the same path as record_events, rejected rows go to the
// quarantine (and its log, for a durable store).
#include <sys/stat.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "lib/ingest/record_reader.h"
#include "lib/storage/event_codec.h"
#include "lib/store/event_store_impl.h"
#include "lib/util/status_macros.h"

namespace usagedb {
namespace {

// Input handed to a reader at once: big enough to amortize the per-call
// costs, small enough that the parsed batch stays in cache-friendly memory.
constexpr size_t kChunkBytes = 8 << 20;

std::unique_ptr<RecordReader> make_reader(InputFormat format) {
  return format == InputFormat::kCsv ? make_csv_reader() : make_ndjson_reader();
}

}  // namespace

absl::StatusOr<IngestReport> EventStoreImpl::store_batch(const ParsedBatch& batch, std::string_view source) {
  IngestReport report;
  {
    MutexLock lock(&write_mu_);
    USAGEDB_ASSIGN_OR_RETURN(report, write_locked(batch.events));
    if (!batch.rejected.empty()) {
      const Timestamp now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
      std::string record;
      for (const RejectedRow& r : batch.rejected) {
        QuarantinedRow row{std::string(source), r.line, r.raw, r.columns, r.error, now};
        if (files_) {
          record.clear();
          storage::encode_quarantined_row(row, &record);
          absl::Status s = files_->append_quarantine(record);
          if (!s.ok()) {
            write_error_ = s;
            return s;
          }
        }
        quarantine_.push_back(std::move(row));
      }
      if (files_ && options_.sync) {
        if (absl::Status s = files_->sync(); !s.ok()) {
          write_error_ = s;
          return s;
        }
      }
    }
    report.quarantined_rows = batch.rejected.size();
  }
  USAGEDB_RETURN_IF_ERROR(run_requested_checkpoint());
  return report;
}

absl::StatusOr<IngestReport> EventStoreImpl::ingest(std::string_view text, const IngestOptions& options) {
  const std::string_view source = options.source.empty() ? std::string_view("input") : options.source;
  std::unique_ptr<RecordReader> reader = make_reader(options.format);
  ParsedBatch batch;
  IngestReport total;
  size_t pos = 0;
  size_t window = kChunkBytes;
  for (;;) {
    const bool final = text.size() - pos <= window;
    const size_t consumed = reader->parse(text.substr(pos, final ? std::string_view::npos : window), final, &batch);
    USAGEDB_ASSIGN_OR_RETURN(IngestReport report, store_batch(batch, source));
    total += report;
    if (final) break;
    pos += consumed;
    if (consumed == 0) window *= 2;  // one record longer than the window
  }
  return total;
}

absl::StatusOr<IngestReport> EventStoreImpl::ingest_file(const std::string& path, const IngestFileOptions& options) {
  const bool is_stdin = path == "-";
  const std::string source = is_stdin ? "<stdin>" : path;
  std::unique_ptr<FILE, int (*)(FILE*)> file(is_stdin ? stdin : std::fopen(path.c_str(), "rb"),
                                             is_stdin ? [](FILE*) { return 0; } : &std::fclose);
  if (!file) {
    const int err = errno;
    return absl::Status(err == ENOENT ? absl::StatusCode::kNotFound : absl::StatusCode::kUnavailable,
                        absl::StrCat(path, ": cannot open: ", std::strerror(err)));
  }
  uint64_t total_bytes = 0;
  struct stat st;
  if (!is_stdin && ::fstat(fileno(file.get()), &st) == 0 && S_ISREG(st.st_mode)) total_bytes = st.st_size;

  std::unique_ptr<RecordReader> reader = make_reader(options.format);
  ParsedBatch batch;
  IngestReport total;
  std::string buffer;  // unconsumed input, then the next chunk
  uint64_t bytes_read = 0;
  bool eof = false;
  while (!eof) {
    const size_t have = buffer.size();
    buffer.resize(have + kChunkBytes);
    const size_t n = std::fread(buffer.data() + have, 1, kChunkBytes, file.get());
    buffer.resize(have + n);
    bytes_read += n;
    if (n < kChunkBytes) {
      if (std::ferror(file.get())) {
        return absl::UnavailableError(absl::StrCat(source, ": read failed: ", std::strerror(errno)));
      }
      eof = true;
    }
    const size_t consumed = reader->parse(buffer, eof, &batch);
    USAGEDB_ASSIGN_OR_RETURN(IngestReport report, store_batch(batch, source));
    total += report;
    buffer.erase(0, consumed);
    if (options.progress) options.progress(bytes_read, total_bytes);
  }
  USAGEDB_RETURN_IF_ERROR(flush());
  return total;
}

}  // namespace usagedb
