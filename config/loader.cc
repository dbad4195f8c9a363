#include <google/protobuf/io/tokenizer.h>

#include <algorithm>
#include <cassert>
#include <cstring>
#include <fstream>
#include <sstream>

#include "config/located.h"
#include "core/address.h"
#include "core/digest.h"

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
  assert(fd && "validator names a field the schema does not have");
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
  const Message& m =
      fd->is_repeated() ? refl->GetRepeatedMessage(*msg_, fd, index) : refl->GetMessage(*msg_, fd);
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
    result.errors = finishDiagnostics(std::move(diags.all()), text);
    return result;
  }
  // Top-level problems (a missing section) point at the start of the file.
  Located root(loaded->proto, &tree, "", 1, 1);
  validate(loaded->proto, root, diags);
  if (!diags.all().empty()) {
    result.errors = finishDiagnostics(std::move(diags.all()), text);
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
