// A progress bar on standard error for long-running commands, drawn only
// when standard error is a terminal and redrawn at most 10 times a second.
//
//   ProgressBar bar("events.ndjson", total_bytes);
//   bar.update(done_bytes);   // from the working thread
//   bar.finish();             // erases the bar
//
// Thread-safety: not thread-safe; call from one thread.
#ifndef USAGEDB_TOOLS_USAGEDB_PROGRESS_H_
#define USAGEDB_TOOLS_USAGEDB_PROGRESS_H_

#include <chrono>
#include <cstdint>
#include <string>

namespace usagedb::cli {

class ProgressBar {
 public:
  // `total` 0 = unknown (the bar then shows bytes and speed only).
  ProgressBar(std::string label, uint64_t total);
  ~ProgressBar() { finish(); }

  void update(uint64_t done);
  void finish();

 private:
  std::string label_;
  uint64_t total_;
  bool enabled_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
};

// "1.2M", "950k", "12": compact counts for people.
std::string human_count(double n);

}  // namespace usagedb::cli

#endif  // USAGEDB_TOOLS_USAGEDB_PROGRESS_H_
