#include "lib/ingest/parsed_batch.h"

namespace usagedb {

void ParsedBatch::clear() {
  events.clear();
  event_lines.clear();
  rejected.clear();
  records = 0;
  storage.clear();
}

}  // namespace usagedb
