// RowCodes: one event with its string columns replaced by dictionary codes,
// the unit that moves from the writer into an append buffer and a part.
#ifndef USAGEDB_STORE_ROW_H_
#define USAGEDB_STORE_ROW_H_

#include <cstdint>

namespace usagedb {

// The dictionaries of a store, one per low-cardinality string column.
enum class Column : uint8_t { kUser, kFeature, kVersion, kEventType, kSession };

struct RowCodes {
  uint32_t timestamp;  // Unix seconds (the DateTime range fits in 32 bits)
  uint32_t feature;
  uint32_t version;
  uint32_t user;
  uint32_t event_type;
  uint32_t session;
};

}  // namespace usagedb

#endif  // USAGEDB_STORE_ROW_H_
