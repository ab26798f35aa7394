// RowCodes: one event with its string columns replaced by dictionary codes,
// the unit that moves from the writer into an append buffer and a part.
#ifndef USAGEDB_TABLE_ROW_H_
#define USAGEDB_TABLE_ROW_H_

#include <cstdint>

namespace usagedb {

// The dictionary-encoded columns: one store-wide Dictionary each
// (dictionaries.h). Not to be confused with TableColumn (every column of the
// events table, lib/ingest/row_builder.h), PartColumns (a part's columns,
// part.h) or StringColumn (strings stored whole, string_column.h).
enum class DictionaryColumn : uint8_t { kUser, kFeature, kVersion, kEventType, kSession };
inline constexpr int kDictionaryColumns = 5;

// The table's name of a dictionary-encoded column ("user_id", ...).
constexpr const char* column_name(DictionaryColumn c) {
  constexpr const char* kNames[] = {"user_id", "feature_id", "product_version", "event_type", "session_id"};
  return kNames[static_cast<int>(c)];
}

struct RowCodes {
  uint32_t timestamp;  // Unix seconds (the DateTime range fits in 32 bits)
  uint32_t feature;
  uint32_t version;
  uint32_t user;
  uint32_t event_type;
  uint32_t session;
};

}  // namespace usagedb

#endif  // USAGEDB_TABLE_ROW_H_
