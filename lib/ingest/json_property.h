// PropertyReader: the value of one top-level key of a metadata document, as
// SPEC 2.9 defines it with ClickHouse's JSON functions:
//
//   if(JSONType(metadata, property) = 'String', JSONExtractString(metadata, property), '')
//
// that is the key's string value (escapes decoded) when the document is a
// valid JSON object whose FIRST member named `property` (names compared
// after decoding their escapes) holds a string; '' for anything else: no
// such member, a number, bool, null, object or array value, a document that
// is not an object, or one that is not valid JSON as simdjson parses the
// whole of it (ClickHouse parses with simdjson's DOM, which validates every
// value: an escaped lone surrogate anywhere, an integer beyond int64 and
// uint64, a number beyond a double, unescaped control characters, text after
// the object, nesting deeper than 1024).
//
//   json::PropertyReader reader;
//   std::string value;
//   reader.read(R"({"device":"mobile","os":"ios"})", "device", &value);  // "mobile"
//
// Costs a full parse of the document: callers read each distinct metadata
// value once (parts keep them dictionary-encoded), never each row.
//
// Thread-safety: a PropertyReader (its parser and buffer) belongs to one
// thread at a time.
#ifndef USAGEDB_INGEST_JSON_PROPERTY_H_
#define USAGEDB_INGEST_JSON_PROPERTY_H_

#include <memory>
#include <string>
#include <string_view>

#include "simdjson.h"

namespace usagedb::json {

class PropertyReader {
 public:
  PropertyReader();
  PropertyReader(const PropertyReader&) = delete;
  PropertyReader& operator=(const PropertyReader&) = delete;

  // Sets *value to the value of `property` in `document` by the rules above
  // ("" when it has none). Returns whether `document` is a valid JSON object
  // (for tests and statistics; the value is "" when it is not).
  bool read(std::string_view document, std::string_view property, std::string* value);

 private:
  simdjson::ondemand::parser parser_;
  std::unique_ptr<char[]> buffer_;  // the document with simdjson's padding
  size_t capacity_ = 0;
};

}  // namespace usagedb::json

#endif  // USAGEDB_INGEST_JSON_PROPERTY_H_
