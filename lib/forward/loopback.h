// Whether a URL's host is this machine's loopback interface: where the
// forwarder sends plain NDJSON rather than gzip (ForwardCompression::kAuto,
// usagedb/forwarder.h), since both ends share the CPU and no network is
// crossed.
//
//   is_loopback_origin("http://127.0.0.1:7181")   // true
//   is_loopback_origin("https://api.tinybird.co") // false
//
// Thread-safety: a pure function.
#ifndef USAGEDB_FORWARD_LOOPBACK_H_
#define USAGEDB_FORWARD_LOOPBACK_H_

#include <string_view>

namespace usagedb::forwarding {

// `origin` is "scheme://host[:port]" (no path). True for the hosts
// "localhost", a dotted IPv4 address in 127.0.0.0/8 and "[::1]"
// (case-insensitive); false for every other name or address, and for
// text that is not an origin.
bool is_loopback_origin(std::string_view origin);

}  // namespace usagedb::forwarding

#endif  // USAGEDB_FORWARD_LOOPBACK_H_
