#include "lib/ingest/json_property.h"

#include <algorithm>
#include <cstring>

#include "lib/ingest/json_value.h"

namespace usagedb::json {
namespace {

// Walks the object's members: the first one named `property` gives *value
// when it holds a string, and every value is validated (check_value), so a
// document invalid anywhere is rejected as ClickHouse's parse rejects it.
simdjson::error_code read_object(ondemand::object& object, std::string_view property, std::string* value) {
  bool found = false;
  for (auto member : object) {
    ondemand::field field;
    SIMDJSON_TRY(std::move(member).get(field));
    std::string_view key;
    SIMDJSON_TRY(field.unescaped_key().get(key));
    ondemand::value v = field.value();
    if (!found && key == property) {
      found = true;
      Kind kind;
      SIMDJSON_TRY(kind_of(v.raw_json_token(), &kind));
      if (kind == Kind::kString) {
        std::string_view s;
        SIMDJSON_TRY(v.get_string().get(s));
        value->assign(s.data(), s.size());
        continue;
      }
    }
    SIMDJSON_TRY(check_value(v, 2, Numbers::kRepresentable));
  }
  return simdjson::SUCCESS;
}

}  // namespace

PropertyReader::PropertyReader() = default;

bool PropertyReader::read(std::string_view document, std::string_view property, std::string* value) {
  value->clear();
  // A copy with zeroed padding: On Demand reads past a broken document's
  // end, and what it finds there must not change the verdict.
  if (capacity_ < document.size() + simdjson::SIMDJSON_PADDING) {
    capacity_ = std::max(2 * capacity_, document.size() + simdjson::SIMDJSON_PADDING);
    buffer_.reset(new char[capacity_]);
  }
  if (!document.empty()) std::memcpy(buffer_.get(), document.data(), document.size());
  std::memset(buffer_.get() + document.size(), 0, simdjson::SIMDJSON_PADDING);
  if (parser_.capacity() < document.size() && parser_.allocate(document.size(), kMaxDepth) != simdjson::SUCCESS) {
    return false;
  }
  ondemand::document doc;
  if (parser_.iterate(buffer_.get(), document.size(), document.size() + simdjson::SIMDJSON_PADDING).get(doc) !=
      simdjson::SUCCESS) {
    return false;
  }
  ondemand::json_type type;
  ondemand::object object;
  if (doc.type().get(type) != simdjson::SUCCESS || type != ondemand::json_type::object ||
      doc.get_object().get(object) != simdjson::SUCCESS || read_object(object, property, value) != simdjson::SUCCESS ||
      // Nothing may follow the object: at its end there is no token left.
      doc.current_location().error() != simdjson::OUT_OF_BOUNDS) {
    value->clear();
    return false;
  }
  return true;
}

}  // namespace usagedb::json
