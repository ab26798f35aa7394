// PropertyValues: the values one property takes in the metadata a query
// reads (SPEC 2.9), numbered in the order first seen, each metadata string
// parsed once per source.
//
// Metadata is dictionary-encoded wherever it is stored (a part's distinct
// values, a buffer's, a rollup's): a Mapping caches, for one such source,
// the value number of each code it has parsed, so a source's rows cost a
// vector lookup each and its distinct strings one parse each.
//
//   PropertyValues values("device");
//   PropertyValues::Mapping m = values.mapping();
//   uint32_t n = m.value_of(code, [&](uint32_t c) { return part.columns().metadata_values.at(c); });
//   values.value(n);  // "mobile"
//
// Thread-safety: one query's; not thread-safe.
#ifndef USAGEDB_QUERY_PROPERTY_VALUES_H_
#define USAGEDB_QUERY_PROPERTY_VALUES_H_

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "lib/ingest/json_property.h"

namespace usagedb::query {

// SPEC 2.9: `property` is 1 to 256 bytes.
inline constexpr size_t kMaxPropertyBytes = 256;

class PropertyValues {
 public:
  explicit PropertyValues(std::string property) : property_(std::move(property)) {}
  PropertyValues(const PropertyValues&) = delete;
  PropertyValues& operator=(const PropertyValues&) = delete;

  // The number of the property's value in the metadata `document` (parsed).
  uint32_t number_of(std::string_view document) {
    reader_.read(document, property_, &scratch_);
    ++parsed_;
    auto it = numbers_.find(scratch_);
    if (it != numbers_.end()) return it->second;
    const auto n = static_cast<uint32_t>(values_.size());
    values_.push_back(scratch_);
    numbers_.emplace(values_.back(), n);
    return n;
  }
  std::string_view value(uint32_t number) const { return values_[number]; }
  size_t size() const { return values_.size(); }
  // Metadata strings parsed so far.
  uint64_t parsed() const { return parsed_; }

  // The value numbers of one dictionary-encoded source's codes.
  class Mapping {
   public:
    explicit Mapping(PropertyValues* values) : values_(values) {}
    // The value number of code `code`, whose string lookup(code) gives.
    template <typename Lookup>
    uint32_t value_of(uint32_t code, Lookup&& lookup) {
      if (code >= numbers_.size()) numbers_.resize(code + 1, kUnknown);
      uint32_t& n = numbers_[code];
      if (n == kUnknown) n = values_->number_of(lookup(code));
      return n;
    }

   private:
    static constexpr uint32_t kUnknown = UINT32_MAX;
    PropertyValues* values_;
    std::vector<uint32_t> numbers_;  // by code
  };
  Mapping mapping() { return Mapping(this); }

 private:
  std::string property_;
  json::PropertyReader reader_;
  std::string scratch_;
  std::deque<std::string> values_;                         // by number (a deque: views stay valid)
  absl::flat_hash_map<std::string_view, uint32_t> numbers_;  // views of values_
  uint64_t parsed_ = 0;
};

}  // namespace usagedb::query

#endif  // USAGEDB_QUERY_PROPERTY_VALUES_H_
