#include "lib/ingest/row_builder.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "lib/ingest/validate.h"
#include "lib/util/text.h"

namespace usagedb {
namespace {

constexpr std::string_view kNames[kTableColumns] = {"event_id",   "user_id",   "feature_id", "product_version",
                                                    "event_type", "timestamp", "session_id", "metadata"};

}  // namespace

std::string_view column_name(TableColumn c) { return kNames[static_cast<int>(c)]; }

std::optional<TableColumn> column_by_name(std::string_view name) {
  for (int i = 0; i < kTableColumns; ++i) {
    if (kNames[i] == name) return static_cast<TableColumn>(i);
  }
  return std::nullopt;
}

void RowBuilder::fail(TableColumn c, std::string message) {
  if (failed(c)) return;
  failed_ |= bit(c);
  errors_[static_cast<int>(c)] = std::move(message);
}

void RowBuilder::finish(uint64_t line, std::string_view raw, ParsedBatch* out) {
  ++out->records;
  constexpr uint8_t kRequired = bit(TableColumn::kUserId) | bit(TableColumn::kFeatureId) |
                                bit(TableColumn::kProductVersion) | bit(TableColumn::kEventType) |
                                bit(TableColumn::kTimestamp);
  if (failed_ == 0 && (present_ & kRequired) == kRequired && is_valid_event(event_, utf8_)) {
    out->events.push_back(event_);
    out->event_lines.push_back(line);
    return;
  }
  reject(line, raw, out);
}

void RowBuilder::reject(uint64_t line, std::string_view raw, ParsedBatch* out) {
  for (int i = 0; i < kTableColumns; ++i) {
    const auto c = static_cast<TableColumn>(i);
    if (is_required(c) && (present_ & bit(c)) == 0) fail(c, "missing");
  }
  // validate_event() names only the first column at fault: give each faulty
  // column a valid stand-in and ask again, so every column is listed with
  // the same words record_event() would use.
  Event probe = event_;
  auto stand_in = [&probe](TableColumn c) {
    if (c == TableColumn::kTimestamp) {
      probe.timestamp = kMinTimestamp;
    } else {
      probe.*string_field(c) = "x";
    }
  };
  for (int i = 0; i < kTableColumns; ++i) {
    if (failed(static_cast<TableColumn>(i))) stand_in(static_cast<TableColumn>(i));
  }
  for (int guard = 0; guard < kTableColumns; ++guard) {
    std::optional<FieldError> err = validate_event(probe);
    if (!err.has_value()) break;
    const TableColumn c = column_by_name(err->column).value_or(TableColumn::kMetadata);
    fail(c, std::move(err->message));
    stand_in(c);
  }
  RejectedRow& row = out->rejected.emplace_back();
  row.line = line;
  row.raw.assign(raw);
  for (int i = 0; i < kTableColumns; ++i) {
    const auto c = static_cast<TableColumn>(i);
    if (!failed(c)) continue;
    row.columns.emplace_back(column_name(c));
    if (!row.error.empty()) row.error += "; ";
    absl::StrAppend(&row.error, text::absl_view(column_name(c)), ": ", errors_[i]);
  }
}

void reject_record(uint64_t line, std::string_view raw, std::string error, ParsedBatch* out) {
  ++out->records;
  RejectedRow& row = out->rejected.emplace_back();
  row.line = line;
  row.raw.assign(raw);
  row.error = std::move(error);
}

}  // namespace usagedb
