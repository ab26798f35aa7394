// usagedb query NAME --store DIR [--format json|csv|ndjson|table] [param=value ...]
#include <string>

#include "absl/strings/str_cat.h"
#include "lib/api/endpoint_catalog.h"
#include "lib/api/endpoint_request.h"
#include "lib/api/format.h"
#include "lib/api/result_table.h"
#include "tools/usagedb/cli.h"
#include "tools/usagedb/commands.h"
#include "tools/usagedb/store_access.h"

namespace usagedb::cli {

// table on a terminal, Tinybird's json otherwise (SPEC 3).
absl::StatusOr<api::OutputFormat> output_format(const ParsedArgs& args) {
  if (auto name = args.value("format")) {
    auto f = api::parse_output_format(*name);
    if (!f.ok()) return absl::InvalidArgumentError(absl::StrCat("--format: ", f.status().message()));
    return *f;
  }
  return stdout_is_terminal() ? api::OutputFormat::kTable : api::OutputFormat::kJson;
}

int run_query(const Args& args) {
  static const CommandSpec kSpec{"query", {"store", "format"}, {}};
  auto parsed = parse_args(kSpec, args);
  if (!parsed.ok()) return fail(parsed.status());
  if (parsed->positional.empty()) {
    std::string names;
    for (const api::EndpointSpec& spec : api::endpoint_catalog()) {
      absl::StrAppend(&names, names.empty() ? "" : ", ", std::string(spec.name));
    }
    return fail(absl::InvalidArgumentError(absl::StrCat("usagedb query: name an endpoint: one of ", names)));
  }
  auto endpoint = api::parse_endpoint(parsed->positional[0]);
  if (!endpoint.ok()) return fail(endpoint.status());
  api::Params params;
  for (size_t i = 1; i < parsed->positional.size(); ++i) {
    const std::string& arg = parsed->positional[i];
    const size_t eq = arg.find('=');
    if (eq == std::string::npos || eq == 0) {
      return fail(absl::InvalidArgumentError(absl::StrCat("usagedb query: expected param=value, got '", arg, "'")));
    }
    params.emplace_back(arg.substr(0, eq), arg.substr(eq + 1));
  }
  auto request = api::parse_request(*endpoint, params, api::UnknownParameters::kReject);
  if (!request.ok()) return fail(request.status());
  auto format = output_format(*parsed);
  if (!format.ok()) return fail(format.status());

  auto store = open_store(parsed->store(), /*create=*/false);
  if (!store.ok()) return fail(store.status());
  auto table = api::run_request(**store, *request);
  if (!table.ok()) return fail(table.status());
  std::string out;
  api::append_result(*format, *table, &out);
  if (!write_stdout(out)) return fail(absl::UnavailableError("writing the result to standard output failed"));
  return kExitOk;
}

}  // namespace usagedb::cli
