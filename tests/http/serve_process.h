// `usagedb serve` as a child process, for the tests that need a real server
// process: curl against it, kill -9, SIGTERM, restarts over the same store.
//
//   ServeProcess server({"--store", dir});     // --port 0, --access-log off
//   ASSERT_TRUE(server.started()) << server.output();
//   ... http://127.0.0.1:server.port() ...
//   EXPECT_EQ(server.stop(SIGTERM), 0);       // its exit status
//
// The binary is $USAGEDB_CLI, else the one this build made
// (USAGEDB_CLI_PATH); cli_path() is "" when there is none (the tests skip).
#ifndef USAGEDB_TESTS_HTTP_SERVE_PROCESS_H_
#define USAGEDB_TESTS_HTTP_SERVE_PROCESS_H_

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <regex>
#include <string>
#include <vector>

#ifndef USAGEDB_CLI_PATH
#define USAGEDB_CLI_PATH ""
#endif

namespace usagedb::testing {

inline std::string serve_cli_path() {
  const char* env = std::getenv("USAGEDB_CLI");
  return env != nullptr && *env != '\0' ? env : USAGEDB_CLI_PATH;
}

// Runs a command to completion: its exit status (-1 when killed by a
// signal) and standard output. Standard error goes to ours.
struct CommandResult {
  int exit_code = -1;
  std::string out;
};

// Starts `args` (args[0] looked up in PATH) with its standard output on a
// pipe: its pid; *stdout_fd is the pipe's reading end.
inline pid_t spawn(const std::vector<std::string>& args, int* stdout_fd) {
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) std::abort();
  const pid_t pid = ::fork();
  if (pid < 0) std::abort();
  if (pid == 0) {
    std::vector<char*> argv;
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::dup2(out[1], 1);
    ::execvp(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(out[1]);
  *stdout_fd = out[0];
  return pid;
}

inline CommandResult run_command(const std::vector<std::string>& args) {
  int out = -1;
  const pid_t pid = spawn(args, &out);
  CommandResult r;
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(out, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    r.out.append(buf, static_cast<size_t>(n));
  }
  ::close(out);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

class ServeProcess {
 public:
  // Starts `usagedb serve ARGS --port 0 --access-log off` and waits (up to
  // 20 s) for the line that says where it listens.
  explicit ServeProcess(std::vector<std::string> args) {
    args.insert(args.begin(), {serve_cli_path(), "serve"});
    args.insert(args.end(), {"--port", "0", "--access-log", "off"});
    pid_ = spawn(args, &out_);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    const std::regex listening(R"(listening on https?://[^:]+:([0-9]+))");
    while (std::chrono::steady_clock::now() < deadline) {
      std::smatch m;
      if (std::regex_search(output_, m, listening) && output_.find('\n', m.position(0)) != std::string::npos) {
        port_ = std::stoi(m[1]);
        read_for(std::chrono::milliseconds(50));  // the token lines, when printed
        return;
      }
      if (!read_for(std::chrono::milliseconds(100)) && exited()) return;
    }
  }

  ~ServeProcess() {
    if (pid_ > 0 && !reaped_) stop(SIGKILL);
    if (out_ >= 0) ::close(out_);
  }
  ServeProcess(const ServeProcess&) = delete;
  ServeProcess& operator=(const ServeProcess&) = delete;

  bool started() const { return port_ > 0; }
  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  // What it printed on standard output so far.
  const std::string& output() const { return output_; }

  // Sends `signal` and waits (up to 30 s) for the exit: its status, -1 when
  // a signal ended it (e.g. SIGKILL).
  int stop(int signal) {
    if (reaped_) return exit_code_;
    ::kill(pid_, signal);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (!exited()) {
      if (std::chrono::steady_clock::now() > deadline) {
        ::kill(pid_, SIGKILL);
        signal = SIGKILL;
      }
      read_for(std::chrono::milliseconds(20));
    }
    return exit_code_;
  }

 private:
  // Reads what standard output has within `wait`; false when nothing came.
  bool read_for(std::chrono::milliseconds wait) {
    if (out_ < 0) return false;
    pollfd p{out_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(wait.count())) <= 0) return false;
    char buf[4096];
    const ssize_t n = ::read(out_, buf, sizeof(buf));
    if (n <= 0) {
      ::close(out_);
      out_ = -1;
      return false;
    }
    output_.append(buf, static_cast<size_t>(n));
    return true;
  }

  bool exited() {
    if (reaped_) return true;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) != pid_) return false;
    reaped_ = true;
    exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return true;
  }

  pid_t pid_ = -1;
  int out_ = -1;
  int port_ = 0;
  bool reaped_ = false;
  int exit_code_ = -1;
  std::string output_;
};

}  // namespace usagedb::testing

#endif  // USAGEDB_TESTS_HTTP_SERVE_PROCESS_H_
