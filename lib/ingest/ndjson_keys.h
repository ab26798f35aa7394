// The keys of an NDJSON object that are columns (docs/INGEST.md): matched
// on the key as decoded, or on its raw bytes when written without escapes.
// Shared by NdjsonReader's plain-line reader (ndjson_plain_line.cc) and its
// On Demand field readers (ndjson_fields.cc).
//
//   column_of_key("user_id");        // TableColumn::kUserId
//   known_key(R"(user_id":"u1")");   // TableColumn::kUserId
//
// Thread-safety: pure functions.
#ifndef USAGEDB_INGEST_NDJSON_KEYS_H_
#define USAGEDB_INGEST_NDJSON_KEYS_H_

#include <cstring>
#include <optional>
#include <string_view>

#include "lib/ingest/row_builder.h"

namespace usagedb::ndjson {

// The column named `key` (decoded); nullopt for any other key.
inline std::optional<TableColumn> column_of_key(std::string_view key) {
  switch (key.size()) {
    case 7:
      if (key == "user_id") return TableColumn::kUserId;
      break;
    case 8:
      if (key == "event_id") return TableColumn::kEventId;
      if (key == "metadata") return TableColumn::kMetadata;
      break;
    case 9:
      if (key == "timestamp") return TableColumn::kTimestamp;
      break;
    case 10:
      if (key == "feature_id") return TableColumn::kFeatureId;
      if (key == "event_type") return TableColumn::kEventType;
      if (key == "session_id") return TableColumn::kSessionId;
      break;
    case 15:
      if (key == "product_version") return TableColumn::kProductVersion;
      break;
  }
  return std::nullopt;
}

// The column of a raw key (the bytes after its opening quote, closed by an
// unescaped '"'), when it is a known key written without escapes. Compares
// at most 16 bytes, which the padding makes readable.
inline std::optional<TableColumn> known_key(const char* raw) {
  auto is = [raw](std::string_view name) {
    return std::memcmp(raw, name.data(), name.size()) == 0 && raw[name.size()] == '"';
  };
  switch (raw[0]) {
    case 'e':
      if (is("event_id")) return TableColumn::kEventId;
      if (is("event_type")) return TableColumn::kEventType;
      break;
    case 'u':
      if (is("user_id")) return TableColumn::kUserId;
      break;
    case 'f':
      if (is("feature_id")) return TableColumn::kFeatureId;
      break;
    case 'p':
      if (is("product_version")) return TableColumn::kProductVersion;
      break;
    case 't':
      if (is("timestamp")) return TableColumn::kTimestamp;
      break;
    case 's':
      if (is("session_id")) return TableColumn::kSessionId;
      break;
    case 'm':
      if (is("metadata")) return TableColumn::kMetadata;
      break;
  }
  return std::nullopt;
}

}  // namespace usagedb::ndjson

#endif  // USAGEDB_INGEST_NDJSON_KEYS_H_
