// /proc/net/ip_vs_conn reader. The kernel prints (ip_vs_conn_seq_show):
//   Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData
//   TCP 0A000001 C350 0A000064 0050 0A000101 0050 ESTABLISHED     899
// IPv4 addresses as 8 hex digits, IPv6 as %pI6 (colon-separated), ports as
// 4 hex digits, expiry in seconds, optional persistence-engine columns.
// A line that does not parse is skipped and counted, never fatal.

#include <arpa/inet.h>

#include <cerrno>
#include <charconv>
#include <fstream>
#include <sstream>

#include "ipvs/ipvs.h"

namespace lvsd::ipvs {
namespace {

std::vector<std::string_view> fields(std::string_view line) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')) ++i;
    size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t' && line[i] != '\r') ++i;
    if (i > start) out.push_back(line.substr(start, i - start));
  }
  return out;
}

template <typename T>
bool parseHex(std::string_view s, T& out) {
  if (s.empty() || s.size() > sizeof(T) * 2) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out, 16);
  return ec == std::errc() && p == s.data() + s.size();
}

bool parseAddress(std::string_view s, IpAddress& out) {
  if (s.find(':') != std::string_view::npos || s.find('.') != std::string_view::npos) {
    auto a = IpAddress::parse(s);
    if (!a) return false;
    out = *a;
    return true;
  }
  if (s.size() != 8) return false;
  uint32_t v;
  if (!parseHex(s, v)) return false;
  out = IpAddress::v4(v);
  return true;
}

}  // namespace

ConnectionTable parseConnections(std::string_view text) {
  ConnectionTable table;
  bool header = true;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    std::string_view line = text.substr(pos, nl == std::string_view::npos ? text.npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    if (header) {
      header = false;
      continue;
    }
    auto f = fields(line);
    if (f.empty()) continue;
    Connection c;
    uint32_t expires = 0;
    bool ok = f.size() >= 9 && parseAddress(f[1], c.client) && parseHex(f[2], c.clientPort) &&
              parseAddress(f[3], c.vaddr) && parseHex(f[4], c.vport) &&
              parseAddress(f[5], c.daddr) && parseHex(f[6], c.dport);
    if (ok) {
      auto [p, ec] = std::from_chars(f[8].data(), f[8].data() + f[8].size(), expires);
      ok = ec == std::errc() && p == f[8].data() + f[8].size();
    }
    if (!ok) {
      ++table.malformed;
      continue;
    }
    c.protocol = std::string(f[0]);
    c.state = std::string(f[7]);
    c.expires = expires;
    if (f.size() >= 10) c.peName = std::string(f[9]);
    if (f.size() >= 11) c.peData = std::string(f[10]);
    table.connections.push_back(std::move(c));
  }
  return table;
}

Result<ConnectionTable> readConnections(const std::string& path) {
  std::ifstream in(path);
  if (!in) return errnoError("open " + path, errno ? errno : ENOENT);
  std::ostringstream ss;
  ss << in.rdbuf();
  return parseConnections(ss.str());
}

}  // namespace lvsd::ipvs
