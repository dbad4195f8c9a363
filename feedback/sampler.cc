#include "feedback/sampler.h"

#include <algorithm>
#include <cmath>

namespace lvsd::feedback {

namespace {

double seconds(Duration d) { return std::chrono::duration<double>(d).count(); }

void gauges(const Reading& r, Sample& s) {
  s.runQueue = static_cast<double>(r.stat.procsRunning);
  s.blocked = static_cast<double>(r.stat.procsBlocked);
  s.swapped = r.swappedProcs;
  s.freeKb = static_cast<double>(r.mem.freeKb);
  s.availableKb = static_cast<double>(r.mem.availableKb);
}

bool cpuShares(const CpuTimes& d, Sample& s) {
  uint64_t total = d.total();
  if (total == 0) return false;
  s.cpuIdlePct = 100.0 * static_cast<double>(d.idle) / static_cast<double>(total);
  s.cpuIowaitPct = 100.0 * static_cast<double>(d.iowait) / static_cast<double>(total);
  return true;
}

}  // namespace

std::optional<Sample> sampleBetween(const Reading& prev, const Reading& cur, double pageKb) {
  double dt = seconds(cur.at - prev.at);
  if (!(dt > 0)) return std::nullopt;
  const CpuTimes& a = prev.stat.cpu;
  const CpuTimes& b = cur.stat.cpu;
  const uint64_t before[] = {a.user, a.nice, a.system, a.idle, a.iowait, a.irq, a.softirq, a.steal};
  const uint64_t after[] = {b.user, b.nice, b.system, b.idle, b.iowait, b.irq, b.softirq, b.steal};
  for (size_t i = 0; i < std::size(before); ++i)
    if (after[i] < before[i]) return std::nullopt;
  if (cur.vm.pswpout < prev.vm.pswpout || cur.vm.pswpin < prev.vm.pswpin) return std::nullopt;
  CpuTimes d{b.user - a.user,     b.nice - a.nice, b.system - a.system,   b.idle - a.idle,
             b.iowait - a.iowait, b.irq - a.irq,   b.softirq - a.softirq, b.steal - a.steal};
  Sample s;
  if (!cpuShares(d, s)) return std::nullopt;
  gauges(cur, s);
  s.swapOutKbS = static_cast<double>(cur.vm.pswpout - prev.vm.pswpout) * pageKb / dt;
  s.swapInKbS = static_cast<double>(cur.vm.pswpin - prev.vm.pswpin) * pageKb / dt;
  return s;
}

Sample sampleSinceBoot(const Reading& cur, double pageKb) {
  Sample s;
  gauges(cur, s);
  if (!cpuShares(cur.stat.cpu, s)) s.cpuIdlePct = 100;
  if (cur.uptimeS > 0) {
    s.swapOutKbS = static_cast<double>(cur.vm.pswpout) * pageKb / cur.uptimeS;
    s.swapInKbS = static_cast<double>(cur.vm.pswpin) * pageKb / cur.uptimeS;
  }
  return s;
}

Sampler::Sampler(size_t capacity, double pageKb, bool keepFirst)
    : capacity_(std::max<size_t>(capacity, 1)), pageKb_(pageKb), keepFirst_(keepFirst) {}

void Sampler::add(const Reading& r) {
  if (!prev_) {
    if (keepFirst_) ring_.push_back({sampleSinceBoot(r, pageKb_), r.at, r.at});
  } else if (auto s = sampleBetween(*prev_, r, pageKb_)) {
    ring_.push_back({*s, prev_->at, r.at});
  } else {
    ++skipped_;
  }
  prev_ = r;
  while (ring_.size() > capacity_) ring_.pop_front();
}

Result<Window> Sampler::window(size_t samples, TimePoint now) const {
  samples = std::max<size_t>(samples, 1);
  if (samples > capacity_)
    return Error("window of " + std::to_string(samples) + " samples exceeds the agent's history of " +
                 std::to_string(capacity_));
  if (ring_.size() < samples)
    return Error("warming up: " + std::to_string(ring_.size()) + " of " + std::to_string(samples) +
                 " samples");
  Window w;
  w.samples = samples;
  auto first = ring_.end() - static_cast<std::ptrdiff_t>(samples);
  for (auto it = first; it != ring_.end(); ++it) {
    const Sample& s = it->s;
    w.mean.runQueue += s.runQueue;
    w.mean.blocked += s.blocked;
    w.mean.swapped += s.swapped;
    w.mean.freeKb += s.freeKb;
    w.mean.availableKb += s.availableKb;
    w.mean.swapOutKbS += s.swapOutKbS;
    w.mean.swapInKbS += s.swapInKbS;
    w.mean.cpuIdlePct += s.cpuIdlePct;
    w.mean.cpuIowaitPct += s.cpuIowaitPct;
  }
  double n = static_cast<double>(samples);
  for (double* f : {&w.mean.runQueue, &w.mean.blocked, &w.mean.swapped, &w.mean.freeKb,
                    &w.mean.availableKb, &w.mean.swapOutKbS, &w.mean.swapInKbS, &w.mean.cpuIdlePct,
                    &w.mean.cpuIowaitPct})
    *f /= n;
  w.span = ring_.back().to - first->from;
  w.age = now > ring_.back().to ? now - ring_.back().to : Duration{0};
  w.latest = *prev_;
  return w;
}

size_t samplesFor(uint32_t requestedSamples, uint32_t requestedIntervalMs, uint32_t agentIntervalMs) {
  if (agentIntervalMs == 0) return 1;
  double spanMs = static_cast<double>(std::max<uint32_t>(requestedSamples, 2) - 1) *
                  static_cast<double>(requestedIntervalMs);
  double k = std::round(spanMs / static_cast<double>(agentIntervalMs));
  return static_cast<size_t>(std::max(1.0, k));
}

uint32_t capacityPct(const Window& w, double memoryShare) {
  double total = static_cast<double>(w.latest.mem.totalKb);
  double mem = total > 0 ? std::clamp(w.mean.availableKb / total, 0.0, 1.0) : 0.0;
  double cpu = std::clamp(w.mean.cpuIdlePct / 100.0, 0.0, 1.0);
  double pct = 100.0 * (memoryShare * mem + (1.0 - memoryShare) * cpu);
  return static_cast<uint32_t>(std::clamp(std::lround(pct), 1L, 100L));
}

void fillReport(const Window& w, uint32_t agentIntervalMs, agent::AgentReport& r) {
  r.set_valid(true);
  r.set_window_samples(static_cast<uint32_t>(w.samples));
  r.set_window_ms(static_cast<uint32_t>(toMillis(w.span)));
  r.set_age_ms(static_cast<uint32_t>(toMillis(w.age)));
  r.set_sample_interval_ms(agentIntervalMs);
  r.set_run_queue(w.mean.runQueue);
  r.set_blocked(w.mean.blocked);
  r.set_swapped(w.mean.swapped);
  r.set_free_kb(w.mean.freeKb);
  r.set_swap_out_kb_s(w.mean.swapOutKbS);
  r.set_cpu_idle_pct(w.mean.cpuIdlePct);
  r.set_mem_available_kb(w.mean.availableKb);
  r.set_swap_in_kb_s(w.mean.swapInKbS);
  r.set_cpu_iowait_pct(w.mean.cpuIowaitPct);
  r.set_load1(w.latest.load.load1);
  r.set_load5(w.latest.load.load5);
  r.set_load15(w.latest.load.load15);
  r.set_mem_total_kb(w.latest.mem.totalKb);
  r.set_cpus(w.latest.stat.cpus);
}

}  // namespace lvsd::feedback
