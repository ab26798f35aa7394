#include "lib/util/hash.h"

#include <string>

#include "gtest/gtest.h"
#include "lib/gen/random.h"

namespace usagedb::hash {
namespace {

TEST(Hash, ChecksumDiffersFromHash64) {
  EXPECT_NE(checksum("usagedb"), hash64("usagedb"));
  EXPECT_NE(checksum(""), hash64(""));
}

TEST(Hash, TwoPartChecksumEqualsChecksumOfConcatenation) {
  gen::Random random(7);
  // Sizes on both sides of the one-shot copy limit and of XXH3's internal
  // stripe and block sizes.
  for (size_t total : {0, 1, 3, 16, 128, 240, 241, 255, 256, 257, 1024, 4096, 70000}) {
    std::string bytes(total, '\0');
    for (char& c : bytes) c = static_cast<char>(random.uniform(256));
    const uint64_t expected = checksum(bytes);
    for (size_t split : {size_t{0}, total / 3, total / 2, total}) {
      std::string_view all(bytes);
      EXPECT_EQ(checksum(all.substr(0, split), all.substr(split)), expected) << total << " split " << split;
    }
  }
}

TEST(Hash, ChecksumSeesEveryByte) {
  std::string bytes(300, 'x');
  const uint64_t base = checksum(bytes.substr(0, 3), bytes.substr(3));
  for (size_t i = 0; i < bytes.size(); ++i) {
    std::string changed = bytes;
    changed[i] ^= 1;
    EXPECT_NE(checksum(std::string_view(changed).substr(0, 3), std::string_view(changed).substr(3)), base) << i;
  }
}

}  // namespace
}  // namespace usagedb::hash
