#include "ipvs/netlink_codec.h"

#include <cstring>

namespace lvsd::ipvs::nl {
namespace {

// IPVS_CMD_ATTR_* (first level).
enum : uint16_t {
  kCmdAttrService = 1,
  kCmdAttrDest = 2,
  kCmdAttrDaemon = 3,
  kCmdAttrTimeoutTcp = 4,
  kCmdAttrTimeoutTcpFin = 5,
  kCmdAttrTimeoutUdp = 6,
  kCmdAttrMax = 6,
};

// IPVS_SVC_ATTR_*.
enum : uint16_t {
  kSvcAttrAf = 1,
  kSvcAttrProtocol = 2,
  kSvcAttrAddr = 3,
  kSvcAttrPort = 4,
  kSvcAttrFwmark = 5,
  kSvcAttrSchedName = 6,
  kSvcAttrFlags = 7,
  kSvcAttrTimeout = 8,
  kSvcAttrNetmask = 9,
  kSvcAttrStats = 10,
  kSvcAttrPeName = 11,
  kSvcAttrStats64 = 12,
  kSvcAttrMax = 12,
};

// IPVS_DEST_ATTR_*.
enum : uint16_t {
  kDestAttrAddr = 1,
  kDestAttrPort = 2,
  kDestAttrFwdMethod = 3,
  kDestAttrWeight = 4,
  kDestAttrUThresh = 5,
  kDestAttrLThresh = 6,
  kDestAttrActiveConns = 7,
  kDestAttrInactConns = 8,
  kDestAttrPersistConns = 9,
  kDestAttrStats = 10,
  kDestAttrAddrFamily = 11,
  kDestAttrStats64 = 12,
  kDestAttrTunType = 13,
  kDestAttrTunPort = 14,
  kDestAttrTunFlags = 15,
  kDestAttrMax = 15,
};

// IPVS_DAEMON_ATTR_*.
enum : uint16_t {
  kDaemonAttrState = 1,
  kDaemonAttrMcastIfn = 2,
  kDaemonAttrSyncId = 3,
  kDaemonAttrSyncMaxlen = 4,
  kDaemonAttrMcastGroup = 5,
  kDaemonAttrMcastGroup6 = 6,
  kDaemonAttrMcastPort = 7,
  kDaemonAttrMcastTtl = 8,
  kDaemonAttrMax = 8,
};

// IPVS_STATS_ATTR_*.
enum : uint16_t {
  kStatsConns = 1,
  kStatsInPkts = 2,
  kStatsOutPkts = 3,
  kStatsInBytes = 4,
  kStatsOutBytes = 5,
  kStatsCps = 6,
  kStatsInPps = 7,
  kStatsOutPps = 8,
  kStatsInBps = 9,
  kStatsOutBps = 10,
  kStatsMax = 11,  // IPVS_STATS_ATTR_PAD
};

// IPVS_INFO_ATTR_*.
enum : uint16_t { kInfoVersion = 1, kInfoConnTabSize = 2, kInfoMax = 2 };

// nlctrl (linux/genetlink.h).
constexpr uint8_t kCtrlCmdGetFamily = 3;
constexpr uint16_t kCtrlAttrFamilyId = 1;
constexpr uint16_t kCtrlAttrFamilyName = 2;
constexpr uint16_t kCtrlAttrMax = 10;

constexpr uint16_t kAfInet = 2;    // AF_INET
constexpr uint16_t kAfInet6 = 10;  // AF_INET6

size_t align4(size_t n) { return (n + 3) & ~size_t{3}; }

void putRaw16(uint8_t* p, uint16_t v) { std::memcpy(p, &v, 2); }
void putRaw32(uint8_t* p, uint32_t v) { std::memcpy(p, &v, 4); }

uint16_t afOf(Family f) { return f == Family::kV6 ? kAfInet6 : kAfInet; }

Result<Family> familyOf(uint16_t af) {
  if (af == kAfInet) return Family::kV4;
  if (af == kAfInet6) return Family::kV6;
  return Error("unsupported address family " + std::to_string(af));
}

// union nf_inet_addr: 16 bytes, IPv4 in the first four.
void putInetAddr(MessageBuilder& b, uint16_t type, const IpAddress& a) {
  uint8_t buf[16] = {};
  std::memcpy(buf, a.bytes().data(), a.size());
  b.putBytes(type, buf, sizeof buf);
}

Result<IpAddress> getInetAddr(const Attrs& a, uint16_t type, Family f) {
  auto raw = a.raw(type);
  size_t need = f == Family::kV4 ? 4 : 16;
  if (raw.size() < need) return Error("address attribute too short");
  return IpAddress::fromBytes(f, raw.data());
}

void putServiceKey(MessageBuilder& b, const ServiceKey& k) {
  b.putU16(kSvcAttrAf, afOf(k.family));
  if (k.isFwmark()) {
    b.putU32(kSvcAttrFwmark, k.fwmark);
  } else {
    b.putU16(kSvcAttrProtocol, static_cast<uint16_t>(k.protocol));
    putInetAddr(b, kSvcAttrAddr, k.address);
    b.putBe16(kSvcAttrPort, k.port);
  }
}

void putService(MessageBuilder& b, const Service& s, bool full) {
  size_t nest = b.beginNest(kCmdAttrService);
  putServiceKey(b, s.key);
  if (full) {
    b.putString(kSvcAttrSchedName, s.scheduler);
    if (!s.pe.empty()) b.putString(kSvcAttrPeName, s.pe);
    // struct ip_vs_flags { flags, mask }: mask ~0 replaces all flags.
    uint8_t flags[8];
    putRaw32(flags, s.flags & ~kSvcHashed);
    putRaw32(flags + 4, 0xffffffff);
    b.putBytes(kSvcAttrFlags, flags, sizeof flags);
    b.putU32(kSvcAttrTimeout, s.timeout);
    // __be32 in the uAPI: a network-order mask for IPv4; IPv6 services keep
    // the prefix length there as a plain number.
    if (s.key.family == Family::kV6) {
      b.putU32(kSvcAttrNetmask, s.netmask);
    } else {
      b.putBe32(kSvcAttrNetmask, s.netmask);
    }
  }
  b.endNest(nest);
}

void putDestination(MessageBuilder& b, const Destination& d, bool full) {
  size_t nest = b.beginNest(kCmdAttrDest);
  putInetAddr(b, kDestAttrAddr, d.address);
  b.putBe16(kDestAttrPort, d.port);
  if (full) {
    b.putU32(kDestAttrFwdMethod, static_cast<uint32_t>(d.forwarding) & 0x7);
    b.putU32(kDestAttrWeight, d.weight);
    b.putU32(kDestAttrUThresh, d.upperThreshold);
    b.putU32(kDestAttrLThresh, d.lowerThreshold);
  }
  b.putU16(kDestAttrAddrFamily, afOf(d.address.family()));
  if (full && d.forwarding == Forwarding::kTunnel) {
    b.putU8(kDestAttrTunType, static_cast<uint8_t>(d.tunnel.type));
    b.putBe16(kDestAttrTunPort, d.tunnel.port);
    b.putU16(kDestAttrTunFlags, d.tunnel.flags);
  }
  b.endNest(nest);
}

Stats decodeStats(const Attrs& a, bool is64) {
  auto get = [&](uint16_t t, bool wide) -> uint64_t {
    if (is64 || wide) return a.u64(t).value_or(0);
    return a.u32(t).value_or(0);
  };
  Stats s;
  s.conns = get(kStatsConns, false);
  s.inPackets = get(kStatsInPkts, false);
  s.outPackets = get(kStatsOutPkts, false);
  s.inBytes = get(kStatsInBytes, true);
  s.outBytes = get(kStatsOutBytes, true);
  s.cps = get(kStatsCps, false);
  s.inPps = get(kStatsInPps, false);
  s.outPps = get(kStatsOutPps, false);
  s.inBps = get(kStatsInBps, false);
  s.outBps = get(kStatsOutBps, false);
  return s;
}

Result<Stats> decodeStatsOf(const Attrs& parent, uint16_t stats64Type, uint16_t statsType) {
  bool is64 = parent.has(stats64Type);
  if (!is64 && !parent.has(statsType)) return Stats{};
  auto nested = Attrs::parse(parent.raw(is64 ? stats64Type : statsType), kStatsMax);
  if (!nested) return Error("malformed stats: " + nested.error().what());
  return decodeStats(*nested, is64);
}

Result<Attrs> nestedOf(std::span<const uint8_t> top, uint16_t type, uint16_t maxType,
                       const char* what) {
  auto outer = Attrs::parse(top, kCmdAttrMax);
  if (!outer) return Error(std::string("malformed ") + what + ": " + outer.error().what());
  if (!outer->has(type)) return Error(std::string("reply without ") + what + " attribute");
  auto inner = Attrs::parse(outer->raw(type), maxType);
  if (!inner) return Error(std::string("malformed ") + what + ": " + inner.error().what());
  return inner;
}

}  // namespace

// ---------------------------------------------------------------------------
// MessageBuilder

MessageBuilder::MessageBuilder(Bytes& out, uint16_t type, uint16_t flags, uint32_t seq,
                               uint8_t cmd, uint8_t version)
    : out_(out), start_(out.size()) {
  out_.resize(start_ + kNlmsgHdrLen + kGenlHdrLen, 0);
  uint8_t* h = out_.data() + start_;
  putRaw16(h + 4, type);
  putRaw16(h + 6, flags);
  putRaw32(h + 8, seq);
  putRaw32(h + 12, 0);  // nlmsg_pid: the kernel fills in ours
  h[16] = cmd;
  h[17] = version;
}

void MessageBuilder::header(uint16_t type, size_t payloadLen) {
  size_t at = out_.size();
  out_.resize(at + 4);
  putRaw16(out_.data() + at, static_cast<uint16_t>(4 + payloadLen));
  putRaw16(out_.data() + at + 2, type);
}

void MessageBuilder::pad() { out_.resize(align4(out_.size()), 0); }

void MessageBuilder::putBytes(uint16_t type, const void* data, size_t len) {
  header(type, len);
  const auto* p = static_cast<const uint8_t*>(data);
  out_.insert(out_.end(), p, p + len);
  pad();
}

void MessageBuilder::putU8(uint16_t type, uint8_t v) { putBytes(type, &v, 1); }
void MessageBuilder::putU16(uint16_t type, uint16_t v) { putBytes(type, &v, 2); }
void MessageBuilder::putU32(uint16_t type, uint32_t v) { putBytes(type, &v, 4); }

void MessageBuilder::putBe16(uint16_t type, uint16_t hostValue) {
  uint8_t b[2] = {static_cast<uint8_t>(hostValue >> 8), static_cast<uint8_t>(hostValue)};
  putBytes(type, b, 2);
}

void MessageBuilder::putBe32(uint16_t type, uint32_t hostValue) {
  uint8_t b[4] = {static_cast<uint8_t>(hostValue >> 24), static_cast<uint8_t>(hostValue >> 16),
                  static_cast<uint8_t>(hostValue >> 8), static_cast<uint8_t>(hostValue)};
  putBytes(type, b, 4);
}

void MessageBuilder::putString(uint16_t type, const std::string& s) {
  putBytes(type, s.c_str(), s.size() + 1);
}

size_t MessageBuilder::beginNest(uint16_t type) {
  size_t at = out_.size();
  header(static_cast<uint16_t>(type | kAttrNested), 0);
  return at;
}

void MessageBuilder::endNest(size_t token) {
  putRaw16(out_.data() + token, static_cast<uint16_t>(out_.size() - token));
}

void MessageBuilder::finish() {
  putRaw32(out_.data() + start_, static_cast<uint32_t>(out_.size() - start_));
}

// ---------------------------------------------------------------------------
// Parsing

Result<std::vector<Message>> splitMessages(std::span<const uint8_t> data) {
  std::vector<Message> out;
  size_t off = 0;
  while (off < data.size()) {
    if (data.size() - off < kNlmsgHdrLen) return Error("truncated netlink header");
    uint32_t len;
    std::memcpy(&len, data.data() + off, 4);
    if (len < kNlmsgHdrLen || len > data.size() - off) {
      return Error("bad netlink message length " + std::to_string(len));
    }
    Message m;
    std::memcpy(&m.type, data.data() + off + 4, 2);
    std::memcpy(&m.flags, data.data() + off + 6, 2);
    std::memcpy(&m.seq, data.data() + off + 8, 4);
    std::memcpy(&m.pid, data.data() + off + 12, 4);
    m.payload = data.subspan(off + kNlmsgHdrLen, len - kNlmsgHdrLen);
    out.push_back(m);
    off += align4(len);
  }
  return out;
}

Result<int> parseErrorCode(const Message& m) {
  if (m.payload.size() < 4) return Error("truncated netlink error message");
  int32_t err;
  std::memcpy(&err, m.payload.data(), 4);
  return static_cast<int>(err);
}

Result<GenlPayload> genlPayload(const Message& m) {
  if (m.payload.size() < kGenlHdrLen) return Error("truncated generic netlink header");
  GenlPayload g;
  g.cmd = m.payload[0];
  g.attrs = m.payload.subspan(kGenlHdrLen);
  return g;
}

Result<Attrs> Attrs::parse(std::span<const uint8_t> data, uint16_t maxType) {
  Attrs a;
  a.attrs_.resize(maxType + 1);
  a.present_.assign(maxType + 1, false);
  size_t off = 0;
  while (off + 4 <= data.size()) {
    uint16_t len, type;
    std::memcpy(&len, data.data() + off, 2);
    std::memcpy(&type, data.data() + off + 2, 2);
    if (len < 4 || len > data.size() - off) {
      return Error("bad attribute length " + std::to_string(len));
    }
    type &= kAttrTypeMask;
    if (type <= maxType) {
      a.attrs_[type] = data.subspan(off + 4, len - 4);
      a.present_[type] = true;
    }
    off += align4(len);
  }
  return a;
}

bool Attrs::has(uint16_t type) const { return type < present_.size() && present_[type]; }

std::span<const uint8_t> Attrs::raw(uint16_t type) const {
  return has(type) ? attrs_[type] : std::span<const uint8_t>();
}

std::optional<uint8_t> Attrs::u8(uint16_t type) const {
  auto r = raw(type);
  if (r.size() < 1) return std::nullopt;
  return r[0];
}

std::optional<uint16_t> Attrs::u16(uint16_t type) const {
  auto r = raw(type);
  if (r.size() < 2) return std::nullopt;
  uint16_t v;
  std::memcpy(&v, r.data(), 2);
  return v;
}

std::optional<uint32_t> Attrs::u32(uint16_t type) const {
  auto r = raw(type);
  if (r.size() < 4) return std::nullopt;
  uint32_t v;
  std::memcpy(&v, r.data(), 4);
  return v;
}

std::optional<uint64_t> Attrs::u64(uint16_t type) const {
  auto r = raw(type);
  if (r.size() < 8) return std::nullopt;
  uint64_t v;
  std::memcpy(&v, r.data(), 8);
  return v;
}

std::optional<uint16_t> Attrs::be16(uint16_t type) const {
  auto r = raw(type);
  if (r.size() < 2) return std::nullopt;
  return static_cast<uint16_t>((r[0] << 8) | r[1]);
}

std::optional<uint32_t> Attrs::be32(uint16_t type) const {
  auto r = raw(type);
  if (r.size() < 4) return std::nullopt;
  return (uint32_t{r[0]} << 24) | (uint32_t{r[1]} << 16) | (uint32_t{r[2]} << 8) | r[3];
}

std::optional<std::string> Attrs::str(uint16_t type) const {
  if (!has(type)) return std::nullopt;
  auto r = raw(type);
  const auto* p = reinterpret_cast<const char*>(r.data());
  return std::string(p, strnlen(p, r.size()));
}

// ---------------------------------------------------------------------------
// nlctrl

Bytes encodeGetFamily(uint32_t seq, const std::string& name) {
  Bytes out;
  MessageBuilder b(out, kGenlIdCtrl, kFlagRequest | kFlagAck, seq, kCtrlCmdGetFamily, 1);
  b.putString(kCtrlAttrFamilyName, name);
  b.finish();
  return out;
}

Result<uint16_t> decodeFamilyId(std::span<const uint8_t> attrs) {
  auto a = Attrs::parse(attrs, kCtrlAttrMax);
  if (!a) return std::move(a).takeError();
  auto id = a->u16(kCtrlAttrFamilyId);
  if (!id) return Error("nlctrl reply without a family id");
  return *id;
}

// ---------------------------------------------------------------------------
// IPVS requests

void encodeServiceOp(Bytes& out, uint16_t family, uint32_t seq, uint16_t flags, const Op& op) {
  uint8_t cmd = 0;
  bool fullService = false, fullDest = false;
  switch (op.kind) {
    case OpKind::kAddService:
      cmd = kCmdNewService;
      fullService = true;
      break;
    case OpKind::kEditService:
      cmd = kCmdSetService;
      fullService = true;
      break;
    case OpKind::kDeleteService:
      cmd = kCmdDelService;
      break;
    case OpKind::kAddDestination:
      cmd = kCmdNewDest;
      fullDest = true;
      break;
    case OpKind::kEditDestination:
      cmd = kCmdSetDest;
      fullDest = true;
      break;
    case OpKind::kDeleteDestination:
      cmd = kCmdDelDest;
      break;
  }
  MessageBuilder b(out, family, flags, seq, cmd, kIpvsGenlVersion);
  putService(b, op.service, fullService);
  if (op.isDestination()) putDestination(b, op.dest, fullDest);
  b.finish();
}

namespace {

// A request with no attributes, or with only a service key.
void keyRequest(Bytes& out, uint16_t family, uint32_t seq, uint16_t flags, uint8_t cmd,
                const ServiceKey* key) {
  MessageBuilder b(out, family, flags, seq, cmd, kIpvsGenlVersion);
  if (key) {
    size_t nest = b.beginNest(kCmdAttrService);
    putServiceKey(b, *key);
    b.endNest(nest);
  }
  b.finish();
}

constexpr uint16_t kDoit = kFlagRequest | kFlagAck;
constexpr uint16_t kDumpit = kFlagRequest | kFlagDump;

}  // namespace

void encodeGetService(Bytes& out, uint16_t family, uint32_t seq, const ServiceKey& key) {
  keyRequest(out, family, seq, kDoit, kCmdGetService, &key);
}

void encodeDumpServices(Bytes& out, uint16_t family, uint32_t seq) {
  keyRequest(out, family, seq, kDumpit, kCmdGetService, nullptr);
}

void encodeDumpDestinations(Bytes& out, uint16_t family, uint32_t seq, const ServiceKey& key) {
  keyRequest(out, family, seq, kDumpit, kCmdGetDest, &key);
}

void encodeGetInfo(Bytes& out, uint16_t family, uint32_t seq) {
  keyRequest(out, family, seq, kDoit, kCmdGetInfo, nullptr);
}

void encodeGetConfig(Bytes& out, uint16_t family, uint32_t seq) {
  keyRequest(out, family, seq, kDoit, kCmdGetConfig, nullptr);
}

void encodeSetConfig(Bytes& out, uint16_t family, uint32_t seq, const Timeouts& t) {
  MessageBuilder b(out, family, kDoit, seq, kCmdSetConfig, kIpvsGenlVersion);
  b.putU32(kCmdAttrTimeoutTcp, t.tcp);
  b.putU32(kCmdAttrTimeoutTcpFin, t.tcpFin);
  b.putU32(kCmdAttrTimeoutUdp, t.udp);
  b.finish();
}

void encodeFlush(Bytes& out, uint16_t family, uint32_t seq) {
  keyRequest(out, family, seq, kDoit, kCmdFlush, nullptr);
}

void encodeZero(Bytes& out, uint16_t family, uint32_t seq, const ServiceKey* key) {
  keyRequest(out, family, seq, kDoit, kCmdZero, key);
}

void encodeNewDaemon(Bytes& out, uint16_t family, uint32_t seq, const SyncDaemon& d) {
  MessageBuilder b(out, family, kDoit, seq, kCmdNewDaemon, kIpvsGenlVersion);
  size_t nest = b.beginNest(kCmdAttrDaemon);
  b.putU32(kDaemonAttrState, static_cast<uint32_t>(d.state));
  b.putString(kDaemonAttrMcastIfn, d.interface);
  b.putU32(kDaemonAttrSyncId, d.syncId);
  if (d.maxLen) b.putU16(kDaemonAttrSyncMaxlen, d.maxLen);
  if (d.port) b.putU16(kDaemonAttrMcastPort, d.port);
  if (d.ttl) b.putU8(kDaemonAttrMcastTtl, d.ttl);
  if (d.group) {
    if (d.group->isV6()) {
      b.putBytes(kDaemonAttrMcastGroup6, d.group->bytes().data(), 16);
    } else {
      b.putBytes(kDaemonAttrMcastGroup, d.group->bytes().data(), 4);
    }
  }
  b.endNest(nest);
  b.finish();
}

void encodeDelDaemon(Bytes& out, uint16_t family, uint32_t seq, SyncState state) {
  MessageBuilder b(out, family, kDoit, seq, kCmdDelDaemon, kIpvsGenlVersion);
  size_t nest = b.beginNest(kCmdAttrDaemon);
  b.putU32(kDaemonAttrState, static_cast<uint32_t>(state));
  b.endNest(nest);
  b.finish();
}

void encodeDumpDaemons(Bytes& out, uint16_t family, uint32_t seq) {
  keyRequest(out, family, seq, kDumpit, kCmdGetDaemon, nullptr);
}

// ---------------------------------------------------------------------------
// IPVS replies

Result<ServiceEntry> decodeService(std::span<const uint8_t> attrs) {
  auto a = nestedOf(attrs, kCmdAttrService, kSvcAttrMax, "service");
  if (!a) return std::move(a).takeError();
  auto af = a->u16(kSvcAttrAf);
  if (!af) return Error("service without address family");
  auto fam = familyOf(*af);
  if (!fam) return std::move(fam).takeError();

  ServiceEntry e;
  Service& s = e.service;
  if (auto mark = a->u32(kSvcAttrFwmark); mark && *mark != 0) {
    s.key = ServiceKey::mark(*mark, *fam);
  } else {
    auto proto = a->u16(kSvcAttrProtocol);
    auto port = a->be16(kSvcAttrPort);
    if (!proto || !port || !a->has(kSvcAttrAddr)) return Error("service without protocol/address/port");
    auto addr = getInetAddr(*a, kSvcAttrAddr, *fam);
    if (!addr) return std::move(addr).takeError();
    s.key.family = *fam;
    s.key.protocol = static_cast<Protocol>(*proto);
    s.key.address = *addr;
    s.key.port = *port;
  }
  auto sched = a->str(kSvcAttrSchedName);
  auto timeout = a->u32(kSvcAttrTimeout);
  auto flags = a->raw(kSvcAttrFlags);
  if (!sched || !timeout || flags.size() < 8 || !a->has(kSvcAttrNetmask)) {
    return Error("service " + s.key.toString() + " without scheduler/flags/timeout/netmask");
  }
  s.scheduler = *sched;
  uint32_t f, mask;
  std::memcpy(&f, flags.data(), 4);
  std::memcpy(&mask, flags.data() + 4, 4);
  s.flags = f & mask & ~kSvcHashed;
  s.timeout = *timeout;
  s.netmask = *fam == Family::kV6 ? a->u32(kSvcAttrNetmask).value_or(0)
                                  : a->be32(kSvcAttrNetmask).value_or(0);
  s.pe = a->str(kSvcAttrPeName).value_or("");
  auto stats = decodeStatsOf(*a, kSvcAttrStats64, kSvcAttrStats);
  if (!stats) return std::move(stats).takeError();
  e.stats = *stats;
  return e;
}

Result<DestinationEntry> decodeDestination(std::span<const uint8_t> attrs, Family serviceFamily) {
  auto a = nestedOf(attrs, kCmdAttrDest, kDestAttrMax, "destination");
  if (!a) return std::move(a).takeError();
  Family fam = serviceFamily;
  if (auto af = a->u16(kDestAttrAddrFamily)) {
    auto f = familyOf(*af);
    if (!f) return std::move(f).takeError();
    fam = *f;
  }
  auto port = a->be16(kDestAttrPort);
  auto fwd = a->u32(kDestAttrFwdMethod);
  auto weight = a->u32(kDestAttrWeight);
  auto uth = a->u32(kDestAttrUThresh);
  auto lth = a->u32(kDestAttrLThresh);
  auto active = a->u32(kDestAttrActiveConns);
  auto inact = a->u32(kDestAttrInactConns);
  auto persist = a->u32(kDestAttrPersistConns);
  if (!a->has(kDestAttrAddr) || !port || !fwd || !weight || !uth || !lth || !active || !inact ||
      !persist) {
    return Error("destination with missing attributes");
  }
  auto addr = getInetAddr(*a, kDestAttrAddr, fam);
  if (!addr) return std::move(addr).takeError();
  DestinationEntry e;
  Destination& d = e.dest;
  d.address = *addr;
  d.port = *port;
  d.forwarding = static_cast<Forwarding>(*fwd & 0x7);
  d.weight = *weight;
  d.upperThreshold = *uth;
  d.lowerThreshold = *lth;
  d.tunnel.type = static_cast<TunnelType>(a->u8(kDestAttrTunType).value_or(0));
  d.tunnel.port = a->be16(kDestAttrTunPort).value_or(0);
  d.tunnel.flags = a->u16(kDestAttrTunFlags).value_or(0);
  e.activeConns = *active;
  e.inactiveConns = *inact;
  e.persistentConns = *persist;
  auto stats = decodeStatsOf(*a, kDestAttrStats64, kDestAttrStats);
  if (!stats) return std::move(stats).takeError();
  e.stats = *stats;
  return e;
}

Result<Info> decodeInfo(std::span<const uint8_t> attrs) {
  auto a = Attrs::parse(attrs, kInfoMax);
  if (!a) return std::move(a).takeError();
  auto version = a->u32(kInfoVersion);
  auto size = a->u32(kInfoConnTabSize);
  if (!version || !size) return Error("info reply without version/table size");
  return Info{*version, *size};
}

Result<Timeouts> decodeTimeouts(std::span<const uint8_t> attrs) {
  auto a = Attrs::parse(attrs, kCmdAttrMax);
  if (!a) return std::move(a).takeError();
  Timeouts t;
  t.tcp = a->u32(kCmdAttrTimeoutTcp).value_or(0);
  t.tcpFin = a->u32(kCmdAttrTimeoutTcpFin).value_or(0);
  t.udp = a->u32(kCmdAttrTimeoutUdp).value_or(0);
  return t;
}

Result<SyncDaemon> decodeDaemon(std::span<const uint8_t> attrs) {
  auto a = nestedOf(attrs, kCmdAttrDaemon, kDaemonAttrMax, "daemon");
  if (!a) return std::move(a).takeError();
  auto state = a->u32(kDaemonAttrState);
  auto ifn = a->str(kDaemonAttrMcastIfn);
  auto syncId = a->u32(kDaemonAttrSyncId);
  if (!state || !ifn || !syncId) return Error("daemon without state/interface/syncid");
  SyncDaemon d;
  d.state = static_cast<SyncState>(*state);
  d.interface = *ifn;
  d.syncId = *syncId;
  d.maxLen = a->u16(kDaemonAttrSyncMaxlen).value_or(0);
  d.port = a->u16(kDaemonAttrMcastPort).value_or(0);
  d.ttl = a->u8(kDaemonAttrMcastTtl).value_or(0);
  if (a->raw(kDaemonAttrMcastGroup).size() >= 4) {
    d.group = IpAddress::fromBytes(Family::kV4, a->raw(kDaemonAttrMcastGroup).data());
  } else if (a->raw(kDaemonAttrMcastGroup6).size() >= 16) {
    d.group = IpAddress::fromBytes(Family::kV6, a->raw(kDaemonAttrMcastGroup6).data());
  }
  return d;
}

}  // namespace lvsd::ipvs::nl
