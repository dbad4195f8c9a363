// Turning raw positions from the text-format parser and the validator into
// what an operator expects: byte columns, the field a syntax error happened
// in, the offending token rather than the one after it, sorted output.
//
// The field path at a syntax error: the parser stops at the first error and
// says what it expected, but not where in the schema it was; syntaxFieldPath
// re-reads the text up to the error with a small tokenizer and the schema's
// descriptors to name the field ("virtual_service[1].real_server[0].weight").
#include <google/protobuf/descriptor.h>

#include <algorithm>
#include <map>
#include <vector>

#include "config/located.h"

namespace lvsd::config {

namespace {

// Line starts of a text, for turning positions into offsets and back in
// O(log n) however many diagnostics there are.
class LineIndex {
 public:
  explicit LineIndex(std::string_view text) : size_(text.size()) {
    starts_.push_back(0);
    for (size_t i = 0; i < text.size(); ++i)
      if (text[i] == '\n') starts_.push_back(i + 1);
  }
  // Offset of 1-based `line`, or npos.
  size_t start(int line) const {
    return line >= 1 && static_cast<size_t>(line) <= starts_.size() ? starts_[line - 1]
                                                                    : std::string_view::npos;
  }
  size_t end(int line) const {
    return static_cast<size_t>(line) < starts_.size() ? starts_[line] - 1 : size_;
  }
  int lineOf(size_t offset) const {
    return static_cast<int>(std::upper_bound(starts_.begin(), starts_.end(), offset) -
                            starts_.begin());
  }

 private:
  std::vector<size_t> starts_;
  size_t size_;
};

// The tokenizer counts a tab as advancing to the next multiple of 8; editors
// and compilers count bytes. Converts a 1-based tokenizer column on `line`
// into a 1-based byte column.
int byteColumn(std::string_view text, const LineIndex& lines, int line, int column) {
  size_t start = lines.start(line);
  if (start == std::string_view::npos) return column;
  size_t end = lines.end(line);
  int tokCol = 0;  // 0-based, tabs expanded
  for (size_t i = start; i < end; ++i) {
    if (tokCol >= column - 1) return static_cast<int>(i - start) + 1;
    tokCol = text[i] == '\t' ? tokCol + 8 - tokCol % 8 : tokCol + 1;
  }
  return static_cast<int>(end - start) + 1;
}

// Messages may quote parts of the input; keep every diagnostic on one line.
void sanitize(std::string& s) {
  for (auto& c : s)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
}

bool isIdentChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// The text-format parser reports some errors only after it consumed the
// offending name, i.e. at the next token (possibly on the next line). For
// those, move the location back to the name itself.
void pointAtNamedToken(std::string_view text, const LineIndex& lines, Diagnostic& d) {
  static constexpr std::pair<std::string_view, std::string_view> kForms[] = {
      {"has no field named \"", "\""},
      {"Unknown enumeration value of \"", "\""},
      {"Non-repeated field \"", "\""},
      {"Field \"", "\" is specified along with"},
  };
  std::string token;
  for (const auto& [before, after] : kForms) {
    auto b = d.message.find(before);
    if (b == std::string::npos) continue;
    b += before.size();
    auto e = d.message.find(after, b);
    if (e != std::string::npos) token = d.message.substr(b, e - b);
    break;
  }
  if (token.empty() || !std::all_of(token.begin(), token.end(), isIdentChar)) return;
  size_t start = lines.start(d.line);
  if (start == std::string_view::npos) return;
  size_t reported = std::min(text.size(), start + static_cast<size_t>(d.column - 1));
  for (size_t pos = text.rfind(token, reported); pos != std::string_view::npos;
       pos = pos == 0 ? std::string_view::npos : text.rfind(token, pos - 1)) {
    if (reported - pos > 4096) return;
    bool wholeWord = (pos == 0 || !isIdentChar(text[pos - 1])) &&
                     (pos + token.size() >= text.size() || !isIdentChar(text[pos + token.size()]));
    if (pos + token.size() > reported || !wholeWord) continue;
    d.line = lines.lineOf(pos);
    d.column = static_cast<int>(pos - lines.start(d.line)) + 1;
    return;
  }
}

// "String literals cannot cross line boundaries" comes at the end of the
// line; point at the quote that opened the string instead.
void pointAtOpenQuote(std::string_view text, const LineIndex& lines, Diagnostic& d) {
  if (d.message.rfind("String literals cannot cross line boundaries", 0) != 0) return;
  size_t start = lines.start(d.line);
  if (start == std::string_view::npos) return;
  size_t end = lines.end(d.line);
  char quote = 0;
  size_t open = 0;
  for (size_t i = start; i < end; ++i) {
    char c = text[i];
    if (quote) {
      if (c == '\\')
        ++i;
      else if (c == quote)
        quote = 0;
    } else if (c == '#') {
      break;
    } else if (c == '"' || c == '\'') {
      quote = c;
      open = i;
    }
  }
  if (quote) d.column = static_cast<int>(open - start) + 1;
}

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;

bool identStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool identChar(char c) {
  return identStart(c) || (c >= '0' && c <= '9') || c == '.';
}

struct Frame {
  const Descriptor* type;  // null inside an unknown field's message
  std::string path;
  std::map<std::string, int> counts;  // occurrences of repeated fields so far
};

std::string join(const std::string& path, const std::string& elem) {
  return path.empty() ? elem : elem.empty() ? path : path + "." + elem;
}

}  // namespace

std::string syntaxFieldPath(std::string_view text, size_t errorOffset) {
  enum class State { kField, kAfterField, kValue, kList };
  std::vector<Frame> stack{{Config::descriptor(), "", {}}};
  State state = State::kField;
  std::string elem;  // the field being read in the innermost frame
  const FieldDescriptor* fd = nullptr;
  size_t i = 0;
  const size_t end = std::min(errorOffset, text.size());
  while (i < end) {
    char c = text[i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
      ++i;
    } else if (c == '#') {
      while (i < text.size() && text[i] != '\n') ++i;
    } else if (c == '"' || c == '\'') {
      for (++i; i < text.size() && text[i] != c && text[i] != '\n'; ++i)
        if (text[i] == '\\') ++i;
      ++i;
      if (state == State::kValue) state = State::kField;
    } else if (c == '{' || c == '<') {
      ++i;
      const Descriptor* sub = fd && fd->message_type() ? fd->message_type() : nullptr;
      stack.push_back({sub, join(stack.back().path, elem), {}});
      state = State::kField;
      elem.clear();
      fd = nullptr;
    } else if (c == '}' || c == '>') {
      ++i;
      if (stack.size() > 1) stack.pop_back();
      state = State::kField;
      elem.clear();
      fd = nullptr;
    } else if (c == ':') {
      ++i;
      if (state == State::kAfterField) state = State::kValue;
    } else if (c == '[') {
      ++i;
      if (state == State::kValue) state = State::kList;
    } else if (c == ']') {
      ++i;
      if (state == State::kList) state = State::kField;
    } else if (identStart(c) && state == State::kField) {
      size_t start = i;
      while (i < text.size() && identChar(text[i])) ++i;
      std::string name(text.substr(start, i - start));
      Frame& f = stack.back();
      fd = f.type ? f.type->FindFieldByName(name) : nullptr;
      elem = name;
      if (fd && fd->is_repeated()) elem += "[" + std::to_string(f.counts[name]++) + "]";
      state = State::kAfterField;
    } else {
      // A value (number, enum, identifier in a list) or a separator.
      ++i;
      if (c == ',' || c == ';') continue;
      static constexpr std::string_view kStop = " \t\n\r\f\v{}<>:[],;#\"'";
      while (i < text.size() && kStop.find(text[i]) == std::string_view::npos) ++i;
      if (state == State::kValue) state = State::kField;
    }
  }
  // At the end of the file the innermost open message is what is unfinished.
  bool atEnd = text.find_first_not_of(" \t\n\r", std::min(errorOffset, text.size())) ==
               std::string_view::npos;
  return atEnd ? stack.back().path : join(stack.back().path, elem);
}

std::vector<Diagnostic> finishDiagnostics(std::vector<Diagnostic> errs, std::string_view text) {
  LineIndex lines(text);
  for (auto& d : errs) {
    if (d.line > 0 && d.column > 0) d.column = byteColumn(text, lines, d.line, d.column);
    if (d.line > 0 && d.column > 0 && d.field.empty()) {
      // A syntax error: name the field it happened in, then point at the
      // offending name when the parser reported the token after it.
      size_t start = lines.start(d.line);
      if (start != std::string_view::npos)
        d.field = syntaxFieldPath(text, start + static_cast<size_t>(d.column - 1));
      pointAtNamedToken(text, lines, d);
      pointAtOpenQuote(text, lines, d);
      // protobuf says "got: " with nothing after it at the end of the input.
      if (d.message.size() >= 5 && d.message.compare(d.message.size() - 5, 5, "got: ") == 0)
        d.message += "end of file";
    }
    sanitize(d.message);
    sanitize(d.field);
  }
  std::stable_sort(errs.begin(), errs.end(), [](const Diagnostic& a, const Diagnostic& b) {
    return std::tie(a.line, a.column) < std::tie(b.line, b.column);
  });
  return errs;
}

}  // namespace lvsd::config
