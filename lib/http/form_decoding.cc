#include "lib/http/form_decoding.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "lib/util/text.h"

namespace usagedb::http {
namespace {

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Decodes one name or value into `out`; false at a malformed '%' escape,
// with `*bad` its text (the '%' and up to two bytes after it).
bool decode(std::string_view s, std::string* out, std::string_view* bad) {
  out->clear();
  out->reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '+') {
      out->push_back(' ');
    } else if (c != '%') {
      out->push_back(c);
    } else {
      const int hi = i + 1 < s.size() ? hex_digit(s[i + 1]) : -1;
      const int lo = i + 2 < s.size() ? hex_digit(s[i + 2]) : -1;
      if (hi < 0 || lo < 0) {
        *bad = s.substr(i, 3);
        return false;
      }
      out->push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    }
  }
  return true;
}

}  // namespace

absl::StatusOr<api::Params> parse_form(std::string_view text, std::string_view where) {
  api::Params params;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t end = text.find('&', pos);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view pair = text.substr(pos, end - pos);
    pos = end + 1;
    if (pair.empty()) continue;
    const size_t eq = pair.find('=');
    const std::string_view raw_name = pair.substr(0, eq);
    const std::string_view raw_value = eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    std::string name;
    std::string value;
    std::string_view bad;
    if (!decode(raw_name, &name, &bad)) {
      return absl::InvalidArgumentError(absl::StrCat(text::absl_view(where), ": malformed percent-escape '",
                                                     text::excerpt(bad), "' in the parameter name '",
                                                     text::excerpt(raw_name), "'"));
    }
    if (name.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(text::absl_view(where), ": a parameter without a name: '", text::excerpt(pair), "'"));
    }
    if (!decode(raw_value, &value, &bad)) {
      return absl::InvalidArgumentError(absl::StrCat(text::absl_view(where), ": ", text::excerpt(name),
                                                     ": malformed percent-escape '", text::excerpt(bad),
                                                     "' (expected % and two hex digits)"));
    }
    params.emplace_back(std::move(name), std::move(value));
  }
  return params;
}

std::string_view query_string(std::string_view target) {
  const size_t q = target.find('?');
  if (q == std::string_view::npos) return {};
  std::string_view rest = target.substr(q + 1);
  return rest.substr(0, rest.find('#'));
}

}  // namespace usagedb::http
