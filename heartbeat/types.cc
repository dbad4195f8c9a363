#include "heartbeat/types.h"

namespace lvsd::heartbeat {

const char* stateName(State s) {
  switch (s) {
    case State::kInit: return "INIT";
    case State::kBackup: return "BACKUP";
    case State::kMaster: return "MASTER";
    case State::kFault: return "FAULT";
    case State::kStop: return "STOP";
  }
  return "?";
}

const char* reasonName(Reason r) {
  switch (r) {
    case Reason::kStartup: return "startup";
    case Reason::kAddressOwner: return "address-owner";
    case Reason::kMasterDown: return "master-down-timer";
    case Reason::kMasterReleased: return "master-released";
    case Reason::kPreempt: return "preempt";
    case Reason::kHigherPriority: return "higher-priority-master";
    case Reason::kHigherAddress: return "equal-priority-higher-address";
    case Reason::kTrackerFault: return "tracker-fault";
    case Reason::kFaultCleared: return "fault-cleared";
    case Reason::kSyncGroup: return "sync-group";
    case Reason::kStop: return "stop";
    case Reason::kOperator: return "operator";
    case Reason::kResume: return "resume";
  }
  return "?";
}

const char* dropReasonName(DropReason r) {
  switch (r) {
    case DropReason::kNone: return "none";
    case DropReason::kTruncated: return "truncated";
    case DropReason::kOversize: return "oversize";
    case DropReason::kMalformed: return "malformed";
    case DropReason::kUnknownKey: return "unknown-key";
    case DropReason::kBadMac: return "bad-mac";
    case DropReason::kBadVersion: return "bad-version";
    case DropReason::kUnknownPeer: return "unknown-peer";
    case DropReason::kOwnPacket: return "own-packet";
    case DropReason::kWrongSource: return "wrong-source";
    case DropReason::kStale: return "stale";
    case DropReason::kReplayed: return "replayed";
    case DropReason::kUnknownInstance: return "unknown-instance";
    case DropReason::kBadTtl: return "bad-ttl";
    case DropReason::kBadChecksum: return "bad-checksum";
    case DropReason::kBadType: return "bad-type";
    case DropReason::kIntervalMismatch: return "interval-mismatch";
    case DropReason::kBadAuth: return "bad-auth";
    case DropReason::kWrongDestination: return "wrong-destination";
    case DropReason::kFragment: return "fragment";
  }
  return "?";
}

}  // namespace lvsd::heartbeat
