// The usagedb command line: argument parsing, exit codes and error output
// shared by every command (SPEC section 4).
//
// Exit status: 0 success, 1 runtime error, 2 usage error (bad arguments or a
// malformed parameter value). Errors go to standard error as one line that
// names the file, line or parameter at fault.
#ifndef USAGEDB_TOOLS_USAGEDB_CLI_H_
#define USAGEDB_TOOLS_USAGEDB_CLI_H_

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace usagedb::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitRuntime = 1;
inline constexpr int kExitUsage = 2;

inline constexpr std::string_view kDefaultStore = "./usagedb-data";

// What a command accepts: options that take a value and boolean flags.
struct CommandSpec {
  std::string_view name;
  std::set<std::string_view> value_options;  // "--store DIR" or "--store=DIR"
  std::set<std::string_view> flag_options;   // "--clear"
};

struct ParsedArgs {
  std::map<std::string, std::string> values;
  std::set<std::string> flags;
  std::vector<std::string> positional;

  std::optional<std::string> value(std::string_view name) const;
  bool flag(std::string_view name) const { return flags.contains(std::string(name)); }
  // --name parsed as an unsigned integer; InvalidArgumentError naming it.
  absl::StatusOr<std::optional<uint64_t>> number(std::string_view name) const;
  std::string store() const { return value("store").value_or(std::string(kDefaultStore)); }
};

// InvalidArgumentError for an unknown option, a missing value or a repeated
// option, naming it. A lone "-" is a positional argument (standard input).
absl::StatusOr<ParsedArgs> parse_args(const CommandSpec& spec, const std::vector<std::string>& args);

// Prints "usagedb: <message>" on one line to standard error.
void print_error(std::string_view message);

// Prints `status` and returns the exit code for it: usage errors for
// InvalidArgument, runtime errors otherwise.
int fail(const absl::Status& status);

// Writes all of `bytes` to standard output; false on a write error (e.g. a
// closed pipe).
bool write_stdout(std::string_view bytes);

bool stdout_is_terminal();
bool stderr_is_terminal();

}  // namespace usagedb::cli

#endif  // USAGEDB_TOOLS_USAGEDB_CLI_H_
