// RowBuilder: collects the columns of one input record, as a reader finds
// them, and turns the record into either a valid Event or a RejectedRow that
// names every column at fault. Shared by the NDJSON and CSV readers so both
// apply validate_event() (validate.h) and word their errors the same way.
//
//   RowBuilder row;
//   row.start();
//   row.set_string(TableColumn::kUserId, "user_1");
//   row.fail(TableColumn::kTimestamp, "expected a DateTime string, got a boolean");
//   row.finish(/*line=*/7, raw_line, &batch);   // appends to batch.events or batch.rejected
//
// Thread-safety: not thread-safe; one per reader.
#ifndef USAGEDB_INGEST_ROW_BUILDER_H_
#define USAGEDB_INGEST_ROW_BUILDER_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "lib/ingest/parsed_batch.h"
#include "lib/ingest/validate.h"
#include "usagedb/event.h"

namespace usagedb {

// The columns of `feature_events`, in table order (SPEC 1).
enum class TableColumn : uint8_t {
  kEventId,
  kUserId,
  kFeatureId,
  kProductVersion,
  kEventType,
  kTimestamp,
  kSessionId,
  kMetadata,
};
inline constexpr int kTableColumns = 8;

// The column's name, e.g. "user_id".
std::string_view column_name(TableColumn c);
// The column called `name` (exact, case-sensitive), or nullopt.
std::optional<TableColumn> column_by_name(std::string_view name);
// True for the columns that must be present and non-empty.
constexpr bool is_required(TableColumn c) {
  return c != TableColumn::kEventId && c != TableColumn::kSessionId && c != TableColumn::kMetadata;
}

class RowBuilder {
 public:
  // Forgets the previous record.
  void start() {
    present_ = 0;
    failed_ = 0;
    // Field by field: `event_ = Event{}` compiles to a call to memset.
    event_.event_id = event_.user_id = event_.feature_id = event_.product_version = event_.event_type =
        event_.session_id = event_.metadata = std::string_view();
    event_.timestamp = Timestamp{};
  }

  // REQUIRES: c is not kTimestamp.
  void set_string(TableColumn c, std::string_view value) {
    present_ |= bit(c);
    event_.*string_field(c) = value;
  }
  void set_timestamp(Timestamp t) {
    present_ |= bit(TableColumn::kTimestamp);
    event_.timestamp = t;
  }
  // Marks `c` as at fault with `message` (without the column name). The
  // first message for a column is kept.
  void fail(TableColumn c, std::string message);
  // Marks `c` as given (so finish() does not call it missing) without a value.
  void mark_present(TableColumn c) { present_ |= bit(c); }

  bool failed(TableColumn c) const { return (failed_ & bit(c)) != 0; }

  // Tells finish() that every string it is given is valid UTF-8 (see
  // Utf8::kKnownValid), so it does not check again.
  void set_strings_known_utf8(bool known) { utf8_ = known ? Utf8::kKnownValid : Utf8::kCheck; }

  // Appends the record to out->events (and out->event_lines) when it is
  // valid, else to out->rejected with every column at fault, in column
  // order. A required column neither set nor failed is "missing".
  // `raw` is copied only when the record is rejected.
  void finish(uint64_t line, std::string_view raw, ParsedBatch* out);

 private:
  static constexpr uint8_t bit(TableColumn c) { return static_cast<uint8_t>(1u << static_cast<int>(c)); }
  // The Event member holding string column `c` (nullptr for kTimestamp).
  // A static table: one local to the function was built on the stack at
  // every call (~1% of a file ingest's CPU).
  static constexpr std::string_view Event::*kStringFields[kTableColumns] = {
      &Event::event_id,   &Event::user_id, &Event::feature_id, &Event::product_version,
      &Event::event_type, nullptr,         &Event::session_id, &Event::metadata};
  static constexpr std::string_view Event::*string_field(TableColumn c) { return kStringFields[static_cast<int>(c)]; }
  void reject(uint64_t line, std::string_view raw, ParsedBatch* out);

  Event event_;
  Utf8 utf8_ = Utf8::kCheck;
  uint8_t present_ = 0;
  uint8_t failed_ = 0;
  std::array<std::string, kTableColumns> errors_;
};

// Appends a record rejected as a whole (columns empty) to out->rejected.
void reject_record(uint64_t line, std::string_view raw, std::string error, ParsedBatch* out);

}  // namespace usagedb

#endif  // USAGEDB_INGEST_ROW_BUILDER_H_
