// The commands of the usagedb tool. Each takes the arguments after its name
// and returns the process exit status (cli.h).
#ifndef USAGEDB_TOOLS_USAGEDB_COMMANDS_H_
#define USAGEDB_TOOLS_USAGEDB_COMMANDS_H_

#include <string>
#include <vector>

namespace usagedb::cli {

using Args = std::vector<std::string>;

int run_generate(const Args& args);
int run_ingest(const Args& args);
int run_query(const Args& args);
int run_quarantine(const Args& args);
int run_demo(const Args& args);
int run_stats(const Args& args);
int run_compact(const Args& args);
int run_delete_user(const Args& args);
int run_drop_before(const Args& args);
int run_serve(const Args& args);

}  // namespace usagedb::cli

#endif  // USAGEDB_TOOLS_USAGEDB_COMMANDS_H_
