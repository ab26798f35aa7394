// EventStoreImpl's ingestion of NDJSON and CSV inputs (SPEC 1.1, 1.2): the
// readers turn text into validated events and rejected rows chunk by chunk;
// events take the same path as record_events, rejected rows go to the
// quarantine (and its log, for a durable store).
//
// ingest_file and ingest_stream pipeline the work (ChunkProducer,
// chunk_pipeline.h): parser threads (one per core for NDJSON) read, parse and
// encode the next chunks while the calling thread stores the previous one, in
// input order. An input larger than Options::checkpoint_log_bytes skips the
// write-ahead log (it would only be checkpointed away again) and ends with a
// checkpoint that writes its events straight into part files, as a ClickHouse
// INSERT writes its parts; input of unknown size (a pipe, stdin, a stream)
// does so from the point where it has outgrown that size. While it runs, the
// parts of the months it has left are written and handed to the part cache
// (EventStoreImpl::bulk_checkpoint_rows_), so its memory is bounded by its
// buffers, not by what it has stored (docs/STORAGE.md).
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "lib/db/chunk_pipeline.h"
#include "lib/db/event_store_impl.h"
#include "lib/ingest/record_reader.h"
#include "lib/storage/event_codec.h"
#include "lib/util/status_macros.h"
#include "lib/util/text.h"

namespace usagedb {
namespace {

// The bulk ingest's tuning (options.h states only that a bulk ingest_file
// seals larger buffers, sized from part_rows).
//
// Rows of the append buffers during a bulk file ingest, in Options::part_rows
// (at most kMaxBulkBufferRows, at least part_rows): with the default, 1M
// rows, a month of a 10M-event year fits in one, so input ordered by time
// seals each month into one part, which no merge has to rewrite.
constexpr uint64_t kBulkBufferParts = 64;
constexpr uint64_t kMaxBulkBufferRows = 1 << 20;

// Rows appended to other months after which a bulk ingest seals a month's
// buffer (EventStoreImpl::idle_seal_rows_), in Options::part_rows: with the
// default, 131,072 rows: ~33 MB of the generated NDJSON, 16 chunks.
constexpr uint64_t kBulkIdleSealParts = 8;

// The most rows a bulk ingest's buffers hold together
// (EventStoreImpl::unsealed_rows_limit_), in bulk buffers: one. Input
// ordered by time (one month filling, the previous one waiting to be idle)
// reaches it only with months of more than ~0.9 bulk buffers; input in any
// order keeps ~50 MB in buffers and stays under 1 GiB at 10M events (with
// all months' buffers full, and each buffer and its part alive together
// when the final checkpoint seals them, it did not).
constexpr uint64_t kBulkUnsealedBuffers = 1;

// Rows of the parts a bulk ingest has built but not written, in bulk
// buffers, from which it writes them when the input leaves a month
// (EventStoreImpl::bulk_checkpoint_rows_): one. Input ordered by time writes
// each month's parts (and their rollups) soon after it has moved on, and
// hands them to the part cache; at 10M events (months of ~0.8 bulk buffers)
// that is every other month, at 100M (~8 buffers) every month.
constexpr uint64_t kBulkCheckpointBuffers = 1;

// ingest() of at least this much text goes through the file ingest's
// pipeline (parser threads) instead of parsing on the calling thread.
constexpr size_t kPipelinedTextBytes = 4 * ChunkProducer::kChunkBytes;

}  // namespace

absl::StatusOr<IngestReport> EventStoreImpl::store_batch(const ParsedBatch& batch, std::string_view source,
                                                         Logging logging, const Precoded* precoded) {
  IngestReport report;
  {
    MutexLock lock(&write_mu_);
    USAGEDB_ASSIGN_OR_RETURN(report, write_locked(batch.events, logging, precoded));
    if (!batch.rejected.empty()) {
      const Timestamp now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
      std::string record;
      for (const RejectedRow& r : batch.rejected) {
        QuarantinedRow row{std::string(source), r.line, r.raw, r.columns, r.error, now};
        if (files_) {
          record.clear();
          storage::encode_quarantined_row(row, &record);
          absl::Status s = files_->append_quarantine(record);
          if (!s.ok()) return stop_writes_locked(s);
        }
        quarantine_.push_back(std::move(row));
      }
      if (files_ && options_.sync) {
        if (absl::Status s = files_->sync(); !s.ok()) return stop_writes_locked(s);
      }
    }
    report.quarantined_rows = batch.rejected.size();
  }
  USAGEDB_RETURN_IF_ERROR(run_requested_checkpoint());
  return report;
}

absl::StatusOr<IngestReport> EventStoreImpl::ingest(std::string_view text, const IngestOptions& options) {
  const std::string_view source = options.source.empty() ? std::string_view("input") : options.source;
  if (text.size() >= kPipelinedTextBytes) {
    // Large text takes the file ingest's way: parsed on parser threads, and
    // the bulk way from checkpoint_log_bytes on.
    size_t at = 0;
    const InputSource read = [text, &at](char* buffer, size_t size) -> absl::StatusOr<size_t> {
      const size_t n = std::min(size, text.size() - at);
      std::memcpy(buffer, text.data() + at, n);
      at += n;
      return n;
    };
    return ingest_pipelined(read, options.format, source, "", text.size(), nullptr);
  }
  std::unique_ptr<RecordReader> reader = make_record_reader(options.format);
  ParsedBatch batch;
  IngestReport total;
  size_t pos = 0;
  size_t window = ChunkProducer::kChunkBytes;
  for (;;) {
    const bool final = text.size() - pos <= window;
    const size_t consumed = reader->parse(text.substr(pos, final ? std::string_view::npos : window), final, &batch);
    USAGEDB_ASSIGN_OR_RETURN(IngestReport report, store_batch(batch, source, Logging::kLogged));
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
  if (::fstat(fileno(file.get()), &st) == 0) {
    if (S_ISDIR(st.st_mode)) return absl::InvalidArgumentError(absl::StrCat(path, ": is a directory, not a file"));
    if (S_ISREG(st.st_mode)) total_bytes = st.st_size;
  }
  // A file by its name is read past stdio (nothing has read from it yet), so
  // that an input larger than memory does not fill the page cache; standard
  // input through its FILE, which the application may have read from before.
  InputSource read = is_stdin ? file_source(file.get()) : fd_source(fileno(file.get()));
  return ingest_pipelined(read, options.format, source, source, total_bytes, options.progress);
}

absl::StatusOr<IngestReport> EventStoreImpl::ingest_stream(const InputSource& read,
                                                           const IngestStreamOptions& options) {
  const std::string_view source = options.source.empty() ? std::string_view("input") : options.source;
  return ingest_pipelined(read, options.format, source, "", options.size_hint, options.progress);
}

absl::StatusOr<IngestReport> EventStoreImpl::ingest_pipelined(const InputSource& read, InputFormat format,
                                                              std::string_view source, std::string_view error_prefix,
                                                              uint64_t size_hint,
                                                              const std::function<void(uint64_t, uint64_t)>& progress) {
  const auto with_prefix = [error_prefix](const absl::Status& s) {
    if (error_prefix.empty()) return s;
    return absl::Status(s.code(), absl::StrCat(text::absl_view(error_prefix), ": ", s.message()));
  };
  // The parser threads intern strings before any write prepares the
  // dictionaries: the session dictionary must hold its stored codes first.
  if (absl::Status s = ensure_sessions(); !s.ok()) return with_prefix(s);
  // Input of unknown size (a pipe, a stream) starts through the log and goes
  // the bulk way once it has outgrown the log's threshold (see below). An
  // in-memory store has no log; the bulk way gives it the larger buffers.
  Logging logging = size_hint >= options_.checkpoint_log_bytes ? Logging::kBulk : Logging::kLogged;

  // A bulk ingest seals bigger buffers: its first parts are already large,
  // so the background thread merges far less while it runs.
  struct BulkBuffers {
    EventStoreImpl* store;
    bool on = false;
    BulkBuffers(EventStoreImpl* s, bool bulk) : store(s) {
      if (bulk) enable();
    }
    void enable() ABSL_NO_THREAD_SAFETY_ANALYSIS {
      on = true;
      MutexLock lock(&store->write_mu_);
      ++store->bulk_ingests_;
      const uint64_t part_rows = store->options_.part_rows;
      store->buffer_rows_ =
          static_cast<uint32_t>(std::max(part_rows, std::min(kBulkBufferParts * part_rows, kMaxBulkBufferRows)));
      store->idle_seal_rows_ = kBulkIdleSealParts * part_rows;
      store->unsealed_rows_limit_ = kBulkUnsealedBuffers * store->buffer_rows_;
      store->bulk_checkpoint_rows_ = kBulkCheckpointBuffers * store->buffer_rows_;
    }
    ~BulkBuffers() ABSL_NO_THREAD_SAFETY_ANALYSIS {
      if (!on) return;
      MutexLock lock(&store->write_mu_);
      if (--store->bulk_ingests_ > 0) return;  // another bulk ingest still runs
      store->buffer_rows_ = live_buffer_rows(store->options_);
      store->idle_seal_rows_ = 0;
      store->unsealed_rows_limit_ = 0;
      store->bulk_checkpoint_rows_ = 0;
      for (auto& [month, p] : store->partitions_) p->event_ids_pinned = false;
    }
  } bulk_buffers(this, logging == Logging::kBulk);

  IngestReport total;
  {
    ChunkProducer producer(read, format, &dictionaries_);
    for (;;) {
      auto chunk = producer.next();
      if (!chunk.ok()) return with_prefix(chunk.status());
      if (*chunk == nullptr) break;
      if (const absl::Status& s = (*chunk)->error; !s.ok()) return with_prefix(s);
      for (size_t i = 0; i < (*chunk)->used; ++i) {
        const Piece& piece = *(*chunk)->pieces[i];
        const Precoded precoded{piece.codes.data(), piece.id_hashes.data(), piece.metadata_hashes.data()};
        USAGEDB_ASSIGN_OR_RETURN(IngestReport report, store_batch(piece.batch, source, logging, &precoded));
        total += report;
      }
      if (progress) progress((*chunk)->bytes_read, size_hint);
      if (logging == Logging::kLogged && size_hint == 0 &&
          (*chunk)->bytes_read >= options_.checkpoint_log_bytes) {
        // An input of unknown size as large as a file that would have gone
        // the bulk way: the rest does (the logged part stays durable through
        // the log; the rest is durable when the final checkpoint returns).
        logging = Logging::kBulk;
        bulk_buffers.enable();
      }
      producer.recycle(std::move(*chunk));
    }
  }
  USAGEDB_RETURN_IF_ERROR(flush());
  if (logging == Logging::kBulk) {
    if (!files_) {
      // What the checkpoint does for a durable store: every buffer sealed
      // into a part, each month's parts merged into one and its rollup
      // built (two threads), so the store answers from one rollup a month
      // as soon as the call returns.
      std::vector<uint32_t> months;
      {
        MutexLock lock(&write_mu_);
        seal_all_locked();
        install_version_locked();
        for (const auto& [month, p] : partitions_) months.push_back(month);
      }
      merge_unwritten_parts(months, /*two_threads=*/true);
      {
        MutexLock lock(&write_mu_);
        work_cv_.notify_all();  // the summary cache to warm
      }
      refresh_rollups(/*warm_cache=*/false);
      return total;
    }
    {
      MutexLock lock(&write_mu_);
      release_event_ids_locked();
    }
    USAGEDB_RETURN_IF_ERROR(checkpoint());
  }
  return total;
}

}  // namespace usagedb
