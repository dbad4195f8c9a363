#include "config/diff.h"

#include <google/protobuf/util/message_differencer.h>

#include <map>

#include "config/config.h"
#include "core/address.h"

namespace lvsd::config {

namespace {

using google::protobuf::Message;
using google::protobuf::RepeatedPtrField;
using google::protobuf::util::MessageDifferencer;

bool same(const Message& a, const Message& b) {
  return MessageDifferencer::Equivalent(a, b);
}

// Diffs two keyed lists. `keyOf` gives an item's key; `equal` decides
// whether two items with the same key differ.
template <typename T, typename KeyOf, typename Equal>
void diffKeyed(const RepeatedPtrField<T>& before, const RepeatedPtrField<T>& after, KeyOf keyOf,
               Equal equal, const std::string& parent, std::vector<Change>& out) {
  std::map<std::string, const T*> oldByKey, newByKey;
  for (const auto& item : before) oldByKey.try_emplace(keyOf(item), &item);
  for (const auto& item : after) newByKey.try_emplace(keyOf(item), &item);
  for (const auto& item : before) {
    std::string key = keyOf(item);
    if (oldByKey[key] == &item && !newByKey.count(key))
      out.push_back({ChangeKind::kRemoved, key, parent});
  }
  for (const auto& item : after) {
    std::string key = keyOf(item);
    if (newByKey[key] != &item) continue;
    auto it = oldByKey.find(key);
    if (it == oldByKey.end())
      out.push_back({ChangeKind::kAdded, key, parent});
    else if (!equal(*it->second, item))
      out.push_back({ChangeKind::kChanged, key, parent});
  }
}

template <typename T>
void diffByName(const RepeatedPtrField<T>& before, const RepeatedPtrField<T>& after,
                std::vector<Change>& out) {
  diffKeyed(
      before, after, [](const T& m) { return m.name(); },
      [](const T& a, const T& b) { return same(a, b); }, "", out);
}

std::string realServerKey(const RealServer& rs) {
  auto ep = Endpoint::parse(rs.address(), /*allowNoPort=*/true);
  return ep ? ep->toString() : rs.address();
}

bool sameServiceAttributes(const VirtualService& a, const VirtualService& b) {
  VirtualService x = a, y = b;
  x.clear_real_server();
  y.clear_real_server();
  return same(x, y);
}

void section(bool changed, const char* name, std::string& out) {
  if (changed) out += std::string("~ ") + name + "\n";
}

}  // namespace

ConfigDiff diff(const Config& before, const Config& after) {
  ConfigDiff d;
  diffByName(before.director(), after.director(), d.directors);
  diffByName(before.instance(), after.instance(), d.instances);
  diffByName(before.sync_group(), after.sync_group(), d.syncGroups);
  diffByName(before.vip_group(), after.vip_group(), d.vipGroups);
  diffByName(before.tracker(), after.tracker(), d.trackers);
  diffByName(before.check(), after.check(), d.checks);
  diffKeyed(before.virtual_service(), after.virtual_service(), serviceKey, sameServiceAttributes,
            "", d.services);

  std::map<std::string, const VirtualService*> oldServices;
  for (const auto& vs : before.virtual_service()) oldServices.try_emplace(serviceKey(vs), &vs);
  std::map<std::string, bool> seen;
  for (const auto& vs : after.virtual_service()) {
    std::string key = serviceKey(vs);
    auto it = oldServices.find(key);
    if (it == oldServices.end() || !seen.emplace(key, true).second) continue;
    diffKeyed(
        it->second->real_server(), vs.real_server(), realServerKey,
        [](const RealServer& a, const RealServer& b) { return same(a, b); }, key, d.realServers);
  }

  d.heartbeat = !same(before.heartbeat(), after.heartbeat());
  d.sync = !same(before.sync(), after.sync());
  d.feedback = !same(before.feedback(), after.feedback());
  d.notify = !same(before.notify(), after.notify());
  d.control = !same(before.control(), after.control());
  d.metrics = !same(before.metrics(), after.metrics());
  d.ipvs = !same(before.ipvs(), after.ipvs());
  return d;
}

bool ConfigDiff::empty() const {
  return directors.empty() && instances.empty() && syncGroups.empty() && vipGroups.empty() &&
         trackers.empty() && checks.empty() && services.empty() && realServers.empty() &&
         !heartbeat && !sync && !feedback && !notify && !control && !metrics && !ipvs;
}

std::string ConfigDiff::toString() const {
  std::string out;
  auto list = [&out](const std::vector<Change>& changes, const char* what) {
    for (const auto& c : changes) {
      out += c.kind == ChangeKind::kAdded ? "+ " : c.kind == ChangeKind::kRemoved ? "- " : "~ ";
      out += what;
      out += " ";
      if (!c.parent.empty()) out += c.parent + " ";
      out += c.key + "\n";
    }
  };
  list(directors, "director");
  section(heartbeat, "heartbeat", out);
  list(instances, "instance");
  list(syncGroups, "sync_group");
  list(vipGroups, "vip_group");
  list(trackers, "tracker");
  list(checks, "check");
  list(services, "service");
  list(realServers, "real_server");
  section(sync, "sync", out);
  section(feedback, "feedback", out);
  section(notify, "notify", out);
  section(control, "control", out);
  section(metrics, "metrics", out);
  section(ipvs, "ipvs", out);
  return out;
}

}  // namespace lvsd::config
