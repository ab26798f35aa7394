#include "lib/storage/part_file.h"

#include <array>
#include <optional>
#include <type_traits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "lib/storage/string_codec.h"
#include "lib/table/part_index.h"
#include "lib/util/civil_time.h"
#include "lib/util/coding.h"
#include "lib/util/hash.h"
#include "lib/util/status_macros.h"
#include "lib/util/text.h"

namespace usagedb::storage {
namespace {

// A non-ASCII first byte (as PNG's) so a text file or a 7-bit transfer never
// looks like a part file.
constexpr std::string_view kMagic("\x89UDBPART", 8);
constexpr size_t kHeaderSize = kMagic.size() + 4;       // magic, fixed32 version
constexpr size_t kTrailerSize = 4 + 8 + kMagic.size();  // footer length, footer checksum, magic
constexpr size_t kChecksumSize = 8;
// A footer of 14 blocks takes at most 464 bytes: a lazy open reads this much
// of a file's end (kPartTailBytes) and refuses a footer that is longer.
constexpr size_t kMaxFooterBytes = kPartTailBytes - 4 - 8 - 8;

// The blocks of a part file, in file order. The ids are persisted: never
// renumber.
enum class Section : uint8_t {
  kTimestamp = 1,
  kFeature,
  kVersion,
  kUser,
  kEventType,
  kSession,
  kMetadata,
  kMetadataValues,
  kEventId,
  kUserIndex,
  kFeatureIndex,
  kVersionIndex,
  kSequence,  // format version 2
  kSeek,      // format version 3
};
// Format version 1: the 9 column blocks, then the 3 index blocks or none.
// Version 2 adds the sequence block after them; version 3 the seek block
// after that, last.
constexpr uint8_t kColumnSectionCount = 9;
constexpr uint8_t kIndexSectionCount = 3;

// The encoding of the sequence block (SequenceColumn::encode).
constexpr uint8_t kSequenceFor64 = 1;
// The encoding of the seek block.
constexpr uint8_t kSeekV1 = 1;
// The columns the seek block makes addressable, in its order.
constexpr Section kSeekColumns[] = {Section::kTimestamp, Section::kFeature, Section::kVersion};

std::string section_name(uint8_t id) {
  static constexpr const char* kNames[] = {
      "timestamp",  "feature_id",    "product_version",  "user_id",
      "event_type", "session_id",    "metadata",         "metadata values",
      "event_id",   "user_id index", "feature_id index", "product_version index",
      "sequence",   "seek",
  };
  if (id >= 1 && id <= std::size(kNames)) return kNames[id - 1];
  return absl::StrCat("section ", id);
}

// The section of block `i` of a file of `version` with `count` blocks.
uint8_t expected_section(uint32_t version, uint64_t count, uint8_t i) {
  if (version >= 3 && i == count - 1) return static_cast<uint8_t>(Section::kSeek);
  if (version >= 3 && i == count - 2) return static_cast<uint8_t>(Section::kSequence);
  if (version == 2 && i == count - 1) return static_cast<uint8_t>(Section::kSequence);
  return i + 1;
}

// The blocks of a file of `version` without its index blocks.
uint64_t base_block_count(uint32_t version) {
  return kColumnSectionCount + (version >= 2 ? 1 : 0) + (version >= 3 ? 1 : 0);
}

// A directory entry of the footer.
struct Entry {
  uint8_t section;
  uint8_t encoding;
  uint64_t offset;
  uint64_t size;
  uint64_t checksum;
};

struct Footer {
  uint32_t version;
  uint64_t id;
  uint32_t month, rows, min_timestamp, max_timestamp;
  std::vector<Entry> entries;
  uint64_t offset;  // where the footer starts
  uint64_t max_sequence = 0;  // version 3: the largest arrival number
};

// `detail` is an absl::string_view so a Status's message() passes as is.
absl::Status corrupt(std::string_view path, std::string_view section, absl::string_view detail) {
  return absl::DataLossError(
      absl::StrCat("part file '", text::absl_view(path), "': ", text::absl_view(section), ": ", detail));
}

// ---- The seek block (format version 3; part_format.md, "The seek block") ----

// A For block of a seek column: its bytes, their checksum and, for the
// timestamps (DeltaFor), the value of the row before its first.
struct SeekBlock {
  uint64_t bytes = 0;
  uint64_t checksum = 0;
  uint64_t base = 0;
};
struct SeekColumn {
  uint64_t head_bytes = 0;
  uint64_t head_checksum = 0;
  std::vector<SeekBlock> blocks;
};
struct Seek {
  std::vector<IndexChunk> chunks;  // of the user index block's payload
  std::vector<uint64_t> chunk_checksums;
  SeekColumn columns[std::size(kSeekColumns)];
};

bool is_delta(Section s) { return s == Section::kTimestamp; }

// The seek entry of a column's payload as the writer made it.
SeekColumn seek_column(IntEncoding encoding, std::string_view payload, std::span<const uint32_t> values) {
  absl::StatusOr<IntLayout> layout = int_layout(encoding, payload, values.size());
  SeekColumn c;
  if (!layout.ok()) return c;  // unreachable: this file's encoders wrote it
  c.head_bytes = layout->head_bytes;
  c.head_checksum = hash::checksum(payload.substr(0, c.head_bytes));
  uint64_t at = c.head_bytes;
  for (size_t b = 0; b < layout->block_bytes.size(); ++b) {
    const uint64_t n = layout->block_bytes[b];
    SeekBlock block{n, hash::checksum(payload.substr(at, n)), 0};
    if (encoding == IntEncoding::kDeltaFor) block.base = values[b * kIntBlockRows];
    c.blocks.push_back(block);
    at += n;
  }
  return c;
}

void encode_seek(const Seek& seek, std::string* out) {
  coding::put_varint64(out, seek.chunks.size());
  uint32_t previous = 0;
  for (size_t i = 0; i < seek.chunks.size(); ++i) {
    coding::put_varint64(out, seek.chunks[i].first_code - previous);
    previous = seek.chunks[i].first_code;
    coding::put_varint64(out, seek.chunks[i].bytes);
    coding::put_fixed64(out, seek.chunk_checksums[i]);
  }
  for (size_t k = 0; k < std::size(kSeekColumns); ++k) {
    const SeekColumn& c = seek.columns[k];
    coding::put_varint64(out, c.head_bytes);
    coding::put_fixed64(out, c.head_checksum);
    coding::put_varint64(out, c.blocks.size());
    uint64_t base = 0;
    for (const SeekBlock& b : c.blocks) {
      coding::put_varint64(out, b.bytes);
      coding::put_fixed64(out, b.checksum);
      if (is_delta(kSeekColumns[k])) {
        coding::put_varint64(out, b.base - base);
        base = b.base;
      }
    }
  }
}

// The number of For blocks of a column of `rows` values as `encoding`.
uint64_t for_blocks(IntEncoding encoding, uint32_t rows) {
  const uint64_t values = encoding == IntEncoding::kDeltaFor ? rows - 1 : rows;
  return (values + kIntBlockRows - 1) / kIntBlockRows;
}

class Writer {
 public:
  Writer(std::string* out, uint32_t version) : out_(out), version_(version) {
    out_->append(kMagic);
    coding::put_fixed32(out_, version);
  }

  // Appends a block: section, encoding, varint payload length, payload, and
  // the checksum of all that.
  void add_block(Section section, uint8_t encoding, std::string_view payload) {
    const size_t offset = out_->size();
    out_->push_back(static_cast<char>(section));
    out_->push_back(static_cast<char>(encoding));
    coding::put_varint64(out_, payload.size());
    out_->append(payload);
    const uint64_t sum = hash::checksum(std::string_view(*out_).substr(offset));
    coding::put_fixed64(out_, sum);
    entries_.push_back(Entry{static_cast<uint8_t>(section), encoding, offset, out_->size() - offset, sum});
  }

  void finish(const Part& part) {
    std::string footer;
    coding::put_fixed64(&footer, part.id());
    coding::put_fixed32(&footer, part.month());
    coding::put_fixed32(&footer, part.rows());
    coding::put_fixed32(&footer, part.min_timestamp());
    coding::put_fixed32(&footer, part.max_timestamp());
    if (version_ >= 3) coding::put_fixed64(&footer, part.max_sequence());
    coding::put_varint64(&footer, entries_.size());
    for (const Entry& e : entries_) {
      footer.push_back(static_cast<char>(e.section));
      footer.push_back(static_cast<char>(e.encoding));
      coding::put_varint64(&footer, e.offset);
      coding::put_varint64(&footer, e.size);
      coding::put_fixed64(&footer, e.checksum);
    }
    coding::put_fixed32(&footer, static_cast<uint32_t>(footer.size()));
    const uint64_t sum = hash::checksum(footer);
    out_->append(footer);
    coding::put_fixed64(out_, sum);
    out_->append(kMagic);
  }

 private:
  std::string* out_;
  const uint32_t version_;
  std::vector<Entry> entries_;
};

// The footer of a part file of `size` bytes from its first kHeaderSize bytes
// (`head`) and its last tail.size() bytes (`tail`, the whole file or at least
// kPartTailBytes of it).
absl::StatusOr<Footer> read_footer(std::string_view head, std::string_view tail, uint64_t size,
                                   std::string_view path) {
  if (size < kHeaderSize + kTrailerSize || head.size() < kHeaderSize || tail.size() < kTrailerSize) {
    return corrupt(path, "header", absl::StrCat("file of ", size, " bytes is too short for a part file"));
  }
  if (head.substr(0, kMagic.size()) != kMagic) {
    return corrupt(path, "header", "bad magic: not a usagedb part file");
  }
  const uint32_t version = coding::decode_fixed32(head.data() + kMagic.size());
  if (version < 1 || version > kPartFormatVersion) {
    return corrupt(path, "header",
                   absl::StrCat("unknown format version ", version, " (this build reads versions 1 to ",
                                kPartFormatVersion, ")"));
  }
  const std::string_view trailer = tail.substr(tail.size() - kTrailerSize);
  if (trailer.substr(12) != kMagic) {
    return corrupt(path, "trailer", "bad magic at the end: the file is truncated or not a part file");
  }
  const uint32_t footer_size = coding::decode_fixed32(trailer.data());
  if (footer_size > size - kHeaderSize - kTrailerSize) {
    return corrupt(path, "trailer", absl::StrCat("footer of ", footer_size, " bytes does not fit in a file of ", size));
  }
  // The same limit for every reader, whether it read the whole file or not.
  if (footer_size > kMaxFooterBytes || footer_size + kTrailerSize > tail.size()) {
    return corrupt(path, "trailer",
                   absl::StrCat("footer of ", footer_size, " bytes, more than the ", kMaxFooterBytes,
                                " a part file's footer may take"));
  }
  const uint64_t footer_offset = size - kTrailerSize - footer_size;
  const uint64_t tail_offset = size - tail.size();
  // The checksum covers the footer and its length.
  const std::string_view checked = tail.substr(footer_offset - tail_offset, footer_size + 4);
  const uint64_t stored = coding::decode_fixed64(trailer.data() + 4);
  if (const uint64_t actual = hash::checksum(checked); actual != stored) {
    return corrupt(path, "footer",
                   absl::StrFormat("checksum mismatch (stored %016x, computed %016x)", stored, actual));
  }

  Footer f;
  f.version = version;
  f.offset = footer_offset;
  std::string_view in = tail.substr(footer_offset - tail_offset, footer_size);
  uint64_t count;
  if (!coding::get_fixed64(&in, &f.id) || !coding::get_fixed32(&in, &f.month) || !coding::get_fixed32(&in, &f.rows) ||
      !coding::get_fixed32(&in, &f.min_timestamp) || !coding::get_fixed32(&in, &f.max_timestamp) ||
      (version >= 3 && !coding::get_fixed64(&in, &f.max_sequence)) || !coding::get_varint64(&in, &count)) {
    return corrupt(path, "footer", "truncated");
  }
  const uint64_t columns = base_block_count(version);
  if (count != columns && count != columns + kIndexSectionCount) {
    return corrupt(path, "footer",
                   absl::StrCat(count, " blocks, a part file of version ", version, " has ", columns, " or ",
                                columns + kIndexSectionCount));
  }
  uint64_t next = kHeaderSize;  // blocks are contiguous: no byte goes unchecked
  for (uint8_t i = 0; i < count; ++i) {
    Entry e;
    if (in.size() < 2) return corrupt(path, "footer", "truncated block directory");
    e.section = static_cast<uint8_t>(in[0]);
    e.encoding = static_cast<uint8_t>(in[1]);
    in.remove_prefix(2);
    if (!coding::get_varint64(&in, &e.offset) || !coding::get_varint64(&in, &e.size) ||
        !coding::get_fixed64(&in, &e.checksum)) {
      return corrupt(path, "footer", "truncated block directory");
    }
    if (const uint8_t expected = expected_section(version, count, i); e.section != expected) {
      return corrupt(path, "footer",
                     absl::StrCat("block ", i, " is ", section_name(e.section), ", expected ", section_name(expected)));
    }
    if (e.offset != next || e.size > footer_offset - next) {
      return corrupt(path, section_name(e.section),
                     absl::StrCat("block at offset ", e.offset, " of ", e.size, " bytes, expected at offset ", next,
                                  " within the ", footer_offset, " bytes before the footer"));
    }
    next += e.size;
    f.entries.push_back(e);
  }
  if (next != footer_offset) {
    return corrupt(path, "footer", absl::StrCat(footer_offset - next, " bytes between the last block and the footer"));
  }
  if (!in.empty()) return corrupt(path, "footer", absl::StrCat(in.size(), " bytes after the block directory"));
  return f;
}

absl::StatusOr<Footer> read_footer(std::string_view bytes, std::string_view path) {
  return read_footer(bytes.substr(0, kHeaderSize), bytes, bytes.size(), path);
}

// The payload of the block of `e`, after checking its header and checksum.
absl::StatusOr<std::string_view> block_payload(std::string_view bytes, const Entry& e, std::string_view path) {
  const std::string_view block = bytes.substr(e.offset, e.size);
  const std::string name = section_name(e.section);
  if (block.size() < 2 + 1 + kChecksumSize) return corrupt(path, name, "block too short");
  const uint64_t stored = coding::decode_fixed64(block.data() + block.size() - kChecksumSize);
  const uint64_t actual = hash::checksum(block.substr(0, block.size() - kChecksumSize));
  if (stored != e.checksum || actual != stored) {
    return corrupt(path, name,
                   absl::StrFormat("checksum mismatch in the block at offset %d (stored %016x, directory %016x, "
                                   "computed %016x)",
                                   e.offset, stored, e.checksum, actual));
  }
  std::string_view in = block.substr(0, block.size() - kChecksumSize);
  if (static_cast<uint8_t>(in[0]) != e.section || static_cast<uint8_t>(in[1]) != e.encoding) {
    return corrupt(path, name, "block header disagrees with the footer's directory");
  }
  in.remove_prefix(2);
  uint64_t length;
  if (!coding::get_varint64(&in, &length) || length != in.size()) {
    return corrupt(path, name, "block length disagrees with its size");
  }
  return in;
}

// The entry of section `s` in `f` (read_footer checked that each is there),
// or null when the file has none.
const Entry* find_entry(const Footer& f, Section s) {
  for (const Entry& e : f.entries) {
    if (e.section == static_cast<uint8_t>(s)) return &e;
  }
  return nullptr;
}

bool has_indexes(const Footer& f) { return f.entries.size() == base_block_count(f.version) + kIndexSectionCount; }

// The seek block's payload, read back: every count bounded by the bytes
// and by the part's rows, the codes ascending. Whether it agrees with the
// blocks it describes is checked by whoever reads them.
absl::StatusOr<Seek> parse_seek(std::string_view in, const Footer& f, uint8_t encoding, std::string_view path) {
  const auto bad = [&](absl::string_view detail) { return corrupt(path, "seek", detail); };
  if (encoding != kSeekV1) return bad(absl::StrCat("unknown encoding ", encoding));
  Seek seek;
  uint64_t n;
  if (!coding::get_varint64(&in, &n)) return bad("truncated chunk count");
  // A chunk entry takes at least 10 bytes, a chunk holds at least one row.
  if (n > in.size() / 10 || n > f.rows) return bad(absl::StrCat(n, " user index chunks do not fit"));
  if (n > 0 && !has_indexes(f)) return bad(absl::StrCat(n, " user index chunks in a part file without indexes"));
  if (n == 0 && has_indexes(f)) return bad("no user index chunks in a part file with indexes");
  uint64_t code = 0;
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t gap, bytes, checksum;
    if (!coding::get_varint64(&in, &gap) || !coding::get_varint64(&in, &bytes) ||
        !coding::get_fixed64(&in, &checksum)) {
      return bad("truncated user index chunks");
    }
    code += gap;
    if ((i > 0 && gap == 0) || gap > UINT32_MAX || code > UINT32_MAX) {
      return bad(absl::StrCat("user index chunk ", i, ": first value does not ascend or is over 2^32-1"));
    }
    seek.chunks.push_back(IndexChunk{static_cast<uint32_t>(code), bytes});
    seek.chunk_checksums.push_back(checksum);
  }
  for (size_t k = 0; k < std::size(kSeekColumns); ++k) {
    const Entry* e = find_entry(f, kSeekColumns[k]);
    SeekColumn& c = seek.columns[k];
    uint64_t count;
    if (!coding::get_varint64(&in, &c.head_bytes) || !coding::get_fixed64(&in, &c.head_checksum) ||
        !coding::get_varint64(&in, &count)) {
      return bad(absl::StrCat("truncated entry of ", section_name(e->section)));
    }
    // A block entry takes at least 9 bytes. (Whether the count is the
    // column's is checked against the column: check_seek_column() when the
    // whole part is read, read_user_rows() from its encoding.)
    if (count > in.size() / 9) return bad(absl::StrCat(count, " blocks of ", section_name(e->section), " do not fit"));
    c.blocks.resize(count);
    uint64_t base = 0;
    for (SeekBlock& b : c.blocks) {
      if (!coding::get_varint64(&in, &b.bytes) || !coding::get_fixed64(&in, &b.checksum)) {
        return bad(absl::StrCat("truncated blocks of ", section_name(e->section)));
      }
      if (is_delta(kSeekColumns[k])) {
        uint64_t gap;
        if (!coding::get_varint64(&in, &gap)) return bad("truncated timestamp bases");
        base += gap;
        if (gap > UINT32_MAX || base > UINT32_MAX) return bad("a timestamp base is over 2^32-1");
        b.base = base;
      }
    }
  }
  if (!in.empty()) return bad(absl::StrCat(in.size(), " bytes after the last entry"));
  return seek;
}

// Checks that `payload`, the column of `seek_column`, is laid out as the
// seek block says: its head and blocks' sizes and checksums, and (the
// timestamps) each block's base against the decoded `values`.
absl::Status check_seek_column(const SeekColumn& c, IntEncoding encoding, std::string_view payload,
                               std::span<const uint32_t> values, Section section, std::string_view path) {
  const auto bad = [&](absl::string_view detail) {
    return corrupt(path, "seek", absl::StrCat(section_name(static_cast<uint8_t>(section)), ": ", detail));
  };
  // The column decoded already, so its layout parses.
  absl::StatusOr<IntLayout> layout = int_layout(encoding, payload, values.size());
  if (!layout.ok()) return bad(layout.status().message());
  bool same = layout->head_bytes == c.head_bytes && layout->block_bytes.size() == c.blocks.size();
  for (size_t i = 0; same && i < c.blocks.size(); ++i) same = layout->block_bytes[i] == c.blocks[i].bytes;
  if (!same) return bad("the sizes of the head and blocks are not the column's");
  if (hash::checksum(payload.substr(0, c.head_bytes)) != c.head_checksum) return bad("head checksum mismatch");
  uint64_t at = c.head_bytes;
  for (size_t i = 0; i < c.blocks.size(); ++i) {
    const SeekBlock& b = c.blocks[i];
    if (hash::checksum(payload.substr(at, b.bytes)) != b.checksum) {
      return bad(absl::StrCat("block ", i, ": checksum mismatch"));
    }
    if (is_delta(section) && b.base != values[i * kIntBlockRows]) {
      return bad(absl::StrCat("block ", i, ": base ", b.base, ", the row before it holds ", values[i * kIntBlockRows]));
    }
    at += b.bytes;
  }
  return absl::OkStatus();
}

class Reader {
 public:
  Reader(std::string_view bytes, std::string_view path, const Footer& footer)
      : bytes_(bytes), path_(path), footer_(footer) {}

  // With `seek` (format version 3), also checks that the column is laid
  // out as the seek block says.
  absl::Status ints(Section s, uint64_t limit, std::vector<uint32_t>* out, const SeekColumn* seek = nullptr) {
    const Entry& e = entry(s);
    absl::StatusOr<std::string_view> payload = block_payload(bytes_, e, path_);
    if (!payload.ok()) return payload.status();
    std::string_view in = *payload;
    if (absl::Status st = decode_ints(static_cast<IntEncoding>(e.encoding), &in, footer_.rows, limit, out); !st.ok()) {
      return corrupt(path_, section_name(e.section), st.message());
    }
    if (!in.empty()) return corrupt(path_, section_name(e.section), absl::StrCat(in.size(), " bytes after the values"));
    if (seek != nullptr) {
      return check_seek_column(*seek, static_cast<IntEncoding>(e.encoding), *payload, *out, s, path_);
    }
    return absl::OkStatus();
  }

  // The user index of a format version 3 file, in the chunks `seek` lists.
  absl::Status chunked_postings(const Seek& seek, std::span<const uint32_t> column, PostingIndex* out) {
    const Entry& e = entry(Section::kUserIndex);
    absl::StatusOr<std::string_view> payload = block_payload(bytes_, e, path_);
    if (!payload.ok()) return payload.status();
    uint64_t at = 0;
    for (size_t i = 0; i < seek.chunks.size(); ++i) {
      const uint64_t n = seek.chunks[i].bytes;
      if (n > payload->size() - at || hash::checksum(payload->substr(at, n)) != seek.chunk_checksums[i]) {
        return corrupt(path_, section_name(e.section),
                       absl::StrCat("chunk ", i, " does not match the seek block's size and checksum"));
      }
      at += n;
    }
    absl::StatusOr<PostingIndex> index =
        decode_verified_chunked_postings(static_cast<IndexEncoding>(e.encoding), seek.chunks, *payload, column);
    if (!index.ok()) return corrupt(path_, section_name(e.section), index.status().message());
    *out = *std::move(index);
    return absl::OkStatus();
  }

  // The seek block.
  absl::StatusOr<Seek> seek() {
    const Entry& e = entry(Section::kSeek);
    absl::StatusOr<std::string_view> payload = block_payload(bytes_, e, path_);
    if (!payload.ok()) return payload.status();
    return parse_seek(*payload, footer_, e.encoding, path_);
  }

  absl::Status strings(Section s, StringColumn* out) {
    const Entry& e = entry(s);
    absl::StatusOr<std::string_view> payload = block_payload(bytes_, e, path_);
    if (!payload.ok()) return payload.status();
    absl::StatusOr<StringColumn> column = decode_strings(static_cast<StringEncoding>(e.encoding), *payload);
    if (!column.ok()) return corrupt(path_, section_name(e.section), column.status().message());
    *out = *std::move(column);
    return absl::OkStatus();
  }

  // A BitmapIndex or a PostingIndex.
  template <typename Index>
  absl::Status index(Section s, std::span<const uint32_t> column, Index* out) {
    const Entry& e = entry(s);
    absl::StatusOr<std::string_view> payload = block_payload(bytes_, e, path_);
    if (!payload.ok()) return payload.status();
    const auto encoding = static_cast<IndexEncoding>(e.encoding);
    absl::StatusOr<Index> index;
    if constexpr (std::is_same_v<Index, PostingIndex>) {
      index = decode_verified_postings(encoding, *payload, column);
    } else {
      index = decode_verified_index(encoding, *payload, column);
    }
    if (!index.ok()) return corrupt(path_, section_name(e.section), index.status().message());
    *out = *std::move(index);
    return absl::OkStatus();
  }

  absl::Status sequence(SequenceColumn* out) { return sequence(entry(Section::kSequence), out); }
  // The sequence block of `e` (read_part_summary reads it alone).
  absl::Status sequence(const Entry& e, SequenceColumn* out) {
    absl::StatusOr<std::string_view> payload = block_payload(bytes_, e, path_);
    if (!payload.ok()) return payload.status();
    if (e.encoding != kSequenceFor64) {
      return corrupt(path_, section_name(e.section), absl::StrCat("unknown encoding ", e.encoding));
    }
    std::string_view in = *payload;
    absl::StatusOr<SequenceColumn> column = SequenceColumn::decode(&in, footer_.rows);
    if (!column.ok()) return corrupt(path_, section_name(e.section), column.status().message());
    if (!in.empty()) return corrupt(path_, section_name(e.section), absl::StrCat(in.size(), " bytes after the values"));
    *out = *std::move(column);
    return absl::OkStatus();
  }

  absl::Status check(bool ok, Section s, absl::string_view detail) const {
    return ok ? absl::OkStatus() : corrupt(path_, section_name(static_cast<uint8_t>(s)), detail);
  }

 private:
  const Entry& entry(Section s) const {
    for (const Entry& e : footer_.entries) {
      if (e.section == static_cast<uint8_t>(s)) return e;
    }
    return footer_.entries.front();  // unreachable: read_footer checked the sections
  }

  std::string_view bytes_;
  std::string_view path_;
  const Footer& footer_;
};

}  // namespace

std::string encode_part(const Part& part, const PartEncodeOptions& options) {
  const PartColumns& c = part.columns();
  std::string out;
  Writer w(&out, options.format_version);
  std::string payload;
  const bool seekable = options.format_version >= 3;
  Seek seek;
  auto add = [&](Section s, uint8_t encoding) {
    if (seekable) {
      for (size_t k = 0; k < std::size(kSeekColumns); ++k) {
        if (kSeekColumns[k] != s) continue;
        const std::vector<uint32_t>& values =
            s == Section::kTimestamp ? c.timestamp : (s == Section::kFeature ? c.feature : c.version);
        seek.columns[k] = seek_column(static_cast<IntEncoding>(encoding), payload, values);
      }
    }
    w.add_block(s, encoding, payload);
    payload.clear();
  };
  encode_ascending(c.timestamp, &payload);
  add(Section::kTimestamp, static_cast<uint8_t>(IntEncoding::kDeltaFor));
  const std::pair<Section, const std::vector<uint32_t>*> codes[] = {
      {Section::kFeature, &c.feature},   {Section::kVersion, &c.version}, {Section::kUser, &c.user},
      {Section::kEventType, &c.event_type}, {Section::kSession, &c.session}, {Section::kMetadata, &c.metadata},
  };
  for (const auto& [section, column] : codes) {
    const IntEncoding e = encode_codes(*column, &payload);
    add(section, static_cast<uint8_t>(e));
  }
  StringEncoding se = encode_strings(c.metadata_values, options.string_zstd_level, &payload);
  add(Section::kMetadataValues, static_cast<uint8_t>(se));
  se = encode_strings(c.event_id, options.string_zstd_level, &payload);
  add(Section::kEventId, static_cast<uint8_t>(se));
  const PartIndexes& x = part.indexes();
  if (options.persist_indexes) {
    if (seekable) {
      encode_index_chunks(x.user, options.index_encoding, options.zstd_level, &payload, &seek.chunks);
      uint64_t at = 0;
      for (const IndexChunk& chunk : seek.chunks) {
        seek.chunk_checksums.push_back(hash::checksum(std::string_view(payload).substr(at, chunk.bytes)));
        at += chunk.bytes;
      }
    } else {
      encode_index(x.user, options.index_encoding, options.zstd_level, &payload);
    }
    add(Section::kUserIndex, static_cast<uint8_t>(options.index_encoding));
    for (const auto& [section, index] :
         {std::pair{Section::kFeatureIndex, &x.feature}, std::pair{Section::kVersionIndex, &x.version}}) {
      encode_index(*index, options.index_encoding, options.zstd_level, &payload);
      add(section, static_cast<uint8_t>(options.index_encoding));
    }
  }
  if (options.format_version >= 2) {
    c.sequence.encode(&payload);
    add(Section::kSequence, kSequenceFor64);
  }
  if (seekable) {
    encode_seek(seek, &payload);
    add(Section::kSeek, kSeekV1);
  }
  w.finish(part);
  return out;
}

namespace {

// What PartFileInfo says of the footer `f` of a file of `size` bytes.
PartFileInfo info_of(const Footer& f, uint64_t size) {
  PartFileInfo info{f.id, f.month,     f.rows,          f.min_timestamp, f.max_timestamp,
                    {},   kHeaderSize, size - f.offset, f.version};
  for (const Entry& e : f.entries) {
    info.blocks.push_back({section_name(e.section), e.encoding, e.offset, e.size, e.section, e.checksum});
  }
  return info;
}

// The footer PartFileInfo came from (read_footer() checked it).
Footer footer_of(const PartFileInfo& info) {
  Footer f{info.version, info.id, info.month, info.rows, info.min_timestamp, info.max_timestamp, {}, 0, 0};
  for (const PartFileInfo::Block& b : info.blocks) {
    f.entries.push_back({b.section_id, b.encoding, b.offset, b.size, b.checksum});
  }
  return f;
}

}  // namespace

absl::StatusOr<PartFileInfo> read_part_file_info(std::string_view bytes, std::string_view path) {
  absl::StatusOr<Footer> f = read_footer(bytes, path);
  if (!f.ok()) return f.status();
  return info_of(*f, bytes.size());
}

absl::StatusOr<PartFileSummary> read_part_summary(std::string_view head, std::string_view tail, uint64_t size,
                                                  const RangeReader& read, std::string_view path) {
  absl::StatusOr<Footer> footer = read_footer(head, tail, size, path);
  if (!footer.ok()) return footer.status();
  const Footer& f = *footer;
  if (f.rows == 0) return corrupt(path, "footer", "a part has at least one row, the footer says 0");
  PartFileSummary summary{info_of(f, size), (f.id << 32) | (f.rows - 1)};  // version 1: the numbers decode_part() makes
  if (f.version >= 3) {
    // In the footer: no block is read.
    summary.max_sequence = f.max_sequence;
  } else if (f.version >= 2) {
    const Entry& e = *find_entry(f, Section::kSequence);  // read_footer checked it is there
    absl::StatusOr<std::string> block = read(e.offset, e.size);
    if (!block.ok()) return block.status();
    if (block->size() != e.size) return corrupt(path, section_name(e.section), "truncated");
    Entry at_zero = e;
    at_zero.offset = 0;
    SequenceColumn sequence;
    USAGEDB_RETURN_IF_ERROR(Reader(*block, path, f).sequence(at_zero, &sequence));
    summary.max_sequence = sequence.max();
  }
  return summary;
}

absl::StatusOr<PartData> decode_part_data(std::string_view bytes, std::string_view path, const DictionarySizes& sizes,
                                          PartFileInfo* info) {
  absl::StatusOr<Footer> footer = read_footer(bytes, path);
  if (!footer.ok()) return footer.status();
  const Footer& f = *footer;
  *info = info_of(f, bytes.size());
  if (f.rows == 0) return corrupt(path, "footer", "a part has at least one row, the footer says 0");
  Reader r(bytes, path, f);
  PartColumns c;
  // Only DeltaFor guarantees ascending timestamps, which time_range() needs.
  USAGEDB_RETURN_IF_ERROR(r.check(f.entries[0].encoding == static_cast<uint8_t>(IntEncoding::kDeltaFor),
                                  Section::kTimestamp,
                                  absl::StrCat("encoding ", f.entries[0].encoding,
                                               " cannot hold ascending timestamps, expected DeltaFor")));
  std::optional<Seek> seek;
  if (f.version >= 3) {
    absl::StatusOr<Seek> s = r.seek();
    if (!s.ok()) return s.status();
    seek = *std::move(s);
  }
  // The seek block's entry of column k, if any.
  const auto seek_of = [&](size_t k) { return seek ? &seek->columns[k] : nullptr; };
  USAGEDB_RETURN_IF_ERROR(r.ints(Section::kTimestamp, kNoLimit, &c.timestamp, seek_of(0)));
  USAGEDB_RETURN_IF_ERROR(r.check(c.timestamp.front() == f.min_timestamp && c.timestamp.back() == f.max_timestamp,
                            Section::kTimestamp,
                            absl::StrCat("timestamps span [", c.timestamp.front(), ", ", c.timestamp.back(),
                                         "], the footer says [", f.min_timestamp, ", ", f.max_timestamp, "]")));
  USAGEDB_RETURN_IF_ERROR(r.check(civil::month_id(f.min_timestamp) == f.month && civil::month_id(f.max_timestamp) == f.month,
                            Section::kTimestamp,
                            absl::StrCat("timestamps [", f.min_timestamp, ", ", f.max_timestamp,
                                         "] are not all in month ", f.month)));
  USAGEDB_RETURN_IF_ERROR(r.ints(Section::kFeature, sizes.features, &c.feature, seek_of(1)));
  USAGEDB_RETURN_IF_ERROR(r.ints(Section::kVersion, sizes.versions, &c.version, seek_of(2)));
  USAGEDB_RETURN_IF_ERROR(r.ints(Section::kUser, sizes.users, &c.user));
  USAGEDB_RETURN_IF_ERROR(r.ints(Section::kEventType, sizes.event_types, &c.event_type));
  USAGEDB_RETURN_IF_ERROR(r.ints(Section::kSession, sizes.sessions, &c.session));
  USAGEDB_RETURN_IF_ERROR(r.strings(Section::kMetadataValues, &c.metadata_values));
  USAGEDB_RETURN_IF_ERROR(r.ints(Section::kMetadata, c.metadata_values.size(), &c.metadata));
  USAGEDB_RETURN_IF_ERROR(r.strings(Section::kEventId, &c.event_id));
  USAGEDB_RETURN_IF_ERROR(r.check(c.event_id.size() == f.rows, Section::kEventId,
                            absl::StrCat(c.event_id.size(), " event ids for ", f.rows, " rows")));
  if (f.version >= 2) {
    USAGEDB_RETURN_IF_ERROR(r.sequence(&c.sequence));
    USAGEDB_RETURN_IF_ERROR(r.check(
        f.version < 3 || c.sequence.max() == f.max_sequence, Section::kSequence,
        absl::StrCat("the largest arrival number is ", c.sequence.max(), ", the footer says ", f.max_sequence)));
  } else {
    // Written before rows had arrival numbers: row i of part p gets p * 2^32
    // + i, which no other row of the store has (part ids are never reused,
    // a part holds fewer than 2^32 rows) and the same at every open, so a
    // merge can carry them and the feed (docs/STORAGE.md) sees each row once.
    std::vector<uint64_t> synthetic(f.rows);
    for (uint32_t i = 0; i < f.rows; ++i) synthetic[i] = (f.id << 32) | i;
    c.sequence = SequenceColumn::pack(synthetic);
  }
  PartIndexes x;
  if (has_indexes(f)) {
    if (seek) {
      USAGEDB_RETURN_IF_ERROR(r.chunked_postings(*seek, c.user, &x.user));
    } else {
      USAGEDB_RETURN_IF_ERROR(r.index(Section::kUserIndex, c.user, &x.user));
    }
    USAGEDB_RETURN_IF_ERROR(r.index(Section::kFeatureIndex, c.feature, &x.feature));
    USAGEDB_RETURN_IF_ERROR(r.index(Section::kVersionIndex, c.version, &x.version));
  } else {
    x = build_part_indexes(c);
  }
  return PartData{std::move(c), std::move(x)};
}

absl::StatusOr<std::shared_ptr<const Part>> decode_part(std::string_view bytes, std::string_view path,
                                                        const DictionarySizes& sizes) {
  PartFileInfo info;
  USAGEDB_ASSIGN_OR_RETURN(PartData data, decode_part_data(bytes, path, sizes, &info));
  return std::make_shared<const Part>(info.id, info.month, std::move(data.columns), std::move(data.indexes));
}

absl::StatusOr<PartColumns> read_user_ordered_columns(const PartFileInfo& info, const RangesReader& read,
                                                      std::string_view path, const DictionarySizes& sizes) {
  const Footer f = footer_of(info);
  if (f.rows == 0) return corrupt(path, "footer", "a part has at least one row, the footer says 0");
  constexpr Section kRead[] = {Section::kTimestamp, Section::kFeature, Section::kUser};
  std::vector<Entry> entries;
  std::vector<ByteRange> ranges;
  for (const Section s : kRead) {
    const Entry* e = find_entry(f, s);
    if (e == nullptr) return corrupt(path, section_name(static_cast<uint8_t>(s)), "no such block");
    entries.push_back(*e);
    entries.back().offset = 0;  // in its own bytes below
    ranges.push_back(ByteRange{e->offset, static_cast<size_t>(e->size)});
  }
  USAGEDB_ASSIGN_OR_RETURN(std::vector<std::string> blocks, read(ranges));
  if (blocks.size() != entries.size()) return corrupt(path, "footer", "a block could not be read whole");
  PartColumns c;
  std::vector<uint32_t>* const out[] = {&c.timestamp, &c.feature, &c.user};
  const uint64_t limits[] = {kNoLimit, sizes.features, sizes.users};
  for (size_t i = 0; i < entries.size(); ++i) {
    const Entry& e = entries[i];
    const std::string name = section_name(e.section);
    if (blocks[i].size() != e.size) return corrupt(path, name, "the block is cut short (the file shrank?)");
    // Its own checksum and the directory's, its header, its length.
    absl::StatusOr<std::string_view> payload = block_payload(blocks[i], e, path);
    if (!payload.ok()) return payload.status();
    if (kRead[i] == Section::kTimestamp && e.encoding != static_cast<uint8_t>(IntEncoding::kDeltaFor)) {
      return corrupt(path, name,
                     absl::StrCat("encoding ", e.encoding, " cannot hold ascending timestamps, expected DeltaFor"));
    }
    std::string_view in = *payload;
    if (absl::Status st = decode_ints(static_cast<IntEncoding>(e.encoding), &in, f.rows, limits[i], out[i]); !st.ok()) {
      return corrupt(path, name, st.message());
    }
    if (!in.empty()) return corrupt(path, name, absl::StrCat(in.size(), " bytes after the values"));
  }
  if (c.timestamp.front() != f.min_timestamp || c.timestamp.back() != f.max_timestamp) {
    return corrupt(path, "timestamp",
                   absl::StrCat("timestamps span [", c.timestamp.front(), ", ", c.timestamp.back(),
                                "], the footer says [", f.min_timestamp, ", ", f.max_timestamp, "]"));
  }
  return c;
}

bool seeks_users(const PartFileInfo& info) {
  return info.version >= 3 && info.blocks.size() == base_block_count(info.version) + kIndexSectionCount;
}

namespace {

// Where a block's payload starts: after its section and encoding bytes and
// the varint of its length (a block is 2 + varint + length + 8 bytes).
uint64_t payload_offset(const Entry& e) {
  for (size_t k = 1; k <= 10 && 2 + k + kChecksumSize <= e.size; ++k) {
    const uint64_t length = e.size - 2 - k - kChecksumSize;
    if (coding::varint_length(length) == k) return e.offset + 2 + k;
  }
  return e.offset;  // unreachable for a block read_footer() accepted and block_payload() checked
}

// One piece the user read needs: a For block of a seek column, or a head.
struct Piece {
  size_t column;    // index into kSeekColumns
  size_t block;     // the For block; SIZE_MAX for the column's head
  ByteRange range;  // in the file
  uint64_t checksum;
};

}  // namespace

absl::StatusOr<UserRows> read_user_rows(const PartFileInfo& info, const RangesReader& read, std::string_view path,
                                        const DictionarySizes& sizes, uint32_t user) {
  if (!seeks_users(info)) {
    return absl::FailedPreconditionError(absl::StrCat("part file '", text::absl_view(path), "' cannot seek users"));
  }
  const Footer f = footer_of(info);
  const Entry& seek_entry = *find_entry(f, Section::kSeek);
  const Entry& index_entry = *find_entry(f, Section::kUserIndex);
  // 1. The seek block, checked as a whole.
  const ByteRange seek_range{seek_entry.offset, seek_entry.size};
  USAGEDB_ASSIGN_OR_RETURN(std::vector<std::string> got, read(std::span<const ByteRange>(&seek_range, 1)));
  if (got.size() != 1 || got[0].size() != seek_entry.size) return corrupt(path, "seek", "truncated");
  Entry at_zero = seek_entry;
  at_zero.offset = 0;
  USAGEDB_ASSIGN_OR_RETURN(const std::string_view seek_payload, block_payload(got[0], at_zero, path));
  USAGEDB_ASSIGN_OR_RETURN(const Seek seek, parse_seek(seek_payload, f, seek_entry.encoding, path));
  UserRows out;
  // 2. The user index chunk that would hold `user`.
  const auto chunk = std::upper_bound(seek.chunks.begin(), seek.chunks.end(), user,
                                      [](uint32_t code, const IndexChunk& c) { return code < c.first_code; });
  if (chunk == seek.chunks.begin()) return out;  // below every user of the part
  const size_t c = static_cast<size_t>(chunk - seek.chunks.begin()) - 1;
  uint64_t at = payload_offset(index_entry);
  for (size_t i = 0; i < c; ++i) at += seek.chunks[i].bytes;
  const ByteRange chunk_range{at, seek.chunks[c].bytes};
  if (at + chunk_range.size > index_entry.offset + index_entry.size) {
    return corrupt(path, "seek", absl::StrCat("user index chunk ", c, " ends past the user index block"));
  }
  USAGEDB_ASSIGN_OR_RETURN(got, read(std::span<const ByteRange>(&chunk_range, 1)));
  const std::string index_name = section_name(index_entry.section);
  if (got.size() != 1 || got[0].size() != chunk_range.size) return corrupt(path, index_name, "truncated");
  if (const uint64_t sum = hash::checksum(got[0]); sum != seek.chunk_checksums[c]) {
    return corrupt(path, index_name,
                   absl::StrFormat("checksum mismatch in chunk %d at offset %d (seek block %016x, computed %016x)", c,
                                   at, seek.chunk_checksums[c], sum));
  }
  absl::StatusOr<std::vector<uint32_t>> rows =
      find_postings(static_cast<IndexEncoding>(index_entry.encoding), got[0], user, f.rows);
  if (!rows.ok()) return corrupt(path, index_name, absl::StrCat("chunk ", c, ": ", rows.status().message()));
  if (rows->empty()) return out;
  // 3. The For blocks holding those rows (and each column's head), read
  //    together, each checked against its checksum before it is decoded.
  const uint64_t limits[] = {kNoLimit, sizes.features, sizes.versions};
  std::vector<uint32_t>* columns[] = {&out.timestamp, &out.feature, &out.version};
  std::vector<Piece> pieces;
  // The block of each row in each column.
  std::vector<size_t> block_of[std::size(kSeekColumns)];
  for (size_t k = 0; k < std::size(kSeekColumns); ++k) {
    const Entry& e = *find_entry(f, kSeekColumns[k]);
    const auto encoding = static_cast<IntEncoding>(e.encoding);
    const SeekColumn& sc = seek.columns[k];
    if (encoding != IntEncoding::kFor && encoding != IntEncoding::kDeltaFor && encoding != IntEncoding::kDictFor) {
      return corrupt(path, section_name(e.section), absl::StrCat("unknown integer encoding ", e.encoding));
    }
    if (sc.blocks.size() != for_blocks(encoding, f.rows)) {
      return corrupt(path, "seek",
                     absl::StrCat(sc.blocks.size(), " blocks of ", section_name(e.section), ", its ", f.rows,
                                  " rows take ", for_blocks(encoding, f.rows)));
    }
    const uint64_t start = payload_offset(e);
    uint64_t total = sc.head_bytes;
    for (const SeekBlock& b : sc.blocks) total += b.bytes;
    if (start + total + kChecksumSize != e.offset + e.size) {
      return corrupt(path, "seek",
                     absl::StrCat(section_name(e.section), ": blocks of ", total, " bytes in all, not the column's"));
    }
    const bool delta = encoding == IntEncoding::kDeltaFor;
    // The head: DictFor's dictionary; DeltaFor's first value (row 0's).
    if (encoding != IntEncoding::kFor) pieces.push_back(Piece{k, SIZE_MAX, {start, sc.head_bytes}, sc.head_checksum});
    std::vector<uint64_t> offsets(sc.blocks.size());
    uint64_t o = start + sc.head_bytes;
    for (size_t b = 0; b < sc.blocks.size(); ++b) {
      offsets[b] = o;
      o += sc.blocks[b].bytes;
    }
    size_t last = SIZE_MAX;
    for (const uint32_t row : *rows) {
      if (delta && row == 0) {
        block_of[k].push_back(SIZE_MAX);
        continue;
      }
      const size_t b = (row - (delta ? 1 : 0)) / kIntBlockRows;
      block_of[k].push_back(b);
      if (b != last) {
        pieces.push_back(Piece{k, b, {offsets[b], sc.blocks[b].bytes}, sc.blocks[b].checksum});
        last = b;
      }
    }
  }
  std::vector<ByteRange> ranges;
  ranges.reserve(pieces.size());
  for (const Piece& p : pieces) ranges.push_back(p.range);
  USAGEDB_ASSIGN_OR_RETURN(got, read(ranges));
  if (got.size() != pieces.size()) return corrupt(path, "seek", "short read");
  for (size_t k = 0; k < std::size(kSeekColumns); ++k) columns[k]->resize(rows->size());
  std::string_view heads[std::size(kSeekColumns)];
  std::vector<uint32_t> values;
  size_t next_row[std::size(kSeekColumns)] = {};
  for (size_t i = 0; i < pieces.size(); ++i) {
    const Piece& p = pieces[i];
    const Entry& e = *find_entry(f, kSeekColumns[p.column]);
    const std::string name = section_name(e.section);
    if (got[i].size() != p.range.size) return corrupt(path, name, "truncated");
    if (const uint64_t sum = hash::checksum(got[i]); sum != p.checksum) {
      return corrupt(path, name,
                     absl::StrFormat("checksum mismatch in %s at offset %d (seek block %016x, computed %016x)",
                                     p.block == SIZE_MAX ? std::string("the head") : absl::StrCat("block ", p.block),
                                     p.range.offset, p.checksum, sum));
    }
    const auto encoding = static_cast<IntEncoding>(e.encoding);
    const SeekColumn& sc = seek.columns[p.column];
    std::vector<uint32_t>& column = *columns[p.column];
    size_t& r = next_row[p.column];
    if (p.block == SIZE_MAX) {
      heads[p.column] = got[i];
      if (encoding == IntEncoding::kDeltaFor && (*rows)[0] == 0) {
        uint64_t first;
        std::string_view h = got[i];
        if (!coding::get_varint64(&h, &first) || !h.empty() || first > UINT32_MAX) {
          return corrupt(path, name, "the first value does not decode");
        }
        column[r++] = static_cast<uint32_t>(first);
      }
      continue;
    }
    const uint64_t base = encoding == IntEncoding::kDeltaFor ? sc.blocks[p.block].base : 0;
    if (absl::Status s =
            decode_int_block(encoding, heads[p.column], got[i], f.rows, p.block, base, limits[p.column], &values);
        !s.ok()) {
      return corrupt(path, name, s.message());
    }
    const size_t first_row = int_block_first_row(encoding, p.block);
    while (r < rows->size() && block_of[p.column][r] == p.block) column[r] = values[(*rows)[r] - first_row], ++r;
  }
  for (const uint32_t t : out.timestamp) {
    if (t < f.min_timestamp || t > f.max_timestamp) {
      return corrupt(
          path, "timestamp",
          absl::StrCat("timestamp ", t, " is outside the footer's [", f.min_timestamp, ", ", f.max_timestamp, "]"));
    }
  }
  return out;
}

std::vector<std::pair<std::string, uint64_t>> part_file_sections(std::string_view bytes, const std::string& name) {
  std::vector<std::pair<std::string, uint64_t>> sections;
  if (auto info = read_part_file_info(bytes, name); info.ok()) {
    for (const auto& block : info->blocks) sections.emplace_back(block.section, block.size);
    sections.emplace_back("(part header and footer)", info->header_bytes + info->footer_bytes);
  }
  return sections;
}

}  // namespace usagedb::storage
