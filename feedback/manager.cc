// FeedbackManager: the I/O shell around ServiceEngine. One poll timer per
// service; each round queries every agent at once (connect, one request
// frame, one bounded report frame, all within agent_timeout_ms), then runs
// the engine and publishes what changed.
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include <array>

#include "core/log.h"
#include "feedback/agent_protocol.h"
#include "feedback/engine.h"
#include "feedback/feedback.h"

namespace lvsd::feedback {

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

auto feedbackLog() { return logger("feedback"); }

tcp::endpoint toAsio(const Endpoint& e) {
  const auto& b = e.address().bytes();
  if (e.address().isV4()) {
    asio::ip::address_v4::bytes_type v4;
    std::copy(b.begin(), b.begin() + 4, v4.begin());
    return {asio::ip::address_v4(v4), e.port()};
  }
  asio::ip::address_v6::bytes_type v6;
  std::copy(b.begin(), b.end(), v6.begin());
  return {asio::ip::address_v6(v6), e.port()};
}

// One agent query. `done` is called exactly once.
class Query : public std::enable_shared_from_this<Query> {
 public:
  struct Outcome {
    std::optional<agent::AgentReport> report;
    enum class Error : uint8_t { kNone, kConnect, kTimeout, kMalformed, kOversized } error{};
    std::string detail;
  };
  using Done = std::function<void(Outcome)>;

  Query(asio::io_context& io, Endpoint agent, std::string request, Duration timeout, Done done)
      : agent_(agent),
        socket_(io),
        deadline_(io),
        request_(std::move(request)),
        timeout_(timeout),
        done_(std::move(done)) {}

  void start() {
    auto self = shared_from_this();
    deadline_.expires_after(timeout_);
    deadline_.async_wait([self](const boost::system::error_code& ec) {
      if (ec) return;
      Outcome o;
      o.error = Outcome::Error::kTimeout;
      if (self->connected_) {
        (void)self->reader_.incomplete(false);
        o.detail = self->reader_.detail();
      } else {
        o.detail = "connect: no answer within the timeout";
      }
      self->finish(std::move(o));
    });
    socket_.async_connect(toAsio(agent_), [self](const boost::system::error_code& ec) {
      if (self->finished_) return;
      if (ec) {
        Outcome o;
        o.error = Outcome::Error::kConnect;
        o.detail = "connect: " + ec.message();
        return self->finish(std::move(o));
      }
      self->connected_ = true;
      asio::async_write(self->socket_, asio::buffer(self->request_),
                        [self](const boost::system::error_code& e, size_t) {
                          if (self->finished_) return;
                          if (e) {
                            Outcome o;
                            o.error = Outcome::Error::kConnect;
                            o.detail = "send: " + e.message();
                            return self->finish(std::move(o));
                          }
                          self->read();
                        });
    });
  }

  void cancel() {
    finished_ = true;
    close();
  }

 private:
  void read() {
    auto self = shared_from_this();
    socket_.async_read_some(asio::buffer(buf_), [self](const boost::system::error_code& ec, size_t n) {
      if (self->finished_) return;
      ReportReader::State st = ec ? self->reader_.incomplete(true)
                                  : self->reader_.feed(std::string_view(self->buf_.data(), n));
      if (st == ReportReader::State::kNeedMore) return self->read();
      Outcome o;
      if (st == ReportReader::State::kDone) {
        o.report = self->reader_.report();
      } else {
        o.error = self->reader_.error() == ProtocolError::kOversized ? Outcome::Error::kOversized
                                                                     : Outcome::Error::kMalformed;
        o.detail = self->reader_.detail();
        if (ec && ec != asio::error::eof) o.detail += " (" + ec.message() + ")";
      }
      self->finish(std::move(o));
    });
  }

  void close() {
    boost::system::error_code ignored;
    socket_.close(ignored);
    deadline_.cancel();
  }

  void finish(Outcome o) {
    if (finished_) return;
    finished_ = true;
    close();
    Done d = std::move(done_);
    d(std::move(o));
  }

  Endpoint agent_;
  tcp::socket socket_;
  asio::steady_timer deadline_;
  std::string request_;
  Duration timeout_;
  Done done_;
  ReportReader reader_;
  std::array<char, 1024> buf_{};
  bool connected_ = false;
  bool finished_ = false;
};

}  // namespace

class FeedbackManager::Impl {
 public:
  Impl(asio::io_context& io, const Clock& clock, Callbacks cb)
      : io_(io), clock_(clock), cb_(std::move(cb)) {}
  ~Impl() { stop(); }

  struct Service {
    explicit Service(asio::io_context& io, EngineSpec spec) : engine(std::move(spec)), timer(io) {}
    ServiceEngine engine;
    asio::steady_timer timer;
    std::vector<std::shared_ptr<Query>> inflight;
    size_t pending = 0;
    TimePoint roundStart{};
  };

  Result<std::vector<EngineSpec>> specsFor(const config::Config& config) {
    std::vector<EngineSpec> out;
    for (int i = 0; i < config.virtual_service_size(); ++i) {
      if (EngineSpec::effective(config, i).policy() == config::Feedback::NONE) continue;
      auto spec = EngineSpec::fromProto(config, i);
      if (!spec) return spec.error();
      out.push_back(std::move(*spec));
    }
    return out;
  }

  Status start(const config::Config& config) {
    auto specs = specsFor(config);
    if (!specs) return specs.error();
    for (auto& s : *specs) add(std::move(s));
    return okStatus();
  }

  Status reload(const config::Config& config) {
    auto specs = specsFor(config);
    if (!specs) return specs.error();
    std::vector<std::unique_ptr<Service>> next;
    std::vector<Service*> fresh;
    for (auto& spec : *specs) {
      auto it = std::find_if(services_.begin(), services_.end(), [&](const auto& s) {
        return s && s->engine.spec().sameAs(spec);
      });
      if (it != services_.end()) {
        next.push_back(std::move(*it));  // keeps its state, timer and queries
        // The consumer may have rebuilt its tables: say again what holds.
        for (const auto& u : next.back()->engine.currentState("reload")) {
          feedbackLog()->debug("{}", u.line);
          if (cb_.onWeight) cb_.onWeight(u);
        }
        continue;
      }
      // Changed (or new): whatever the old engine published for this key
      // goes back to configured before the new one starts.
      for (auto& old : services_)
        if (old && old->engine.spec().key == spec.key) {
          cancel(*old);
          publish(old->engine.resetAll("reload"));
          old.reset();
        }
      next.push_back(makeService(std::move(spec)));
      fresh.push_back(next.back().get());
    }
    for (auto& old : services_)
      if (old) cancel(*old);  // removed from the config: its pool is gone with it
    services_ = std::move(next);
    for (Service* s : fresh) schedule(*s, Duration{0});
    return okStatus();
  }

  void stop() {
    for (auto& s : services_) cancel(*s);
    services_.clear();
    *alive_ = false;
    alive_ = std::make_shared<bool>(true);
  }

  std::vector<ServiceView> snapshot() const {
    std::vector<ServiceView> out;
    for (const auto& s : services_) {
      ServiceView v;
      v.service = s->engine.spec().service;
      v.policy = policyName(s->engine.spec().feedback.policy());
      for (size_t i = 0; i < s->engine.size(); ++i) v.realServers.push_back(s->engine.view(i));
      out.push_back(std::move(v));
    }
    return out;
  }

  Counters counters() const { return counters_; }

 private:
  std::unique_ptr<Service> makeService(EngineSpec spec) {
    feedbackLog()->info("service={} policy={} servers={} poll={}ms", spec.service,
                policyName(spec.feedback.policy()), spec.servers.size(),
                spec.feedback.poll_interval_ms());
    return std::make_unique<Service>(io_, std::move(spec));
  }

  void add(EngineSpec spec) {
    services_.push_back(makeService(std::move(spec)));
    schedule(*services_.back(), Duration{0});
  }

  void cancel(Service& s) {
    s.timer.cancel();
    for (auto& q : s.inflight) q->cancel();
    s.inflight.clear();
    s.pending = 0;
  }

  void schedule(Service& s, Duration after) {
    s.timer.expires_after(after);
    s.timer.async_wait([this, &s, alive = alive_](const boost::system::error_code& ec) {
      if (!ec && *alive) round(s);
    });
  }

  void round(Service& s) {
    const auto& fb = s.engine.spec().feedback;
    s.roundStart = clock_.now();
    agent::AgentRequest req;
    req.set_version(kAgentProtocolVersion);
    req.set_samples(fb.samples());
    req.set_sample_interval_ms(fb.sample_interval_ms());
    std::string wire = encodeRequest(req);
    s.pending = s.engine.size();
    s.inflight.clear();
    if (s.pending == 0) return endRound(s);
    for (size_t i = 0; i < s.engine.size(); ++i) {
      ++counters_.polls;
      auto q = std::make_shared<Query>(
          io_, s.engine.spec().servers[i].agent, wire, std::chrono::milliseconds(fb.agent_timeout_ms()),
          [this, &s, i, alive = alive_](Query::Outcome o) {
            if (!*alive) return;
            onOutcome(s, i, std::move(o));
          });
      s.inflight.push_back(q);
      q->start();
    }
  }

  void onOutcome(Service& s, size_t i, Query::Outcome o) {
    using E = Query::Outcome::Error;
    if (o.report) {
      ++counters_.answers;
      s.engine.report(i, *o.report);
    } else {
      switch (o.error) {
        case E::kConnect: ++counters_.connectErrors; break;
        case E::kTimeout: ++counters_.timeouts; break;
        case E::kOversized: ++counters_.oversized; break;
        default: ++counters_.malformed; break;
      }
      feedbackLog()->debug("service={} agent={} {}", s.engine.spec().service,
                   s.engine.spec().servers[i].agent.toString(), o.detail);
      s.engine.failure(i, o.detail);
    }
    if (s.pending > 0 && --s.pending == 0) endRound(s);
  }

  void endRound(Service& s) {
    s.inflight.clear();  // each running handler still holds its own query
    ++counters_.rounds;
    auto r = s.engine.evaluate();
    counters_.fallbacks += r.fallbacks;
    counters_.downs += r.downs;
    counters_.rateLimited += r.rateLimited;
    publish(r.updates);
    Duration interval = std::chrono::milliseconds(s.engine.spec().feedback.poll_interval_ms());
    Duration spent = clock_.now() - s.roundStart;
    schedule(s, spent < interval ? interval - spent : Duration{0});
  }

  void publish(const std::vector<WeightUpdate>& updates) {
    for (const auto& u : updates) {
      ++counters_.weightChanges;
      if (u.kind == WeightUpdate::Kind::kDown || u.kind == WeightUpdate::Kind::kConfigured)
        feedbackLog()->warn("{}", u.line);
      else
        feedbackLog()->info("{}", u.line);
      if (cb_.onWeight) cb_.onWeight(u);
    }
  }

  asio::io_context& io_;
  const Clock& clock_;
  Callbacks cb_;
  Counters counters_;
  std::vector<std::unique_ptr<Service>> services_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

FeedbackManager::FeedbackManager(asio::io_context& io, const Clock& clock, Callbacks callbacks)
    : impl_(std::make_unique<Impl>(io, clock, std::move(callbacks))) {}
FeedbackManager::~FeedbackManager() = default;
Status FeedbackManager::start(const config::Config& config) { return impl_->start(config); }
Status FeedbackManager::reload(const config::Config& config) { return impl_->reload(config); }
void FeedbackManager::stop() { impl_->stop(); }
std::vector<ServiceView> FeedbackManager::snapshot() const { return impl_->snapshot(); }
Counters FeedbackManager::counters() const { return impl_->counters(); }

}  // namespace lvsd::feedback
