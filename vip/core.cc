#include "vip/core.h"

#include <algorithm>

namespace lvsd::vip {

std::string VipSpec::toString() const {
  std::string s = prefix.toString() + " dev " + interface;
  if (!label.empty()) s += " label " + label;
  return s;
}

void AnnounceSchedule::startBurst(TimePoint first, const AnnounceSpec& spec) {
  left_ = spec.repeat;
  if (left_ > 0) next_ = first;
  else if (spec.refresh.count() > 0) next_ = first + spec.refresh;
  else next_.reset();
}

bool AnnounceSchedule::take(TimePoint now, const AnnounceSpec& spec) {
  if (!next_ || *next_ > now) return false;
  if (left_ > 1) {
    --left_;
    // Keep the cadence, but never catch up with a burst after a stall.
    TimePoint n = *next_ + spec.interval;
    next_ = n > now ? n : now + spec.interval;
  } else {
    left_ = 0;
    if (spec.refresh.count() > 0) next_ = now + spec.refresh;
    else next_.reset();
  }
  return true;
}

VipCore::Group* VipCore::find(const std::string& name) {
  for (auto& g : groups_)
    if (g.spec.name == name) return &g;
  return nullptr;
}

std::vector<Op> VipCore::acquire(const std::string& name, TimePoint now) {
  std::vector<Op> out;
  Group* g = find(name);
  if (!g || g->held) return out;
  g->held = true;
  g->failed.clear();
  g->retryAt.reset();
  for (const auto& v : g->spec.vips) out.push_back({Op::Kind::kAdd, v});
  g->schedule.startBurst(now + g->spec.announce.delay, g->spec.announce);
  return out;
}

std::vector<Op> VipCore::release(const std::string& name, TimePoint now) {
  std::vector<Op> out;
  Group* g = find(name);
  if (!g) return out;
  g->held = false;
  g->schedule.stop();
  g->failed.clear();
  g->retryAt.reset();
  for (const auto& v : g->spec.vips) out.push_back({Op::Kind::kRemove, v});
  return out;
}

std::vector<Op> VipCore::reannounce(const std::string& name, TimePoint now) {
  std::vector<Op> out;
  Group* g = find(name);
  if (!g || !g->held) return out;
  g->schedule.startBurst(now, g->spec.announce);
  return out;
}

std::vector<Op> VipCore::update(std::vector<GroupSpec> specs, TimePoint now) {
  std::vector<Op> out;
  std::vector<Group> next;
  for (auto& spec : specs) {
    Group g;
    g.spec = std::move(spec);
    if (Group* old = find(g.spec.name); old && old->held) {
      g.held = true;
      g.schedule = old->schedule;
      g.retryAt = old->retryAt;
      for (const auto& v : old->spec.vips)
        if (std::find(g.spec.vips.begin(), g.spec.vips.end(), v) == g.spec.vips.end())
          out.push_back({Op::Kind::kRemove, v});
      bool added = false;
      for (const auto& v : g.spec.vips) {
        if (std::find(old->spec.vips.begin(), old->spec.vips.end(), v) != old->spec.vips.end()) {
          if (std::find(old->failed.begin(), old->failed.end(), v) != old->failed.end())
            g.failed.push_back(v);
          continue;
        }
        out.push_back({Op::Kind::kAdd, v});
        added = true;
      }
      if (added) g.schedule.startBurst(now + g.spec.announce.delay, g.spec.announce);
    }
    next.push_back(std::move(g));
  }
  // Held groups that left the config give their addresses back.
  for (const auto& old : groups_) {
    if (!old.held) continue;
    bool kept = std::any_of(next.begin(), next.end(),
                            [&](const Group& g) { return g.spec.name == old.spec.name; });
    if (!kept)
      for (const auto& v : old.spec.vips) out.push_back({Op::Kind::kRemove, v});
  }
  groups_ = std::move(next);
  return out;
}

std::vector<Op> VipCore::releaseAll() {
  std::vector<Op> out;
  for (auto& g : groups_) {
    if (!g.held) continue;
    auto ops = release(g.spec.name, TimePoint{});
    out.insert(out.end(), ops.begin(), ops.end());
  }
  return out;
}

void VipCore::announceAll(Group& g, std::vector<Op>& out) {
  for (const auto& v : g.spec.vips)
    if (std::find(g.failed.begin(), g.failed.end(), v) == g.failed.end())
      out.push_back({Op::Kind::kAnnounce, v});
}

std::vector<Op> VipCore::due(TimePoint now) {
  std::vector<Op> out;
  for (auto& g : groups_) {
    if (!g.held) continue;
    if (g.retryAt && *g.retryAt <= now) {
      g.retryAt.reset();
      for (const auto& v : g.failed) out.push_back({Op::Kind::kAdd, v});
      if (!g.failed.empty()) {
        g.failed.clear();
        // Announce what the retry brought back, starting now.
        g.schedule.startBurst(now, g.spec.announce);
      }
    }
    if (g.schedule.take(now, g.spec.announce)) announceAll(g, out);
  }
  return out;
}

void VipCore::addFailed(const VipSpec& vip, TimePoint now) {
  for (auto& g : groups_) {
    if (!g.held) continue;
    if (std::find(g.spec.vips.begin(), g.spec.vips.end(), vip) == g.spec.vips.end()) continue;
    if (std::find(g.failed.begin(), g.failed.end(), vip) == g.failed.end()) g.failed.push_back(vip);
    if (!g.retryAt) g.retryAt = now + kRetry;
  }
}

std::optional<TimePoint> VipCore::nextDeadline() const {
  std::optional<TimePoint> best;
  auto consider = [&](std::optional<TimePoint> t) {
    if (t && (!best || *t < *best)) best = t;
  };
  for (const auto& g : groups_) {
    if (!g.held) continue;
    consider(g.schedule.next());
    consider(g.retryAt);
  }
  return best;
}

std::vector<std::string> VipCore::held() const {
  std::vector<std::string> out;
  for (const auto& g : groups_)
    if (g.held) out.push_back(g.spec.name);
  return out;
}

}  // namespace lvsd::vip
