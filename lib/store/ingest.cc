// EventStoreImpl's ingestion of NDJSON and CSV inputs (SPEC 1.1, 1.2): the
// readers turn text into validated events and rejected rows chunk by chunk;
// events take the same path as record_events, rejected rows go to the
// quarantine (and its log, for a durable store).
//
// ingest_file pipelines the work: a reader thread reads and parses the next
// chunk while the calling thread stores the previous one. A file larger than
// Options::checkpoint_log_bytes skips the write-ahead log (it would only be
// checkpointed away again) and ends with a checkpoint that writes its events
// straight into part files, as a ClickHouse INSERT writes its parts.
#include <sys/stat.h>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "lib/ingest/record_reader.h"
#include "lib/storage/event_codec.h"
#include "lib/store/event_store_impl.h"
#include "lib/util/status_macros.h"

namespace usagedb {
namespace {

// Input handed to a reader at once: big enough to amortize the per-call
// costs, small enough that the parsed strings are still in the CPU cache
// when the same thread interns them right after.
constexpr size_t kChunkBytes = 2 << 20;

// Rows of the append buffers during a bulk file ingest (at least).
constexpr uint32_t kBulkBufferRows = 1 << 17;

std::unique_ptr<RecordReader> make_reader(InputFormat format) {
  return format == InputFormat::kCsv ? make_csv_reader() : make_ndjson_reader();
}

// A chunk of input and what the reader made of it. The batch's views point
// into `text`, so the two travel together.
struct Chunk {
  std::string text;
  ParsedBatch batch;
  std::vector<RowCodes> codes;  // of batch.events
  uint64_t bytes_read = 0;      // of the file, once this chunk is parsed
};

// Reads, parses and dictionary-encodes a file on its own thread, two chunks
// ahead at most. Encoding here, where the parsed strings are still in this
// core's cache, halves the writer's work.
class ChunkProducer {
 public:
  ChunkProducer(FILE* file, InputFormat format, Dictionaries* dictionaries)
      : file_(file), reader_(make_reader(format)), dictionaries_(dictionaries) {
    thread_ = std::thread([this] { run(); });
  }
  ~ChunkProducer() {
    {
      std::lock_guard lock(mu_);
      cancelled_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

  // Gives a consumed chunk back for reuse (its memory is already mapped).
  void recycle(std::unique_ptr<Chunk> chunk) {
    std::lock_guard lock(mu_);
    free_.push_back(std::move(chunk));
  }

  // The next parsed chunk; nullptr at the end of the input. An error is
  // returned once, at the point of the input where it happened.
  absl::StatusOr<std::unique_ptr<Chunk>> next() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !ready_.empty() || done_; });
    if (ready_.empty()) {
      if (!error_.ok()) return error_;
      return std::unique_ptr<Chunk>();
    }
    std::unique_ptr<Chunk> c = std::move(ready_.front());
    ready_.pop_front();
    cv_.notify_all();
    return c;
  }

 private:
  static constexpr size_t kAhead = 2;

  void run() {
    std::string carry;  // the unconsumed end of the previous chunk
    uint64_t bytes_read = 0;
    for (bool eof = false; !eof;) {
      std::unique_ptr<Chunk> chunk;
      {
        std::lock_guard lock(mu_);
        if (!free_.empty()) {
          chunk = std::move(free_.back());
          free_.pop_back();
        }
      }
      if (!chunk) chunk = std::make_unique<Chunk>();
      chunk->text.assign(carry);
      const size_t have = chunk->text.size();
      chunk->text.resize(have + kChunkBytes);
      const size_t n = std::fread(chunk->text.data() + have, 1, kChunkBytes, file_);
      chunk->text.resize(have + n);
      bytes_read += n;
      if (n < kChunkBytes) {
        if (std::ferror(file_)) {
          finish(absl::UnavailableError(absl::StrCat("read failed: ", std::strerror(errno))));
          return;
        }
        eof = true;
      }
      const size_t consumed = reader_->parse(chunk->text, eof, &chunk->batch);
      carry.assign(chunk->text, consumed, std::string::npos);
      const std::vector<Event>& events = chunk->batch.events;
      std::vector<const Event*> pointers(events.size());
      for (size_t i = 0; i < events.size(); ++i) pointers[i] = &events[i];
      chunk->codes.resize(events.size());
      if (absl::Status s = encode_rows(*dictionaries_, pointers, chunk->codes.data()); !s.ok()) {
        finish(std::move(s));  // a damaged dictionary (DataLossError naming it)
        return;
      }
      chunk->bytes_read = bytes_read;
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return ready_.size() < kAhead || cancelled_; });
      if (cancelled_) return;
      ready_.push_back(std::move(chunk));
      cv_.notify_all();
    }
    finish(absl::OkStatus());
  }

  void finish(absl::Status status) {
    std::lock_guard lock(mu_);
    error_ = std::move(status);
    done_ = true;
    cv_.notify_all();
  }

  FILE* const file_;
  std::unique_ptr<RecordReader> reader_;
  Dictionaries* const dictionaries_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::unique_ptr<Chunk>> ready_;
  std::vector<std::unique_ptr<Chunk>> free_;
  bool done_ = false;
  bool cancelled_ = false;
  absl::Status error_;
  std::thread thread_;
};

}  // namespace

absl::StatusOr<IngestReport> EventStoreImpl::store_batch(const ParsedBatch& batch, std::string_view source,
                                                         Logging logging, const RowCodes* precoded) {
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
  std::unique_ptr<RecordReader> reader = make_reader(options.format);
  ParsedBatch batch;
  IngestReport total;
  size_t pos = 0;
  size_t window = kChunkBytes;
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
  const Logging logging =
      files_ && total_bytes >= options_.checkpoint_log_bytes ? Logging::kBulk : Logging::kLogged;

  // A bulk ingest seals bigger buffers: its first parts are already large,
  // so the background thread merges far less while it runs.
  struct BulkBuffers {
    EventStoreImpl* store;
    bool on;
    BulkBuffers(EventStoreImpl* s, bool bulk) ABSL_NO_THREAD_SAFETY_ANALYSIS : store(s), on(bulk) {
      if (!on) return;
      MutexLock lock(&store->write_mu_);
      store->buffer_rows_ = std::max<uint32_t>(store->buffer_rows_, kBulkBufferRows);
    }
    ~BulkBuffers() ABSL_NO_THREAD_SAFETY_ANALYSIS {
      if (!on) return;
      MutexLock lock(&store->write_mu_);
      store->buffer_rows_ = static_cast<uint32_t>(std::min<size_t>(store->options_.part_rows, UINT32_MAX));
    }
  } bulk_buffers(this, logging == Logging::kBulk);

  IngestReport total;
  {
    ChunkProducer producer(file.get(), options.format, &dictionaries_);
    for (;;) {
      auto chunk = producer.next();
      if (!chunk.ok()) return absl::Status(chunk.status().code(), absl::StrCat(source, ": ", chunk.status().message()));
      if (*chunk == nullptr) break;
      USAGEDB_ASSIGN_OR_RETURN(IngestReport report,
                               store_batch((*chunk)->batch, source, logging, (*chunk)->codes.data()));
      total += report;
      if (options.progress) options.progress((*chunk)->bytes_read, total_bytes);
      producer.recycle(std::move(*chunk));
    }
  }
  USAGEDB_RETURN_IF_ERROR(flush());
  if (logging == Logging::kBulk) USAGEDB_RETURN_IF_ERROR(checkpoint());
  return total;
}

}  // namespace usagedb
