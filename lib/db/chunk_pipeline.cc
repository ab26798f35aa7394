#include "lib/db/chunk_pipeline.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "lib/table/append_buffer.h"
#include "lib/table/dedup_index.h"
#include "lib/util/drop_behind_reader.h"
#include "lib/util/status_macros.h"

namespace usagedb {
namespace {

// NDJSON is parsed and encoded a piece of a chunk at a time: the strings of
// a piece are still in the core's L2 cache when they are interned right after
// (interning a whole 2 MiB chunk after parsing it missed the cache on every
// string, and cost more than the parsing).
constexpr size_t kPieceBytes = NdjsonReader::kWindow;

// Fails when a dictionary is damaged (a DataLossError naming it).
absl::Status encode_piece(Dictionaries& dictionaries, SmallDictionaryCodes& memo, Piece& piece) {
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
  return encode_rows(dictionaries, pointers, piece.codes.data(), &memo);
}

// Parser threads for NDJSON: every core (the store's writer and background
// threads are mostly waiting while they parse), but no more than the
// dictionaries' locks let work in parallel.
size_t parser_threads() { return std::clamp<size_t>(std::thread::hardware_concurrency(), 1, 4); }

}  // namespace

std::unique_ptr<RecordReader> make_record_reader(InputFormat format) {
  return format == InputFormat::kCsv ? make_csv_reader() : make_ndjson_reader();
}

InputSource file_source(FILE* file) {
  return [file](char* buf, size_t size) -> absl::StatusOr<size_t> {
    const size_t n = std::fread(buf, 1, size, file);
    if (n < size && std::ferror(file)) {
      return absl::UnavailableError(absl::StrCat("read failed: ", std::strerror(errno)));
    }
    return n;
  };
}

InputSource fd_source(int fd) {
  // InputSource is copyable; its copies share the reader (one input).
  auto reader = std::make_shared<DropBehindReader>(fd);
  return [reader](char* buf, size_t size) { return reader->read(buf, size); };
}

ChunkProducer::ChunkProducer(InputSource read, InputFormat format, Dictionaries* dictionaries, size_t chunk_bytes)
    : read_(std::move(read)),
      split_lines_(format == InputFormat::kNdjson),
      chunk_bytes_(chunk_bytes),
      dictionaries_(dictionaries) {
  const size_t threads = split_lines_ ? parser_threads() : 1;
  // The readers outlive their threads: the events of the chunks still
  // queued may hold views of strings a reader decoded and keeps.
  for (size_t i = 0; i < threads; ++i) {
    readers_.push_back(split_lines_ ? std::make_unique<NdjsonReader>() : make_record_reader(format));
  }
  for (size_t i = 0; i < threads; ++i) {
    threads_.emplace_back([this, i] {
      RecordReader* reader = readers_[i].get();
      run(reader, split_lines_ ? static_cast<NdjsonReader*>(reader) : nullptr);
    });
  }
}

ChunkProducer::~ChunkProducer() {
  {
    MutexLock lock(&mu_);
    cancelled_ = true;
  }
  cv_.notify_all();
  for (std::thread& t : threads_) t.join();
}

void ChunkProducer::recycle(std::unique_ptr<Chunk> chunk) {
  MutexLock lock(&mu_);
  free_.push_back(std::move(chunk));
}

absl::StatusOr<std::unique_ptr<Chunk>> ChunkProducer::next() {
  std::unique_ptr<Chunk> c;
  {
    MutexLock lock(&mu_);
    while (!ready_.contains(next_out_) && !(end_seq_.has_value() && next_out_ >= *end_seq_)) cv_.wait(mu_);
    auto it = ready_.find(next_out_);
    if (it == ready_.end()) {
      if (!error_.ok()) return std::exchange(error_, absl::OkStatus());
      return std::unique_ptr<Chunk>();
    }
    c = std::move(it->second);
    ready_.erase(it);
    ++next_out_;
  }
  cv_.notify_all();
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

void ChunkProducer::run(RecordReader* reader, NdjsonReader* ndjson) {
  // This thread's codes of the small dictionaries' strings (on the heap:
  // 18 KiB).
  const auto memo = std::make_unique<SmallDictionaryCodes>();
  for (;;) {
    std::unique_ptr<Chunk> chunk;
    {
      MutexLock lock(&mu_);
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
      MutexLock reading(&read_mu_);
      if (input_done_) return;
      chunk->text.assign(carry_);
      // Reads until the chunk holds a line end past the carried-over part
      // (one more read unless a line is longer than a chunk), or the input ends.
      for (size_t scanned = chunk->text.size();;) {
        const absl::StatusOr<size_t> n = read_full(chunk->text.room(chunk_bytes_), chunk_bytes_);
        if (!n.ok()) {
          end_input(n.status());
          return;
        }
        chunk->text.commit(*n);
        bytes_read_ += *n;
        if (*n < chunk_bytes_) {
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
        chunk->error = encode_piece(*dictionaries_, *memo, piece);
        if (!chunk->error.ok()) break;
        pos += used;
        window = kPieceBytes;
      }
      chunk->lines = ndjson->lines();
    } else if (chunk->used > 0) {
      chunk->error = encode_piece(*dictionaries_, *memo, *chunk->pieces[0]);
    }
    {
      MutexLock lock(&mu_);
      while (seq >= next_out_ + kAhead && !cancelled_) cv_.wait(mu_);
      if (cancelled_) return;
      ready_.emplace(seq, std::move(chunk));
    }
    cv_.notify_all();
  }
}

absl::StatusOr<size_t> ChunkProducer::read_full(char* buf, size_t size) {
  size_t done = 0;
  while (done < size) {
    absl::StatusOr<size_t> n = read_(buf + done, size - done);
    if (!n.ok()) return n.status();
    if (*n == 0) break;
    done += *n;
  }
  return done;
}

void ChunkProducer::end_input(absl::Status status) {
  input_done_ = true;
  {
    MutexLock lock(&mu_);
    error_ = std::move(status);
    end_seq_ = next_seq_;
  }
  cv_.notify_all();
}

}  // namespace usagedb
