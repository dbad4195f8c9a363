// arp_probe: the client's view of a failover. Run in the client namespace:
// it SIGKILLs the given processes (the master), then asks "who has VIP?"
// every --interval-us and prints how long it took until the VIP answered
// from --want-mac (the backup's interface). Replies from any other MAC (the
// killed master's kernel still holds the address) are ignored.
//   arp_probe --dev eth0 --src IP --vip IP --want-mac MAC --kill PID[,PID]
//             [--interval-us 1000] [--timeout-ms 5000] [--rt PRIO]
// Prints "ms=12.345 kill_unix_us=..." and exits 0, or exits 1 on timeout.
// --rt runs the probe SCHED_FIFO: on a loaded host the stopwatch itself
// must not wait for a CPU (a real client is another machine).
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

namespace {

bool parseMac(const std::string& s, std::array<uint8_t, 6>& m) {
  unsigned v[6];
  if (std::sscanf(s.c_str(), "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 6)
    return false;
  for (int i = 0; i < 6; ++i) m[i] = static_cast<uint8_t>(v[i]);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  std::string dev, src, vip, want, kill;
  long intervalUs = 1000, timeoutMs = 5000, rt = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i], v = argv[i + 1];
    if (a == "--dev") dev = v;
    else if (a == "--src") src = v;
    else if (a == "--vip") vip = v;
    else if (a == "--want-mac") want = v;
    else if (a == "--kill") kill = v;
    else if (a == "--interval-us") intervalUs = std::stol(v);
    else if (a == "--timeout-ms") timeoutMs = std::stol(v);
    else if (a == "--rt") rt = std::stol(v);
  }
  std::array<uint8_t, 6> wantMac{}, myMac{};
  in_addr srcIp{}, vipIp{};
  if (dev.empty() || !parseMac(want, wantMac) || inet_pton(AF_INET, src.c_str(), &srcIp) != 1 ||
      inet_pton(AF_INET, vip.c_str(), &vipIp) != 1) {
    std::fprintf(stderr, "usage: arp_probe --dev D --src IP --vip IP --want-mac MAC --kill PIDS\n");
    return 2;
  }
  if (rt > 0) {
    sched_param sp{};
    sp.sched_priority = static_cast<int>(rt);
    if (sched_setscheduler(0, SCHED_FIFO, &sp) < 0) perror("SCHED_FIFO");
  }
  int fd = ::socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ARP));
  if (fd < 0) {
    perror("AF_PACKET");
    return 2;
  }
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, dev.c_str(), IFNAMSIZ - 1);
  if (::ioctl(fd, SIOCGIFHWADDR, &ifr) < 0) {
    perror("SIOCGIFHWADDR");
    return 2;
  }
  std::memcpy(myMac.data(), ifr.ifr_hwaddr.sa_data, 6);
  sockaddr_ll ll{};
  ll.sll_family = AF_PACKET;
  ll.sll_protocol = htons(ETH_P_ARP);
  ll.sll_ifindex = static_cast<int>(if_nametoindex(dev.c_str()));
  if (::bind(fd, reinterpret_cast<sockaddr*>(&ll), sizeof(ll)) < 0) {
    perror("bind");
    return 2;
  }
  // Who has VIP? tell src.
  std::array<uint8_t, 42> req{};
  std::memset(req.data(), 0xff, 6);
  std::memcpy(req.data() + 6, myMac.data(), 6);
  req[12] = 0x08, req[13] = 0x06, req[15] = 1, req[16] = 0x08, req[18] = 6, req[19] = 4, req[21] = 1;
  std::memcpy(req.data() + 22, myMac.data(), 6);
  std::memcpy(req.data() + 28, &srcIp, 4);
  std::memcpy(req.data() + 38, &vipIp, 4);
  sockaddr_ll to = ll;
  to.sll_halen = 6;
  std::memset(to.sll_addr, 0xff, 6);

  using Clock = std::chrono::steady_clock;
  std::stringstream pids(kill);
  std::string p;
  auto t0 = Clock::now();
  auto wall0 = std::chrono::duration_cast<std::chrono::microseconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count();
  while (std::getline(pids, p, ','))
    if (!p.empty()) ::kill(std::stoi(p), SIGKILL);
  auto nextSend = t0;
  auto end = t0 + std::chrono::milliseconds(timeoutMs);
  uint8_t buf[256];
  while (Clock::now() < end) {
    auto now = Clock::now();
    if (now >= nextSend) {
      ::sendto(fd, req.data(), req.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof(to));
      nextSend = now + std::chrono::microseconds(intervalUs);
    }
    int waitMs = static_cast<int>(
        std::max<long>(0, std::chrono::duration_cast<std::chrono::milliseconds>(nextSend - Clock::now()).count()));
    pollfd pf{fd, POLLIN, 0};
    if (::poll(&pf, 1, waitMs) <= 0) continue;
    ssize_t n = ::recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
    auto at = Clock::now();
    if (n < 42 || buf[21] != 2) continue;                       // ARP reply
    if (std::memcmp(buf + 28, &vipIp, 4) != 0) continue;        // about the VIP
    if (std::memcmp(buf + 22, wantMac.data(), 6) != 0) continue;  // from the new master
    double ms = std::chrono::duration<double, std::milli>(at - t0).count();
    std::printf("ms=%.3f kill_unix_us=%lld\n", ms, static_cast<long long>(wall0));
    return 0;
  }
  std::printf("timeout\n");
  return 1;
}
