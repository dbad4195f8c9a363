// The bad-config corpus (tests/unit/config/bad/NAME.conf + NAME.expect) and
// the shipped examples (etc/**/*.conf). Paths are passed relative to the
// source tree, as an operator in the checkout would type them, so the
// expected lines are exactly what `lvsd --config-test -f PATH` prints.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "config/config.h"

namespace lvsd::config {
namespace {

namespace fs = std::filesystem;

const char kBadDir[] = "tests/unit/config/bad";

fs::path sourceDir() {
  if (const char* dir = std::getenv("LVSD_SOURCE_DIR")) return dir;
  // Run by hand: this file is SOURCE/tests/unit/config/corpus_test.cc.
  return fs::path(__FILE__).parent_path().parent_path().parent_path().parent_path();
}

// Runs in the source tree so relative paths resolve.
class InSourceDir : public ::testing::Environment {
 public:
  void SetUp() override { ASSERT_EQ(chdir(sourceDir().c_str()), 0) << sourceDir(); }
};
const auto* const kEnv = ::testing::AddGlobalTestEnvironment(new InSourceDir);

std::vector<std::string> filesUnder(const fs::path& dir, const std::string& ext, bool recursive) {
  std::vector<std::string> out;
  fs::path abs = sourceDir() / dir;
  if (!fs::is_directory(abs)) return out;
  auto add = [&](const fs::directory_entry& e) {
    if (e.is_regular_file() && e.path().extension() == ext)
      out.push_back(fs::relative(e.path(), sourceDir()).string());
  };
  if (recursive)
    for (const auto& e : fs::recursive_directory_iterator(abs)) add(e);
  else
    for (const auto& e : fs::directory_iterator(abs)) add(e);
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> readLines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) lines.push_back(line);
  return lines;
}

std::string testName(const ::testing::TestParamInfo<std::string>& info) {
  // The corpus is flat: its stem; etc/ is a tree: the whole path.
  fs::path p(info.param);
  std::string n =
      p.parent_path() == kBadDir ? p.stem().string() : fs::path(p).replace_extension().string();
  for (auto& c : n)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return n;
}

class BadCorpus : public ::testing::TestWithParam<std::string> {};

TEST_P(BadCorpus, ReportsExactlyTheExpectedDiagnostics) {
  const std::string conf = GetParam();
  std::string expectPath = fs::path(conf).replace_extension(".expect").string();
  ASSERT_TRUE(fs::exists(expectPath)) << "missing " << expectPath;
  std::vector<std::string> expected = readLines(expectPath);
  ASSERT_FALSE(expected.empty()) << expectPath << " is empty";

  LoadResult r = loadFile(conf);
  EXPECT_FALSE(r.ok());
  std::vector<std::string> got;
  for (const auto& d : r.errors) got.push_back(d.toString());
  EXPECT_EQ(got, expected) << "actual output of " << conf << ":\n" << r.errorText();
  for (const auto& d : r.errors) {
    EXPECT_GT(d.line, 0) << d.toString();
    EXPECT_GT(d.column, 0) << d.toString();
  }
}

INSTANTIATE_TEST_SUITE_P(Files, BadCorpus, ::testing::ValuesIn(filesUnder(kBadDir, ".conf", false)),
                         testName);

TEST(BadCorpusInventory, HasAtLeastThirtyCasesEachWithExpectations) {
  auto confs = filesUnder(kBadDir, ".conf", false);
  EXPECT_GE(confs.size(), 30u);
  for (const auto& e : filesUnder(kBadDir, ".expect", false)) {
    std::string conf = fs::path(e).replace_extension(".conf").string();
    EXPECT_TRUE(fs::exists(sourceDir() / conf)) << e << " has no " << conf;
  }
}

class ShippedConfigs : public ::testing::TestWithParam<std::string> {};

TEST_P(ShippedConfigs, LoadWithoutErrors) {
  LoadResult r = loadFile(GetParam());
  EXPECT_TRUE(r.ok()) << r.errorText();
  if (r.ok()) {
    EXPECT_EQ(r.config->digest.size(), 64u);
    EXPECT_GE(r.config->proto.director_size(), 2) << "examples are complete clusters";
  }
}

INSTANTIATE_TEST_SUITE_P(Etc, ShippedConfigs, ::testing::ValuesIn(filesUnder("etc", ".conf", true)),
                         testName);

TEST(ShippedConfigsInventory, IncludesTheSeedExamplesAndTheReference) {
  auto all = filesUnder("etc", ".conf", true);
  for (const char* f : {"etc/examples/dr.conf", "etc/examples/nat.conf", "etc/lvsd.conf"})
    EXPECT_NE(std::find(all.begin(), all.end(), f), all.end()) << f;
}

// The seed services (docs: ../shared/seeds/DIGEST.md, guide 001) come out as
// the ipvsadm examples say.
TEST(ShippedConfigs, DrExampleIsTheSeedService) {
  LoadResult r = loadFile("etc/examples/dr.conf");
  ASSERT_TRUE(r.ok()) << r.errorText();
  ASSERT_EQ(r.config->proto.virtual_service_size(), 1);
  const auto& vs = r.config->proto.virtual_service(0);
  EXPECT_EQ(serviceKey(vs), "tcp/192.168.0.10:80");
  EXPECT_EQ(vs.scheduler(), "wrr");
  EXPECT_EQ(vs.persistence().timeout_s(), 300u);
  EXPECT_EQ(vs.forwarding(), DR);
  ASSERT_EQ(vs.real_server_size(), 2);
  EXPECT_EQ(vs.real_server(0).address(), "192.168.0.101:80");
  EXPECT_EQ(vs.real_server(0).weight(), 5u);
  EXPECT_EQ(vs.real_server(1).address(), "222.117.155.123:80");
  EXPECT_EQ(vs.real_server(1).weight(), 10u);
}

TEST(ShippedConfigs, NatExampleIsTheSeedService) {
  LoadResult r = loadFile("etc/examples/nat.conf");
  ASSERT_TRUE(r.ok()) << r.errorText();
  ASSERT_EQ(r.config->proto.virtual_service_size(), 1);
  const auto& vs = r.config->proto.virtual_service(0);
  EXPECT_EQ(serviceKey(vs), "tcp/211.47.13.234:80");
  EXPECT_EQ(vs.scheduler(), "wlc");
  EXPECT_EQ(vs.forwarding(), NAT);
  EXPECT_FALSE(vs.has_persistence());
  ASSERT_EQ(vs.real_server_size(), 2);
  EXPECT_EQ(vs.real_server(0).address(), "10.0.0.101:8080");
  EXPECT_EQ(vs.real_server(0).weight(), 1u);
  EXPECT_EQ(vs.real_server(1).address(), "10.0.0.102:8080");
  EXPECT_EQ(vs.real_server(1).weight(), 2u);
}

}  // namespace
}  // namespace lvsd::config
