#include "lib/table/dictionary.h"

#include <algorithm>
#include <bit>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "lib/table/string_rank.h"
#include "lib/util/hash.h"
#include "lib/util/text.h"

namespace usagedb {

const char Dictionary::kErased[] = "";

uint32_t Dictionary::hash_half(std::string_view s) { return static_cast<uint32_t>(hash::hash64(s) >> 32); }

Dictionary::Dictionary(std::string name, Indexing indexing)
    : name_(std::move(name)), indexing_(indexing), blocks_(new std::atomic<Entry*>[kMaxBlocks]) {
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

size_t Dictionary::probe_locked(std::string_view s, uint32_t half, bool* found) const {
  *found = false;
  if (slot_count_ == 0) rehash_locked(16);
  const size_t mask = slot_count_ - 1;
  for (size_t i = home_locked(half);; i = (i + 1) & mask) {
    const uint64_t slot = slots_[i];
    if (slot == kEmptySlot) return i;
    if (static_cast<uint32_t>(slot >> 32) == half && slot != kTombstone &&
        text::equal(lookup(static_cast<uint32_t>(slot)), s)) {
      *found = true;
      return i;
    }
  }
}

void Dictionary::insert_slot_locked(size_t at, uint32_t half, uint32_t code) const {
  slots_[at] = slot_of(half, code);
  ++live_slots_;
  ++used_slots_;
  // At most 70% of the slots used: linear probing stays short.
  if (used_slots_ * 10 > slot_count_ * 7) rehash_locked(2 * slot_count_);
}

void Dictionary::reserve_slots_locked(size_t live) const {
  size_t slots = std::max<size_t>(slot_count_, 16);
  while ((used_slots_ - live_slots_ + live) * 10 > slots * 7) slots *= 2;
  if (slots != slot_count_) rehash_locked(slots);
}

void Dictionary::rehash_locked(size_t slots) const {
  HugeArray<uint64_t> old = std::move(slots_);
  const size_t old_count = slot_count_;
  slots_ = allocate_huge_array<uint64_t>(slots);
  std::fill_n(slots_.get(), slots, kEmptySlot);
  slot_count_ = slots;
  slot_shift_ = 32 - static_cast<uint32_t>(std::countr_zero(slots));
  used_slots_ = live_slots_;  // tombstones are dropped
  const size_t mask = slots - 1;
  for (size_t j = 0; j < old_count; ++j) {
    const uint64_t slot = old[j];
    if (slot == kEmptySlot || slot == kTombstone) continue;
    size_t i = home_locked(static_cast<uint32_t>(slot >> 32));
    while (slots_[i] != kEmptySlot) i = (i + 1) & mask;
    slots_[i] = slot;
  }
}

void Dictionary::prefetch_locked(uint64_t h) const {
  if (cache_ != nullptr) __builtin_prefetch(&cache_[h & (cache_slots_ - 1)]);
  if (slot_count_ != 0) __builtin_prefetch(&slots_[home_locked(static_cast<uint32_t>(h >> 32))]);
}

void Dictionary::prefetch_entry_locked(uint64_t h) const {
  // Even for a string the cache holds: looking there first (to skip the
  // entry's load) waited for the cache slot's line as often as for the home
  // slot's (perf annotate of a 10M-event ingest: half of this function's
  // samples each); the slot is read kAhead strings later, by then in the
  // CPU's cache. Session strings interned in blocks of 256: 73 -> 62 ns
  // each (medians of 8 runs, bench/RESULTS.md).
  const auto half = static_cast<uint32_t>(h >> 32);
  const uint64_t slot = slots_[home_locked(half)];
  // Only a slot the probe will compare (its hash half matches); the empty
  // slot of a new string, or another string's, needs no entry.
  if (static_cast<uint32_t>(slot >> 32) != half || slot == kEmptySlot || slot == kTombstone) return;
  const auto code = static_cast<uint32_t>(slot);
  // Codes in slots are below size(): their blocks exist.
  __builtin_prefetch(&blocks_[code >> kBlockBits].load(std::memory_order_relaxed)[code & kBlockMask]);
}

uint32_t Dictionary::intern_locked(std::string_view s, uint64_t h) {
  CacheSlot* cached = nullptr;
  if (cache_ != nullptr && s.size() <= kCacheMaxBytes) {
    cached = &cache_[h & (cache_slots_ - 1)];
    if (cached->hash == h && cached->size == s.size() && cached->code != UINT32_MAX &&
        text::equal(std::string_view(cached->bytes, cached->size), s)) {
      return cached->code;
    }
  }
  const auto half = static_cast<uint32_t>(h >> 32);
  bool found = false;
  const size_t at = probe_locked(s, half, &found);
  uint32_t code;
  if (found) {
    code = static_cast<uint32_t>(slots_[at]);
  } else {
    code = append_locked(s.size() <= Entry::kInlineBytes ? Entry::inline_copy(s)
                                                         : Entry::far(copy_bytes(s), static_cast<uint32_t>(s.size())));
    indexed_ = code + 1;
    insert_slot_locked(at, half, code);
  }
  if (cached != nullptr) {
    cached->hash = h;
    cached->code = code;
    cached->size = static_cast<uint8_t>(s.size());
    std::memcpy(cached->bytes, s.data(), s.size());
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
  // Only strings too long for their entries point into the buffer: without
  // any, it is not kept.
  if (!copy &&
      std::any_of(strings.begin(), strings.end(), [](std::string_view s) { return s.size() > Entry::kInlineBytes; })) {
    bytes_ += owner->capacity();
    adopted_.push_back(std::move(owner));
  }
  if (indexing_ == Indexing::kEager && index_complete_locked()) reserve_slots_locked(live_slots_ + strings.size());
  for (size_t i = 0; i < strings.size(); ++i) {
    if (!restore_locked(strings[i], erased[i], copy)) return static_cast<ptrdiff_t>(i);
  }
  return -1;
}

bool Dictionary::restore_locked(std::string_view s, bool erased, bool copy) {
  if (erased) {
    const uint32_t code = append_locked(Entry::far(kErased, 0));
    if (indexed_ == code) indexed_ = code + 1;  // nothing to index
    return true;
  }
  const Entry e = s.size() <= Entry::kInlineBytes
                      ? Entry::inline_copy(s)
                      : Entry::far(copy ? copy_bytes(s) : s.data(), static_cast<uint32_t>(s.size()));
  if (indexing_ == Indexing::kLazy || !index_complete_locked()) {
    append_locked(e);  // indexed by build_index_locked()
    return true;
  }
  const uint32_t half = hash_half(s);
  bool found = false;
  const size_t at = probe_locked(s, half, &found);
  if (found) return false;
  const uint32_t code = append_locked(e);
  indexed_ = code + 1;
  insert_slot_locked(at, half, code);
  return true;
}

void Dictionary::build_index_locked() const {
  const uint32_t n = size_.load(std::memory_order_relaxed);
  reserve_slots_locked(live_slots_ + (n - indexed_));
  for (uint32_t code = indexed_; code < n; ++code) {
    const std::string_view s = lookup(code);
    if (s.data() == kErased) continue;
    const uint32_t half = hash_half(s);
    // One probe: inserts the slot unless the string is there already.
    bool found = false;
    const size_t at = probe_locked(s, half, &found);
    if (!found) {
      insert_slot_locked(at, half, code);
      continue;
    }
    const auto first = static_cast<uint32_t>(slots_[at]);
    if (error_.ok()) {
      error_ = absl::DataLossError(absl::StrCat("the ", name_.empty() ? "unnamed" : name_,
                                                " dictionary is damaged: the string of code ", code,
                                                " appears twice (also code ", first,
                                                "); writes are refused, reads go on"));
    }
  }
  indexed_ = n;
}

uint32_t Dictionary::intern(std::string_view s) {
  const uint64_t h = hash::hash64(s);
  MutexLock lock(&mu_);
  if (!index_complete_locked()) build_index_locked();
  return intern_locked(s, h);
}

absl::Status Dictionary::intern_many(std::span<const std::string_view> values, uint32_t* codes) {
  // In batches of kBatch strings: each batch's hashes are computed before
  // the lock is taken (two parser threads intern into the same
  // dictionaries: the shorter the lock is held, the less they wait), and
  // under the lock a large dictionary's slots and cache lines, mostly not
  // in the CPU's cache, are prefetched kAhead strings before each string
  // is interned, so several of those memory loads overlap instead of each
  // stalling in turn.
  constexpr size_t kBatch = 256;
  constexpr size_t kAhead = 8;
  // A large index's entries are prefetched too, kAhead strings before each
  // string, from home slots prefetched 2 * kAhead strings before (a small
  // dictionary's slots and entries stay in the CPU's cache: no second step).
  constexpr size_t kEntryPrefetchSlots = size_t{1} << 14;
  uint64_t hashes[kBatch];
  // A few strings (a record_event call's) are looked up under the shared
  // lock first, and only if one is new does the call take the exclusive
  // lock: in a live store nearly every string is known, so writers almost
  // never hold the lock that queries' find() takes shared, and a writer the
  // scheduler preempts in the middle of a call makes no query wait (on the
  // loaded 2-core machine such waits were the tens-of-ms tails of the
  // questions that look a user or a feature up, bench/RESULTS.md). Larger
  // batches (the file ingest's, whose sessions are mostly new) go straight
  // to the exclusive lock rather than probe twice.
  constexpr size_t kSharedFirst = 4;
  if (values.size() <= kSharedFirst) {
    for (size_t i = 0; i < values.size(); ++i) hashes[i] = hash::hash64(values[i]);
    ReaderMutexLock lock(&mu_);
    bool all_known = index_complete_locked() && error_.ok() && slot_count_ > 0;
    for (size_t i = 0; all_known && i < values.size(); ++i) {
      const auto half = static_cast<uint32_t>(hashes[i] >> 32);
      all_known = false;
      for (size_t at = home_locked(half);; at = (at + 1) & (slot_count_ - 1)) {
        const uint64_t slot = slots_[at];
        if (slot == kEmptySlot) break;
        if (static_cast<uint32_t>(slot >> 32) == half && slot != kTombstone &&
            text::equal(lookup(static_cast<uint32_t>(slot)), values[i])) {
          codes[i] = static_cast<uint32_t>(slot);
          all_known = true;
          break;
        }
      }
    }
    if (all_known) return absl::OkStatus();
  }
  for (size_t first = 0; first < values.size(); first += kBatch) {
    const size_t n = std::min(kBatch, values.size() - first);
    const std::string_view* batch = values.data() + first;
    for (size_t i = 0; i < n; ++i) hashes[i] = hash::hash64(batch[i]);
    MutexLock lock(&mu_);
    if (!index_complete_locked()) build_index_locked();
    if (!error_.ok()) return error_;
    if (slot_count_ < kEntryPrefetchSlots) {
      for (size_t i = 0; i < std::min(n, kAhead); ++i) prefetch_locked(hashes[i]);
      for (size_t i = 0; i < n; ++i) {
        if (i + kAhead < n) prefetch_locked(hashes[i + kAhead]);
        codes[first + i] = intern_locked(batch[i], hashes[i]);
      }
      continue;
    }
    // Two steps ahead: the slots 2 * kAhead strings ahead, the entries
    // kAhead ahead (a string interned meanwhile may move the slots: a
    // prefetch of a stale address only wastes a load).
    for (size_t i = 0; i < std::min(n, 2 * kAhead); ++i) prefetch_locked(hashes[i]);
    for (size_t i = 0; i < std::min(n, kAhead); ++i) prefetch_entry_locked(hashes[i]);
    for (size_t i = 0; i < n; ++i) {
      if (i + 2 * kAhead < n) prefetch_locked(hashes[i + 2 * kAhead]);
      if (i + kAhead < n) prefetch_entry_locked(hashes[i + kAhead]);
      codes[first + i] = intern_locked(batch[i], hashes[i]);
    }
  }
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
  if (e.view().data() == kErased) return;
  if (slot_count_ != 0) {
    // Before the entry is overwritten: find its slot by the string's hash.
    const uint32_t half = hash_half(e.view());
    const size_t mask = slot_count_ - 1;
    for (size_t i = home_locked(half); slots_[i] != kEmptySlot; i = (i + 1) & mask) {
      if (slots_[i] == slot_of(half, code)) {
        slots_[i] = kTombstone;
        --live_slots_;
        break;
      }
    }
  }
  if (cache_ != nullptr) {
    for (size_t i = 0; i < cache_slots_; ++i) {
      if (cache_[i].code == code) cache_[i] = CacheSlot{};
    }
  }
  // The string's bytes go (GDPR): an inline string's with the entry.
  if (!e.is_inline()) std::memset(const_cast<char*>(e.view().data()), 0, e.view().size());
  e = Entry::far(kErased, 0);
  erasures_.fetch_add(1, std::memory_order_release);
}

std::optional<uint32_t> Dictionary::find(std::string_view s) const {
  const uint32_t half = hash_half(s);
  // REQUIRES: the index is complete and has slots.
  const auto find_locked = [&]() ABSL_NO_THREAD_SAFETY_ANALYSIS -> std::optional<uint32_t> {
    const size_t mask = slot_count_ - 1;
    for (size_t i = home_locked(half);; i = (i + 1) & mask) {
      const uint64_t slot = slots_[i];
      if (slot == kEmptySlot) return std::nullopt;
      if (static_cast<uint32_t>(slot >> 32) == half && slot != kTombstone &&
          text::equal(lookup(static_cast<uint32_t>(slot)), s)) {
        return static_cast<uint32_t>(slot);
      }
    }
  };
  {
    ReaderMutexLock lock(&mu_);
    if (index_complete_locked()) {
      if (slot_count_ == 0) return std::nullopt;
      return find_locked();
    }
    // A lazily indexed dictionary answers its first look-ups by comparing
    // the entries in code order (the first code of a string restored twice,
    // as the index would): a process that asks about one user never builds
    // it. Under the lock: erase() overwrites an entry's bytes under it.
    if (scanned_finds_.fetch_add(1, std::memory_order_relaxed) < kScannedFinds) {
      const uint32_t n = size();
      for (uint32_t code = 0; code < n; ++code) {
        if (text::equal(lookup(code), s) && !erased(code)) return code;
      }
      return std::nullopt;
    }
  }
  // Then the next look-up builds the index.
  MutexLock lock(&mu_);
  if (!index_complete_locked()) build_index_locked();
  if (slot_count_ == 0) return std::nullopt;
  return find_locked();
}

size_t Dictionary::memory_bytes() const {
  ReaderMutexLock lock(&mu_);
  const uint32_t n = size_.load(std::memory_order_relaxed);
  const size_t blocks = (n + kBlockSize - 1) / kBlockSize;
  return bytes_ + blocks * kBlockSize * sizeof(Entry) + kMaxBlocks * sizeof(void*) +
         slot_count_ * sizeof(uint64_t) + cache_slots_ * sizeof(CacheSlot);
}

std::shared_ptr<const std::vector<uint32_t>> Dictionary::ranks(uint32_t max_size) const {
  MutexLock l(&ranks_mu_);
  const uint32_t n = size();
  const uint64_t erased = erasures();
  if (n > max_size) return nullptr;
  if (ranks_ != nullptr && ranks_->size() == n && ranks_erasures_ == erased) return ranks_;
  std::vector<uint32_t> codes(n);
  for (uint32_t c = 0; c < n; ++c) codes[c] = c;
  const StringRank rank(*this, codes);
  auto ranks = std::make_shared<std::vector<uint32_t>>(n);
  for (uint32_t c = 0; c < n; ++c) (*ranks)[c] = rank(c);
  ranks_ = std::move(ranks);
  ranks_erasures_ = erased;
  return ranks_;
}

}  // namespace usagedb
