#pragma once
// Private to heartbeat/: the engine joins the election core, the codecs, the
// replay windows and the tracker arithmetic for one director. It owns no
// socket and no timer: packets come in through onPacket, time through the
// injected Clock and onTimer (the shell calls it at nextDeadline()), and
// everything it sends goes through PacketIo. Single-threaded; the shell
// serializes calls. Unit tests run two engines against each other on a fake
// network with a fake clock.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "heartbeat/election.h"
#include "heartbeat/heartbeat.h"
#include "heartbeat/model.h"
#include "proto/heartbeat.pb.h"

namespace lvsd::heartbeat {

struct ReceivedPacket {
  size_t link = 0;
  IpAddress src;
  IpAddress dst;
  int ttl = -1;  // IPv4 TTL / IPv6 hop limit; -1 = not known (NATIVE over UDP)
  // NATIVE: the UDP payload. VRRP: the VRRP message, or with ipv4Header the
  // whole IPv4 packet as an AF_INET raw socket returns it (src, dst and ttl
  // then come from the header).
  std::span<const uint8_t> bytes;
  bool ipv4Header = false;
};

// The OS side of sending, injected (DESIGN.md style 4).
class PacketIo {
 public:
  virtual ~PacketIo() = default;
  // NATIVE: one UDP datagram to dst on the link's socket. VRRP: one VRRP
  // message to dst (the group or a unicast peer), TTL / hop limit 255.
  virtual Status send(size_t link, const IpAddress& dst, std::span<const uint8_t> bytes) = 0;
};

class EngineObserver {
 public:
  virtual ~EngineObserver() = default;
  // `instance` indexes Model::instances (for its notify hooks).
  virtual void onTransition(const Transition& t, size_t instance) = 0;
  // A MASTER heard a lower master: announce this instance's VIPs again.
  virtual void onReassert(const std::string& instance, const std::vector<std::string>& vipGroups) = 0;
  // Something an operator should read once (config digest mismatch, ...).
  virtual void onNotice(bool warning, const std::string& text) = 0;
};

struct Counters {
  DropCounters drops{};
  uint64_t received = 0;     // packets accepted
  uint64_t sent = 0;
  uint64_t sendErrors = 0;
  uint64_t transitions = 0;
  uint64_t reasserts = 0;
  uint64_t addressListMismatch = 0;  // VRRP: a peer advertises other addresses
  uint64_t stallGraces = 0;          // master-down deferred: the loop woke up late
  uint64_t dropped() const;
};

struct InstanceSnapshot {
  std::string name;
  State state = State::kInit;
  uint8_t priority = 0;           // configured
  uint8_t effectivePriority = 0;  // after trackers
  bool fault = false;
  std::string master;             // director name, address, or "" when unknown
  int64_t sinceUnixMs = 0;
  Reason lastReason = Reason::kStartup;
  uint64_t transitions = 0;
};

struct PeerSnapshot {
  std::string name;
  std::string configDigest;
  bool configMismatch = false;
  int64_t lastHeardUnixMs = 0;
  std::vector<std::string> linksUp;
};

struct EngineSnapshot {
  std::vector<InstanceSnapshot> instances;
  std::vector<PeerSnapshot> peers;
  Counters counters;
};

class Engine {
 public:
  Engine(Model model, const Clock& clock, PacketIo& io, EngineObserver& observer, uint64_t bootId);

  // `resume`: names of instances that restart as MASTER (Election::start).
  void start(const std::vector<std::string>& resume = {});
  void onPacket(const ReceivedPacket& p);
  // `lateness`: how late the shell's loop woke up for this deadline.
  void onTimer(Duration lateness = Duration(0));
  std::optional<TimePoint> nextDeadline() const;
  void setTracker(size_t tracker, TrackerStatus status);
  // `lvsctl failover`: run the instance at priority 1 (a MASTER steps down
  // with priority 0) until `until` (nullopt = until cleared or restart).
  // clearFailover restores the configured priority.
  void failover(size_t instance, std::optional<TimePoint> until);
  void clearFailover(size_t instance);
  void setHealth(const wire::Health& h) { health_ = h; }
  void setDigest(const std::string& digest) { model_.digest = digest; }
  // Clean stop: MASTERs advertise priority 0 when the model says release.
  void stop();

  EngineSnapshot snapshot() const;
  const Counters& counters() const { return counters_; }
  const Model& model() const { return model_; }
  bool started() const { return started_; }

 private:
  struct Pending {
    size_t instance;
    uint8_t priority;
    wire::State state;
  };
  struct PeerState {
    std::vector<std::optional<TimePoint>> heard;  // per link
    std::optional<TimePoint> heardAny;            // on any link
    std::optional<WallTime> lastHeard;
    std::string digest;
    bool mismatchWarned = false;
  };
  struct VrrpPeer {
    IpAddress address;
    size_t link = 0;
    TimePoint heard{};
    WallTime heardWall{};
  };

  void apply(const Actions& actions);
  void flush();
  void flushNative();
  void flushVrrp();
  void recomputePriorities();
  void onNative(const ReceivedPacket& p);
  void onVrrp(const ReceivedPacket& p);
  void drop(DropReason r) { ++counters_.drops[static_cast<size_t>(r)]; }
  std::optional<IpAddress> peerAddress(size_t peer, size_t link) const;
  std::string nameOfAddress(const IpAddress& a) const;
  int64_t wallMs() const;
  Duration linkDeadAfter() const;

  Model model_;
  const Clock& clock_;
  PacketIo& io_;
  EngineObserver& obs_;
  uint64_t bootId_;
  Elector elector_;
  bool started_ = false;
  bool stopped_ = false;
  std::vector<TrackerStatus> trackers_;
  std::vector<PriorityOutcome> outcome_;        // per instance
  struct Override {
    bool on = false;
    std::optional<TimePoint> until;
  };
  std::vector<Override> override_;              // per instance (lvsctl failover)
  std::vector<uint64_t> seq_;                   // per link
  std::vector<ReplayWindow> replay_;            // [peer * links + link]
  std::vector<PeerState> peers_;
  std::vector<VrrpPeer> vrrpPeers_;
  std::vector<std::optional<TimePoint>> statusAt_;  // NATIVE liveness per instance
  std::vector<bool> mismatchWarned_;            // VRRP address list, per instance
  std::vector<Pending> pending_;
  wire::Health health_;
  Counters counters_;
  Duration lateness_{0};  // of the timer being handled (for the notice)
};

}  // namespace lvsd::heartbeat
