#pragma once
// What the ipvsadm tests run against: the lab guest's name tables and a fake
// kernel that refuses what the real one refuses.

#include <cerrno>
#include <map>
#include <string>

#include "cli/ipvsadm/resolver.h"
#include "fakes/fake_ipvs_backend.h"

namespace lvsd::ipvsadm::testing {

// The lab guest's /etc/hosts (lab_hosts_file) and the /etc/services entries
// the session uses (Debian netbase).
class LabResolver final : public NameResolver {
 public:
  LabResolver() {
    add("127.0.0.1", {"localhost", "lab"});
    add("10.0.0.1", {"rtr"});
    add("10.0.0.100", {"vip"});
    add("10.0.0.11", {"client", "client1"});
    for (int i = 2; i <= 9; ++i) add("10.0.0." + std::to_string(10 + i), {"client" + std::to_string(i)});
    for (int i = 1; i <= 4; ++i) add("10.1.0." + std::to_string(1 + i), {"dir" + std::to_string(i)});
    for (int i = 1; i <= 16; ++i) add("10.1.0." + std::to_string(100 + i), {"rs" + std::to_string(i)});
    for (const char* p : {"tcp", "udp"}) {
      service(p, 7, {"echo"});
      service(p, 53, {"domain"});
      service(p, 443, {"https"});
      service(p, 5060, {"sip"});
    }
    service("tcp", 22, {"ssh"});
    service("tcp", 80, {"http", "www"});
    service("tcp", 8080, {"http-alt", "webcache"});
  }

  std::optional<IpAddress> hostAddress(const std::string& name) const override {
    auto it = byName_.find(name);
    if (it == byName_.end()) return std::nullopt;
    return it->second;
  }
  std::optional<std::string> hostName(const IpAddress& a) const override {
    auto it = byAddr_.find(a);
    if (it == byAddr_.end()) return std::nullopt;
    return it->second;
  }
  std::optional<uint16_t> servicePort(const std::string& name, uint16_t proto) const override {
    auto it = ports_.find({name, proto});
    if (it == ports_.end()) return std::nullopt;
    return it->second;
  }
  std::optional<std::string> serviceName(uint16_t port, uint16_t proto) const override {
    auto it = names_.find({port, proto});
    if (it == names_.end()) return std::nullopt;
    return it->second;
  }

 private:
  void add(const std::string& addr, std::initializer_list<std::string> names) {
    IpAddress a = *IpAddress::parse(addr);
    byAddr_.emplace(a, *names.begin());
    for (const auto& n : names) byName_.emplace(n, a);
  }
  void service(const std::string& p, uint16_t port, std::initializer_list<std::string> names) {
    uint16_t proto = p == "tcp" ? 6 : 17;
    names_.emplace(std::make_pair(port, proto), *names.begin());
    for (const auto& n : names) ports_.emplace(std::make_pair(n, proto), port);
  }
  std::map<IpAddress, std::string> byAddr_;
  std::map<std::string, IpAddress> byName_;
  std::map<std::pair<std::string, uint16_t>, uint16_t> ports_;
  std::map<std::pair<uint16_t, uint16_t>, std::string> names_;
};

// The checks net/netfilter/ipvs/ip_vs_ctl.c makes before it changes anything.
inline void addKernelRules(lvsd::testing::FakeIpvsBackend& k) {
  k.inject = [&k](const ipvs::Op& op) -> int {
    using ipvs::OpKind;
    if (op.kind == OpKind::kAddService || op.kind == OpKind::kEditService) {
      bool known = op.service.scheduler == "none";
      for (auto s : ipvs::kSchedulers) known |= op.service.scheduler == s;
      if (!known) return ENOENT;
      if (!op.service.pe.empty() && op.service.pe != "sip") return ENOENT;
      if (op.service.key.family == Family::kV6 &&
          (op.service.netmask < 1 || op.service.netmask > 128)) {
        return EINVAL;
      }
    }
    if (op.kind == OpKind::kAddDestination || op.kind == OpKind::kEditDestination) {
      const auto& d = op.dest;
      if (d.lowerThreshold > d.upperThreshold) return ERANGE;
      if (d.forwarding == ipvs::Forwarding::kTunnel && d.tunnel.type == ipvs::TunnelType::kGue &&
          d.tunnel.port == 0) {
        return EINVAL;
      }
      bool exists = false;
      for (const auto& vs : k.table()) exists |= vs.service.key == op.service.key;
      if (!exists) return 0;  // ESRCH comes from the table
      if (d.address.isMulticast() || (d.address.isV4() && d.address.v4HostOrder() == 0xffffffff)) {
        return EINVAL;
      }
      if (d.address.family() != op.service.key.family) {
        if (!k.daemons.empty() || d.forwarding != ipvs::Forwarding::kTunnel) return EINVAL;
      }
    }
    return 0;
  };
}

}  // namespace lvsd::ipvsadm::testing
