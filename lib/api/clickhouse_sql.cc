// render_clickhouse_sql (lib/api/clickhouse_sql.h).
#include "lib/api/clickhouse_sql.h"

#include <cstdio>
#include <functional>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace usagedb::api {
namespace {

// The literal of one given parameter's text, as its endpoint reads it.
std::string literal_of(const ParameterSpec& p, const std::string& value) {
  switch (p.type) {
    case ParameterType::kDateTime:
      // Validated by parse_request: the normalized form ClickHouse parses in any mode.
      return clickhouse_string_literal(format_timestamp(*parse_date_parameter(value)));
    case ParameterType::kDate:
      return clickhouse_string_literal(format_timestamp(*parse_date_parameter(value)).substr(0, 10));
    case ParameterType::kStringList: {
      std::string out = "[";
      size_t begin = 0;
      while (true) {
        const size_t comma = value.find(',', begin);
        if (begin > 0) out += ", ";
        out += clickhouse_string_literal(std::string_view(value).substr(begin, comma - begin));
        if (comma == std::string::npos) break;
        begin = comma + 1;
      }
      return out + "]";
    }
    case ParameterType::kUInt64:
      return value;  // digits only
    case ParameterType::kString:
    case ParameterType::kEnum:
    case ParameterType::kTimeZone:
      return clickhouse_string_literal(value);
  }
  return clickhouse_string_literal(value);
}

}  // namespace

std::string clickhouse_string_literal(std::string_view value) {
  std::string out;
  out.reserve(value.size() + 2);
  out += '\'';
  for (const char ch : value) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\'') {
      out += "\\'";
    } else if (c < 0x20 || c == 0x7F) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02X", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  out += '\'';
  return out;
}

absl::StatusOr<std::string> replace_query_parameters(
    const EndpointSpec& spec, const std::function<std::string(const ParameterSpec&, std::string_view type)>& replace) {
  const std::string_view sql = spec.clickhouse_sql;
  std::string out;
  out.reserve(sql.size() + 256);
  size_t pos = 0;
  while (true) {
    const size_t open = sql.find('{', pos);
    if (open == std::string_view::npos) break;
    const size_t colon = sql.find(':', open);
    const size_t close = sql.find('}', open);
    if (colon == std::string_view::npos || close == std::string_view::npos || colon > close) {
      return absl::InternalError(absl::StrCat(std::string(spec.name), ": a malformed query parameter at byte ", open));
    }
    const std::string_view name = sql.substr(open + 1, colon - open - 1);
    const std::string_view type = sql.substr(colon + 1, close - colon - 1);
    const ParameterSpec* p = spec.parameter(name);
    if (p == nullptr) {
      return absl::InternalError(absl::StrCat(std::string(spec.name), ": the SQL's parameter '", std::string(name), "' is not in the catalog"));
    }
    out.append(sql.substr(pos, open - pos));
    out.append(replace(*p, type));
    pos = close + 1;
  }
  out.append(sql.substr(pos));
  return out;
}

absl::StatusOr<std::string> render_clickhouse_sql(const EndpointSpec& spec, const Params& params) {
  if (absl::StatusOr<EndpointRequest> checked = parse_request(spec.endpoint, params, UnknownParameters::kIgnore);
      !checked.ok()) {
    return checked.status();
  }
  return replace_query_parameters(spec, [&](const ParameterSpec& p, std::string_view type) {
    const std::string* value = nullptr;
    for (const auto& [n, v] : params) {
      if (n == p.name) value = &v;
    }
    return absl::StrCat("CAST(", value != nullptr ? literal_of(p, *value) : std::string("NULL"), ", ",
                        clickhouse_string_literal(type), ")");
  });
}

}  // namespace usagedb::api
