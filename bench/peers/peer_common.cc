// Helpers shared by the DuckDB and chDB peers: loading a library once, directory handling,
// date formatting.
#include <dlfcn.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <system_error>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "peer.h"

namespace usagedb::bench {
namespace internal {
namespace {

std::mutex& registry_mutex() {
  static std::mutex m;
  return m;
}

std::map<std::string, void*>& handles() {
  static auto* h = new std::map<std::string, void*>();
  return *h;
}

std::map<std::string, std::string>& versions() {
  static auto* v = new std::map<std::string, std::string>();
  return *v;
}

}  // namespace

absl::StatusOr<void*> load_library_once(const std::string& path) {
  std::lock_guard<std::mutex> lock(registry_mutex());
  const std::string key = absolute_path(path);
  auto it = handles().find(key);
  if (it != handles().end()) return it->second;
  std::error_code ec;
  if (!std::filesystem::is_regular_file(key, ec)) {
    return absl::NotFoundError("peer library " + key +
                               " does not exist (run bench/peers/install_peers.sh, then use the "
                               "paths it writes to .peers/paths.env)");
  }
  // RTLD_LOCAL keeps the engines' many symbols (both bundle their own copies of common
  // libraries) out of the global namespace; RTLD_NOW reports a broken library here, not later.
  dlerror();
  void* handle = dlopen(key.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* err = dlerror();
    return absl::FailedPreconditionError("dlopen(" + key + ") failed: " + (err ? err : "?"));
  }
  handles().emplace(key, handle);
  return handle;
}

absl::StatusOr<void*> resolve(void* handle, const std::string& library_path, const char* symbol) {
  dlerror();
  void* p = dlsym(handle, symbol);
  if (p == nullptr) {
    const char* err = dlerror();
    return absl::FailedPreconditionError(std::string("symbol ") + symbol + " not found in " +
                                         library_path + (err ? std::string(": ") + err : ""));
  }
  return p;
}

absl::Status prepare_empty_dir(const std::string& dir, const std::string& who) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (dir.empty()) return absl::InvalidArgumentError(who + ": empty database directory name");
  fs::create_directories(dir, ec);
  if (ec) {
    return absl::InternalError(who + ": cannot create directory " + dir + ": " + ec.message());
  }
  if (!fs::is_directory(dir, ec)) {
    return absl::FailedPreconditionError(who + ": " + dir + " is not a directory");
  }
  if (!fs::is_empty(dir, ec) || ec) {
    return absl::FailedPreconditionError(
        who + ": database directory " + dir +
        " is not empty; give a new or empty directory so that bytes_on_disk() measures this "
        "load only" + (ec ? " (" + ec.message() + ")" : ""));
  }
  return absl::OkStatus();
}

uint64_t directory_bytes(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (dir.empty() || !fs::is_directory(dir, ec)) return 0;
  uint64_t total = 0;
  // Default options: directory symlinks are not followed (ClickHouse's data/ holds symlinks
  // into store/, which would otherwise count twice).
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code ec2;
    if (it->is_symlink(ec2)) continue;
    if (it->is_regular_file(ec2)) {
      const auto size = it->file_size(ec2);
      if (!ec2) total += size;
    }
  }
  return total;
}

std::string absolute_path(const std::string& path) {
  std::error_code ec;
  auto abs = std::filesystem::absolute(path, ec);
  if (ec) return path;
  return abs.lexically_normal().string();
}

void set_library_version(const std::string& peer_name, const std::string& version) {
  std::lock_guard<std::mutex> lock(registry_mutex());
  versions()[peer_name] = version;
}

std::string format_unix_seconds(int64_t seconds) {
  using namespace std::chrono;
  const sys_seconds tp{std::chrono::seconds(seconds)};
  const auto day = floor<days>(tp);
  const year_month_day ymd{day};
  const hh_mm_ss<std::chrono::seconds> hms{tp - day};
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u %02lld:%02lld:%02lld", int(ymd.year()),
                unsigned(ymd.month()), unsigned(ymd.day()),
                static_cast<long long>(hms.hours().count()),
                static_cast<long long>(hms.minutes().count()),
                static_cast<long long>(hms.seconds().count()));
  return buf;
}

std::string format_unix_days(int64_t day_count) {
  using namespace std::chrono;
  const year_month_day ymd{sys_days{days{day_count}}};
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", int(ymd.year()), unsigned(ymd.month()),
                unsigned(ymd.day()));
  return buf;
}

}  // namespace internal

std::string peer_library_version(const std::string& peer_name) {
  std::lock_guard<std::mutex> lock(internal::registry_mutex());
  auto it = internal::versions().find(peer_name);
  return it == internal::versions().end() ? std::string() : it->second;
}

}  // namespace usagedb::bench
