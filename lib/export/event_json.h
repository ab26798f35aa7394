// One event as a line of NDJSON in the table's column order, as ClickHouse's
// `FORMAT JSONEachRow` and Tinybird's Events API read it and as usagedb's own
// ingest (SPEC 1.1) reads it back: every column present, strings as JSON
// strings (metadata too: its stored text, byte for byte, not re-parsed),
// the timestamp as "YYYY-MM-DD HH:MM:SS" UTC.
//
//   std::string out;
//   usagedb::exporting::append_event_json(event, &out);
//   // {"event_id":"e1","user_id":"u1",...,"metadata":"{\"device\":\"desktop\"}"}\n
//
// Thread-safety: pure functions.
#ifndef USAGEDB_EXPORT_EVENT_JSON_H_
#define USAGEDB_EXPORT_EVENT_JSON_H_

#include <string>

#include "usagedb/event.h"

namespace usagedb::exporting {

// Appends the event's line, '\n' included, to `*out`.
void append_event_json(const Event& e, std::string* out);

}  // namespace usagedb::exporting

#endif  // USAGEDB_EXPORT_EVENT_JSON_H_
