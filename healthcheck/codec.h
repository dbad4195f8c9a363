#pragma once
// Pure encoders/decoders and verdicts of the probes that are not HTTP: DNS
// (RFC 1035 §4), ICMP echo (RFC 792, RFC 4443 §4), the file probe's content
// and the exec probe's exit status (keepalived's MISC_CHECK convention).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "healthcheck/checker.h"

namespace lvsd::healthcheck {

// --- DNS -------------------------------------------------------------------
// "A" → 1, "AAAA" → 28, ...; error for an unknown type.
Result<uint16_t> dnsTypeCode(std::string_view name);
// A recursion-desired query for one question of class IN.
Result<std::vector<uint8_t>> encodeDnsQuery(uint16_t id, std::string_view name, uint16_t type);
// Up when the reply answers query `id` with NOERROR and at least one answer
// record of `type`; otherwise down with the reason (rcode, no answer, ...).
// A reply whose id does not match returns an error (not ours: keep waiting).
Result<ProbeResult> judgeDnsReply(const uint8_t* data, size_t size, uint16_t id, uint16_t type);

// --- ICMP echo -------------------------------------------------------------
// Echo request; for IPv4 with its checksum (for ICMPv6 the kernel computes it).
std::vector<uint8_t> encodeEchoRequest(bool v6, uint16_t id, uint16_t seq,
                                       std::string_view payload);
struct EchoReply {
  uint16_t id = 0;
  uint16_t seq = 0;
};
// An echo reply in `data`, or nullopt for anything else. `ipHeader`: data
// starts with the IPv4 header (raw IPv4 sockets deliver it).
std::optional<EchoReply> parseEchoReply(bool v6, bool ipHeader, const uint8_t* data, size_t size);
uint16_t inetChecksum(const uint8_t* data, size_t size);

// --- file probe ------------------------------------------------------------
// "up", "down", "drain", "weight N" (0..65535), case-insensitive, surrounding
// whitespace ignored; empty content is "up".
ProbeResult judgeFileContent(std::string_view content);

// --- exec probe ------------------------------------------------------------
// `status` as from waitpid. Exit 0 = up; with `dynamic`, exit 2..255 = up
// with weight exit−2 (MISC_CHECK misc_dynamic); otherwise down.
ProbeResult judgeExitStatus(int status, bool dynamic);

}  // namespace lvsd::healthcheck
