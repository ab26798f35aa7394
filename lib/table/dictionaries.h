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

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>
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

// A parser thread's codes of the short strings of the small dictionaries
// (features, versions, event types): tens of distinct strings in any input,
// never erased (only users are), so a code once given stays the string's.
// A string it holds costs one 16-byte compare in a table that stays in the
// core's cache, instead of a hash, the dictionary's lock and a probe (three
// of the five strings of every event). A cache, not a map: a string whose
// slot another took is interned again, and gets the same code.
class SmallCodes {
 public:
  // Strings of up to this many bytes are held.
  static constexpr size_t kMaxBytes = 16;
  // The code of `s` (*code) when it is held.
  bool find(std::string_view s, uint32_t* code) const {
    if (s.size() > kMaxBytes) return false;
    const Key k = key_of(s);
    const Slot& slot = slots_[k.slot];
    if (slot.size != s.size() || slot.lo != k.lo || slot.hi != k.hi) return false;
    *code = slot.code;
    return true;
  }
  // Holds `code` as the code of `s` (unless `s` is too long).
  void add(std::string_view s, uint32_t code) {
    if (s.size() > kMaxBytes) return;
    const Key k = key_of(s);
    slots_[k.slot] = Slot{k.lo, k.hi, static_cast<uint32_t>(s.size()), code};
  }

 private:
  static constexpr size_t kSlots = 256;
  static constexpr uint32_t kEmpty = UINT32_MAX;  // no string has this size
  struct Key {
    uint64_t lo, hi;
    size_t slot;
  };
  struct Slot {
    uint64_t lo = 0, hi = 0;
    uint32_t size = kEmpty;
    uint32_t code = 0;
  };
  // REQUIRES: s.size() <= kMaxBytes. The bytes past the string are zero (its
  // size tells "a" from "a\0").
  static Key key_of(std::string_view s) {
    char bytes[kMaxBytes] = {};
    if (!s.empty()) std::memcpy(bytes, s.data(), s.size());
    Key k;
    std::memcpy(&k.lo, bytes, 8);
    std::memcpy(&k.hi, bytes + 8, 8);
    const uint64_t h = (k.lo * 0x9E3779B97F4A7C15ull) ^ (k.hi * 0xC2B2AE3D27D4EB4Full) ^ s.size();
    k.slot = static_cast<size_t>((h ^ (h >> 29)) * 0xBF58476D1CE4E5B9ull >> 56) & (kSlots - 1);
    return k;
  }
  Slot slots_[kSlots];
};

// A parser thread's SmallCodes, one per small dictionary.
struct SmallDictionaryCodes {
  SmallCodes feature, version, event_type;
};

// The dictionary codes and timestamp of each event (interning new strings).
// The DataLossError of a damaged dictionary (Dictionary::status()), rows
// partly filled, when one holds a string twice. With `memo` (a parser
// thread's, only ever used with `dictionaries`), the small dictionaries'
// strings are looked up there first and the codes interned are added to it:
// the same codes as without.
absl::Status encode_rows(Dictionaries& dictionaries, std::span<const Event* const> events, RowCodes* rows,
                         SmallDictionaryCodes* memo = nullptr);

}  // namespace usagedb

#endif  // USAGEDB_TABLE_DICTIONARIES_H_
