#include "lib/store/dictionary.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "lib/util/hash.h"

namespace usagedb {

const char Dictionary::kErased[] = "";

uint32_t Dictionary::hash_half(std::string_view s) { return static_cast<uint32_t>(hash::hash64(s) >> 32); }

Dictionary::Dictionary(std::string name, Indexing indexing)
    : name_(std::move(name)),
      indexing_(indexing),
      index_(0, CodeHash{}, CodeEq{this}),
      blocks_(new std::atomic<Entry*>[kMaxBlocks]) {
  for (uint32_t i = 0; i < kMaxBlocks; ++i) blocks_[i].store(nullptr, std::memory_order_relaxed);
}

Dictionary::~Dictionary() {
  for (uint32_t i = 0; i < kMaxBlocks; ++i) delete[] blocks_[i].load(std::memory_order_relaxed);
}

const char* Dictionary::copy_bytes(std::string_view s) {
  static const char kEmpty[] = "";
  if (s.empty()) return kEmpty;
  if (s.size() > kArenaChunk / 4) {
    chunks_.emplace_back(new char[s.size()]);
    std::memcpy(chunks_.back().get(), s.data(), s.size());
    bytes_ += s.size();
    return chunks_.back().get();
  }
  if (chunk_left_ < s.size()) {
    chunks_.emplace_back(new char[kArenaChunk]);
    chunk_pos_ = chunks_.back().get();
    chunk_left_ = kArenaChunk;
    bytes_ += kArenaChunk;
  }
  char* out = chunk_pos_;
  std::memcpy(out, s.data(), s.size());
  chunk_pos_ += s.size();
  chunk_left_ -= s.size();
  return out;
}

uint32_t Dictionary::append_locked(Entry e) {
  const uint32_t code = size_.load(std::memory_order_relaxed);
  Entry* block = blocks_[code >> kBlockBits].load(std::memory_order_relaxed);
  if (block == nullptr) {
    block = new Entry[kBlockSize];
    blocks_[code >> kBlockBits].store(block, std::memory_order_release);
  }
  block[code & kBlockMask] = e;
  size_.store(code + 1, std::memory_order_release);
  return code;
}

uint32_t Dictionary::intern_locked(std::string_view s) {
  const uint64_t h = hash::hash64(s);
  CacheSlot* slot = nullptr;
  if (cache_ != nullptr && s.size() <= kCacheMaxBytes) {
    slot = &cache_[h & (cache_slots_ - 1)];
    if (slot->hash == h && slot->size == s.size() && slot->code != UINT32_MAX &&
        std::memcmp(slot->bytes, s.data(), s.size()) == 0) {
      return slot->code;
    }
  }
  // One hash and probe: the entry is only appended when `s` is new.
  const auto half = static_cast<uint32_t>(h >> 32);
  // (The analysis cannot see that the lambda runs under this function's lock.)
  const auto append = [&](const auto& construct) ABSL_NO_THREAD_SAFETY_ANALYSIS {
    construct(slot_of(half, append_locked(Entry{copy_bytes(s), static_cast<uint32_t>(s.size())})));
  };
  const uint32_t code = static_cast<uint32_t>(*index_.lazy_emplace(Probe{s, half}, append));
  indexed_ = size_.load(std::memory_order_relaxed);
  if (slot != nullptr) {
    slot->hash = h;
    slot->code = code;
    slot->size = static_cast<uint8_t>(s.size());
    std::memcpy(slot->bytes, s.data(), s.size());
  }
  // Small dictionaries stay in the CPU cache without help. A large one gets
  // a cache that grows with it (the longer a string's repeats lag, the
  // larger the dictionary), up to a size the shared L3 cache still holds.
  const size_t size = size_.load(std::memory_order_relaxed);
  if (cache_slots_ < kMaxCacheSlots && size >= 4 * std::max(cache_slots_, kMinCacheSlots)) {
    cache_slots_ = std::max(2 * cache_slots_, kMinCacheSlots);
    cache_.reset(new CacheSlot[cache_slots_]);
  }
  return code;
}

bool Dictionary::restore(std::string_view s, bool erased) {
  MutexLock lock(&mu_);
  return restore_locked(s, erased, /*copy=*/true);
}

ptrdiff_t Dictionary::restore_many(std::span<const std::string_view> strings, const std::vector<bool>& erased,
                                   std::unique_ptr<std::string> owner) {
  MutexLock lock(&mu_);
  const bool copy = owner == nullptr;
  if (!copy) {
    bytes_ += owner->capacity();
    adopted_.push_back(std::move(owner));
  }
  if (indexing_ == Indexing::kEager) index_.reserve(index_.size() + strings.size());
  for (size_t i = 0; i < strings.size(); ++i) {
    if (!restore_locked(strings[i], erased[i], copy)) return static_cast<ptrdiff_t>(i);
  }
  return -1;
}

bool Dictionary::restore_locked(std::string_view s, bool erased, bool copy) {
  if (erased) {
    const uint32_t code = append_locked(Entry{kErased, 0});
    if (indexed_ == code) indexed_ = code + 1;  // nothing to index
    return true;
  }
  const Entry e{copy ? copy_bytes(s) : s.data(), static_cast<uint32_t>(s.size())};
  if (indexing_ == Indexing::kLazy || !index_complete_locked()) {
    append_locked(e);  // indexed by build_index_locked()
    return true;
  }
  const uint32_t half = hash_half(s);
  if (index_.contains(Probe{s, half})) return false;
  index_.insert(slot_of(half, append_locked(e)));
  indexed_ = size_.load(std::memory_order_relaxed);
  return true;
}

void Dictionary::build_index_locked() const {
  const uint32_t n = size_.load(std::memory_order_relaxed);
  index_.reserve(index_.size() + (n - indexed_));
  for (uint32_t code = indexed_; code < n; ++code) {
    const std::string_view s = lookup(code);
    if (s.data() == kErased) continue;
    const uint32_t half = hash_half(s);
    // One probe: inserts the slot unless the string is there already.
    const auto construct_slot = [&](const auto& construct) { construct(slot_of(half, code)); };
    const auto first = static_cast<uint32_t>(*index_.lazy_emplace(Probe{s, half}, construct_slot));
    if (first != code && error_.ok()) {
      error_ = absl::DataLossError(absl::StrCat("the ", name_.empty() ? "unnamed" : name_,
                                                " dictionary is damaged: the string of code ", code,
                                                " appears twice (also code ", first,
                                                "); writes are refused, reads go on"));
    }
  }
  indexed_ = n;
}

uint32_t Dictionary::intern(std::string_view s) {
  MutexLock lock(&mu_);
  if (!index_complete_locked()) build_index_locked();
  return intern_locked(s);
}

absl::Status Dictionary::intern_many(std::span<const std::string_view> values, uint32_t* codes) {
  MutexLock lock(&mu_);
  if (!index_complete_locked()) build_index_locked();
  if (!error_.ok()) return error_;
  for (size_t i = 0; i < values.size(); ++i) codes[i] = intern_locked(values[i]);
  return absl::OkStatus();
}

absl::Status Dictionary::prepare_for_writes() {
  MutexLock lock(&mu_);
  if (!index_complete_locked()) build_index_locked();
  return error_;
}

absl::Status Dictionary::status() const {
  ReaderMutexLock lock(&mu_);
  return error_;
}

void Dictionary::erase(uint32_t code) {
  MutexLock lock(&mu_);
  if (!index_complete_locked()) build_index_locked();
  Entry& e = blocks_[code >> kBlockBits].load(std::memory_order_relaxed)[code & kBlockMask];
  if (e.data == kErased) return;
  index_.erase(slot_of(hash_half(e.view()), code));  // before the entry is overwritten
  if (cache_ != nullptr) {
    for (size_t i = 0; i < cache_slots_; ++i) {
      if (cache_[i].code == code) cache_[i] = CacheSlot{};
    }
  }
  std::memset(const_cast<char*>(e.data), 0, e.size);
  e = Entry{kErased, 0};
  erasures_.fetch_add(1, std::memory_order_release);
}

std::optional<uint32_t> Dictionary::find(std::string_view s) const {
  const Probe probe{s, hash_half(s)};
  {
    ReaderMutexLock lock(&mu_);
    if (index_complete_locked()) {
      auto it = index_.find(probe);
      if (it == index_.end()) return std::nullopt;
      return static_cast<uint32_t>(*it);
    }
  }
  // A lazily indexed dictionary's first look-up builds the index.
  MutexLock lock(&mu_);
  if (!index_complete_locked()) build_index_locked();
  auto it = index_.find(probe);
  if (it == index_.end()) return std::nullopt;
  return static_cast<uint32_t>(*it);
}

size_t Dictionary::memory_bytes() const {
  ReaderMutexLock lock(&mu_);
  const uint32_t n = size_.load(std::memory_order_relaxed);
  const size_t blocks = (n + kBlockSize - 1) / kBlockSize;
  return bytes_ + blocks * kBlockSize * sizeof(Entry) + kMaxBlocks * sizeof(void*) +
         index_.capacity() * (sizeof(uint64_t) + 1) + cache_slots_ * sizeof(CacheSlot);
}

}  // namespace usagedb
