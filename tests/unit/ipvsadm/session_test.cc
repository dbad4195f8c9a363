// Replays the ipvsadm session (lab/scenarios/ipvsadm-capture.sh) through
// lvsd's front end and a fake kernel, and compares every answer — stdout,
// stderr, exit status — with what Debian's ipvsadm 1.31 said in the lab
// (fixtures/session.expected, refreshed by tests/unit/ipvsadm/capture-fixture).

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

#include "cli/ipvsadm/ipvsadm.h"
#include "ipvsadm_fakes.h"

namespace lvsd::ipvsadm {
namespace {

std::string sourceDir() {
  const char* d = std::getenv("LVSD_SOURCE_DIR");
  return d ? d : LVSD_TEST_SOURCE_DIR;
}

std::string readFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  EXPECT_TRUE(f.good()) << path;
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::vector<std::string> splitLines(const std::string& text) {
  std::vector<std::string> out;
  std::string line;
  std::istringstream in(text);
  while (std::getline(in, line)) out.push_back(line);
  return out;
}

std::vector<std::string> words(const std::string& line) {
  std::vector<std::string> out;
  std::istringstream in(line);
  std::string w;
  while (in >> w) out.push_back(w);
  return out;
}

struct Session {
  std::vector<std::string> lines;             // "run ..." / "restore ..."
  std::map<std::string, std::string> inputs;  // restore inputs
};

std::string unescape(std::string s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size() && (s[i + 1] == 't' || s[i + 1] == 's' || s[i + 1] == 'r')) {
      out += s[i + 1] == 't' ? '\t' : s[i + 1] == 's' ? ' ' : '\r';
      ++i;
    } else {
      out += s[i];
    }
  }
  return out;
}

Session loadSession() {
  std::string script = readFile(sourceDir() + "/lab/scenarios/ipvsadm-capture.sh");
  auto all = splitLines(script);
  Session s;
  bool inText = false;
  std::string input;
  std::string text;
  bool haveLine = false;
  for (const auto& l : all) {
    if (!inText) {
      if (l == "  cat <<'SESSION'") inText = true;
      continue;
    }
    if (l == "SESSION") break;
    auto w = words(l);
    if (!input.empty()) {
      if (l == "end") {
        if (haveLine) text += "\n";
        s.inputs[input] = text;
        input.clear();
      } else if (l == "\\noeol") {
        haveLine = false;
      } else {
        if (haveLine) text += "\n";
        text += unescape(l);
        haveLine = true;
      }
      continue;
    }
    if (!w.empty() && w[0] == "input") {
      input = w[1];
      text.clear();
      haveLine = false;
    } else if (!w.empty() && (w[0] == "run" || w[0] == "restore")) {
      s.lines.push_back(l);
    }
  }
  EXPECT_TRUE(inText) << "session text not found";
  return s;
}

// "### line" → the recorded answer (rc, '>' and '!' lines).
std::vector<std::pair<std::string, std::string>> loadExpected() {
  auto lines = splitLines(readFile(sourceDir() + "/tests/unit/ipvsadm/fixtures/session.expected"));
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& l : lines) {
    if (l.rfind("### ", 0) == 0) {
      out.emplace_back(l.substr(4), "");
    } else if (!out.empty()) {
      out.back().second += l + "\n";
    }
  }
  return out;
}

std::string capture(int rc, const std::string& out, const std::string& err) {
  std::string s = "rc " + std::to_string(rc) + "\n";
  auto prefix = [&](const std::string& text, char p, const char* noeol) {
    if (text.empty()) return;
    for (const auto& l : splitLines(text)) s += std::string(1, p) + l + "\n";
    if (text.back() != '\n') s += std::string(noeol) + "\n";
  };
  prefix(out, '>', "%noeol-out");
  prefix(err, '!', "%noeol-err");
  return s;
}

TEST(IpvsadmSession, MatchesDebianIpvsadm) {
  Session session = loadSession();
  auto expected = loadExpected();
  ASSERT_EQ(session.lines.size(), expected.size()) << "the fixture is stale: run capture-fixture";

  lvsd::testing::FakeIpvsBackend kernel;
  testing::addKernelRules(kernel);
  testing::LabResolver resolver;
  std::string connFile = ::testing::TempDir() + "/ip_vs_conn";
  {
    std::ofstream f(connFile);
    f << "Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData\n";
  }

  size_t compared = 0;
  for (size_t i = 0; i < session.lines.size(); ++i) {
    const std::string& line = session.lines[i];
    ASSERT_EQ(line, expected[i].first) << "the fixture is stale: run capture-fixture";
    auto w = words(line);
    std::string kind = w[0];
    w.erase(w.begin());
    bool compare = true;
    if (!w.empty() && (w[0] == "~" || w[0] == "?")) {
      compare = false;
      w.erase(w.begin());
    }
    std::vector<std::string> args{"ipvsadm"};
    std::istringstream in;
    if (kind == "restore") {
      args.push_back("-R");
      in.str(session.inputs.at(w[0]));
    } else {
      args.insert(args.end(), w.begin(), w.end());
    }
    Environment env;
    env.openBackend = [&]() -> Result<std::unique_ptr<ipvs::IpvsBackend>> {
      // A non-owning view of the one fake kernel.
      struct View final : ipvs::IpvsBackend {
        explicit View(ipvs::IpvsBackend& b) : b(b) {}
        Result<ipvs::Info> info() override { return b.info(); }
        Result<std::vector<ipvs::ServiceEntry>> services() override { return b.services(); }
        Result<ipvs::ServiceEntry> service(const ipvs::ServiceKey& k) override { return b.service(k); }
        Result<std::vector<ipvs::DestinationEntry>> destinations(const ipvs::ServiceKey& k) override {
          return b.destinations(k);
        }
        ipvs::BatchResult apply(std::span<const ipvs::Op> ops) override { return b.apply(ops); }
        Status flush() override { return b.flush(); }
        Status zero(const ipvs::ServiceKey* k) override { return b.zero(k); }
        Result<ipvs::Timeouts> timeouts() override { return b.timeouts(); }
        Status setTimeouts(const ipvs::Timeouts& t) override { return b.setTimeouts(t); }
        Result<std::vector<ipvs::SyncDaemon>> syncDaemons() override { return b.syncDaemons(); }
        Status startSyncDaemon(const ipvs::SyncDaemon& d) override { return b.startSyncDaemon(d); }
        Status stopSyncDaemon(ipvs::SyncState s) override { return b.stopSyncDaemon(s); }
        ipvs::IpvsBackend& b;
      };
      return std::unique_ptr<ipvs::IpvsBackend>(new View(kernel));
    };
    env.loadModule = [] {};
    env.in = &in;
    env.connFile = connFile;
    env.resolver = &resolver;
    std::ostringstream out, err;
    int rc = runIpvsadm(args, out, err, env);
    if (!compare) continue;
    ++compared;
    EXPECT_EQ(capture(rc, out.str(), err.str()), expected[i].second) << "### " << line;
  }
  EXPECT_GT(compared, 150u);
}

}  // namespace
}  // namespace lvsd::ipvsadm
