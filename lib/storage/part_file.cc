#include "lib/storage/part_file.h"

#include <array>
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
// A footer of 13 blocks takes at most 424 bytes: a lazy open reads this much
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
};
// Format version 1: the 9 column blocks, then the 3 index blocks or none.
// Version 2 adds the sequence block after them, last.
constexpr uint8_t kColumnSectionCount = 9;
constexpr uint8_t kIndexSectionCount = 3;

// The encoding of the sequence block (SequenceColumn::encode).
constexpr uint8_t kSequenceFor64 = 1;

std::string section_name(uint8_t id) {
  static constexpr const char* kNames[] = {
      "timestamp",  "feature_id",      "product_version", "user_id",          "event_type",
      "session_id", "metadata",        "metadata values", "event_id",         "user_id index",
      "feature_id index", "product_version index", "sequence",
  };
  if (id >= 1 && id <= std::size(kNames)) return kNames[id - 1];
  return absl::StrCat("section ", id);
}

// The section of block `i` of a file of `version` with `count` blocks.
uint8_t expected_section(uint32_t version, uint64_t count, uint8_t i) {
  if (version >= 2 && i == count - 1) return static_cast<uint8_t>(Section::kSequence);
  return i + 1;
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
};

// `detail` is an absl::string_view so a Status's message() passes as is.
absl::Status corrupt(std::string_view path, std::string_view section, absl::string_view detail) {
  return absl::DataLossError(
      absl::StrCat("part file '", text::absl_view(path), "': ", text::absl_view(section), ": ", detail));
}

class Writer {
 public:
  Writer(std::string* out, uint32_t version) : out_(out) {
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
      !coding::get_varint64(&in, &count)) {
    return corrupt(path, "footer", "truncated");
  }
  const uint64_t columns = kColumnSectionCount + (version >= 2 ? 1 : 0);
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

class Reader {
 public:
  Reader(std::string_view bytes, std::string_view path, const Footer& footer)
      : bytes_(bytes), path_(path), footer_(footer) {}

  absl::Status ints(Section s, uint64_t limit, std::vector<uint32_t>* out) {
    const Entry& e = entry(s);
    absl::StatusOr<std::string_view> payload = block_payload(bytes_, e, path_);
    if (!payload.ok()) return payload.status();
    std::string_view in = *payload;
    if (absl::Status st = decode_ints(static_cast<IntEncoding>(e.encoding), &in, footer_.rows, limit, out); !st.ok()) {
      return corrupt(path_, section_name(e.section), st.message());
    }
    if (!in.empty()) return corrupt(path_, section_name(e.section), absl::StrCat(in.size(), " bytes after the values"));
    return absl::OkStatus();
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
  auto add = [&](Section s, uint8_t encoding) {
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
  StringEncoding se = encode_strings(c.metadata_values, options.zstd_level, &payload);
  add(Section::kMetadataValues, static_cast<uint8_t>(se));
  se = encode_strings(c.event_id, options.zstd_level, &payload);
  add(Section::kEventId, static_cast<uint8_t>(se));
  const PartIndexes& x = part.indexes();
  if (options.persist_indexes) {
    encode_index(x.user, options.index_encoding, options.zstd_level, &payload);
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
  w.finish(part);
  return out;
}

absl::StatusOr<PartFileInfo> read_part_file_info(std::string_view bytes, std::string_view path) {
  absl::StatusOr<Footer> f = read_footer(bytes, path);
  if (!f.ok()) return f.status();
  PartFileInfo info{f->id, f->month, f->rows, f->min_timestamp, f->max_timestamp, {}, kHeaderSize,
                    bytes.size() - f->offset};
  for (const Entry& e : f->entries) info.blocks.push_back({section_name(e.section), e.encoding, e.offset, e.size});
  return info;
}

absl::StatusOr<PartFileSummary> read_part_summary(std::string_view head, std::string_view tail, uint64_t size,
                                                  const RangeReader& read, std::string_view path) {
  absl::StatusOr<Footer> footer = read_footer(head, tail, size, path);
  if (!footer.ok()) return footer.status();
  const Footer& f = *footer;
  if (f.rows == 0) return corrupt(path, "footer", "a part has at least one row, the footer says 0");
  PartFileSummary summary{{f.id, f.month, f.rows, f.min_timestamp, f.max_timestamp, {}, kHeaderSize, size - f.offset},
                          (f.id << 32) | (f.rows - 1)};  // version 1: the numbers decode_part() makes
  for (const Entry& e : f.entries) summary.info.blocks.push_back({section_name(e.section), e.encoding, e.offset, e.size});
  if (f.version >= 2) {
    const Entry& e = f.entries.back();  // the sequence block (read_footer checked the order)
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
  *info = PartFileInfo{f.id, f.month, f.rows, f.min_timestamp, f.max_timestamp, {}, kHeaderSize, bytes.size() - f.offset};
  if (f.rows == 0) return corrupt(path, "footer", "a part has at least one row, the footer says 0");
  Reader r(bytes, path, f);
  PartColumns c;
  // Only DeltaFor guarantees ascending timestamps, which time_range() needs.
  USAGEDB_RETURN_IF_ERROR(r.check(f.entries[0].encoding == static_cast<uint8_t>(IntEncoding::kDeltaFor),
                                  Section::kTimestamp,
                                  absl::StrCat("encoding ", f.entries[0].encoding,
                                               " cannot hold ascending timestamps, expected DeltaFor")));
  USAGEDB_RETURN_IF_ERROR(r.ints(Section::kTimestamp, kNoLimit, &c.timestamp));
  USAGEDB_RETURN_IF_ERROR(r.check(c.timestamp.front() == f.min_timestamp && c.timestamp.back() == f.max_timestamp,
                            Section::kTimestamp,
                            absl::StrCat("timestamps span [", c.timestamp.front(), ", ", c.timestamp.back(),
                                         "], the footer says [", f.min_timestamp, ", ", f.max_timestamp, "]")));
  USAGEDB_RETURN_IF_ERROR(r.check(civil::month_id(f.min_timestamp) == f.month && civil::month_id(f.max_timestamp) == f.month,
                            Section::kTimestamp,
                            absl::StrCat("timestamps [", f.min_timestamp, ", ", f.max_timestamp,
                                         "] are not all in month ", f.month)));
  USAGEDB_RETURN_IF_ERROR(r.ints(Section::kFeature, sizes.features, &c.feature));
  USAGEDB_RETURN_IF_ERROR(r.ints(Section::kVersion, sizes.versions, &c.version));
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
  if (f.entries.size() == kColumnSectionCount + kIndexSectionCount + (f.version >= 2 ? 1 : 0)) {
    USAGEDB_RETURN_IF_ERROR(r.index(Section::kUserIndex, c.user, &x.user));
    USAGEDB_RETURN_IF_ERROR(r.index(Section::kFeatureIndex, c.feature, &x.feature));
    USAGEDB_RETURN_IF_ERROR(r.index(Section::kVersionIndex, c.version, &x.version));
  } else {
    x.user = PostingIndex::build(c.user);
    x.feature = build_bitmap_index(c.feature);
    x.version = build_bitmap_index(c.version);
  }
  return PartData{std::move(c), std::move(x)};
}

absl::StatusOr<std::shared_ptr<const Part>> decode_part(std::string_view bytes, std::string_view path,
                                                        const DictionarySizes& sizes) {
  PartFileInfo info;
  USAGEDB_ASSIGN_OR_RETURN(PartData data, decode_part_data(bytes, path, sizes, &info));
  return std::make_shared<const Part>(info.id, info.month, std::move(data.columns), std::move(data.indexes));
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
