// lvsd-sync-tool: drives sync/'s kernel-facing pieces by hand, for the lab
// scenarios that check them against a real IPVS kernel (lab/scenarios/
// sync-*.sh). Not part of the product: lvsd runs the same code from its
// sync component, driven by the election.
//
//   lvsd-sync-tool daemons --set none|master|backup|both --interface IF
//                  [--syncid N] [--group ADDR] [--port P] [--ttl T] [--maxlen M]
//                  [--sock-size BYTES]
//       Starts/stops the kernel sync daemons (new before old) and prints the
//       operations and what the kernel then reports. Exit 1 on any mismatch.
//   lvsd-sync-tool resync --interface IF [--proc PATH] [--syncid N]
//                  [--group ADDR] [--port P] [--rate PPS]
//       One full-table resync of this namespace's table to the sync group.
//   lvsd-sync-tool inject --interface IF --count N --vip ADDR:PORT --rs ADDR:PORT
//                  [--syncid N] [--timeout S] [--rate PPS] [--first-client ADDR]
//       Sends N synthetic persistence templates (one per client address,
//       counting up from --first-client, default 100.64.0.1) to the sync
//       group: a backup daemon listening there creates them. Fills a table
//       with many entries quickly.
// Every run prints one "RESULT ..." line.

#include <boost/asio/io_context.hpp>

#include <cstdio>
#include <cstring>
#include <map>
#include <string>

#include "core/clock.h"
#include "ipvs/ipvs.h"
#include "sync/daemons.h"
#include "sync/pacing.h"
#include "sync/resync.h"

using namespace lvsd;
using namespace lvsd::sync;

namespace {

[[noreturn]] void die(const std::string& msg) {
  std::fprintf(stderr, "lvsd-sync-tool: %s\n", msg.c_str());
  std::exit(2);
}

std::map<std::string, std::string> parseArgs(int argc, char** argv, int from) {
  std::map<std::string, std::string> a;
  for (int i = from; i < argc; ++i) {
    std::string k = argv[i];
    if (k.rfind("--", 0) != 0 || i + 1 >= argc) die("bad argument '" + k + "'");
    a[k.substr(2)] = argv[++i];
  }
  return a;
}

uint64_t num(const std::map<std::string, std::string>& a, const std::string& k, uint64_t def,
             uint64_t max) {
  auto it = a.find(k);
  if (it == a.end()) return def;
  auto v = parseUnsigned(it->second, max);
  if (!v) die("--" + k + ": " + v.error().message);
  return *v;
}

ResyncTarget target(const std::map<std::string, std::string>& a) {
  ResyncTarget t;
  auto it = a.find("interface");
  if (it == a.end()) die("--interface is required");
  t.interface = it->second;
  if (auto g = a.find("group"); g != a.end()) {
    auto ip = IpAddress::parse(g->second);
    if (!ip) die(ip.error().message);
    t.group = *ip;
  }
  t.port = uint16_t(num(a, "port", 8848, 65535));
  t.ttl = uint8_t(num(a, "ttl", 1, 255));
  t.syncId = uint8_t(num(a, "syncid", 0, 255));
  t.maxlen = uint32_t(num(a, "maxlen", 0, 65507));
  return t;
}

int send(std::vector<std::vector<uint8_t>> dgrams, const ResyncTarget& t, uint32_t rate,
         const std::string& what, uint64_t entries) {
  boost::asio::io_context io;
  ResyncSender sender(io, SystemClock::instance());
  ResyncResult result;
  auto s = sender.start(std::move(dgrams), t, rate, defaultBurst(rate),
                        [&](const ResyncResult& r) { result = r; });
  if (!s) die(s.error().message);
  io.run();
  std::printf("RESULT %s entries=%llu datagrams=%llu bytes=%llu waits=%llu ms=%lld%s%s\n",
              what.c_str(), (unsigned long long)entries, (unsigned long long)result.datagrams,
              (unsigned long long)result.bytes, (unsigned long long)result.waits,
              (long long)toMillis(result.elapsed), result.error.empty() ? "" : " error=",
              result.error.c_str());
  return result.error.empty() ? 0 : 1;
}

int cmdDaemons(const std::map<std::string, std::string>& a) {
  config::KernelSync k;
  k.set_enabled(true);
  ResyncTarget t = target(a);
  k.set_interface(t.interface);
  k.set_sync_id(t.syncId);
  k.set_port(t.port);
  k.set_ttl(t.ttl);
  k.set_maxlen(t.maxlen);
  k.set_sock_size(uint32_t(num(a, "sock-size", 0, 1u << 30)));
  if (a.count("group")) k.set_mcast_group(a.at("group"));
  std::string set = a.count("set") ? a.at("set") : "";
  DaemonSet ds;
  if (set == "none") ds = DaemonSet::kNone;
  else if (set == "master") ds = DaemonSet::kMaster;
  else if (set == "backup") ds = DaemonSet::kBackup;
  else if (set == "both") ds = DaemonSet::kBoth;
  else die("--set none|master|backup|both");
  auto wanted = wantedDaemons(k, ds);
  if (!wanted) die(wanted.error().message);
  auto backend = ipvs::makeNetlinkBackend();
  if (!backend) die(backend.error().message);
  auto r = DaemonController(**backend).reconcile(*wanted);
  for (const auto& op : r.ops) std::printf("op %s\n", op.toString().c_str());
  for (const auto& d : r.running) {
    std::printf("kernel %s %s syncid %u maxlen %u group %s port %u ttl %u\n",
                d.state == ipvs::SyncState::kMaster ? "master" : "backup", d.interface.c_str(),
                d.syncId, d.maxLen, d.group ? d.group->toString().c_str() : "-", d.port, d.ttl);
  }
  for (const auto& e : r.errors) std::printf("error %s\n", e.c_str());
  std::printf("RESULT daemons set=%s ops=%zu running=%zu errors=%zu\n", set.c_str(), r.ops.size(),
              r.running.size(), r.errors.size());
  return r.ok() ? 0 : 1;
}

int cmdResync(const std::map<std::string, std::string>& a) {
  ResyncTarget t = target(a);
  std::string proc = a.count("proc") ? a.at("proc") : ipvs::kConnProcFile;
  ipvs::Table services;
  if (auto backend = ipvs::makeNetlinkBackend()) {
    if (auto table = ipvs::readTable(**backend)) services = std::move(*table);
  }
  TimePoint t0 = SystemClock::instance().now();
  auto p = prepareResync(proc, services, t);
  if (!p) die(p.error().message);
  std::printf("prepared entries=%llu connections=%llu templates=%llu skipped=%llu%s%s "
              "unresolved=%llu limit=%zu datagrams=%zu read_ms=%lld\n",
              (unsigned long long)p->entries, (unsigned long long)p->connections,
              (unsigned long long)p->templates, (unsigned long long)p->skipped,
              p->skipDetail.empty() ? "" : " ", p->skipDetail.c_str(),
              (unsigned long long)p->unresolved, p->datagramLimit, p->datagrams.size(),
              (long long)toMillis(SystemClock::instance().now() - t0));
  uint32_t rate = uint32_t(num(a, "rate", 20000, 10'000'000));
  return send(std::move(p->datagrams), t, rate, "resync", p->entries);
}

int cmdInject(const std::map<std::string, std::string>& a) {
  ResyncTarget t = target(a);
  uint64_t n = num(a, "count", 0, 10'000'000);
  if (!a.count("vip") || !a.count("rs")) die("--vip and --rs are required");
  auto vip = Endpoint::parse(a.at("vip"));
  auto rs = Endpoint::parse(a.at("rs"));
  if (!vip || !rs) die("bad --vip/--rs");
  auto first = IpAddress::parse(a.count("first-client") ? a.at("first-client") : "100.64.0.1");
  if (!first || !first->isV4()) die("bad --first-client");
  uint32_t timeout = uint32_t(num(a, "timeout", 600, 2147483));
  std::vector<wire::SyncConn> entries;
  entries.reserve(n);
  for (uint64_t i = 0; i < n; ++i) {
    wire::SyncConn c;
    c.protocol = wire::kProtoTcp;
    c.flags = wire::kFlagTemplate | wire::kFwdRoute;
    c.state = 0;
    c.caddr = IpAddress::v4(first->v4HostOrder() + uint32_t(i));
    c.vaddr = vip->address();
    c.vport = vip->port();
    c.daddr = rs->address();
    c.dport = rs->port();
    c.timeout = timeout;
    entries.push_back(c);
  }
  uint32_t mtu = interfaceMtu(t.interface).valueOr(0);
  auto dgrams = packAll(t.syncId, resyncDatagramLimit(t.maxlen, t.group.family(), mtu), entries);
  uint32_t rate = uint32_t(num(a, "rate", 20000, 10'000'000));
  return send(std::move(dgrams), t, rate, "inject", n);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) die("usage: lvsd-sync-tool daemons|resync|inject --interface IF ...");
  std::string cmd = argv[1];
  auto a = parseArgs(argc, argv, 2);
  if (cmd == "daemons") return cmdDaemons(a);
  if (cmd == "resync") return cmdResync(a);
  if (cmd == "inject") return cmdInject(a);
  die("unknown command '" + cmd + "'");
}
