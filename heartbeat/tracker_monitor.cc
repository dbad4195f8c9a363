#include "heartbeat/tracker_monitor.h"

#include <boost/asio/post.hpp>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "heartbeat/process.h"

namespace lvsd::heartbeat {

namespace asio = boost::asio;

namespace {
// Link notifications are the fast path; this catches anything they miss
// (an overrun netlink queue, a file changed in place).
constexpr auto kPoll = std::chrono::seconds(1);
}  // namespace

TrackerMonitor::TrackerMonitor(const Model& model, Report report, Log log)
    : model_(model), report_(std::move(report)), log_(std::move(log)), poll_(io_) {
  last_.resize(model_.trackers.size());
}

TrackerMonitor::~TrackerMonitor() { stop(); }

TrackerStatus TrackerMonitor::interfaceUp(const std::string& name) {
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return {true, false, 0};
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
  bool up = ::ioctl(fd, SIOCGIFFLAGS, &ifr) == 0 && (ifr.ifr_flags & IFF_UP) &&
            (ifr.ifr_flags & IFF_RUNNING);
  ::close(fd);
  return {true, up, 0};
}

TrackerStatus TrackerMonitor::readFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return {true, false, 0};
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::istringstream ss(text);
  long long v;
  if (!(ss >> v)) return {true, false, 0};
  std::string rest;
  if (ss >> rest) return {true, false, 0};  // trailing junk
  return {true, true, v};
}

std::vector<std::optional<TrackerStatus>> TrackerMonitor::initial() {
  std::vector<std::optional<TrackerStatus>> out(model_.trackers.size());
  for (size_t t = 0; t < model_.trackers.size(); ++t) {
    const auto& tm = model_.trackers[t];
    if (tm.kind == TrackerKind::kInterface) out[t] = interfaceUp(tm.interface);
    else if (tm.kind == TrackerKind::kFile) out[t] = readFile(tm.path);
  }
  std::lock_guard lock(lastMu_);
  last_ = out;
  return out;
}

void TrackerMonitor::emit(size_t t, TrackerStatus s) {
  {
    std::lock_guard lock(lastMu_);
    auto& l = last_[t];
    if (l && l->known == s.known && l->ok == s.ok && l->value == s.value) return;
    l = s;
  }
  const auto& tm = model_.trackers[t];
  log_(!s.ok, "tracker=" + tm.name + " " + (s.ok ? "ok" : "failed") +
                  (tm.kind == TrackerKind::kFile && s.ok ? " value=" + std::to_string(s.value) : ""));
  report_(t, s);
}

Status TrackerMonitor::start() {
  bool anyInterface = false, anyPolled = false;
  for (size_t t = 0; t < model_.trackers.size(); ++t) {
    const auto& tm = model_.trackers[t];
    anyInterface |= tm.kind == TrackerKind::kInterface;
    anyPolled |= tm.kind == TrackerKind::kInterface || tm.kind == TrackerKind::kFile;
    if (tm.kind == TrackerKind::kScript) scripts_.emplace_back([this, t] { scriptLoop(t); });
  }
  if (anyInterface) {
    int fd = ::socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (fd < 0) return errnoError("rtnetlink socket", errno);
    sockaddr_nl sa{};
    sa.nl_family = AF_NETLINK;
    sa.nl_groups = RTMGRP_LINK;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) < 0) {
      int e = errno;
      ::close(fd);
      return errnoError("rtnetlink bind (link group)", e);
    }
    netlink_ = std::make_unique<asio::posix::stream_descriptor>(io_, fd);
    armNetlink();
  }
  if (anyPolled) armPoll();
  aux_ = std::thread([this] { io_.run(); });
  return okStatus();
}

void TrackerMonitor::stop() {
  {
    std::lock_guard lock(stopMu_);
    if (stopping_) return;
    stopping_ = true;
  }
  stopCv_.notify_all();
  asio::post(io_, [this] {
    poll_.cancel();
    if (netlink_) {
      boost::system::error_code ec;
      netlink_->close(ec);
    }
  });
  if (aux_.joinable()) aux_.join();
  for (auto& s : scripts_) s.join();
  scripts_.clear();
}

void TrackerMonitor::checkInterfaces() {
  for (size_t t = 0; t < model_.trackers.size(); ++t)
    if (model_.trackers[t].kind == TrackerKind::kInterface)
      emit(t, interfaceUp(model_.trackers[t].interface));
}

void TrackerMonitor::checkFiles() {
  for (size_t t = 0; t < model_.trackers.size(); ++t)
    if (model_.trackers[t].kind == TrackerKind::kFile) emit(t, readFile(model_.trackers[t].path));
}

void TrackerMonitor::armNetlink() {
  netlink_->async_wait(asio::posix::stream_descriptor::wait_read,
                       [this](const boost::system::error_code& ec) {
                         if (ec) return;
                         // The content does not matter: any link message
                         // (or an overrun, ENOBUFS) means "look again".
                         char buf[8192];
                         while (true) {
                           ssize_t n = ::recv(netlink_->native_handle(), buf, sizeof(buf), MSG_DONTWAIT);
                           if (n > 0) continue;
                           if (n < 0 && (errno == EINTR || errno == ENOBUFS)) continue;
                           break;
                         }
                         checkInterfaces();
                         armNetlink();
                       });
}

void TrackerMonitor::armPoll() {
  poll_.expires_after(kPoll);
  poll_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    checkInterfaces();
    checkFiles();
    armPoll();
  });
}

void TrackerMonitor::scriptLoop(size_t t) {
  const TrackerModel& tm = model_.trackers[t];
  RiseFall rf(tm.rise, tm.fall);
  while (true) {
    auto r = runProcess(tm.argv, tm.scriptTimeout);
    bool success = r && r->success();
    if (!r) log_(true, "tracker=" + tm.name + " " + r.error().message);
    if (rf.observe(success)) emit(t, {true, *rf.state(), 0});
    std::unique_lock lock(stopMu_);
    if (stopCv_.wait_for(lock, tm.scriptInterval, [&] { return stopping_; })) return;
  }
}

}  // namespace lvsd::heartbeat
