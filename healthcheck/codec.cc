#include "healthcheck/codec.h"

#include <sys/wait.h>

#include <cctype>
#include <cstring>

#include "core/address.h"

namespace lvsd::healthcheck {

namespace {

struct TypeName {
  const char* name;
  uint16_t code;
};
// RFC 1035 §3.2.2, RFC 3596 (AAAA), RFC 2782 (SRV).
constexpr TypeName kTypes[] = {{"A", 1},   {"NS", 2},   {"CNAME", 5}, {"SOA", 6}, {"PTR", 12},
                               {"MX", 15}, {"TXT", 16}, {"AAAA", 28}, {"SRV", 33}};

const char* rcodeName(int rcode) {
  switch (rcode) {
    case 1: return "FORMERR";
    case 2: return "SERVFAIL";
    case 3: return "NXDOMAIN";
    case 4: return "NOTIMP";
    case 5: return "REFUSED";
    default: return nullptr;
  }
}

uint16_t be16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }

// Skips a possibly compressed name (RFC 1035 §4.1.4); false when malformed.
bool skipName(const uint8_t* data, size_t size, size_t& pos) {
  for (int labels = 0; labels < 128; ++labels) {
    if (pos >= size) return false;
    uint8_t len = data[pos];
    if ((len & 0xc0) == 0xc0) {
      if (pos + 2 > size) return false;
      pos += 2;  // a pointer ends the name
      return true;
    }
    if (len & 0xc0) return false;
    pos += 1 + len;
    if (len == 0) return true;
  }
  return false;
}

}  // namespace

Result<uint16_t> dnsTypeCode(std::string_view name) {
  std::string up(name);
  for (auto& c : up) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  for (const auto& t : kTypes)
    if (up == t.name) return t.code;
  return Error("unknown DNS type '" + std::string(name) +
               "' (A AAAA CNAME MX NS PTR SOA SRV TXT)");
}

Result<std::vector<uint8_t>> encodeDnsQuery(uint16_t id, std::string_view name, uint16_t type) {
  std::vector<uint8_t> q = {static_cast<uint8_t>(id >> 8), static_cast<uint8_t>(id), 0x01, 0x00,
                            0, 1, 0, 0, 0, 0, 0, 0};  // RD; QDCOUNT 1
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  size_t total = 0;
  while (!name.empty()) {
    auto dot = name.find('.');
    std::string_view label = name.substr(0, dot);
    if (label.empty() || label.size() > 63)
      return Error("bad DNS name: labels must be 1..63 characters");
    q.push_back(static_cast<uint8_t>(label.size()));
    q.insert(q.end(), label.begin(), label.end());
    total += label.size() + 1;
    name = dot == std::string_view::npos ? std::string_view() : name.substr(dot + 1);
    if (dot != std::string_view::npos && name.empty()) return Error("bad DNS name: empty label");
  }
  if (total + 1 > 255) return Error("bad DNS name: longer than 255 octets");
  q.push_back(0);
  q.push_back(static_cast<uint8_t>(type >> 8));
  q.push_back(static_cast<uint8_t>(type));
  q.push_back(0);
  q.push_back(1);  // class IN
  return q;
}

Result<ProbeResult> judgeDnsReply(const uint8_t* d, size_t size, uint16_t id, uint16_t type) {
  if (size < 12) return Error("short DNS message");
  if (be16(d) != id) return Error("DNS id mismatch");
  if (!(d[2] & 0x80)) return Error("not a DNS response");
  int rcode = d[3] & 0x0f;
  if (rcode != 0) {
    const char* n = rcodeName(rcode);
    return ProbeResult::fail(std::string("rcode ") + (n ? n : std::to_string(rcode).c_str()));
  }
  uint16_t qd = be16(d + 4), an = be16(d + 6);
  size_t pos = 12;
  for (uint16_t i = 0; i < qd; ++i) {
    if (!skipName(d, size, pos) || pos + 4 > size) return ProbeResult::fail("malformed DNS reply");
    pos += 4;
  }
  uint16_t matching = 0;
  for (uint16_t i = 0; i < an; ++i) {
    if (!skipName(d, size, pos) || pos + 10 > size) return ProbeResult::fail("malformed DNS reply");
    uint16_t t = be16(d + pos);
    uint16_t rdlen = be16(d + pos + 8);
    pos += 10 + rdlen;
    if (pos > size) return ProbeResult::fail("malformed DNS reply");
    if (t == type) ++matching;
  }
  if (matching == 0) {
    if (d[2] & 0x02) return ProbeResult::fail("truncated reply without answer");
    return ProbeResult::fail("no answer of type " + std::to_string(type));
  }
  return ProbeResult::ok(std::to_string(matching) + " answer" + (matching > 1 ? "s" : ""));
}

uint16_t inetChecksum(const uint8_t* data, size_t size) {
  uint32_t sum = 0;
  for (size_t i = 0; i + 1 < size; i += 2) sum += static_cast<uint32_t>(data[i] << 8 | data[i + 1]);
  if (size & 1) sum += static_cast<uint32_t>(data[size - 1] << 8);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

std::vector<uint8_t> encodeEchoRequest(bool v6, uint16_t id, uint16_t seq, std::string_view payload) {
  std::vector<uint8_t> p = {static_cast<uint8_t>(v6 ? 128 : 8), 0, 0, 0,
                            static_cast<uint8_t>(id >> 8), static_cast<uint8_t>(id),
                            static_cast<uint8_t>(seq >> 8), static_cast<uint8_t>(seq)};
  p.insert(p.end(), payload.begin(), payload.end());
  if (!v6) {
    uint16_t c = inetChecksum(p.data(), p.size());
    p[2] = static_cast<uint8_t>(c >> 8);
    p[3] = static_cast<uint8_t>(c);
  }
  return p;
}

std::optional<EchoReply> parseEchoReply(bool v6, bool ipHeader, const uint8_t* d, size_t size) {
  if (ipHeader) {
    if (size < 20 || (d[0] >> 4) != 4) return std::nullopt;
    size_t ihl = static_cast<size_t>(d[0] & 0x0f) * 4;
    if (ihl < 20 || size < ihl) return std::nullopt;
    d += ihl;
    size -= ihl;
  }
  if (size < 8) return std::nullopt;
  if (d[0] != (v6 ? 129 : 0) || d[1] != 0) return std::nullopt;
  return EchoReply{be16(d + 4), be16(d + 6)};
}

ProbeResult judgeFileContent(std::string_view content) {
  while (!content.empty() && std::isspace(static_cast<unsigned char>(content.front())))
    content.remove_prefix(1);
  while (!content.empty() && std::isspace(static_cast<unsigned char>(content.back())))
    content.remove_suffix(1);
  std::string c(content);
  for (auto& ch : c) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (c.empty() || c == "up") return ProbeResult::ok(c.empty() ? "empty" : "up");
  if (c == "down") return ProbeResult::fail("down");
  if (c == "drain") {
    auto r = ProbeResult::ok("drain");
    r.drain = true;
    return r;
  }
  if (c.rfind("weight", 0) == 0) {
    std::string_view n = std::string_view(c).substr(6);
    size_t sp = 0;
    while (sp < n.size() && (n[sp] == ' ' || n[sp] == '\t')) ++sp;
    auto w = sp > 0 ? parseUnsigned(n.substr(sp), 65535) : Result<uint64_t>(Error("no space"));
    if (w) {
      auto r = ProbeResult::ok("weight " + std::to_string(*w));
      r.weight = static_cast<uint32_t>(*w);
      return r;
    }
  }
  std::string shown(content.substr(0, 40));
  return ProbeResult::fail("bad content '" + shown + "' (up, down, drain or weight N)");
}

ProbeResult judgeExitStatus(int status, bool dynamic) {
  if (WIFSIGNALED(status)) return ProbeResult::fail("killed by signal " + std::to_string(WTERMSIG(status)));
  if (!WIFEXITED(status)) return ProbeResult::fail("abnormal exit status " + std::to_string(status));
  int code = WEXITSTATUS(status);
  if (code == 0) return ProbeResult::ok("exit 0");
  if (dynamic && code >= 2) {
    // MISC_CHECK misc_dynamic: exit 2..255 means up with weight exit−2.
    auto r = ProbeResult::ok("exit " + std::to_string(code));
    r.weight = static_cast<uint32_t>(code - 2);
    return r;
  }
  return ProbeResult::fail("exit " + std::to_string(code));
}

}  // namespace lvsd::healthcheck
