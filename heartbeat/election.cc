#include "heartbeat/election.h"

#include <algorithm>

namespace lvsd::heartbeat {

Duration skewTime(Duration interval, uint8_t priority) {
  return interval * (256 - priority) / 256;
}

Duration masterDownInterval(Duration interval, uint8_t priority, uint32_t deadCount) {
  return interval * deadCount + skewTime(interval, priority);
}

// ---------------------------------------------------------------------------
// Election

// The state machine as a table: row = current state, column = event. A null
// entry means the event changes nothing in that state.
const Election::Handler Election::kTable[kStateCount][kEventCount] = {
    //            kStart              kAdvert                 kMasterDown
    //            kAdvertTimer        kPriority               kFaultOn
    //            kFaultOff           kStop                   kForceMaster
    //            kForceBackup
    /* INIT   */ {&Election::initStart, nullptr, nullptr,
                  nullptr, nullptr, nullptr,
                  nullptr, &Election::anyStop, nullptr,
                  nullptr},
    /* BACKUP */ {nullptr, &Election::backupAdvert, &Election::backupMasterDown,
                  nullptr, nullptr, &Election::anyFaultOn,
                  nullptr, &Election::anyStop, &Election::backupForceMaster,
                  nullptr},
    /* MASTER */ {nullptr, &Election::masterAdvert, nullptr,
                  &Election::masterAdvertTimer, &Election::masterPriority, &Election::anyFaultOn,
                  nullptr, &Election::anyStop, nullptr,
                  &Election::masterForceBackup},
    /* FAULT  */ {nullptr, &Election::faultAdvert, nullptr,
                  nullptr, nullptr, nullptr,
                  &Election::faultFaultOff, &Election::anyStop, nullptr,
                  nullptr},
    /* STOP   */ {nullptr, nullptr, nullptr,
                  nullptr, nullptr, nullptr,
                  nullptr, nullptr, nullptr,
                  nullptr},
};

Election::Election(ElectionParams p)
    : p_(std::move(p)), priority_(p_.priority), masterInterval_(p_.interval) {}

void Election::dispatch(const Input& in, Actions& out) {
  Handler h = kTable[static_cast<size_t>(state_)][static_cast<size_t>(in.event)];
  if (h) (this->*h)(in, out);
}

void Election::start(TimePoint now, Actions& out, bool resume) {
  if (started_) return;
  started_ = true;
  since_ = now;
  Input in{Event::kStart, now};
  in.resume = resume;
  dispatch(in, out);
}

void Election::advert(const PeerAdvert& a, TimePoint now, Actions& out) {
  if (a.from == p_.self) return;  // our own address: a loop, not a peer
  Input in{Event::kAdvert, now, &a};
  dispatch(in, out);
}

void Election::timers(TimePoint now, Actions& out, Duration lateness) {
  if (masterDownAt_ && *masterDownAt_ <= now) {
    if (state_ == State::kBackup && !stallGraceUsed_ && lateness >= p_.interval / 2) {
      stallGraceUsed_ = true;
      masterDownAt_ = now + masterInterval_;
      Action a;
      a.kind = Action::Kind::kStallGrace;
      a.priority = priority_;
      out.push_back(a);
    } else {
      masterDownAt_.reset();
      dispatch({Event::kMasterDown, now}, out);
    }
  }
  if (advertAt_ && *advertAt_ <= now) {
    advertAt_.reset();
    dispatch({Event::kAdvertTimer, now}, out);
  }
}

void Election::setPriority(uint8_t priority, TimePoint now, Actions& out) {
  if (priority == priority_ || priority == 0) return;
  priority_ = priority;
  dispatch({Event::kPriority, now}, out);
}

void Election::setOwnFault(bool fault, TimePoint now, Actions& out) {
  bool before = ownFault_ || groupFault_;
  ownFault_ = fault;
  bool after = ownFault_ || groupFault_;
  if (!started_ || before == after) return;
  dispatch({after ? Event::kFaultOn : Event::kFaultOff, now, nullptr,
            after ? Reason::kTrackerFault : Reason::kFaultCleared},
           out);
}

void Election::setGroupFault(bool fault, TimePoint now, Actions& out) {
  bool before = ownFault_ || groupFault_;
  groupFault_ = fault;
  bool after = ownFault_ || groupFault_;
  if (!started_ || before == after) return;
  dispatch({after ? Event::kFaultOn : Event::kFaultOff, now, nullptr, Reason::kSyncGroup}, out);
}

void Election::stop(TimePoint now, bool release, Actions& out) {
  Input in{Event::kStop, now};
  in.release = release;
  dispatch(in, out);
}

void Election::force(State to, TimePoint now, Actions& out) {
  if (to == State::kMaster) dispatch({Event::kForceMaster, now}, out);
  else if (to == State::kBackup) dispatch({Event::kForceBackup, now}, out);
}

std::optional<TimePoint> Election::nextDeadline() const {
  std::optional<TimePoint> d = masterDownAt_;
  if (advertAt_ && (!d || *advertAt_ < *d)) d = advertAt_;
  return d;
}

// --- handlers ---------------------------------------------------------------

void Election::initStart(const Input& in, Actions& out) {
  if (ownFault_ || groupFault_) {
    transition(State::kFault, ownFault_ ? Reason::kTrackerFault : Reason::kSyncGroup, in.now, out);
    return;
  }
  if (in.resume && priority_ != kOwnerPriority) {
    becomeMaster(in.now, Reason::kResume, out);
    return;
  }
  enterBackupOrOwner(in.now, Reason::kStartup, out);
}

// RFC 5798 §6.4.2 "If an ADVERTISEMENT is received", with keepalived's
// preempt_delay: a lower-priority master is accepted until the delay that
// started when it was first heard has passed.
void Election::backupAdvert(const Input& in, Actions& out) {
  const PeerAdvert& a = *in.advert;
  if (a.priority == 0) {
    // The master is leaving: take over after Skew_Time, not Master_Down.
    masterDownAt_ = in.now + skewTime(masterInterval_, priority_);
    sawRelease_ = true;
    return;
  }
  bool lower = a.priority < priority_;
  bool inPreemptDelay = p_.preemptDelay.count() > 0 && (!preemptAt_ || in.now < *preemptAt_);
  if (!p_.preempt || !lower || inPreemptDelay) {
    if (p_.learnInterval && a.interval.count() > 0) masterInterval_ = a.interval;
    masterDownAt_ = in.now + downInterval();
    master_ = a.from;
    masterPriority_ = a.priority;
    sawRelease_ = false;
    discardedLower_ = false;
    stallGraceUsed_ = false;
    ready_ = false;
    if (p_.preemptDelay.count() > 0) {
      if (!lower) preemptAt_.reset();
      else if (!preemptAt_) preemptAt_ = in.now + p_.preemptDelay;
    }
    return;
  }
  // Preempt: discard the lower master's advertisement and let the
  // master-down timer run out.
  discardedLower_ = true;
  master_ = a.from;
  masterPriority_ = a.priority;
}

void Election::backupMasterDown(const Input& in, Actions& out) {
  Reason r = sawRelease_ ? Reason::kMasterReleased
             : discardedLower_ ? Reason::kPreempt
                               : Reason::kMasterDown;
  if (grouped_) {
    // The Elector moves the whole group once every member is ready; until
    // then keep the timer running so readiness is re-asserted.
    ready_ = true;
    pendingReason_ = r;
    masterDownAt_ = in.now + downInterval();
    Action a;
    a.kind = Action::Kind::kGroupReady;
    out.push_back(a);
    return;
  }
  becomeMaster(in.now, r, out);
}

// RFC 5798 §6.4.3 "If an ADVERTISEMENT is received" in Master state.
void Election::masterAdvert(const Input& in, Actions& out) {
  const PeerAdvert& a = *in.advert;
  if (a.priority == 0) {
    // Another master is leaving; make sure the backups hear us at once.
    sendAdvert(priority_, out);
    advertAt_ = in.now + p_.interval;
    return;
  }
  bool higher = a.priority > priority_;
  bool higherAddress = a.priority == priority_ && p_.self < a.from;
  if (higher || higherAddress) {
    if (p_.learnInterval && a.interval.count() > 0) masterInterval_ = a.interval;
    master_ = a.from;
    masterPriority_ = a.priority;
    becomeBackup(in.now, higher ? Reason::kHigherPriority : Reason::kHigherAddress, out);
    return;
  }
  // A lower master: a split brain is healing, or a peer came up as MASTER.
  reassert(in.now, out);
}

// Advertise and announce at once (at most once an interval) so a lower
// master yields now and the clients' caches point here again.
void Election::reassert(TimePoint now, Actions& out) {
  if (lastReassert_ && now - *lastReassert_ < p_.interval) return;
  lastReassert_ = now;
  sendAdvert(priority_, out);
  advertAt_ = now + p_.interval;
  Action r;
  r.kind = Action::Kind::kReassert;
  r.priority = priority_;
  out.push_back(r);
}

void Election::peerReturned(TimePoint now, Actions& out) {
  if (state_ == State::kMaster) reassert(now, out);
}

void Election::yield(TimePoint now, Actions& out) {
  if (state_ != State::kMaster) return;
  sendAdvert(0, out);
  becomeBackup(now, Reason::kOperator, out);
}

void Election::masterAdvertTimer(const Input& in, Actions& out) {
  sendAdvert(priority_, out);
  advertAt_ = in.now + p_.interval;
}

void Election::masterPriority(const Input& in, Actions& out) {
  // Tell the backups now: a lowered priority lets a preempting backup start
  // its master-down timer without waiting for the next interval.
  sendAdvert(priority_, out);
  advertAt_ = in.now + p_.interval;
}

void Election::anyFaultOn(const Input& in, Actions& out) {
  if (state_ == State::kMaster) sendAdvert(0, out);  // hand over at once
  masterDownAt_.reset();
  advertAt_.reset();
  ready_ = false;
  transition(State::kFault, in.reason, in.now, out);
}

void Election::faultAdvert(const Input& in, Actions& out) {
  const PeerAdvert& a = *in.advert;
  if (a.priority == 0) return;
  master_ = a.from;
  masterPriority_ = a.priority;
  if (p_.learnInterval && a.interval.count() > 0) masterInterval_ = a.interval;
}

void Election::faultFaultOff(const Input& in, Actions& out) {
  enterBackupOrOwner(in.now, in.reason, out);
}

void Election::anyStop(const Input& in, Actions& out) {
  if (state_ == State::kMaster && in.release) sendAdvert(0, out);
  masterDownAt_.reset();
  advertAt_.reset();
  ready_ = false;
  transition(State::kStop, Reason::kStop, in.now, out);
}

void Election::backupForceMaster(const Input& in, Actions& out) {
  becomeMaster(in.now, ready_ ? pendingReason_ : Reason::kSyncGroup, out);
}

void Election::masterForceBackup(const Input& in, Actions& out) {
  becomeBackup(in.now, Reason::kSyncGroup, out);
}

// --- shared steps -----------------------------------------------------------

void Election::enterBackupOrOwner(TimePoint now, Reason reason, Actions& out) {
  if (priority_ == kOwnerPriority) {
    becomeMaster(now, reason == Reason::kStartup ? Reason::kAddressOwner : reason, out);
    return;
  }
  masterInterval_ = p_.interval;  // nothing learned yet
  becomeBackup(now, reason, out);
}

void Election::becomeMaster(TimePoint now, Reason reason, Actions& out) {
  // Advertise first so the old master drops its VIPs before ours are
  // announced (RFC 5798 §6.4.2).
  sendAdvert(priority_, out);
  advertAt_ = now + p_.interval;
  masterDownAt_.reset();
  ready_ = false;
  sawRelease_ = false;
  discardedLower_ = false;
  lastReassert_.reset();
  master_ = p_.self;
  masterPriority_ = priority_;
  transition(State::kMaster, reason, now, out);
}

void Election::becomeBackup(TimePoint now, Reason reason, Actions& out) {
  advertAt_.reset();
  sawRelease_ = false;
  discardedLower_ = false;
  stallGraceUsed_ = false;
  preemptAt_.reset();
  masterDownAt_ = now + downInterval();
  transition(State::kBackup, reason, now, out);
}

void Election::transition(State to, Reason reason, TimePoint now, Actions& out) {
  Action a;
  a.kind = Action::Kind::kTransition;
  a.from = state_;
  a.to = to;
  a.reason = reason;
  a.priority = priority_;
  state_ = to;
  since_ = now;
  lastReason_ = reason;
  ++transitions_;
  if (to != State::kMaster && master_ == p_.self) master_.reset();
  out.push_back(a);
}

void Election::sendAdvert(uint8_t priority, Actions& out) {
  Action a;
  a.kind = Action::Kind::kSendAdvert;
  a.priority = priority;
  out.push_back(a);
}

// ---------------------------------------------------------------------------
// Elector

size_t Elector::add(ElectionParams p) {
  elections_.emplace_back(std::move(p));
  groupOf_.push_back(-1);
  return elections_.size() - 1;
}

void Elector::addSyncGroup(const std::vector<size_t>& members) {
  int g = static_cast<int>(groups_.size());
  groups_.push_back(members);
  for (size_t m : members) {
    groupOf_[m] = g;
    elections_[m].setGrouped(true);
  }
}

template <typename Fn>
Actions Elector::run(size_t i, TimePoint now, Fn&& fn) {
  Actions local;
  fn(elections_[i], local);
  for (auto& a : local) a.instance = i;
  return settle(std::move(local), now);
}

Actions Elector::start(TimePoint now, const std::vector<bool>& resume) {
  Actions all;
  auto resumes = [&](size_t i) { return i < resume.size() && resume[i]; };
  for (size_t i = 0; i < elections_.size(); ++i) {
    // Sync-group members move together: one resuming resumes the group.
    bool r = resumes(i);
    if (groupOf_[i] >= 0)
      for (size_t m : groups_[groupOf_[i]]) r = r || resumes(m);
    Actions a = run(i, now, [&](Election& e, Actions& out) { e.start(now, out, r); });
    all.insert(all.end(), a.begin(), a.end());
  }
  return all;
}

Actions Elector::advert(size_t i, const PeerAdvert& a, TimePoint now) {
  return run(i, now, [&](Election& e, Actions& out) { e.advert(a, now, out); });
}

Actions Elector::timers(TimePoint now, Duration lateness) {
  Actions all;
  for (size_t i = 0; i < elections_.size(); ++i) {
    auto d = elections_[i].nextDeadline();
    if (!d || *d > now) continue;
    Actions a = run(i, now, [&](Election& e, Actions& out) { e.timers(now, out, lateness); });
    all.insert(all.end(), a.begin(), a.end());
  }
  return all;
}

Actions Elector::setPriority(size_t i, uint8_t priority, TimePoint now) {
  return run(i, now, [&](Election& e, Actions& out) { e.setPriority(priority, now, out); });
}

Actions Elector::setFault(size_t i, bool fault, TimePoint now) {
  Actions local;
  elections_[i].setOwnFault(fault, now, local);
  for (auto& a : local) a.instance = i;
  if (groupOf_[i] >= 0) {
    // A sync group is in FAULT while any member has a fault of its own.
    const auto& members = groups_[groupOf_[i]];
    for (size_t m : members) {
      if (m == i) continue;
      bool other = std::any_of(members.begin(), members.end(),
                               [&](size_t o) { return o != m && elections_[o].ownFault(); });
      Actions more;
      elections_[m].setGroupFault(other, now, more);
      for (auto& a : more) a.instance = m;
      local.insert(local.end(), more.begin(), more.end());
    }
  }
  return settle(std::move(local), now);
}

Actions Elector::peerReturned(size_t i, TimePoint now) {
  return run(i, now, [&](Election& e, Actions& out) { e.peerReturned(now, out); });
}

Actions Elector::yield(size_t i, TimePoint now) {
  return run(i, now, [&](Election& e, Actions& out) { e.yield(now, out); });
}

Actions Elector::stop(TimePoint now, bool release) {
  // No group propagation: every instance stops anyway.
  Actions all;
  for (size_t i = 0; i < elections_.size(); ++i) {
    Actions local;
    elections_[i].stop(now, release, local);
    for (auto& a : local) a.instance = i;
    all.insert(all.end(), local.begin(), local.end());
  }
  return all;
}

std::optional<TimePoint> Elector::nextDeadline() const {
  std::optional<TimePoint> best;
  for (const auto& e : elections_) {
    auto d = e.nextDeadline();
    if (d && (!best || *d < *best)) best = d;
  }
  return best;
}

Actions Elector::settle(Actions pending, TimePoint now) {
  Actions out;
  for (size_t k = 0; k < pending.size(); ++k) {
    Action a = pending[k];  // copy: `pending` may grow below
    if (a.kind == Action::Kind::kGroupReady) {
      Actions more;
      tryGroupMaster(a.instance, now, more);
      pending.insert(pending.end(), more.begin(), more.end());
      continue;
    }
    out.push_back(a);
    if (a.kind == Action::Kind::kTransition && a.reason != Reason::kSyncGroup &&
        groupOf_[a.instance] >= 0) {
      Actions more;
      onMemberTransition(a, now, more);
      pending.insert(pending.end(), more.begin(), more.end());
    }
  }
  return out;
}

// Sync-group rules (keepalived's vrrp_sync_group): a member leaving MASTER
// for BACKUP takes the group to BACKUP; a member reaching MASTER takes the
// others along. (FAULT is shared in setFault.)
void Elector::onMemberTransition(const Action& a, TimePoint now, Actions& more) {
  const auto& members = groups_[groupOf_[a.instance]];
  auto each = [&](State to) {
    for (size_t m : members) {
      if (m == a.instance) continue;
      Actions local;
      elections_[m].force(to, now, local);
      for (auto& x : local) x.instance = m;
      more.insert(more.end(), local.begin(), local.end());
    }
  };
  if (a.to == State::kMaster) each(State::kMaster);
  else if (a.to == State::kBackup && a.from == State::kMaster) each(State::kBackup);
}

void Elector::tryGroupMaster(size_t i, TimePoint now, Actions& more) {
  const auto& members = groups_[groupOf_[i]];
  for (size_t m : members) {
    const Election& e = elections_[m];
    if (e.state() == State::kMaster) continue;
    if (e.state() == State::kBackup && e.ready()) continue;
    return;  // someone still hears a master, or is in FAULT
  }
  for (size_t m : members) {
    Actions local;
    elections_[m].force(State::kMaster, now, local);
    // Each member moves with its own reason: every one's election said MASTER.
    for (auto& x : local) x.instance = m;
    more.insert(more.end(), local.begin(), local.end());
  }
}

}  // namespace lvsd::heartbeat
