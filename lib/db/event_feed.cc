// EventStoreImpl's readers of the events themselves (usagedb/feed.h):
// scan_events, which exports use, and read_feed with the cursors, which
// forwarding uses. docs/STORAGE.md ("The arrival sequence") explains the
// numbers and what "durable" means here.
//
// Both read a Snapshot without the write lock, except for two things:
// a buffer's event ids and metadata are the writer's until it is sealed, so
// buffer rows are copied under write_mu_; and a user's string may be erased
// by delete_user, so part rows are read under user_strings_mu_ (shared).
// Every string is copied into the page, so a visitor or a page's owner
// holds no lock and no part of the store.
#include <algorithm>
#include <chrono>
#include <limits>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "lib/db/event_store_impl.h"
#include "lib/storage/cursor_file.h"
#include "lib/util/status_macros.h"

namespace usagedb {
namespace {

// Events whose strings are copied into one growing buffer. Fields are kept
// as offsets while it grows (it may move) and become views at the end.
class EventArena {
 public:
  void add(uint64_t sequence, const Event& e) {
    Entry entry{sequence, e.timestamp, {}};
    const std::string_view fields[kFields] = {e.event_id,   e.user_id,    e.feature_id, e.product_version,
                                              e.event_type, e.session_id, e.metadata};
    for (int f = 0; f < kFields; ++f) {
      entry.fields[f] = {bytes_.size(), fields[f].size()};
      bytes_.insert(bytes_.end(), fields[f].begin(), fields[f].end());
    }
    entries_.push_back(entry);
  }
  // Room for `events` more events of about `bytes_each` bytes of strings.
  void reserve(size_t events, size_t bytes_each) {
    entries_.reserve(entries_.size() + events);
    bytes_.reserve(bytes_.size() + events * bytes_each);
  }
  size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  void clear() {
    entries_.clear();
    bytes_.clear();
  }
  // The events added, their strings viewing `bytes` (this arena's bytes, or
  // the same bytes moved elsewhere).
  void events(const std::vector<char>& bytes, std::vector<StoredEvent>* out) const {
    out->clear();
    out->reserve(entries_.size());
    for (const Entry& entry : entries_) {
      std::string_view f[kFields];
      for (int i = 0; i < kFields; ++i) f[i] = std::string_view(bytes.data() + entry.fields[i].offset, entry.fields[i].size);
      out->push_back(StoredEvent{entry.sequence, Event{.event_id = f[0],
                                                       .user_id = f[1],
                                                       .feature_id = f[2],
                                                       .product_version = f[3],
                                                       .event_type = f[4],
                                                       .timestamp = entry.timestamp,
                                                       .session_id = f[5],
                                                       .metadata = f[6]}});
    }
  }
  const std::vector<char>& bytes() const { return bytes_; }
  std::vector<char> take_bytes() { return std::move(bytes_); }

 private:
  static constexpr int kFields = 7;
  struct Field {
    size_t offset, size;
  };
  struct Entry {
    uint64_t sequence;
    Timestamp timestamp;
    Field fields[kFields];
  };
  std::vector<Entry> entries_;
  std::vector<char> bytes_;
};

Event event_of(const Part& part, uint32_t row, const Dictionaries& d) {
  const PartColumns& c = part.columns();
  return Event{.event_id = part.event_id(row),
               .user_id = d.user.lookup(c.user[row]),
               .feature_id = d.feature.lookup(c.feature[row]),
               .product_version = d.version.lookup(c.version[row]),
               .event_type = d.event_type.lookup(c.event_type[row]),
               .timestamp = Timestamp{std::chrono::seconds{c.timestamp[row]}},
               .session_id = d.session.lookup(c.session[row]),
               .metadata = part.metadata(row)};
}

Event event_of(const AppendBuffer& buffer, uint32_t row, const Dictionaries& d) {
  const RowCodes& r = buffer.row(row);
  return Event{.event_id = buffer.event_id(row),
               .user_id = d.user.lookup(r.user),
               .feature_id = d.feature.lookup(r.feature),
               .product_version = d.version.lookup(r.version),
               .event_type = d.event_type.lookup(r.event_type),
               .timestamp = Timestamp{std::chrono::seconds{r.timestamp}},
               .session_id = d.session.lookup(r.session),
               .metadata = buffer.metadata(row)};
}

// A row of the feed: where it is, and its number.
struct RowRef {
  uint64_t sequence;
  const Part* part;            // null for a buffer row
  const AppendBuffer* buffer;  // null for a part row
  uint32_t row;
};

// The first row of rows [0, rows) of `buffer` numbered above `after`
// (numbers ascend with the row).
uint32_t first_buffer_row_after(const AppendBuffer& buffer, uint32_t rows, uint64_t after) {
  uint32_t lo = 0, hi = rows;
  while (lo < hi) {
    const uint32_t mid = lo + (hi - lo) / 2;
    if (buffer.sequence(mid) <= after) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo;
}

}  // namespace

absl::Status EventStoreImpl::scan_events(const ScanOptions& options, const EventPageVisitor& visit) const {
  if (options.page_events == 0) return absl::InvalidArgumentError("scan_events: page_events must be at least 1");
  USAGEDB_RETURN_IF_ERROR(ensure_sessions());  // events carry their session strings
  const int64_t begin = options.start ? options.start->time_since_epoch().count() : std::numeric_limits<int64_t>::min();
  const int64_t end = options.end ? options.end->time_since_epoch().count() : std::numeric_limits<int64_t>::max();
  const auto in_range = [&](uint32_t t) { return t >= begin && t < end; };
  const Snapshot snap = snapshot();
  EventArena arena;
  std::vector<StoredEvent> page;
  const auto visit_page = [&]() -> absl::Status {
    if (arena.empty()) return absl::OkStatus();
    arena.events(arena.bytes(), &page);
    absl::Status s = visit(page);
    arena.clear();
    return s;
  };
  for (const PartitionView& p : snap.partitions()) {
    for (const auto& part : p.parts()) {
      if (part->max_timestamp() < begin || part->min_timestamp() >= end) continue;
      // Held while its rows are copied into the arena (a page's strings are
      // the arena's), then evictable again: an export of the whole store
      // holds one part at a time.
      const HeldPart held = snap.hold(*part);
      if (!held) return snap.status();  // a damaged part file
      const RowRange rows = part->time_range(begin, end);
      for (uint32_t row = rows.begin; row < rows.end;) {
        {
          ReaderMutexLock reading(&user_strings_mu_);
          for (; row < rows.end && arena.size() < options.page_events; ++row) {
            if (dictionaries_.user.erased(part->columns().user[row])) continue;  // deleted meanwhile
            arena.add(part->sequence(row), event_of(*part, row, dictionaries_));
          }
        }
        if (arena.size() == options.page_events) USAGEDB_RETURN_IF_ERROR(visit_page());
      }
    }
    // Unsealed rows: their strings are the writer's until the buffer is sealed.
    for (const BufferView& b : p.buffers) {
      for (uint32_t row = 0; row < b.rows;) {
        {
          MutexLock lock(&write_mu_);
          for (; row < b.rows && arena.size() < options.page_events; ++row) {
            const RowCodes& codes = b.buffer->row(row);
            if (!in_range(codes.timestamp) || dictionaries_.user.erased(codes.user)) continue;
            arena.add(b.buffer->sequence(row), event_of(*b.buffer, row, dictionaries_));
          }
        }
        if (arena.size() == options.page_events) USAGEDB_RETURN_IF_ERROR(visit_page());
      }
    }
  }
  return visit_page();
}

absl::StatusOr<EventFeedPage> EventStoreImpl::read_feed(uint64_t after, size_t max_events) {
  if (max_events == 0) return absl::InvalidArgumentError("read_feed: max_events must be at least 1");
  USAGEDB_RETURN_IF_ERROR(ensure_sessions());  // events carry their session strings
  EventFeedPage page;
  std::shared_ptr<const Version> version;
  {
    MutexLock lock(&write_mu_);
    page.durable_through = durable_sequence_locked();
    if (files_ && page.durable_through > synced_through_) {
      if (!write_error_.ok()) return write_error_;
      if (absl::Status s = files_->sync(); !s.ok()) return stop_writes_locked(s);
      synced_through_ = next_sequence_ - 1;
    }
    // Every event numbered up to durable_through was appended and published
    // before this point, so this Version (or a buffer it holds) has it.
    ReaderMutexLock reading(&version_mu_);
    version = version_;
  }
  const uint64_t through = page.durable_through;
  page.next_after = std::max(after, through);
  if (after >= through) return page;
  const Snapshot snap(&dictionaries_, std::move(version));

  // The smallest number above `after`, then the window of max_events
  // numbers from it: at most max_events rows (numbers are unique), fewer
  // where the numbers have gaps.
  std::optional<uint64_t> first;
  const auto consider = [&](std::optional<uint64_t> n) {
    if (n && (!first || *n < *first)) first = n;
  };
  // A part whose numbers are all at most `after` is not read.
  for (const PartitionView& p : snap.partitions()) {
    for (const auto& part : p.parts()) {
      if (part->max_sequence() <= after) continue;
      if (!snap.pin(*part)) return snap.status();  // a damaged part file
      consider(part->columns().sequence.smallest_in(after, through));
    }
    for (const BufferView& b : p.buffers) {
      const uint32_t row = first_buffer_row_after(*b.buffer, b.rows, after);
      if (row < b.rows && b.buffer->sequence(row) <= through) consider(b.buffer->sequence(row));
    }
  }
  if (!first) return page;  // nothing stored in (after, through]: deleted, or gaps
  const uint64_t last = *first - 1 + std::min<uint64_t>(max_events, through - *first + 1);
  page.next_after = last;

  std::vector<RowRef> refs;
  for (const PartitionView& p : snap.partitions()) {
    for (const auto& part : p.parts()) {
      if (part->max_sequence() <= after) continue;  // pinned above otherwise
      part->columns().sequence.for_each_in(after, last, [&](uint32_t row, uint64_t sequence) {
        refs.push_back(RowRef{sequence, part.get(), nullptr, row});
      });
    }
    for (const BufferView& b : p.buffers) {
      for (uint32_t row = first_buffer_row_after(*b.buffer, b.rows, after);
           row < b.rows && b.buffer->sequence(row) <= last; ++row) {
        refs.push_back(RowRef{b.buffer->sequence(row), nullptr, b.buffer, row});
      }
    }
  }
  std::sort(refs.begin(), refs.end(), [](const RowRef& a, const RowRef& b) { return a.sequence < b.sequence; });

  // Copied in number order. A buffer row's strings are the writer's: with
  // any in the page, the copy holds write_mu_ (which also keeps user strings
  // from being erased); otherwise only user_strings_mu_, shared.
  const bool any_buffer_row = std::any_of(refs.begin(), refs.end(), [](const RowRef& r) { return r.buffer != nullptr; });
  EventArena arena;
  // The strings of the page's events are copied once, into room made for
  // them (a guess: a generated event's strings are ~150 bytes; the arena
  // grows past it when they are longer).
  arena.reserve(refs.size(), 160);
  const auto copy_rows = [&] {
    for (const RowRef& r : refs) {
      if (r.buffer != nullptr) {
        if (dictionaries_.user.erased(r.buffer->row(r.row).user)) continue;  // deleted meanwhile
        arena.add(r.sequence, event_of(*r.buffer, r.row, dictionaries_));
      } else {
        if (dictionaries_.user.erased(r.part->columns().user[r.row])) continue;
        arena.add(r.sequence, event_of(*r.part, r.row, dictionaries_));
      }
    }
  };
  if (any_buffer_row) {
    MutexLock lock(&write_mu_);
    copy_rows();
  } else {
    ReaderMutexLock reading(&user_strings_mu_);
    copy_rows();
  }
  page.storage = arena.take_bytes();
  arena.events(page.storage, &page.events);
  return page;
}

absl::StatusOr<uint64_t> EventStoreImpl::load_cursor(std::string_view name) const {
  USAGEDB_RETURN_IF_ERROR(storage::check_cursor_name(name));
  if (files_) return files_->load_cursor(name);
  MutexLock lock(&write_mu_);
  auto it = memory_cursors_.find(std::string(name));
  return it == memory_cursors_.end() ? 0 : it->second;
}

absl::Status EventStoreImpl::save_cursor(std::string_view name, uint64_t sequence) {
  USAGEDB_RETURN_IF_ERROR(storage::check_cursor_name(name));
  {
    MutexLock lock(&write_mu_);
    // New events are numbered above every saved cursor (feed.h).
    if (sequence != std::numeric_limits<uint64_t>::max()) next_sequence_ = std::max(next_sequence_, sequence + 1);
    if (!files_) {
      memory_cursors_[std::string(name)] = sequence;
      return absl::OkStatus();
    }
  }
  return files_->save_cursor(name, sequence);
}

}  // namespace usagedb
