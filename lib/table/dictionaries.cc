#include "lib/table/dictionaries.h"

#include <algorithm>
#include <string_view>

#include "lib/util/status_macros.h"

namespace usagedb {

absl::Status encode_rows(Dictionaries& dictionaries, std::span<const Event* const> events, RowCodes* rows,
                         SmallDictionaryCodes* memo) {
  // One dictionary at a time over a block of events, so each dictionary's
  // lock is taken once per block and its hash table stays hot in cache,
  // while the block's strings (a few tens of KiB of input) stay in the L2
  // cache from the first dictionary's pass to the last one's. Whole batches
  // of 2 MiB of input did not: every pass missed the cache on every string.
  constexpr size_t kBlock = 256;
  std::string_view values[kBlock];
  uint32_t codes[kBlock];
  uint32_t missed[kBlock];  // of the block's events, those whose string the memo does not hold
  for (size_t first = 0; first < events.size(); first += kBlock) {
    const size_t n = std::min(kBlock, events.size() - first);
    const Event* const* block = events.data() + first;
    RowCodes* out = rows + first;
    const auto encode = [&](std::string_view Event::*field, Dictionary& dict, uint32_t RowCodes::*column) {
      for (size_t i = 0; i < n; ++i) values[i] = block[i]->*field;
      USAGEDB_RETURN_IF_ERROR(dict.intern_many(std::span<const std::string_view>(values, n), codes));
      for (size_t i = 0; i < n; ++i) out[i].*column = codes[i];
      return absl::OkStatus();
    };
    // With a memo, the strings it does not hold are interned, in the order
    // they come (so a new string gets the code it would get without).
    const auto encode_small = [&](std::string_view Event::*field, Dictionary& dict, uint32_t RowCodes::*column,
                                  SmallCodes SmallDictionaryCodes::*memo_column) {
      if (memo == nullptr) return encode(field, dict, column);
      SmallCodes& small = memo->*memo_column;
      size_t misses = 0;
      for (size_t i = 0; i < n; ++i) {
        const std::string_view s = block[i]->*field;
        if (!small.find(s, &(out[i].*column))) {
          values[misses] = s;
          missed[misses++] = static_cast<uint32_t>(i);
        }
      }
      if (misses == 0) return absl::OkStatus();
      USAGEDB_RETURN_IF_ERROR(dict.intern_many(std::span<const std::string_view>(values, misses), codes));
      for (size_t k = 0; k < misses; ++k) {
        out[missed[k]].*column = codes[k];
        small.add(values[k], codes[k]);
      }
      return absl::OkStatus();
    };
    USAGEDB_RETURN_IF_ERROR(
        encode_small(&Event::feature_id, dictionaries.feature, &RowCodes::feature, &SmallDictionaryCodes::feature));
    USAGEDB_RETURN_IF_ERROR(encode_small(&Event::product_version, dictionaries.version, &RowCodes::version,
                                         &SmallDictionaryCodes::version));
    USAGEDB_RETURN_IF_ERROR(encode(&Event::user_id, dictionaries.user, &RowCodes::user));
    USAGEDB_RETURN_IF_ERROR(encode_small(&Event::event_type, dictionaries.event_type, &RowCodes::event_type,
                                         &SmallDictionaryCodes::event_type));
    USAGEDB_RETURN_IF_ERROR(encode(&Event::session_id, dictionaries.session, &RowCodes::session));
    for (size_t i = 0; i < n; ++i) out[i].timestamp = static_cast<uint32_t>(block[i]->timestamp.time_since_epoch().count());
  }
  return absl::OkStatus();
}

}  // namespace usagedb
