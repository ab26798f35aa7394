// NdjsonReader: the NDJSON reader behind make_ndjson_reader()
// (record_reader.h): one JSON object per line, SPEC 1.1. docs/INGEST.md
// lists every accepted and rejected form and the error messages.
//
// How it reads, and why:
//   - Lines are found by '\n' first, and every record is exactly one line: a
//     broken line never affects its neighbours.
//   - The fast path hands a window of whole lines (up to kWindow bytes) to
//     simdjson's iterate_many, one stage 1 for many lines, and checks that
//     each document is exactly one line: it starts at the line's first token
//     and the next token is the next non-blank line's first one. At the first
//     document that is not (or any error), the rest of the window is parsed
//     line by line with iterate(), which decides what is wrong.
//   - simdjson needs SIMDJSON_PADDING readable bytes after what it parses: a
//     window is parsed in place in the caller's text, so it ends at least that
//     far before the text does; a line parsed alone is copied into a scratch
//     buffer with zeroed padding (On Demand looks past the end of a broken
//     document, and the verdict must not depend on what it finds there).
//   - Before simdjson, each line is tried by a plain-line reader: a flat
//     object of string values without escapes (or with escapes the reader
//     decoded before, the usual metadata) and a timestamp string or Unix
//     seconds, keys without escapes, ASCII or valid UTF-8, spaces and tabs
//     only between tokens: the form every event exporter writes. It reads
//     such a line in one scan, about twice as fast as On Demand (see
//     docs/INGEST.md), and gives the same row or the same rejection;
//     anything else (numbers, null, nested values, new escapes, duplicate
//     or escaped keys, invalid JSON) it leaves to simdjson, untouched. A
//     window whose lines are mostly not plain goes to iterate_many after
//     a few of them.
//   - Each object's fields are walked once (On Demand). Known keys are
//     matched on their raw bytes; strings without escapes become views into
//     the input; strings with escapes are decoded straight into the batch's
//     StringArena, once: the reader keeps values it decoded (metadata repeats
//     a handful of them) and hands out views of those afterwards. Values the
//     reader does not keep (unknown keys, wrong types, metadata objects) are
//     walked completely, because On Demand does not validate what it skips,
//     and a line with invalid JSON anywhere is rejected.
//
//   auto reader = make_ndjson_reader();
//   ParsedBatch batch;
//   size_t used = reader->parse(R"({"user_id":"u1",...})" "\n", /*final=*/false, &batch);
//
// Thread-safety: not thread-safe; one reader per input.
#ifndef USAGEDB_INGEST_NDJSON_READER_H_
#define USAGEDB_INGEST_NDJSON_READER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "lib/ingest/json_value.h"
#include "lib/ingest/record_reader.h"
#include "lib/ingest/row_builder.h"
#include "lib/ingest/string_arena.h"
#include "lib/util/hash.h"

namespace usagedb {

class NdjsonReader final : public RecordReader {
 public:
  // Bytes of input given to one iterate_many call (and its batch size).
  static constexpr size_t kWindow = 256 << 10;

  // `plain_lines`: try the plain-line reader first (see above). Off, every
  // line goes through simdjson: the tests compare the two.
  explicit NdjsonReader(bool plain_lines = true) : plain_lines_(plain_lines) {
#ifdef SIMDJSON_THREADS_ENABLED
    parser_.threaded = false;  // a window is one batch: no stage 1 thread to start
#endif
    // Every string the reader hands on is valid UTF-8 already: a view of
    // input whose stage 1 validated it (a window with invalid UTF-8 yields
    // no document, and iterate() of a line fails with UTF8_ERROR), or what
    // simdjson unescaped (lone surrogates are a STRING_ERROR), or a
    // minified copy of validated input.
    row_.set_strings_known_utf8(true);
  }

  size_t parse(std::string_view text, bool final, ParsedBatch* out) override;

  // Makes the next parse() read a piece of a larger input that several
  // readers parse in parallel: `lines_before` lines of the input precede it
  // (its first line is number lines_before + 1), and a BOM is skipped only
  // when it is the input's start. The piece must begin at a line start.
  void start_at(uint64_t lines_before, bool input_start) {
    lines_ = lines_before;
    at_start_ = input_start;
  }
  // Lines consumed so far (counting the `lines_before` of start_at()).
  uint64_t lines() const { return lines_; }

 private:
  using error_code = simdjson::error_code;
  using Value = simdjson::ondemand::value;

  // ---- Lines (ndjson_reader.cc) ----
  // Parses the lines in text[pos, end) with iterate_many. Returns where the
  // first line it could not vouch for starts (end when all went well); the
  // lines before it are in *out and counted in lines_.
  size_t parse_window(std::string_view text, size_t pos, size_t end, ParsedBatch* out);
  // Reads the lines in text[pos, end) with read_plain_line(), a line that
  // is not plain with parse_line(); returns where it stopped (end, or the
  // start of a line that was not plain once more than kMinPlainMisses
  // lines and more than 1/8 of the plain ones were not), having counted
  // the lines before that in lines_.
  size_t parse_plain_lines(std::string_view text, size_t pos, size_t end, ParsedBatch* out);
  static constexpr size_t kMinPlainMisses = 4;
  // Parses the lines in text[pos, end) one iterate() each.
  void parse_each_line(std::string_view text, size_t pos, size_t end, ParsedBatch* out);
  // Parses one non-blank line (a copy of it).
  void parse_line(std::string_view line, uint64_t number, ParsedBatch* out);
  // Makes room in the parser for documents of `size` bytes; false when it
  // cannot.
  bool reserve_parser(size_t size);
  // Starts reading the object of `line`, which simdjson reads at `start`.
  void begin_object(std::string_view line, const char* start) {
    line_ = line;
    parse_start_ = start;
    next_backslash_ = nullptr;
    seen_ = 0;
    row_.start();
  }

  // ---- Plain lines (ndjson_plain_line.cc) ----
  // Reads the line at text[pos] (number `number`, ending before `end`)
  // when it is plain (see above): its row goes to *out, *next is where the
  // next line starts, and true is returned. false, with *out untouched,
  // when it is not (or does not end before `end`). Finds the line's end
  // itself, in the same scan. REQUIRES: 15 readable bytes after `end`.
  bool read_plain_line(std::string_view text, size_t pos, size_t end, uint64_t number, size_t* next, ParsedBatch* out);

  // ---- Fields, On Demand (ndjson_fields.cc) ----
  // Reads the fields of the line's object into row_. A returned error means
  // the line is not valid JSON.
  error_code read_object(simdjson::ondemand::object object, ParsedBatch* out);
  error_code read_string(TableColumn column, Value& value, ParsedBatch* out);
  error_code read_timestamp(Value& value, ParsedBatch* out);
  error_code read_metadata(Value& value, ParsedBatch* out);
  // Decodes the JSON string `value` whose raw token is `token`.
  error_code decode_string(Value& value, std::string_view token, ParsedBatch* out, std::string_view* decoded);
  // Validates a value of the wrong JSON type for `column`, then marks the
  // column at fault.
  error_code wrong_type(TableColumn column, Value& value, json::Kind kind, std::string_view expected);
  // The bytes at `p` (in the buffer simdjson reads) as a view into the input.
  std::string_view input_view(const char* p, size_t n) const { return {line_.data() + (p - parse_start_), n}; }

  const bool plain_lines_;
  simdjson::ondemand::parser parser_;
  size_t batch_size_ = kWindow;        // never below the parser's capacity, so it never shrinks
  std::unique_ptr<char[]> scratch_;    // padded copy of the line parse_line() reads
  size_t scratch_capacity_ = 0;
  uint64_t lines_ = 0;                 // lines consumed so far
  bool at_start_ = true;               // nothing consumed yet: a BOM may come
  RowBuilder row_;
  // The line being read.
  uint8_t seen_ = 0;                      // known keys seen in its object, by column bit
  std::string_view line_;                 // the line, in the input
  const char* parse_start_ = nullptr;     // where simdjson reads it (the input or scratch_)
  const char* next_backslash_ = nullptr;  // there: the first '\\' not before the string being read

  // For read_plain_line(): which known key the i-th key of the last line
  // was (lines repeat their key order).
  static constexpr size_t kKeyHints = 16;
  uint8_t key_hints_[kKeyHints] = {};

  // Strings with escapes, decoded once: each raw text (between the quotes)
  // and its decoded value, both in decoded_arena_. Metadata is the usual
  // one: a handful of values like "{\"device\":\"desktop\",...}" repeated on
  // every line, whose unescaping was ~5% of a file ingest. Events hold views
  // of the cached values, valid while the reader lives. Bounded: once
  // kMaxCachedBytes are held, new values are decoded into the batch only.
  static constexpr size_t kMaxCachedString = 256;
  static constexpr size_t kMaxCachedBytes = 1 << 20;
  struct ViewHash {
    size_t operator()(std::string_view s) const { return hash::hash64(s); }
  };
  absl::flat_hash_map<std::string_view, std::string_view, ViewHash> decoded_;
  StringArena decoded_arena_;
  size_t decoded_bytes_ = 0;
};

}  // namespace usagedb

#endif  // USAGEDB_INGEST_NDJSON_READER_H_
