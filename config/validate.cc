// Semantic validation: every rule, every error, each with its location.
// The sections live in validate_*.cc; this file holds the shared helpers, the
// name indexes and the order in which sections run.
#include "config/validate_internal.h"

namespace lvsd::config {

namespace detail {

std::string NameIndex::firstAt(const std::string& name) const {
  auto it = entries_.find(name);
  if (it == entries_.end()) return "?";
  return std::to_string(it->second.where.first) + ":" + std::to_string(it->second.where.second);
}

bool Context::range(const Located& at, const std::string& field, uint64_t value, uint64_t lo,
                    uint64_t hi) {
  if (value >= lo && value <= hi) return true;
  error(at, field,
        field + " " + std::to_string(value) + " outside " + std::to_string(lo) + ".." +
            std::to_string(hi));
  return false;
}

bool Context::identifier(const Located& at, const std::string& field, const std::string& value,
                         const char* what) {
  if (value.empty()) {
    error(at, field, std::string(what) + " " + field + " is required");
    return false;
  }
  if (!rules::isIdentifier(value)) {
    error(at, field,
          std::string(what) + " " + field + " " + rules::quote(value) +
              " is not 1..64 characters of [A-Za-z0-9_.-]");
    return false;
  }
  return true;
}

void Context::uniqueName(const Located& at, const std::string& name, const char* what,
                         const NameIndex& index, int i) {
  if (identifier(at, "name", name, what) && index.find(name) != i)
    error(at, "name",
          std::string("duplicate ") + what + " " + rules::quote(name) + " (first defined at " +
              index.firstAt(name) + ")");
}

void Context::argv(const Located& at, const std::string& field,
                   const google::protobuf::RepeatedPtrField<std::string>& args, bool required) {
  if (args.empty()) {
    if (required) error(at, field, field + " is required (the program and its arguments)");
    return;
  }
  if (!rules::isAbsolutePath(args[0]))
    error(at, field, 0,
          "program " + rules::quote(args[0]) +
              " is not an absolute path (argv runs without a shell or PATH)");
}

void Context::absolutePath(const Located& at, const std::string& field, const std::string& path) {
  if (path.empty())
    error(at, field, field + " is required");
  else if (!rules::isAbsolutePath(path))
    error(at, field, field + " " + rules::quote(path) + " is not an absolute path");
}

const char* protocolName(Heartbeat::Protocol p) {
  return Heartbeat::Protocol_Name(p).c_str();
}
const char* forwardingName(Forwarding f) {
  return Forwarding_Name(f).c_str();
}

namespace {

// Indexes one repeated section by name; unnamed entries are skipped (their
// own section reports the missing name).
template <typename T, typename NameOf>
void indexNames(NameIndex& index, const Located& parent, const std::string& field,
                const google::protobuf::RepeatedPtrField<T>& items, NameOf nameOf) {
  for (int i = 0; i < items.size(); ++i) {
    std::string name = nameOf(items[i]);
    if (name.empty()) continue;
    Located at = parent.child(field, i);
    index.insert(name, i, at.where("name"));
  }
}

}  // namespace

void buildIndexes(Context& ctx) {
  const Config& c = ctx.config;
  auto byName = [](const auto& m) { return m.name(); };
  indexNames(ctx.directors, ctx.root, "director", c.director(), byName);
  indexNames(ctx.links, ctx.root.child("heartbeat"), "link", c.heartbeat().link(), byName);
  indexNames(ctx.instances, ctx.root, "instance", c.instance(), byName);
  indexNames(ctx.syncGroups, ctx.root, "sync_group", c.sync_group(), byName);
  indexNames(ctx.vipGroups, ctx.root, "vip_group", c.vip_group(), byName);
  indexNames(ctx.trackers, ctx.root, "tracker", c.tracker(), byName);
  indexNames(ctx.checks, ctx.root, "check", c.check(), byName);
  for (const auto& vs : c.virtual_service())
    ctx.serviceNames.push_back(vs.has_name() ? vs.name() : serviceKey(vs));
  for (int i = 0; i < c.virtual_service_size(); ++i) {
    Located at = ctx.root.child("virtual_service", i);
    ctx.services.insert(ctx.serviceNames[i], i,
                        c.virtual_service(i).has_name() ? at.where("name") : at.self());
  }
  // A link's family is the family of the first director address on it that
  // parses; validateDirectors reports addresses of the other family.
  for (const auto& d : c.director()) {
    for (const auto& la : d.address()) {
      auto a = IpAddress::parse(la.address());
      if (a && ctx.links.contains(la.link())) ctx.linkFamily.try_emplace(la.link(), a->family());
    }
  }
}

}  // namespace detail

void validate(const Config& config, const Located& root, Diagnostics& out) {
  detail::Context ctx(config, root, out);
  detail::buildIndexes(ctx);
  detail::validateDirectors(ctx);
  detail::validateHeartbeat(ctx);
  detail::validateInstances(ctx);
  detail::validateSyncGroups(ctx);
  detail::validateVipGroups(ctx);
  detail::validateTrackers(ctx);
  detail::validateChecks(ctx);
  detail::validateServices(ctx);
  detail::validateSync(ctx);
  detail::validateGlobals(ctx);
}

}  // namespace lvsd::config
