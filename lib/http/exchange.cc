#include "lib/http/exchange.h"

#include "absl/strings/match.h"
#include "lib/api/format.h"
#include "lib/http/byte_source.h"

namespace usagedb::http {
namespace {

thread_local RequestState* current = nullptr;

}  // namespace

RequestState* current_request() { return current; }
void set_current_request(RequestState* state) { current = state; }

void RequestHeaders::read(const httplib::Headers& headers) {
  for (const auto& [name, value] : headers) {
    const std::string* const v = &value;
    switch (name.size()) {
      case 12:
        if (absl::EqualsIgnoreCase(name, "Content-Type")) content_type = v;
        break;
      case 13:
        if (absl::EqualsIgnoreCase(name, "Authorization")) authorization = v;
        break;
      case 14:
        if (absl::EqualsIgnoreCase(name, "Content-Length")) content_length = v;
        break;
      case 16:
        if (absl::EqualsIgnoreCase(name, "Content-Encoding")) content_encoding = v;
        break;
      case 17:
        if (absl::EqualsIgnoreCase(name, "Transfer-Encoding")) transfer_encoding = v;
        break;
      default:
        break;
    }
  }
}

const std::string* Exchange::param(std::string_view name) const {
  for (const auto& [n, v] : state.query) {
    if (n == name) return &v;
  }
  return nullptr;
}

void reply_json(httplib::Response& res, int status, std::string body) {
  body.push_back('\n');
  res.status = status;
  res.set_content(std::move(body), "application/json");
}

void reply_error(httplib::Response& res, int status, std::string_view message) {
  std::string body;
  api::append_json_error(message, &body);
  reply_json(res, status, std::move(body));
}

void reply_status(httplib::Response& res, const absl::Status& status) {
  reply_error(res, http_status_of(status), message_of(status));
}

}  // namespace usagedb::http
