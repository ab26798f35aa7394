#include "tests/testutil/endpoint_cases.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace usagedb::testing {
namespace {

const std::string& pick(gen::Random& random, const std::vector<std::string>& pool) {
  return pool[random.uniform(pool.size())];
}

// A value of parameter `p`, or "" when none could be made.
std::string value_for(const api::ParameterSpec& p, RandomEvents& gen) {
  gen::Random& random = gen.random();
  const std::string name(p.name);
  switch (p.type) {
    case api::ParameterType::kString:
      if (name == "user_id") return pick(random, gen.users());
      if (name == "product_version") return pick(random, gen.versions());
      if (name == "event_type") return pick(random, gen.event_types());
      if (name == "property") {  // a key of the random events' metadata, or none's
        static const std::vector<std::string> kKeys = {"device", "os", "plan", "dev\"ice", "\u00fc", "missing"};
        return pick(random, kKeys);
      }
      return pick(random, gen.features());
    case api::ParameterType::kDateTime:
    case api::ParameterType::kDate: {
      const std::string t = format_timestamp(gen.event().timestamp);
      return p.type == api::ParameterType::kDate || random.chance(0.3) ? t.substr(0, 10) : t;
    }
    case api::ParameterType::kUInt64: {
      std::vector<uint64_t> candidates;
      for (const uint64_t v : {p.min, p.min + 1, uint64_t{2}, uint64_t{3}, uint64_t{7}, uint64_t{30}, uint64_t{3600},
                               uint64_t{86400}, uint64_t{604800}}) {
        if (v >= p.min && v <= p.max) candidates.push_back(v);
      }
      return candidates.empty() ? "" : absl::StrCat(candidates[random.uniform(candidates.size())]);
    }
    case api::ParameterType::kEnum:
      return p.choices.empty() ? "" : std::string(p.choices[random.uniform(p.choices.size())]);
    case api::ParameterType::kStringList: {
      const uint64_t lo = std::max<uint64_t>(p.min, 1);
      const uint64_t hi = std::min<uint64_t>({p.max, lo + 3, gen.features().size()});
      const uint64_t n = lo + random.uniform(hi - lo + 1);
      std::vector<std::string> items;
      for (int tries = 0; items.size() < n && tries < 100; ++tries) {
        const std::string& f = pick(random, gen.features());
        if (std::find(items.begin(), items.end(), f) == items.end()) items.push_back(f);
      }
      std::string out;
      for (const std::string& f : items) absl::StrAppend(&out, out.empty() ? "" : ",", f);
      return out;
    }
    case api::ParameterType::kTimeZone: {
      static const std::vector<std::string> kZones = {"UTC", "Europe/Paris", "America/New_York", "Asia/Kolkata",
                                                      "Australia/Lord_Howe"};
      return pick(random, kZones);
    }
  }
  return "";
}

// Sets `params` from `present` (a parameter's index -> present), retrying
// values until parse_request accepts them (e.g. start_date before end_date).
bool make_params(const api::EndpointSpec& spec, const std::vector<bool>& present, RandomEvents& gen,
                 api::Params* params) {
  for (int attempt = 0; attempt < 50; ++attempt) {
    params->clear();
    bool complete = true;
    for (size_t i = 0; i < spec.parameters.size(); ++i) {
      const api::ParameterSpec& p = spec.parameters[i];
      if (!present[i] && !p.required) continue;
      const std::string v = value_for(p, gen);
      if (v.empty() && p.type != api::ParameterType::kString) complete = false;
      params->emplace_back(std::string(p.name), v);
    }
    if (complete && api::parse_request(spec.endpoint, *params, api::UnknownParameters::kReject).ok()) return true;
  }
  return false;
}

}  // namespace

std::string EndpointCase::describe() const {
  std::string out(spec->name);
  for (size_t i = 0; i < params.size(); ++i) absl::StrAppend(&out, i == 0 ? "?" : "&", params[i].first, "=", params[i].second);
  return out;
}

std::vector<EndpointCase> endpoint_cases(RandomEvents& gen, int random_mixes) {
  std::vector<EndpointCase> cases;
  for (const api::EndpointSpec& spec : api::endpoint_catalog()) {
    const size_t n = spec.parameters.size();
    std::vector<std::vector<bool>> shapes;
    shapes.emplace_back(n, false);  // every optional parameter absent
    for (size_t i = 0; i < n; ++i) {
      if (spec.parameters[i].required) continue;
      std::vector<bool> one(n, false);
      one[i] = true;
      shapes.push_back(one);
    }
    shapes.emplace_back(n, true);  // all present
    for (int r = 0; r < random_mixes; ++r) {
      std::vector<bool> mix(n);
      for (size_t i = 0; i < n; ++i) mix[i] = gen.random().chance(0.5);
      shapes.push_back(mix);
    }
    for (const std::vector<bool>& shape : shapes) {
      EndpointCase c{&spec, {}};
      if (make_params(spec, shape, gen, &c.params)) cases.push_back(std::move(c));
    }
  }
  return cases;
}

}  // namespace usagedb::testing
