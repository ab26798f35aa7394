#include "lib/storage/rollup_file.h"

#include <algorithm>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "lib/storage/framed_file.h"
#include "lib/storage/int_codec.h"
#include "lib/util/coding.h"
#include "lib/util/hash.h"
#include "lib/util/compression.h"
#include "lib/util/status_macros.h"
#include "lib/util/text.h"

namespace usagedb::storage {
namespace {

constexpr std::string_view kMagic = "UDBROLUP";
// 1: summary, user entries, feature timeline. 2: also the version timeline
// and the metadata counts (both read as absent from a version 1 file).
// 3: the same contents in sections, each compressed and checksummed on its
// own behind a directory, so that a reader reads only what it needs.
constexpr uint32_t kVersion = kRollupFileVersion;
constexpr uint32_t kLastWholeVersion = 2;
// Magic, version, header size.
constexpr size_t kPrefixBytes = 16;
// What open_rollup() reads first: the directory of any real file.
constexpr size_t kFirstRead = 4096;

constexpr uint32_t bit(RollupSection s) { return 1u << static_cast<int>(s); }
// The sections every version 3 file has.
constexpr uint32_t kRequiredSections = bit(RollupSection::kGroups) | bit(RollupSection::kSummaryBitmaps) |
                                       bit(RollupSection::kUserEntries) | bit(RollupSection::kHour) |
                                       bit(RollupSection::kDay) | bit(RollupSection::kWeek) |
                                       bit(RollupSection::kMonth);

void put_bitmap(std::string* out, const Bitmap& b) {
  const size_t n = b.serialized_size();
  coding::put_varint64(out, n);
  const size_t at = out->size();
  out->resize(at + n);
  b.serialize(out->data() + at);
}

absl::StatusOr<Bitmap> read_bitmap(std::string_view bytes, uint64_t limit) {
  USAGEDB_ASSIGN_OR_RETURN(Bitmap b, Bitmap::deserialize(bytes));
  USAGEDB_ASSIGN_OR_RETURN(const uint64_t n, b.validate(limit));
  if (n == 0) return absl::DataLossError("empty bitmap");
  b.seal();
  return b;
}

// A timeline level: the cells' buckets, keys, events and user counts, then
// the users of each cell as gaps.
void encode_level(const TimelineLevel& level, std::string* body) {
  std::vector<uint32_t> buckets, features, users_per_cell;
  std::string events;
  for (const TimelineCell& c : level.cells) {
    buckets.push_back(c.bucket);
    features.push_back(c.feature);
    coding::put_varint64(&events, c.events);
    users_per_cell.push_back(c.users_end - c.users_begin);
  }
  // Each cell's users ascend: their gaps pack into far fewer bits.
  std::vector<uint32_t> gaps(level.user_codes.size());
  for (const TimelineCell& c : level.cells) {
    for (uint32_t i = c.users_begin; i < c.users_end; ++i) {
      gaps[i] = i == c.users_begin ? level.user_codes[i] : level.user_codes[i] - level.user_codes[i - 1];
    }
  }
  coding::put_varint64(body, level.cells.size());
  encode_ascending(buckets, body);
  encode_for(features, body);
  body->append(events);
  encode_for(users_per_cell, body);
  encode_for(gaps, body);
}

// ---- Encoding ----------------------------------------------------------

void encode_groups(const PartitionRollup& r, std::string* body) {
  coding::put_varint64(body, r.groups());
  for (uint32_t i = 0; i < r.groups(); ++i) {
    const FvCell& c = r.group(i);
    coding::put_varint64(body, c.feature);
    coding::put_varint64(body, c.version);
    coding::put_varint64(body, c.events);
    coding::put_varint64(body, c.first);
    coding::put_varint64(body, c.last - c.first);
  }
}

void encode_summary_bitmaps(const PartitionRollup& r, std::string* body) {
  coding::put_varint64(body, r.summary().size());
  for (const FvCell& c : r.summary()) {
    put_bitmap(body, c.users);
    put_bitmap(body, c.sessions);
  }
}

// Users in code order, each with its entries.
void encode_entries(const PartitionRollup& r, std::string* body) {
  const std::vector<uint32_t> users = r.users();
  std::vector<uint32_t> counts, cells, firsts, spans;
  counts.reserve(users.size());
  std::string entry_counts;
  for (const uint32_t user : users) {
    const std::span<const UserEntry> entries = r.user(user);
    counts.push_back(static_cast<uint32_t>(entries.size()));
    for (const UserEntry& e : entries) {
      cells.push_back(e.group);
      coding::put_varint64(&entry_counts, r.count(e));
      firsts.push_back(e.first);
      spans.push_back(e.last - e.first);
    }
  }
  coding::put_varint64(body, users.size());
  encode_ascending(users, body);
  encode_for(counts, body);
  encode_for(cells, body);
  body->append(entry_counts);
  encode_for(firsts, body);
  encode_for(spans, body);
}

void encode_versions(const VersionTimeline& v, std::string* body) {
  for (int g = 0; g < 4; ++g) encode_level(v.versions[g], body);
  for (int g = 0; g < 4; ++g) encode_level(v.active[g], body);
}

void encode_metadata(const MetadataCounts& m, std::string* body) {
  coding::put_varint64(body, m.values.size());
  for (const std::string& value : m.values) coding::put_length_prefixed(body, value);
  for (const std::vector<MetadataCell>* cells : {&m.cells, &m.totals}) {
    coding::put_varint64(body, cells->size());
    for (const MetadataCell& c : *cells) {
      coding::put_varint64(body, c.value);
      coding::put_varint64(body, c.feature);
      coding::put_varint64(body, c.events);
      put_bitmap(body, c.users);
    }
  }
}

void encode_header_start(const PartitionRollup& r, std::span<const uint64_t> covered, std::string* body) {
  coding::put_varint64(body, r.month());
  coding::put_varint64(body, r.rows());
  coding::put_varint64(body, covered.size());
  uint64_t previous = 0;
  for (const uint64_t id : covered) {
    coding::put_varint64(body, id - previous);
    previous = id;
  }
}

// Version 2: one zstd frame of everything, framed whole.
std::string encode_whole(const PartitionRollup& r, std::span<const uint64_t> covered) {
  std::string body;
  encode_header_start(r, covered, &body);
  coding::put_varint64(&body, r.summary().size());
  for (const FvCell& c : r.summary()) {
    coding::put_varint64(&body, c.feature);
    coding::put_varint64(&body, c.version);
    coding::put_varint64(&body, c.events);
    coding::put_varint64(&body, c.first);
    coding::put_varint64(&body, c.last - c.first);
    put_bitmap(&body, c.users);
    put_bitmap(&body, c.sessions);
  }
  encode_entries(r, &body);
  for (const Granularity g : {Granularity::kHour, Granularity::kDay, Granularity::kWeek, Granularity::kMonth}) {
    encode_level(r.timeline(g), &body);
  }
  if (const VersionTimeline* v = r.versions()) {
    body.push_back(1);
    encode_versions(*v, &body);
  } else {
    body.push_back(0);
  }
  if (const MetadataCounts* m = r.metadata()) {
    body.push_back(1);
    encode_metadata(*m, &body);
  } else {
    body.push_back(0);
  }
  std::string packed;
  coding::put_varint64(&packed, body.size());
  compression::compress(body, 1, &packed);
  return frame_file(kMagic, kLastWholeVersion, packed);
}

// ---- Decoding ----------------------------------------------------------

// Decodes the sections of one file; every error is a DataLossError naming
// the file and the section.
class SectionDecoder {
 public:
  SectionDecoder(std::string_view path, const RollupExpectation& expect) : path_(path), expect_(expect) {}

  void start(std::string_view section, std::string_view bytes) {
    section_ = section;
    in_ = bytes;
  }
  std::string_view& in() { return in_; }
  const RollupExpectation& expect() const { return expect_; }

  absl::Status loss(std::string_view what) const {
    if (section_.empty()) return absl::DataLossError(absl::StrCat(text::absl_view(path_), ": ", text::absl_view(what)));
    return absl::DataLossError(absl::StrCat(text::absl_view(path_), ": ", text::absl_view(section_), ": ",
                                            text::absl_view(what)));
  }
  absl::Status at(std::string_view what, const absl::Status& s) const {
    return loss(absl::StrCat(text::absl_view(what), ": ", std::string(s.message())));
  }
  absl::Status finished() const { return in_.empty() ? absl::OkStatus() : loss("trailing bytes"); }

  // A count of items that each take a row (or less) of the rollup.
  bool get_count(uint64_t* n) { return coding::get_varint64(&in_, n) && *n <= expect_.rows; }
  // `count` int_codec values, each below `limit`; the error names `what`.
  absl::Status get_ints(std::string_view what, IntEncoding encoding, uint64_t count, uint64_t limit,
                        std::vector<uint32_t>* out) {
    absl::Status s = decode_ints(encoding, &in_, count, limit, out);
    return s.ok() ? s : at(what, s);
  }

  // One summary cell's key and counts; `c`'s bitmaps are left as they are.
  absl::Status group(FvCell* c) {
    uint64_t feature, version, events, first, span;
    if (!coding::get_varint64(&in_, &feature) || !coding::get_varint64(&in_, &version) ||
        !coding::get_varint64(&in_, &events) || !coding::get_varint64(&in_, &first) ||
        !coding::get_varint64(&in_, &span)) {
      return loss("truncated summary");
    }
    if (feature >= expect_.features || version >= expect_.versions) return loss("summary code out of range");
    if (first + span > UINT32_MAX || events == 0 || events > expect_.rows) return loss("bad summary cell");
    c->feature = static_cast<uint32_t>(feature);
    c->version = static_cast<uint32_t>(version);
    c->events = events;
    c->first = static_cast<uint32_t>(first);
    c->last = static_cast<uint32_t>(first + span);
    return absl::OkStatus();
  }
  absl::Status in_order(const std::vector<FvCell>& cells) const {
    for (size_t i = 1; i < cells.size(); ++i) {
      if (std::pair(cells[i - 1].feature, cells[i - 1].version) >= std::pair(cells[i].feature, cells[i].version)) {
        return loss("summary cells out of order");
      }
    }
    return absl::OkStatus();
  }
  absl::Status bitmaps(Bitmap* users, Bitmap* sessions) {
    std::string_view u, s;
    if (!coding::get_length_prefixed(&in_, &u) || !coding::get_length_prefixed(&in_, &s)) {
      return loss("truncated summary bitmaps");
    }
    absl::StatusOr<Bitmap> bitmap = read_bitmap(u, expect_.users);
    if (!bitmap.ok()) return at("summary users", bitmap.status());
    *users = std::move(bitmap).value();
    bitmap = read_bitmap(s, expect_.sessions);
    if (!bitmap.ok()) return at("summary sessions", bitmap.status());
    *sessions = std::move(bitmap).value();
    return absl::OkStatus();
  }

  // Version 2's summary: each cell with its bitmaps.
  absl::Status summary_whole(RollupContents& r) {
    uint64_t cells = 0;
    if (!get_count(&cells)) return loss("bad summary cell count");
    r.summary.resize(cells);
    for (FvCell& c : r.summary) {
      USAGEDB_RETURN_IF_ERROR(group(&c));
      USAGEDB_RETURN_IF_ERROR(bitmaps(&c.users, &c.sessions));
    }
    return in_order(r.summary);
  }
  absl::Status groups(RollupContents& r) {
    uint64_t cells = 0;
    if (!get_count(&cells)) return loss("bad summary cell count");
    r.summary.resize(cells);
    for (FvCell& c : r.summary) USAGEDB_RETURN_IF_ERROR(group(&c));
    return in_order(r.summary);
  }
  // `groups`: the number of summary cells.
  absl::Status summary_bitmaps(uint64_t groups, RollupContents& r) {
    uint64_t cells = 0;
    if (!coding::get_varint64(&in_, &cells) || cells != groups) return loss("not one pair of bitmaps per cell");
    r.summary_users.resize(cells);
    r.summary_sessions.resize(cells);
    for (uint64_t i = 0; i < cells; ++i) USAGEDB_RETURN_IF_ERROR(bitmaps(&r.summary_users[i], &r.summary_sessions[i]));
    return absl::OkStatus();
  }

  // `groups`: the number of summary cells.
  absl::Status entries(uint64_t groups, RollupContents& r) {
    uint64_t users = 0;
    if (!get_count(&users) || users > expect_.users) return loss("bad user count");
    USAGEDB_RETURN_IF_ERROR(get_ints("user codes", IntEncoding::kDeltaFor, users, expect_.users, &r.users));
    USAGEDB_RETURN_IF_ERROR(
        get_ints("user entry counts", IntEncoding::kFor, users, expect_.rows + 1, &r.entries_per_user));
    uint64_t entries = 0;
    for (const uint32_t n : r.entries_per_user) entries += n;
    if (entries > expect_.rows) return loss("more user entries than rows");
    USAGEDB_RETURN_IF_ERROR(get_ints("user entry cells", IntEncoding::kFor, entries, groups, &r.entry_groups));
    r.entry_counts.resize(entries);
    for (uint64_t& n : r.entry_counts) {
      if (!coding::get_varint64(&in_, &n) || n == 0 || n > expect_.rows) return loss("bad user entry count");
    }
    USAGEDB_RETURN_IF_ERROR(get_ints("user entry firsts", IntEncoding::kFor, entries, kNoLimit, &r.entry_firsts));
    // The file holds last - first: the lasts are made in place.
    USAGEDB_RETURN_IF_ERROR(get_ints("user entry lasts", IntEncoding::kFor, entries, kNoLimit, &r.entry_lasts));
    size_t e = 0;
    for (size_t u = 0; u < users; ++u) {
      if (r.entries_per_user[u] == 0 || (u > 0 && r.users[u] <= r.users[u - 1])) return loss("bad user list");
      for (uint32_t k = 0; k < r.entries_per_user[u]; ++k, ++e) {
        if (k > 0 && r.entry_groups[e] <= r.entry_groups[e - 1]) return loss("user entries out of order");
        if (static_cast<uint64_t>(r.entry_firsts[e]) + r.entry_lasts[e] > UINT32_MAX) return loss("bad user entry");
        r.entry_lasts[e] += r.entry_firsts[e];
      }
    }
    return absl::OkStatus();
  }

  // A timeline level whose cell keys are below `keys`.
  absl::Status level(uint64_t keys, TimelineLevel& level) {
    uint64_t n = 0;
    if (!get_count(&n)) return loss("bad timeline cell count");
    std::vector<uint32_t> buckets, features, users_per_cell;
    USAGEDB_RETURN_IF_ERROR(get_ints("timeline buckets", IntEncoding::kDeltaFor, n, kNoLimit, &buckets));
    USAGEDB_RETURN_IF_ERROR(get_ints("timeline keys", IntEncoding::kFor, n, keys, &features));
    level.cells.resize(n);
    for (TimelineCell& c : level.cells) {
      if (!coding::get_varint64(&in_, &c.events) || c.events == 0 || c.events > expect_.rows) {
        return loss("bad timeline events");
      }
    }
    USAGEDB_RETURN_IF_ERROR(
        get_ints("timeline user counts", IntEncoding::kFor, n, expect_.users + 1, &users_per_cell));
    uint64_t total = 0;
    for (size_t i = 0; i < n; ++i) {
      TimelineCell& c = level.cells[i];
      c.bucket = buckets[i];
      c.feature = features[i];
      if (i > 0 && c.bucket == level.cells[i - 1].bucket && c.feature <= level.cells[i - 1].feature) {
        return loss("timeline cells out of order");
      }
      if (users_per_cell[i] == 0) return loss("timeline cell without users");
      c.users_begin = static_cast<uint32_t>(total);
      total += users_per_cell[i];
      if (total > expect_.rows) return loss("more timeline users than rows");
      c.users_end = static_cast<uint32_t>(total);
    }
    USAGEDB_RETURN_IF_ERROR(get_ints("timeline users", IntEncoding::kFor, total, expect_.users, &level.user_codes));
    for (const TimelineCell& c : level.cells) {
      for (uint32_t i = c.users_begin + 1; i < c.users_end; ++i) {
        const uint64_t user = uint64_t{level.user_codes[i - 1]} + level.user_codes[i];
        if (level.user_codes[i] == 0 || user >= expect_.users) return loss("bad timeline users");
        level.user_codes[i] = static_cast<uint32_t>(user);
      }
    }
    return absl::OkStatus();
  }

  absl::Status versions(RollupContents& r) {
    VersionTimeline& v = r.versions.emplace();
    for (TimelineLevel& l : v.versions) USAGEDB_RETURN_IF_ERROR(level(expect_.versions, l));
    // The active cells are keyed 0: one per bucket.
    for (TimelineLevel& l : v.active) USAGEDB_RETURN_IF_ERROR(level(1, l));
    return absl::OkStatus();
  }

  absl::Status metadata(RollupContents& r) {
    MetadataCounts& m = r.metadata.emplace();
    uint64_t values = 0;
    if (!coding::get_varint64(&in_, &values) || values > MetadataCounts::kMaxValues || values > expect_.rows) {
      return loss("bad metadata value count");
    }
    m.values.reserve(values);
    for (uint64_t i = 0; i < values; ++i) {
      std::string_view value;
      if (!coding::get_length_prefixed(&in_, &value)) return loss("truncated metadata values");
      m.values.emplace_back(value);
    }
    for (std::vector<MetadataCell>* cells : {&m.cells, &m.totals}) {
      uint64_t n = 0;
      if (!get_count(&n)) return loss("bad metadata cell count");
      cells->reserve(n);
      for (uint64_t i = 0; i < n; ++i) {
        uint64_t value, feature, events;
        std::string_view users;
        if (!coding::get_varint64(&in_, &value) || !coding::get_varint64(&in_, &feature) ||
            !coding::get_varint64(&in_, &events) || !coding::get_length_prefixed(&in_, &users)) {
          return loss("truncated metadata cells");
        }
        const bool totals = cells == &m.totals;
        if (value >= values || (totals ? feature != 0 : feature >= expect_.features) || events == 0 ||
            events > expect_.rows) {
          return loss("bad metadata cell");
        }
        if (!cells->empty() &&
            std::pair<uint64_t, uint64_t>(cells->back().value, cells->back().feature) >= std::pair(value, feature)) {
          return loss("metadata cells out of order");
        }
        absl::StatusOr<Bitmap> bitmap = read_bitmap(users, expect_.users);
        if (!bitmap.ok()) return at("metadata users", bitmap.status());
        cells->push_back(MetadataCell{static_cast<uint32_t>(value), static_cast<uint32_t>(feature), events,
                                      std::move(bitmap).value()});
      }
    }
    if (m.totals.size() != values) return loss("metadata totals do not match the values");
    return absl::OkStatus();
  }

  // One version 3 section's decoded bytes into `r`.
  absl::Status section(RollupSection s, uint64_t groups, RollupContents& r) {
    switch (s) {
      case RollupSection::kGroups: USAGEDB_RETURN_IF_ERROR(this->groups(r)); break;
      case RollupSection::kSummaryBitmaps: USAGEDB_RETURN_IF_ERROR(summary_bitmaps(groups, r)); break;
      case RollupSection::kUserEntries: USAGEDB_RETURN_IF_ERROR(entries(groups, r)); break;
      case RollupSection::kHour:
      case RollupSection::kDay:
      case RollupSection::kWeek:
      case RollupSection::kMonth:
        USAGEDB_RETURN_IF_ERROR(
            level(expect_.features, r.timeline[static_cast<int>(s) - static_cast<int>(RollupSection::kHour)]));
        break;
      case RollupSection::kVersions: USAGEDB_RETURN_IF_ERROR(versions(r)); break;
      case RollupSection::kMetadata: USAGEDB_RETURN_IF_ERROR(metadata(r)); break;
    }
    return finished();
  }

 private:
  std::string_view path_;
  const RollupExpectation& expect_;
  std::string_view section_;
  std::string_view in_;
};

// The header of a version 1 or 2 body, and of a version 3 directory:
// month, rows, the covered parts; checked against `expect`.
absl::Status read_header_start(SectionDecoder& d, RollupContents& r) {
  std::string_view& in = d.in();
  uint64_t month = 0, covered = 0;
  if (!coding::get_varint64(&in, &month) || !coding::get_varint64(&in, &r.rows) ||
      !coding::get_varint64(&in, &covered) || covered > in.size()) {
    return d.loss("truncated header");
  }
  if (month % 100 < 1 || month % 100 > 12 || month < 197001 || month > 210512) {
    return d.loss(absl::StrCat("invalid month ", month));
  }
  r.month = static_cast<uint32_t>(month);
  const RollupExpectation& expect = d.expect();
  if (r.rows != expect.rows) return d.loss(absl::StrCat("holds ", r.rows, " rows, its parts ", expect.rows));
  uint64_t id = 0;
  for (uint64_t i = 0; i < covered; ++i) {
    uint64_t delta;
    if (!coding::get_varint64(&in, &delta) || (i > 0 && delta == 0)) return d.loss("bad part list");
    id += delta;
    r.part_ids.push_back(id);
  }
  if (expect.month != 0 && (r.month != expect.month || r.part_ids != expect.parts)) {
    return d.loss("not the month and parts the MANIFEST names");
  }
  return absl::OkStatus();
}

// A version 1 or 2 file, decoded whole.
absl::StatusOr<RollupContents> decode_whole(std::string_view bytes, std::string_view path,
                                            const RollupExpectation& expect) {
  USAGEDB_ASSIGN_OR_RETURN(FramedBody framed, unframe_file(bytes, kMagic, kLastWholeVersion, path));
  // A version 1 or 2 file's errors name the file only, as they did.
  SectionDecoder d(path, expect);
  d.start("", framed.body);
  std::string_view packed = framed.body;
  uint64_t size = 0;
  // No valid body is larger (~150 bytes per row when every row is a group
  // and a cell of its own at every grain): a bound on what a damaged size
  // may allocate.
  if (!coding::get_varint64(&packed, &size) || size > 256 * expect.rows + (1 << 20)) return d.loss("bad body size");
  std::string body;
  if (absl::Status s = compression::decompress(packed, size, &body); !s.ok()) return d.at("body", s);
  d.start("", body);
  RollupContents r;
  USAGEDB_RETURN_IF_ERROR(read_header_start(d, r));
  USAGEDB_RETURN_IF_ERROR(d.summary_whole(r));
  USAGEDB_RETURN_IF_ERROR(d.entries(r.summary.size(), r));
  for (TimelineLevel& level : r.timeline) USAGEDB_RETURN_IF_ERROR(d.level(expect.features, level));
  std::string_view& in = d.in();
  // A presence byte: 0 or 1.
  const auto present = [&](std::string_view what) -> absl::StatusOr<bool> {
    if (in.empty() || static_cast<unsigned char>(in[0]) > 1) {
      return d.loss(absl::StrCat("bad ", text::absl_view(what), " marker"));
    }
    const bool yes = in[0] == 1;
    in.remove_prefix(1);
    return yes;
  };
  if (framed.version >= 2) {
    USAGEDB_ASSIGN_OR_RETURN(const bool has_versions, present("version timeline"));
    if (has_versions) USAGEDB_RETURN_IF_ERROR(d.versions(r));
    USAGEDB_ASSIGN_OR_RETURN(const bool has_metadata, present("metadata counts"));
    if (has_metadata) USAGEDB_RETURN_IF_ERROR(d.metadata(r));
  }
  USAGEDB_RETURN_IF_ERROR(d.finished());
  return r;
}

// A version 3 file's directory entry.
struct SectionEntry {
  uint64_t offset = 0;  // from the end of the directory
  uint64_t size = 0;    // stored (compressed) bytes
  uint64_t raw = 0;     // decompressed bytes
  uint64_t checksum = 0;
  bool present = false;
};

struct Directory {
  RollupContents head;  // month, rows, part_ids
  SectionEntry sections[kRollupSections];
  uint64_t data_start = 0;  // file offset of the first section
};

// The directory of a version 3 file from its first bytes (`prefix`, at
// least kPrefixBytes + the header size + 8); `file_size`: the whole file's.
absl::StatusOr<Directory> read_directory(std::string_view prefix, uint64_t file_size, std::string_view path,
                                         const RollupExpectation& expect) {
  SectionDecoder d(path, expect);
  d.start("directory", {});
  if (prefix.size() < kPrefixBytes) return d.loss("truncated");
  const uint64_t header_size = coding::decode_fixed32(prefix.data() + 12);
  if (prefix.size() < kPrefixBytes + header_size + 8) return d.loss("truncated");
  const std::string_view covered = prefix.substr(0, kPrefixBytes + header_size);
  if (hash::checksum(covered) != coding::decode_fixed64(prefix.data() + covered.size())) {
    return d.loss("checksum mismatch");
  }
  Directory dir;
  dir.data_start = covered.size() + 8;
  d.start("directory", covered.substr(kPrefixBytes));
  USAGEDB_RETURN_IF_ERROR(read_header_start(d, dir.head));
  std::string_view& in = d.in();
  uint64_t count = 0;
  if (!coding::get_varint64(&in, &count) || count > kRollupSections) return d.loss("bad section count");
  uint32_t seen = 0;
  uint64_t next = 0;
  // The bound of a body's size in versions 1 and 2, per section.
  const uint64_t max_raw = 256 * expect.rows + (1 << 20);
  for (uint64_t i = 0; i < count; ++i) {
    uint64_t id;
    SectionEntry e;
    e.present = true;
    if (!coding::get_varint64(&in, &id) || !coding::get_varint64(&in, &e.offset) ||
        !coding::get_varint64(&in, &e.size) || !coding::get_varint64(&in, &e.raw) ||
        !coding::get_fixed64(&in, &e.checksum)) {
      return d.loss("truncated");
    }
    if (id >= kRollupSections || (seen & (1u << id))) return d.loss("bad section id");
    if (e.offset != next || e.raw > max_raw) return d.loss("bad section extent");
    next += e.size;
    seen |= 1u << id;
    dir.sections[id] = e;
  }
  USAGEDB_RETURN_IF_ERROR(d.finished());
  if ((seen & kRequiredSections) != kRequiredSections) return d.loss("a section is missing");
  if (dir.data_start + next != file_size) {
    return d.loss(absl::StrCat("the sections end at byte ", dir.data_start + next, ", the file at ", file_size));
  }
  return dir;
}

// A version 3 section's bytes (`stored`, as in the file) decoded into `r`.
absl::Status decode_section(RollupSection s, const SectionEntry& e, std::string_view stored, uint64_t groups,
                            std::string_view path, const RollupExpectation& expect, RollupContents& r) {
  SectionDecoder d(path, expect);
  d.start(rollup_section_name(s), {});
  if (stored.size() != e.size) return d.loss("truncated");
  if (hash::checksum(stored) != e.checksum) return d.loss("checksum mismatch");
  std::string raw;
  if (absl::Status st = compression::decompress(stored, e.raw, &raw); !st.ok()) return d.at("body", st);
  d.start(rollup_section_name(s), raw);
  return d.section(s, groups, r);
}

// Reads a version 3 file's sections on first use.
class FileSections : public RollupSource {
 public:
  FileSections(FileSystem* fs, std::string path, RollupExpectation expect, Directory dir)
      : fs_(fs), path_(std::move(path)), expect_(std::move(expect)), dir_(std::move(dir)) {}

  absl::Status read(RollupSection s, RollupContents* into, bool* all) override {
    *all = false;
    const SectionEntry& e = dir_.sections[static_cast<int>(s)];
    if (!e.present) return absl::OkStatus();  // an optional section the file lacks
    absl::StatusOr<std::string> stored = fs_->read_file_range(path_, dir_.data_start + e.offset, e.size);
    if (!stored.ok()) {
      return absl::DataLossError(absl::StrCat(path_, ": ", rollup_section_name(s), ": ", stored.status().message()));
    }
    USAGEDB_RETURN_IF_ERROR(decode_section(s, e, *stored, groups_, path_, expect_, *into));
    if (s == RollupSection::kGroups) groups_ = into->summary.size();
    return absl::OkStatus();
  }

 private:
  FileSystem* const fs_;
  const std::string path_;
  const RollupExpectation expect_;
  const Directory dir_;
  // The summary's cells (read first: PartitionRollup reads kGroups before
  // the sections that index it).
  uint64_t groups_ = 0;
};

// Reads a version 1 or 2 file whole, on first use.
class WholeFile : public RollupSource {
 public:
  WholeFile(FileSystem* fs, std::string path, RollupExpectation expect)
      : fs_(fs), path_(std::move(path)), expect_(std::move(expect)) {}

  absl::Status read(RollupSection, RollupContents* into, bool* all) override {
    *all = true;
    absl::StatusOr<std::string> bytes = fs_->read_file(path_);
    if (!bytes.ok()) return absl::DataLossError(absl::StrCat(path_, ": ", bytes.status().message()));
    USAGEDB_ASSIGN_OR_RETURN(*into, decode_whole(*bytes, path_, expect_));
    // What restore() takes in the cells, PartitionRollup::take_sections()
    // takes beside them.
    for (FvCell& c : into->summary) {
      into->summary_users.push_back(std::move(c.users));
      into->summary_sessions.push_back(std::move(c.sessions));
    }
    return absl::OkStatus();
  }

 private:
  FileSystem* const fs_;
  const std::string path_;
  const RollupExpectation expect_;
};

}  // namespace

std::string encode_rollup(const PartitionRollup& r, std::span<const uint64_t> covered, uint32_t version) {
  if (version <= kLastWholeVersion) return encode_whole(r, covered);
  // Each section compressed on its own (zstd level 1: on a 1M-row month,
  // BM_EncodeRollup, 9.2 MB become 6.9 MB for 37 ms more; level 3 gives
  // 6.8 MB for 96 ms more, and a checkpoint writes a rollup per part).
  std::string data, directory, raw;
  int count = 0;
  for (int s = 0; s < kRollupSections; ++s) {
    raw.clear();
    switch (static_cast<RollupSection>(s)) {
      case RollupSection::kGroups: encode_groups(r, &raw); break;
      case RollupSection::kSummaryBitmaps: encode_summary_bitmaps(r, &raw); break;
      case RollupSection::kUserEntries: encode_entries(r, &raw); break;
      case RollupSection::kHour: encode_level(r.timeline(Granularity::kHour), &raw); break;
      case RollupSection::kDay: encode_level(r.timeline(Granularity::kDay), &raw); break;
      case RollupSection::kWeek: encode_level(r.timeline(Granularity::kWeek), &raw); break;
      case RollupSection::kMonth: encode_level(r.timeline(Granularity::kMonth), &raw); break;
      case RollupSection::kVersions:
        if (r.versions() == nullptr) continue;
        encode_versions(*r.versions(), &raw);
        break;
      case RollupSection::kMetadata:
        if (r.metadata() == nullptr) continue;
        encode_metadata(*r.metadata(), &raw);
        break;
    }
    const size_t offset = data.size();
    compression::compress(raw, 1, &data);
    const std::string_view stored = std::string_view(data).substr(offset);
    coding::put_varint64(&directory, s);
    coding::put_varint64(&directory, offset);
    coding::put_varint64(&directory, stored.size());
    coding::put_varint64(&directory, raw.size());
    coding::put_fixed64(&directory, hash::checksum(stored));
    ++count;
  }
  std::string header;
  encode_header_start(r, covered, &header);
  coding::put_varint64(&header, count);
  header.append(directory);
  std::string out(kMagic);
  coding::put_fixed32(&out, kVersion);
  coding::put_fixed32(&out, static_cast<uint32_t>(header.size()));
  out.append(header);
  coding::put_fixed64(&out, hash::checksum(out));
  out.append(data);
  return out;
}

absl::StatusOr<std::shared_ptr<const PartitionRollup>> decode_rollup(std::string_view bytes, std::string_view path,
                                                                     const RollupExpectation& expect) {
  if (bytes.size() < 12 || bytes.substr(0, 8) != kMagic ||
      coding::decode_fixed32(bytes.data() + 8) <= kLastWholeVersion) {
    USAGEDB_ASSIGN_OR_RETURN(RollupContents r, decode_whole(bytes, path, expect));
    return PartitionRollup::restore(std::move(r));
  }
  if (coding::decode_fixed32(bytes.data() + 8) != kVersion) {
    return absl::DataLossError(absl::StrCat(text::absl_view(path), ": unsupported rollup file version ",
                                            coding::decode_fixed32(bytes.data() + 8)));
  }
  USAGEDB_ASSIGN_OR_RETURN(Directory dir, read_directory(bytes, bytes.size(), path, expect));
  RollupContents r = std::move(dir.head);
  uint64_t groups = 0;
  for (int s = 0; s < kRollupSections; ++s) {
    const SectionEntry& e = dir.sections[s];
    if (!e.present) continue;
    USAGEDB_RETURN_IF_ERROR(decode_section(static_cast<RollupSection>(s), e,
                                           bytes.substr(dir.data_start + e.offset, e.size), groups, path, expect, r));
    if (static_cast<RollupSection>(s) == RollupSection::kGroups) groups = r.summary.size();
  }
  for (size_t i = 0; i < r.summary.size(); ++i) {
    r.summary[i].users = std::move(r.summary_users[i]);
    r.summary[i].sessions = std::move(r.summary_sessions[i]);
  }
  return PartitionRollup::restore(std::move(r));
}

absl::StatusOr<std::shared_ptr<const PartitionRollup>> open_rollup(FileSystem* fs, const std::string& path,
                                                                   uint64_t file_number,
                                                                   const RollupExpectation& expect,
                                                                   uint32_t* file_version,
                                                                   std::shared_ptr<PartCache> budget) {
  USAGEDB_ASSIGN_OR_RETURN(const uint64_t size, fs->file_size(path));
  USAGEDB_ASSIGN_OR_RETURN(std::string prefix, fs->read_file_range(path, 0, std::min<uint64_t>(size, kFirstRead)));
  const auto loss = [&](std::string_view what) {
    return absl::DataLossError(absl::StrCat(path, ": ", text::absl_view(what)));
  };
  if (prefix.size() < 12 || std::string_view(prefix).substr(0, 8) != kMagic) return loss("bad magic");
  const uint32_t version = coding::decode_fixed32(prefix.data() + 8);
  *file_version = version;
  if (version <= kLastWholeVersion) {
    // Read whole on first use; its month and parts are the MANIFEST's
    // (checked then).
    return PartitionRollup::lazy(expect.month, expect.rows, expect.parts, file_number,
                                 std::make_unique<WholeFile>(fs, path, expect), std::move(budget));
  }
  if (version != kVersion) return loss(absl::StrCat("unsupported rollup file version ", version));
  if (prefix.size() < kPrefixBytes) return loss("directory: truncated");
  const uint64_t header = coding::decode_fixed32(prefix.data() + 12);
  const uint64_t directory_end = kPrefixBytes + header + 8;
  if (directory_end > size) return loss("directory: truncated");
  if (directory_end > prefix.size()) {
    USAGEDB_ASSIGN_OR_RETURN(prefix, fs->read_file_range(path, 0, directory_end));
  }
  USAGEDB_ASSIGN_OR_RETURN(Directory dir, read_directory(prefix, size, path, expect));
  RollupContents head = std::move(dir.head);
  return PartitionRollup::lazy(head.month, head.rows, head.part_ids, file_number,
                               std::make_unique<FileSections>(fs, path, expect, std::move(dir)), std::move(budget));
}

}  // namespace usagedb::storage
