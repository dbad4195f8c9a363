#pragma once
// Helpers for the importer tests: an in-memory SourceReader and golden files
// under tests/unit/import/data (regenerate with LVSD_UPDATE_GOLDEN=1, then
// review the diff: a golden file is the specification of the conversion).

#include <fnmatch.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "cli/import/import.h"

namespace lvsd::import::testing {

class MemReader : public SourceReader {
 public:
  std::map<std::string, std::string> files;
  int reads = 0;

  Result<std::string> read(const std::string& path) override {
    ++reads;
    auto it = files.find(path);
    if (it == files.end()) return Error("cannot read " + path + ": No such file or directory", ENOENT);
    return it->second;
  }
  Result<std::vector<std::string>> glob(const std::string& pattern) override {
    std::vector<std::string> out;
    for (const auto& [name, text] : files)
      if (fnmatch(pattern.c_str(), name.c_str(), FNM_PATHNAME) == 0) out.push_back(name);
    return out;
  }
  std::string identity(const std::string& path) override {
    return std::filesystem::path(path).lexically_normal().string();
  }
};

inline std::string dataDir() {
  const char* src = std::getenv("LVSD_SOURCE_DIR");
  return std::string(src ? src : ".") + "/tests/unit/import/data";
}

inline std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// The rendered config followed by the problems as comments, so a golden
// file is itself a loadable lvsd config.
inline std::string goldenText(const ImportResult& r) {
  std::string s = render(r);
  s += "\n# ---- import report ----\n";
  for (const auto& p : r.problems) s += "# " + p.toString() + "\n";
  return s;
}

inline void expectGolden(const std::string& actual, const std::string& name) {
  std::string path = dataDir() + "/" + name;
  if (std::getenv("LVSD_UPDATE_GOLDEN")) {
    std::ofstream(path, std::ios::binary) << actual;
    return;
  }
  ASSERT_TRUE(std::filesystem::exists(path)) << path << " is missing";
  EXPECT_EQ(slurp(path), actual) << "conversion differs from " << path
                                 << " (if intended: LVSD_UPDATE_GOLDEN=1, then review the diff)";
}

// Runs the test body with the data directory as working directory so that
// file names (and so the golden files) are relative and stable.
class InDataDir : public ::testing::Test {
 protected:
  void SetUp() override {
    old_ = std::filesystem::current_path();
    std::filesystem::current_path(dataDir());
  }
  void TearDown() override { std::filesystem::current_path(old_); }

 private:
  std::filesystem::path old_;
};

inline std::vector<std::string> problemTexts(const ImportResult& r) {
  std::vector<std::string> out;
  for (const auto& p : r.problems) out.push_back(p.toString());
  return out;
}

// True when some problem of severity `s` at LINE(:COL) contains `text`.
inline bool hasProblem(const ImportResult& r, Problem::Severity s, int line, const std::string& text,
                       int column = -1) {
  for (const auto& p : r.problems)
    if (p.severity == s && p.line == line && (column < 0 || p.column == column) &&
        p.message.find(text) != std::string::npos)
      return true;
  return false;
}

}  // namespace lvsd::import::testing
