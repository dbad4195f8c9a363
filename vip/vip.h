#pragma once
// vip/: the virtual addresses a MASTER holds. The one public header.
//
// VipManager takes commands (acquire / release / reannounce a VIP group) and
// carries them out on its own thread: addresses are added and removed over
// rtnetlink (libnl-route-3) and announced with gratuitous ARP (AF_PACKET) or
// unsolicited neighbour advertisements (ICMPv6), on the group's schedule.
// It knows nothing of elections; daemon/ turns heartbeat transitions into
// these commands.

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/address.h"
#include "core/clock.h"
#include "core/result.h"

namespace lvsd::vip {

struct VipSpec {
  Prefix prefix;          // address and prefix length as configured
  std::string interface;
  std::string label;      // IPv4 alias label ("eth0:vip"), may be empty
  std::string toString() const;  // "192.0.2.10/24 dev eth0"
  bool operator==(const VipSpec&) const = default;
};

// Gratuitous ARP / unsolicited NA schedule (config Announce).
struct AnnounceSpec {
  Duration delay{0};                         // after the addresses are added
  uint32_t repeat = 5;                       // announcements per burst
  Duration interval = std::chrono::milliseconds(200);  // between them
  Duration refresh{0};                       // one more announcement this often (0 = off)
};

struct GroupSpec {
  std::string name;
  std::vector<VipSpec> vips;
  AnnounceSpec announce;
};

// Every vip_group of the config.
Result<std::vector<GroupSpec>> groupsFromConfig(const config::Config& cfg);

// The OS side, injected (DESIGN.md style 4); fakes live in tests/fakes/.
class AddressBackend {
 public:
  virtual ~AddressBackend() = default;
  // Adds the address; already present is success. IPv6 addresses are added
  // with IFA_F_NODAD so they answer at once.
  virtual Status add(const VipSpec& vip) = 0;
  // Removes the address; already absent is success.
  virtual Status remove(const VipSpec& vip) = 0;
  // Whether the address is on its interface with its prefix length (a
  // restarted MASTER finds the VIPs its predecessor left). A missing
  // interface holds nothing.
  virtual Result<bool> has(const VipSpec& vip) = 0;
};

class Announcer {
 public:
  virtual ~Announcer() = default;
  // One gratuitous ARP (IPv4) or unsolicited neighbour advertisement (IPv6).
  virtual Status announce(const VipSpec& vip) = 0;
};

// rtnetlink via libnl-route-3, in the caller's network namespace.
Result<std::unique_ptr<AddressBackend>> makeNetlinkBackend();
// AF_PACKET for ARP, a raw ICMPv6 socket for NA.
Result<std::unique_ptr<Announcer>> makePacketAnnouncer();

struct VipCounters {
  uint64_t adds = 0, removes = 0, announcements = 0;
  uint64_t addErrors = 0, removeErrors = 0, announceErrors = 0;
};

struct VipStatus {
  std::vector<std::string> held;  // groups currently held
  VipCounters counters;
};

class VipManager {
 public:
  VipManager(std::unique_ptr<AddressBackend> backend, std::unique_ptr<Announcer> announcer,
             const Clock& clock = SystemClock::instance());
  ~VipManager();

  // Starts the worker thread with these groups. A VIP add is on the
  // failover's critical path: with realtimePriority > 0 the worker runs
  // SCHED_FIFO at that priority (heartbeat.realtime_priority).
  Status start(std::vector<GroupSpec> groups, int realtimePriority = 0);
  // Replaces the group definitions (reload): held groups whose VIPs changed
  // get exactly the difference added / removed.
  void update(std::vector<GroupSpec> groups);

  // Commands; they return at once and are carried out in order.
  void acquire(const std::vector<std::string>& groups);
  void release(const std::vector<std::string>& groups);
  void reannounce(const std::vector<std::string>& groups);
  // Blocks until every command so far has been carried out (tests, stop).
  void sync();
  // Stops the worker; with `releaseHeld`, removes held VIPs first.
  void stop(bool releaseHeld);

  VipStatus status() const;
  // Called on the worker thread for every failure (for the daemon's log).
  void onError(std::function<void(const std::string&)> fn) { onError_ = std::move(fn); }

 private:
  class Impl;
  // Declared first: the worker (in impl_) may report while it shuts down.
  std::function<void(const std::string&)> onError_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace lvsd::vip
