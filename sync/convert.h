#pragma once
// Private to sync/: turns the kernel's connection table as
// /proc/net/ip_vs_conn shows it (ipvs::parseConnections) into sync entries
// a backup's kernel accepts. Pure.
//
// The proc file lacks three things the sync protocol carries; they are
// recovered as follows:
//  - template or connection: a persistence template has client port 0 (no
//    TCP/UDP/SCTP client uses port 0);
//  - firewall mark: a firewall-mark service's template has protocol "IP"
//    and the mark in the first four bytes of its virtual address (the
//    kernel's ip_vs_sched_persist); a connection's mark is that of the
//    firewall-mark service holding its real server;
//  - forwarding method: from the service's destination in the IPVS table.
//    A backup that finds the destination takes the method from it anyway;
//    the sent bits only matter for entries it cannot bind.
// Expires (seconds left) becomes the entry's timeout, so the backup's entry
// expires when the master's does.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "ipvs/ipvs.h"
#include "sync/wire.h"

namespace lvsd::sync {

// IPPROTO number of the kernel's protocol column ("TCP", "UDP", "SCTP",
// "IP", "IP_<n>"); nullopt for protocols IPVS cannot synchronise.
std::optional<uint8_t> protocolNumber(std::string_view name);

// State number of the state column. Templates use NONE/ASSURED; TCP, UDP
// and SCTP their ip_vs_proto_*.c name tables.
std::optional<uint16_t> stateNumber(uint8_t protocol, bool isTemplate, std::string_view name);

// Finds the service and destination of an entry in an IPVS table.
class ServiceIndex {
 public:
  ServiceIndex() = default;
  explicit ServiceIndex(const ipvs::Table& table);

  struct Match {
    bool found = false;     // service and destination known
    uint32_t fwmark = 0;    // of the service, 0 for inet services
    uint32_t forwarding = wire::kFwdRoute;  // kFwd* bits
  };
  // `fwmark` is the mark recovered from a firewall-mark template (0 otherwise).
  Match lookup(Family family, uint8_t protocol, const IpAddress& vaddr, uint16_t vport,
               const IpAddress& daddr, uint16_t dport, uint32_t fwmark) const;

 private:
  using InetKey = std::tuple<Family, uint8_t, IpAddress, uint16_t>;
  using MarkKey = std::tuple<Family, uint32_t>;
  const ipvs::VirtualServer* findInet(Family f, uint8_t proto, const IpAddress& a,
                                      uint16_t port) const;
  static const ipvs::Destination* findDest(const ipvs::VirtualServer& vs, const IpAddress& a,
                                           uint16_t port);
  ipvs::Table table_;
  std::map<InetKey, size_t> inet_;
  std::map<MarkKey, size_t> mark_;
};

// Why an entry was left out; each is counted.
enum class Skip : uint8_t {
  kProtocol,      // not TCP/UDP/SCTP (or IP for a template)
  kState,         // state name unknown for the protocol
  kFamily,        // destination family differs from the client's (not synchronisable)
  kPersistence,   // persistence-engine columns the sync message cannot carry
};
inline constexpr size_t kSkipCount = 4;
const char* skipName(Skip s);  // "protocol" "state" "family" "persistence"

struct ConvertResult {
  std::vector<wire::SyncConn> entries;
  uint64_t connections = 0;  // entries that are connections
  uint64_t templates = 0;    // entries that are persistence templates
  uint64_t unresolved = 0;   // sent without a known service/destination
  uint64_t skipped[kSkipCount] = {};
  uint64_t malformed = 0;    // lines the proc parser could not read
  uint64_t skippedTotal() const;
};

// One entry; nullopt with `why` set when it cannot be synchronised.
std::optional<wire::SyncConn> toSyncConn(const ipvs::Connection& c, const ServiceIndex& index,
                                         Skip* why, bool* resolved);

ConvertResult convertTable(const ipvs::ConnectionTable& table, const ServiceIndex& index);

// Reading a large table takes a while (the kernel restarts its walk for every
// page it prints, so the time grows with the square of the entries): an
// entry printed early in a read of `readTime` has aged by the time the read
// ends. Lines are taken as printed evenly over the read: line i of n loses
// (n-1-i)/n of the read time, in whole seconds, from its Expires (never
// below 0). Without this the backup's entries would outlive the master's by
// up to the read time.
void ageByReadTime(ipvs::ConnectionTable& table, Duration readTime);

}  // namespace lvsd::sync
