// usagedb/usagedb.h: the whole public API of usagedb in one include.
//
// usagedb is an embeddable analytics engine for product feature-usage
// events: record events, ask typed questions (which features a user used, how
// each feature is used across versions, how usage moves over time). Start
// with usagedb/event_store.h.
#ifndef USAGEDB_USAGEDB_H_
#define USAGEDB_USAGEDB_H_

#include "usagedb/event.h"         // IWYU pragma: export
#include "usagedb/event_store.h"   // IWYU pragma: export
#include "usagedb/feed.h"          // IWYU pragma: export
#include "usagedb/ingest.h"        // IWYU pragma: export
#include "usagedb/options.h"       // IWYU pragma: export
#include "usagedb/queries.h"       // IWYU pragma: export
#include "usagedb/stats.h"         // IWYU pragma: export

#endif  // USAGEDB_USAGEDB_H_
