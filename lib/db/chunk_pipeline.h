// The pipeline of the file and stream ingests (EventStoreImpl::ingest_file
// and ingest_stream, ingest.cc): parser threads read an input chunk by chunk,
// parse each chunk into events and rejected rows, and dictionary-encode the
// events while their strings are still in the parsing core's cache, a few
// chunks ahead of the thread that stores them.
//
//   ChunkProducer producer(file_source(file), InputFormat::kNdjson, &dictionaries);
//   for (;;) {
//     absl::StatusOr<std::unique_ptr<Chunk>> chunk = producer.next();
//     if (!chunk.ok()) return chunk.status();              // reading failed
//     if (*chunk == nullptr) break;                        // the end of the input
//     if (!(*chunk)->error.ok()) return (*chunk)->error;   // a damaged dictionary
//     for (size_t i = 0; i < (*chunk)->used; ++i) store(*(*chunk)->pieces[i]);
//     producer.recycle(std::move(*chunk));
//   }
//
// Thread-safety: next() and recycle() are called by one thread, the
// consumer; the parser threads are the producer's own (the dictionaries
// lock themselves).
#ifndef USAGEDB_DB_CHUNK_PIPELINE_H_
#define USAGEDB_DB_CHUNK_PIPELINE_H_

#include <algorithm>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "lib/ingest/ndjson_reader.h"
#include "lib/ingest/parsed_batch.h"
#include "lib/ingest/record_reader.h"
#include "lib/table/dictionaries.h"
#include "lib/table/row.h"
#include "lib/util/input_buffer.h"
#include "lib/util/mutex.h"
#include "usagedb/ingest.h"

namespace usagedb {

// The reader of `format`.
std::unique_ptr<RecordReader> make_record_reader(InputFormat format);

// An InputSource reading `file` (fread) from where it is to its end; a read
// error is UnavailableError("read failed: ..."). `file` must outlive it.
InputSource file_source(FILE* file);

// An InputSource reading the file descriptor `fd` from its position to its
// end through a DropBehindReader (lib/util/drop_behind_reader.h): the pages
// it reads from disk leave the page cache behind it, the ones cached before
// stay. A read error is UnavailableError("read failed: ..."). `fd` must
// outlive it.
InputSource fd_source(int fd);

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

// Reads, parses and dictionary-encodes an input ahead of the thread that
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
  // Input handed to a reader at once: big enough to amortize the per-call
  // costs, small enough that the parsed strings are still in the CPU cache
  // when the same thread interns them right after.
  static constexpr size_t kChunkBytes = 2 << 20;

  // Starts the parser threads on the input `read` yields (called by one
  // parser thread at a time, under read_mu_); they intern into
  // `dictionaries`. `chunk_bytes`: the bytes read at a time (kChunkBytes;
  // tests use less).
  ChunkProducer(InputSource read, InputFormat format, Dictionaries* dictionaries, size_t chunk_bytes = kChunkBytes);
  // The same over `file` (file_source), which outlives the producer.
  ChunkProducer(FILE* file, InputFormat format, Dictionaries* dictionaries, size_t chunk_bytes = kChunkBytes)
      : ChunkProducer(file_source(file), format, dictionaries, chunk_bytes) {}
  // Stops the parser threads, dropping the chunks not taken.
  ~ChunkProducer() ABSL_LOCKS_EXCLUDED(mu_);
  ChunkProducer(const ChunkProducer&) = delete;
  ChunkProducer& operator=(const ChunkProducer&) = delete;

  // Gives a consumed chunk back for reuse (its memory is already mapped).
  void recycle(std::unique_ptr<Chunk> chunk) ABSL_LOCKS_EXCLUDED(mu_);

  // The next parsed chunk, in input order; nullptr at the end of the input.
  // An error is returned once, at the point of the input where it happened.
  absl::StatusOr<std::unique_ptr<Chunk>> next() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  // Chunks parsed but not yet taken, beyond the one next() waits for.
  static constexpr uint64_t kAhead = 3;

  // One parser thread. `ndjson` is `reader` when the input is cut at lines.
  void run(RecordReader* reader, NdjsonReader* ndjson) ABSL_LOCKS_EXCLUDED(read_mu_, mu_);
  // No chunk after the ones read so far: the input ended, or failed.
  void end_input(absl::Status status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(read_mu_) ABSL_LOCKS_EXCLUDED(mu_);
  // Reads `size` bytes into `buf` unless the input ends first: how many.
  absl::StatusOr<size_t> read_full(char* buf, size_t size) ABSL_EXCLUSIVE_LOCKS_REQUIRED(read_mu_);

  const InputSource read_ ABSL_GUARDED_BY(read_mu_);
  const bool split_lines_;
  const size_t chunk_bytes_;
  Dictionaries* const dictionaries_;

  // The input, read by one parser thread at a time.
  Mutex read_mu_ ABSL_ACQUIRED_BEFORE(mu_);
  std::string carry_ ABSL_GUARDED_BY(read_mu_);        // the unparsed end of the previous chunk
  uint64_t bytes_read_ ABSL_GUARDED_BY(read_mu_) = 0;  // from the file
  uint64_t next_seq_ ABSL_GUARDED_BY(read_mu_) = 0;    // of the next chunk read
  bool input_done_ ABSL_GUARDED_BY(read_mu_) = false;

  // The chunks between the parser threads and next().
  Mutex mu_;
  std::condition_variable_any cv_;                                                    // waits on mu_
  absl::flat_hash_map<uint64_t, std::unique_ptr<Chunk>> ready_ ABSL_GUARDED_BY(mu_);  // by sequence number
  std::vector<std::unique_ptr<Chunk>> free_ ABSL_GUARDED_BY(mu_);
  uint64_t next_out_ ABSL_GUARDED_BY(mu_) = 0;            // the sequence number next() returns next
  std::optional<uint64_t> end_seq_ ABSL_GUARDED_BY(mu_);  // the number of chunks, once the input ended
  absl::Status error_ ABSL_GUARDED_BY(mu_);               // why it ended early
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;

  uint64_t lines_out_ = 0;  // lines of the chunks next() returned (NDJSON; next()'s caller only)
  std::vector<std::unique_ptr<RecordReader>> readers_;  // one per thread
  std::vector<std::thread> threads_;                    // last: started once the rest is initialized
};

}  // namespace usagedb

#endif  // USAGEDB_DB_CHUNK_PIPELINE_H_
