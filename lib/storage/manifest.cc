#include "lib/storage/manifest.h"

#include <array>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "lib/storage/framed_file.h"
#include "lib/util/coding.h"
#include "lib/util/text.h"

namespace usagedb::storage {
namespace {

constexpr std::string_view kMagic = "UDBMANIF";
constexpr uint32_t kVersion = 1;
constexpr int kColumns = 5;

}  // namespace

std::string encode_manifest(const Manifest& m) {
  std::string body;
  coding::put_varint64(&body, m.next_file_number);
  coding::put_varint64(&body, m.log_number);
  coding::put_varint64(&body, m.quarantine_number);
  coding::put_varint64(&body, m.parts.size());
  for (const PartFileEntry& p : m.parts) {
    coding::put_varint64(&body, p.month);
    coding::put_varint64(&body, p.file_number);
    coding::put_varint64(&body, p.rows);
    coding::put_varint64(&body, p.bytes);
  }
  coding::put_varint64(&body, m.dictionary_segments.size());
  for (const DictionarySegmentEntry& d : m.dictionary_segments) {
    body.push_back(static_cast<char>(d.column));
    coding::put_varint64(&body, d.file_number);
    coding::put_varint64(&body, d.first_code);
    coding::put_varint64(&body, d.count);
  }
  return frame_file(kMagic, kVersion, body);
}

absl::StatusOr<Manifest> decode_manifest(std::string_view bytes, std::string_view path) {
  auto framed = unframe_file(bytes, kMagic, kVersion, path);
  if (!framed.ok()) return framed.status();
  std::string_view in = framed->body;
  auto loss = [&](std::string_view what) {
    return absl::DataLossError(absl::StrCat(text::absl_view(path), ": ", text::absl_view(what)));
  };
  Manifest m;
  uint64_t parts = 0, segments = 0;
  if (!coding::get_varint64(&in, &m.next_file_number) || !coding::get_varint64(&in, &m.log_number) ||
      !coding::get_varint64(&in, &m.quarantine_number) || !coding::get_varint64(&in, &parts)) {
    return loss("truncated header");
  }
  if (parts > in.size()) return loss("part count exceeds the file");
  m.parts.resize(parts);
  for (PartFileEntry& p : m.parts) {
    uint64_t month;
    if (!coding::get_varint64(&in, &month) || !coding::get_varint64(&in, &p.file_number) ||
        !coding::get_varint64(&in, &p.rows) || !coding::get_varint64(&in, &p.bytes)) {
      return loss("truncated part list");
    }
    if (month % 100 < 1 || month % 100 > 12 || month < 197001 || month > 210512) {
      return loss(absl::StrCat("part ", p.file_number, " has an invalid month ", month));
    }
    p.month = static_cast<uint32_t>(month);
  }
  if (!coding::get_varint64(&in, &segments) || segments > in.size()) return loss("truncated dictionary list");
  std::array<uint64_t, kColumns> next_code{};
  m.dictionary_segments.resize(segments);
  for (DictionarySegmentEntry& d : m.dictionary_segments) {
    if (in.empty() || static_cast<unsigned char>(in[0]) >= kColumns) return loss("bad dictionary column");
    d.column = static_cast<Column>(in[0]);
    in.remove_prefix(1);
    if (!coding::get_varint64(&in, &d.file_number) || !coding::get_varint64(&in, &d.first_code) ||
        !coding::get_varint64(&in, &d.count)) {
      return loss("truncated dictionary list");
    }
    uint64_t& expected = next_code[static_cast<int>(d.column)];
    if (d.first_code != expected) {
      return loss(absl::StrCat("dictionary segment ", d.file_number, " starts at code ", d.first_code,
                               ", expected ", expected));
    }
    expected += d.count;
  }
  if (!in.empty()) return loss("trailing bytes");
  for (const PartFileEntry& p : m.parts) {
    if (p.file_number >= m.next_file_number) return loss("a part file number is not below next_file_number");
  }
  return m;
}

}  // namespace usagedb::storage
