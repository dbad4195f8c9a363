#include "feedback/agent_core.h"

#include <algorithm>
#include <cctype>

#include "feedback/agent_protocol.h"

namespace lvsd::feedback {

Result<AdminState> parseStateFile(std::string_view text) {
  auto trim = [](std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    return s;
  };
  std::string_view line = trim(text.substr(0, text.find('\n')));
  AdminState st;
  if (line.empty()) return st;
  size_t sp = line.find_first_of(" \t");
  std::string word(line.substr(0, sp));
  std::transform(word.begin(), word.end(), word.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (sp != std::string_view::npos) st.reason = std::string(trim(line.substr(sp)));
  if (st.reason.size() > 200) st.reason.resize(200);
  if (word == "ready" || word == "up") {
    st.state = agent::READY;
  } else if (word == "drain") {
    st.state = agent::DRAIN;
  } else if (word == "down" || word == "maint") {
    st.state = agent::DOWN;
  } else {
    return Error("state file: unknown state '" + word + "' (want ready, drain or down)");
  }
  return st;
}

AgentCore::AgentCore(AgentOptions opts, double pageKb, std::string hostname)
    : opts_(opts),
      sampler_(opts.historySamples, pageKb, opts.keepFirst),
      hostname_(std::move(hostname)) {}

agent::AgentReport AgentCore::report(const agent::AgentRequest* req, TimePoint now) const {
  agent::AgentReport r;
  r.set_version(kAgentProtocolVersion);
  r.set_hostname(hostname_);
  r.set_sample_interval_ms(opts_.intervalMs);
  uint32_t samples = opts_.samples, interval = opts_.intervalMs;
  if (req && req->samples() > 0) samples = req->samples();
  if (req && req->sample_interval_ms() > 0) interval = req->sample_interval_ms();
  size_t n = samplesFor(samples, interval, opts_.intervalMs);
  if (opts_.keepFirst) ++n;  // the first reading is not dropped
  auto w = sampler_.window(n, now);
  if (w) {
    fillReport(*w, opts_.intervalMs, r);
    r.set_capacity_pct(capacityPct(*w, opts_.memoryShare));
  } else {
    r.set_valid(false);
    r.set_reason("sampler: " + w.error().message);
  }
  if (admin_.state != agent::READY) {
    r.set_state(admin_.state);
    r.set_reason("state-file" + (admin_.reason.empty() ? "" : ": " + admin_.reason));
  } else {
    r.set_state(agent::READY);
    if (!samplerError_.empty()) {
      // The agent cannot see its own host's load. That says nothing about
      // the service itself, so it is no data (configured weight), not down.
      r.set_valid(false);
      r.set_reason("sampler: " + samplerError_);
    }
  }
  return r;
}

}  // namespace lvsd::feedback
