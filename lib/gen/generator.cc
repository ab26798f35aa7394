#include "lib/gen/generator.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "lib/util/civil_time.h"

namespace usagedb::gen {
namespace {

constexpr const char* kEventTypes[] = {"view", "click", "feature_used", "view", "click", "view", "error", "share"};
constexpr const char* kMetadata[] = {
    R"({"device":"desktop","os":"windows","browser":"chrome"})",
    R"({"device":"desktop","os":"macos","browser":"safari"})",
    R"({"device":"desktop","os":"linux","browser":"firefox"})",
    R"({"device":"mobile","os":"ios","browser":"safari"})",
    R"({"device":"mobile","os":"android","browser":"chrome"})",
    R"({"device":"tablet","os":"ios","browser":"safari"})",
    R"({"device":"desktop","os":"windows","browser":"edge"})",
    "",
};

// Cumulative Zipf(s) weights of ranks 1..n, normalized to 1.
std::vector<double> zipf_cdf(uint32_t n, double s) {
  std::vector<double> cdf(n);
  double sum = 0;
  for (uint32_t i = 0; i < n; ++i) {
    sum += 1.0 / std::pow(static_cast<double>(i + 1), s);
    cdf[i] = sum;
  }
  for (double& c : cdf) c /= sum;
  return cdf;
}

void append_json_string(std::string_view s, std::string* out) {
  out->push_back('"');
  for (const char c : s) {
    switch (c) {
      case '"': *out += "\\\""; break;
      case '\\': *out += "\\\\"; break;
      case '\n': *out += "\\n"; break;
      case '\r': *out += "\\r"; break;
      case '\t': *out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          static constexpr char kHex[] = "0123456789abcdef";
          *out += "\\u00";
          out->push_back(kHex[(c >> 4) & 15]);
          out->push_back(kHex[c & 15]);
        } else {
          out->push_back(c);
        }
    }
  }
  out->push_back('"');
}

}  // namespace

Generator::Generator(const GeneratorOptions& options) : options_(options), random_(options.seed) {
  options_.users = std::max<uint32_t>(options_.users, 1);
  options_.features = std::max<uint32_t>(options_.features, 1);
  options_.versions = std::max<uint32_t>(options_.versions, 1);
  options_.months = std::max<uint32_t>(options_.months, 1);
  user_cdf_ = zipf_cdf(options_.users, 1.05);
  feature_cdf_ = zipf_cdf(options_.features, 0.9);
  // Months from the first day of the start month.
  const civil::Date first = civil::civil_from_days(civil::floor_div(options_.start, civil::kSecondsPerDay));
  int64_t y = first.year;
  int64_t m = first.month + options_.months;
  y += (m - 1) / 12;
  m = (m - 1) % 12 + 1;
  span_seconds_ = civil::days_from_civil(y, static_cast<unsigned>(m), 1) * civil::kSecondsPerDay - options_.start;
  // Versions 1.0.0, 1.0.1, ..., released evenly over the span; the first one
  // before the start so every event has a version to use.
  for (uint32_t i = 0; i < options_.versions; ++i) {
    versions_.push_back(absl::StrCat(1 + i / 30, ".", (i / 3) % 10, ".", i % 3));
    release_.push_back(options_.start + static_cast<int64_t>(static_cast<double>(span_seconds_) * i /
                                                             options_.versions) -
                       (i == 0 ? 1 : 0));
  }
  session_of_user_.assign(options_.users, 0);
  session_left_.assign(options_.users, 0);
}

uint32_t Generator::zipf(const std::vector<double>& cdf) {
  const double u = random_.unit();
  const auto it = std::upper_bound(cdf.begin(), cdf.end(), u);
  return static_cast<uint32_t>(std::min<size_t>(it - cdf.begin(), cdf.size() - 1));
}

const Event* Generator::next() {
  if (generated_ >= options_.events) return nullptr;
  const uint64_t i = generated_++;
  // Time advances evenly through the span; jitter of up to 2 minutes either
  // way keeps the stream only mostly ordered.
  int64_t t = options_.start + static_cast<int64_t>(static_cast<double>(span_seconds_) * i / options_.events) +
              random_.range(-120, 120);
  t = std::clamp<int64_t>(t, options_.start, options_.start + span_seconds_ - 1);

  const uint32_t user = zipf(user_cdf_);
  // Scramble popularity ranks so user_1 is not always the heaviest user.
  const uint32_t user_number = static_cast<uint32_t>((static_cast<uint64_t>(user) * 7919 + 13) % options_.users) + 1;
  const uint32_t feature = zipf(feature_cdf_) + 1;

  // The newest released versions are used the most.
  const auto released = std::upper_bound(release_.begin(), release_.end(), t) - release_.begin();
  const uint32_t back = std::min<uint32_t>(static_cast<uint32_t>(random_.uniform(4) * random_.uniform(3)),
                                           static_cast<uint32_t>(released - 1));
  const uint32_t version = static_cast<uint32_t>(released - 1) - back;

  if (session_left_[user] == 0) {
    session_of_user_[user] = random_.chance(0.03) ? 0 : next_session_++;
    session_left_[user] = 1 + static_cast<uint32_t>(random_.uniform(6));
  }
  --session_left_[user];

  event_id_ = absl::StrCat("evt_", i + 1);
  user_id_ = absl::StrCat("user_", user_number);
  feature_id_ = absl::StrCat("feature_", feature);
  session_id_ = session_of_user_[user] == 0 ? "" : absl::StrCat("session_", session_of_user_[user]);
  event_ = Event{.event_id = event_id_,
                 .user_id = user_id_,
                 .feature_id = feature_id_,
                 .product_version = versions_[version],
                 .event_type = kEventTypes[random_.uniform(std::size(kEventTypes))],
                 .timestamp = Timestamp{std::chrono::seconds{t}},
                 .session_id = session_id_,
                 .metadata = kMetadata[random_.uniform(std::size(kMetadata))]};
  return &event_;
}

void Generator::append_ndjson(const Event& e, std::string* out) {
  *out += "{\"event_id\":";
  append_json_string(e.event_id, out);
  *out += ",\"user_id\":";
  append_json_string(e.user_id, out);
  *out += ",\"feature_id\":";
  append_json_string(e.feature_id, out);
  *out += ",\"product_version\":";
  append_json_string(e.product_version, out);
  *out += ",\"event_type\":";
  append_json_string(e.event_type, out);
  *out += ",\"timestamp\":\"";
  *out += format_timestamp(e.timestamp);
  *out += "\",\"session_id\":";
  append_json_string(e.session_id, out);
  *out += ",\"metadata\":";
  append_json_string(e.metadata, out);
  *out += "}\n";
}

}  // namespace usagedb::gen
