#include "lib/forward/loopback.h"

#include <cctype>
#include <charconv>

namespace usagedb::forwarding {
namespace {

// "127.a.b.c" with each part a decimal number up to 255.
bool is_ipv4_loopback(std::string_view host) {
  int parts = 0;
  for (;;) {
    const size_t dot = host.find('.');
    const std::string_view part = host.substr(0, dot);
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), value);
    if (part.empty() || ec != std::errc() || end != part.data() + part.size() || value > 255) return false;
    if (parts == 0 && value != 127) return false;
    ++parts;
    if (dot == std::string_view::npos) return parts == 4;
    host.remove_prefix(dot + 1);
  }
}

}  // namespace

bool is_loopback_origin(std::string_view origin) {
  const size_t scheme = origin.find("://");
  if (scheme == std::string_view::npos) return false;
  std::string_view host = origin.substr(scheme + 3);
  if (host.empty()) return false;
  if (host.front() == '[') {
    const size_t close = host.find(']');
    if (close == std::string_view::npos) return false;
    const std::string_view rest = host.substr(close + 1);
    if (!rest.empty() && rest.front() != ':') return false;
    return host.substr(0, close + 1) == "[::1]";
  }
  host = host.substr(0, host.find(':'));
  constexpr std::string_view kLocalhost = "localhost";
  bool localhost = host.size() == kLocalhost.size();
  for (size_t i = 0; localhost && i < host.size(); ++i) {
    localhost = std::tolower(static_cast<unsigned char>(host[i])) == kLocalhost[i];
  }
  return localhost || is_ipv4_loopback(host);
}

}  // namespace usagedb::forwarding
