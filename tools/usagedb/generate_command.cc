// usagedb generate --events N [--seed S] [--users U] [--features F]
//                  [--versions V] [--months M] [--start YYYY-MM-DD] [--output FILE]
// Writes N deterministic seed-shaped NDJSON events (lib/gen/generator.h) to
// standard output or FILE.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include "absl/strings/str_cat.h"
#include "lib/gen/generator.h"
#include "tools/usagedb/cli.h"
#include "tools/usagedb/commands.h"
#include "usagedb/event.h"

namespace usagedb::cli {

int run_generate(const Args& args) {
  static const CommandSpec kSpec{
      "generate", {"events", "seed", "users", "features", "versions", "months", "start", "output"}, {}};
  auto parsed = parse_args(kSpec, args);
  if (!parsed.ok()) return fail(parsed.status());
  if (!parsed->positional.empty()) {
    return fail(absl::InvalidArgumentError(
        absl::StrCat("usagedb generate: unexpected argument '", parsed->positional[0], "'")));
  }
  gen::GeneratorOptions options;
  struct Field {
    const char* name;
    uint64_t* target64;
    uint32_t* target32;
  };
  const Field fields[] = {{"events", &options.events, nullptr},     {"seed", &options.seed, nullptr},
                          {"users", nullptr, &options.users},       {"features", nullptr, &options.features},
                          {"versions", nullptr, &options.versions}, {"months", nullptr, &options.months}};
  if (!parsed->value("events")) return fail(absl::InvalidArgumentError("usagedb generate: --events N is required"));
  for (const Field& f : fields) {
    auto n = parsed->number(f.name);
    if (!n.ok()) return fail(n.status());
    if (!n->has_value()) continue;
    if (f.target64 != nullptr) {
      *f.target64 = **n;
    } else {
      if (**n == 0 || **n > 100'000'000) {
        return fail(absl::InvalidArgumentError(absl::StrCat("--", f.name, ": must be 1..100000000")));
      }
      *f.target32 = static_cast<uint32_t>(**n);
    }
  }
  if (auto start = parsed->value("start")) {
    auto t = parse_date_parameter(*start);
    if (!t.ok()) return fail(absl::InvalidArgumentError(absl::StrCat("--start: ", t.status().message())));
    options.start = t->time_since_epoch().count();
  }
  FILE* out = stdout;
  std::unique_ptr<FILE, int (*)(FILE*)> file(nullptr, &std::fclose);
  if (auto path = parsed->value("output")) {
    file.reset(std::fopen(path->c_str(), "wb"));
    if (!file) return fail(absl::UnavailableError(absl::StrCat(*path, ": cannot create: ", std::strerror(errno))));
    out = file.get();
  }
  gen::Generator generator(options);
  std::string buffer;
  buffer.reserve(1 << 20);
  while (const Event* e = generator.next()) {
    gen::Generator::append_ndjson(*e, &buffer);
    if (buffer.size() >= (1 << 20) - 1024) {
      if (std::fwrite(buffer.data(), 1, buffer.size(), out) != buffer.size()) break;
      buffer.clear();
    }
  }
  if (std::fwrite(buffer.data(), 1, buffer.size(), out) != buffer.size() || std::fflush(out) != 0) {
    return fail(absl::UnavailableError(absl::StrCat("writing events: ", std::strerror(errno))));
  }
  return kExitOk;
}

}  // namespace usagedb::cli
