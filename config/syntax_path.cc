// The field path at a syntax error. The text-format parser stops at the first
// syntax error and says what it expected, but not where in the schema it was;
// this re-reads the text up to the error with a small tokenizer and the
// schema's descriptors to name the field ("virtual_service[1].real_server[0]
// .weight"), so syntax errors carry a field like semantic ones do.
#include <google/protobuf/descriptor.h>

#include <map>
#include <vector>

#include "config/located.h"

namespace lvsd::config {

namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;

bool identStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool identChar(char c) { return identStart(c) || (c >= '0' && c <= '9') || c == '.'; }

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

}  // namespace lvsd::config
