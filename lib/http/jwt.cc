#include "lib/http/jwt.h"

#include <charconv>
#include <cmath>
#include <optional>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "lib/http/crypto.h"
#include "lib/util/text.h"
#include "simdjson.h"

namespace usagedb::http {
namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;
using simdjson::dom::object;

absl::Status refuse(std::string_view why) {
  return absl::PermissionDeniedError(absl::StrCat("invalid JWT: ", text::absl_view(why)));
}

// Each thread's parser; a parsed document lives until the thread's next parse.
simdjson::dom::parser& thread_parser() {
  thread_local simdjson::dom::parser parser;
  return parser;
}

// A base64url part decoded and parsed as a JSON object, or the refusal.
absl::StatusOr<object> parse_part(std::string_view part, std::string_view what, std::string* storage) {
  std::optional<std::string> bytes = crypto::base64url_decode(part);
  if (!bytes) return refuse(absl::StrCat("the ", text::absl_view(what), " is not base64url"));
  *storage = std::move(*bytes);
  element doc;
  if (thread_parser().parse(storage->data(), storage->size(), true).get(doc) != simdjson::SUCCESS) {
    return refuse(absl::StrCat("the ", text::absl_view(what), " is not valid JSON"));
  }
  object obj;
  if (doc.get_object().get(obj) != simdjson::SUCCESS) {
    return refuse(absl::StrCat("the ", text::absl_view(what), " is not a JSON object"));
  }
  return obj;
}

// A JSON number as a double; nullopt for anything else.
std::optional<double> number_of(element e) {
  switch (e.type()) {
    case element_type::INT64:
      return static_cast<double>(e.get_int64().value_unsafe());
    case element_type::UINT64:
      return static_cast<double>(e.get_uint64().value_unsafe());
    case element_type::DOUBLE:
      return e.get_double().value_unsafe();
    default:
      return std::nullopt;
  }
}

// A fixed_params value as the text a request parameter would carry.
std::optional<std::string> param_text(element e) {
  switch (e.type()) {
    case element_type::STRING:
      return std::string(e.get_string().value_unsafe());
    case element_type::INT64:
      return std::to_string(e.get_int64().value_unsafe());
    case element_type::UINT64:
      return std::to_string(e.get_uint64().value_unsafe());
    case element_type::DOUBLE: {
      char buf[32];
      const auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), e.get_double().value_unsafe());
      return std::string(buf, end);
    }
    case element_type::BOOL:
      return std::string(e.get_bool().value_unsafe() ? "true" : "false");
    default:
      return std::nullopt;
  }
}

absl::StatusOr<Scope> parse_jwt_scope(element e, size_t index) {
  const std::string where = absl::StrCat("scopes[", index, "]");
  object obj;
  if (e.get_object().get(obj) != simdjson::SUCCESS) return refuse(absl::StrCat(where, " is not an object"));
  std::string_view type;
  if (obj["type"].get_string().get(type) != simdjson::SUCCESS) {
    return refuse(absl::StrCat(where, ".type is missing or not a string"));
  }
  Scope scope;
  if (type == "PIPES:READ") {
    scope.type = ScopeType::kPipesRead;
  } else if (type == "DATASOURCES:READ") {
    scope.type = ScopeType::kDatasourcesRead;
  } else if (type == "DATASOURCES:APPEND") {
    scope.type = ScopeType::kDatasourcesAppend;
  } else {
    return refuse(absl::StrCat(where, ".type '", text::excerpt(type),
                               "' is not supported: expected PIPES:READ, DATASOURCES:READ or DATASOURCES:APPEND"));
  }
  std::string_view resource;
  if (obj["resource"].get_string().get(resource) != simdjson::SUCCESS || resource.empty()) {
    return refuse(absl::StrCat(where, ".resource is missing or not a non-empty string"));
  }
  scope.resource = std::string(resource);
  if (obj["filter"].error() != simdjson::NO_SUCH_FIELD) {
    return refuse(absl::StrCat(where, ".filter: row filters are not supported by this server"));
  }
  element fixed;
  if (obj["fixed_params"].get(fixed) == simdjson::SUCCESS) {
    object params;
    if (fixed.get_object().get(params) != simdjson::SUCCESS) {
      return refuse(absl::StrCat(where, ".fixed_params is not an object"));
    }
    for (const auto field : params) {
      if (field.value.is_null()) continue;
      std::optional<std::string> value = param_text(field.value);
      if (!value) {
        return refuse(
            absl::StrCat(where, ".fixed_params.", text::excerpt(field.key), " is not a string, number or boolean"));
      }
      scope.fixed_params.emplace_back(std::string(field.key), std::move(*value));
    }
  }
  return scope;
}

}  // namespace

bool looks_like_jwt(std::string_view token) {
  int dots = 0;
  size_t part = 0;  // length of the current part
  for (const char c : token) {
    if (c == '.') {
      if (part == 0 || ++dots > 2) return false;
      part = 0;
      continue;
    }
    const bool b64 = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    if (!b64) return false;
    ++part;
  }
  return dots == 2 && part > 0;
}

absl::StatusOr<Principal> verify_jwt(std::string_view token, std::span<const std::string> keys, int64_t now) {
  if (!looks_like_jwt(token)) return refuse("expected three base64url parts separated by dots");
  const size_t dot1 = token.find('.');
  const size_t dot2 = token.find('.', dot1 + 1);
  const std::string_view header_part = token.substr(0, dot1);
  const std::string_view payload_part = token.substr(dot1 + 1, dot2 - dot1 - 1);
  const std::string_view signature_part = token.substr(dot2 + 1);

  std::string header_bytes;
  {
    absl::StatusOr<object> header = parse_part(header_part, "header", &header_bytes);
    if (!header.ok()) return header.status();
    std::string_view alg;
    if ((*header)["alg"].get_string().get(alg) != simdjson::SUCCESS) {
      return refuse("the header's alg is missing or not a string");
    }
    if (alg != "HS256") {
      return refuse(absl::StrCat("alg '", text::excerpt(alg), "' is not accepted: only HS256"));
    }
    if ((*header)["crit"].error() != simdjson::NO_SUCH_FIELD) {
      return refuse("the header's crit names extensions this server does not understand");
    }
  }

  const std::optional<std::string> signature = crypto::base64url_decode(signature_part);
  if (!signature) return refuse("the signature is not base64url");
  const std::string_view signed_text = token.substr(0, dot2);
  bool verified = false;
  for (const std::string& key : keys) {
    // No early exit: the time taken does not tell which key matched.
    verified |= crypto::equal_constant_time(crypto::hmac_sha256(key, signed_text), *signature);
  }
  if (!verified) return refuse("bad signature");

  std::string payload_bytes;
  absl::StatusOr<object> payload = parse_part(payload_part, "payload", &payload_bytes);
  if (!payload.ok()) return payload.status();
  Principal who;
  who.jwt = true;
  std::string_view name;
  if ((*payload)["name"].get_string().get(name) != simdjson::SUCCESS || name.empty()) {
    return refuse("the claim 'name' is required (a non-empty string)");
  }
  who.name = std::string(name);
  element exp_element;
  std::optional<double> exp;
  if ((*payload)["exp"].get(exp_element) == simdjson::SUCCESS) exp = number_of(exp_element);
  if (!exp) return refuse("the claim 'exp' is required (a number: seconds since 1970-01-01 UTC)");
  if (!(*exp > static_cast<double>(now))) {
    return refuse(
        absl::StrCat("expired: exp ", std::isfinite(*exp) ? absl::StrCat(*exp) : "?", " is not after now (", now, ")"));
  }
  element nbf_element;
  if ((*payload)["nbf"].get(nbf_element) == simdjson::SUCCESS) {
    const std::optional<double> nbf = number_of(nbf_element);
    if (!nbf) return refuse("the claim 'nbf' is not a number");
    if (*nbf > static_cast<double>(now)) return refuse(absl::StrCat("not valid before nbf ", *nbf, " (now ", now, ")"));
  }
  element scopes_element;
  if ((*payload)["scopes"].get(scopes_element) == simdjson::SUCCESS) {
    simdjson::dom::array scopes;
    if (scopes_element.get_array().get(scopes) != simdjson::SUCCESS) {
      return refuse("the claim 'scopes' is not an array");
    }
    size_t index = 0;
    for (const element e : scopes) {
      absl::StatusOr<Scope> scope = parse_jwt_scope(e, index++);
      if (!scope.ok()) return scope.status();
      who.scopes.push_back(std::move(*scope));
    }
  }
  element limits_element;
  if ((*payload)["limits"].get(limits_element) == simdjson::SUCCESS) {
    object limits;
    if (limits_element.get_object().get(limits) != simdjson::SUCCESS) {
      return refuse("the claim 'limits' is not an object");
    }
    element rps;
    if (limits["rps"].get(rps) == simdjson::SUCCESS) {
      uint64_t n = 0;
      if (rps.get_uint64().get(n) != simdjson::SUCCESS || n == 0) {
        return refuse("limits.rps is not a positive integer");
      }
      who.rps_limit = n;
    }
  }
  return who;
}

std::string make_jwt(std::string_view payload_json, std::string_view key) {
  std::string text = absl::StrCat(crypto::base64url_encode(R"({"alg":"HS256","typ":"JWT"})"), ".",
                                  crypto::base64url_encode(payload_json));
  const std::string signature = crypto::hmac_sha256(key, text);
  absl::StrAppend(&text, ".", crypto::base64url_encode(signature));
  return text;
}

}  // namespace usagedb::http
