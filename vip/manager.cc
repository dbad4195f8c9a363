// The worker thread: feeds commands and time to VipCore and carries out the
// operations it returns, so netlink round trips and announcements never run
// on the caller's (heartbeat or daemon) thread.
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <pthread.h>
#include <sched.h>

#include <future>
#include <thread>

#include "vip/core.h"
#include "vip/vip.h"

namespace lvsd::vip {

namespace asio = boost::asio;

class VipManager::Impl {
 public:
  Impl(std::unique_ptr<AddressBackend> backend, std::unique_ptr<Announcer> announcer,
       const Clock& clock, std::function<void(const std::string&)>& onError)
      : backend_(std::move(backend)),
        announcer_(std::move(announcer)),
        clock_(clock),
        onError_(onError),
        work_(asio::make_work_guard(io_)),
        timer_(io_),
        core_({}) {}

  ~Impl() { shutdown(false); }

  Status start(std::vector<GroupSpec> groups, int realtimePriority) {
    core_.update(std::move(groups), clock_.now());
    thread_ = std::thread([this] { io_.run(); });
    if (realtimePriority > 0) {
      sched_param sp{};
      sp.sched_priority = realtimePriority;
      if (int err = pthread_setschedparam(thread_.native_handle(), SCHED_FIFO, &sp); err != 0)
        return errnoError("SCHED_FIFO for the VIP worker", err);
    }
    return okStatus();
  }

  template <typename Fn>
  void post(Fn&& fn) {
    asio::post(io_, [this, fn = std::forward<Fn>(fn)]() mutable {
      execute(fn(core_, clock_.now()));
    });
  }

  void sync() {
    if (!thread_.joinable()) return;
    std::promise<void> done;
    asio::post(io_, [&] { done.set_value(); });
    done.get_future().wait();
  }

  void shutdown(bool releaseHeld) {
    if (!thread_.joinable()) return;
    if (releaseHeld) post([](VipCore& c, TimePoint) { return c.releaseAll(); });
    asio::post(io_, [this] {
      timer_.cancel();
      work_.reset();
    });
    thread_.join();
  }

  VipStatus status() const {
    std::lock_guard lock(mu_);
    return status_;
  }

 private:
  void execute(std::vector<Op> ops) {
    TimePoint now = clock_.now();
    VipCounters delta;
    run(ops, now, delta);
    // Then what is due now: zero-delay announcements follow their adds at
    // once, and only for addresses that were added.
    run(core_.due(now), now, delta);
    {
      std::lock_guard lock(mu_);
      auto& c = status_.counters;
      c.adds += delta.adds;
      c.removes += delta.removes;
      c.announcements += delta.announcements;
      c.addErrors += delta.addErrors;
      c.removeErrors += delta.removeErrors;
      c.announceErrors += delta.announceErrors;
      status_.held = core_.held();
    }
    rearm();
  }

  void run(const std::vector<Op>& ops, TimePoint now, VipCounters& delta) {
    for (const auto& op : ops) {
      switch (op.kind) {
        case Op::Kind::kAdd:
          if (auto st = backend_->add(op.vip); !st) {
            ++delta.addErrors;
            core_.addFailed(op.vip, now);
            report(st.error().message);
          } else {
            ++delta.adds;
          }
          break;
        case Op::Kind::kRemove:
          if (auto st = backend_->remove(op.vip); !st) {
            ++delta.removeErrors;
            report(st.error().message);
          } else {
            ++delta.removes;
          }
          break;
        case Op::Kind::kAnnounce:
          if (auto st = announcer_->announce(op.vip); !st) {
            ++delta.announceErrors;
            report(st.error().message);
          } else {
            ++delta.announcements;
          }
          break;
      }
    }
  }

  void rearm() {
    auto next = core_.nextDeadline();
    if (!next) {
      timer_.cancel();
      return;
    }
    // Clock time points are steady_clock's in production.
    timer_.expires_at(asio::steady_timer::time_point(next->time_since_epoch()));
    timer_.async_wait([this](const boost::system::error_code& ec) {
      if (ec) return;
      execute({});
    });
  }

  void report(const std::string& msg) {
    if (onError_) onError_(msg);
  }

  std::unique_ptr<AddressBackend> backend_;
  std::unique_ptr<Announcer> announcer_;
  const Clock& clock_;
  std::function<void(const std::string&)>& onError_;
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  asio::steady_timer timer_;
  VipCore core_;
  std::thread thread_;
  mutable std::mutex mu_;
  VipStatus status_;
};

VipManager::VipManager(std::unique_ptr<AddressBackend> backend,
                       std::unique_ptr<Announcer> announcer, const Clock& clock)
    : impl_(std::make_unique<Impl>(std::move(backend), std::move(announcer), clock, onError_)) {}

VipManager::~VipManager() = default;

Status VipManager::start(std::vector<GroupSpec> groups, int realtimePriority) {
  return impl_->start(std::move(groups), realtimePriority);
}

void VipManager::update(std::vector<GroupSpec> groups) {
  impl_->post([g = std::move(groups)](VipCore& c, TimePoint now) mutable {
    return c.update(std::move(g), now);
  });
}

void VipManager::acquire(const std::vector<std::string>& groups) {
  impl_->post([groups](VipCore& c, TimePoint now) {
    std::vector<Op> ops;
    for (const auto& g : groups) {
      auto o = c.acquire(g, now);
      ops.insert(ops.end(), o.begin(), o.end());
    }
    return ops;
  });
}

void VipManager::release(const std::vector<std::string>& groups) {
  impl_->post([groups](VipCore& c, TimePoint now) {
    std::vector<Op> ops;
    for (const auto& g : groups) {
      auto o = c.release(g, now);
      ops.insert(ops.end(), o.begin(), o.end());
    }
    return ops;
  });
}

void VipManager::reannounce(const std::vector<std::string>& groups) {
  impl_->post([groups](VipCore& c, TimePoint now) {
    for (const auto& g : groups) c.reannounce(g, now);
    return std::vector<Op>{};
  });
}

void VipManager::sync() { impl_->sync(); }

void VipManager::stop(bool releaseHeld) { impl_->shutdown(releaseHeld); }

VipStatus VipManager::status() const { return impl_->status(); }

}  // namespace lvsd::vip
