#include "lib/http/exchange.h"

#include "lib/api/format.h"
#include "lib/http/byte_source.h"

namespace usagedb::http {
namespace {

thread_local RequestState* current = nullptr;

}  // namespace

RequestState* current_request() { return current; }
void set_current_request(RequestState* state) { current = state; }

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
