#include "lib/storage/summary_file.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "lib/storage/framed_file.h"
#include "lib/util/coding.h"
#include "lib/util/status_macros.h"
#include "lib/util/text.h"

namespace usagedb::storage {
namespace {

constexpr std::string_view kMagic = "UDBSUMRY";
constexpr uint32_t kVersion = 1;

}  // namespace

std::string encode_summary(const StoredSummary& summary) {
  std::string body;
  coding::put_varint64(&body, summary.parts.size());
  uint64_t previous = 0;
  for (const uint64_t id : summary.parts) {
    coding::put_varint64(&body, id - previous);
    previous = id;
  }
  coding::put_varint64(&body, summary.cells.size());
  for (const SummaryCount& c : summary.cells) {
    coding::put_varint64(&body, c.feature);
    coding::put_varint64(&body, c.version);
    coding::put_varint64(&body, c.events);
    coding::put_varint64(&body, c.first);
    coding::put_varint64(&body, c.last - c.first);
    coding::put_varint64(&body, c.users);
    coding::put_varint64(&body, c.sessions);
  }
  return frame_file(kMagic, kVersion, body);
}

absl::StatusOr<StoredSummary> decode_summary(std::string_view bytes, std::string_view path, uint64_t features,
                                             uint64_t versions, uint64_t rows) {
  USAGEDB_ASSIGN_OR_RETURN(FramedBody framed, unframe_file(bytes, kMagic, kVersion, path));
  const auto loss = [&](std::string_view what) {
    return absl::DataLossError(absl::StrCat(text::absl_view(path), ": ", text::absl_view(what)));
  };
  std::string_view in = framed.body;
  StoredSummary s;
  uint64_t parts = 0;
  if (!coding::get_varint64(&in, &parts) || parts > in.size()) return loss("bad part count");
  uint64_t id = 0;
  for (uint64_t i = 0; i < parts; ++i) {
    uint64_t delta;
    if (!coding::get_varint64(&in, &delta) || (i > 0 && delta == 0)) return loss("bad part list");
    id += delta;
    s.parts.push_back(id);
  }
  uint64_t cells = 0;
  if (!coding::get_varint64(&in, &cells) || cells > in.size()) return loss("bad cell count");
  s.cells.reserve(cells);
  for (uint64_t i = 0; i < cells; ++i) {
    uint64_t feature, version, events, first, span, users, sessions;
    if (!coding::get_varint64(&in, &feature) || !coding::get_varint64(&in, &version) ||
        !coding::get_varint64(&in, &events) || !coding::get_varint64(&in, &first) ||
        !coding::get_varint64(&in, &span) || !coding::get_varint64(&in, &users) ||
        !coding::get_varint64(&in, &sessions)) {
      return loss("truncated cells");
    }
    if (feature >= features || version >= versions) return loss("code out of range");
    if (events == 0 || events > rows || users == 0 || users > events || sessions == 0 || sessions > events ||
        first + span > UINT32_MAX) {
      return loss("bad cell");
    }
    SummaryCount c{static_cast<uint32_t>(feature), static_cast<uint32_t>(version), events,
                   static_cast<uint32_t>(first), static_cast<uint32_t>(first + span), users, sessions};
    if (!s.cells.empty() && std::pair(s.cells.back().feature, s.cells.back().version) >= std::pair(c.feature, c.version)) {
      return loss("cells out of order");
    }
    s.cells.push_back(c);
  }
  if (!in.empty()) return loss("trailing bytes");
  return s;
}

}  // namespace usagedb::storage
