// Shared by the fuzz targets: a CHECK that aborts with a message (libFuzzer
// and the regression driver report the abort), and the ways an input is cut.
#ifndef USAGEDB_TESTS_FUZZ_FUZZ_SUPPORT_H_
#define USAGEDB_TESTS_FUZZ_FUZZ_SUPPORT_H_

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <vector>

#define CHECK(cond, message)                                                    \
  do {                                                                          \
    if (!(cond)) {                                                              \
      std::fprintf(stderr, "%s:%d: CHECK failed: %s: %s\n", __FILE__, __LINE__, \
                   #cond, message);                                             \
      std::abort();                                                             \
    }                                                                           \
  } while (0)

namespace usagedb::fuzz {

// Piece sizes for feeding `input`, derived from `control`: from one byte at a
// time to all at once, so every way a record can straddle chunks is tried.
inline std::vector<size_t> split_points(uint8_t control, std::string_view input) {
  std::vector<size_t> pieces;
  if (control < 32) return pieces;  // all at once
  uint32_t state = control * 2654435761u + static_cast<uint32_t>(input.size());
  const size_t scale = control < 96 ? 8 : control < 192 ? 64 : 512;
  for (size_t fed = 0; fed < input.size();) {
    state = state * 1103515245u + 12345u;
    const size_t n = 1 + (state >> 16) % scale;
    pieces.push_back(n);
    fed += n;
  }
  return pieces;
}

// The input's lines as a reader numbers them: split at '\n', one trailing
// '\r' dropped, a UTF-8 BOM dropped from the first. A last line without '\n'
// counts only when it is not empty.
inline std::vector<std::string_view> input_lines(std::string_view input) {
  if (input.substr(0, 3) == "\xEF\xBB\xBF") input.remove_prefix(3);
  std::vector<std::string_view> lines;
  while (!input.empty()) {
    const size_t newline = input.find('\n');
    std::string_view line = input.substr(0, newline);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    input.remove_prefix(newline == std::string_view::npos ? input.size() : newline + 1);
  }
  return lines;
}

// Piece sizes that feed `input` one line (with its '\n') at a time.
inline std::vector<size_t> line_pieces(std::string_view input) {
  std::vector<size_t> pieces;
  size_t start = 0;
  while (start < input.size()) {
    const size_t newline = input.find('\n', start);
    const size_t end = newline == std::string_view::npos ? input.size() : newline + 1;
    pieces.push_back(end - start);
    start = end;
  }
  return pieces;
}

}  // namespace usagedb::fuzz

#endif  // USAGEDB_TESTS_FUZZ_FUZZ_SUPPORT_H_
