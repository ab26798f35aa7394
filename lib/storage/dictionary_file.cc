#include "lib/storage/dictionary_file.h"

#include <algorithm>
#include <cstring>
#include <memory>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "lib/storage/framed_file.h"
#include "lib/util/coding.h"
#include "lib/util/status_macros.h"
#include "lib/util/text.h"

namespace usagedb::storage {
namespace {

constexpr std::string_view kMagic = "UDBDICT1";
constexpr uint32_t kVersion = 2;  // front coding; 1 is still read
// A version 2 segment's strings take at most this many times its entries'
// bytes, plus kRebuildSlack (see decode_dictionary_segment).
constexpr uint64_t kMaxRebuildRatio = 256;
constexpr uint64_t kRebuildSlack = uint64_t{64} << 20;

}  // namespace

absl::StatusOr<uint64_t> write_dictionary_segment(DictionaryColumn column, const Dictionary& dict, uint32_t first_code,
                                                  uint32_t count, const FrameWriter::Write& write) {
  // Written in pieces: the session dictionary's segment is ~9 MB at 10M
  // events (~43 MB for strings without shared prefixes), and the
  // checkpoint that writes it is the end of a bulk ingest, its memory peak.
  FrameWriter writer(kMagic, kVersion, write);
  std::string* out = writer.body();
  out->push_back(static_cast<char>(column));
  coding::put_varint64(out, first_code);
  coding::put_varint64(out, count);
  std::string_view previous;
  for (uint32_t code = first_code; code < first_code + count; ++code) {
    if (dict.erased(code)) {
      coding::put_varint64(out, 0);
      coding::put_varint64(out, 1);
      previous = {};
    } else {
      const std::string_view s = dict.lookup(code);
      const size_t limit = std::min(s.size(), previous.size());
      size_t shared = 0;
      while (shared < limit && s[shared] == previous[shared]) ++shared;
      coding::put_varint64(out, shared);
      coding::put_varint64(out, static_cast<uint64_t>(s.size() - shared) << 1);
      out->append(s.substr(shared));
      previous = s;
    }
    USAGEDB_RETURN_IF_ERROR(writer.flush_if_large());
  }
  USAGEDB_RETURN_IF_ERROR(writer.finish());
  return writer.bytes_written();
}

std::string encode_dictionary_segment(DictionaryColumn column, const Dictionary& dict, uint32_t first_code,
                                      uint32_t count) {
  std::string bytes;
  write_dictionary_segment(column, dict, first_code, count, [&](std::string_view piece) {
    bytes.append(piece);
    return absl::OkStatus();
  }).IgnoreError();  // appending to a string cannot fail
  return bytes;
}

absl::StatusOr<DictionarySegment> decode_dictionary_segment(std::string_view bytes, std::string_view path) {
  auto framed = unframe_file(bytes, kMagic, kVersion, path);  // versions 1 and 2
  if (!framed.ok()) return framed.status();
  auto loss = [&](std::string_view what) {
    return absl::DataLossError(absl::StrCat(text::absl_view(path), ": ", text::absl_view(what)));
  };
  std::string_view in = framed->body;
  if (in.empty() || static_cast<unsigned char>(in[0]) > static_cast<unsigned char>(DictionaryColumn::kSession)) {
    return loss("bad column");
  }
  DictionarySegment segment{static_cast<DictionaryColumn>(in[0]), 0, {}, {}};
  in.remove_prefix(1);
  uint64_t count;
  if (!coding::get_varint64(&in, &segment.first_code) || !coding::get_varint64(&in, &count)) {
    return loss("truncated header");
  }
  if (count > in.size() || segment.first_code + count > (uint64_t{1} << 32)) return loss("bad entry count");
  segment.strings.reserve(count);
  segment.erased.reserve(count);
  if (framed->version == 1) {
    for (uint64_t i = 0; i < count; ++i) {
      uint64_t tag;
      if (!coding::get_varint64(&in, &tag)) return loss(absl::StrCat("truncated at entry ", i));
      const bool erased = tag & 1;
      const uint64_t length = tag >> 1;
      if (erased && length != 0) return loss(absl::StrCat("entry ", i, ": erased entry with bytes"));
      if (length > in.size()) return loss(absl::StrCat("entry ", i, " runs past the end"));
      segment.strings.push_back(in.substr(0, length));
      segment.erased.push_back(erased);
      in.remove_prefix(length);
    }
  } else {
    // Two passes: the first checks every entry and sizes the storage, so
    // the second's views never move.
    const std::string_view entries = in;
    uint64_t total = 0;
    uint64_t previous = 0;  // the length of the string before
    for (uint64_t i = 0; i < count; ++i) {
      uint64_t shared, tag;
      if (!coding::get_varint64(&in, &shared) || !coding::get_varint64(&in, &tag)) {
        return loss(absl::StrCat("truncated at entry ", i));
      }
      const bool erased = tag & 1;
      const uint64_t suffix = tag >> 1;
      if (erased && (shared != 0 || suffix != 0)) return loss(absl::StrCat("entry ", i, ": erased entry with bytes"));
      if (shared > previous) {
        return loss(absl::StrCat("entry ", i, " shares ", shared, " bytes with a string of ", previous));
      }
      if (suffix > in.size()) return loss(absl::StrCat("entry ", i, " runs past the end"));
      in.remove_prefix(suffix);
      previous = shared + suffix;
      total += previous;
    }
    if (!in.empty()) return loss("trailing bytes");
    // Entries that share long prefixes rebuild to more bytes than they
    // take, but not without bound: a segment crafted to rebuild to
    // terabytes (each entry all of a long string before it) is refused
    // before anything is allocated. Real dictionaries stay far below it
    // (the 10M store's sessions: 4.6x).
    const uint64_t limit = kMaxRebuildRatio * entries.size() + kRebuildSlack;
    if (total > limit) {
      return loss(absl::StrCat("entries rebuild to ", total, " bytes, more than ", limit, " from ", entries.size()));
    }
    segment.storage = std::make_unique<std::string>();
    segment.storage->resize(total);
    char* out = segment.storage->data();
    const char* prev = out;
    in = entries;
    for (uint64_t i = 0; i < count; ++i) {
      uint64_t shared = 0, tag = 0;  // read (and checked) by the first pass
      coding::get_varint64(&in, &shared);
      coding::get_varint64(&in, &tag);
      const uint64_t suffix = tag >> 1;
      if (shared > 0) std::memcpy(out, prev, shared);  // the string before ends where this one starts
      if (suffix > 0) std::memcpy(out + shared, in.data(), suffix);
      in.remove_prefix(suffix);
      segment.strings.emplace_back(out, shared + suffix);
      segment.erased.push_back(tag & 1);
      prev = out;
      out += shared + suffix;
    }
  }
  if (!in.empty()) return loss("trailing bytes");
  return segment;
}

}  // namespace usagedb::storage
