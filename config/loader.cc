#include <google/protobuf/io/tokenizer.h>
#include <openssl/evp.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <sstream>

#include "config/located.h"
#include "core/address.h"

namespace lvsd::config {

using google::protobuf::FieldDescriptor;

std::string Diagnostic::toString() const {
  std::string s = file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": ";
  if (!field.empty()) s += field + ": ";
  return s + message;
}

std::string LoadResult::errorText() const {
  std::string out;
  for (const auto& d : errors) out += d.toString() + "\n";
  return out;
}

std::pair<int, int> Located::where(const std::string& field, int index) const {
  const FieldDescriptor* fd = msg_->GetDescriptor()->FindFieldByName(field);
  if (fd && tree_) {
    int i = fd->is_repeated() ? std::max(index, 0) : -1;
    if (!fd->is_repeated() || i < msg_->GetReflection()->FieldSize(*msg_, fd)) {
      auto loc = tree_->GetLocation(fd, i);
      if (loc.line >= 0) return {loc.line + 1, loc.column + 1};
    }
  }
  return {line_, column_};
}

std::string Located::fieldPath(const std::string& field, int index) const {
  std::string p = path_.empty() ? field : path_ + "." + field;
  if (index >= 0) p += "[" + std::to_string(index) + "]";
  return p;
}

Located Located::child(const std::string& field, int index) const {
  const FieldDescriptor* fd = msg_->GetDescriptor()->FindFieldByName(field);
  const auto* refl = msg_->GetReflection();
  auto [line, col] = where(field, index);
  const TextFormat::ParseInfoTree* sub = nullptr;
  if (tree_ && fd) sub = tree_->GetTreeForNested(fd, fd->is_repeated() ? index : -1);
  const Message& m = fd->is_repeated() ? refl->GetRepeatedMessage(*msg_, fd, index)
                                       : refl->GetMessage(*msg_, fd);
  return Located(m, sub, fieldPath(field, fd->is_repeated() ? index : -1), line, col);
}

void Diagnostics::add(const Located& at, const std::string& field, int index, std::string message) {
  auto [line, col] = at.where(field, index);
  list_.push_back({file_, line, col, at.fieldPath(field, index), std::move(message)});
}

void Diagnostics::addAt(const Located& at, std::string message) {
  auto [line, col] = at.self();
  list_.push_back({file_, line, col, at.path(), std::move(message)});
}

void Diagnostics::addRaw(int line, int column, std::string field, std::string message) {
  list_.push_back({file_, line, column, std::move(field), std::move(message)});
}

namespace {

class Collector : public google::protobuf::io::ErrorCollector {
 public:
  explicit Collector(Diagnostics& d) : d_(d) {}
  void AddError(int line, int column, const std::string& message) override {
    d_.addRaw(line + 1, column + 1, "", message);
  }
  void AddWarning(int line, int column, const std::string& message) override {
    // protobuf warns about deprecated/unknown-but-allowed constructs; we allow neither.
    d_.addRaw(line + 1, column + 1, "", message);
  }

 private:
  Diagnostics& d_;
};

std::string sha256Hex(const std::string& data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(data.data(), data.size(), md, &n, EVP_sha256(), nullptr);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < n; ++i) {
    out += hex[md[i] >> 4];
    out += hex[md[i] & 15];
  }
  return out;
}

// The tokenizer counts a tab as advancing to the next multiple of 8; editors
// and compilers count bytes. Converts a 1-based tokenizer column on `line`
// (1-based) of `text` into a 1-based byte column.
int byteColumn(std::string_view text, int line, int column) {
  size_t start = 0;
  for (int l = 1; l < line; ++l) {
    start = text.find('\n', start);
    if (start == std::string_view::npos) return column;
    ++start;
  }
  int tokCol = 0;  // 0-based, tabs expanded
  for (size_t i = start; i < text.size() && text[i] != '\n'; ++i) {
    if (tokCol >= column - 1) return static_cast<int>(i - start) + 1;
    tokCol = text[i] == '\t' ? tokCol + 8 - tokCol % 8 : tokCol + 1;
  }
  return static_cast<int>(std::min(text.size(), text.find('\n', start)) - start) + 1;
}

// Messages may quote parts of the input; keep every diagnostic on one line.
void sanitize(std::string& s) {
  for (auto& c : s)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
}

size_t lineStart(std::string_view text, int line) {
  size_t start = 0;
  for (int l = 1; l < line && start != std::string_view::npos; ++l) {
    start = text.find('\n', start);
    if (start != std::string_view::npos) ++start;
  }
  return start;
}

bool isIdentChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// The text-format parser reports some errors only after it consumed the
// offending name, i.e. at the next token (possibly on the next line). For
// those, move the location back to the name itself.
void pointAtNamedToken(std::string_view text, Diagnostic& d) {
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
  size_t start = lineStart(text, d.line);
  if (start == std::string_view::npos) return;
  size_t reported = std::min(text.size(), start + static_cast<size_t>(d.column - 1));
  for (size_t pos = text.rfind(token, reported); pos != std::string_view::npos;
       pos = pos == 0 ? std::string_view::npos : text.rfind(token, pos - 1)) {
    if (reported - pos > 4096) return;
    bool wholeWord = (pos == 0 || !isIdentChar(text[pos - 1])) &&
                     (pos + token.size() >= text.size() || !isIdentChar(text[pos + token.size()]));
    if (pos + token.size() > reported || !wholeWord) continue;
    int line = 1 + static_cast<int>(std::count(text.begin(), text.begin() + pos, '\n'));
    d.line = line;
    d.column = static_cast<int>(pos - lineStart(text, line)) + 1;
    return;
  }
}

// "String literals cannot cross line boundaries" comes at the end of the
// line; point at the quote that opened the string instead.
void pointAtOpenQuote(std::string_view text, Diagnostic& d) {
  if (d.message.rfind("String literals cannot cross line boundaries", 0) != 0) return;
  size_t start = lineStart(text, d.line);
  if (start == std::string_view::npos) return;
  size_t end = std::min(text.find('\n', start), text.size());
  char quote = 0;
  size_t open = 0;
  for (size_t i = start; i < end; ++i) {
    char c = text[i];
    if (quote) {
      if (c == '\\') ++i;
      else if (c == quote) quote = 0;
    } else if (c == '#') {
      break;
    } else if (c == '"' || c == '\'') {
      quote = c;
      open = i;
    }
  }
  if (quote) d.column = static_cast<int>(open - start) + 1;
}

std::vector<Diagnostic> finish(std::vector<Diagnostic> errs, std::string_view text) {
  for (auto& d : errs) {
    if (d.line > 0 && d.column > 0) d.column = byteColumn(text, d.line, d.column);
    if (d.line > 0 && d.column > 0 && d.field.empty()) {
      // A syntax error: name the field it happened in, then point at the
      // offending name when the parser reported the token after it.
      size_t start = lineStart(text, d.line);
      if (start != std::string_view::npos)
        d.field = syntaxFieldPath(text, start + static_cast<size_t>(d.column - 1));
      pointAtNamedToken(text, d);
      pointAtOpenQuote(text, d);
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

}  // namespace

LoadResult loadString(std::string_view text, const std::string& name) {
  LoadResult result;
  Diagnostics diags(name);
  auto loaded = std::make_shared<LoadedConfig>();
  loaded->file = name;
  loaded->text = std::string(text);

  TextFormat::Parser parser;
  Collector collector(diags);
  TextFormat::ParseInfoTree tree;
  parser.RecordErrorsTo(&collector);
  parser.WriteLocationsTo(&tree);
  parser.AllowPartialMessage(true);
  if (!parser.ParseFromString(loaded->text, &loaded->proto)) {
    if (diags.all().empty()) diags.addRaw(1, 1, "", "syntax error");
    result.errors = finish(std::move(diags.all()), text);
    return result;
  }
  // Top-level problems (a missing section) point at the start of the file.
  Located root(loaded->proto, &tree, "", 1, 1);
  validate(loaded->proto, root, diags);
  if (!diags.all().empty()) {
    result.errors = finish(std::move(diags.all()), text);
    return result;
  }
  applyDefaults(loaded->proto);
  // Digest over the canonical (deterministic) serialization: comments,
  // whitespace and field order in the file do not change it.
  std::string canon;
  {
    google::protobuf::io::StringOutputStream sos(&canon);
    google::protobuf::io::CodedOutputStream cos(&sos);
    cos.SetSerializationDeterministic(true);
    loaded->proto.SerializeToCodedStream(&cos);
  }
  loaded->digest = sha256Hex(canon);
  result.config = std::move(loaded);
  return result;
}

LoadResult loadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    LoadResult r;
    r.errors.push_back({path, 0, 0, "", "cannot open file: " + std::string(std::strerror(errno))});
    return r;
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return loadString(ss.str(), path);
}

const Director* findDirector(const Config& config, std::string_view name) {
  for (const auto& d : config.director())
    if (d.name() == name) return &d;
  return nullptr;
}

std::string serviceKey(const VirtualService& vs) {
  if (vs.has_fwmark()) {
    return "fwmark/" + std::to_string(vs.fwmark()) + "/" +
           (vs.family() == INET6 ? "inet6" : "inet");
  }
  std::string proto = vs.protocol() == UDP ? "udp" : vs.protocol() == SCTP ? "sctp" : "tcp";
  auto ep = Endpoint::parse(vs.address());
  return proto + "/" + (ep ? ep->toString() : vs.address());
}

}  // namespace lvsd::config
