// Shared parts of the importers: problem text, rendering, file access.
#include <glob.h>

#include <google/protobuf/text_format.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli/import/import.h"

namespace lvsd::import {

using google::protobuf::FieldDescriptor;

namespace {

const char* severityName(Problem::Severity s) {
  switch (s) {
    case Problem::kNote:
      return "note";
    case Problem::kUnsupported:
      return "unsupported";
    case Problem::kError:
      return "error";
  }
  return "?";
}

class FileSystemReader final : public SourceReader {
 public:
  Result<std::string> read(const std::string& path) override {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec))
      return Error("cannot read " + path + ": is a directory", EISDIR);
    std::ifstream in(path, std::ios::binary);
    if (!in) return errnoError("cannot read " + path, errno);
    std::ostringstream s;
    s << in.rdbuf();
    if (in.bad()) return errnoError("cannot read " + path, errno);
    return s.str();
  }

  Result<std::vector<std::string>> glob(const std::string& pattern) override {
    glob_t g{};
    int rc = ::glob(pattern.c_str(), GLOB_BRACE | GLOB_TILDE_CHECK, nullptr, &g);
    std::vector<std::string> out;
    if (rc == 0)
      for (size_t i = 0; i < g.gl_pathc; ++i) out.emplace_back(g.gl_pathv[i]);
    globfree(&g);
    if (rc != 0 && rc != GLOB_NOMATCH)
      return Error("cannot expand " + pattern + (rc == GLOB_ABORTED ? ": read error" : ": out of memory"));
    std::sort(out.begin(), out.end());
    return out;
  }

  std::string identity(const std::string& path) override {
    std::error_code ec;
    auto p = std::filesystem::weakly_canonical(path, ec);
    return ec ? path : p.string();
  }
};

}  // namespace

std::string Problem::toString() const {
  std::string s = file;
  if (line > 0) {
    s += ":" + std::to_string(line);
    if (column > 0) s += ":" + std::to_string(column);
  }
  return s + ": " + severityName(severity) + ": " + message;
}

bool ImportResult::complete() const {
  return count(Problem::kUnsupported) == 0 && count(Problem::kError) == 0;
}

size_t ImportResult::count(Problem::Severity s) const {
  return std::count_if(problems.begin(), problems.end(),
                       [s](const Problem& p) { return p.severity == s; });
}

std::string render(const ImportResult& result) {
  std::string out;
  for (const auto& h : result.header) out += "# " + h + "\n";
  if (!result.complete())
    out += "# INCOMPLETE: " +
           std::to_string(result.count(Problem::kUnsupported) + result.count(Problem::kError)) +
           " item(s) were not converted; see the import report.\n";
  google::protobuf::TextFormat::Printer printer;
  const auto* desc = config::Config::descriptor();
  const auto* refl = result.config.GetReflection();
  // One block per top-level element so each can carry its origin comment
  // and sections are separated by blank lines.
  for (int f = 0; f < desc->field_count(); ++f) {
    const FieldDescriptor* fd = desc->field(f);
    int n = fd->is_repeated() ? refl->FieldSize(result.config, fd)
                              : (refl->HasField(result.config, fd) ? 1 : 0);
    for (int i = 0; i < n; ++i) {
      config::Config one;
      if (fd->is_repeated())
        one.GetReflection()->AddMessage(&one, fd)->CopyFrom(
            refl->GetRepeatedMessage(result.config, fd, i));
      else
        one.GetReflection()->MutableMessage(&one, fd)->CopyFrom(refl->GetMessage(result.config, fd));
      std::string text;
      printer.PrintToString(one, &text);
      out += "\n";
      auto it = result.origin.find({fd->number(), i});
      if (it != result.origin.end()) out += "# from " + it->second + "\n";
      out += text;
    }
  }
  return out;
}

std::unique_ptr<SourceReader> fileSystemReader() { return std::make_unique<FileSystemReader>(); }

}  // namespace lvsd::import
