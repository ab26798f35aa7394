#include "lib/storage/string_codec.h"

#include <charconv>
#include <cstring>
#include <optional>
#include <vector>

#include "absl/strings/str_cat.h"
#include "lib/storage/int_codec.h"
#include "lib/util/coding.h"
#include "lib/util/compression.h"

namespace usagedb::storage {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// The prefix and numbers of a column whose strings are all `prefix` followed
// by a canonical decimal number (no sign, no leading zero), such as evt_1,
// evt_2, ...; nullopt for any other column. Canonical numbers print back to
// the same bytes, so the encoding is exact.
struct PrefixedInts {
  std::string_view prefix;
  std::vector<uint64_t> numbers;
};

// The most bytes a kPrefixedInts column may print: a few bytes of payload
// can describe any number of ids, so the reader needs a bound before it
// allocates, and the writer keeps larger columns out of this encoding.
constexpr uint64_t kMaxPrefixedIntsBytes = uint64_t{1} << 30;

std::optional<PrefixedInts> as_prefixed_ints(const StringColumn& column) {
  if (column.size() == 0 || column.bytes().size() > kMaxPrefixedIntsBytes) return std::nullopt;
  std::string_view prefix = column.at(0);
  for (size_t i = 1; i < column.size() && !prefix.empty(); ++i) {
    const std::string_view s = column.at(i);
    size_t n = 0;
    while (n < prefix.size() && n < s.size() && prefix[n] == s[n]) ++n;
    prefix = prefix.substr(0, n);
  }
  // The number starts after the last non-digit of the common prefix.
  while (!prefix.empty() && is_digit(prefix.back())) prefix.remove_suffix(1);
  PrefixedInts out{prefix, std::vector<uint64_t>(column.size())};
  for (size_t i = 0; i < column.size(); ++i) {
    const std::string_view digits = column.at(i).substr(prefix.size());
    if (digits.empty() || digits.size() > 20 || (digits[0] == '0' && digits.size() > 1)) return std::nullopt;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), out.numbers[i]);
    if (ec != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
  }
  return out;
}

// "0000" to "9999".
struct FourDigits {
  char digits[10000][4];
  constexpr FourDigits() : digits() {
    for (int i = 0; i < 10000; ++i) {
      for (int k = 3, v = i; k >= 0; --k, v /= 10) digits[i][k] = static_cast<char>('0' + v % 10);
    }
  }
};
constexpr FourDigits kFourDigits;

int decimal_digits(uint64_t v) {
  int n = 1;
  for (; v >= 10000; v /= 10000) n += 4;
  return v >= 1000 ? n + 3 : v >= 100 ? n + 2 : v >= 10 ? n + 1 : n;
}

uint64_t zigzag(int64_t v) { return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63); }
int64_t unzigzag(uint64_t v) { return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1); }

// kPrefixedInts: the prefix, the first number, then the zigzag deltas of the
// next ones as kFor. false (nothing written) when a delta needs over 32 bits.
bool encode_prefixed_ints(const PrefixedInts& p, std::string* out) {
  std::vector<uint32_t> deltas(p.numbers.size() - 1);
  for (size_t i = 1; i < p.numbers.size(); ++i) {
    // The true difference, not the one modulo 2^64: the decoder refuses to wrap.
    const uint64_t a = p.numbers[i - 1], b = p.numbers[i];
    constexpr uint64_t kMaxStep = uint64_t{1} << 31;
    if (b >= a ? b - a >= kMaxStep : a - b > kMaxStep) return false;
    deltas[i - 1] = static_cast<uint32_t>(zigzag(b >= a ? static_cast<int64_t>(b - a) : -static_cast<int64_t>(a - b)));
  }
  coding::put_varint64(out, p.numbers.size());
  coding::put_length_prefixed(out, p.prefix);
  coding::put_varint64(out, p.numbers[0]);
  encode_for(deltas, out);
  return true;
}

absl::StatusOr<StringColumn> decode_prefixed_ints(std::string_view in) {
  uint64_t n, first;
  std::string_view prefix;
  if (!coding::get_varint64(&in, &n) || !coding::get_length_prefixed(&in, &prefix) ||
      !coding::get_varint64(&in, &first)) {
    return absl::DataLossError("truncated header");
  }
  if (n == 0) return absl::DataLossError("no strings");
  std::vector<uint32_t> deltas;
  if (absl::Status s = decode_ints(IntEncoding::kFor, &in, n - 1, kNoLimit, &deltas); !s.ok()) {
    return absl::DataLossError(absl::StrCat("deltas: ", s.message()));
  }
  if (!in.empty()) return absl::DataLossError(absl::StrCat(in.size(), " bytes after the deltas"));
  // First the exact size (checking every number), so the bytes are written
  // in place; the numbers are summed again while printing rather than
  // kept (8 bytes per id of fresh memory).
  uint64_t number = first;
  uint64_t size = prefix.size() + decimal_digits(first);
  for (size_t i = 1; i < n; ++i) {
    const int64_t delta = unzigzag(deltas[i - 1]);
    const uint64_t prev = number;
    // Wrapping past 0 or 2^64-1 means the numbers are not what was encoded.
    if ((delta < 0 && prev < static_cast<uint64_t>(-(delta + 1)) + 1) ||
        (delta > 0 && prev > UINT64_MAX - static_cast<uint64_t>(delta))) {
      return absl::DataLossError(absl::StrCat("number ", i, " is out of range"));
    }
    number = prev + static_cast<uint64_t>(delta);
    size += prefix.size() + decimal_digits(number);
    if (size > kMaxPrefixedIntsBytes) {
      return absl::DataLossError(absl::StrCat("the ids print more than ", kMaxPrefixedIntsBytes, " bytes"));
    }
  }
  std::string bytes(size, '\0');
  StringEnds ends;
  ends.reserve(n);
  char* out = bytes.data();
  char* const limit = out + size;
  // Neighbouring ids share their leading digits: print those once per change
  // and the last four from a table (to_chars per id is most of the time).
  uint64_t high = UINT64_MAX;
  char high_digits[16] = {};  // v / 10000 < 2^64 / 10^4 has at most 16 digits
  size_t high_size = 0;
  // Short prefixes are copied as a fixed 16 bytes (two moves, no call)
  // while at least that much room is left; the bytes past them are
  // overwritten by what follows.
  char prefix16[16] = {};
  const bool short_prefix = prefix.size() <= sizeof(prefix16);
  if (short_prefix) std::memcpy(prefix16, prefix.data(), prefix.size());
  uint64_t v = first;
  for (size_t i = 0; i < n; ++i) {
    if (i > 0) v += static_cast<uint64_t>(unzigzag(deltas[i - 1]));  // checked above: no wrap
    if (short_prefix && limit - out >= 16) {
      std::memcpy(out, prefix16, 16);
    } else {
      std::memcpy(out, prefix.data(), prefix.size());
    }
    out += prefix.size();
    if (v < 10000) {
      out = std::to_chars(out, limit, v).ptr;
    } else {
      if (v / 10000 != high) {
        high = v / 10000;
        high_size = static_cast<size_t>(std::to_chars(high_digits, high_digits + 16, high).ptr - high_digits);
      }
      if (limit - out >= 16) {
        std::memcpy(out, high_digits, 16);
      } else {
        std::memcpy(out, high_digits, high_size);
      }
      std::memcpy(out + high_size, kFourDigits.digits[v % 10000], 4);
      out += high_size + 4;
    }
    ends.push_back(static_cast<uint64_t>(out - bytes.data()));
  }
  return StringColumn(std::move(bytes), std::move(ends));
}

}  // namespace

StringEncoding encode_strings(const StringColumn& column, int level, std::string* out) {
  if (std::optional<PrefixedInts> p = as_prefixed_ints(column); p.has_value() && encode_prefixed_ints(*p, out)) {
    return StringEncoding::kPrefixedInts;
  }
  const size_t n = column.size();
  std::vector<uint32_t> lengths(n);
  for (size_t i = 0; i < n; ++i) lengths[i] = static_cast<uint32_t>(column.at(i).size());
  coding::put_varint64(out, n);
  coding::put_varint64(out, column.bytes().size());
  encode_for(lengths, out);
  const size_t start = out->size();
  compression::compress(column.bytes(), level, out);
  if (out->size() - start < column.bytes().size()) return StringEncoding::kZstd;
  out->resize(start);
  out->append(column.bytes());
  return StringEncoding::kPlain;
}

absl::StatusOr<StringColumn> decode_strings(StringEncoding encoding, std::string_view in) {
  if (encoding == StringEncoding::kPrefixedInts) return decode_prefixed_ints(in);
  if (encoding != StringEncoding::kPlain && encoding != StringEncoding::kZstd) {
    return absl::DataLossError(absl::StrCat("unknown string encoding ", static_cast<int>(encoding)));
  }
  uint64_t n, total;
  if (!coding::get_varint64(&in, &n) || !coding::get_varint64(&in, &total)) {
    return absl::DataLossError("truncated string column header");
  }
  std::vector<uint32_t> lengths;
  if (absl::Status s = decode_ints(IntEncoding::kFor, &in, n, kNoLimit, &lengths); !s.ok()) {
    return absl::DataLossError(absl::StrCat("string lengths: ", s.message()));
  }
  StringEnds ends;
  ends.reserve(n);
  uint64_t end = 0;
  for (size_t i = 0; i < n; ++i) {
    end += lengths[i];
    ends.push_back(end);
  }
  if (end != total) {
    return absl::DataLossError(absl::StrCat("string lengths add up to ", end, " bytes, the header says ", total));
  }
  std::string bytes;
  if (encoding == StringEncoding::kPlain) {
    if (in.size() != total) {
      return absl::DataLossError(absl::StrCat("string bytes: ", in.size(), " bytes, expected ", total));
    }
    bytes.assign(in);
  } else if (absl::Status s = compression::decompress(in, total, &bytes); !s.ok()) {
    return absl::DataLossError(absl::StrCat("string bytes: ", s.message()));
  }
  return StringColumn(std::move(bytes), std::move(ends));
}

}  // namespace usagedb::storage
