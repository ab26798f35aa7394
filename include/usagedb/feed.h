// usagedb/feed.h: reading a store's events back, for exports and for
// forwarding them to another engine (SPEC 8).
//
// Every event a store keeps has an arrival sequence number: unique in the
// store, and larger than the number of every event it holds that was
// recorded before (by a call that returned before this event's began).
// Numbers have gaps: a duplicate skipped by dedup uses one, and so does a
// batch lost in a crash before it was durable. docs/STORAGE.md, "The arrival sequence", says how
// they are kept.
//
// Two ways to read:
//  - EventStore::scan_events: every stored event (after dedup), month by
//    month, in pages: what `usagedb export` writes. Memory stays that of
//    one page, whatever the store's size.
//  - EventStore::read_feed: the durable events that arrived after a number,
//    lowest number first: a change feed. A consumer keeps the number it got
//    to (a cursor: EventStore::save_cursor persists it in the store) and
//    resumes from it after a restart of either side, without missing or
//    repeating an event.
//
//   uint64_t after = store->load_cursor("to-tinybird").value();
//   for (;;) {
//     absl::StatusOr<usagedb::EventFeedPage> page = store->read_feed(after, 10000);
//     if (!page.ok() || page->events.empty()) break;
//     deliver(page->events);                          // your own sink
//     after = page->next_after;
//     store->save_cursor("to-tinybird", after).IgnoreError();
//   }
//
// Thread-safety: plain values.
#ifndef USAGEDB_FEED_H_
#define USAGEDB_FEED_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <vector>

#include "absl/status/status.h"
#include "usagedb/event.h"

namespace usagedb {

// One stored event and its arrival sequence number.
struct StoredEvent {
  uint64_t sequence = 0;
  Event event;  // string views: see who owns them where the event is given
};

// Which events scan_events reads.
struct ScanOptions {
  // Only events whose timestamp is in [start, end); unset: unbounded.
  std::optional<Timestamp> start;
  std::optional<Timestamp> end;
  // The most events handed to one call of the visitor. REQUIRES: >= 1.
  size_t page_events = 4096;
};

// Called by scan_events with each page of events; the events' strings are
// valid until it returns. A non-OK status stops the scan and is returned.
using EventPageVisitor = std::function<absl::Status(std::span<const StoredEvent> events)>;

// A page of the feed (EventStore::read_feed). Move-only: the events' string
// views point into the page's own storage.
struct EventFeedPage {
  EventFeedPage() = default;
  EventFeedPage(EventFeedPage&&) = default;
  EventFeedPage& operator=(EventFeedPage&&) = default;
  EventFeedPage(const EventFeedPage&) = delete;
  EventFeedPage& operator=(const EventFeedPage&) = delete;

  // Ascending by sequence number.
  std::vector<StoredEvent> events;
  // The number to read after next time: every durable event numbered up to
  // it has been returned, by this call or an earlier one. Save it as the
  // cursor once the page's events are delivered. Can be above the last
  // event's number (gaps).
  uint64_t next_after = 0;
  // The highest number durable when the page was read: next_after ==
  // durable_through means the reader has caught up.
  uint64_t durable_through = 0;
  // The bytes the events' strings point into.
  std::vector<char> storage;
};

}  // namespace usagedb

#endif  // USAGEDB_FEED_H_
