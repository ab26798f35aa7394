// Generator: deterministic, realistic feature-usage events, shaped like the
// seed data of the Tinybird template (evt_ ids, user_N, feature_N, semver
// versions, view/click/... event types, sessions of a few events per user,
// metadata with device/os/browser).
//
// Skewed like real usage: users and features follow Zipf-like popularity, a
// product version is adopted after its release and the newest releases
// dominate, and timestamps advance through `months` months with jitter, so
// a stream is mostly but not strictly in time order. The same seed always
// yields the same events; the CLI's `generate`, the tests and the benchmarks
// all use this class.
//
//   usagedb::gen::Generator g({.events = 1000, .seed = 7});
//   while (const usagedb::Event* e = g.next()) store->record_event(*e);
//
// Thread-safety: not thread-safe; use one Generator per thread.
#ifndef USAGEDB_GEN_GENERATOR_H_
#define USAGEDB_GEN_GENERATOR_H_

#include <cstdint>
#include <string>
#include <vector>

#include "lib/gen/random.h"
#include "usagedb/event.h"

namespace usagedb::gen {

struct GeneratorOptions {
  uint64_t events = 1'000'000;
  uint64_t seed = 42;
  uint32_t users = 20'000;
  uint32_t features = 60;
  uint32_t versions = 24;
  uint32_t months = 12;
  // First day of the first month, Unix seconds (default 2025-01-01 00:00:00).
  int64_t start = 1735689600;
};

class Generator {
 public:
  explicit Generator(const GeneratorOptions& options);

  // The next event, or nullptr after options.events events. The views stay
  // valid until the next call.
  const Event* next();
  uint64_t generated() const { return generated_; }

  // Appends `e` as one NDJSON line (with '\n'), in the seed's shape.
  static void append_ndjson(const Event& e, std::string* out);

 private:
  uint32_t zipf(const std::vector<double>& cdf);

  GeneratorOptions options_;
  Random random_;
  std::vector<double> user_cdf_;
  std::vector<double> feature_cdf_;
  std::vector<std::string> versions_;
  std::vector<int64_t> release_;            // release time of each version
  std::vector<uint64_t> session_of_user_;   // current session number per user (0 = none)
  std::vector<uint32_t> session_left_;      // events left in that session
  uint64_t next_session_ = 1;
  uint64_t generated_ = 0;
  int64_t span_seconds_ = 0;
  Event event_;
  std::string event_id_, user_id_, feature_id_, session_id_;
};

}  // namespace usagedb::gen

#endif  // USAGEDB_GEN_GENERATOR_H_
