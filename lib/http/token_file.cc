#include "lib/http/token_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "lib/http/crypto.h"
#include "lib/util/json_escape.h"
#include "lib/util/text.h"
#include "simdjson.h"

namespace usagedb::http {
namespace {

using simdjson::dom::element;

absl::Status bad(std::string_view where, std::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(text::absl_view(where), ": ", text::absl_view(what)));
}

absl::Status write_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return absl::UnavailableError(std::strerror(errno));
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<StaticToken>> parse_tokens_file(std::string_view json, std::string_view where) {
  simdjson::dom::parser parser;
  element doc;
  if (auto err = parser.parse(json.data(), json.size(), true).get(doc); err != simdjson::SUCCESS) {
    return bad(where, absl::StrCat("not valid JSON: ", simdjson::error_message(err)));
  }
  simdjson::dom::array list;
  if (doc["tokens"].get_array().get(list) != simdjson::SUCCESS) {
    return bad(
        where,
        R"(expected a JSON object with a "tokens" array: {"tokens": [{"name": ..., "token": ..., "scopes": [...]}]})");
  }
  std::vector<StaticToken> tokens;
  size_t index = 0;
  for (const element e : list) {
    const std::string at = absl::StrCat(text::absl_view(where), ": tokens[", index++, "]");
    StaticToken t;
    std::string_view s;
    if (e["name"].get_string().get(s) != simdjson::SUCCESS || s.empty()) {
      return bad(at, "\"name\" must be a non-empty string");
    }
    t.name = std::string(s);
    const std::string named = absl::StrCat(at, " (", text::excerpt(t.name), ")");
    if (e["token"].get_string().get(s) != simdjson::SUCCESS || s.empty()) {
      return bad(named, "\"token\" must be a non-empty string");
    }
    t.token = std::string(s);
    simdjson::dom::array scopes;
    if (e["scopes"].get_array().get(scopes) != simdjson::SUCCESS) {
      return bad(named, "\"scopes\" must be an array of strings");
    }
    for (const element scope : scopes) {
      if (scope.get_string().get(s) != simdjson::SUCCESS) return bad(named, "\"scopes\" must be an array of strings");
      t.scopes.emplace_back(s);
    }
    element limits;
    if (e["limits"].get(limits) == simdjson::SUCCESS) {
      element rps;
      if (!limits.is_object()) return bad(named, "\"limits\" must be an object");
      if (limits["rps"].get(rps) == simdjson::SUCCESS &&
          (rps.get_uint64().get(t.rps_limit) != simdjson::SUCCESS || t.rps_limit == 0)) {
        return bad(named, "\"limits.rps\" must be a positive integer");
      }
    }
    tokens.push_back(std::move(t));
  }
  return tokens;
}

absl::StatusOr<std::vector<StaticToken>> load_tokens_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int err = errno;
    return absl::Status(err == ENOENT ? absl::StatusCode::kNotFound : absl::StatusCode::kUnavailable,
                        absl::StrCat(path, ": cannot open: ", std::strerror(err)));
  }
  std::stringstream text;
  text << in.rdbuf();
  if (in.bad()) return absl::UnavailableError(absl::StrCat(path, ": read failed"));
  return parse_tokens_file(text.str(), path);
}

absl::StatusOr<StaticToken> create_tokens_file(const std::string& path) {
  StaticToken admin{.name = "admin", .token = crypto::base64url_encode(crypto::random_bytes(32)), .scopes = {"ADMIN"}};
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    const int err = errno;
    return absl::Status(err == EEXIST ? absl::StatusCode::kAlreadyExists : absl::StatusCode::kUnavailable,
                        absl::StrCat(path, ": cannot create: ", std::strerror(err)));
  }
  std::string text = "{\"tokens\": [\n  {\"name\": ";
  text::append_json_string(admin.name, &text);
  text += ", \"token\": ";
  text::append_json_string(admin.token, &text);
  text += ", \"scopes\": [\"ADMIN\"]}\n]}\n";
  absl::Status s = write_all(fd, text);
  if (s.ok() && ::fsync(fd) != 0) s = absl::UnavailableError(std::strerror(errno));
  ::close(fd);
  if (!s.ok()) {
    ::unlink(path.c_str());
    return absl::UnavailableError(absl::StrCat(path, ": cannot write: ", s.message()));
  }
  // The directory entry too, so the token printed once is not lost in a crash.
  const size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  if (const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return admin;
}

}  // namespace usagedb::http
