// hb_inject: the attacker of the security netns test. From its own
// namespace it sends, with a spoofed source address, a mix of
//  - forged heartbeats (well-formed, signed with a key it made up, claiming
//    priority 255 MASTER),
//  - replayed heartbeats (genuine frames captured by tcpdump, resent from
//    their original source to their original destination),
//  - garbage (random bytes) and truncated genuine frames,
// at a fixed packet rate for a fixed time, round-robin over the targets.
//   hb_inject --pcap FILE --target DST,SPOOF[,DST,SPOOF...] [--port 5405]
//             [--pps 10000] [--seconds 10]
// Prints "sent=N forged=N replayed=N garbage=N seconds=S pps=P".
#include <arpa/inet.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>
#include <thread>
#include <vector>

#include "heartbeat/native_codec.h"

using namespace lvsd;
using namespace lvsd::heartbeat;

namespace {

struct Target {
  in_addr dst, spoof;
};

struct Captured {
  in_addr src, dst;
  std::string payload;
};

// IPv4/UDP frames to `port` in a pcap file (Ethernet link type).
std::vector<Captured> readPcap(const std::string& path, uint16_t port) {
  std::ifstream in(path, std::ios::binary);
  std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<Captured> out;
  if (data.size() < 24) return out;
  uint32_t magic;
  std::memcpy(&magic, data.data(), 4);
  bool swap = magic == 0xd4c3b2a1 || magic == 0x4d3cb2a1;
  auto u32 = [&](size_t off) {
    uint32_t v;
    std::memcpy(&v, data.data() + off, 4);
    return swap ? __builtin_bswap32(v) : v;
  };
  size_t off = 24;
  while (off + 16 <= data.size()) {
    uint32_t incl = u32(off + 8);
    off += 16;
    if (off + incl > data.size()) break;
    const auto* f = reinterpret_cast<const uint8_t*>(data.data() + off);
    off += incl;
    if (incl < 14 + 20 + 8 || f[12] != 0x08 || f[13] != 0x00) continue;
    const uint8_t* ip = f + 14;
    size_t ihl = (ip[0] & 0x0f) * 4;
    if (ip[9] != IPPROTO_UDP || incl < 14 + ihl + 8) continue;
    const uint8_t* udp = ip + ihl;
    if (((udp[2] << 8) | udp[3]) != port) continue;
    size_t len = ((udp[4] << 8) | udp[5]);
    if (len < 8 || 14 + ihl + len > incl) continue;
    Captured c;
    std::memcpy(&c.src, ip + 12, 4);
    std::memcpy(&c.dst, ip + 16, 4);
    c.payload.assign(reinterpret_cast<const char*>(udp + 8), len - 8);
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::string pcap;
  std::vector<Target> targets;
  uint16_t port = 5405;
  double pps = 10000, seconds = 10;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i], v = argv[i + 1];
    if (a == "--pcap") pcap = v;
    else if (a == "--port") port = static_cast<uint16_t>(std::stoi(v));
    else if (a == "--pps") pps = std::stod(v);
    else if (a == "--seconds") seconds = std::stod(v);
    else if (a == "--target") {
      std::stringstream ss(v);
      std::string d, s;
      while (std::getline(ss, d, ',') && std::getline(ss, s, ',')) {
        Target t;
        if (inet_pton(AF_INET, d.c_str(), &t.dst) != 1 || inet_pton(AF_INET, s.c_str(), &t.spoof) != 1) {
          std::cerr << "bad --target\n";
          return 1;
        }
        targets.push_back(t);
      }
    }
  }
  if (targets.empty()) {
    std::cerr << "usage: hb_inject --pcap FILE --target DST,SPOOF[,...] [--pps N] [--seconds S]\n";
    return 1;
  }
  auto captured = pcap.empty() ? std::vector<Captured>{} : readPcap(pcap, port);
  if (!pcap.empty() && captured.empty()) {
    std::cerr << "no heartbeat frames in " << pcap << "\n";
    return 1;
  }
  int fd = ::socket(AF_INET, SOCK_RAW, IPPROTO_RAW);  // IP_HDRINCL implied
  if (fd < 0) {
    perror("raw socket");
    return 1;
  }
  KeyRing forger;
  std::vector<uint8_t> key(32);
  std::mt19937_64 rng(42);
  for (auto& b : key) b = static_cast<uint8_t>(rng());
  (void)forger.add(1, key);

  uint64_t sent = 0, forged = 0, replayed = 0, garbage = 0, errors = 0;
  std::vector<uint8_t> pkt(1600);
  auto start = std::chrono::steady_clock::now();
  const auto period = std::chrono::duration<double>(1.0 / pps);
  const uint64_t total = static_cast<uint64_t>(pps * seconds);
  for (uint64_t i = 0; i < total; ++i) {
    // Pace: packet i leaves at start + i × period (sleep in ~1 ms steps).
    auto due = start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(period * double(i));
    if (due > std::chrono::steady_clock::now() + std::chrono::microseconds(500))
      std::this_thread::sleep_until(due);
    // Every kind of packet goes to every target.
    Target t = targets[(i / 4) % targets.size()];
    std::string payload;
    switch (i % 4) {
      case 0: {  // forged: right format, wrong key
        wire::Heartbeat hb;
        hb.set_version(kNativeVersion);
        hb.set_director(i % 8 == 0 ? "a" : "b");
        hb.set_boot_id(rng());
        hb.set_sequence(i + 1);
        hb.set_sent_unix_ms(std::chrono::duration_cast<std::chrono::milliseconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count());
        hb.set_link("lan");
        auto* in = hb.add_instance();
        in->set_name("web");
        in->set_vrid(51);
        in->set_priority(255);
        in->set_state(wire::MASTER);
        in->set_interval_ms(100);
        payload = sealFrame(forger, hb);
        ++forged;
        break;
      }
      case 1:
        if (!captured.empty()) {
          // A replay goes where the original went, from where it came.
          const Captured& c = captured[rng() % captured.size()];
          payload = c.payload;
          t = {c.dst, c.src};
          ++replayed;
          break;
        }
        [[fallthrough]];
      case 2: {  // random bytes
        payload.resize(rng() % 400);
        for (auto& c : payload) c = static_cast<char>(rng());
        ++garbage;
        break;
      }
      default: {  // a genuine frame cut short, or random junk if none
        if (!captured.empty()) {
          const auto& c = captured[rng() % captured.size()].payload;
          payload = c.substr(0, rng() % c.size());
        } else {
          payload = "\x0a\x01";
        }
        ++garbage;
      }
    }
    size_t len = 20 + 8 + payload.size();
    auto* ip = reinterpret_cast<iphdr*>(pkt.data());
    std::memset(ip, 0, 28);
    ip->version = 4;
    ip->ihl = 5;
    ip->ttl = 64;
    ip->protocol = IPPROTO_UDP;
    ip->tot_len = htons(static_cast<uint16_t>(len));
    ip->saddr = t.spoof.s_addr;
    ip->daddr = t.dst.s_addr;
    auto* udp = reinterpret_cast<udphdr*>(pkt.data() + 20);
    udp->source = htons(port);
    udp->dest = htons(port);
    udp->len = htons(static_cast<uint16_t>(8 + payload.size()));
    udp->check = 0;  // optional for IPv4
    std::memcpy(pkt.data() + 28, payload.data(), payload.size());
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_addr = t.dst;
    if (::sendto(fd, pkt.data(), len, 0, reinterpret_cast<sockaddr*>(&to), sizeof(to)) < 0) ++errors;
    else ++sent;
  }
  double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << "sent=" << sent << " forged=" << forged << " replayed=" << replayed
            << " garbage=" << garbage << " errors=" << errors << " seconds=" << took
            << " pps=" << static_cast<uint64_t>(sent / took) << std::endl;
  return errors > sent / 100 ? 1 : 0;
}
