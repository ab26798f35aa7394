// libFuzzer target for the JWT verifier (lib/http/jwt.h).
//
// The first input byte picks the mode:
//   < 128: the rest is a token, verified as is;
//   else:  the rest is "HEADER\nPAYLOAD" (or a payload alone, under
//          {"alg":"HS256","typ":"JWT"}), signed with the key and verified.
// Checked, whatever the input:
//   - nothing but PermissionDeniedError is ever returned as an error;
//   - a token is never accepted with a key that did not sign it, nor with a
//     signature byte changed;
//   - an accepted token's header says alg HS256 and its payload, parsed by
//     simdjson's DOM, is an object with the principal's name (non-empty) and
//     a numeric exp after now; every scope has a type the server knows and a
//     resource.
//
//   build-fuzz/tests/fuzz/jwt_fuzzer -max_total_time=300 tests/fuzz/corpus/jwt
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "lib/http/crypto.h"
#include "lib/http/jwt.h"
#include "simdjson.h"
#include "tests/fuzz/fuzz_support.h"

namespace usagedb::fuzz {
namespace {

constexpr int64_t kNow = 1750000000;
const std::string kKey = "fuzz-key";

std::string sign(std::string_view header, std::string_view payload) {
  std::string text = absl::StrCat(http::crypto::base64url_encode(header), ".", http::crypto::base64url_encode(payload));
  return absl::StrCat(text, ".", http::crypto::base64url_encode(http::crypto::hmac_sha256(kKey, text)));
}

void check_accepted(std::string_view token, const http::Principal& who) {
  CHECK(who.jwt, "an accepted JWT is not marked as one");
  CHECK(!who.name.empty(), "accepted without a name");
  const size_t dot1 = token.find('.');
  const size_t dot2 = token.rfind('.');
  const auto header = http::crypto::base64url_decode(token.substr(0, dot1));
  const auto payload = http::crypto::base64url_decode(token.substr(dot1 + 1, dot2 - dot1 - 1));
  CHECK(header && payload, "accepted parts that are not base64url");
  simdjson::dom::parser parser;
  std::string_view alg;
  CHECK(parser.parse(*header)["alg"].get_string().get(alg) == simdjson::SUCCESS && alg == "HS256",
        "accepted a header whose alg is not HS256");
  simdjson::dom::parser payload_parser;
  simdjson::dom::element doc;
  CHECK(payload_parser.parse(*payload).get(doc) == simdjson::SUCCESS && doc.is_object(), "payload not an object");
  std::string_view name;
  CHECK(doc["name"].get_string().get(name) == simdjson::SUCCESS && name == who.name, "name differs from the payload's");
  double exp = 0;
  simdjson::dom::element e;
  CHECK(doc["exp"].get(e) == simdjson::SUCCESS && (e.is_int64() || e.is_uint64() || e.is_double()), "exp not numeric");
  exp = e.is_double()  ? e.get_double().value_unsafe()
        : e.is_int64() ? static_cast<double>(e.get_int64().value_unsafe())
                       : static_cast<double>(e.get_uint64().value_unsafe());
  CHECK(exp > static_cast<double>(kNow), "accepted an expired token");
  for (const http::Scope& s : who.scopes) {
    CHECK(s.type != http::ScopeType::kAdmin, "a JWT granted ADMIN");
    CHECK(!s.resource.empty(), "a scope without a resource");
  }
}

void verify(std::string_view token) {
  const std::vector<std::string> keys = {"other-key", kKey};
  absl::StatusOr<http::Principal> who = http::verify_jwt(token, keys, kNow);
  if (!who.ok()) {
    CHECK(who.status().code() == absl::StatusCode::kPermissionDenied, "a refusal other than PermissionDenied");
    return;
  }
  check_accepted(token, *who);
  const std::vector<std::string> wrong = {"other-key"};
  CHECK(!http::verify_jwt(token, wrong, kNow).ok(), "accepted with a key that did not sign it");
  // Every change of the signature's last character is refused.
  std::string changed(token);
  for (const char c : {'A', 'Q', 'g', 'w', '-', '_', '0'}) {
    if (token.back() == c) continue;
    changed.back() = c;
    CHECK(!http::verify_jwt(changed, keys, kNow).ok(), "accepted a changed signature");
  }
}

}  // namespace
}  // namespace usagedb::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] < 128) {
    usagedb::fuzz::verify(input);
  } else {
    const size_t newline = input.find('\n');
    const std::string_view header = newline == std::string_view::npos
                                        ? std::string_view(R"({"alg":"HS256","typ":"JWT"})")
                                        : input.substr(0, newline);
    const std::string_view payload = newline == std::string_view::npos ? input : input.substr(newline + 1);
    usagedb::fuzz::verify(usagedb::fuzz::sign(header, payload));
  }
  return 0;
}
