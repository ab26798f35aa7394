#include "tests/testutil/plain_json.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <optional>
#include <utility>
#include <vector>

namespace usagedb::testing::plain_json {
namespace {

constexpr int kMaxLevel = 1024;

struct Value {
  enum Kind { kString, kOther } kind = kOther;
  std::string text;  // the decoded string
};

class Parser {
 public:
  explicit Parser(std::string_view in) : in_(in) {}

  // The whole document; with `members`, the members of a top-level object.
  bool document(std::vector<std::pair<std::string, Value>>* members, bool* is_object) {
    space();
    *is_object = pos_ < in_.size() && in_[pos_] == '{';
    Value v;
    if (!value(1, &v, *is_object ? members : nullptr)) return false;
    space();
    return pos_ == in_.size();
  }

 private:
  bool at(char c) const { return pos_ < in_.size() && in_[pos_] == c; }
  void space() {
    while (pos_ < in_.size() && (in_[pos_] == ' ' || in_[pos_] == '\t' || in_[pos_] == '\n' || in_[pos_] == '\r')) {
      ++pos_;
    }
  }
  bool literal(std::string_view word) {
    if (in_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }

  bool value(int level, Value* out, std::vector<std::pair<std::string, Value>>* members) {
    if (level > kMaxLevel || pos_ >= in_.size()) return false;
    switch (in_[pos_]) {
      case '{': return object(level, members);
      case '[': return array(level);
      case '"':
        out->kind = Value::kString;
        return string(&out->text);
      case 't': return literal("true");
      case 'f': return literal("false");
      case 'n': return literal("null");
      default: return number();
    }
  }

  bool object(int level, std::vector<std::pair<std::string, Value>>* members) {
    ++pos_;  // '{'
    space();
    if (at('}')) {
      ++pos_;
      return true;
    }
    while (true) {
      space();
      std::string key;
      if (!at('"') || !string(&key)) return false;
      space();
      if (!at(':')) return false;
      ++pos_;
      space();
      Value v;
      if (!value(level + 1, &v, nullptr)) return false;
      if (members != nullptr) members->emplace_back(std::move(key), std::move(v));
      space();
      if (at(',')) {
        ++pos_;
        continue;
      }
      if (!at('}')) return false;
      ++pos_;
      return true;
    }
  }

  bool array(int level) {
    ++pos_;  // '['
    space();
    if (at(']')) {
      ++pos_;
      return true;
    }
    while (true) {
      space();
      Value v;
      if (!value(level + 1, &v, nullptr)) return false;
      space();
      if (at(',')) {
        ++pos_;
        continue;
      }
      if (!at(']')) return false;
      ++pos_;
      return true;
    }
  }

  std::optional<uint32_t> hex4() {
    if (pos_ + 4 > in_.size()) return std::nullopt;
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = in_[pos_++];
      v <<= 4;
      if (c >= '0' && c <= '9') v |= c - '0';
      else if (c >= 'a' && c <= 'f') v |= c - 'a' + 10;
      else if (c >= 'A' && c <= 'F') v |= c - 'A' + 10;
      else return std::nullopt;
    }
    return v;
  }

  static void append_utf8(uint32_t cp, std::string* out) {
    if (cp < 0x80) {
      out->push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }

  bool string(std::string* out) {
    ++pos_;  // '"'
    while (pos_ < in_.size()) {
      const auto c = static_cast<unsigned char>(in_[pos_++]);
      if (c == '"') return true;
      if (c < 0x20) return false;
      if (c != '\\') {
        out->push_back(static_cast<char>(c));
        continue;
      }
      if (pos_ >= in_.size()) return false;
      switch (in_[pos_++]) {
        case '"': out->push_back('"'); break;
        case '\\': out->push_back('\\'); break;
        case '/': out->push_back('/'); break;
        case 'b': out->push_back('\b'); break;
        case 'f': out->push_back('\f'); break;
        case 'n': out->push_back('\n'); break;
        case 'r': out->push_back('\r'); break;
        case 't': out->push_back('\t'); break;
        case 'u': {
          std::optional<uint32_t> cp = hex4();
          if (!cp || (*cp >= 0xDC00 && *cp <= 0xDFFF)) return false;  // a low surrogate first
          if (*cp >= 0xD800 && *cp <= 0xDBFF) {
            if (!literal("\\u")) return false;
            std::optional<uint32_t> low = hex4();
            if (!low || *low < 0xDC00 || *low > 0xDFFF) return false;
            *cp = 0x10000 + ((*cp - 0xD800) << 10) + (*low - 0xDC00);
          }
          append_utf8(*cp, out);
          break;
        }
        default: return false;
      }
    }
    return false;  // unterminated
  }

  bool digits() {
    const size_t start = pos_;
    while (pos_ < in_.size() && in_[pos_] >= '0' && in_[pos_] <= '9') ++pos_;
    return pos_ > start;
  }

  bool number() {
    const size_t start = pos_;
    const bool negative = at('-');
    if (negative) ++pos_;
    if (at('0')) {
      ++pos_;
    } else if (!digits()) {
      return false;
    }
    bool integer = true;
    if (at('.')) {
      ++pos_;
      if (!digits()) return false;
      integer = false;
    }
    if (at('e') || at('E')) {
      ++pos_;
      if (at('+') || at('-')) ++pos_;
      if (!digits()) return false;
      integer = false;
    }
    const std::string text(in_.substr(start, pos_ - start));
    if (integer) {
      // Must fit int64 (negative) or uint64: compare the digits as decimals.
      const std::string magnitude = negative ? text.substr(1) : text;
      const std::string limit = negative ? "9223372036854775808" : "18446744073709551615";
      return magnitude.size() < limit.size() || (magnitude.size() == limit.size() && magnitude <= limit);
    }
    errno = 0;
    const double d = std::strtod(text.c_str(), nullptr);
    return !(errno == ERANGE && std::isinf(d));  // overflow is invalid, underflow is not
  }

  std::string_view in_;
  size_t pos_ = 0;
};

}  // namespace

bool valid(std::string_view document) {
  std::vector<std::pair<std::string, Value>> members;
  bool is_object = false;
  return Parser(document).document(&members, &is_object);
}

std::string property_value(std::string_view document, std::string_view property) {
  std::vector<std::pair<std::string, Value>> members;
  bool is_object = false;
  if (!Parser(document).document(&members, &is_object) || !is_object) return "";
  for (const auto& [key, value] : members) {
    if (key == property) return value.kind == Value::kString ? value.text : "";
  }
  return "";
}

}  // namespace usagedb::testing::plain_json
