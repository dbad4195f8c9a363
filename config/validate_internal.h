#pragma once
// Private to config/: the validator's shared state and its sections. Each
// section (validate_*.cc) reports every problem it sees and never stops early;
// cross-references go through the name indexes built before any section runs,
// so the order of sections does not change what is reported.

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "config/located.h"
#include "config/rules.h"
#include "core/address.h"

namespace lvsd::config::detail {

// First definition of each name in one repeated section.
class NameIndex {
 public:
  // Records `name` defined at element `index`; returns false if already known.
  bool insert(const std::string& name, int index, std::pair<int, int> where) {
    return entries_.try_emplace(name, Entry{index, where}).second;
  }
  bool contains(const std::string& name) const { return entries_.count(name) != 0; }
  // Element index of the first definition, or -1.
  int find(const std::string& name) const {
    auto it = entries_.find(name);
    return it == entries_.end() ? -1 : it->second.index;
  }
  // "LINE:COL" of the first definition.
  std::string firstAt(const std::string& name) const;

 private:
  struct Entry {
    int index;
    std::pair<int, int> where;
  };
  std::unordered_map<std::string, Entry> entries_;
};

struct Context {
  Context(const Config& c, const Located& r, Diagnostics& o) : config(c), root(r), out(o) {}
  const Config& config;
  const Located& root;
  Diagnostics& out;

  NameIndex directors, links, instances, syncGroups, vipGroups, trackers, checks, services;
  // Address family spoken on each heartbeat link (from the first director
  // address that parses on it).
  std::unordered_map<std::string, Family> linkFamily;
  // Effective name of each virtual service (its name, else serviceKey()).
  std::vector<std::string> serviceNames;

  // Shorthands for reporting.
  void error(const Located& at, const std::string& field, std::string message) {
    out.add(at, field, std::move(message));
  }
  void error(const Located& at, const std::string& field, int index, std::string message) {
    out.add(at, field, index, std::move(message));
  }
  // "FIELD VALUE outside LO..HI" when value is outside [lo, hi]; returns ok.
  bool range(const Located& at, const std::string& field, uint64_t value, uint64_t lo, uint64_t hi);
  // Reports a missing or malformed identifier; returns ok.
  bool identifier(const Located& at, const std::string& field, const std::string& value,
                  const char* what);
  // The `name` of element `i` of a named section: a valid identifier, and
  // the first definition of that name in `index`.
  void uniqueName(const Located& at, const std::string& name, const char* what,
                  const NameIndex& index, int i);
  // Reports an argv whose program is missing or not an absolute path.
  void argv(const Located& at, const std::string& field,
            const google::protobuf::RepeatedPtrField<std::string>& argv, bool required);
  // Reports a path that is not absolute.
  void absolutePath(const Located& at, const std::string& field, const std::string& path);
};

// Builds every name index (first definition wins) before sections run.
void buildIndexes(Context& ctx);

void validateDirectors(Context& ctx);
void validateHeartbeat(Context& ctx);
void validateInstances(Context& ctx);
void validateSyncGroups(Context& ctx);
void validateVipGroups(Context& ctx);
void validateTrackers(Context& ctx);
void validateChecks(Context& ctx);
// One check definition (named in Config.check, or inline).
void validateCheck(Context& ctx, const Check& check, const Located& at);
// Check names referenced from `field` of `at` must exist.
void validateCheckRefs(Context& ctx, const Located& at, const std::string& field,
                       const google::protobuf::RepeatedPtrField<std::string>& names);
void validateServices(Context& ctx);
void validateFeedback(Context& ctx, const Feedback& fb, const Located& at);
void validateNotify(Context& ctx, const Notify& notify, const Located& at);
void validateSync(Context& ctx);
void validateGlobals(Context& ctx);  // control, metrics, ipvs, feedback, notify

// Heartbeat interval rules shared by the heartbeat and instance overrides.
void validateInterval(Context& ctx, const Located& at, const std::string& field,
                      uint32_t intervalMs);

const char* protocolName(Heartbeat::Protocol p);
const char* forwardingName(Forwarding f);

}  // namespace lvsd::config::detail
