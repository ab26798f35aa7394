// Links against an installed usagedb (usagedb::usagedb and usagedb::http)
// and checks one round trip through each.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <iostream>
#include <string>

#include "usagedb/http_server.h"
#include "usagedb/usagedb.h"

// GET /v0/health over a plain socket: the response's text.
std::string get_health(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string response;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
    const std::string request = "GET /v0/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    (void)!::write(fd, request.data(), request.size());
    char buf[4096];
    for (ssize_t n; (n = ::read(fd, buf, sizeof(buf))) > 0;) response.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return response;
}

int main() {
  auto store = usagedb::EventStore::open({});
  if (!store.ok()) return std::cerr << store.status() << "\n", 1;
  absl::Status s = (*store)->record_event({.user_id = "u",
                                           .feature_id = "f",
                                           .product_version = "1",
                                           .event_type = "view",
                                           .timestamp = usagedb::parse_timestamp("2025-01-01 00:00:00").value()});
  auto usage = (*store)->user_feature_usage({.user_id = "u"});
  if (!s.ok() || !usage.ok() || usage->rows.size() != 1) return std::cerr << "round trip failed\n", 1;
  std::cout << "find_package(usagedb) works: " << usage->rows[0].feature_id << " used " << usage->rows[0].usage_count
            << "x\n";

  usagedb::HttpServerOptions options;
  options.port = 0;
  options.tokens = {{.name = "admin", .token = "secret", .scopes = {"ADMIN"}}};
  usagedb::HttpServer server(**store, options);
  if (absl::Status started = server.start(); !started.ok()) return std::cerr << started << "\n", 1;
  const std::string health = get_health(server.port());
  if (health.find("{\"status\":\"ok\"}") == std::string::npos) return std::cerr << "health: " << health << "\n", 1;
  if (!server.stop().ok()) return 1;
  std::cout << "usagedb::http works: GET /v0/health on port " << server.port() << " said ok\n";
}
