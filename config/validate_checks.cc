// Health checks: named (Config.check) and inline (services, real servers).
#include <algorithm>
#include <array>
#include <set>

#include "config/validate_internal.h"

namespace lvsd::config::detail {

namespace {

using rules::quote;

constexpr std::array<std::string_view, 9> kDnsTypes = {"A",   "AAAA", "CNAME", "MX", "NS",
                                                       "PTR", "SOA",  "SRV",   "TXT"};

bool printableNoSpace(const std::string& s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c > ' ' && c != '\x7f'; });
}

void validateHttp(Context& ctx, const HttpProbe& h, const Located& at, bool https) {
  if (h.path().empty() || h.path().front() != '/' || !printableNoSpace(h.path()))
    ctx.error(at, "path", "path " + quote(h.path()) + " must start with '/' and hold no spaces");
  if (h.has_host() && (h.host().empty() || !printableNoSpace(h.host())))
    ctx.error(at, "host", "host " + quote(h.host()) + " is not a valid Host header value");
  for (int i = 0; i < h.status_size(); ++i)
    if (auto p = rules::statusEntryProblem(h.status(i))) ctx.error(at, "status", i, *p);
  if (h.has_body_regex())
    if (auto p = rules::regexProblem(h.body_regex())) ctx.error(at, "body_regex", *p);
  if (h.has_body_sha256() && (h.body_sha256().size() != 64 || !rules::isHex(h.body_sha256())))
    ctx.error(at, "body_sha256",
              "body_sha256 must be 64 hex digits (got " + std::to_string(h.body_sha256().size()) +
                  " characters)");
  ctx.range(at, "max_body_bytes", h.max_body_bytes(), 1, 16u << 20);
  if (!https) {
    for (const char* f : {"sni", "verify_cert", "ca_file"})
      if (h.GetReflection()->HasField(h, h.GetDescriptor()->FindFieldByName(f)))
        ctx.error(at, f, std::string(f) + " applies only to https checks");
    return;
  }
  if (h.has_sni() && !rules::isDnsName(h.sni()))
    ctx.error(at, "sni", "sni " + quote(h.sni()) + " is not a valid host name");
  if (h.has_ca_file()) ctx.absolutePath(at, "ca_file", h.ca_file());
}

}  // namespace

void validateCheck(Context& ctx, const Check& ch, const Located& at) {
  switch (ch.probe_case()) {
    case Check::PROBE_NOT_SET:
      ctx.out.addAt(at,
                    "a check needs exactly one probe: tcp, http, https, udp, dns, ping, exec or "
                    "file");
      break;
    case Check::kHttp:
      validateHttp(ctx, ch.http(), at.child("http"), false);
      break;
    case Check::kHttps:
      validateHttp(ctx, ch.https(), at.child("https"), true);
      break;
    case Check::kUdp: {
      const UdpProbe& u = ch.udp();
      Located pat = at.child("udp");
      if (u.has_send_hex() && (!rules::isHex(u.send_hex()) || u.send_hex().size() % 2 != 0))
        ctx.error(pat, "send_hex",
                  "send_hex " + quote(u.send_hex()) + " is not an even number of hex digits");
      if (u.has_expect_regex())
        if (auto p = rules::regexProblem(u.expect_regex())) ctx.error(pat, "expect_regex", *p);
      break;
    }
    case Check::kDns: {
      const DnsProbe& d = ch.dns();
      Located pat = at.child("dns");
      if (d.query().empty())
        ctx.error(pat, "query", "query is required (the name to resolve)");
      else if (!rules::isDnsName(d.query()))
        ctx.error(pat, "query", "query " + quote(d.query()) + " is not a valid DNS name");
      if (std::find(kDnsTypes.begin(), kDnsTypes.end(), d.type()) == kDnsTypes.end())
        ctx.error(pat, "type",
                  "unknown DNS type " + quote(d.type()) +
                      " (expected one of A AAAA CNAME MX NS PTR SOA SRV TXT)");
      break;
    }
    case Check::kExec:
      ctx.argv(at.child("exec"), "argv", ch.exec().argv(), true);
      break;
    case Check::kFile:
      ctx.absolutePath(at.child("file"), "path", ch.file().path());
      break;
    case Check::kTcp:
    case Check::kPing:
      break;
  }
  if (ch.interval_ms() == 0) {
    ctx.error(at, "interval_ms", "interval_ms must be positive");
  } else if (ch.timeout_ms() == 0) {
    ctx.error(at, "timeout_ms", "timeout_ms must be positive");
  } else if (ch.timeout_ms() >= ch.interval_ms()) {
    // A probe still running when the next one is due would overlap itself.
    ctx.error(at, ch.has_timeout_ms() ? "timeout_ms" : "interval_ms",
              "timeout_ms " + std::to_string(ch.timeout_ms()) + " is not below interval_ms " +
                  std::to_string(ch.interval_ms()));
  }
  ctx.range(at, "jitter_pct", ch.jitter_pct(), 0, 50);
  ctx.range(at, "retries", ch.retries(), 0, 10);
  ctx.range(at, "retry_delay_ms", ch.retry_delay_ms(), 0, 600000);
  ctx.range(at, "rise", ch.rise(), 1, 1000);
  ctx.range(at, "fall", ch.fall(), 1, 1000);
  ctx.range(at, "warmup_ms", ch.warmup_ms(), 0, 3600000);
  if (ch.has_target())
    if (auto p = rules::targetProblem(ch.target())) ctx.error(at, "target", *p);
}

void validateChecks(Context& ctx) {
  const Config& c = ctx.config;
  for (int i = 0; i < c.check_size(); ++i) {
    const Check& ch = c.check(i);
    Located at = ctx.root.child("check", i);
    ctx.uniqueName(at, ch.name(), "check", ctx.checks, i);
    validateCheck(ctx, ch, at);
  }
}

void validateCheckRefs(Context& ctx, const Located& at, const std::string& field,
                       const google::protobuf::RepeatedPtrField<std::string>& names) {
  std::set<std::string> seen;
  for (int i = 0; i < names.size(); ++i) {
    if (!ctx.checks.contains(names[i]))
      ctx.error(at, field, i, "unknown check " + quote(names[i]));
    else if (!seen.insert(names[i]).second)
      ctx.error(at, field, i, "check " + quote(names[i]) + " listed twice");
  }
}

}  // namespace lvsd::config::detail
