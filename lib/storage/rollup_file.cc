#include "lib/storage/rollup_file.h"

#include <algorithm>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "lib/storage/framed_file.h"
#include "lib/storage/int_codec.h"
#include "lib/util/coding.h"
#include "lib/util/compression.h"
#include "lib/util/status_macros.h"
#include "lib/util/text.h"

namespace usagedb::storage {
namespace {

constexpr std::string_view kMagic = "UDBROLUP";
// 1: summary, user entries, feature timeline. 2: also the version timeline
// and the metadata counts (both read as absent from a version 1 file).
constexpr uint32_t kVersion = 2;

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

}  // namespace

std::string encode_rollup(const PartitionRollup& r, std::span<const uint64_t> covered) {
  std::string body;
  coding::put_varint64(&body, r.month());
  coding::put_varint64(&body, r.rows());
  coding::put_varint64(&body, covered.size());
  uint64_t previous = 0;
  for (const uint64_t id : covered) {
    coding::put_varint64(&body, id - previous);
    previous = id;
  }
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

  // Users in code order, each with its entries.
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
  coding::put_varint64(&body, users.size());
  encode_ascending(users, &body);
  encode_for(counts, &body);
  encode_for(cells, &body);
  body.append(entry_counts);
  encode_for(firsts, &body);
  encode_for(spans, &body);

  for (const Granularity g : {Granularity::kHour, Granularity::kDay, Granularity::kWeek, Granularity::kMonth}) {
    encode_level(r.timeline(g), &body);
  }
  // Version 2: the version timeline and the metadata counts, each after a
  // presence byte.
  if (const VersionTimeline* v = r.versions()) {
    body.push_back(1);
    for (int g = 0; g < 4; ++g) encode_level(v->versions[g], &body);
    for (int g = 0; g < 4; ++g) encode_level(v->active[g], &body);
  } else {
    body.push_back(0);
  }
  if (const MetadataCounts* m = r.metadata()) {
    body.push_back(1);
    coding::put_varint64(&body, m->values.size());
    for (const std::string& value : m->values) coding::put_length_prefixed(&body, value);
    for (const std::vector<MetadataCell>* cells : {&m->cells, &m->totals}) {
      coding::put_varint64(&body, cells->size());
      for (const MetadataCell& c : *cells) {
        coding::put_varint64(&body, c.value);
        coding::put_varint64(&body, c.feature);
        coding::put_varint64(&body, c.events);
        put_bitmap(&body, c.users);
      }
    }
  } else {
    body.push_back(0);
  }
  // zstd level 1: on a 1M-row month (BM_EncodeRollup) 9.2 MB become
  // 6.9 MB for 37 ms more; level 3 gives 6.8 MB for 96 ms more, and a
  // checkpoint writes a rollup per month it touched.
  std::string packed;
  coding::put_varint64(&packed, body.size());
  compression::compress(body, 1, &packed);
  return frame_file(kMagic, kVersion, packed);
}

absl::StatusOr<std::shared_ptr<const PartitionRollup>> decode_rollup(std::string_view bytes, std::string_view path,
                                                                     const RollupExpectation& expect) {
  USAGEDB_ASSIGN_OR_RETURN(FramedBody framed, unframe_file(bytes, kMagic, kVersion, path));
  const auto loss = [&](std::string_view what) {
    return absl::DataLossError(absl::StrCat(text::absl_view(path), ": ", text::absl_view(what)));
  };
  const auto at = [&](std::string_view what, const absl::Status& s) {
    return absl::DataLossError(
        absl::StrCat(text::absl_view(path), ": ", text::absl_view(what), ": ", std::string(s.message())));
  };
  std::string_view packed = framed.body;
  uint64_t size = 0;
  // No valid body is larger (~150 bytes per row when every row is a group
  // and a cell of its own at every grain): a bound on what a damaged size
  // may allocate.
  if (!coding::get_varint64(&packed, &size) || size > 256 * expect.rows + (1 << 20)) return loss("bad body size");
  std::string body;
  if (absl::Status s = compression::decompress(packed, size, &body); !s.ok()) return at("body", s);
  std::string_view in = body;
  // A count of items that each take a row (or less) of the rollup.
  const auto get_count = [&](uint64_t* n) { return coding::get_varint64(&in, n) && *n <= expect.rows; };
  // `count` int_codec values from `in`, each below `limit`; the error names `what`.
  const auto get_ints = [&](std::string_view what, IntEncoding encoding, uint64_t count, uint64_t limit,
                            std::vector<uint32_t>* out) -> absl::Status {
    absl::Status s = decode_ints(encoding, &in, count, limit, out);
    return s.ok() ? s : at(what, s);
  };

  RollupContents r;
  uint64_t month = 0, covered = 0;
  if (!coding::get_varint64(&in, &month) || !coding::get_varint64(&in, &r.rows) ||
      !coding::get_varint64(&in, &covered) || covered > in.size()) {
    return loss("truncated header");
  }
  if (month % 100 < 1 || month % 100 > 12 || month < 197001 || month > 210512) {
    return loss(absl::StrCat("invalid month ", month));
  }
  r.month = static_cast<uint32_t>(month);
  if (r.rows != expect.rows) {
    return loss(absl::StrCat("holds ", r.rows, " rows, its parts ", expect.rows));
  }
  uint64_t id = 0;
  for (uint64_t i = 0; i < covered; ++i) {
    uint64_t delta;
    if (!coding::get_varint64(&in, &delta) || (i > 0 && delta == 0)) return loss("bad part list");
    id += delta;
    r.part_ids.push_back(id);
  }

  uint64_t cells = 0;
  if (!get_count(&cells)) return loss("bad summary cell count");
  r.summary.reserve(cells);
  for (uint64_t i = 0; i < cells; ++i) {
    uint64_t feature, version, events, first, span;
    std::string_view users, sessions;
    if (!coding::get_varint64(&in, &feature) || !coding::get_varint64(&in, &version) ||
        !coding::get_varint64(&in, &events) || !coding::get_varint64(&in, &first) ||
        !coding::get_varint64(&in, &span) || !coding::get_length_prefixed(&in, &users) ||
        !coding::get_length_prefixed(&in, &sessions)) {
      return loss("truncated summary");
    }
    if (feature >= expect.features || version >= expect.versions) return loss("summary code out of range");
    if (first + span > UINT32_MAX || events == 0 || events > expect.rows) return loss("bad summary cell");
    FvCell c{static_cast<uint32_t>(feature),
             static_cast<uint32_t>(version),
             events,
             static_cast<uint32_t>(first),
             static_cast<uint32_t>(first + span),
             {},
             {}};
    if (!r.summary.empty() &&
        std::pair(r.summary.back().feature, r.summary.back().version) >= std::pair(c.feature, c.version)) {
      return loss("summary cells out of order");
    }
    absl::StatusOr<Bitmap> bitmap = read_bitmap(users, expect.users);
    if (!bitmap.ok()) return at("summary users", bitmap.status());
    c.users = std::move(bitmap).value();
    bitmap = read_bitmap(sessions, expect.sessions);
    if (!bitmap.ok()) return at("summary sessions", bitmap.status());
    c.sessions = std::move(bitmap).value();
    r.summary.push_back(std::move(c));
  }

  uint64_t users = 0;
  if (!get_count(&users) || users > expect.users) return loss("bad user count");
  USAGEDB_RETURN_IF_ERROR(get_ints("user codes", IntEncoding::kDeltaFor, users, expect.users, &r.users));
  USAGEDB_RETURN_IF_ERROR(
      get_ints("user entry counts", IntEncoding::kFor, users, expect.rows + 1, &r.entries_per_user));
  uint64_t entries = 0;
  for (const uint32_t n : r.entries_per_user) entries += n;
  if (entries > expect.rows) return loss("more user entries than rows");
  USAGEDB_RETURN_IF_ERROR(
      get_ints("user entry cells", IntEncoding::kFor, entries, r.summary.size(), &r.entry_groups));
  r.entry_counts.resize(entries);
  for (uint64_t& n : r.entry_counts) {
    if (!coding::get_varint64(&in, &n) || n == 0 || n > expect.rows) return loss("bad user entry count");
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

  // A timeline level whose cell keys are below `keys`.
  const auto decode_level = [&](uint64_t keys, TimelineLevel& level) -> absl::Status {
    uint64_t n = 0;
    if (!get_count(&n)) return loss("bad timeline cell count");
    std::vector<uint32_t> buckets, features, users_per_cell;
    USAGEDB_RETURN_IF_ERROR(get_ints("timeline buckets", IntEncoding::kDeltaFor, n, kNoLimit, &buckets));
    USAGEDB_RETURN_IF_ERROR(get_ints("timeline keys", IntEncoding::kFor, n, keys, &features));
    level.cells.resize(n);
    for (TimelineCell& c : level.cells) {
      if (!coding::get_varint64(&in, &c.events) || c.events == 0 || c.events > expect.rows) {
        return loss("bad timeline events");
      }
    }
    USAGEDB_RETURN_IF_ERROR(
        get_ints("timeline user counts", IntEncoding::kFor, n, expect.users + 1, &users_per_cell));
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
      if (total > expect.rows) return loss("more timeline users than rows");
      c.users_end = static_cast<uint32_t>(total);
    }
    USAGEDB_RETURN_IF_ERROR(get_ints("timeline users", IntEncoding::kFor, total, expect.users, &level.user_codes));
    for (const TimelineCell& c : level.cells) {
      for (uint32_t i = c.users_begin + 1; i < c.users_end; ++i) {
        const uint64_t user = uint64_t{level.user_codes[i - 1]} + level.user_codes[i];
        if (level.user_codes[i] == 0 || user >= expect.users) return loss("bad timeline users");
        level.user_codes[i] = static_cast<uint32_t>(user);
      }
    }
    return absl::OkStatus();
  };
  for (TimelineLevel& level : r.timeline) USAGEDB_RETURN_IF_ERROR(decode_level(expect.features, level));

  // A presence byte: 0 or 1.
  const auto present = [&](std::string_view what) -> absl::StatusOr<bool> {
    if (in.empty() || static_cast<unsigned char>(in[0]) > 1) return loss(absl::StrCat("bad ", text::absl_view(what), " marker"));
    const bool yes = in[0] == 1;
    in.remove_prefix(1);
    return yes;
  };
  if (framed.version >= 2) {
    USAGEDB_ASSIGN_OR_RETURN(const bool has_versions, present("version timeline"));
    if (has_versions) {
      VersionTimeline& v = r.versions.emplace();
      for (TimelineLevel& level : v.versions) USAGEDB_RETURN_IF_ERROR(decode_level(expect.versions, level));
      // The active cells are keyed 0: one per bucket.
      for (TimelineLevel& level : v.active) USAGEDB_RETURN_IF_ERROR(decode_level(1, level));
    }
    USAGEDB_ASSIGN_OR_RETURN(const bool has_metadata, present("metadata counts"));
    if (has_metadata) {
      MetadataCounts& m = r.metadata.emplace();
      uint64_t values = 0;
      if (!coding::get_varint64(&in, &values) || values > MetadataCounts::kMaxValues || values > expect.rows) {
        return loss("bad metadata value count");
      }
      m.values.reserve(values);
      for (uint64_t i = 0; i < values; ++i) {
        std::string_view value;
        if (!coding::get_length_prefixed(&in, &value)) return loss("truncated metadata values");
        m.values.emplace_back(value);
      }
      for (std::vector<MetadataCell>* cells : {&m.cells, &m.totals}) {
        uint64_t n = 0;
        if (!get_count(&n)) return loss("bad metadata cell count");
        cells->reserve(n);
        for (uint64_t i = 0; i < n; ++i) {
          uint64_t value, feature, events;
          std::string_view users;
          if (!coding::get_varint64(&in, &value) || !coding::get_varint64(&in, &feature) ||
              !coding::get_varint64(&in, &events) || !coding::get_length_prefixed(&in, &users)) {
            return loss("truncated metadata cells");
          }
          const bool totals = cells == &m.totals;
          if (value >= values || (totals ? feature != 0 : feature >= expect.features) || events == 0 ||
              events > expect.rows) {
            return loss("bad metadata cell");
          }
          if (!cells->empty() && std::pair<uint64_t, uint64_t>(cells->back().value, cells->back().feature) >=
                                     std::pair(value, feature)) {
            return loss("metadata cells out of order");
          }
          absl::StatusOr<Bitmap> bitmap = read_bitmap(users, expect.users);
          if (!bitmap.ok()) return at("metadata users", bitmap.status());
          cells->push_back(MetadataCell{static_cast<uint32_t>(value), static_cast<uint32_t>(feature), events,
                                        std::move(bitmap).value()});
        }
      }
      if (m.totals.size() != values) return loss("metadata totals do not match the values");
    }
  }
  if (!in.empty()) return loss("trailing bytes");
  return PartitionRollup::restore(std::move(r));
}

}  // namespace usagedb::storage
