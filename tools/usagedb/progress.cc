#include "tools/usagedb/progress.h"

#include <cstdio>

#include "absl/strings/str_format.h"
#include "tools/usagedb/cli.h"

namespace usagedb::cli {

std::string human_count(double n) {
  if (n >= 1e9) return absl::StrFormat("%.2fG", n / 1e9);
  if (n >= 1e6) return absl::StrFormat("%.2fM", n / 1e6);
  if (n >= 1e4) return absl::StrFormat("%.0fk", n / 1e3);
  return absl::StrFormat("%.0f", n);
}

ProgressBar::ProgressBar(std::string label, uint64_t total)
    : label_(std::move(label)),
      total_(total),
      enabled_(stderr_is_terminal()),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

void ProgressBar::update(uint64_t done) {
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  const double seconds = std::chrono::duration<double>(now - start_).count();
  const double mb_per_s = seconds > 0 ? static_cast<double>(done) / 1e6 / seconds : 0;
  std::string line;
  if (total_ > 0) {
    constexpr int kWidth = 30;
    const double fraction = std::min(1.0, static_cast<double>(done) / static_cast<double>(total_));
    const int filled = static_cast<int>(fraction * kWidth);
    line = absl::StrFormat("\r%s [%s%s] %3.0f%%  %.0f MB/s ", label_, std::string(filled, '#'),
                           std::string(kWidth - filled, '.'), fraction * 100, mb_per_s);
  } else {
    line = absl::StrFormat("\r%s %s MB  %.0f MB/s ", label_, human_count(static_cast<double>(done) / 1e6), mb_per_s);
  }
  std::fwrite(line.data(), 1, line.size(), stderr);
  drawn_ = true;
}

void ProgressBar::finish() {
  if (!drawn_) return;
  std::fputs("\r\033[K", stderr);  // back to the start, clear the line
  drawn_ = false;
}

}  // namespace usagedb::cli
