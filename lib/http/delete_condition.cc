#include "lib/http/delete_condition.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "lib/util/text.h"

namespace usagedb::http {
namespace {

void skip_spaces(std::string_view* s) {
  while (!s->empty() && (s->front() == ' ' || s->front() == '\t' || s->front() == '\n' || s->front() == '\r')) {
    s->remove_prefix(1);
  }
}

absl::Status unsupported(std::string_view condition, std::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("delete_condition: ", text::absl_view(why),
                                                 ": the one condition accepted is user_id = '<user id>', got '",
                                                 text::excerpt(condition), "'"));
}

}  // namespace

absl::StatusOr<std::string> parse_delete_condition(std::string_view condition) {
  std::string_view s = condition;
  skip_spaces(&s);
  constexpr std::string_view kColumn = "user_id";
  if (s.substr(0, kColumn.size()) != kColumn) return unsupported(condition, "unsupported condition");
  s.remove_prefix(kColumn.size());
  skip_spaces(&s);
  if (s.empty() || s.front() != '=') return unsupported(condition, "expected '=' after user_id");
  s.remove_prefix(1);
  skip_spaces(&s);
  if (s.empty() || s.front() != '\'') return unsupported(condition, "expected a quoted string after '='");
  s.remove_prefix(1);
  std::string user;
  bool closed = false;
  while (!s.empty()) {
    const char c = s.front();
    s.remove_prefix(1);
    if (c == '\\') {
      if (s.empty() || (s.front() != '\'' && s.front() != '\\')) {
        return unsupported(condition, "unsupported escape in the string (only \\' and \\\\)");
      }
      user.push_back(s.front());
      s.remove_prefix(1);
    } else if (c == '\'') {
      if (!s.empty() && s.front() == '\'') {
        user.push_back('\'');
        s.remove_prefix(1);
      } else {
        closed = true;
        break;
      }
    } else {
      user.push_back(c);
    }
  }
  if (!closed) return unsupported(condition, "the string is not terminated");
  skip_spaces(&s);
  if (!s.empty()) return unsupported(condition, "unexpected text after the string");
  if (user.empty()) return unsupported(condition, "the user id is empty");
  return user;
}

}  // namespace usagedb::http
