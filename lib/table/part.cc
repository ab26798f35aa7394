#include "lib/table/part.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "lib/table/user_ordered_rows.h"

namespace usagedb {

Part::Part(uint64_t id, uint32_t month, PartColumns columns, PartIndexes indexes)
    : id_(id),
      month_(month),
      summary_{static_cast<uint32_t>(columns.timestamp.size()), columns.timestamp.front(), columns.timestamp.back(),
               columns.sequence.max()} {
  MutexLock l(&mu_);
  owned_ = std::make_unique<const PartData>(PartData{std::move(columns), std::move(indexes)});
  data_.store(owned_.get(), std::memory_order_release);
}

Part::Part(uint64_t id, uint32_t month, const Summary& summary, Loader loader, std::shared_ptr<PartCache> cache,
           UserReader user_reader, ColumnsReader columns_reader)
    : id_(id),
      month_(month),
      summary_(summary),
      loader_(std::move(loader)),
      user_reader_(std::move(user_reader)),
      columns_reader_(std::move(columns_reader)),
      cache_(std::move(cache)) {}

Part::~Part() {
  // First: the cache may be evicting this part on another thread.
  if (cache_ != nullptr) {
    cache_->forget(this);
    cache_->forget(&user_rows_memory_);
  }
}

void Part::Unpin::operator()(const Part* part) const { part->unpin(); }

absl::StatusOr<Part::Pin> Part::pin() const {
  if (!lazy()) return Pin();  // resident: nothing to hold
  size_t loaded_bytes = 0;
  {
    MutexLock l(&mu_);
    if (owned_ == nullptr) {
      // Loading under the part's lock: a second reader of the same part waits
      // for this one instead of reading the file again.
      absl::StatusOr<PartData> data = loader_();
      if (!data.ok()) return data.status();
      owned_ = std::make_unique<const PartData>(*std::move(data));
      loaded_bytes = std::max<size_t>(memory_bytes(*owned_), 1);
      data_.store(owned_.get(), std::memory_order_release);
    }
    ++pins_;
  }
  // Without the part's lock: the cache locks parts to evict them.
  cache_->used(this, loaded_bytes);
  return Pin(this);
}

absl::Status Part::pin_all(std::span<const std::shared_ptr<const Part>> parts, std::vector<Pin>* pins,
                           uint64_t* failed) {
  for (const auto& part : parts) {
    absl::StatusOr<Pin> pin = part->pin();
    if (!pin.ok()) {
      if (failed != nullptr) *failed = part->id();
      return pin.status();
    }
    pins->push_back(*std::move(pin));
  }
  return absl::OkStatus();
}

void Part::unpin() const {
  {
    MutexLock l(&mu_);
    --pins_;
  }
  cache_->trim();
}

size_t Part::evict() const {
  MutexLock l(&mu_);
  if (pins_ > 0 || owned_ == nullptr) return 0;
  const size_t bytes = std::max<size_t>(memory_bytes(*owned_), 1);
  data_.store(nullptr, std::memory_order_release);
  owned_.reset();
  return bytes;
}

absl::StatusOr<std::shared_ptr<const UserOrderedRows>> Part::user_ordered_rows() const {
  if (!lazy()) return nullptr;
  std::shared_ptr<const UserOrderedRows> kept;
  {
    MutexLock l(&mu_);
    if (user_rows_unpacked_) return nullptr;
    kept = user_rows_;
  }
  if (kept != nullptr) {
    cache_->touch(&user_rows_memory_);  // the newest use (not under the part's lock)
    return kept;
  }
  std::shared_ptr<const UserOrderedRows> built;
  if (loaded()) {
    absl::StatusOr<Pin> pin = this->pin();
    if (!pin.ok()) return pin.status();
    built = UserOrderedRows::build(columns());
  } else {
    // Read for these rows alone, outside the cache, and let go once they
    // are built: the part's data neither takes the budget's newest place
    // nor, as it comes in, pushes out the rows by user of the parts read
    // before it (a year of parts larger than the cache would push out every
    // one). Over the budget while they are built, as a pinned part is: the
    // three columns they need when a ColumnsReader reads them (at 100M
    // events, ~100 MB of a month's part), else the whole part.
    if (columns_reader_ != nullptr) {
      absl::StatusOr<PartColumns> columns = columns_reader_();
      if (!columns.ok()) return columns.status();
      built = UserOrderedRows::build(*columns);
    } else {
      absl::StatusOr<PartData> data = loader_();
      if (!data.ok()) return data.status();
      built = UserOrderedRows::build(data->columns);
    }
  }
  {
    MutexLock l(&mu_);
    if (built == nullptr) {
      user_rows_unpacked_ = true;
      return nullptr;
    }
    if (user_rows_ != nullptr) return user_rows_;  // built by another caller meanwhile
    user_rows_ = built;
  }
  // Without the part's lock: the cache may drop charges (this one too).
  cache_->charge(&user_rows_memory_, static_cast<int64_t>(built->memory_bytes()));
  return built;
}

size_t Part::UserRowsMemory::drop_charged(bool all) const {
  if (!all) return 0;  // dropped in its turn with the parts
  MutexLock l(&part_->mu_);
  // Held by a caller: it stays. Gone already (dropped between its build and
  // its charge): all of the charge is freed.
  if (part_->user_rows_ == nullptr) return SIZE_MAX;
  if (part_->user_rows_.use_count() > 1) return 0;
  const size_t bytes = part_->user_rows_->memory_bytes();
  part_->user_rows_.reset();
  return bytes;
}

const PartData& Part::load_for_good() const {
  absl::StatusOr<Pin> pin = this->pin();
  if (!pin.ok()) {
    std::fprintf(stderr, "usagedb: part %llu read without a pin could not be loaded: %s\n",
                 static_cast<unsigned long long>(id_), std::string(pin.status().message()).c_str());
    std::abort();
  }
  {
    // Held for good: the pin is never released.
    MutexLock l(&mu_);
    ++pins_;
  }
  return *data_.load(std::memory_order_acquire);
}

RowRange Part::time_range(int64_t begin, int64_t end) const {
  const auto& ts = columns().timestamp;
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
  MutexLock l(&mu_);
  return (owned_ == nullptr ? 0 : memory_bytes(*owned_)) + (user_rows_ == nullptr ? 0 : user_rows_->memory_bytes());
}

size_t Part::memory_bytes(const PartData& data) {
  const auto& c = data.columns;
  size_t bytes = (c.timestamp.capacity() + c.feature.capacity() + c.version.capacity() + c.user.capacity() +
                  c.event_type.capacity() + c.session.capacity() + c.metadata.capacity()) *
                 sizeof(uint32_t);
  bytes += c.metadata_values.memory_bytes() + c.event_id.memory_bytes() + c.sequence.memory_bytes();
  bytes += data.indexes.user.memory_bytes();
  for (const BitmapIndex* index : {&data.indexes.feature, &data.indexes.version}) {
    bytes += index->capacity() * (sizeof(BitmapIndex::value_type) + 1);
    for (const auto& [code, bitmap] : *index) bytes += bitmap.memory_bytes() - sizeof(Bitmap);
  }
  return bytes;
}

// ---- PartCache ----------------------------------------------------------------

size_t PartCache::bytes() const {
  MutexLock l(&mu_);
  return bytes_;
}

size_t PartCache::charged() const {
  MutexLock l(&mu_);
  return charged_;
}

std::vector<PartCache::Entry>::iterator PartCache::find_owner(const ChargedMemory* owner) {
  return std::find_if(entries_.begin(), entries_.end(), [&](const Entry& e) { return e.owner == owner; });
}

void PartCache::charge(const ChargedMemory* owner, int64_t bytes) {
  MutexLock l(&mu_);
  auto it = find_owner(owner);
  Entry entry{nullptr, owner, 0};
  const bool found = it != entries_.end();
  const auto at = it - entries_.begin();
  if (found) {
    entry = *it;
    charged_ -= it->bytes;
    entries_.erase(it);
  }
  const auto magnitude = static_cast<size_t>(bytes < 0 ? -bytes : bytes);
  entry.bytes = bytes < 0 ? entry.bytes - std::min(entry.bytes, magnitude) : entry.bytes + magnitude;
  if (entry.bytes == 0) return;
  charged_ += entry.bytes;
  // The newest use when it grew; where it was otherwise (an erase and an
  // insert at the same place).
  if (bytes > 0 || !found) {
    entries_.push_back(entry);
  } else {
    entries_.insert(entries_.begin() + at, entry);
  }
  trim_locked();
}

void PartCache::touch(const ChargedMemory* owner) {
  MutexLock l(&mu_);
  auto it = find_owner(owner);
  if (it == entries_.end()) return;
  const Entry entry = *it;
  entries_.erase(it);
  entries_.push_back(entry);
}

void PartCache::forget(const ChargedMemory* owner) {
  MutexLock l(&mu_);
  auto it = find_owner(owner);
  if (it == entries_.end()) return;
  charged_ -= it->bytes;
  entries_.erase(it);
}

void PartCache::used(const Part* part, size_t bytes) {
  MutexLock l(&mu_);
  auto it = std::find_if(entries_.begin(), entries_.end(), [&](const Entry& e) { return e.part == part; });
  Entry entry{part, nullptr, bytes};
  if (it != entries_.end()) {
    entry.bytes = std::max(it->bytes, bytes);
    bytes_ -= it->bytes;
    entries_.erase(it);
  }
  if (bytes > 0) loads_.fetch_add(1, std::memory_order_relaxed);
  if (entry.bytes == 0) return;  // evicted between its load and now: nothing held
  bytes_ += entry.bytes;
  entries_.push_back(entry);
  trim_locked();
}

void PartCache::trim() {
  if (budget_ == 0) return;
  MutexLock l(&mu_);
  trim_locked();
}

void PartCache::trim_locked() {
  if (budget_ == 0) return;
  // Two passes, oldest first: what charges' owners have not used lately,
  // then everything nothing holds.
  for (const bool all : {false, true}) {
    for (size_t i = 0; i < entries_.size() && bytes_ + charged_ > budget_;) {
      Entry& e = entries_[i];
      // Lock order: the cache, then a part (pin() calls used() without its
      // lock) or a charge's owner (it charges without its locks).
      if (e.part != nullptr) {
        if (!all || e.part->evict() == 0) {
          ++i;  // pinned (or the first pass)
          continue;
        }
        bytes_ -= e.bytes;
        evictions_.fetch_add(1, std::memory_order_relaxed);
      } else {
        const size_t freed = std::min(e.owner->drop_charged(all), e.bytes);
        if (freed == 0) {
          ++i;  // held
          continue;
        }
        drops_.fetch_add(1, std::memory_order_relaxed);
        charged_ -= freed;
        e.bytes -= freed;
        if (e.bytes > 0) {
          ++i;  // what is held stays
          continue;
        }
      }
      entries_.erase(entries_.begin() + static_cast<ptrdiff_t>(i));
    }
  }
}

void PartCache::forget(const Part* part) {
  MutexLock l(&mu_);
  auto it = std::find_if(entries_.begin(), entries_.end(), [&](const Entry& e) { return e.part == part; });
  if (it == entries_.end()) return;
  bytes_ -= it->bytes;
  entries_.erase(it);
}

}  // namespace usagedb
