// NdjsonReader (ndjson_reader.h): finding lines, and parsing them with
// iterate_many (a window of lines at a time) or iterate() (one line).
#include "lib/ingest/ndjson_reader.h"

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "lib/util/text.h"

namespace usagedb {
namespace {

namespace ondemand = simdjson::ondemand;
using json::Kind;
using simdjson::error_code;

constexpr size_t kPadding = simdjson::SIMDJSON_PADDING;
constexpr std::string_view kBom = "\xEF\xBB\xBF";

bool is_blank(std::string_view line) {
  for (const char c : line) {
    if (c != ' ' && c != '\t' && c != '\r') return false;
  }
  return true;
}

// The line starting at text[pos] (REQUIRES: a '\n' in text[pos, end), or
// pos < end == the end of the input): its text without "\n" or "\r\n", and
// where the next line starts.
std::string_view line_at(std::string_view text, size_t pos, size_t end, size_t* next) {
  const void* newline = std::memchr(text.data() + pos, '\n', end - pos);
  const size_t stop = newline != nullptr ? static_cast<size_t>(static_cast<const char*>(newline) - text.data()) : end;
  *next = newline != nullptr ? stop + 1 : end;
  std::string_view line = text.substr(pos, stop - pos);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

// JSON whitespace at the start of a line (no '\n' in a line).
size_t leading_space(std::string_view line) {
  size_t i = 0;
  while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')) ++i;
  return i;
}

Kind kind_of_type(ondemand::json_type type) {
  switch (type) {
    case ondemand::json_type::array:
      return Kind::kArray;
    case ondemand::json_type::object:
      return Kind::kObject;
    case ondemand::json_type::number:
      return Kind::kNumber;
    case ondemand::json_type::string:
      return Kind::kString;
    case ondemand::json_type::boolean:
      return Kind::kBoolean;
    case ondemand::json_type::null:
      return Kind::kNull;
  }
  return Kind::kNull;
}

// Why a line that is JSON-like but not an object is rejected.
std::string not_an_object(std::string_view line, ondemand::json_type type) {
  const std::string_view value = json::trim_token(line.substr(leading_space(line)));
  const Kind kind = kind_of_type(type);
  // Only a well-formed scalar is "a number" or "true"; "nul" or "12ab" is not JSON.
  const bool valid = (kind == Kind::kNumber && json::is_json_number(value)) ||
                     (kind == Kind::kBoolean && (value == "true" || value == "false")) ||
                     (kind == Kind::kNull && value == "null") || kind == Kind::kArray || kind == Kind::kString;
  if (!valid) return json::describe_error(simdjson::TAPE_ERROR);
  return absl::StrCat("expected a JSON object, got ", text::absl_view(json::kind_phrase(kind)));
}

}  // namespace

size_t NdjsonReader::parse(std::string_view text, bool final, ParsedBatch* out) {
  out->clear();
  size_t limit = text.size();
  if (!final) {
    const size_t newline = text.rfind('\n');
    if (newline == std::string_view::npos) return 0;
    limit = newline + 1;
  }
  if (limit == 0) return 0;
  size_t pos = 0;
  if (at_start_) {
    at_start_ = false;
    if (text.substr(0, kBom.size()) == kBom) pos = kBom.size();
  }
  // iterate_many reads up to SIMDJSON_PADDING bytes past its window: only
  // lines that end before readable_end may be in one.
  const size_t readable_end = text.size() > kPadding ? text.size() - kPadding : 0;
  while (pos < limit) {
    size_t end = std::min({limit, pos + kWindow, readable_end});
    if (end > pos && end != limit) {
      // Back to the end of the last whole line.
      const char* p = static_cast<const char*>(memrchr(text.data() + pos, '\n', end - pos));
      end = p != nullptr ? static_cast<size_t>(p - text.data()) + 1 : pos;
    }
    if (end > pos) {
      const size_t plain_end = plain_lines_ ? parse_plain_lines(text, pos, std::min(end, readable_end), out) : pos;
      const size_t stop = parse_window(text, plain_end, end, out);
      parse_each_line(text, stop, end, out);
    } else {
      // No whole line fits a window: this line goes alone.
      line_at(text, pos, limit, &end);
      parse_each_line(text, pos, end, out);
    }
    pos = end;
  }
  return limit;
}

void NdjsonReader::parse_each_line(std::string_view text, size_t pos, size_t end, ParsedBatch* out) {
  while (pos < end) {
    size_t next;
    const std::string_view line = line_at(text, pos, end, &next);
    ++lines_;
    if ((!line.empty() && line[0] == '{') || !is_blank(line)) parse_line(line, lines_, out);
    pos = next;
  }
}

size_t NdjsonReader::parse_plain_lines(std::string_view text, size_t pos, size_t end, ParsedBatch* out) {
  size_t hits = 0, misses = 0;
  while (pos < end) {
    size_t next;
    if (read_plain_line(text, pos, end, lines_ + 1, &next, out)) {
      ++hits;
      ++lines_;
      pos = next;
      continue;
    }
    const std::string_view line = line_at(text, pos, end, &next);
    // A line the window cut (the window's last one may be): the window's
    // reader takes it from here.
    if (next == end && text[end - 1] != '\n') break;
    if (line.empty() || (line[0] != '{' && is_blank(line))) {
      ++lines_;  // a blank line
    } else {
      // Input not in the plain form (spaced, numbers): iterate_many reads
      // the rest of the window faster than single lines.
      if (++misses > kMinPlainMisses && misses > hits / 8) break;
      parse_line(line, lines_ + 1, out);
      ++lines_;
    }
    pos = next;
  }
  return pos;
}

bool NdjsonReader::reserve_parser(size_t size) {
  if (parser_.capacity() >= size) return true;
  // Grow geometrically: iterate() would otherwise reallocate for every line
  // longer than the last.
  if (parser_.allocate(std::max({batch_size_, 2 * parser_.capacity(), size}), json::kMaxDepth) != simdjson::SUCCESS) {
    return false;
  }
  batch_size_ = std::max(batch_size_, parser_.capacity());
  return true;
}

size_t NdjsonReader::parse_window(std::string_view text, size_t pos, size_t end, ParsedBatch* out) {
  if (!reserve_parser(batch_size_)) return pos;
  ondemand::document_stream stream;
  const auto* base = reinterpret_cast<const uint8_t*>(text.data() + pos);
  if (parser_.iterate_many(base, end - pos, batch_size_).get(stream) != simdjson::SUCCESS) return pos;

  // A non-blank line of the window: where it starts, its text, where the
  // next line starts. offset == end when there is none.
  struct Record {
    size_t offset;
    std::string_view line;
    size_t next;
  };
  // The next non-blank line from `from`, counting the blank lines before it
  // into *lines.
  auto next_record = [&](size_t from, uint64_t* lines) {
    Record r{end, {}, end};
    while (from < end) {
      r.line = line_at(text, from, end, &r.next);
      if (!is_blank(r.line)) {
        r.offset = from;
        return r;
      }
      ++*lines;
      from = r.next;
    }
    return r;
  };
  // Invariant: `lines` counts the lines before `record`, whose line the next
  // document must be.
  uint64_t lines = lines_;
  Record record = next_record(pos, &lines);
  for (auto it = stream.begin(); it != stream.end() && record.offset != end; ++it) {
    ondemand::document_reference doc;
    const char* first = record.line.data() + leading_space(record.line);
    if ((*it).get(doc) != simdjson::SUCCESS || reinterpret_cast<const char*>(base) + it.current_index() != first) break;
    begin_object(record.line, record.line.data());
    ondemand::object object;
    if (doc.get_object().get(object) != simdjson::SUCCESS || read_object(object, out) != simdjson::SUCCESS) break;
    // The document is exactly this line when the token after it is the
    // first one of the next non-blank line. (With the check that it starts
    // at the line's first token, redundant by induction, this is all the
    // window trusts iterate_many for.) The window's last document has no
    // token after it, and iterate_many drops an incomplete document at the
    // end of its input (`{}{` would pass as `{}`): that line is parsed alone.
    uint64_t after = lines + 1;
    const Record following = next_record(record.next, &after);
    const simdjson::simdjson_result<const char*> location = doc.current_location();
    if (location.error() != simdjson::SUCCESS || following.offset == end ||
        location.value_unsafe() != following.line.data() + leading_space(following.line)) {
      break;
    }
    // And the object ended with its '}': On Demand stops walking an
    // object's fields, without an error, at a token that is neither ',' nor
    // '}' (`{"a":1` followed by a line starting with `{`).
    const char* last = location.value_unsafe();
    while (last > first && (last[-1] == ' ' || last[-1] == '\t' || last[-1] == '\r' || last[-1] == '\n')) --last;
    if (last == first || last[-1] != '}') break;
    row_.finish(lines + 1, record.line, out);
    lines = after;
    record = following;
  }
  // Any line from `record` on is left to parse_each_line(), which decides
  // what is wrong with it.
  lines_ = lines;
  return record.offset;
}

void NdjsonReader::parse_line(std::string_view line, uint64_t number, ParsedBatch* out) {
  // A copy with zeroed padding, rather than the line in place: On Demand
  // reads past the end of a broken document, and what it finds there must
  // not change the verdict (one line, one answer, wherever it sits).
  if (scratch_capacity_ < line.size() + kPadding) {
    scratch_capacity_ = std::max(2 * scratch_capacity_, line.size() + kPadding);
    scratch_.reset(new char[scratch_capacity_]);
  }
  char* start = scratch_.get();
  std::memcpy(start, line.data(), line.size());
  std::memset(start + line.size(), 0, kPadding);
  if (!reserve_parser(line.size())) {
    return reject_record(number, line, absl::StrCat("line too long to parse (", line.size(), " bytes)"), out);
  }
  ondemand::document doc;
  error_code err = parser_.iterate(start, line.size(), line.size() + kPadding).get(doc);
  if (err != simdjson::SUCCESS) return reject_record(number, line, json::describe_error(err), out);
  ondemand::json_type type;
  if ((err = doc.type().get(type)) != simdjson::SUCCESS) return reject_record(number, line, json::describe_error(err), out);
  if (type != ondemand::json_type::object) return reject_record(number, line, not_an_object(line, type), out);
  begin_object(line, start);
  ondemand::object object;
  if ((err = doc.get_object().get(object)) != simdjson::SUCCESS || (err = read_object(object, out))) {
    return reject_record(number, line, json::describe_error(err), out);
  }
  // A second value after the object (another object, garbage) is still a
  // token; at the end of the line there is none.
  if (doc.current_location().error() != simdjson::OUT_OF_BOUNDS) {
    return reject_record(number, line, "not valid JSON: unexpected text after the object", out);
  }
  row_.finish(number, line, out);
}

std::unique_ptr<RecordReader> make_ndjson_reader() { return std::make_unique<NdjsonReader>(); }

}  // namespace usagedb
