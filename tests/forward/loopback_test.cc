// is_loopback_origin(): which destinations get plain batches under
// ForwardCompression::kAuto.
#include "lib/forward/loopback.h"

#include "gtest/gtest.h"

namespace usagedb::forwarding {
namespace {

TEST(Loopback, NamesAndAddressesOfThisMachine) {
  for (const char* origin : {"http://127.0.0.1", "http://127.0.0.1:7181", "https://127.1.2.3:443", "http://localhost",
                             "http://LocalHost:80", "http://[::1]", "http://[::1]:7181"}) {
    EXPECT_TRUE(is_loopback_origin(origin)) << origin;
  }
}

TEST(Loopback, EverythingElseIsRemote) {
  for (const char* origin :
       {"https://api.tinybird.co", "http://10.0.0.1:7181", "http://128.0.0.1", "http://127.0.0", "http://127.0.0.1.5",
        "http://127.0.0.256", "http://127.localhost.example.com", "http://localhost.example.com", "http://[::2]:7181",
        "http://[::1", "http://[::1]x", "http://", "127.0.0.1:7181", "", "http://127..0.1", "http://127.0.0.-1"}) {
    EXPECT_FALSE(is_loopback_origin(origin)) << origin;
  }
}

}  // namespace
}  // namespace usagedb::forwarding
