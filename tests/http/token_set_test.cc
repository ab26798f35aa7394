#include "lib/http/token_set.h"

#include <sys/stat.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/http/jwt.h"
#include "lib/http/token_file.h"
#include "tests/testutil/helpers.h"
#include "tests/testutil/temp_dir.h"

namespace usagedb::http {
namespace {

using ::testing::HasSubstr;

constexpr int64_t kTokenNow = 1750000000;

TEST(Scopes, ParsesTinybirdsScopeStrings) {
  auto admin = parse_scope_string("ADMIN");
  ASSERT_TRUE(admin.ok());
  EXPECT_EQ(admin->type, ScopeType::kAdmin);
  auto append = parse_scope_string("DATASOURCES:APPEND:feature_events");
  ASSERT_TRUE(append.ok());
  EXPECT_EQ(append->type, ScopeType::kDatasourcesAppend);
  EXPECT_EQ(append->resource, "feature_events");
  auto read = parse_scope_string("PIPES:READ:user_feature_usage");
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->type, ScopeType::kPipesRead);
  EXPECT_EQ(read->resource, "user_feature_usage");
  for (const char* bad : {"admin", "PIPES:READ", "PIPES:READ:", "DATASOURCES:CREATE:x", "TOKENS", ""}) {
    auto s = parse_scope_string(bad);
    ASSERT_FALSE(s.ok()) << bad;
    EXPECT_THAT(testing::message(s.status()), HasSubstr("unknown scope")) << bad;
  }
}

TEST(Scopes, PrincipalFindsExactScopesBeforeAdmin) {
  Principal p;
  p.scopes = {Scope{.type = ScopeType::kAdmin, .resource = "", .fixed_params = {}},
              Scope{.type = ScopeType::kPipesRead, .resource = "x", .fixed_params = {{"user_id", "u"}}}};
  ASSERT_NE(p.find(ScopeType::kPipesRead, "x"), nullptr);
  EXPECT_EQ(p.find(ScopeType::kPipesRead, "x")->fixed_params.size(), 1u);  // the exact one
  EXPECT_EQ(p.find(ScopeType::kPipesRead, "y")->type, ScopeType::kAdmin);
  Principal reader;
  reader.scopes = {Scope{.type = ScopeType::kPipesRead, .resource = "x", .fixed_params = {}}};
  EXPECT_EQ(reader.find(ScopeType::kPipesRead, "y"), nullptr);
  EXPECT_EQ(reader.find(ScopeType::kDatasourcesRead, "x"), nullptr);
}

TEST(TokenSet, AuthenticatesStaticTokensAndJwtsSignedByAnAdmin) {
  TokenSet tokens;
  ASSERT_TRUE(tokens.add({"admin", "s3cret-admin", {"ADMIN"}, 0}).ok());
  ASSERT_TRUE(tokens.add({"reader", "s3cret-reader", {"PIPES:READ:user_feature_usage"}, 5}).ok());
  auto admin = tokens.authenticate("s3cret-admin", kTokenNow);
  ASSERT_TRUE(admin.ok());
  EXPECT_EQ((*admin)->name, "admin");
  EXPECT_TRUE((*admin)->admin());
  auto reader = tokens.authenticate("s3cret-reader", kTokenNow);
  ASSERT_TRUE(reader.ok());
  EXPECT_EQ((*reader)->rps_limit, 5u);
  EXPECT_FALSE((*reader)->jwt);

  auto unknown = tokens.authenticate("s3cret-admin2", kTokenNow);
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(testing::message(unknown.status()), HasSubstr("invalid token"));
  EXPECT_THAT(testing::message(unknown.status()), ::testing::Not(HasSubstr("s3cret")));

  auto jwt = tokens.authenticate(make_jwt(R"({"name":"fe","exp":1760000000})", "s3cret-admin"), kTokenNow);
  ASSERT_TRUE(jwt.ok()) << jwt.status();
  EXPECT_EQ((*jwt)->name, "fe");
  // Signed with a non-admin token's value: refused.
  auto by_reader = tokens.authenticate(make_jwt(R"({"name":"fe","exp":1760000000})", "s3cret-reader"), kTokenNow);
  ASSERT_FALSE(by_reader.ok());
  EXPECT_THAT(testing::message(by_reader.status()), HasSubstr("bad signature"));
}

TEST(TokenSet, RefusesBadTokenDefinitions) {
  TokenSet tokens;
  ASSERT_TRUE(tokens.add({"a", "v1", {"ADMIN"}, 0}).ok());
  EXPECT_THAT(testing::message(tokens.add({"a", "v2", {"ADMIN"}, 0})), HasSubstr("same name"));
  EXPECT_THAT(testing::message(tokens.add({"b", "v1", {"ADMIN"}, 0})), HasSubstr("the same value as token 'a'"));
  EXPECT_THAT(testing::message(tokens.add({"", "v3", {"ADMIN"}, 0})), HasSubstr("non-empty name"));
  EXPECT_THAT(testing::message(tokens.add({"c", "", {"ADMIN"}, 0})), HasSubstr("empty"));
  EXPECT_THAT(testing::message(tokens.add({"d", "v4", {}, 0})), HasSubstr("no scopes"));
  EXPECT_THAT(testing::message(tokens.add({"e", "v5", {"PIPES:WRITE:x"}, 0})), HasSubstr("token 'e': unknown scope"));
  EXPECT_EQ(tokens.size(), 1u);
}

TEST(TokenFile, ParsesTokensAndNamesWhatIsWrong) {
  auto tokens = parse_tokens_file(
      R"({"tokens":[{"name":"admin","token":"t1","scopes":["ADMIN"]},)"
      R"({"name":"tracker","token":"t2","scopes":["DATASOURCES:APPEND:feature_events"],"limits":{"rps":100},"extra":1}]})",
      "tokens.json");
  ASSERT_TRUE(tokens.ok()) << tokens.status();
  ASSERT_EQ(tokens->size(), 2u);
  EXPECT_EQ((*tokens)[1].name, "tracker");
  EXPECT_EQ((*tokens)[1].rps_limit, 100u);
  EXPECT_THAT((*tokens)[1].scopes, ::testing::ElementsAre("DATASOURCES:APPEND:feature_events"));

  auto error = [](std::string_view json) { return testing::message(parse_tokens_file(json, "f.json").status()); };
  EXPECT_THAT(error("{"), HasSubstr("f.json: not valid JSON"));
  EXPECT_THAT(error("[]"), HasSubstr("f.json: expected a JSON object with a \"tokens\" array"));
  EXPECT_THAT(error(R"({"tokens":[{"token":"t","scopes":[]}]})"), HasSubstr("f.json: tokens[0]: \"name\""));
  EXPECT_THAT(error(R"({"tokens":[{"name":"x","scopes":[]}]})"), HasSubstr("tokens[0] (x): \"token\""));
  EXPECT_THAT(error(R"({"tokens":[{"name":"x","token":"t","scopes":"ADMIN"}]})"), HasSubstr("\"scopes\" must be"));
  EXPECT_THAT(error(R"({"tokens":[{"name":"x","token":"t","scopes":[1]}]})"), HasSubstr("\"scopes\" must be"));
  EXPECT_THAT(error(R"({"tokens":[{"name":"x","token":"t","scopes":[],"limits":{"rps":-1}}]})"),
              HasSubstr("\"limits.rps\" must be a positive integer"));
}

TEST(TokenFile, CreatesOneRandomAdminTokenReadableByItsOwnerOnly) {
  testing::ScopedTempDir dir;
  const std::string path = dir.file("tokens.json");
  EXPECT_TRUE(absl::IsNotFound(load_tokens_file(path).status()));
  auto created = create_tokens_file(path);
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_EQ(created->scopes, std::vector<std::string>{"ADMIN"});
  EXPECT_GE(created->token.size(), 43u);
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  auto loaded = load_tokens_file(path);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  ASSERT_EQ(loaded->size(), 1u);
  EXPECT_EQ((*loaded)[0].token, created->token);
  // Never replaced.
  EXPECT_TRUE(absl::IsAlreadyExists(create_tokens_file(path).status()));
  testing::ScopedTempDir other;
  auto second = create_tokens_file(other.file("tokens.json"));
  ASSERT_TRUE(second.ok());
  EXPECT_NE(second->token, created->token);
}

}  // namespace
}  // namespace usagedb::http
