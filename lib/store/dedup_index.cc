#include "lib/store/dedup_index.h"

#include <cstring>

#include "lib/util/coding.h"
#include "lib/util/hash.h"

namespace usagedb {

uint64_t DedupIndex::hash(std::string_view id) { return hash::hash64(id); }

DedupIndex::DedupIndex() : set_(0, RefHash{this}, RefEq{this}) {}

std::string_view DedupIndex::resolve(uint64_t ref) const {
  const char* p = chunks_[ref >> 32].get() + static_cast<uint32_t>(ref);
  std::string_view in(p, coding::kMaxVarint64Bytes);
  uint64_t len = 0;
  coding::get_varint64(&in, &len);
  return std::string_view(in.data(), len);
}

bool DedupIndex::contains(std::string_view id) const { return set_.contains(Hashed{id, hash(id)}); }

bool DedupIndex::insert(std::string_view id, uint64_t id_hash) {
  // One probe: the reference is only built when `id` is new.
  bool inserted = false;
  set_.lazy_emplace(Hashed{id, id_hash}, [&](const auto& construct) {
    inserted = true;
    construct(append(id));
  });
  return inserted;
}

uint64_t DedupIndex::append(std::string_view id) {
  const size_t need = coding::varint_length(id.size()) + id.size();
  // resolve() reads up to kMaxVarint64Bytes of length prefix: keep that much
  // slack after every id.
  const size_t reserve = need + coding::kMaxVarint64Bytes;
  if (chunks_.empty() || chunk_used_ + reserve > chunk_capacity_) {
    chunk_capacity_ = reserve > kChunkBytes ? reserve : kChunkBytes;  // oversized ids get their own chunk
    chunks_.emplace_back(new char[chunk_capacity_]);
    arena_bytes_ += chunk_capacity_;
    chunk_used_ = 0;
  }
  const uint64_t ref = (static_cast<uint64_t>(chunks_.size() - 1) << 32) | chunk_used_;
  char* p = coding::encode_varint64(chunks_.back().get() + chunk_used_, id.size());
  std::memcpy(p, id.data(), id.size());
  chunk_used_ += need;
  return ref;
}

void DedupIndex::erase(std::string_view id) {
  auto it = set_.find(Hashed{id, hash(id)});
  if (it != set_.end()) set_.erase(it);
}

size_t DedupIndex::memory_bytes() const { return arena_bytes_ + set_.capacity() * (sizeof(uint64_t) + 1); }

}  // namespace usagedb
