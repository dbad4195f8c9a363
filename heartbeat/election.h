#pragma once
// Private to heartbeat/: the election state machine (RFC 5798 §6.4, with
// keepalived's preempt_delay and its "re-assert on a lower master"), pure:
// no sockets, no timers. Time comes in as arguments; the machine keeps
// deadlines and reports the next one; every input returns actions that the
// engine carries out (send an advertisement, announce the VIPs again, record
// a transition).
//
// Election is one instance; Elector holds all of them plus the sync groups
// (instances that change state together) and settles group consequences.

#include <optional>
#include <string>
#include <vector>

#include "core/address.h"
#include "core/clock.h"
#include "heartbeat/types.h"

namespace lvsd::heartbeat {

inline constexpr uint8_t kOwnerPriority = 255;  // RFC 5798 §6.1: the address owner

struct ElectionParams {
  std::string name;
  uint8_t priority = 100;  // effective priority at start, 1..255
  bool preempt = true;
  Duration preemptDelay{0};
  Duration interval = std::chrono::seconds(1);
  uint32_t deadCount = 3;
  IpAddress self;  // compared with the sender's address on equal priority
  // VRRPv3 and NATIVE learn Master_Adver_Interval from the master's
  // advertisements (RFC 5798 §6.4.2); VRRPv2 uses its own interval.
  bool learnInterval = true;
};

struct PeerAdvert {
  uint8_t priority = 0;
  IpAddress from;
  Duration interval{0};  // the sender's interval; 0 = unknown (use ours)
};

struct Action {
  enum class Kind : uint8_t {
    kSendAdvert,  // advertise `priority` now
    kTransition,  // from -> to, reason; `priority` is the effective priority
    kReassert,    // a lower master was heard: announce the VIPs again
    kGroupReady,  // internal to Elector: this member wants MASTER
    kStallGrace,  // the master-down timer fired late: one more interval granted
  };
  Kind kind = Kind::kSendAdvert;
  size_t instance = 0;
  uint8_t priority = 0;
  State from = State::kInit;
  State to = State::kInit;
  Reason reason = Reason::kStartup;
};
using Actions = std::vector<Action>;

// Master_Down_Interval = dead_count × interval + Skew_Time, with
// Skew_Time = (256 − priority) × interval / 256 (RFC 5798 §6.1).
Duration skewTime(Duration interval, uint8_t priority);
Duration masterDownInterval(Duration interval, uint8_t priority, uint32_t deadCount);

class Election {
 public:
  explicit Election(ElectionParams p);

  // `resume`: this director was MASTER before a restart in place (it
  // stopped with release_on_stop false and finds the instance's VIPs still
  // on its interfaces). It starts as MASTER and advertises at once, so the
  // backups' master-down timers never run out. If another director took
  // over meanwhile, the ordinary rules settle it within an interval: a
  // higher master makes this one BACKUP, a lower one yields.
  void start(TimePoint now, Actions& out, bool resume = false);
  void advert(const PeerAdvert& a, TimePoint now, Actions& out);
  // Fires every deadline at or before `now`. `lateness` is how late the
  // caller's loop woke up: a master-down timer that fires half an interval
  // or more late gets one more interval, once per silence, because a loop
  // that was not running (a stalled host) cannot tell a dead master from
  // one that was stalled with it.
  void timers(TimePoint now, Actions& out, Duration lateness = Duration(0));
  void setPriority(uint8_t priority, TimePoint now, Actions& out);
  // Own fault (a weight-0 tracker) and group fault (another sync-group
  // member's); the instance is in FAULT while either holds.
  void setOwnFault(bool fault, TimePoint now, Actions& out);
  void setGroupFault(bool fault, TimePoint now, Actions& out);
  // Clean stop. A MASTER advertises priority 0 first when `release`.
  void stop(TimePoint now, bool release, Actions& out);
  // Sync group: move to MASTER (from BACKUP) or BACKUP (from MASTER).
  void force(State to, TimePoint now, Actions& out);
  // A peer that was out of reach is heard again: while it could not hear
  // us it may have taken the VIPs, so a MASTER advertises and announces
  // again (rate-limited like any re-assertion).
  void peerReturned(TimePoint now, Actions& out);
  // The operator asks a MASTER to step down: it advertises priority 0 (the
  // backup takes over after its skew time, preempt or not) and becomes
  // BACKUP. Lower its priority first so it does not preempt back.
  void yield(TimePoint now, Actions& out);

  std::optional<TimePoint> nextDeadline() const;

  const ElectionParams& params() const { return p_; }
  State state() const { return state_; }
  uint8_t priority() const { return priority_; }
  bool ownFault() const { return ownFault_; }
  bool ready() const { return ready_; }
  // The master this instance believes in (itself when MASTER).
  const std::optional<IpAddress>& master() const { return master_; }
  uint8_t masterPriority() const { return masterPriority_; }
  Duration masterInterval() const { return masterInterval_; }
  TimePoint since() const { return since_; }
  Reason lastReason() const { return lastReason_; }
  uint64_t transitions() const { return transitions_; }
  void setGrouped(bool g) { grouped_ = g; }

 private:
  enum class Event : uint8_t {
    kStart,
    kAdvert,
    kMasterDown,
    kAdvertTimer,
    kPriority,
    kFaultOn,
    kFaultOff,
    kStop,
    kForceMaster,
    kForceBackup,
  };
  static constexpr size_t kEventCount = 10;
  struct Input {
    Event event;
    TimePoint now;
    const PeerAdvert* advert = nullptr;
    Reason reason = Reason::kStartup;
    bool release = true;
    bool resume = false;
  };
  using Handler = void (Election::*)(const Input&, Actions&);
  static const Handler kTable[kStateCount][kEventCount];

  void dispatch(const Input& in, Actions& out);

  // Handlers, named <state><Event>; the table says which runs when.
  void initStart(const Input& in, Actions& out);
  void backupAdvert(const Input& in, Actions& out);
  void backupMasterDown(const Input& in, Actions& out);
  void masterAdvert(const Input& in, Actions& out);
  void masterAdvertTimer(const Input& in, Actions& out);
  void masterPriority(const Input& in, Actions& out);
  void anyFaultOn(const Input& in, Actions& out);
  void faultAdvert(const Input& in, Actions& out);
  void faultFaultOff(const Input& in, Actions& out);
  void anyStop(const Input& in, Actions& out);
  void backupForceMaster(const Input& in, Actions& out);
  void masterForceBackup(const Input& in, Actions& out);

  // Shared steps.
  void enterBackupOrOwner(TimePoint now, Reason reason, Actions& out);
  void becomeMaster(TimePoint now, Reason reason, Actions& out);
  void becomeBackup(TimePoint now, Reason reason, Actions& out);
  void transition(State to, Reason reason, TimePoint now, Actions& out);
  void sendAdvert(uint8_t priority, Actions& out);
  void reassert(TimePoint now, Actions& out);
  Duration downInterval() const { return masterDownInterval(masterInterval_, priority_, p_.deadCount); }

  ElectionParams p_;
  State state_ = State::kInit;
  uint8_t priority_;
  bool started_ = false;
  bool ownFault_ = false;
  bool groupFault_ = false;
  bool grouped_ = false;
  bool ready_ = false;           // grouped BACKUP whose own election says MASTER
  Reason pendingReason_ = Reason::kMasterDown;
  bool sawRelease_ = false;      // priority 0 heard since the last accepted master
  bool discardedLower_ = false;  // a lower master was discarded (preempt pending)
  bool stallGraceUsed_ = false;  // the grace for a late timer was given this silence
  Duration masterInterval_;
  std::optional<TimePoint> masterDownAt_;
  std::optional<TimePoint> advertAt_;
  std::optional<TimePoint> preemptAt_;   // preempt_delay: when preemption is allowed
  std::optional<TimePoint> lastReassert_;
  std::optional<IpAddress> master_;
  uint8_t masterPriority_ = 0;
  TimePoint since_{};
  Reason lastReason_ = Reason::kStartup;
  uint64_t transitions_ = 0;
};

class Elector {
 public:
  size_t add(ElectionParams p);
  // Instances (indices from add) that change state together.
  void addSyncGroup(const std::vector<size_t>& members);

  // `resume[i]`: instance i restarts as MASTER (Election::start), and with
  // it every member of its sync group.
  Actions start(TimePoint now, const std::vector<bool>& resume = {});
  Actions advert(size_t i, const PeerAdvert& a, TimePoint now);
  Actions timers(TimePoint now, Duration lateness = Duration(0));
  Actions setPriority(size_t i, uint8_t priority, TimePoint now);
  Actions setFault(size_t i, bool fault, TimePoint now);
  Actions peerReturned(size_t i, TimePoint now);
  Actions yield(size_t i, TimePoint now);
  Actions stop(TimePoint now, bool release);

  std::optional<TimePoint> nextDeadline() const;
  size_t size() const { return elections_.size(); }
  const Election& at(size_t i) const { return elections_[i]; }

 private:
  template <typename Fn>
  Actions run(size_t i, TimePoint now, Fn&& fn);
  // Applies sync-group rules to `pending` until nothing new happens.
  Actions settle(Actions pending, TimePoint now);
  void onMemberTransition(const Action& a, TimePoint now, Actions& more);
  void tryGroupMaster(size_t i, TimePoint now, Actions& more);

  std::vector<Election> elections_;
  std::vector<int> groupOf_;                  // -1 = not in a group
  std::vector<std::vector<size_t>> groups_;
};

}  // namespace lvsd::heartbeat
