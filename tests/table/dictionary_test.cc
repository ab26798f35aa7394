#include "lib/table/dictionary.h"

#include <map>
#include <optional>
#include <string>
#include <memory>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "lib/gen/random.h"

namespace usagedb {
namespace {

TEST(Dictionary, CodesAreDenseStableAndFindable) {
  Dictionary d;
  EXPECT_EQ(d.intern("b"), 0u);
  EXPECT_EQ(d.intern("a"), 1u);
  EXPECT_EQ(d.intern("b"), 0u);
  EXPECT_EQ(d.intern(""), 2u);
  EXPECT_EQ(d.size(), 3u);
  EXPECT_EQ(d.lookup(1), "a");
  EXPECT_EQ(d.lookup(2), "");
  EXPECT_EQ(d.find("a"), 1u);
  EXPECT_EQ(d.find("c"), std::nullopt);
}

// A kLazy dictionary restores without hashing, adopts the segment's bytes
// (for strings too long to be held in their entries), and builds its index
// on the first intern/find/erase.
// The first look-ups of a lazily indexed dictionary compare its entries in
// code order: the first code of a string restored twice, no index built
// (status() stays OK: the duplicate is not looked for); the ninth builds the
// index, which finds the duplicate.
TEST(Dictionary, LazyLookUpsCompareTheEntriesBeforeTheIndexIsBuilt) {
  Dictionary d("user_id", Dictionary::Indexing::kLazy);
  for (const char* s : {"u0", "u1", "u0", "u3"}) ASSERT_TRUE(d.restore(s, false));
  const size_t unindexed = d.memory_bytes();
  const std::pair<const char*, std::optional<uint32_t>> finds[] = {
      {"u0", 0u}, {"u3", 3u}, {"u9", std::nullopt}, {"u1", 1u}, {"u0", 0u}, {"", std::nullopt}, {"u3", 3u}, {"u0", 0u}};
  for (const auto& [s, code] : finds) EXPECT_EQ(d.find(s), code) << s;
  EXPECT_EQ(d.memory_bytes(), unindexed);
  EXPECT_TRUE(d.status().ok());
  EXPECT_EQ(d.find("u3"), 3u);  // builds the index
  EXPECT_GT(d.memory_bytes(), unindexed);
  EXPECT_EQ(d.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(d.find("u0"), 0u);
}

TEST(Dictionary, LazyIndexIsBuiltOnFirstUse) {
  Dictionary d("session_id", Dictionary::Indexing::kLazy);
  auto bytes = std::make_unique<std::string>("s0session_long_string1s3");
  const std::string_view v = *bytes;
  const std::vector<std::string_view> strings = {v.substr(0, 2), v.substr(2, 20), "", v.substr(22, 2)};
  EXPECT_EQ(d.restore_many(strings, {false, false, true, false}, std::move(bytes)), -1);
  ASSERT_EQ(d.size(), 4u);
  EXPECT_EQ(d.lookup(0), "s0");
  EXPECT_EQ(d.lookup(1), "session_long_string1");
  EXPECT_EQ(d.lookup(1).data(), v.data() + 2);  // adopted, not copied
  EXPECT_TRUE(d.erased(2));
  EXPECT_EQ(d.find("s3"), 3u);  // compares the entries
  EXPECT_EQ(d.find("s2"), std::nullopt);
  EXPECT_EQ(d.find(""), std::nullopt);  // code 2 is erased
  EXPECT_EQ(d.intern("s2"), 4u);
  EXPECT_EQ(d.intern("s0"), 0u);
  EXPECT_TRUE(d.status().ok());
  // Interning first builds it too.
  Dictionary e("session_id", Dictionary::Indexing::kLazy);
  ASSERT_TRUE(e.restore("a", false));
  ASSERT_TRUE(e.restore("b", false));
  const std::vector<std::string_view> values = {"b", "c", "a"};
  uint32_t codes[3];
  ASSERT_TRUE(e.intern_many(values, codes).ok());
  EXPECT_EQ(std::vector<uint32_t>(codes, codes + 3), (std::vector<uint32_t>{1, 2, 0}));
}

// Strings of up to 15 bytes are held in their entries, longer ones in the
// arena: both sides of the boundary intern, look up, erase (bytes gone, a
// new code when the string comes back) and restore alike, and a segment
// buffer holding only short strings is not kept (ASan would see a lookup
// into it after it is freed).
TEST(Dictionary, InlineAndArenaStringsBehaveAlike) {
  const std::string fifteen = "session_1234567";
  const std::string sixteen = "session_12345678";
  ASSERT_EQ(fifteen.size(), 15u);
  Dictionary d;
  const uint32_t a = d.intern(fifteen);
  const uint32_t b = d.intern(sixteen);
  EXPECT_EQ(d.intern(std::string(fifteen)), a);
  EXPECT_EQ(d.lookup(a), fifteen);
  EXPECT_EQ(d.lookup(b), sixteen);
  for (const uint32_t code : {a, b}) {
    const std::string_view before = d.lookup(code);
    const char* bytes = before.data();
    const size_t size = before.size();
    d.erase(code);
    EXPECT_TRUE(d.erased(code));
    EXPECT_EQ(d.lookup(code), "");
    EXPECT_EQ(std::string(bytes, size).find("session"), std::string::npos) << "bytes of code " << code << " remain";
  }
  EXPECT_EQ(d.find(fifteen), std::nullopt);
  EXPECT_EQ(d.intern(fifteen), 2u);
  EXPECT_EQ(d.intern(sixteen), 3u);

  Dictionary restored("session_id", Dictionary::Indexing::kLazy);
  {
    auto buffer = std::make_unique<std::string>(fifteen + "s1");
    const std::string_view v = *buffer;
    const std::vector<std::string_view> strings = {v.substr(0, 15), v.substr(15, 2)};
    EXPECT_EQ(restored.restore_many(strings, {false, false}, std::move(buffer)), -1);
  }
  EXPECT_EQ(restored.lookup(0), fifteen);
  EXPECT_EQ(restored.lookup(1), "s1");
  EXPECT_EQ(restored.find("s1"), 1u);
}

// A string restored under two codes (damaged segment files): an eager
// dictionary refuses it at once; a lazy one finds it when it builds its
// index, then refuses writes with a DataLossError naming it while reads go on.
TEST(Dictionary, AStringRestoredTwice) {
  Dictionary eager("user_id");
  ASSERT_TRUE(eager.restore("x", false));
  EXPECT_FALSE(eager.restore("x", false));
  EXPECT_TRUE(eager.prepare_for_writes().ok());

  Dictionary lazy("session_id", Dictionary::Indexing::kLazy);
  for (const char* s : {"x", "y", "x"}) ASSERT_TRUE(lazy.restore(s, false));
  EXPECT_EQ(lazy.lookup(2), "x");
  const std::vector<std::string_view> values = {"z"};
  uint32_t code;
  const absl::Status s = lazy.intern_many(values, &code);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
  EXPECT_EQ(std::string(s.message()),
            "the session_id dictionary is damaged: the string of code 2 appears twice (also code 0); writes are "
            "refused, reads go on");
  EXPECT_EQ(lazy.size(), 3u);  // nothing interned
  EXPECT_EQ(lazy.status(), s);
  EXPECT_EQ(lazy.prepare_for_writes(), s);
  EXPECT_EQ(lazy.find("x"), 0u);
  EXPECT_EQ(lazy.find("y"), 1u);
}

TEST(Dictionary, ManyStringsIncludingLargeOnesSurviveGrowth) {
  Dictionary d;
  std::vector<std::string> strings;
  for (int i = 0; i < 200000; ++i) strings.push_back(absl::StrCat("user_", i));
  strings.push_back(std::string(1 << 20, 'x'));  // larger than an arena chunk
  strings.push_back(std::string("nul\0byte", 8));
  std::vector<uint32_t> codes(strings.size());
  std::vector<std::string_view> views(strings.begin(), strings.end());
  ASSERT_TRUE(d.intern_many(views, codes.data()).ok());
  for (size_t i = 0; i < strings.size(); ++i) {
    ASSERT_EQ(codes[i], i);
    ASSERT_EQ(d.lookup(codes[i]), strings[i]);
    ASSERT_EQ(d.find(strings[i]), codes[i]);
  }
  EXPECT_GT(d.memory_bytes(), 200000u * 8);
}

// The cache of recent strings grows with the dictionary (4,096 slots at 16k
// codes, up to 65,536 slots): repeats are answered with the same codes at
// every size, and an erased string is never answered from it.
TEST(Dictionary, RecentStringsCacheKeepsCodesAcrossItsGrowth) {
  Dictionary d;
  uint32_t next = 0;
  for (int i = 0; i < 300000; ++i) {
    ASSERT_EQ(d.intern(absl::StrCat("session_", i)), next++);
    // Repeats of recent and older strings, as sessions repeat.
    if (i >= 10) ASSERT_EQ(d.intern(absl::StrCat("session_", i - 10)), static_cast<uint32_t>(i - 10));
    if (i >= 5000 && i % 7 == 0) ASSERT_EQ(d.intern(absl::StrCat("session_", i - 5000)), static_cast<uint32_t>(i - 5000));
  }
  EXPECT_GE(d.memory_bytes(), 65536u * 32);  // the largest cache
  d.erase(299999);
  EXPECT_EQ(d.intern("session_299999"), next);
  EXPECT_EQ(d.intern("session_299998"), 299998u);
}

// The index against a plain map, through interns, finds and erases in
// random order: erased strings leave tombstones that probes pass over, and
// growth (which drops them) keeps every live string findable.
TEST(Dictionary, IndexAgreesWithAMapThroughErasesAndGrowth) {
  Dictionary d;
  std::map<std::string, uint32_t> want;  // live strings
  gen::Random random(7);
  for (int step = 0; step < 60000; ++step) {
    const std::string s = absl::StrCat("s", random.uniform(20000));
    switch (random.uniform(4)) {
      case 0: {  // erase
        auto it = want.find(s);
        if (it == want.end()) break;
        d.erase(it->second);
        EXPECT_TRUE(d.erased(it->second));
        want.erase(it);
        break;
      }
      case 1: {  // find
        auto it = want.find(s);
        ASSERT_EQ(d.find(s), it == want.end() ? std::nullopt : std::optional<uint32_t>(it->second)) << s;
        break;
      }
      default: {  // intern: the same code while live, a new one after an erase
        auto it = want.find(s);
        const uint32_t code = d.intern(s);
        if (it != want.end()) {
          ASSERT_EQ(code, it->second) << s;
        } else {
          ASSERT_EQ(code, d.size() - 1) << s;
          want.emplace(s, code);
        }
      }
    }
  }
  for (const auto& [s, code] : want) ASSERT_EQ(d.find(s), code) << s;
  EXPECT_EQ(d.erasures(), d.size() - want.size());
}

// d.intern_many() of `strings` against `want` (the live strings and their
// codes): a string `want` holds gets its code; a new one, or one erased
// before, a code of its own whose bytes are the string (never an erased
// code, whose bytes are gone), then added to `want`.
void intern_many_against_map(Dictionary& d, const std::vector<std::string>& strings,
                             std::map<std::string, uint32_t>& want) {
  const std::vector<std::string_view> values(strings.begin(), strings.end());
  std::vector<uint32_t> codes(values.size());
  ASSERT_TRUE(d.intern_many(values, codes.data()).ok());
  for (size_t i = 0; i < strings.size(); ++i) {
    const auto [it, added] = want.emplace(strings[i], codes[i]);
    if (added) ASSERT_EQ(d.lookup(codes[i]), strings[i]);
    ASSERT_EQ(codes[i], it->second) << strings[i];
  }
}

// intern_many() of a record_event call's few strings looks them up under
// the shared lock first and interns only when one is new: against a plain
// map, batches of 1-4 strings (repeats within a batch included) give a
// known string its code, a new one a code of its own (the same for its
// repeats in the batch), and an erased one a new code.
TEST(Dictionary, SmallBatchesAgreeWithAMapThroughErases) {
  Dictionary d;
  std::map<std::string, uint32_t> want;  // live strings
  gen::Random random(11);
  for (int step = 0; step < 20000; ++step) {
    if (random.uniform(10) == 0 && !want.empty()) {
      auto it = want.lower_bound(absl::StrCat("s", random.uniform(3000)));
      if (it == want.end()) it = want.begin();
      d.erase(it->second);
      want.erase(it);
      continue;
    }
    std::vector<std::string> strings(1 + random.uniform(4));
    for (std::string& x : strings) x = absl::StrCat("s", random.uniform(3000));
    ASSERT_NO_FATAL_FAILURE(intern_many_against_map(d, strings, want));
  }
  for (const auto& [str, code] : want) ASSERT_EQ(d.find(str), code) << str;
}

// intern_many() of a file ingest's batches (hundreds of strings) into a
// dictionary past 2^14 index slots prefetches each string's entry from its
// home slot before probing: against a plain map, through growth of the
// index and of the recent-strings cache in the middle of batches, repeats
// near and far, strings longer than an entry or a cache slot holds, and
// erases between batches, every string gets its code, a new one the next.
TEST(Dictionary, LargeBatchesAgreeWithAMapThroughGrowthAndErases) {
  Dictionary d;
  std::map<std::string, uint32_t> want;  // live strings
  gen::Random random(13);
  uint64_t next_new = 0;
  for (int step = 0; step < 400; ++step) {
    if (random.uniform(8) == 0 && !want.empty()) {
      for (int k = 0; k < 20; ++k) {
        auto it = want.lower_bound(absl::StrCat("session_", random.uniform(next_new + 1)));
        if (it == want.end()) it = want.begin();
        d.erase(it->second);
        want.erase(it);
      }
    }
    std::vector<std::string> strings(1 + random.uniform(600));
    for (std::string& x : strings) {
      switch (random.uniform(4)) {
        case 0:  // new
          x = absl::StrCat("session_", next_new++);
          break;
        case 1:  // recent
          x = absl::StrCat("session_", next_new - std::min<uint64_t>(next_new, random.uniform(50)));
          break;
        case 2:  // any earlier one
          x = absl::StrCat("session_", random.uniform(next_new + 1));
          break;
        default:  // long: past an entry's 15 bytes and a cache slot's 19
          x = absl::StrCat("a_longer_session_string_", random.uniform(next_new / 4 + 1));
      }
    }
    ASSERT_NO_FATAL_FAILURE(intern_many_against_map(d, strings, want));
  }
  EXPECT_GT(d.size(), 20000u);  // an index of 2^15 slots or more: the two-step prefetch ran
  for (const auto& [str, code] : want) ASSERT_EQ(d.find(str), code) << str;
}

// Queries' find() while writers intern small batches, known strings (the
// shared-lock path) and new ones (the exclusive path), at once (run under
// TSan in CI).
TEST(Dictionary, ConcurrentSmallBatchesAndFinds) {
  Dictionary d;
  for (int i = 0; i < 1000; ++i) d.intern(absl::StrCat("s", i));
  std::vector<std::thread> writers;
  for (int w = 0; w < 2; ++w) {
    writers.emplace_back([&, w] {
      for (int i = 0; i < 20000; ++i) {
        const std::string known = absl::StrCat("s", i % 1000), fresh = absl::StrCat("w", w, "-", i % 5000);
        const std::vector<std::string_view> values = {known, fresh};
        uint32_t codes[2];
        ASSERT_TRUE(d.intern_many(values, codes).ok());
        ASSERT_EQ(codes[0], static_cast<uint32_t>(i % 1000));
        ASSERT_EQ(d.lookup(codes[1]), fresh);
      }
    });
  }
  for (int round = 0; round < 20000; ++round) ASSERT_EQ(d.find(absl::StrCat("s", round % 1000)), round % 1000);
  for (std::thread& t : writers) t.join();
  EXPECT_EQ(d.size(), 1000u + 2 * 5000);
}

// lookup() of published codes while another thread interns new strings
// (run under TSan in CI).
TEST(Dictionary, ConcurrentInternAndLookup) {
  Dictionary d;
  for (int i = 0; i < 1000; ++i) d.intern(absl::StrCat("s", i));
  std::thread writer([&] {
    for (int i = 1000; i < 100000; ++i) d.intern(absl::StrCat("s", i));
  });
  for (int round = 0; round < 50; ++round) {
    const uint32_t n = d.size();
    for (uint32_t c = 0; c < n; c += 97) ASSERT_EQ(d.lookup(c), absl::StrCat("s", c));
    ASSERT_TRUE(d.find("s999").has_value());
  }
  writer.join();
  EXPECT_EQ(d.size(), 100000u);
}

}  // namespace
}  // namespace usagedb
