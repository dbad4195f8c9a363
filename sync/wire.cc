#include "sync/wire.h"

#include <cstring>

namespace lvsd::sync::wire {

namespace {

void putU8(std::vector<uint8_t>& out, uint8_t v) { out.push_back(v); }
void putU16(std::vector<uint8_t>& out, uint16_t v) {
  out.push_back(uint8_t(v >> 8));
  out.push_back(uint8_t(v));
}
void putU32(std::vector<uint8_t>& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(uint8_t(v >> shift));
}
void putAddr(std::vector<uint8_t>& out, const IpAddress& a) {
  out.insert(out.end(), a.bytes().begin(), a.bytes().begin() + a.size());
}
void putSeq(std::vector<uint8_t>& out, const SeqAdjust& s) {
  putU32(out, s.initSeq);
  putU32(out, s.delta);
  putU32(out, s.previousDelta);
}

uint16_t getU16(const uint8_t* p) { return uint16_t(p[0] << 8 | p[1]); }
uint32_t getU32(const uint8_t* p) {
  return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3];
}
SeqAdjust getSeq(const uint8_t* p) { return {getU32(p), getU32(p + 4), getU32(p + 8)}; }

size_t baseLen(Family f) { return f == Family::kV6 ? kEntryV6Len : kEntryV4Len; }

Error at(size_t offset, const std::string& what) {
  return Error("offset " + std::to_string(offset) + ": " + what);
}

}  // namespace

Status validate(const SyncConn& c) {
  if (c.vaddr.family() != c.caddr.family() || c.daddr.family() != c.caddr.family())
    return Error("addresses of mixed families (client " + c.caddr.toString() + ", virtual " +
                 c.vaddr.toString() + ", destination " + c.daddr.toString() + ")");
  if (c.peData.size() > kPeDataMax)
    return Error("persistence-engine data of " + std::to_string(c.peData.size()) +
                 " bytes (at most " + std::to_string(kPeDataMax) + ")");
  if (c.peName.size() > kPeNameMax)
    return Error("persistence-engine name of " + std::to_string(c.peName.size()) +
                 " bytes (at most " + std::to_string(kPeNameMax) + ")");
  if (c.peData.empty() != c.peName.empty())
    return Error("persistence-engine data and name must come together");
  bool seqFlags = c.flags & kFlagSeqMask;
  if (seqFlags != (c.inSeq.has_value() && c.outSeq.has_value()) ||
      c.inSeq.has_value() != c.outSeq.has_value())
    return Error("sequence data must be present exactly when the IN_SEQ/OUT_SEQ flags are");
  return okStatus();
}

size_t entrySize(const SyncConn& c) {
  size_t n = baseLen(c.family());
  if (c.flags & kFlagSeqMask) n += 2 + kSeqDataLen;
  if (!c.peData.empty()) n += 2 + c.peData.size();
  if (!c.peName.empty()) n += 2 + c.peName.size();
  return n;
}

size_t messageSize(std::span<const SyncConn> conns) {
  size_t n = kHeaderLen;
  for (size_t i = 0; i < conns.size(); ++i) {
    n = (n + 3) & ~size_t{3};  // the previous entry's padding
    n += entrySize(conns[i]);
  }
  return n;
}

Result<std::vector<uint8_t>> encodeMessage(uint8_t syncId, std::span<const SyncConn> conns) {
  if (conns.size() > kMaxConnsPerMessage)
    return Error(std::to_string(conns.size()) + " entries in one message (at most 255)");
  size_t total = messageSize(conns);
  if (total > kMaxMessageLen)
    return Error("message of " + std::to_string(total) + " bytes (at most 65535)");
  std::vector<uint8_t> out;
  out.reserve(total);
  putU8(out, 0);  // reserved: a version-0 receiver sees nr_conns = 0
  putU8(out, syncId);
  putU16(out, uint16_t(total));
  putU8(out, uint8_t(conns.size()));
  putU8(out, kVersion);
  putU16(out, 0);  // spare
  for (size_t i = 0; i < conns.size(); ++i) {
    const SyncConn& c = conns[i];
    if (auto s = validate(c); !s)
      return Error(std::move(s).takeError()).context("entry " + std::to_string(i));
    while (out.size() % 4) out.push_back(0);
    size_t size = entrySize(c);
    putU8(out, c.family() == Family::kV6 ? kTypeInet6 : 0);
    putU8(out, c.protocol);
    putU16(out, uint16_t(size & kEntrySizeMask));  // entry version 0
    putU32(out, c.flags & ~kFlagHashed);
    putU16(out, c.state);
    putU16(out, c.cport);
    putU16(out, c.vport);
    putU16(out, c.dport);
    putU32(out, c.fwmark);
    putU32(out, c.timeout);
    putAddr(out, c.caddr);
    putAddr(out, c.vaddr);
    putAddr(out, c.daddr);
    if (c.flags & kFlagSeqMask) {
      putU8(out, kOptSeqData);
      putU8(out, kSeqDataLen);
      putSeq(out, *c.inSeq);
      putSeq(out, *c.outSeq);
    }
    if (!c.peData.empty()) {
      putU8(out, kOptPeData);
      putU8(out, uint8_t(c.peData.size()));
      out.insert(out.end(), c.peData.begin(), c.peData.end());
      putU8(out, kOptPeName);
      putU8(out, uint8_t(c.peName.size()));
      out.insert(out.end(), c.peName.begin(), c.peName.end());
    }
  }
  return out;
}

Result<Message> decodeMessage(std::span<const uint8_t> d) {
  if (d.size() < kHeaderLen)
    return Error("datagram of " + std::to_string(d.size()) + " bytes is shorter than the header");
  if (getU16(&d[2]) != d.size())
    return Error("header size " + std::to_string(getU16(&d[2])) + " but the datagram has " +
                 std::to_string(d.size()) + " bytes");
  if (d[0] != 0 || d[5] != kVersion || getU16(&d[6]) != 0)
    return Error("not a version-1 message (reserved " + std::to_string(d[0]) + ", version " +
                 std::to_string(d[5]) + ", spare " + std::to_string(getU16(&d[6])) + ")");
  Message m;
  m.syncId = d[1];
  size_t count = d[4];
  size_t pos = kHeaderLen;
  for (size_t i = 0; i < count; ++i) {
    if (pos + kEntryV4Len > d.size()) return at(pos, "entry " + std::to_string(i) + " truncated");
    const uint8_t* p = &d[pos];
    uint16_t verSize = getU16(p + 2);
    if (verSize >> kEntryVersionShift)
      return at(pos, "entry version " + std::to_string(verSize >> kEntryVersionShift));
    size_t size = verSize & kEntrySizeMask;
    if (pos + size > d.size())
      return at(pos, "entry size " + std::to_string(size) + " runs past the datagram");
    SyncConn c;
    Family fam;
    if (p[0] == kTypeInet6)
      fam = Family::kV6;
    else if (p[0] == 0)
      fam = Family::kV4;
    else
      return at(pos, "unknown entry type " + std::to_string(p[0]));
    size_t base = baseLen(fam);
    if (size < base)
      return at(pos, "entry size " + std::to_string(size) + " below the fixed part (" +
                         std::to_string(base) + ")");
    c.protocol = p[1];
    c.flags = getU32(p + 4);
    c.state = getU16(p + 8);
    c.cport = getU16(p + 10);
    c.vport = getU16(p + 12);
    c.dport = getU16(p + 14);
    c.fwmark = getU32(p + 16);
    c.timeout = getU32(p + 20);
    size_t alen = fam == Family::kV6 ? 16 : 4;
    c.caddr = IpAddress::fromBytes(fam, p + 24);
    c.vaddr = IpAddress::fromBytes(fam, p + 24 + alen);
    c.daddr = IpAddress::fromBytes(fam, p + 24 + 2 * alen);
    size_t o = base;
    bool seen[4] = {};
    while (o < size) {
      if (o + 2 > size) return at(pos + o, "option header truncated");
      uint8_t type = p[o], len = p[o + 1];
      o += 2;
      if (len == 0 || o + len > size)
        return at(pos + o - 2, "option length " + std::to_string(len) + " out of bounds");
      uint8_t kind = type & ~kOptOptional;
      if (kind >= kOptSeqData && kind <= kOptPeName) {
        if (seen[kind]) return at(pos + o - 2, "option " + std::to_string(kind) + " twice");
        seen[kind] = true;
      }
      switch (kind) {
        case kOptSeqData:
          if (len != kSeqDataLen)
            return at(pos + o - 2, "sequence option of " + std::to_string(len) + " bytes");
          c.inSeq = getSeq(p + o);
          c.outSeq = getSeq(p + o + 12);
          break;
        case kOptPeData:
          c.peData.assign(reinterpret_cast<const char*>(p + o), len);
          break;
        case kOptPeName:
          if (len > kPeNameMax)
            return at(pos + o - 2, "persistence-engine name of " + std::to_string(len) + " bytes");
          c.peName.assign(reinterpret_cast<const char*>(p + o), len);
          break;
        default:
          if (!(type & kOptOptional))
            return at(pos + o - 2, "unknown mandatory option " + std::to_string(kind));
          ++m.skippedOptional;
      }
      o += len;
    }
    if (c.peData.empty() != c.peName.empty())
      return at(pos, "persistence-engine data and name must come together");
    // The receiver only applies sequence data when the flags ask for it;
    // keep the entry self-consistent for validate().
    if (c.inSeq && !(c.flags & kFlagSeqMask))
      return at(pos, "sequence option without the IN_SEQ/OUT_SEQ flags");
    if (!c.inSeq && (c.flags & kFlagSeqMask))
      return at(pos, "IN_SEQ/OUT_SEQ flags without the sequence option");
    m.conns.push_back(std::move(c));
    pos += (size + 3) & ~size_t{3};
  }
  if (pos < d.size())
    return at(pos, std::to_string(d.size() - pos) + " bytes after the last entry");
  return m;
}

}  // namespace lvsd::sync::wire
