#include "lib/storage/event_codec.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "lib/ingest/validate.h"
#include "lib/util/coding.h"
#include "lib/util/text.h"

namespace usagedb::storage {
namespace {

void encode_one(const Event& e, std::string* out) {
  coding::put_varint64(out, static_cast<uint64_t>(e.timestamp.time_since_epoch().count()));
  for (std::string_view s : {e.event_id, e.user_id, e.feature_id, e.product_version, e.event_type, e.session_id,
                             e.metadata}) {
    coding::put_length_prefixed(out, s);
  }
}

absl::Status loss(std::string_view where, std::string_view what) {
  return absl::DataLossError(absl::StrCat(text::absl_view(where), ": ", text::absl_view(what)));
}

}  // namespace

void encode_events(std::span<const Event> events, uint64_t first_sequence, std::string* out) {
  out->push_back('\0');
  coding::put_fixed64(out, first_sequence);
  coding::put_varint64(out, events.size());
  for (const Event& e : events) encode_one(e, out);
}

void encode_events(std::span<const Event* const> events, uint64_t first_sequence, std::string* out) {
  out->push_back('\0');
  coding::put_fixed64(out, first_sequence);
  coding::put_varint64(out, events.size());
  for (const Event* e : events) encode_one(*e, out);
}

void set_first_sequence(uint64_t first_sequence, std::string* record) {
  coding::encode_fixed64(record->data() + 1, first_sequence);
}

absl::StatusOr<DecodedEvents> decode_events(std::string_view bytes, std::string_view where) {
  DecodedEvents decoded;
  if (!bytes.empty() && bytes.front() == '\0') {
    bytes.remove_prefix(1);
    uint64_t first;
    if (!coding::get_fixed64(&bytes, &first)) return loss(where, "bad first sequence number");
    decoded.first_sequence = first;
  }
  uint64_t count;
  if (!coding::get_varint64(&bytes, &count) || count > bytes.size() || count == 0) {
    return loss(where, "bad event count");
  }
  if (decoded.first_sequence && count > ~uint64_t{0} - *decoded.first_sequence) {
    return loss(where, "sequence numbers past 2^64 - 1");
  }
  std::vector<Event>& events = decoded.events;
  events.resize(count);
  for (uint64_t i = 0; i < count; ++i) {
    Event& e = events[i];
    uint64_t seconds;
    if (!coding::get_varint64(&bytes, &seconds) || seconds > static_cast<uint64_t>(INT64_MAX)) {
      return loss(where, absl::StrCat("event ", i, ": bad timestamp"));
    }
    e.timestamp = Timestamp{std::chrono::seconds{static_cast<int64_t>(seconds)}};
    for (std::string_view* s : {&e.event_id, &e.user_id, &e.feature_id, &e.product_version, &e.event_type,
                                &e.session_id, &e.metadata}) {
      if (!coding::get_length_prefixed(&bytes, s)) return loss(where, absl::StrCat("event ", i, ": truncated"));
    }
    if (auto err = validate_event(e)) {
      return loss(where, absl::StrCat("event ", i, ": ", text::absl_view(err->column), " ", err->message));
    }
  }
  if (!bytes.empty()) return loss(where, "trailing bytes after the events");
  return decoded;
}

void encode_quarantined_row(const QuarantinedRow& row, std::string* out) {
  coding::put_varint64(out, row.line);
  coding::put_varint64(out, static_cast<uint64_t>(row.inserted_at.time_since_epoch().count()));
  coding::put_length_prefixed(out, row.source);
  coding::put_length_prefixed(out, row.raw);
  coding::put_length_prefixed(out, row.error);
  coding::put_varint64(out, row.columns.size());
  for (const std::string& c : row.columns) coding::put_length_prefixed(out, c);
}

absl::StatusOr<QuarantinedRow> decode_quarantined_row(std::string_view bytes, std::string_view where) {
  QuarantinedRow row;
  uint64_t inserted_at, columns;
  std::string_view source, raw, error;
  if (!coding::get_varint64(&bytes, &row.line) || !coding::get_varint64(&bytes, &inserted_at) ||
      !coding::get_length_prefixed(&bytes, &source) || !coding::get_length_prefixed(&bytes, &raw) ||
      !coding::get_length_prefixed(&bytes, &error) || !coding::get_varint64(&bytes, &columns) ||
      columns > bytes.size() || inserted_at > static_cast<uint64_t>(INT64_MAX)) {
    return loss(where, "malformed quarantined row");
  }
  row.inserted_at = Timestamp{std::chrono::seconds{static_cast<int64_t>(inserted_at)}};
  row.source = std::string(source);
  row.raw = std::string(raw);
  row.error = std::string(error);
  for (uint64_t i = 0; i < columns; ++i) {
    std::string_view c;
    if (!coding::get_length_prefixed(&bytes, &c)) return loss(where, "malformed quarantined row columns");
    row.columns.emplace_back(c);
  }
  if (!bytes.empty()) return loss(where, "trailing bytes after the quarantined row");
  return row;
}

}  // namespace usagedb::storage
