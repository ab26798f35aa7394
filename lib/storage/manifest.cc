#include "lib/storage/manifest.h"

#include <algorithm>
#include <array>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "lib/storage/framed_file.h"
#include "lib/util/coding.h"
#include "lib/util/text.h"

namespace usagedb::storage {
namespace {

constexpr std::string_view kMagic = "UDBMANIF";
constexpr uint32_t kVersion = 3;  // 2: rollup files; 3: several rollups per month
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
  coding::put_varint64(&body, m.rollups.size());
  for (const RollupFileEntry& r : m.rollups) {
    coding::put_varint64(&body, r.month);
    coding::put_varint64(&body, r.file_number);
    coding::put_varint64(&body, r.parts.size());
    for (const uint64_t id : r.parts) coding::put_varint64(&body, id);
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
    d.column = static_cast<DictionaryColumn>(in[0]);
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
  if (framed->version >= 2) {
    uint64_t rollups = 0;
    if (!coding::get_varint64(&in, &rollups) || rollups > in.size()) return loss("truncated rollup list");
    m.rollups.resize(rollups);
    for (RollupFileEntry& r : m.rollups) {
      uint64_t month = 0, covered = 0;
      if (!coding::get_varint64(&in, &month) || !coding::get_varint64(&in, &r.file_number) ||
          !coding::get_varint64(&in, &covered) || covered == 0 || covered > in.size()) {
        return loss("truncated rollup list");
      }
      r.month = static_cast<uint32_t>(month);
      r.parts.resize(covered);
      for (uint64_t& id : r.parts) {
        if (!coding::get_varint64(&in, &id)) return loss("truncated rollup list");
      }
    }
  }
  if (!in.empty()) return loss("trailing bytes");
  for (const PartFileEntry& p : m.parts) {
    if (p.file_number >= m.next_file_number) return loss("a part file number is not below next_file_number");
  }
  for (size_t i = 0; i < m.rollups.size(); ++i) {
    const RollupFileEntry& r = m.rollups[i];
    if (r.file_number >= m.next_file_number) return loss("a rollup file number is not below next_file_number");
    if (i > 0 && (framed->version >= 3 ? m.rollups[i - 1].month > r.month : m.rollups[i - 1].month >= r.month)) {
      return loss("rollups out of month order");
    }
    for (size_t k = 0; k < r.parts.size(); ++k) {
      const uint64_t id = r.parts[k];
      if (k > 0 && r.parts[k - 1] >= id) return loss(absl::StrCat("rollup ", r.file_number, ": parts out of order"));
      const bool listed = std::any_of(m.parts.begin(), m.parts.end(), [&](const PartFileEntry& p) {
        return p.file_number == id && p.month == r.month;
      });
      if (!listed) {
        return loss(absl::StrCat("rollup ", r.file_number, " covers part ", id, ", not a part of month ", r.month));
      }
    }
  }
  std::vector<uint64_t> covered;
  for (const RollupFileEntry& r : m.rollups) covered.insert(covered.end(), r.parts.begin(), r.parts.end());
  std::sort(covered.begin(), covered.end());
  if (auto twice = std::adjacent_find(covered.begin(), covered.end()); twice != covered.end()) {
    return loss(absl::StrCat("part ", *twice, " is covered by two rollups"));
  }
  return m;
}

}  // namespace usagedb::storage
