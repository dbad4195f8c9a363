#include "config/rules.h"

#include <algorithm>
#include <regex>

#include "core/address.h"

namespace lvsd::config::rules {

namespace {

bool isAsciiAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool allOf(std::string_view s, bool (*ok)(char)) {
  return std::all_of(s.begin(), s.end(), ok);
}

}  // namespace

std::string quote(std::string_view s) {
  static constexpr size_t kMax = 80;
  static const char* hex = "0123456789abcdef";
  std::string out = "'";
  for (size_t i = 0; i < s.size() && i < kMax; ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7f || c == '\\' || c == '\'') {
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  if (s.size() > kMax) out += "...";
  return out + "'";
}

bool isHex(std::string_view s) {
  return !s.empty() && allOf(s, [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  });
}

bool isAbsolutePath(std::string_view s) {
  return !s.empty() && s.front() == '/' &&
         allOf(s, [](char c) { return c != '\0' && c != '\n' && c != '\r'; });
}

bool isInterfaceName(std::string_view s) {
  if (s.empty() || s.size() > 15 || s == "." || s == "..") return false;
  return allOf(s, [](char c) { return c != '/' && c != ':' && c > ' ' && c != '\x7f'; });
}

bool isIdentifier(std::string_view s) {
  return !s.empty() && s.size() <= 64 &&
         allOf(s, [](char c) { return isAsciiAlnum(c) || c == '_' || c == '.' || c == '-'; });
}

bool isServiceName(std::string_view s) {
  return !s.empty() && s.size() <= 128 && allOf(s, [](char c) {
    return isAsciiAlnum(c) || c == '_' || c == '.' || c == '-' || c == '/' || c == ':' ||
           c == '[' || c == ']';
  });
}

bool isDnsName(std::string_view s) {
  if (!s.empty() && s.back() == '.') s.remove_suffix(1);
  if (s.empty() || s.size() > 253) return false;
  size_t start = 0;
  while (start <= s.size()) {
    size_t dot = s.find('.', start);
    if (dot == std::string_view::npos) dot = s.size();
    std::string_view label = s.substr(start, dot - start);
    if (label.empty() || label.size() > 63) return false;
    if (label.front() == '-' || label.back() == '-') return false;
    if (!allOf(label, [](char c) { return isAsciiAlnum(c) || c == '-' || c == '_'; })) return false;
    start = dot + 1;
  }
  return true;
}

std::optional<std::string> statusEntryProblem(std::string_view s) {
  auto code = [](std::string_view t) -> std::optional<int> {
    if (t.size() != 3) return std::nullopt;
    auto v = parseUnsigned(t, 999);
    if (!v || *v < 100 || *v > 599) return std::nullopt;
    return static_cast<int>(*v);
  };
  auto dash = s.find('-');
  auto lo = code(s.substr(0, dash));
  auto hi = dash == std::string_view::npos ? lo : code(s.substr(dash + 1));
  if (!lo || !hi) return "status " + quote(s) + " is not NNN or NNN-NNN with codes in 100..599";
  if (*lo > *hi) return "status range " + quote(s) + " is empty (low > high)";
  return std::nullopt;
}

namespace {

// Estimates how many NFA states libstdc++ builds for a pattern, following the
// grammar just enough to know what a quantifier applies to. It over-estimates
// (each quantifier doubles its atom) and saturates at kMaxRegexStates + 1.
class RegexCost {
 public:
  explicit RegexCost(std::string_view p) : p_(p) {}

  uint64_t total() {
    uint64_t n = 0;
    while (i_ < p_.size() && !tooDeep_) {
      n = add(n, disjunction());
      if (i_ < p_.size()) ++i_;  // a stray ')': std::regex will reject it
    }
    return n;
  }
  bool tooDeep() const { return tooDeep_; }

 private:
  static constexpr uint64_t kCap = kMaxRegexStates + 1;
  static uint64_t add(uint64_t a, uint64_t b) { return std::min(kCap, a + b); }
  static uint64_t mul(uint64_t a, uint64_t b) {
    return b != 0 && a > kCap / b ? kCap : std::min(kCap, a * b);
  }

  uint64_t disjunction() {
    uint64_t n = alternative();
    while (!tooDeep_ && i_ < p_.size() && p_[i_] == '|') {
      ++i_;
      n = add(n, alternative());
    }
    return n;
  }

  uint64_t alternative() {
    uint64_t n = 1;
    while (!tooDeep_ && i_ < p_.size() && p_[i_] != '|' && p_[i_] != ')')
      n = add(n, quantified(atom()));
    return n;
  }

  uint64_t atom() {
    char c = p_[i_++];
    if (c == '\\') {
      if (i_ < p_.size()) ++i_;
      return 1;
    }
    if (c == '[') {
      if (i_ < p_.size() && p_[i_] == '^') ++i_;
      while (i_ < p_.size() && p_[i_] != ']') i_ += p_[i_] == '\\' ? 2 : 1;
      if (i_ < p_.size()) ++i_;
      return 1;
    }
    if (c == '(') {
      if (++depth_ > kMaxRegexNesting) {
        tooDeep_ = true;
        return kCap;
      }
      if (i_ + 1 < p_.size() && p_[i_] == '?') i_ += 2;  // (?: (?= (?!
      uint64_t n = disjunction();
      if (i_ < p_.size() && p_[i_] == ')') ++i_;
      --depth_;
      return add(n, 2);
    }
    return 1;
  }

  uint64_t quantified(uint64_t n) {
    for (;;) {
      if (i_ >= p_.size()) return n;
      char c = p_[i_];
      if (c == '*' || c == '+' || c == '?') {
        ++i_;
        n = add(mul(n, 2), 2);
      } else if (c == '{') {
        size_t j = i_ + 1;
        uint64_t lo = number(j), hi = lo;
        if (j < p_.size() && p_[j] == ',') {
          ++j;
          hi = j < p_.size() && p_[j] == '}' ? lo + 1 : number(j);
        }
        if (j >= p_.size() || p_[j] != '}') return n;  // not a quantifier; std::regex decides
        i_ = j + 1;
        n = mul(n, std::max(lo, hi) + 1);
      } else {
        return n;
      }
      if (i_ < p_.size() && p_[i_] == '?') ++i_;  // lazy
    }
  }

  uint64_t number(size_t& j) {
    uint64_t v = 0;
    while (j < p_.size() && p_[j] >= '0' && p_[j] <= '9') {
      v = std::min<uint64_t>(kCap, v * 10 + static_cast<uint64_t>(p_[j] - '0'));
      ++j;
    }
    return v;
  }

  std::string_view p_;
  size_t i_ = 0;
  int depth_ = 0;
  bool tooDeep_ = false;
};

const char* regexErrorText(std::regex_constants::error_type code) {
  namespace rc = std::regex_constants;
  if (code == rc::error_collate) return "invalid collating element";
  if (code == rc::error_ctype) return "invalid character class";
  if (code == rc::error_escape) return "invalid escape";
  if (code == rc::error_backref) return "invalid back reference";
  if (code == rc::error_brack) return "unmatched '['";
  if (code == rc::error_paren) return "unmatched parenthesis";
  if (code == rc::error_brace) return "unmatched '{'";
  if (code == rc::error_badbrace) return "invalid repetition count";
  if (code == rc::error_range) return "invalid character range";
  if (code == rc::error_badrepeat) return "repetition of nothing";
  return "too complex";
}

}  // namespace

std::optional<std::string> regexProblem(std::string_view pattern) {
  if (pattern.empty()) return "empty regex";
  if (pattern.size() > kMaxRegexLength)
    return "regex of " + std::to_string(pattern.size()) + " characters is longer than " +
           std::to_string(kMaxRegexLength);
  RegexCost cost(pattern);
  uint64_t states = cost.total();
  if (cost.tooDeep()) return "regex nests groups deeper than " + std::to_string(kMaxRegexNesting);
  if (states > kMaxRegexStates)
    return "regex is too complex (counted repetitions expand to more than " +
           std::to_string(kMaxRegexStates) + " states)";
  try {
    std::regex re(pattern.begin(), pattern.end(), std::regex::ECMAScript);
  } catch (const std::regex_error& e) {
    return std::string("regex does not compile: ") + regexErrorText(e.code());
  } catch (const std::exception&) {
    return "regex does not compile: too complex";
  }
  // healthcheck/ matches in libstdc++'s polynomial (breadth-first) mode, one
  // pass over up to 64 KiB of body; that mode cannot run back-references.
  try {
    std::regex re(pattern.begin(), pattern.end(), std::regex::ECMAScript | std::regex_constants::__polynomial);
  } catch (const std::exception&) {
    return "regex uses back-references, which are not supported (bodies are matched in one pass)";
  }
  return std::nullopt;
}

std::optional<std::string> targetProblem(std::string_view t) {
  const std::string quoted = quote(t);
  if (t.empty()) return "empty target";
  std::string_view host, port;
  if (t.front() == '[') {
    auto close = t.find(']');
    if (close == std::string_view::npos) return "missing ']' in target " + quoted;
    host = t.substr(1, close - 1);
    auto rest = t.substr(close + 1);
    if (!rest.empty() && rest.front() != ':') return "junk after ']' in target " + quoted;
    if (!rest.empty()) port = rest.substr(1);
    auto a = IpAddress::parse(host);
    if (!a || !a->isV6()) return "invalid IPv6 address in target " + quoted;
  } else if (std::count(t.begin(), t.end(), ':') > 1) {
    auto a = IpAddress::parse(t);  // bare IPv6, no port
    if (!a) return "invalid target " + quoted + " (IPv6 with a port is written [addr]:port)";
    return std::nullopt;
  } else {
    auto colon = t.find(':');
    host = t.substr(0, colon);
    if (colon != std::string_view::npos) port = t.substr(colon + 1);
    if (host.empty() && port.empty()) return "target " + quoted + " names neither address nor port";
    if (!host.empty()) {
      auto a = IpAddress::parse(host);
      if (!a) return "invalid address in target " + quoted;
    }
  }
  if (!port.empty()) {
    auto p = parseUnsigned(port, 65535);
    if (!p || *p == 0) return "invalid port in target " + quoted + " (1..65535)";
  }
  return std::nullopt;
}

}  // namespace lvsd::config::rules
