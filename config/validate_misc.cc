// Connection sync, feedback (dynamic weights), notify hooks, control socket,
// metrics and IPVS globals.
#include <cmath>

#include "config/validate_internal.h"

namespace lvsd::config::detail {

namespace {

using rules::quote;

// IPVS keeps timeouts as seconds × HZ in an int; with HZ up to 1000 this
// bounds what the kernel accepts without overflow.
constexpr uint64_t kMaxIpvsTimeoutS = 2147483;

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

void validateKernelSync(Context& ctx, const KernelSync& k, const Located& at) {
  if (k.enabled() && k.interface().empty())
    ctx.error(at, "interface", "interface is required when kernel sync is enabled");
  else if (k.has_interface() && !rules::isInterfaceName(k.interface()))
    ctx.error(at, "interface", "invalid interface name " + quote(k.interface()));
  ctx.range(at, "sync_id", k.sync_id(), 0, 255);
  // The sync message must fit one UDP datagram.
  ctx.range(at, "maxlen", k.maxlen(), 0, 65507);
  ctx.range(at, "port", k.port(), 1, 65535);
  ctx.range(at, "ttl", k.ttl(), 1, 255);
  if (!k.has_mcast_group()) return;
  auto g = IpAddress::parse(k.mcast_group());
  if (!g) {
    ctx.error(at, "mcast_group", g.error().message);
    return;
  }
  if (!g->isMulticast()) {
    ctx.error(at, "mcast_group", "mcast_group " + g->toString() + " is not a multicast address");
    return;
  }
  // The directors reach each other over the heartbeat link on the same
  // interface in one family; the sync group must be of that family.
  for (const auto& l : ctx.config.heartbeat().link()) {
    auto fam = ctx.linkFamily.find(l.name());
    if (l.interface() != k.interface() || fam == ctx.linkFamily.end()) continue;
    if (fam->second != g->family())
      ctx.error(at, "mcast_group",
                "mcast_group " + g->toString() + " is " + familyName(g->family()) +
                    " but heartbeat link " + quote(l.name()) + " on interface " +
                    quote(l.interface()) + " uses " + familyName(fam->second));
    break;
  }
}

void validatePeerChannel(Context& ctx, const PeerChannel& p, const Located& at) {
  ctx.range(at, "port", p.port(), 1, 65535);
  for (const char* f : {"cert_file", "key_file", "ca_file"}) {
    const auto* fd = p.GetDescriptor()->FindFieldByName(f);
    if (p.GetReflection()->HasField(p, fd))
      ctx.absolutePath(at, f, p.GetReflection()->GetString(p, fd));
  }
  if (p.has_psk_hex()) {
    const std::string& s = p.psk_hex();
    if (!rules::isHex(s) || s.size() % 2 != 0 || s.size() < 32 || s.size() > 128)
      ctx.error(at, "psk_hex", "psk_hex must be 32..128 hex digits (16..64 bytes), an even count");
  }
  if (!p.enabled()) return;
  int certs = p.has_cert_file() + p.has_key_file() + p.has_ca_file();
  if (p.has_psk_hex() && certs > 0) {
    ctx.error(at, "psk_hex",
              "use either certificates (cert_file, key_file, ca_file) or psk_hex, not both");
  } else if (!p.has_psk_hex() && certs < 3) {
    std::string missing;
    for (const char* f : {"cert_file", "key_file", "ca_file"})
      if (!p.GetReflection()->HasField(p, p.GetDescriptor()->FindFieldByName(f)))
        missing += (missing.empty() ? "" : ", ") + std::string(f);
    ctx.error(at, "enabled",
              "the peer channel needs cert_file, key_file and ca_file, or psk_hex (missing " +
                  missing + ")");
  }
}

}  // namespace

void validateFeedback(Context& ctx, const Feedback& fb, const Located& at) {
  ctx.range(at, "agent_port", fb.agent_port(), 1, 65535);
  ctx.range(at, "poll_interval_ms", fb.poll_interval_ms(), 1, 86400000);
  ctx.range(at, "samples", fb.samples(), 1, 100);
  ctx.range(at, "sample_interval_ms", fb.sample_interval_ms(), 1, 3600000);
  uint64_t sampling = uint64_t{fb.samples()} * fb.sample_interval_ms();
  if (fb.samples() >= 1 && fb.sample_interval_ms() >= 1 && sampling > fb.poll_interval_ms())
    ctx.error(at, "poll_interval_ms",
              "samples × sample_interval_ms = " + std::to_string(fb.samples()) + " × " +
                  std::to_string(fb.sample_interval_ms()) + " = " + std::to_string(sampling) +
                  " ms does not fit in poll_interval_ms " + std::to_string(fb.poll_interval_ms()));
  ctx.range(at, "process_memory_kb", fb.process_memory_kb(), 1, 0xffffffffu);
  ctx.range(at, "connections_per_minute", fb.connections_per_minute(), 1, 0xffffffffu);
  if (!(fb.memory_share() >= 0.0 && fb.memory_share() <= 1.0))
    ctx.error(at, "memory_share", "memory_share " + num(fb.memory_share()) + " outside 0..1");
  if (!(fb.ewma_alpha() > 0.0 && fb.ewma_alpha() <= 1.0))
    ctx.error(at, "ewma_alpha", "ewma_alpha " + num(fb.ewma_alpha()) + " outside 0 < alpha <= 1");
  ctx.range(at, "max_step_pct", fb.max_step_pct(), 1, 100);
  ctx.range(at, "hysteresis_pct", fb.hysteresis_pct(), 0, 100);
  if (ctx.range(at, "max_weight", fb.max_weight(), 0, 65535) && fb.min_weight() > fb.max_weight())
    ctx.error(at, "min_weight",
              "min_weight " + std::to_string(fb.min_weight()) + " above max_weight " +
                  std::to_string(fb.max_weight()));
  ctx.range(at, "agent_timeout_ms", fb.agent_timeout_ms(), 1, 60000);
  ctx.range(at, "agent_fall", fb.agent_fall(), 1, 100);
  if (!(fb.blocked_threshold() > 0.0 && fb.blocked_threshold() <= 1000.0))
    ctx.error(at, "blocked_threshold",
              "blocked_threshold " + num(fb.blocked_threshold()) + " outside 0 < value <= 1000");
  if (!(fb.swap_out_threshold_kb_s() >= 0.0 && std::isfinite(fb.swap_out_threshold_kb_s())))
    ctx.error(at, "swap_out_threshold_kb_s",
              "swap_out_threshold_kb_s " + num(fb.swap_out_threshold_kb_s()) +
                  " must be a finite value >= 0");
  if (!(fb.adaptive_gain() > 0.0 && fb.adaptive_gain() <= 10.0))
    ctx.error(at, "adaptive_gain",
              "adaptive_gain " + num(fb.adaptive_gain()) + " outside 0 < gain <= 10");
  ctx.range(at, "min_update_interval_ms", fb.min_update_interval_ms(), 0, 86400000);
}

void validateNotify(Context& ctx, const Notify& n, const Located& at) {
  ctx.argv(at, "on_master", n.on_master(), false);
  ctx.argv(at, "on_backup", n.on_backup(), false);
  ctx.argv(at, "on_fault", n.on_fault(), false);
  ctx.argv(at, "on_stop", n.on_stop(), false);
  ctx.argv(at, "on_change", n.on_change(), false);
  ctx.range(at, "timeout_ms", n.timeout_ms(), 1, 3600000);
}

void validateSync(Context& ctx) {
  const Config& c = ctx.config;
  if (!c.has_sync()) return;
  Located at = ctx.root.child("sync");
  const Sync& s = c.sync();
  if (s.has_kernel()) validateKernelSync(ctx, s.kernel(), at.child("kernel"));
  if (s.has_resync() && s.resync().enabled())
    ctx.range(at.child("resync"), "max_pps", s.resync().max_pps(), 1, 10000000);
  if (s.has_peer_channel()) validatePeerChannel(ctx, s.peer_channel(), at.child("peer_channel"));
}

void validateGlobals(Context& ctx) {
  const Config& c = ctx.config;
  if (c.has_feedback()) validateFeedback(ctx, c.feedback(), ctx.root.child("feedback"));
  if (c.has_notify()) validateNotify(ctx, c.notify(), ctx.root.child("notify"));
  if (c.has_control()) {
    Located at = ctx.root.child("control");
    const std::string& path = c.control().socket();
    ctx.absolutePath(at, "socket", path);
    if (path.size() > 107)  // sizeof(sockaddr_un::sun_path) - 1
      ctx.error(at, "socket",
                "socket path of " + std::to_string(path.size()) +
                    " bytes is longer than a Unix socket allows (107)");
  }
  if (c.has_metrics() && c.metrics().has_listen()) {
    Located at = ctx.root.child("metrics");
    auto ep = Endpoint::parse(c.metrics().listen());
    if (!ep)
      ctx.error(at, "listen", ep.error().message + " (expected ip:port)");
    else if (ep->port() == 0)
      ctx.error(at, "listen", "listen port 0 outside 1..65535");
  }
  if (c.has_ipvs()) {
    Located at = ctx.root.child("ipvs");
    ctx.range(at, "tcp_timeout_s", c.ipvs().tcp_timeout_s(), 0, kMaxIpvsTimeoutS);
    ctx.range(at, "tcpfin_timeout_s", c.ipvs().tcpfin_timeout_s(), 0, kMaxIpvsTimeoutS);
    ctx.range(at, "udp_timeout_s", c.ipvs().udp_timeout_s(), 0, kMaxIpvsTimeoutS);
  }
}

}  // namespace lvsd::config::detail
