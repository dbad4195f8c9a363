#pragma once
// Private to config/: a message paired with where its fields sit in the file.

#include <google/protobuf/text_format.h>

#include <string>
#include <vector>

#include "config/config.h"

namespace lvsd::config {

using google::protobuf::Message;
using google::protobuf::TextFormat;

class Located {
 public:
  Located(const Message& msg, const TextFormat::ParseInfoTree* tree, std::string path, int line,
          int column)
      : msg_(&msg), tree_(tree), path_(std::move(path)), line_(line), column_(column) {}

  const Message& message() const { return *msg_; }
  const std::string& path() const { return path_; }
  // Location of a field (index for repeated fields); falls back to the
  // location of this message itself when the field is absent.
  std::pair<int, int> where(const std::string& field, int index = -1) const;
  std::string fieldPath(const std::string& field, int index = -1) const;
  Located child(const std::string& field, int index = -1) const;
  // Location of this message itself (its field name in the parent).
  std::pair<int, int> self() const { return {line_, column_}; }

 private:
  const Message* msg_;
  const TextFormat::ParseInfoTree* tree_;
  std::string path_;
  int line_, column_;  // 1-based location of this message (0 = top level)
};

// Collects diagnostics for one file.
class Diagnostics {
 public:
  explicit Diagnostics(std::string file) : file_(std::move(file)) {}
  void add(const Located& at, const std::string& field, int index, std::string message);
  void add(const Located& at, const std::string& field, std::string message) {
    add(at, field, -1, std::move(message));
  }
  // A problem with the message `at` as a whole (e.g. a oneof left unset).
  void addAt(const Located& at, std::string message);
  void addRaw(int line, int column, std::string field, std::string message);
  std::vector<Diagnostic>& all() { return list_; }

 private:
  std::string file_;
  std::vector<Diagnostic> list_;
};

// Semantic validation of a parsed config; appends to `out`.
void validate(const Config& config, const Located& root, Diagnostics& out);

// The dotted field path at byte `errorOffset` of a text that failed to parse
// (diagnostics.cc); "" at the top level.
std::string syntaxFieldPath(std::string_view text, size_t errorOffset);

// Byte columns, syntax-error fields and token positions, one line per
// message, sorted by position (diagnostics.cc).
std::vector<Diagnostic> finishDiagnostics(std::vector<Diagnostic> errs, std::string_view text);

// Fills in the defaults proto2 cannot express (defaults.cc); only for a
// config that validated cleanly.
void applyDefaults(Config& config);

}  // namespace lvsd::config
