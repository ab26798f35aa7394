#include "lib/http/jwt.h"

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/http/crypto.h"
#include "tests/testutil/helpers.h"

namespace usagedb::http {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

constexpr int64_t kNow = 1750000000;
const std::vector<std::string> kKeys = {"admin-secret"};

std::string jwt_with_header(const std::string& header, const std::string& payload, const std::string& key) {
  std::string text = absl::StrCat(crypto::base64url_encode(header), ".", crypto::base64url_encode(payload));
  return absl::StrCat(text, ".", crypto::base64url_encode(crypto::hmac_sha256(key, text)));
}

std::string refusal(std::string_view token, int64_t now = kNow) {
  absl::StatusOr<Principal> p = verify_jwt(token, kKeys, now);
  if (p.ok()) return "accepted";
  EXPECT_EQ(p.status().code(), absl::StatusCode::kPermissionDenied);
  return testing::message(p.status());
}

TEST(Crypto, Base64urlRoundTripsAndRejectsNonCanonical) {
  for (const std::string s : {std::string(""), std::string("f"), std::string("fo"), std::string("foo"),
                              std::string("\xff\xfe\x00\x01", 4), std::string(100, '\x7f')}) {
    EXPECT_EQ(crypto::base64url_decode(crypto::base64url_encode(s)), s);
  }
  EXPECT_EQ(crypto::base64url_encode("\xfb\xff"), "-_8");
  EXPECT_FALSE(crypto::base64url_decode("Zm9v=").has_value());  // padding
  EXPECT_FALSE(crypto::base64url_decode("Zm9+").has_value());   // '+' is not base64url
  EXPECT_FALSE(crypto::base64url_decode("Z").has_value());      // impossible length
  EXPECT_FALSE(crypto::base64url_decode("Zh").has_value());     // nonzero trailing bits
  EXPECT_TRUE(crypto::base64url_decode("Zg").has_value());
}

TEST(Crypto, HmacSha256MatchesRfc4231) {
  // RFC 4231 test case 2.
  EXPECT_EQ(crypto::base64url_encode(crypto::hmac_sha256("Jefe", "what do ya want for nothing?")),
            crypto::base64url_encode(std::string("\x5b\xdc\xc1\x46\xbf\x60\x75\x4e\x6a\x04\x24\x26\x08\x95\x75\xc7"
                                                 "\x5a\x00\x3f\x08\x9d\x27\x39\x83\x9d\xec\x58\xb9\x64\xec\x38\x43",
                                                 32)));
  EXPECT_TRUE(crypto::equal_constant_time("abc", "abc"));
  EXPECT_FALSE(crypto::equal_constant_time("abc", "abd"));
  EXPECT_FALSE(crypto::equal_constant_time("abc", "abcd"));
  EXPECT_NE(crypto::random_bytes(32), crypto::random_bytes(32));
}

TEST(Jwt, AcceptsTinybirdsShapeWithFixedParamsAndLimits) {
  const std::string token = make_jwt(
      R"({"workspace_id":"w","name":"frontend_u1","exp":1760000000,)"
      R"("scopes":[{"type":"PIPES:READ","resource":"user_feature_usage","fixed_params":{"user_id":"u1","n":5,"b":true,"x":null}},)"
      R"({"type":"DATASOURCES:APPEND","resource":"feature_events"}],"limits":{"rps":10}})",
      "admin-secret");
  absl::StatusOr<Principal> p = verify_jwt(token, kKeys, kNow);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->name, "frontend_u1");
  EXPECT_TRUE(p->jwt);
  EXPECT_EQ(p->rps_limit, 10u);
  ASSERT_EQ(p->scopes.size(), 2u);
  EXPECT_EQ(p->scopes[0].type, ScopeType::kPipesRead);
  EXPECT_EQ(p->scopes[0].resource, "user_feature_usage");
  EXPECT_THAT(p->scopes[0].fixed_params, ElementsAre(Pair("user_id", "u1"), Pair("n", "5"), Pair("b", "true")));
  EXPECT_EQ(p->scopes[1].type, ScopeType::kDatasourcesAppend);
  EXPECT_FALSE(p->admin());
  EXPECT_NE(p->find(ScopeType::kPipesRead, "user_feature_usage"), nullptr);
  EXPECT_EQ(p->find(ScopeType::kPipesRead, "feature_usage_summary"), nullptr);
}

TEST(Jwt, AnyKeyOfTheSetVerifies) {
  const std::string token = make_jwt(R"({"name":"n","exp":1760000000})", "second-admin");
  const std::vector<std::string> keys = {"first-admin", "second-admin"};
  EXPECT_TRUE(verify_jwt(token, keys, kNow).ok());
  EXPECT_THAT(refusal(token), HasSubstr("bad signature"));
  EXPECT_THAT(testing::message(verify_jwt(token, {}, kNow).status()), HasSubstr("bad signature"));
}

TEST(Jwt, RefusesOtherAlgorithmsIncludingNone) {
  const std::string payload = R"({"name":"n","exp":1760000000})";
  // alg none with an empty signature: not even JWT-shaped (empty third part).
  const std::string none = absl::StrCat(crypto::base64url_encode(R"({"alg":"none","typ":"JWT"})"), ".",
                                        crypto::base64url_encode(payload), ".");
  EXPECT_THAT(refusal(none), HasSubstr("expected three base64url parts"));
  // alg none with some signature, and other algorithms, signed or not.
  for (const char* alg : {"none", "None", "HS512", "RS256", "hs256", "ES256"}) {
    const std::string header = absl::StrCat(R"({"alg":")", alg, R"(","typ":"JWT"})");
    EXPECT_THAT(refusal(jwt_with_header(header, payload, "admin-secret")),
                HasSubstr(absl::StrCat("alg '", alg, "' is not accepted: only HS256")))
        << alg;
  }
  EXPECT_THAT(refusal(jwt_with_header(R"({"typ":"JWT"})", payload, "admin-secret")), HasSubstr("alg is missing"));
  EXPECT_THAT(refusal(jwt_with_header(R"({"alg":"HS256","crit":["x"]})", payload, "admin-secret")), HasSubstr("crit"));
}

TEST(Jwt, RefusesTamperedSignaturesAndPayloads) {
  const std::string token = make_jwt(R"({"name":"n","exp":1760000000})", "admin-secret");
  EXPECT_EQ(refusal(token), "accepted");
  EXPECT_THAT(refusal(make_jwt(R"({"name":"n","exp":1760000000})", "wrong")), HasSubstr("bad signature"));
  // Another payload under the first one's signature.
  const size_t dot1 = token.find('.');
  const size_t dot2 = token.rfind('.');
  const std::string swapped = absl::StrCat(
      token.substr(0, dot1), ".", crypto::base64url_encode(R"({"name":"n","exp":1990000000})"), token.substr(dot2));
  EXPECT_THAT(refusal(swapped), HasSubstr("bad signature"));
  std::string flipped = token;
  flipped.back() = flipped.back() == 'A' ? 'B' : 'A';
  EXPECT_THAT(refusal(flipped), HasSubstr("invalid JWT"));
  EXPECT_THAT(refusal(token.substr(0, dot2 + 5)), HasSubstr("invalid JWT"));
}

TEST(Jwt, ExpIsRequiredNumericAndInTheFuture) {
  EXPECT_THAT(refusal(make_jwt(R"({"name":"n"})", "admin-secret")), HasSubstr("the claim 'exp' is required"));
  EXPECT_THAT(refusal(make_jwt(R"({"name":"n","exp":"1760000000"})", "admin-secret")),
              HasSubstr("the claim 'exp' is required (a number"));
  EXPECT_THAT(refusal(make_jwt(R"({"name":"n","exp":null})", "admin-secret")), HasSubstr("'exp' is required"));
  EXPECT_THAT(refusal(make_jwt(R"({"name":"n","exp":true})", "admin-secret")), HasSubstr("'exp' is required"));
  EXPECT_THAT(refusal(make_jwt(R"({"name":"n","exp":1749999999})", "admin-secret")), HasSubstr("expired"));
  EXPECT_THAT(refusal(make_jwt(R"({"name":"n","exp":1750000000})", "admin-secret")), HasSubstr("expired"));
  EXPECT_EQ(refusal(make_jwt(R"({"name":"n","exp":1750000000.5})", "admin-secret")), "accepted");
  EXPECT_EQ(refusal(make_jwt(R"({"name":"n","exp":1750000001})", "admin-secret")), "accepted");
  EXPECT_THAT(refusal(make_jwt(R"({"name":"n","exp":1760000000,"nbf":1750000100})", "admin-secret")),
              HasSubstr("not valid before"));
  EXPECT_THAT(refusal(make_jwt(R"({"name":"n","exp":1760000000,"nbf":"x"})", "admin-secret")),
              HasSubstr("'nbf' is not a number"));
}

TEST(Jwt, NameIsRequired) {
  for (const char* payload :
       {R"({"exp":1760000000})", R"({"name":"","exp":1760000000})", R"({"name":7,"exp":1760000000})"}) {
    EXPECT_THAT(refusal(make_jwt(payload, "admin-secret")), HasSubstr("the claim 'name' is required")) << payload;
  }
}

TEST(Jwt, RefusesMalformedScopesAndLimits) {
  auto with = [](const std::string& rest) {
    return refusal(make_jwt(absl::StrCat(R"({"name":"n","exp":1760000000,)", rest, "}"), "admin-secret"));
  };
  EXPECT_THAT(with(R"("scopes":{})"), HasSubstr("'scopes' is not an array"));
  EXPECT_THAT(with(R"("scopes":[1])"), HasSubstr("scopes[0] is not an object"));
  EXPECT_THAT(with(R"("scopes":[{"resource":"x"}])"), HasSubstr("scopes[0].type is missing"));
  EXPECT_THAT(with(R"("scopes":[{"type":"ADMIN","resource":"x"}])"), HasSubstr("'ADMIN' is not supported"));
  EXPECT_THAT(with(R"("scopes":[{"type":"PIPES:READ"}])"), HasSubstr("scopes[0].resource is missing"));
  EXPECT_THAT(with(R"("scopes":[{"type":"PIPES:READ","resource":""}])"), HasSubstr("resource is missing"));
  EXPECT_THAT(with(R"("scopes":[{"type":"DATASOURCES:READ","resource":"feature_events","filter":"user_id='a'"}])"),
              HasSubstr("row filters are not supported"));
  EXPECT_THAT(with(R"("scopes":[{"type":"PIPES:READ","resource":"p","fixed_params":[1]}])"),
              HasSubstr("fixed_params is not an object"));
  EXPECT_THAT(with(R"("scopes":[{"type":"PIPES:READ","resource":"p","fixed_params":{"a":{"b":1}}}])"),
              HasSubstr("fixed_params.a is not a string, number or boolean"));
  EXPECT_THAT(with(R"("limits":{"rps":0})"), HasSubstr("limits.rps is not a positive integer"));
  EXPECT_THAT(with(R"("limits":{"rps":1.5})"), HasSubstr("limits.rps is not a positive integer"));
  EXPECT_THAT(with(R"("limits":[])"), HasSubstr("'limits' is not an object"));
  EXPECT_EQ(with(R"("limits":{})"), "accepted");
}

TEST(Jwt, RefusesMalformedTokens) {
  EXPECT_FALSE(looks_like_jwt("abc"));
  EXPECT_FALSE(looks_like_jwt("a.b"));
  EXPECT_FALSE(looks_like_jwt("a.b.c.d"));
  EXPECT_FALSE(looks_like_jwt("a..c"));
  EXPECT_FALSE(looks_like_jwt(".b.c"));
  EXPECT_FALSE(looks_like_jwt("a.b."));
  EXPECT_FALSE(looks_like_jwt("a.b+.c"));
  EXPECT_TRUE(looks_like_jwt("a.b.c"));
  EXPECT_THAT(refusal("a.b.c"), HasSubstr("invalid JWT"));
  const std::string not_json = absl::StrCat(crypto::base64url_encode("{not json"), ".", crypto::base64url_encode("{}"),
                                            ".", crypto::base64url_encode("sig"));
  EXPECT_THAT(refusal(not_json), HasSubstr("the header is not valid JSON"));
  EXPECT_THAT(refusal(jwt_with_header("[1]", "{}", "admin-secret")), HasSubstr("the header is not a JSON object"));
  EXPECT_THAT(refusal(jwt_with_header(R"({"alg":"HS256"})", "[]", "admin-secret")),
              HasSubstr("the payload is not a JSON object"));
}

}  // namespace
}  // namespace usagedb::http
