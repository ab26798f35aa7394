#include "tools/usagedb/cli.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "lib/util/text.h"

namespace usagedb::cli {

std::optional<std::string> ParsedArgs::value(std::string_view name) const {
  auto it = values.find(std::string(name));
  if (it == values.end()) return std::nullopt;
  return it->second;
}

absl::StatusOr<std::optional<uint64_t>> ParsedArgs::number(std::string_view name) const {
  const std::optional<std::string> v = value(name);
  if (!v) return std::optional<uint64_t>();
  uint64_t n;
  if (v->empty() || (*v)[0] == '+' || (*v)[0] == '-' || !absl::SimpleAtoi(*v, &n)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", text::absl_view(name), ": expected a non-negative integer, got '", *v, "'"));
  }
  return std::optional<uint64_t>(n);
}

absl::StatusOr<ParsedArgs> parse_args(const CommandSpec& spec, const std::vector<std::string>& args) {
  ParsedArgs out;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg.size() < 3 || arg.compare(0, 2, "--") != 0) {
      out.positional.push_back(arg);
      continue;
    }
    std::string name = arg.substr(2);
    std::optional<std::string> inline_value;
    if (const size_t eq = name.find('='); eq != std::string::npos) {
      inline_value = name.substr(eq + 1);
      name.resize(eq);
    }
    const std::string where = absl::StrCat("usagedb ", text::absl_view(spec.name));
    if (spec.flag_options.contains(name)) {
      if (inline_value) return absl::InvalidArgumentError(absl::StrCat(where, ": --", name, " takes no value"));
      out.flags.insert(name);
      continue;
    }
    if (!spec.value_options.contains(name)) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": unknown option '--", name, "' (see usagedb help)"));
    }
    if (out.values.contains(name)) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": --", name, " given more than once"));
    }
    if (inline_value) {
      out.values[name] = *inline_value;
    } else if (i + 1 < args.size()) {
      out.values[name] = args[++i];
    } else {
      return absl::InvalidArgumentError(absl::StrCat(where, ": --", name, " needs a value"));
    }
  }
  return out;
}

void print_error(std::string_view message) {
  std::string line = absl::StrCat("usagedb: ", text::absl_view(message));
  // One line, whatever the message holds.
  for (char& c : line) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  line.push_back('\n');
  std::fwrite(line.data(), 1, line.size(), stderr);
}

int fail(const absl::Status& status) {
  print_error(std::string(status.message()));
  return status.code() == absl::StatusCode::kInvalidArgument ? kExitUsage : kExitRuntime;
}

bool write_stdout(std::string_view bytes) {
  return std::fwrite(bytes.data(), 1, bytes.size(), stdout) == bytes.size();
}

bool stdout_is_terminal() { return isatty(STDOUT_FILENO) == 1; }
bool stderr_is_terminal() { return isatty(STDERR_FILENO) == 1; }

}  // namespace usagedb::cli
