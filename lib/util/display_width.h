// How many terminal columns text occupies, for aligning tables.
//
// Counts code points, not bytes: East Asian wide and fullwidth characters and
// emoji take 2 columns, combining marks and format characters 0, everything
// else 1 (the rules of wcwidth(3), from the Unicode tables in
// display_width_tables.h).
//
//   display_width("user_615") == 8
//   display_width("機能") == 4
//   display_width("e\u0301") == 1   // e + combining acute accent
//
// Thread-safety: pure functions.
#ifndef USAGEDB_UTIL_DISPLAY_WIDTH_H_
#define USAGEDB_UTIL_DISPLAY_WIDTH_H_

#include <cstddef>
#include <string_view>

namespace usagedb::text {

// Columns of one code point: 2 for East_Asian_Width W or F, 0 for marks
// (Mn, Me), format characters (Cf, but not U+00AD) and control characters,
// 1 otherwise. Callers escape control characters before they reach a
// terminal; they count 0 here because they draw nothing.
int code_point_width(char32_t cp);

// Columns of UTF-8 text: the sum of code_point_width, with two emoji rules so
// common sequences count as the single glyph terminals draw: a skin-tone
// modifier (U+1F3FB..U+1F3FF) after a wide code point adds nothing, and a
// wide code point joined by ZWJ (U+200D) to a preceding wide one adds
// nothing. A byte that is not well-formed UTF-8 counts 1.
size_t display_width(std::string_view utf8);

}  // namespace usagedb::text

#endif  // USAGEDB_UTIL_DISPLAY_WIDTH_H_
