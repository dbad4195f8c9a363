#pragma once
// ipvs/: the kernel IPVS table as lvsd sees it — the public header of the
// module (DESIGN.md style 1).
//
//  - The model: ServiceKey / Service / Destination (what can be programmed),
//    ServiceEntry / DestinationEntry (what the kernel reports: + counters).
//  - plan(desired, actual, ownership) → the fewest operations (pure).
//  - IpvsBackend: the kernel seen as an interface; makeNetlinkBackend() talks
//    to the "IPVS" generic-netlink family, pipelining batches.
//  - Reconciler: keeps a cached copy of the kernel table so that a one-weight
//    change costs one netlink request, not a full dump.
//  - /proc/net/ip_vs_conn reader (malformed lines are skipped and counted).
//
// Field meanings follow include/uapi/linux/ip_vs.h; docs/ipvs.md explains
// what the kernel can edit in place and what it cannot.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/address.h"
#include "core/result.h"

namespace lvsd::ipvs {

// IPPROTO_* numbers, as IPVS carries them.
enum class Protocol : uint16_t { kTcp = 6, kUdp = 17, kSctp = 132 };
const char* protocolName(Protocol p);  // "tcp" "udp" "sctp" ("proto-N" otherwise)

// Forwarding method: the IP_VS_CONN_F_FWD_MASK bits of a destination.
enum class Forwarding : uint32_t { kMasq = 0, kLocal = 1, kTunnel = 2, kRoute = 3 };
const char* forwardingName(Forwarding f);  // "nat" "local" "tun" "dr"

// IP_VS_CONN_F_TUNNEL_TYPE_* and IP_VS_TUNNEL_ENCAP_FLAG_*.
enum class TunnelType : uint8_t { kIpip = 0, kGue = 1, kGre = 2 };
inline constexpr uint16_t kTunnelCsum = 1 << 0;
inline constexpr uint16_t kTunnelRemCsum = 1 << 1;

// Service flags (IP_VS_SVC_F_*). kSvcHashed is kernel-internal: decoders drop
// it and encoders never send it.
inline constexpr uint32_t kSvcPersistent = 0x0001;
inline constexpr uint32_t kSvcHashed = 0x0002;
inline constexpr uint32_t kSvcOnePacket = 0x0004;
inline constexpr uint32_t kSvcSched1 = 0x0008;
inline constexpr uint32_t kSvcSched2 = 0x0010;
inline constexpr uint32_t kSvcSched3 = 0x0020;
inline constexpr uint32_t kSvcSchedMask = kSvcSched1 | kSvcSched2 | kSvcSched3;
// Scheduler-specific names of the scheduler flags.
inline constexpr uint32_t kSvcShFallback = kSvcSched1;
inline constexpr uint32_t kSvcShPort = kSvcSched2;
inline constexpr uint32_t kSvcMhFallback = kSvcSched1;
inline constexpr uint32_t kSvcMhPort = kSvcSched2;

// Every scheduler the kernel ships (ip_vs_*.ko).
inline constexpr std::string_view kSchedulers[] = {"rr",  "wrr", "lc", "wlc", "lblc", "lblcr", "dh",
                                                   "sh",  "sed", "nq", "mh",  "fo",   "ovf"};

// Identity of a virtual service. Either (protocol, address, port) or a
// firewall mark per address family; never both. For fwmark services the
// other fields are normalised (TCP, unspecified address, port 0) so that
// keys compare equal however they were built.
struct ServiceKey {
  Family family = Family::kV4;
  uint32_t fwmark = 0;
  Protocol protocol = Protocol::kTcp;
  IpAddress address;
  uint16_t port = 0;

  static ServiceKey inet(Protocol p, const Endpoint& ep);
  static ServiceKey mark(uint32_t fwmark, Family f);
  bool isFwmark() const { return fwmark != 0; }
  // "tcp 192.0.2.1:80", "udp [2001:db8::1]:53", "fwmark 7", "fwmark 7 inet6".
  std::string toString() const;
  auto operator<=>(const ServiceKey&) const = default;
};

struct Service {
  ServiceKey key;
  std::string scheduler = "wlc";
  uint32_t flags = 0;             // kSvc* bits, never kSvcHashed
  uint32_t timeout = 0;           // persistence timeout in seconds
  // Persistence granularity. IPv4: the netmask as a host-order integer
  // (0xffffff00 = /24). IPv6: the prefix length (1..128).
  uint32_t netmask = 0xffffffff;
  std::string pe;                 // persistence engine ("sip"), empty = none

  bool persistent() const { return flags & kSvcPersistent; }
  bool operator==(const Service&) const = default;
};
// Default persistence granularity for a family: /32 or /128.
uint32_t defaultNetmask(Family f);

struct Tunnel {
  TunnelType type = TunnelType::kIpip;
  uint16_t port = 0;   // GUE destination port (host order)
  uint16_t flags = 0;  // kTunnelCsum / kTunnelRemCsum
  bool operator==(const Tunnel&) const = default;
};

struct Destination {
  IpAddress address;
  uint16_t port = 0;
  Forwarding forwarding = Forwarding::kRoute;
  uint32_t weight = 1;  // the kernel refuses values above INT32_MAX
  uint32_t upperThreshold = 0;
  uint32_t lowerThreshold = 0;
  Tunnel tunnel;  // only meaningful with Forwarding::kTunnel

  Endpoint endpoint() const { return Endpoint(address, port); }
  // A destination is identified by its address (with family) and port.
  bool sameKey(const Destination& o) const { return address == o.address && port == o.port; }
  bool operator==(const Destination&) const = default;
};

// Counters of a service or destination (64-bit, IPVS_*_ATTR_STATS64).
struct Stats {
  uint64_t conns = 0, inPackets = 0, outPackets = 0, inBytes = 0, outBytes = 0;
  uint64_t cps = 0, inPps = 0, outPps = 0, inBps = 0, outBps = 0;
  bool operator==(const Stats&) const = default;
};

struct ServiceEntry {
  Service service;
  Stats stats;
};

struct DestinationEntry {
  Destination dest;
  uint32_t activeConns = 0;
  uint32_t inactiveConns = 0;
  uint32_t persistentConns = 0;
  Stats stats;
};

// A service with its destinations: one element of the desired or actual table.
struct VirtualServer {
  Service service;
  std::vector<Destination> destinations;
  bool operator==(const VirtualServer&) const = default;
};
using Table = std::vector<VirtualServer>;

struct Info {
  uint32_t version = 0;        // IP_VS_VERSION_CODE, e.g. 0x010201
  uint32_t connTableSize = 0;  // size of the connection hash table
  std::string versionString() const;  // "1.2.1"
};

// Connection timeouts in seconds. In a set request 0 means "leave as is".
struct Timeouts {
  uint32_t tcp = 0, tcpFin = 0, udp = 0;
  bool operator==(const Timeouts&) const = default;
};

enum class SyncState : uint32_t { kMaster = 1, kBackup = 2 };
// A kernel connection-sync daemon (IPVS_DAEMON_ATTR_*). Zero / empty fields
// are not sent, so the kernel applies its defaults (port 8848, ttl 1,
// group 224.0.0.81, maxlen from the MTU).
struct SyncDaemon {
  SyncState state = SyncState::kMaster;
  std::string interface;  // multicast interface
  uint32_t syncId = 0;    // 0..255
  uint16_t maxLen = 0;
  std::optional<IpAddress> group;
  uint16_t port = 0;
  uint8_t ttl = 0;
  bool operator==(const SyncDaemon&) const = default;
};

// ---------------------------------------------------------------------------
// Planning

enum class OpKind : uint8_t {
  kAddService,
  kEditService,
  kDeleteService,
  kAddDestination,
  kEditDestination,
  kDeleteDestination,
};
const char* opKindName(OpKind k);  // "add-service", ...

struct Op {
  OpKind kind = OpKind::kAddService;
  Service service;   // full for add/edit; only the key matters otherwise
  Destination dest;  // for the destination kinds
  bool isDestination() const { return kind >= OpKind::kAddDestination; }
  // The object the op touches, as errors name it:
  // "service tcp 192.0.2.1:80" or "service tcp 192.0.2.1:80: destination 10.0.0.5:80".
  std::string objectName() const;
  // One line for logs and `--plan`: "edit-destination service tcp ...: destination ... weight=3".
  std::string toString() const;
  bool operator==(const Op&) const = default;
};

// Which services lvsd may delete. Services in the desired table are always
// owned (with all their destinations). `owned` adds services lvsd created
// earlier and that have since left the config; with wholeTable, every
// service in the kernel is lvsd's.
struct Ownership {
  bool wholeTable = false;
  std::set<ServiceKey> owned;
};

// The fewest operations that turn `actual` into `desired`: edits in place
// wherever the kernel allows it (everything but a key), adds, and deletes of
// owned objects only. Never a flush. Order: per desired service, add or edit
// it, then edit and add its destinations, then delete its stale ones
// (make before break); finally delete owned services that are no longer
// desired. A table that already matches gives no operations.
// Duplicate keys in `desired`: the last one wins.
std::vector<Op> plan(const Table& desired, const Table& actual, const Ownership& ownership);

// Applies one op to an in-memory table (what the kernel would do on
// success). Used by the reconciler's cache and the fake backend.
Status applyOp(Table& table, const Op& op);

// ---------------------------------------------------------------------------
// The kernel

struct OpError {
  size_t index = 0;  // into the ops given to apply()
  Error error;       // "service tcp 192.0.2.1:80: destination 10.0.0.5:80: File exists"
};

struct BatchResult {
  size_t sent = 0;
  std::vector<OpError> errors;  // in op order
  bool ok() const { return errors.empty(); }
};

class IpvsBackend {
 public:
  virtual ~IpvsBackend() = default;

  virtual Result<Info> info() = 0;
  // Services and destinations in the kernel's order (no sorting).
  virtual Result<std::vector<ServiceEntry>> services() = 0;
  virtual Result<ServiceEntry> service(const ServiceKey& key) = 0;
  virtual Result<std::vector<DestinationEntry>> destinations(const ServiceKey& key) = 0;

  // Sends every op, pipelined, and reports each failure against its op.
  // A failure does not stop the ops after it (the kernel processes them
  // independently); errno is in OpError::error.code.
  virtual BatchResult apply(std::span<const Op> ops) = 0;

  virtual Status flush() = 0;                       // ipvsadm -C (lvsd never calls it)
  virtual Status zero(const ServiceKey* key) = 0;   // null = all services

  virtual Result<Timeouts> timeouts() = 0;
  virtual Status setTimeouts(const Timeouts& t) = 0;

  virtual Result<std::vector<SyncDaemon>> syncDaemons() = 0;
  virtual Status startSyncDaemon(const SyncDaemon& d) = 0;
  // `interface` and `syncId` are sent as ipvsadm does; the kernel only uses the state.
  virtual Status stopSyncDaemon(SyncState state) = 0;
};

struct NetlinkOptions {
  // Requests per sendmsg. Only the last request of a batch asks for an ack;
  // failures are reported by the kernel anyway, so a batch costs one send
  // and (1 + failures) receives.
  size_t batchMessages = 512;
  size_t batchBytes = 64 * 1024;
  // Receive buffer (SO_RCVBUFFORCE when permitted) large enough for a batch
  // in which every request fails.
  int receiveBuffer = 4 << 20;
};

// Opens a generic-netlink socket and resolves the "IPVS" family. Fails when
// IPVS is not loaded (the error carries the errno, usually ENOENT).
Result<std::unique_ptr<IpvsBackend>> makeNetlinkBackend(const NetlinkOptions& opts = {});

// Services with their destinations, in kernel order.
Result<Table> readTable(IpvsBackend& backend);

// ---------------------------------------------------------------------------
// Reconciler: the I/O shell around plan() that the daemon uses.

struct ReconcileReport {
  std::vector<Op> ops;          // what was planned (and sent)
  std::vector<OpError> errors;  // failures, mapped to ops
  bool refreshed = false;       // the kernel table was re-read first
};

class Reconciler {
 public:
  Reconciler(IpvsBackend& backend, Ownership ownership);

  // Re-reads the kernel table into the cache.
  Status refresh();
  // Plans `desired` against the cached table (reading the kernel first when
  // the cache is empty or stale) and applies the ops in one pipelined batch.
  // Successful ops update the cache; any failure marks it stale so the next
  // call starts from a fresh dump. Services in `desired` join the owned set.
  Result<ReconcileReport> apply(const Table& desired);
  // What apply() would do, without doing it.
  Result<std::vector<Op>> preview(const Table& desired);

  const Table& cached() const { return cache_; }
  const Ownership& ownership() const { return ownership_; }
  void setOwnership(Ownership o) {
    ownership_ = std::move(o);
    lastDesiredKeys_.clear();  // re-add the desired keys on the next apply
  }
  void invalidate() { stale_ = true; }

  struct Counters {
    uint64_t applies = 0, refreshes = 0, opsSent = 0, opErrors = 0;
  };
  const Counters& counters() const { return counters_; }

 private:
  void alignCache(const Table& desired);

  IpvsBackend& backend_;
  Ownership ownership_;
  Table cache_;
  std::vector<ServiceKey> lastDesiredKeys_;
  bool aligned_ = false;  // cache_ is in the last desired table's order
  bool stale_ = true;
  Counters counters_;
};

// ---------------------------------------------------------------------------
// /proc/net/ip_vs_conn

struct Connection {
  std::string protocol;  // "TCP", "UDP", "SCTP", ... as the kernel prints it
  IpAddress client;
  uint16_t clientPort = 0;
  IpAddress vaddr;
  uint16_t vport = 0;
  IpAddress daddr;
  uint16_t dport = 0;
  std::string state;  // "ESTABLISHED", "FIN_WAIT", ...
  uint32_t expires = 0;  // seconds
  std::string peName, peData;  // persistence engine columns (empty if absent)
};

struct ConnectionTable {
  std::vector<Connection> connections;
  size_t malformed = 0;  // lines skipped because they could not be parsed
};

inline constexpr const char* kConnProcFile = "/proc/net/ip_vs_conn";
// Parses the file's text; the first line is the header and is skipped.
ConnectionTable parseConnections(std::string_view text);
Result<ConnectionTable> readConnections(const std::string& path = kConnProcFile);

}  // namespace lvsd::ipvs
