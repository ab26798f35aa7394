#include "lib/util/display_width.h"

#include <algorithm>
#include <iterator>

#include "lib/util/display_width_tables.h"
#include "lib/util/utf8.h"

namespace usagedb::text {
namespace {

template <size_t N>
bool in_ranges(const internal::CodePointRange (&ranges)[N], char32_t cp) {
  // The first range whose last code point is >= cp.
  const auto* it = std::lower_bound(std::begin(ranges), std::end(ranges), cp,
                                    [](const internal::CodePointRange& r, char32_t c) { return r.last < c; });
  return it != std::end(ranges) && it->first <= cp;
}

constexpr char32_t kZeroWidthJoiner = 0x200D;

bool is_skin_tone_modifier(char32_t cp) { return cp >= 0x1F3FB && cp <= 0x1F3FF; }

}  // namespace

int code_point_width(char32_t cp) {
  if (cp < 0x20 || (cp >= 0x7F && cp < 0xA0)) return 0;
  if (cp < 0x300) return 1;  // Latin: the common case, no table lookup
  if (in_ranges(internal::kZeroWidthRanges, cp)) return 0;
  if (in_ranges(internal::kWideRanges, cp)) return 2;
  return 1;
}

size_t display_width(std::string_view s) {
  size_t width = 0;
  int previous_width = 0;  // of the last code point that counted
  bool after_joiner = false;
  for (size_t i = 0; i < s.size();) {
    const Utf8Char c = decode_utf8(s, i);
    if (c.length == 0) {
      ++width;
      previous_width = 1;
      after_joiner = false;
      ++i;
      continue;
    }
    i += c.length;
    if (c.code_point == kZeroWidthJoiner) {
      after_joiner = true;
      continue;
    }
    const int w = code_point_width(c.code_point);
    const bool joins_previous = (is_skin_tone_modifier(c.code_point) && previous_width == 2) ||
                                (after_joiner && w == 2 && previous_width == 2);
    if (!joins_previous) {
      width += static_cast<size_t>(w);
      previous_width = w;
    }
    after_joiner = false;
  }
  return width;
}

}  // namespace usagedb::text
