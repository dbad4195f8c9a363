// popt 1.19's scanning rules and ipvsadm's restore tokenizer, case by case.
// (The messages themselves are compared with Debian's ipvsadm in session_test.)

#include "cli/ipvsadm/command.h"

#include <gtest/gtest.h>

#include <arpa/inet.h>

#include <cstdio>
#include <sstream>

#include "cli/ipvsadm/popt.h"
#include "ipvsadm_fakes.h"

namespace lvsd::ipvsadm {
namespace {

const PoptOption kTable[] = {
    {"list", 'L', PoptOption::kNone, 'L'},
    {"numeric", 'n', PoptOption::kNone, 'n'},
    {"tcp-service", 't', PoptOption::kString, 't'},
    {"persistent", 'p', PoptOption::kOptional, 'p'},
    {"set", '\0', PoptOption::kNone, 200},
};

// Every next() result as "val[=arg]" or "ERR:code:badoption", then leftovers.
std::string scan(std::vector<std::string> argv) {
  argv.insert(argv.begin(), "prog");
  Popt p(argv, kTable);
  std::string out;
  for (;;) {
    int c = p.next();
    if (c == -1) break;
    if (c < -1) {
      out += "ERR:" + std::to_string(c) + ":" + p.badOption() + " ";
      break;
    }
    out += c == 200 ? "set" : std::string(1, static_cast<char>(c));
    if (p.arg()) out += "=" + *p.arg();
    out += " ";
  }
  while (auto l = p.leftover()) out += "[" + *l + "] ";
  return out;
}

TEST(Popt, ClustersAttachedAndSeparateArguments) {
  EXPECT_EQ(scan({"-Ln"}), "L n ");
  EXPECT_EQ(scan({"-Lt", "1.2.3.4:80"}), "L t=1.2.3.4:80 ");
  EXPECT_EQ(scan({"-Lt1.2.3.4:80"}), "L t=1.2.3.4:80 ");
  EXPECT_EQ(scan({"-t=x"}), "t=x ");
  EXPECT_EQ(scan({"--tcp-service=1.2.3.4:80"}), "t=1.2.3.4:80 ");
  EXPECT_EQ(scan({"--tcp-service", "-n"}), "t=-n ");  // a required argument may start with '-'
  EXPECT_EQ(scan({"--tcp-service="}), "t= ");
}

TEST(Popt, OptionalArgumentOnlyWhenTheNextWordIsNotAnOption) {
  EXPECT_EQ(scan({"-p", "300"}), "p=300 ");
  EXPECT_EQ(scan({"-p", "-n"}), "p n ");
  EXPECT_EQ(scan({"-p"}), "p ");
  EXPECT_EQ(scan({"-p300"}), "p=300 ");
  EXPECT_EQ(scan({"-pn"}), "p=n ");
  EXPECT_EQ(scan({"--persistent", ""}), "p= ");
}

TEST(Popt, ErrorsAndTheWordTheyBlame) {
  EXPECT_EQ(scan({"-Lz"}), "L ERR:-11:-Lz ");
  EXPECT_EQ(scan({"--lis"}), "ERR:-11:--lis ");  // no abbreviations
  EXPECT_EQ(scan({"-list"}), "ERR:-11:-list ");  // one dash: a cluster of short options ("-l")
  EXPECT_EQ(scan({"-L", "-t"}), "L ERR:-10:-t ");
  EXPECT_EQ(scan({"--list=1"}), "ERR:-12:--list=1 ");
  EXPECT_EQ(scan({"-Ln="}), "L ERR:-12:-Ln= ");
  EXPECT_EQ(std::string(poptStrerror(kPoptErrNoArg)), "missing argument");
  EXPECT_EQ(std::string(poptStrerror(kPoptErrBadOpt)), "unknown option");
  EXPECT_EQ(std::string(poptStrerror(kPoptErrUnwantedArg)), "option does not take an argument");
}

TEST(Popt, Leftovers) {
  EXPECT_EQ(scan({"a", "--set", "b", "-", "c"}), "set [a] [b] [-] [c] ");
  EXPECT_EQ(scan({"-L", "--", "-n", "--"}), "L [-n] [--] ");
  EXPECT_EQ(scan({""}), "[] ");
}

class StringSource final : public LineSource {
 public:
  explicit StringSource(std::string s) : s_(std::move(s)) {}
  int get() override {
    if (pushed_ != EOF) {
      int c = pushed_;
      pushed_ = EOF;
      return c;
    }
    return i_ < s_.size() ? static_cast<unsigned char>(s_[i_++]) : EOF;
  }
  void unget(int c) override { pushed_ = c; }

 private:
  std::string s_;
  size_t i_ = 0;
  int pushed_ = EOF;
};

std::vector<std::string> tokenize(const std::string& text) {
  StringSource src(text);
  std::vector<std::string> lines;
  while (auto l = readRestoreLine(src, "P")) {
    std::string s;
    for (const auto& w : *l) s += "<" + w + ">";
    lines.push_back(s);
  }
  return lines;
}

TEST(RestoreTokenizer, LinesWordsAndIpvsadmPrefixes) {
  EXPECT_EQ(tokenize("-A -t x\n  ipvsadm\t-a   -r y \n\n-C"),
            (std::vector<std::string>{"<P><-A><-t><x>", "<P><-a><-r><y>", "<P>", "<P><-C>"}));
  EXPECT_EQ(tokenize("-L\r\n"), (std::vector<std::string>{"<P><-L>"}));
  EXPECT_EQ(tokenize("ipvsadm\n"), (std::vector<std::string>{"<P>"}));
  EXPECT_EQ(tokenize("ipvsadm"), std::vector<std::string>{});
  EXPECT_EQ(tokenize(""), std::vector<std::string>{});
  // Comments are not comments: '#' is just a word.
  EXPECT_EQ(tokenize("# x\n"), (std::vector<std::string>{"<P><#><x>"}));
}

TEST(RestoreTokenizer, ALastLineEndingInBlanksIsLost) {
  EXPECT_EQ(tokenize("-A\n-C  "), (std::vector<std::string>{"<P><-A>"}));
  EXPECT_EQ(tokenize("-A\n-C"), (std::vector<std::string>{"<P><-A>", "<P><-C>"}));
}

TEST(RestoreTokenizer, LongWordsAreSplitAt4096) {
  std::string w(5000, 'x');
  auto l = tokenize(w + "\n");
  ASSERT_EQ(l.size(), 1u);
  EXPECT_EQ(l[0], "<P><" + std::string(4096, 'x') + "><" + std::string(904, 'x') + ">");
}

// parseCommand: the fields it fills for the kernel.
Command parse(const std::vector<std::string>& args, std::string* err = nullptr) {
  testing::LabResolver r;
  std::ostringstream out, e;
  Context ctx(out, e, r, "ipvsadm");
  Command c;
  std::vector<std::string> argv{"ipvsadm"};
  argv.insert(argv.end(), args.begin(), args.end());
  try {
    EXPECT_TRUE(parseCommand(argv, ctx, c));
  } catch (const Exit& x) {
    if (err) *err = e.str() + "exit " + std::to_string(x.code);
  }
  return c;
}

TEST(ParseCommand, RealServerPortRules) {
  // NAT without a port takes the service's; DR and TUN always do.
  EXPECT_EQ(parse({"-a", "-t", "1.2.3.4:80", "-r", "10.0.0.1", "-m"}).dest.port, 80);
  EXPECT_EQ(parse({"-a", "-t", "1.2.3.4:80", "-r", "10.0.0.1:8080", "-m"}).dest.port, 8080);
  EXPECT_EQ(parse({"-a", "-t", "1.2.3.4:80", "-r", "10.0.0.1:8080", "-g"}).dest.port, 80);
  EXPECT_EQ(parse({"-a", "-t", "1.2.3.4:80", "-r", "10.0.0.1:8080", "-i"}).dest.port, 80);
  // With -r before -t the service port is not known yet.
  EXPECT_EQ(parse({"-a", "-r", "10.0.0.1", "-m", "-t", "1.2.3.4:80"}).dest.port, 0);
  // fwmark services keep the given port.
  EXPECT_EQ(parse({"-a", "-f", "3", "-r", "10.0.0.1:8080", "-g"}).dest.port, 8080);
}

TEST(ParseCommand, AddressForms) {
  auto c = parse({"-A", "-t", "10.1:80"});  // inet_aton's short form
  EXPECT_EQ(c.svc.addr[0], 10);
  EXPECT_EQ(c.svc.addr[3], 1);
  c = parse({"-A", "-t", "[::1]:80"});
  EXPECT_EQ(c.svc.af, kAfInet6);
  EXPECT_EQ(c.svc.netmask, 128u);
  c = parse({"-A", "-u", "vip:domain"});
  EXPECT_EQ(c.svc.port, 53);
  std::string err;
  parse({"-A", "-t", "[1.2.3.4]:80"}, &err);  // bracketed IPv4 loses its port: zero port
  EXPECT_EQ(err, "Zero port specified for non-persistent service\nexit 2");
  parse({"-A", "-t", "80"}, &err);
  EXPECT_EQ(err, "illegal virtual server address[:port] specified\nexit 2");
}

TEST(ParseCommand, DefaultsAndNetmasks) {
  auto c = parse({"-A", "-t", "1.2.3.4:80", "-p"});
  EXPECT_EQ(c.svc.sched, "wlc");
  EXPECT_EQ(c.svc.timeout, 360u);
  EXPECT_EQ(c.svc.flags, 1u);
  c = parse({"-A", "-t", "1.2.3.4:80", "-p", "-M", "255.255.255.0"});
  EXPECT_EQ(c.svc.netmask, htonl(0xffffff00));
  c = parse({"-A", "-t", "[::1]:80", "-p", "-M", "64"});
  EXPECT_EQ(c.svc.netmask, 64u);
  // -M before -t reads an IPv4 mask even for an IPv6 service.
  std::string err;
  parse({"-A", "-M", "64", "-t", "[::1]:80"}, &err);
  EXPECT_EQ(err, "");
  c = parse({"--start-daemon", "backup"});
  EXPECT_EQ(c.daemon.interface, "eth0");
  EXPECT_EQ(c.daemon.state, 2);
  c = parse({"-A", "-t", "1.2.3.4:80", "-s", "sh", "-b", "sh-port,,sh-fallback"});
  EXPECT_EQ(c.svc.flags, 0x18u);
}

}  // namespace
}  // namespace lvsd::ipvsadm
