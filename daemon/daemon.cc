#include "daemon/daemon.h"

#include <google/protobuf/util/json_util.h>

#include <chrono>
#include <csignal>

#ifdef LVSD_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "core/log.h"
#include "daemon/privileges.h"

namespace lvsd::daemon {

namespace {
auto daemonLog() { return logger("daemon"); }
}  // namespace

Daemon::Daemon(Options opts, config::ConfigPtr cfg)
    : opts_(std::move(opts)),
      signals_(io_),
      events_(SystemClock::instance()),
      control_(io_, events_),
      metrics_(io_, LVSD_VERSION),
      watchdog_(io_),
      ctx_{io_, SystemClock::instance(), events_, control_, bus_, opts_.director, opts_.dryRun},
      cfg_(std::move(cfg)) {
  ctx_.metrics = &metrics_.families();
}

Daemon::~Daemon() {
  // Let handlers that were aborted by stop() run to completion (and release
  // what they hold) while every object they refer to is still alive.
  requestStop();
  io_.restart();
  io_.poll();
  components_.clear();
}

int Daemon::run() {
  startedUnixMs_ = std::chrono::duration_cast<std::chrono::milliseconds>(
                       SystemClock::instance().wallNow().time_since_epoch())
                       .count();
  const std::string& socket =
      opts_.controlSocket.empty() ? cfg_->proto.control().socket() : opts_.controlSocket;
  if (auto s = control_.listen(socket); !s) {
    daemonLog()->critical("{}", s.error().message);
    return kExitControl;
  }
  // Metrics endpoint: off unless config.metrics.listen is set.
  metrics_.families().startTime.labels({}).set(static_cast<double>(startedUnixMs_) / 1000);
  metrics_.families().configGeneration.labels({}).set(static_cast<double>(generation_));
  if (auto s = metrics_.apply(cfg_->proto); !s) {
    daemonLog()->critical("{}", s.error().message);
    control_.close();
    return kExitMetrics;
  }
  control_.handle(control::Request::kStatus, [this](const control::Request&) { return status(); });
  control_.handle(control::Request::kReload, [this](const control::Request& r) {
    return reload(r.reload().plan_only());
  });
  control_.handle(control::Request::kDump, [this](const control::Request&) {
    control::Response r = status();
    std::string json;
    google::protobuf::util::JsonPrintOptions o;
    o.add_whitespace = true;
    o.preserve_proto_field_names = true;
    (void)google::protobuf::util::MessageToJsonString(r.status(), &json, o);
    r.set_json(json);
    return r;
  });

  for (auto& make : componentFactories()) components_.push_back(make(ctx_));
  for (auto& c : components_) {
    if (auto s = c->start(cfg_); !s) {
      daemonLog()->critical("start {}: {}", c->name(), s.error().message);
      for (size_t i = started_; i-- > 0;) components_[i]->stop(true);
      control_.close();
      return kExitStart;
    }
    ++started_;
  }
  if (auto s = dropPrivileges(); !s) {
    daemonLog()->critical("{}", s.error().message);
    for (size_t i = started_; i-- > 0;) components_[i]->stop(true);
    control_.close();
    return kExitPrivileges;
  }
  armSignals();
  daemonLog()->info("started director={} config={} digest={} components={}", opts_.director,
              cfg_->file, cfg_->digest.substr(0, 12), components_.size());
  events_.transition("daemon", opts_.director, "STARTING", "RUNNING", "start", "");
  notifySystemd("READY=1");
  watchdog_.start();
  io_.run();
  return kExitOk;
}

// Everything is bound, open and running: keep only what lvsd still needs
// (daemon/privileges.h; docs/operations.md "Privileges").
Status Daemon::dropPrivileges() {
  auto needs = privileges::needed(cfg_->proto);
  // no_new_privs: hooks and exec checks run as root, so setuid-root programs
  // and file capabilities could give them nothing the bounding set does not
  // already deny; it changes only programs setuid to another user (they run
  // as root) and LSM domain transitions on exec. The unit sets
  // NoNewPrivileges=yes too.
  auto r = privileges::drop(privileges::maskOf(needs), true);
  if (!r) return Error("dropping capabilities: " + r.error().message);
  if (!r->held) {
    daemonLog()->info("capabilities: none held (not root), nothing to drop");
    return okStatus();
  }
  for (const auto& n : needs)
    if ((r->kept >> n.cap) & 1) daemonLog()->info("capabilities: keeping {}: {}", privileges::capName(n.cap), n.why);
  daemonLog()->info("capabilities: kept {} in {} thread(s); dropped {}; bounding set {}; no_new_privs={}",
              privileges::capNames(r->kept), r->threads, privileges::capNames(r->dropped),
              r->bounding ? privileges::capNames(r->boundingAfter)
                          : "unchanged (no cap_setpcap: " + privileges::capNames(r->boundingAfter) + ")",
              r->noNewPrivs ? 1 : 0);
  return okStatus();
}

void Daemon::armSignals() {
  for (int sig : {SIGHUP, SIGTERM, SIGINT, SIGUSR1}) signals_.add(sig);
  signals_.async_wait([this](auto ec, int sig) { onSignal(ec, sig); });
}

void Daemon::onSignal(const boost::system::error_code& ec, int sig) {
  if (ec) return;
  switch (sig) {
    case SIGHUP:
      daemonLog()->info("SIGHUP: reloading {}", opts_.configPath);
      (void)reload(false);
      break;
    case SIGTERM:
    case SIGINT:
      daemonLog()->info("{}: stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT");
      requestStop();
      return;
    case SIGUSR1:
      dumpState();
      break;
  }
  signals_.async_wait([this](auto e, int s) { onSignal(e, s); });
}

void Daemon::requestStop() {
  if (stopping_) return;
  if (!started_ && components_.empty() && control_.path().empty()) return;
  stopping_ = true;
  notifySystemd("STOPPING=1");
  bool leave = cfg_->proto.ipvs().on_stop() == config::Ipvs::LEAVE;
  for (size_t i = started_; i-- > 0;) {
    components_[i]->stop(leave);
    daemonLog()->debug("stopped {}", components_[i]->name());
  }
  started_ = 0;
  events_.transition("daemon", opts_.director, "RUNNING", "STOPPED", "signal", "");
  watchdog_.stop();
  metrics_.stop();
  control_.close();
  signals_.cancel();
  io_.stop();
}

control::Response Daemon::reload(bool planOnly) {
  control::Response resp;
  notifySystemd("RELOADING=1");
  auto loaded = config::loadFile(opts_.configPath);
  if (!loaded.ok()) {
    daemonLog()->error("reload rejected, keeping generation {} ({} error(s)):", generation_,
                 loaded.errors.size());
    for (const auto& d : loaded.errors) {
      daemonLog()->error("  {}", d.toString());
      resp.add_error(d.toString());
    }
    control::Event e;
    e.set_module("daemon");
    e.set_kind("reload");
    e.set_subject(opts_.configPath);
    e.set_reason("rejected: " + std::to_string(loaded.errors.size()) + " error(s)");
    events_.publish(std::move(e));
    resp.set_ok(false);
    metrics_.families().reloads.labels({"rejected"}).inc();
    notifySystemd("READY=1");
    return resp;
  }
  if (!config::findDirector(loaded.config->proto, opts_.director)) {
    std::string msg = opts_.configPath + ": director '" + opts_.director + "' is not defined";
    daemonLog()->error("reload rejected: {}", msg);
    resp.add_error(msg);
    resp.set_ok(false);
    metrics_.families().reloads.labels({"rejected"}).inc();
    notifySystemd("READY=1");
    return resp;
  }
  auto* result = resp.mutable_reload();
  if (planOnly) {
    result->set_generation(generation_);
    result->set_applied(false);
    if (loaded.config->digest == cfg_->digest) result->add_operation("no changes");
    resp.set_ok(true);
    notifySystemd("READY=1");
    return resp;
  }
  auto old = cfg_;
  cfg_ = loaded.config;
  bool allOk = true;
  for (size_t i = 0; i < started_; ++i) {
    if (auto s = components_[i]->reload(old, cfg_); !s) {
      allOk = false;
      daemonLog()->error("reload {}: {}", components_[i]->name(), s.error().message);
      resp.add_error(std::string(components_[i]->name()) + ": " + s.error().message);
    }
  }
  ++generation_;
  metrics_.families().configGeneration.labels({}).set(static_cast<double>(generation_));
  if (auto s = metrics_.apply(cfg_->proto); !s) {  // moved, switched on or off
    allOk = false;
    daemonLog()->error("reload: {}", s.error().message);
    resp.add_error(s.error().message);
  }
  metrics_.families().reloads.labels({allOk ? "applied" : "applied_with_errors"}).inc();
  result->set_generation(generation_);
  result->set_applied(true);
  resp.set_ok(allOk);
  daemonLog()->info("reload applied generation={} digest={} -> {}", generation_,
              old->digest.substr(0, 12), cfg_->digest.substr(0, 12));
  control::Event e;
  e.set_module("daemon");
  e.set_kind("reload");
  e.set_subject(opts_.configPath);
  e.set_from(old->digest.substr(0, 12));
  e.set_to(cfg_->digest.substr(0, 12));
  e.set_reason(allOk ? "applied" : "applied with errors");
  events_.publish(std::move(e));
  notifySystemd("READY=1");
  return resp;
}

control::Response Daemon::status() const {
  control::Response r;
  r.set_ok(true);
  auto* s = r.mutable_status();
  s->set_director(opts_.director);
  s->set_version(LVSD_VERSION);
  s->set_config_file(cfg_->file);
  s->set_config_digest(cfg_->digest);
  s->set_config_generation(generation_);
  s->set_started_unix_ms(startedUnixMs_);
  s->set_ipvs_backend(opts_.dryRun || cfg_->proto.ipvs().backend() == config::Ipvs::DRY_RUN
                          ? "dry-run"
                          : "netlink");
  for (size_t i = 0; i < started_; ++i) components_[i]->fillStatus(*s);
  return r;
}

void Daemon::dumpState() const {
  std::vector<std::string> lines;
  lines.push_back("director=" + opts_.director + " generation=" + std::to_string(generation_) +
                  " digest=" + cfg_->digest + " control_requests=" +
                  std::to_string(control_.requests()) +
                  " control_bad_frames=" + std::to_string(control_.badFrames()));
  for (size_t i = 0; i < started_; ++i) components_[i]->dumpState(lines);
  for (const auto& l : lines) daemonLog()->info("state: {}", l);
}

void Daemon::notifySystemd(const std::string& state) const {
#ifdef LVSD_HAVE_SYSTEMD
  sd_notify(0, state.c_str());
#else
  (void)state;
#endif
}

}  // namespace lvsd::daemon
