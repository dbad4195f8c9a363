#pragma once
// Probes: the I/O half of a check. A probe runs one attempt at a time on the
// io_context and reports a ProbeResult; interval, timeout, retries and
// thresholds belong to the checker base (checker.h, runner.h).

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>

#include <functional>
#include <map>
#include <memory>
#include <random>
#include <string>

#include "core/result.h"
#include "healthcheck/checker.h"
#include "healthcheck/plan.h"

namespace lvsd::healthcheck {

class Probe {
 public:
  using Done = std::function<void(ProbeResult)>;
  virtual ~Probe() = default;
  // Starts one attempt. `done` runs exactly once, from the io_context and
  // never from inside start(), unless cancel() comes first.
  virtual void start(Done done) = 0;
  // Abandons the attempt in flight (timeout, stop): sockets are closed,
  // processes killed; `done` is not called.
  virtual void cancel() = 0;
};

// TLS client contexts shared by every HTTPS check with the same
// verification settings (loading a CA file once, not per attempt).
class TlsContexts {
 public:
  Result<std::shared_ptr<boost::asio::ssl::context>> get(bool verify, const std::string& caFile);

 private:
  std::map<std::pair<bool, std::string>, std::shared_ptr<boost::asio::ssl::context>> cache_;
};

class SeededRng final : public Rng {
 public:
  explicit SeededRng(uint64_t seed);
  double uniform() override;
  uint64_t next64() override { return engine_(); }

 private:
  std::mt19937_64 engine_;
};

struct ProbeEnv {
  boost::asio::io_context& io;
  Rng& rng;
  TlsContexts& tls;
};

// The probe for `spec` (its kind, target and settings); errors for settings
// validation should have refused (bad regex, unknown DNS type, ...).
Result<std::unique_ptr<Probe>> makeProbe(const CheckSpec& spec, ProbeEnv& env);

// Individual factories (probes.cc, icmp_probe.cc, exec_probe.cc).
Result<std::unique_ptr<Probe>> makeTcpProbe(const CheckSpec& spec, ProbeEnv& env);
Result<std::unique_ptr<Probe>> makeHttpProbe(const CheckSpec& spec, ProbeEnv& env, bool tls);
Result<std::unique_ptr<Probe>> makeUdpProbe(const CheckSpec& spec, ProbeEnv& env);
Result<std::unique_ptr<Probe>> makeDnsProbe(const CheckSpec& spec, ProbeEnv& env);
Result<std::unique_ptr<Probe>> makePingProbe(const CheckSpec& spec, ProbeEnv& env);
Result<std::unique_ptr<Probe>> makeExecProbe(const CheckSpec& spec, ProbeEnv& env);
Result<std::unique_ptr<Probe>> makeFileProbe(const CheckSpec& spec, ProbeEnv& env);

// Shared plumbing: one attempt object per start(); its handlers keep it
// alive, and cancel() detaches the callback so late completions are dropped.
class Attempt : public std::enable_shared_from_this<Attempt> {
 public:
  explicit Attempt(Probe::Done done) : done_(std::move(done)) {}
  virtual ~Attempt() = default;
  virtual void run() = 0;
  virtual void cancel() {
    done_ = nullptr;
    close();
  }

 protected:
  virtual void close() = 0;
  bool cancelled() const { return !done_; }
  void finish(ProbeResult r) {
    if (!done_) return;
    auto d = std::move(done_);
    done_ = nullptr;
    close();
    d(std::move(r));
  }

 private:
  Probe::Done done_;
};

class AttemptProbe final : public Probe {
 public:
  using Factory = std::function<std::shared_ptr<Attempt>(Done)>;
  explicit AttemptProbe(Factory f) : factory_(std::move(f)) {}
  ~AttemptProbe() override { cancel(); }
  void start(Done done) override {
    cancel();
    current_ = factory_(std::move(done));
    current_->run();
  }
  void cancel() override {
    if (current_) current_->cancel();
    current_.reset();
  }

 private:
  Factory factory_;
  std::shared_ptr<Attempt> current_;
};

}  // namespace lvsd::healthcheck
