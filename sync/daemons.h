#pragma once
// Private to sync/: which kernel sync daemons should run, and the fewest
// start/stop requests that get there without a moment in which neither the
// old nor the new daemon runs. The planner is pure; DaemonController runs a
// plan against an ipvs::IpvsBackend and checks the result against what the
// kernel then reports.

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "ipvs/ipvs.h"
#include "proto/config.pb.h"
#include "sync/sync.h"

namespace lvsd::sync {

// What runs: bit 0 master, bit 1 backup.
enum class DaemonSet : uint8_t { kNone = 0, kMaster = 1, kBackup = 2, kBoth = 3 };
const char* daemonSetName(DaemonSet s);  // "none" "master" "backup" "both"

// FOLLOW_ROLE: the master daemon while this director is MASTER of some
// instance, the backup daemon while it is not MASTER of some instance
// (BACKUP, FAULT or INIT: it should keep receiving state). Both when it is
// MASTER of one instance and BACKUP of another. No roles known yet = backup.
// BOTH: always both. Instances in STOP count for nothing; all in STOP = none.
DaemonSet daemonsFor(config::KernelSync::Mode mode, const std::vector<InstanceRole>& roles);

struct WantedDaemons {
  std::optional<ipvs::SyncDaemon> master;
  std::optional<ipvs::SyncDaemon> backup;
  // net.ipv4.vs.sync_sock_size to set before starting a daemon (0 = leave).
  uint32_t sockSize = 0;
  bool operator==(const WantedDaemons&) const = default;
};

// The daemons of `set` with the settings of `k`. Errors: an unparsable
// multicast group (validation normally catches it).
Result<WantedDaemons> wantedDaemons(const config::KernelSync& k, DaemonSet set);

// The maxlen the kernel reports for a requested one (start_sync_thread
// clamps it: backup 1024..65535-headers, master 1..65535-headers).
uint16_t kernelMaxlen(ipvs::SyncState state, Family groupFamily, uint16_t requested);

// A running daemon (as the kernel reports it) is what was asked for. Zero or
// absent fields of `wanted` leave the kernel's default; fields an older
// kernel does not report (0 / absent in `actual`) are not held against it.
bool daemonMatches(const ipvs::SyncDaemon& wanted, const ipvs::SyncDaemon& actual);

struct DaemonOp {
  enum class Kind : uint8_t { kStart, kStop };
  Kind kind = Kind::kStart;
  ipvs::SyncDaemon daemon;  // for kStop only the state matters
  std::string toString() const;  // "start master eth1 syncid 3" / "stop backup"
  bool operator==(const DaemonOp&) const = default;
};

// Starts come before stops, so switching master <-> backup never leaves a
// gap; a daemon with changed settings is stopped and started again (the
// kernel cannot edit one). Only daemons in `actual` are stopped.
std::vector<DaemonOp> planDaemons(const WantedDaemons& wanted,
                                  const std::vector<ipvs::SyncDaemon>& actual);

struct DaemonReport {
  std::vector<DaemonOp> ops;          // what was sent
  std::vector<std::string> errors;    // one line per failed op or mismatch
  std::vector<ipvs::SyncDaemon> running;  // what the kernel reports afterwards
  bool ok() const { return errors.empty(); }
};

// Runs plans against a backend. Blocking (netlink round trips): the daemon
// calls it from a worker thread, never from the event loop.
class DaemonController {
 public:
  // Sets net.ipv4.vs.sync_sock_size in the caller's namespace.
  using SockSizeSetter = std::function<lvsd::Status(uint32_t bytes)>;
  explicit DaemonController(ipvs::IpvsBackend& backend, SockSizeSetter setSockSize = writeSockSize)
      : backend_(backend), setSockSize_(std::move(setSockSize)) {}
  // The real setter: writes /proc/sys/net/ipv4/vs/sync_sock_size.
  static lvsd::Status writeSockSize(uint32_t bytes);
  // Reads the kernel's daemons, applies the plan, reads them again and
  // reports every difference from `wanted`.
  DaemonReport reconcile(const WantedDaemons& wanted);

 private:
  ipvs::IpvsBackend& backend_;
  SockSizeSetter setSockSize_;
};

}  // namespace lvsd::sync
