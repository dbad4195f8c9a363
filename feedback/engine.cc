#include "feedback/engine.h"

#include <fmt/format.h>

#include <cmath>

#include "config/config.h"

namespace lvsd::feedback {

using Kind = WeightUpdate::Kind;

const char* weightKindName(Kind k) {
  switch (k) {
    case Kind::kDynamic:
      return "dynamic";
    case Kind::kConfigured:
      return "configured";
    case Kind::kDown:
      return "down";
    case Kind::kDrain:
      return "drain";
  }
  return "?";
}

config::Feedback EngineSpec::effective(const config::Config& config, int serviceIndex) {
  config::Feedback fb = config.feedback();
  const auto& vs = config.virtual_service(serviceIndex);
  if (vs.has_feedback()) fb.MergeFrom(vs.feedback());  // set fields of the service win
  return fb;
}

Result<EngineSpec> EngineSpec::fromProto(const config::Config& config, int serviceIndex) {
  if (serviceIndex < 0 || serviceIndex >= config.virtual_service_size())
    return Error("no virtual service #" + std::to_string(serviceIndex));
  const auto& vs = config.virtual_service(serviceIndex);
  EngineSpec spec;
  spec.key = config::serviceKey(vs);
  spec.service = vs.name().empty() ? spec.key : vs.name();
  spec.serviceIndex = serviceIndex;
  spec.feedback = effective(config, serviceIndex);
  for (int i = 0; i < vs.real_server_size(); ++i) {
    const auto& rs = vs.real_server(i);
    auto ep = Endpoint::parse(rs.address(), vs.has_fwmark());
    if (!ep) return std::move(ep).takeError().context("service " + spec.service + " real_server");
    EngineServer s;
    s.address = *ep;
    uint32_t port = rs.agent_port() ? rs.agent_port() : spec.feedback.agent_port();
    if (port == 0 || port > 65535)
      return Error("service " + spec.service + " real_server " + rs.address() + ": agent port " +
                   std::to_string(port) + " outside 1..65535");
    s.agent = Endpoint(ep->address(), static_cast<uint16_t>(port));
    s.configuredWeight = rs.weight();
    s.realServerIndex = i;
    spec.servers.push_back(s);
  }
  return spec;
}

bool EngineSpec::sameAs(const EngineSpec& o) const {
  return service == o.service && key == o.key && serviceIndex == o.serviceIndex &&
         servers == o.servers &&
         feedback.SerializeAsString() == o.feedback.SerializeAsString();
}

ServiceEngine::ServiceEngine(EngineSpec spec)
    : spec_(std::move(spec)),
      params_(PolicyParams::fromProto(spec_.feedback)),
      policy_(makePolicy(spec_.feedback.policy(), params_)) {
  for (const auto& s : spec_.servers) {
    Server srv;
    srv.spec = s;
    srv.published = {Kind::kConfigured, s.configuredWeight};
    servers_.push_back(std::move(srv));
  }
  uint64_t poll = std::max<uint32_t>(spec_.feedback.poll_interval_ms(), 1);
  uint64_t minGap = spec_.feedback.min_update_interval_ms();
  minRoundsBetweenChanges_ = minGap == 0 ? 1 : (minGap + poll - 1) / poll;
}

void ServiceEngine::report(size_t i, const agent::AgentReport& r) {
  Server& s = servers_.at(i);
  s.last = r;
  s.failures = 0;
  s.lastError.clear();
}

void ServiceEngine::failure(size_t i, std::string why) {
  Server& s = servers_.at(i);
  ++s.failures;
  s.lastError = std::move(why);
}

ServerLoad ServiceEngine::loadOf(const Server& s) const {
  ServerLoad l;
  l.configuredWeight = s.spec.configuredWeight;
  if (!s.last || s.failures >= spec_.feedback.agent_fall()) return l;
  const agent::AgentReport& r = *s.last;
  if (!r.valid() || r.state() != agent::READY) return l;
  l.valid = true;
  bool useFree = spec_.feedback.memory_metric() == config::Feedback::MEM_FREE ||
                 r.mem_available_kb() <= 0;
  l.memoryKb = useFree ? r.free_kb() : r.mem_available_kb();
  l.memTotalKb = static_cast<double>(r.mem_total_kb());
  l.cpuIdlePct = r.cpu_idle_pct();
  l.cpus = r.cpus();
  l.runQueue = r.run_queue();
  l.blocked = r.blocked();
  l.swapOutKbS = r.swap_out_kb_s();
  return l;
}

WeightUpdate ServiceEngine::makeUpdate(const Server& s, const Published& to,
                                       const std::string& reason, const Published& from) const {
  WeightUpdate u;
  u.service = spec_.service;
  u.key = spec_.key;
  u.serviceIndex = spec_.serviceIndex;
  u.realServerIndex = s.spec.realServerIndex;
  u.realServer = s.spec.address;
  u.kind = to.kind;
  u.weight = to.weight;
  u.reason = reason;
  auto show = [](const Published& p) {
    switch (p.kind) {
      case Kind::kDown:
        return std::string("down");
      case Kind::kDrain:
        return std::string("drain");
      default:
        return std::to_string(p.weight);
    }
  };
  u.line = fmt::format("service={} rs={} weight {} -> {} reason={}", spec_.service,
                       s.spec.address.toString(), show(from), show(to), reason);
  ServerLoad l = loadOf(s);
  if (l.valid)
    u.line += fmt::format(" mem={:.0f} cpu={:.1f} b={:.2f} so={:.1f}", l.memoryKb, l.cpuIdlePct,
                          l.blocked, l.swapOutKbS);
  return u;
}

ServiceEngine::Round ServiceEngine::evaluate() {
  ++round_;
  Round out;
  std::vector<ServerLoad> loads;
  loads.reserve(servers_.size());
  for (const auto& s : servers_) loads.push_back(loadOf(s));
  // Rate limit: the policy runs at most once per min_update_interval. In
  // between, dynamic weights hold (an integrating policy must not act on
  // rounds whose output nobody applies); agent deaths, drains and downs are
  // never held back.
  bool policyRound = !lastPolicyRound_ || round_ - *lastPolicyRound_ >= minRoundsBetweenChanges_;
  std::vector<Decision> decisions(servers_.size());
  if (policyRound && policy_) {
    decisions = policy_->update(loads);
    lastPolicyRound_ = round_;
  } else if (!policyRound) {
    ++out.rateLimited;
    for (size_t i = 0; i < servers_.size(); ++i)
      if (loads[i].valid && servers_[i].published.kind == Kind::kDynamic)
        decisions[i] = {servers_[i].published.weight, Reason::kPolicy};
  }

  const uint32_t fall = spec_.feedback.agent_fall();
  for (size_t i = 0; i < servers_.size(); ++i) {
    Server& s = servers_[i];
    Published target{Kind::kConfigured, s.spec.configuredWeight};
    std::string reason;
    bool dead = s.failures >= fall;
    if (dead) {
      reason = "agent-unreachable: " + s.lastError;
      if (spec_.feedback.agent_is_health_check()) target = {Kind::kDown, 0};
    } else if (s.last && s.last->state() == agent::DOWN) {
      target = {Kind::kDown, 0};
      reason = "agent-down: " + s.last->reason();
    } else if (s.last && s.last->state() == agent::DRAIN) {
      target = {Kind::kDrain, 0};
      reason = "agent-drain: " + s.last->reason();
    } else if (decisions[i].weight) {
      target = {Kind::kDynamic, *decisions[i].weight};
      reason = decisions[i].reason == Reason::kStalled ? "stalled" : policy_->name();
    } else {
      reason = "no-data" + (s.last ? ": " + s.last->reason() : std::string());
    }
    if (target == s.published) continue;
    out.updates.push_back(makeUpdate(s, target, reason, s.published));
    if (target.kind == Kind::kConfigured) ++out.fallbacks;
    if (target.kind == Kind::kDown) ++out.downs;
    s.published = target;
  }
  return out;
}

std::vector<WeightUpdate> ServiceEngine::resetAll(const std::string& why) {
  std::vector<WeightUpdate> out;
  for (auto& s : servers_) {
    Published target{Kind::kConfigured, s.spec.configuredWeight};
    if (s.published == target) continue;
    out.push_back(makeUpdate(s, target, why, s.published));
    s.published = target;
  }
  return out;
}

std::vector<WeightUpdate> ServiceEngine::currentState(const std::string& why) const {
  std::vector<WeightUpdate> out;
  for (const auto& s : servers_)
    if (s.published.kind != Kind::kConfigured) out.push_back(makeUpdate(s, s.published, why, s.published));
  return out;
}

RealServerView ServiceEngine::view(size_t i) const {
  const Server& s = servers_.at(i);
  RealServerView v;
  v.address = s.spec.address;
  v.agent = s.spec.agent;
  v.kind = weightKindName(s.published.kind);
  v.weight = s.published.weight;
  v.configuredWeight = s.spec.configuredWeight;
  v.consecutiveFailures = s.failures;
  v.lastError = s.lastError;
  ServerLoad l = loadOf(s);
  v.memoryKb = l.memoryKb;
  v.cpuIdlePct = l.cpuIdlePct;
  return v;
}

}  // namespace lvsd::feedback
