#include "sync/daemons.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace lvsd::sync {

namespace {

const char* stateName(ipvs::SyncState s) {
  return s == ipvs::SyncState::kMaster ? "master" : "backup";
}

const ipvs::SyncDaemon* find(const std::vector<ipvs::SyncDaemon>& list, ipvs::SyncState s) {
  for (const auto& d : list)
    if (d.state == s) return &d;
  return nullptr;
}

std::string describe(const ipvs::SyncDaemon& d) {
  std::string s = std::string(stateName(d.state)) + " " + d.interface + " syncid " +
                  std::to_string(d.syncId);
  if (d.group) s += " group " + d.group->toString();
  if (d.port) s += " port " + std::to_string(d.port);
  if (d.ttl) s += " ttl " + std::to_string(d.ttl);
  if (d.maxLen) s += " maxlen " + std::to_string(d.maxLen);
  return s;
}

// IP_VS_SYNC_GROUP: what the kernel uses when no group is given.
const IpAddress kDefaultGroup = IpAddress::v4(0xe0000051);

}  // namespace

const char* daemonSetName(DaemonSet s) {
  switch (s) {
    case DaemonSet::kNone:
      return "none";
    case DaemonSet::kMaster:
      return "master";
    case DaemonSet::kBackup:
      return "backup";
    case DaemonSet::kBoth:
      return "both";
  }
  return "?";
}

DaemonSet daemonsFor(config::KernelSync::Mode mode, const std::vector<InstanceRole>& roles) {
  bool anyLive = roles.empty();
  bool master = false, backup = roles.empty();
  for (InstanceRole r : roles) {
    if (r == InstanceRole::kStop) continue;
    anyLive = true;
    if (r == InstanceRole::kMaster)
      master = true;
    else
      backup = true;
  }
  if (!anyLive) return DaemonSet::kNone;
  if (mode == config::KernelSync::BOTH) return DaemonSet::kBoth;
  return static_cast<DaemonSet>((master ? 1 : 0) | (backup ? 2 : 0));
}

Result<WantedDaemons> wantedDaemons(const config::KernelSync& k, DaemonSet set) {
  ipvs::SyncDaemon d;
  d.interface = k.interface();
  d.syncId = k.sync_id();
  d.maxLen = uint16_t(std::min<uint32_t>(k.maxlen(), 65535));
  d.port = uint16_t(k.port());
  d.ttl = uint8_t(std::min<uint32_t>(k.ttl(), 255));
  if (!k.mcast_group().empty()) {
    auto g = IpAddress::parse(k.mcast_group());
    if (!g) return Error(g.error().message).context("sync.kernel.mcast_group");
    d.group = *g;
  }
  WantedDaemons w;
  w.sockSize = k.sock_size();
  if (uint8_t(set) & uint8_t(DaemonSet::kMaster)) {
    w.master = d;
    w.master->state = ipvs::SyncState::kMaster;
  }
  if (uint8_t(set) & uint8_t(DaemonSet::kBackup)) {
    w.backup = d;
    w.backup->state = ipvs::SyncState::kBackup;
  }
  return w;
}

uint16_t kernelMaxlen(ipvs::SyncState state, Family groupFamily, uint16_t requested) {
  uint32_t hlen = groupFamily == Family::kV6 ? 48 : 28;
  uint32_t lo = state == ipvs::SyncState::kBackup ? 1024 : 1;
  return uint16_t(std::clamp<uint32_t>(requested, lo, 65535 - hlen));
}

bool daemonMatches(const ipvs::SyncDaemon& w, const ipvs::SyncDaemon& a) {
  if (w.state != a.state || w.interface != a.interface || w.syncId != a.syncId) return false;
  if (a.port && a.port != (w.port ? w.port : 8848)) return false;
  if (a.ttl && a.ttl != (w.ttl ? w.ttl : 1)) return false;
  IpAddress group = w.group ? *w.group : kDefaultGroup;
  if (a.group && *a.group != group) return false;
  if (w.maxLen && a.maxLen && a.maxLen != kernelMaxlen(w.state, group.family(), w.maxLen))
    return false;
  return true;
}

std::string DaemonOp::toString() const {
  if (kind == Kind::kStop) return std::string("stop ") + stateName(daemon.state);
  return "start " + describe(daemon);
}

std::vector<DaemonOp> planDaemons(const WantedDaemons& wanted,
                                  const std::vector<ipvs::SyncDaemon>& actual) {
  std::vector<DaemonOp> starts, restarts, stops;
  for (const auto* w : {&wanted.master, &wanted.backup}) {
    if (!*w) continue;
    const ipvs::SyncDaemon* a = find(actual, (*w)->state);
    if (!a) {
      starts.push_back({DaemonOp::Kind::kStart, **w});
    } else if (!daemonMatches(**w, *a)) {
      restarts.push_back({DaemonOp::Kind::kStop, *a});
      restarts.push_back({DaemonOp::Kind::kStart, **w});
    }
  }
  for (auto s : {ipvs::SyncState::kMaster, ipvs::SyncState::kBackup}) {
    bool want = s == ipvs::SyncState::kMaster ? wanted.master.has_value() : wanted.backup.has_value();
    if (const ipvs::SyncDaemon* a = find(actual, s); a && !want)
      stops.push_back({DaemonOp::Kind::kStop, *a});
  }
  std::vector<DaemonOp> ops = std::move(starts);
  ops.insert(ops.end(), restarts.begin(), restarts.end());
  ops.insert(ops.end(), stops.begin(), stops.end());
  return ops;
}

lvsd::Status DaemonController::writeSockSize(uint32_t bytes) {
  const char* path = "/proc/sys/net/ipv4/vs/sync_sock_size";
  int fd = ::open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return errnoError(std::string("open ") + path, errno);
  std::string v = std::to_string(bytes) + "\n";
  ssize_t n = ::write(fd, v.data(), v.size());
  int err = errno;
  ::close(fd);
  if (n != ssize_t(v.size())) return errnoError(std::string("write ") + path, err);
  return okStatus();
}

DaemonReport DaemonController::reconcile(const WantedDaemons& wanted) {
  DaemonReport r;
  auto before = backend_.syncDaemons();
  if (!before) {
    r.errors.push_back("read sync daemons: " + before.error().message);
    return r;
  }
  r.ops = planDaemons(wanted, *before);
  bool starts = false;
  for (const auto& op : r.ops) starts |= op.kind == DaemonOp::Kind::kStart;
  // The kernel sizes a daemon's socket when it starts it.
  if (starts && wanted.sockSize && setSockSize_) {
    if (auto s = setSockSize_(wanted.sockSize); !s)
      r.errors.push_back("sync_sock_size " + std::to_string(wanted.sockSize) + ": " +
                         s.error().message);
  }
  for (const auto& op : r.ops) {
    Status s = op.kind == DaemonOp::Kind::kStart ? backend_.startSyncDaemon(op.daemon)
                                                  : backend_.stopSyncDaemon(op.daemon.state);
    if (!s) r.errors.push_back(op.toString() + ": " + s.error().message);
  }
  auto after = backend_.syncDaemons();
  if (!after) {
    r.errors.push_back("read sync daemons: " + after.error().message);
    return r;
  }
  r.running = *after;
  for (const auto* w : {&wanted.master, &wanted.backup}) {
    if (!*w) continue;
    const ipvs::SyncDaemon* a = find(r.running, (*w)->state);
    if (!a)
      r.errors.push_back(std::string("kernel reports no ") + stateName((*w)->state) + " daemon");
    else if (!daemonMatches(**w, *a))
      r.errors.push_back("kernel reports " + describe(*a) + ", wanted " + describe(**w));
  }
  for (auto s : {ipvs::SyncState::kMaster, ipvs::SyncState::kBackup}) {
    bool want = s == ipvs::SyncState::kMaster ? wanted.master.has_value() : wanted.backup.has_value();
    if (!want && find(r.running, s))
      r.errors.push_back(std::string("kernel still runs the ") + stateName(s) + " daemon");
  }
  return r;
}

}  // namespace lvsd::sync
