// hb_node: heartbeat + vip for the netns tests, wired the way
// daemon/heartbeat_component.cc wires them, with a minimal control socket
// speaking proto/control.proto (status, dump, events as text).
//   hb_node -f CONFIG -n NAME -s SOCKET
// SIGTERM/SIGINT: clean stop (priority 0, VIPs released per config).
#include <arpa/inet.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <iostream>
#include <mutex>

#include "config/config.h"
#include "core/log.h"
#include "heartbeat/heartbeat.h"
#include "proto/control.pb.h"
#include "vip/vip.h"

using namespace lvsd;

namespace {

bool readAll(int fd, void* p, size_t n) {
  auto* b = static_cast<char*>(p);
  while (n) {
    ssize_t r = ::read(fd, b, n);
    if (r <= 0) return false;
    b += r;
    n -= static_cast<size_t>(r);
  }
  return true;
}

bool writeAll(int fd, const void* p, size_t n) {
  auto* b = static_cast<const char*>(p);
  while (n) {
    ssize_t r = ::write(fd, b, n);
    if (r <= 0) return false;
    b += r;
    n -= static_cast<size_t>(r);
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  std::string file, name, sock;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "-f") file = argv[i + 1];
    else if (a == "-n") name = argv[i + 1];
    else if (a == "-s") sock = argv[i + 1];
  }
  if (file.empty() || name.empty() || sock.empty()) {
    std::cerr << "usage: hb_node -f CONFIG -n NAME -s SOCKET\n";
    return 1;
  }
  // Block the stop signals before any thread exists, so only signalfd sees them.
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  sigaddset(&mask, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &mask, nullptr);
  (void)setupLogging("info", LogFormat::kText);
  auto loaded = config::loadFile(file);
  if (!loaded.ok()) {
    std::cerr << loaded.errorText();
    return 2;
  }
  const auto& cfg = loaded.config->proto;

  auto groups = vip::groupsFromConfig(cfg);
  auto backend = vip::makeNetlinkBackend();
  auto announcer = vip::makePacketAnnouncer();
  if (!groups || !backend || !announcer) {
    std::cerr << "vip setup failed\n";
    return 4;
  }
  vip::VipManager vips(std::move(*backend), std::move(*announcer));
  vips.onError([](const std::string& e) { logger("vip")->error("{}", e); });
  if (auto st = vips.start(std::move(*groups), static_cast<int>(cfg.heartbeat().realtime_priority()));
      !st)
    logger("vip")->warn("{}", st.error().message);

  std::mutex mu;
  std::vector<std::string> events;
  bool releaseOnStop = cfg.heartbeat().release_on_stop();
  heartbeat::Callbacks cb;
  cb.onTransition = [&](const heartbeat::Transition& t) {
    if (t.to == heartbeat::State::kMaster) vips.acquire(t.vipGroups);
    else if (t.to != heartbeat::State::kStop || releaseOnStop) vips.release(t.vipGroups);
    std::lock_guard lock(mu);
    events.push_back(std::to_string(t.unixMs) + " " + t.line);
  };
  cb.onReassert = [&](const std::string&, const std::vector<std::string>& g) { vips.reannounce(g); };
  auto hb = heartbeat::HeartbeatService::create(cfg, name, loaded.config->digest, std::move(cb));
  if (!hb) {
    std::cerr << hb.error().message << "\n";
    return 4;
  }
  if (auto st = (*hb)->start(); !st) {
    std::cerr << "heartbeat: " << st.error().message << "\n";
    return 4;
  }
  int sfd = signalfd(-1, &mask, SFD_CLOEXEC);
  int lfd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  std::strncpy(sa.sun_path, sock.c_str(), sizeof(sa.sun_path) - 1);
  ::unlink(sock.c_str());
  if (::bind(lfd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) < 0 || ::listen(lfd, 16) < 0) {
    std::cerr << "control socket " << sock << ": " << std::strerror(errno) << "\n";
    return 3;
  }
  auto dump = [&] {
    std::string text;
    for (const auto& l : (*hb)->dumpState()) text += l + "\n";
    auto s = vips.status();
    text += "vip: held=";
    for (const auto& g : s.held) text += g + ",";
    text += " adds=" + std::to_string(s.counters.adds) +
            " announcements=" + std::to_string(s.counters.announcements) + "\n";
    return text;
  };
  while (true) {
    pollfd fds[2] = {{sfd, POLLIN, 0}, {lfd, POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) continue;
    if (fds[0].revents & POLLIN) {
      signalfd_siginfo si;
      if (::read(sfd, &si, sizeof(si)) != sizeof(si)) continue;
      if (si.ssi_signo == SIGUSR1) {
        for (const auto& l : (*hb)->dumpState()) logger("hb_node")->info("state: {}", l);
        continue;
      }
      break;
    }
    if (!(fds[1].revents & POLLIN)) continue;
    int c = ::accept4(lfd, nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) continue;
    uint32_t len = 0;
    control::Request req;
    std::string body;
    if (readAll(c, &len, 4)) {
      len = ntohl(len);
      body.resize(len);
      if (len < (1u << 20) && readAll(c, body.data(), len) && req.ParseFromString(body)) {
        control::Response resp;
        resp.set_ok(true);
        if (req.has_status()) {
          resp.mutable_status()->set_director(name);
          resp.mutable_status()->set_config_digest(loaded.config->digest);
          (*hb)->fillStatus(*resp.mutable_status());
        } else if (req.has_dump()) {
          resp.set_text(dump());
        } else if (req.has_events()) {
          std::lock_guard lock(mu);
          std::string t;
          for (const auto& e : events) t += e + "\n";
          resp.set_text(t);
        } else {
          resp.set_ok(false);
          resp.add_error("hb_node: unsupported request");
        }
        std::string out = resp.SerializeAsString();
        uint32_t n = htonl(static_cast<uint32_t>(out.size()));
        writeAll(c, &n, 4) && writeAll(c, out.data(), out.size());
      }
    }
    ::close(c);
  }
  (*hb)->stop();
  vips.sync();
  vips.stop(false);
  ::unlink(sock.c_str());
  return 0;
}
