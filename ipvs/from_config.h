#pragma once
// ipvs/ from the config's point of view: the kernel objects a validated
// config::VirtualService describes, before health checks and dynamic
// weights adjust them (the daemon does that on the returned values).

#include "ipvs/ipvs.h"
#include "proto/config.pb.h"

namespace lvsd::ipvs {

// The service key of a config entry ("tcp 192.0.2.10:80", "fwmark 7").
Result<ServiceKey> serviceKeyFromConfig(const config::VirtualService& vs);

// The service and every real server (all up, configured weights). A real
// server without a port takes the service's port, as ipvsadm does.
// Errors name the field: "virtual_service tcp/192.0.2.10:80: real_server[1]: ...".
Result<VirtualServer> virtualServerFromConfig(const config::VirtualService& vs);

// All virtual services of a config.
Result<Table> tableFromConfig(const config::Config& cfg);

// What a restarted lvsd can adopt: the configured destinations (as
// virtualServerFromConfig builds them: every real server up, at its
// configured weight) that `kernel` already holds in the same service with
// the same weight. A predecessor that left the table in place
// (`ipvs.on_stop: LEAVE`) put them there while their checks passed, so
// they start up and the reconciler plans no operation for them.
struct Present {
  ServiceKey service;
  Endpoint destination;
  bool operator==(const Present&) const = default;
};
std::vector<Present> presentAsConfigured(const Table& configured, const Table& kernel);

// Ownership mode and timeouts of the `ipvs` block.
Ownership ownershipFromConfig(const config::Config& cfg);
Timeouts timeoutsFromConfig(const config::Config& cfg);

}  // namespace lvsd::ipvs
