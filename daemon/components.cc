// The one list of what lvsd runs, in start order; stop is the reverse.
// Heartbeat starts last (a director takes VIPs only when its services are
// programmed) and stops first (VIPs are released before anything else goes).
#include "daemon/daemon.h"

namespace lvsd::daemon {

std::unique_ptr<Component> makeServicesComponent(Context& ctx);
std::unique_ptr<Component> makeSyncComponent(Context& ctx);
std::unique_ptr<Component> makeHeartbeatComponent(Context& ctx);

std::vector<ComponentFactory> componentFactories() {
  std::vector<ComponentFactory> list;
  list.push_back(makeServicesComponent);  // checks + feedback -> IPVS
  list.push_back(makeSyncComponent);      // kernel sync daemons, resync, peer channel
  list.push_back(makeHeartbeatComponent);  // election + VIPs: last to start, first to stop
  return list;
}

}  // namespace lvsd::daemon
