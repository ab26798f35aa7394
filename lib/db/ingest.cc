// EventStoreImpl's ingestion of NDJSON and CSV inputs (SPEC 1.1, 1.2): the
// readers turn text into validated events and rejected rows chunk by chunk;
// events take the same path as record_events, rejected rows go to the
// quarantine (and its log, for a durable store).
//
// ingest_file pipelines the work: parser threads (one per core for NDJSON)
// read, parse and encode the next chunks while the calling thread stores the
// previous one, in input order. A file larger than
// Options::checkpoint_log_bytes skips the write-ahead log (it would only be
// checkpointed away again) and ends with a checkpoint that writes its events
// straight into part files, as a ClickHouse INSERT writes its parts; input
// of unknown size (a pipe, stdin) does so from the point where it has
// outgrown that size.
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "lib/ingest/ndjson_reader.h"
#include "lib/ingest/record_reader.h"
#include "lib/storage/event_codec.h"
#include "lib/db/event_store_impl.h"
#include "lib/util/status_macros.h"

namespace usagedb {
namespace {

// Input handed to a reader at once: big enough to amortize the per-call
// costs, small enough that the parsed strings are still in the CPU cache
// when the same thread interns them right after.
constexpr size_t kChunkBytes = 2 << 20;

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

std::unique_ptr<RecordReader> make_reader(InputFormat format) {
  return format == InputFormat::kCsv ? make_csv_reader() : make_ndjson_reader();
}

// NDJSON is parsed and encoded a piece of a chunk at a time: the strings of
// a piece are still in the core's L2 cache when they are interned right after
// (interning a whole 2 MiB chunk after parsing it missed the cache on every
// string, and cost more than the parsing).
constexpr size_t kPieceBytes = NdjsonReader::kWindow;

// Bytes read from the input. Unlike std::string, growing it does not
// zero-fill the room a read is about to overwrite (2 MiB per chunk).
class InputBuffer {
 public:
  std::string_view view() const { return {data_.get(), size_}; }
  const char* data() const { return data_.get(); }
  size_t size() const { return size_; }
  void assign(std::string_view s) {
    size_ = 0;
    if (!s.empty()) std::memcpy(room(s.size()), s.data(), s.size());
    size_ = s.size();
  }
  // Room for `n` more bytes after size(), uninitialized; commit() the ones written.
  char* room(size_t n) {
    if (capacity_ - size_ < n) {
      const size_t capacity = std::max(size_ + n, 2 * capacity_);
      std::unique_ptr<char[]> bigger(new char[capacity]);
      if (size_ > 0) std::memcpy(bigger.get(), data_.get(), size_);
      data_ = std::move(bigger);
      capacity_ = capacity;
    }
    return data_.get() + size_;
  }
  void commit(size_t n) { size_ += n; }

 private:
  std::unique_ptr<char[]> data_;
  size_t size_ = 0;
  size_t capacity_ = 0;
};

// What a reader made of consecutive lines of a chunk.
struct Piece {
  ParsedBatch batch;
  std::vector<RowCodes> codes;            // of batch.events
  std::vector<uint64_t> id_hashes;        // of their event_ids (DedupIndex::hash)
  std::vector<uint64_t> metadata_hashes;  // of their metadata (AppendBuffer::metadata_hash)
};

// A chunk of input and what the readers made of it. The batches' views point
// into `text`, so they travel together.
struct Chunk {
  InputBuffer text;
  std::vector<std::unique_ptr<Piece>> pieces;  // the first `used` hold this chunk, in input order
  size_t used = 0;
  uint64_t lines = 0;       // NDJSON: lines of the input in this chunk (its rows are numbered from 1)
  uint64_t bytes_read = 0;  // of the file, once this chunk is read
  absl::Status error;       // encoding failed: nothing of this chunk may be stored

  // A cleared piece after the used ones (reusing an earlier chunk's memory).
  Piece& add_piece() {
    if (used == pieces.size()) pieces.push_back(std::make_unique<Piece>());
    return *pieces[used++];
  }
};

// Fails when a dictionary is damaged (a DataLossError naming it).
absl::Status encode_piece(Dictionaries& dictionaries, Piece& piece) {
  const std::vector<Event>& events = piece.batch.events;
  std::vector<const Event*> pointers(events.size());
  for (size_t i = 0; i < events.size(); ++i) pointers[i] = &events[i];
  piece.codes.resize(events.size());
  piece.id_hashes.resize(events.size());
  piece.metadata_hashes.resize(events.size());
  // Metadata repeats a handful of values, and the NDJSON reader hands out
  // one view of each escaped value it decoded: a view seen before in the
  // piece (same bytes at the same address) has the hash computed then.
  struct Seen {
    const char* data = nullptr;
    size_t size = 0;
    uint64_t hash = 0;
  };
  Seen seen[64];
  for (size_t i = 0; i < events.size(); ++i) {
    piece.id_hashes[i] = DedupIndex::hash(events[i].event_id);
    const std::string_view metadata = events[i].metadata;
    Seen& slot = seen[(reinterpret_cast<uintptr_t>(metadata.data()) >> 4) & 63];
    if (slot.data != metadata.data() || slot.size != metadata.size() || metadata.data() == nullptr) {
      slot = Seen{metadata.data(), metadata.size(), AppendBuffer::metadata_hash(metadata)};
    }
    piece.metadata_hashes[i] = slot.hash;
  }
  return encode_rows(dictionaries, pointers, piece.codes.data());
}

// Parser threads for NDJSON: every core (the store's writer and background
// threads are mostly waiting while they parse), but no more than the
// dictionaries' locks let work in parallel.
size_t parser_threads() { return std::clamp<size_t>(std::thread::hardware_concurrency(), 1, 4); }

// Reads, parses and dictionary-encodes a file ahead of the thread that
// stores it, a few chunks ahead at most. Encoding where the parsed strings
// are still in the parsing core's cache halves the writer's work.
//
// NDJSON is parsed by parser_threads() threads at once: under one lock a
// thread reads the next chunk and cuts it after its last '\n' (the rest
// starts the next chunk); then, in parallel with the others, it parses the
// chunk with its own reader, numbering the chunk's lines from 1, and interns
// its strings. CSV goes through one thread (a quoted field may hold a line
// break, so only its reader can tell where a record ends). next() hands
// chunks out in input order whatever order they finish in, adding the lines
// of the chunks before to an NDJSON chunk's line numbers, so what is stored,
// deduplicated and quarantined is exactly what one reader would have
// produced.
class ChunkProducer {
 public:
  ChunkProducer(FILE* file, InputFormat format, Dictionaries* dictionaries)
      : file_(file), split_lines_(format == InputFormat::kNdjson), dictionaries_(dictionaries) {
    const size_t threads = split_lines_ ? parser_threads() : 1;
    // The readers outlive their threads: the events of the chunks still
    // queued may hold views of strings a reader decoded and keeps.
    for (size_t i = 0; i < threads; ++i) {
      readers_.push_back(split_lines_ ? std::make_unique<NdjsonReader>() : make_reader(format));
    }
    for (size_t i = 0; i < threads; ++i) {
      threads_.emplace_back([this, i] {
        RecordReader* reader = readers_[i].get();
        run(reader, split_lines_ ? static_cast<NdjsonReader*>(reader) : nullptr);
      });
    }
  }
  ~ChunkProducer() {
    {
      std::lock_guard lock(mu_);
      cancelled_ = true;
    }
    cv_.notify_all();
    for (std::thread& t : threads_) t.join();
  }

  // Gives a consumed chunk back for reuse (its memory is already mapped).
  void recycle(std::unique_ptr<Chunk> chunk) {
    std::lock_guard lock(mu_);
    free_.push_back(std::move(chunk));
  }

  // The next parsed chunk, in input order; nullptr at the end of the input.
  // An error is returned once, at the point of the input where it happened.
  absl::StatusOr<std::unique_ptr<Chunk>> next() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return ready_.contains(next_out_) || (end_seq_.has_value() && next_out_ >= *end_seq_); });
    auto it = ready_.find(next_out_);
    if (it == ready_.end()) {
      if (!error_.ok()) return std::exchange(error_, absl::OkStatus());
      return std::unique_ptr<Chunk>();
    }
    std::unique_ptr<Chunk> c = std::move(it->second);
    ready_.erase(it);
    ++next_out_;
    cv_.notify_all();
    lock.unlock();
    if (split_lines_) {
      // Lines were numbered within the chunk: number them within the input.
      const uint64_t before = std::exchange(lines_out_, lines_out_ + c->lines);
      for (size_t i = 0; before > 0 && i < c->used; ++i) {
        ParsedBatch& batch = c->pieces[i]->batch;
        for (uint64_t& line : batch.event_lines) line += before;
        for (RejectedRow& row : batch.rejected) row.line += before;
      }
    }
    return c;
  }

 private:
  // Chunks parsed but not yet taken, beyond the one next() waits for.
  static constexpr uint64_t kAhead = 3;

  // One parser thread. `ndjson` is `reader` when the input is cut at lines.
  void run(RecordReader* reader, NdjsonReader* ndjson) {
    for (;;) {
      std::unique_ptr<Chunk> chunk;
      {
        std::lock_guard lock(mu_);
        if (cancelled_) return;
        if (!free_.empty()) {
          chunk = std::move(free_.back());
          free_.pop_back();
        }
      }
      if (!chunk) chunk = std::make_unique<Chunk>();
      chunk->used = 0;
      chunk->error = absl::OkStatus();
      uint64_t seq = 0;
      bool eof = false;
      {
        std::lock_guard reading(read_mu_);
        if (input_done_) return;
        chunk->text.assign(carry_);
        // Reads until the chunk holds a line end past the carried-over part
        // (one more read unless a line is longer than a chunk), or the input ends.
        for (size_t scanned = chunk->text.size();;) {
          const size_t n = std::fread(chunk->text.room(kChunkBytes), 1, kChunkBytes, file_);
          chunk->text.commit(n);
          bytes_read_ += n;
          if (n < kChunkBytes) {
            if (std::ferror(file_)) {
              end_input(absl::UnavailableError(absl::StrCat("read failed: ", std::strerror(errno))));
              return;
            }
            eof = true;
            break;
          }
          if (!split_lines_ || std::memchr(chunk->text.data() + scanned, '\n', chunk->text.size() - scanned)) break;
          scanned = chunk->text.size();
        }
        size_t cut = chunk->text.size();
        if (split_lines_) {
          if (!eof) cut = static_cast<const char*>(memrchr(chunk->text.data(), '\n', cut)) - chunk->text.data() + 1;
        } else {
          cut = reader->parse(chunk->text.view(), eof, &chunk->add_piece().batch);
        }
        carry_.assign(chunk->text.view().substr(cut));
        seq = next_seq_++;
        chunk->bytes_read = bytes_read_;
        if (eof) end_input(absl::OkStatus());
      }
      if (ndjson != nullptr) {
        ndjson->start_at(0, seq == 0);
        const std::string_view text = chunk->text.view();
        size_t window = kPieceBytes;
        for (size_t pos = 0; pos < text.size();) {
          // The last piece runs to the end of the text, and its reader stops
          // at the cut unless the input ended: the carried-over bytes past
          // the cut are only read as simdjson's padding.
          const bool last = text.size() - pos <= window + simdjson::SIMDJSON_PADDING;
          Piece& piece = chunk->add_piece();
          const size_t used =
              ndjson->parse(text.substr(pos, last ? std::string_view::npos : window + simdjson::SIMDJSON_PADDING),
                            last && eof, &piece.batch);
          if (used == 0) {
            --chunk->used;
            if (last) break;  // only the carried-over bytes are left
            window *= 2;      // a line longer than the window
            continue;
          }
          chunk->error = encode_piece(*dictionaries_, piece);
          if (!chunk->error.ok()) break;
          pos += used;
          window = kPieceBytes;
        }
        chunk->lines = ndjson->lines();
      } else if (chunk->used > 0) {
        chunk->error = encode_piece(*dictionaries_, *chunk->pieces[0]);
      }
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return seq < next_out_ + kAhead || cancelled_; });
      if (cancelled_) return;
      ready_.emplace(seq, std::move(chunk));
      cv_.notify_all();
    }
  }

  // No chunk after the ones read so far: the input ended, or failed.
  // REQUIRES: read_mu_ held.
  void end_input(absl::Status status) {
    input_done_ = true;
    std::lock_guard lock(mu_);
    error_ = std::move(status);
    end_seq_ = next_seq_;
    cv_.notify_all();
  }

  FILE* const file_;
  const bool split_lines_;
  Dictionaries* const dictionaries_;

  // The input, read by one parser thread at a time.
  std::mutex read_mu_;
  std::string carry_;        // the unparsed end of the previous chunk
  uint64_t bytes_read_ = 0;  // from the file
  uint64_t next_seq_ = 0;    // of the next chunk read
  bool input_done_ = false;

  // The chunks between the parser threads and next().
  std::mutex mu_;
  std::condition_variable cv_;
  absl::flat_hash_map<uint64_t, std::unique_ptr<Chunk>> ready_;  // by sequence number
  std::vector<std::unique_ptr<Chunk>> free_;
  uint64_t next_out_ = 0;             // the sequence number next() returns next
  std::optional<uint64_t> end_seq_;   // the number of chunks, once the input ended
  absl::Status error_;                // why it ended early
  uint64_t lines_out_ = 0;            // lines of the chunks next() returned (NDJSON; next()'s caller only)
  bool cancelled_ = false;
  std::vector<std::unique_ptr<RecordReader>> readers_;  // one per thread
  std::vector<std::thread> threads_;  // last: started once the rest is initialized
};

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
  bool size_known = false;
  struct stat st;
  if (::fstat(fileno(file.get()), &st) == 0) {
    if (S_ISDIR(st.st_mode)) return absl::InvalidArgumentError(absl::StrCat(path, ": is a directory, not a file"));
    if (S_ISREG(st.st_mode)) {
      total_bytes = st.st_size;
      size_known = true;
    }
  }
  // Input of unknown size (a pipe) starts through the log and goes the bulk
  // way once it has outgrown the log's threshold (see below).
  Logging logging = files_ && total_bytes >= options_.checkpoint_log_bytes ? Logging::kBulk : Logging::kLogged;

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
    }
    ~BulkBuffers() ABSL_NO_THREAD_SAFETY_ANALYSIS {
      if (!on) return;
      MutexLock lock(&store->write_mu_);
      if (--store->bulk_ingests_ > 0) return;  // another bulk ingest still runs
      store->buffer_rows_ = static_cast<uint32_t>(std::min<size_t>(store->options_.part_rows, UINT32_MAX));
      store->idle_seal_rows_ = 0;
      store->unsealed_rows_limit_ = 0;
    }
  } bulk_buffers(this, logging == Logging::kBulk);

  IngestReport total;
  {
    ChunkProducer producer(file.get(), options.format, &dictionaries_);
    for (;;) {
      auto chunk = producer.next();
      if (!chunk.ok()) return absl::Status(chunk.status().code(), absl::StrCat(source, ": ", chunk.status().message()));
      if (*chunk == nullptr) break;
      if (const absl::Status& s = (*chunk)->error; !s.ok()) {
        return absl::Status(s.code(), absl::StrCat(source, ": ", s.message()));
      }
      for (size_t i = 0; i < (*chunk)->used; ++i) {
        const Piece& piece = *(*chunk)->pieces[i];
        const Precoded precoded{piece.codes.data(), piece.id_hashes.data(), piece.metadata_hashes.data()};
        USAGEDB_ASSIGN_OR_RETURN(IngestReport report, store_batch(piece.batch, source, logging, &precoded));
        total += report;
      }
      if (options.progress) options.progress((*chunk)->bytes_read, total_bytes);
      if (logging == Logging::kLogged && files_ && !size_known &&
          (*chunk)->bytes_read >= options_.checkpoint_log_bytes) {
        // A pipe's input as large as a file that would have gone the bulk
        // way: the rest does (the logged part stays durable through the
        // log; the rest is durable when the final checkpoint returns).
        logging = Logging::kBulk;
        bulk_buffers.enable();
      }
      producer.recycle(std::move(*chunk));
    }
  }
  USAGEDB_RETURN_IF_ERROR(flush());
  if (logging == Logging::kBulk) {
    {
      MutexLock lock(&write_mu_);
      release_event_ids_locked();
    }
    USAGEDB_RETURN_IF_ERROR(checkpoint());
  }
  return total;
}

}  // namespace usagedb
