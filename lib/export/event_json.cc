#include "lib/export/event_json.h"

#include "lib/util/json_escape.h"

namespace usagedb::exporting {

void append_event_json(const Event& e, std::string* out) {
  const auto field = [&](const char* key, std::string_view value) {
    out->append(key);
    text::append_json_string(value, out);
  };
  field("{\"event_id\":", e.event_id);
  field(",\"user_id\":", e.user_id);
  field(",\"feature_id\":", e.feature_id);
  field(",\"product_version\":", e.product_version);
  field(",\"event_type\":", e.event_type);
  out->append(",\"timestamp\":\"");
  out->append(format_timestamp(e.timestamp));
  field("\",\"session_id\":", e.session_id);
  field(",\"metadata\":", e.metadata);
  out->append("}\n");
}

}  // namespace usagedb::exporting
