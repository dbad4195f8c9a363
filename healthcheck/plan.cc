#include "healthcheck/plan.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include <map>
#include <set>
#include <unordered_map>

namespace lvsd::healthcheck {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

namespace {

void fillDefaults(Message* m) {
  const auto* d = m->GetDescriptor();
  const auto* r = m->GetReflection();
  for (int i = 0; i < d->field_count(); ++i) {
    const FieldDescriptor* f = d->field(i);
    if (f->is_repeated()) {
      if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE)
        for (int j = 0; j < r->FieldSize(*m, f); ++j) fillDefaults(r->MutableRepeatedMessage(m, f, j));
      continue;
    }
    if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      if (r->HasField(*m, f)) fillDefaults(r->MutableMessage(m, f));
      continue;
    }
    // Members of a oneof are the probe selection, not defaults.
    if (f->containing_oneof() || r->HasField(*m, f) || !f->has_default_value()) continue;
    switch (f->cpp_type()) {
      case FieldDescriptor::CPPTYPE_INT32: r->SetInt32(m, f, f->default_value_int32()); break;
      case FieldDescriptor::CPPTYPE_INT64: r->SetInt64(m, f, f->default_value_int64()); break;
      case FieldDescriptor::CPPTYPE_UINT32: r->SetUInt32(m, f, f->default_value_uint32()); break;
      case FieldDescriptor::CPPTYPE_UINT64: r->SetUInt64(m, f, f->default_value_uint64()); break;
      case FieldDescriptor::CPPTYPE_DOUBLE: r->SetDouble(m, f, f->default_value_double()); break;
      case FieldDescriptor::CPPTYPE_FLOAT: r->SetFloat(m, f, f->default_value_float()); break;
      case FieldDescriptor::CPPTYPE_BOOL: r->SetBool(m, f, f->default_value_bool()); break;
      case FieldDescriptor::CPPTYPE_ENUM: r->SetEnum(m, f, f->default_value_enum()); break;
      case FieldDescriptor::CPPTYPE_STRING: r->SetString(m, f, f->default_value_string()); break;
      default: break;
    }
  }
}

std::string serialize(const Message& m) {
  std::string out;
  google::protobuf::io::StringOutputStream sos(&out);
  google::protobuf::io::CodedOutputStream cos(&sos);
  cos.SetSerializationDeterministic(true);
  m.SerializeToCodedStream(&cos);
  return out;
}

}  // namespace

const char* probeKind(const config::Check& c) {
  switch (c.probe_case()) {
    case config::Check::kTcp: return "tcp";
    case config::Check::kHttp: return "http";
    case config::Check::kHttps: return "https";
    case config::Check::kUdp: return "udp";
    case config::Check::kDns: return "dns";
    case config::Check::kPing: return "ping";
    case config::Check::kExec: return "exec";
    case config::Check::kFile: return "file";
    case config::Check::PROBE_NOT_SET: break;
  }
  return "none";
}

config::Check canonicalCheck(const config::Check& check) {
  config::Check c = check;
  c.clear_name();
  c.clear_target();
  fillDefaults(&c);
  return c;
}

Result<Endpoint> resolveTarget(std::string_view target, const Endpoint& rs) {
  if (target.empty()) return rs;
  const std::string shown(target);
  std::string_view host;
  std::string_view port;
  bool portGiven = false;
  if (target.front() == '[') {
    // "[v6]", "[v6]:" or "[v6]:port"
    auto close = target.find(']');
    if (close == std::string_view::npos) return Error("missing ']' in target '" + shown + "'");
    host = target.substr(1, close - 1);
    auto rest = target.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return Error("junk after ']' in target '" + shown + "'");
      port = rest.substr(1);
      portGiven = true;
    }
  } else if (auto first = target.find(':'); first == std::string_view::npos) {
    host = target;  // bare IPv4
  } else if (target.find(':', first + 1) == std::string_view::npos) {
    // exactly one colon: "ip:port", "ip:" or ":port"
    host = target.substr(0, first);
    port = target.substr(first + 1);
    portGiven = true;
  } else {
    host = target;  // bare IPv6 ("::1" is an address, not a port)
  }
  IpAddress addr = rs.address();
  uint16_t p = rs.port();
  if (!host.empty()) {
    auto a = IpAddress::parse(host);
    if (!a) return Error(a.error().message).context("target");
    addr = *a;
  } else if (!portGiven || port.empty()) {
    return Error("target '" + shown + "' names neither an address nor a port");
  }
  if (!port.empty()) {
    auto n = parseUnsigned(port, 65535);
    if (!n || *n == 0) return Error("invalid port '" + std::string(port) + "' in target (1..65535)");
    p = static_cast<uint16_t>(*n);
  }
  return Endpoint(addr, p);
}

Result<Plan> buildPlan(const config::Config& config) {
  Plan plan;
  std::map<std::string, const config::Check*> named;
  for (const auto& c : config.check()) named[c.name()] = &c;
  std::unordered_map<std::string, size_t> byKey;

  auto addCheck = [&](const config::Check& def, const Endpoint& rs) -> Result<size_t> {
    if (def.probe_case() == config::Check::PROBE_NOT_SET)
      return Error("check '" + def.name() + "' has no probe");
    auto target = resolveTarget(def.target(), rs);
    if (!target) return std::move(target).takeError();
    // A file's content does not depend on the server: one reader per file.
    if (def.probe_case() == config::Check::kFile) *target = Endpoint();
    // ICMP has no port.
    if (def.probe_case() == config::Check::kPing) *target = Endpoint(target->address(), 0);
    config::Check canon = canonicalCheck(def);
    std::string key = target->toString() + "|" + serialize(canon);
    auto [it, inserted] = byKey.emplace(key, plan.checks.size());
    if (inserted) {
      CheckSpec s;
      s.key = std::move(key);
      s.def = std::move(canon);
      s.kind = probeKind(def);
      s.name = def.name().empty() ? s.kind : def.name();
      s.target = *target;
      plan.checks.push_back(std::move(s));
    }
    return it->second;
  };

  for (int v = 0; v < config.virtual_service_size(); ++v) {
    const auto& vs = config.virtual_service(v);
    auto spec = PoolSpec::fromProto(vs, v);
    if (!spec) return Error(spec.error().message).context("virtual_service[" + std::to_string(v) + "]");
    PoolPlan pp;
    pp.spec = std::move(*spec);
    for (int r = 0; r < vs.real_server_size(); ++r) {
      const auto& rs = vs.real_server(r);
      const Endpoint& ep = pp.spec.realServers[r].address;
      const bool own = rs.check_size() > 0 || rs.inline_check_size() > 0;
      const auto& names = own ? rs.check() : vs.check();
      const auto& inl = own ? rs.inline_check() : vs.inline_check();
      std::vector<size_t> ids;
      std::string where = pp.spec.service + " real_server " + ep.toString();
      for (const auto& n : names) {
        auto it = named.find(n);
        if (it == named.end()) return Error("unknown check '" + n + "'").context(where);
        auto id = addCheck(*it->second, ep);
        if (!id) return std::move(id).takeError().context(where);
        ids.push_back(*id);
      }
      for (const auto& c : inl) {
        auto id = addCheck(c, ep);
        if (!id) return std::move(id).takeError().context(where);
        ids.push_back(*id);
      }
      pp.checks.push_back(std::move(ids));
    }
    plan.pools.push_back(std::move(pp));
  }
  return plan;
}

std::vector<bool> adoptedChecks(const Plan& plan, const std::vector<AdoptedServer>& adopted) {
  std::set<AdoptedServer> set(adopted.begin(), adopted.end());
  std::vector<bool> out(plan.checks.size(), false);
  for (const auto& pool : plan.pools)
    for (size_t r = 0; r < pool.checks.size(); ++r) {
      if (!set.count({pool.spec.key, pool.spec.realServers[r].address})) continue;
      for (size_t id : pool.checks[r]) out.at(id) = true;
    }
  return out;
}

}  // namespace lvsd::healthcheck
