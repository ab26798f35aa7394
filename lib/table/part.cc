#include "lib/table/part.h"

#include <algorithm>

namespace usagedb {

Part::Part(uint64_t id, uint32_t month, PartColumns columns, PartIndexes indexes)
    : id_(id), month_(month), columns_(std::move(columns)), indexes_(std::move(indexes)) {}

RowRange Part::time_range(int64_t begin, int64_t end) const {
  const auto& ts = columns_.timestamp;
  if (begin >= end || ts.empty()) return {};
  auto clamp32 = [](int64_t v) -> uint64_t { return v < 0 ? 0 : static_cast<uint64_t>(v); };
  const uint64_t b = clamp32(begin), e = clamp32(end);
  const uint32_t first = b <= ts.front() ? 0
                         : static_cast<uint32_t>(std::lower_bound(ts.begin(), ts.end(), b,
                                                                  [](uint32_t t, uint64_t v) { return t < v; }) -
                                                 ts.begin());
  const uint32_t last = e > ts.back() ? rows()
                        : static_cast<uint32_t>(std::lower_bound(ts.begin(), ts.end(), e,
                                                                 [](uint32_t t, uint64_t v) { return t < v; }) -
                                                ts.begin());
  return first < last ? RowRange{first, last} : RowRange{};
}

size_t Part::memory_bytes() const {
  const auto& c = columns_;
  size_t bytes = (c.timestamp.capacity() + c.feature.capacity() + c.version.capacity() + c.user.capacity() +
                  c.event_type.capacity() + c.session.capacity() + c.metadata.capacity()) *
                 sizeof(uint32_t);
  bytes += c.metadata_values.memory_bytes() + c.event_id.memory_bytes() + c.sequence.memory_bytes();
  bytes += indexes_.user.memory_bytes();
  for (const BitmapIndex* index : {&indexes_.feature, &indexes_.version}) {
    bytes += index->capacity() * (sizeof(BitmapIndex::value_type) + 1);
    for (const auto& [code, bitmap] : *index) bytes += bitmap.memory_bytes() - sizeof(Bitmap);
  }
  return bytes;
}

}  // namespace usagedb
