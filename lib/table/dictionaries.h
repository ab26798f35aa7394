// Dictionaries: the store-wide dictionaries, one per dictionary-encoded
// column, and the encoding of events' strings into their codes (RowCodes).
//
//   Dictionaries dictionaries;
//   RowCodes rows[2];
//   absl::Status s = encode_rows(dictionaries, events, rows);  // interns new strings
//   dictionaries.get(DictionaryColumn::kUser).lookup(rows[0].user);  // "user_1"
//
// Thread-safety: each Dictionary locks itself (dictionary.h), so
// encode_rows() may run on several threads at once.
#ifndef USAGEDB_TABLE_DICTIONARIES_H_
#define USAGEDB_TABLE_DICTIONARIES_H_

#include <span>
#include <utility>

#include "absl/status/status.h"
#include "lib/table/dictionary.h"
#include "lib/table/row.h"
#include "usagedb/event.h"

namespace usagedb {

// The store-wide dictionaries, one per low-cardinality string column.
// Queries look features, versions and event types up by string (filters),
// so those (small) are indexed eagerly; sessions are only ever read by code,
// so the session dictionary (the largest by far) builds its hash index on the
// first write after a reopen, and so does the user dictionary, which a query
// looks up once, by comparing strings (Dictionary's "Indexing"): a string
// under two codes in a user or session segment is found by the first write
// (or the user dictionary's ninth look-up), not by the open.
struct Dictionaries {
  Dictionary user{column_name(DictionaryColumn::kUser), Dictionary::Indexing::kLazy};
  Dictionary feature{column_name(DictionaryColumn::kFeature)};
  Dictionary version{column_name(DictionaryColumn::kVersion)};
  Dictionary event_type{column_name(DictionaryColumn::kEventType)};
  Dictionary session{column_name(DictionaryColumn::kSession), Dictionary::Indexing::kLazy};

  Dictionary& get(DictionaryColumn c) { return const_cast<Dictionary&>(std::as_const(*this).get(c)); }
  const Dictionary& get(DictionaryColumn c) const {
    switch (c) {
      case DictionaryColumn::kUser: return user;
      case DictionaryColumn::kFeature: return feature;
      case DictionaryColumn::kVersion: return version;
      case DictionaryColumn::kEventType: return event_type;
      case DictionaryColumn::kSession: return session;
    }
    return user;
  }
};

// The dictionary codes and timestamp of each event (interning new strings).
// The DataLossError of a damaged dictionary (Dictionary::status()), rows
// partly filled, when one holds a string twice.
absl::Status encode_rows(Dictionaries& dictionaries, std::span<const Event* const> events, RowCodes* rows);

}  // namespace usagedb

#endif  // USAGEDB_TABLE_DICTIONARIES_H_
