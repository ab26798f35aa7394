// libFuzzer target for the request-parameter parser (lib/http/form_decoding.h):
// query strings and form bodies.
//
// The first input byte picks the mode: < 128 the rest is form text; else it
// is a request target, whose query_string() is parsed. Checked:
//   - errors are InvalidArgumentError naming where, and only for a malformed
//     '%' escape or a pair with an empty name;
//   - there are never more pairs than '&'-separated pieces;
//   - every decoded pair, percent-encoded again, parses back to itself
//     (decoding loses nothing);
//   - the query string is the target's text after its first '?'.
//
//   build-fuzz/tests/fuzz/form_fuzzer -max_total_time=300 tests/fuzz/corpus/form
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/strings/str_format.h"
#include "lib/http/form_decoding.h"
#include "tests/fuzz/fuzz_support.h"

namespace usagedb::fuzz {
namespace {

std::string encode(std::string_view s) {
  std::string out;
  for (const char c : s) {
    const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                       c == '_' || c == '.' || c == '~';
    if (plain) {
      out.push_back(c);
    } else {
      absl::StrAppendFormat(&out, "%%%02X", static_cast<unsigned char>(c));
    }
  }
  return out;
}

void check_form(std::string_view text) {
  absl::StatusOr<api::Params> params = http::parse_form(text, "query string");
  if (!params.ok()) {
    CHECK(params.status().code() == absl::StatusCode::kInvalidArgument, "an error other than InvalidArgument");
    CHECK(params.status().message().substr(0, 13) == "query string:", "an error not naming the query string");
    bool has_escape = text.find('%') != std::string_view::npos;
    bool empty_name = text.substr(0, 1) == "=" || text.find("&=") != std::string_view::npos;
    CHECK(has_escape || empty_name, "refused text without a '%' or an empty name");
    return;
  }
  size_t pieces = 1;
  for (const char c : text) pieces += c == '&';
  CHECK(params->size() <= pieces, "more pairs than pieces");
  std::string again;
  for (const auto& [name, value] : *params) {
    CHECK(!name.empty(), "an empty name was accepted");
    if (!again.empty()) again += '&';
    again += encode(name) + "=" + encode(value);
  }
  absl::StatusOr<api::Params> reparsed = http::parse_form(again, "query string");
  CHECK(reparsed.ok() && *reparsed == *params, "re-encoded pairs do not parse back to themselves");
}

}  // namespace
}  // namespace usagedb::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] < 128) {
    usagedb::fuzz::check_form(input);
  } else {
    const std::string_view query = usagedb::http::query_string(input);
    const size_t q = input.find('?');
    CHECK(q == std::string_view::npos ? query.empty() : query.data() == input.data() + q + 1,
          "the query string is not what follows the first '?'");
    usagedb::fuzz::check_form(query);
  }
  return 0;
}
