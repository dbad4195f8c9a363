#include "sync/wire.h"

#include <gtest/gtest.h>

namespace lvsd::sync::wire {
namespace {

IpAddress ip(const char* s) { return IpAddress::parse(s).value(); }

using Bytes = std::vector<uint8_t>;

// A TCP connection 192.0.2.1:40000 -> 198.51.100.10:80 -> 10.0.0.5:8080, DR.
SyncConn tcpConn() {
  SyncConn c;
  c.protocol = kProtoTcp;
  c.flags = kFwdRoute;
  c.state = 1;  // ESTABLISHED
  c.caddr = ip("192.0.2.1");
  c.vaddr = ip("198.51.100.10");
  c.daddr = ip("10.0.0.5");
  c.cport = 40000;
  c.vport = 80;
  c.dport = 8080;
  c.timeout = 899;
  return c;
}

const Bytes kTcpEntry = {
    0x00, 0x06, 0x00, 0x24,  // type v4, TCP, version 0 | size 36
    0x00, 0x00, 0x00, 0x03,  // flags: DROUTE
    0x00, 0x01, 0x9c, 0x40,  // state ESTABLISHED, cport 40000
    0x00, 0x50, 0x1f, 0x90,  // vport 80, dport 8080
    0x00, 0x00, 0x00, 0x00,  // fwmark
    0x00, 0x00, 0x03, 0x83,  // timeout 899 s
    0xc0, 0x00, 0x02, 0x01,  // caddr 192.0.2.1
    0xc6, 0x33, 0x64, 0x0a,  // vaddr 198.51.100.10
    0x0a, 0x00, 0x00, 0x05,  // daddr 10.0.0.5
};

Bytes concat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

TEST(SyncWire, EncodesOneIpv4ConnectionByteForByte) {
  SyncConn c = tcpConn();
  auto m = encodeMessage(7, std::span(&c, 1));
  ASSERT_TRUE(m.ok()) << m.error().message;
  Bytes header = {0x00, 0x07, 0x00, 0x2c, 0x01, 0x01, 0x00, 0x00};
  EXPECT_EQ(*m, concat({header, kTcpEntry}));
}

TEST(SyncWire, EmptyMessageIsJustTheHeader) {
  auto m = encodeMessage(0, {});
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(*m, (Bytes{0x00, 0x00, 0x00, 0x08, 0x00, 0x01, 0x00, 0x00}));
  auto d = decodeMessage(*m);
  ASSERT_TRUE(d.ok());
  EXPECT_TRUE(d->conns.empty());
}

TEST(SyncWire, EncodesIpv6FirewallMarkTemplate) {
  SyncConn c;
  c.protocol = kProtoIp;
  c.flags = kFlagTemplate | kFlagInactive | kFwdMasq;
  c.state = 1;  // ASSURED
  c.caddr = ip("2001:db8::1");
  c.vaddr = ip("0:7::");  // the fwmark (7) in the first four bytes
  c.daddr = ip("2001:db8:1::5");
  c.fwmark = 7;
  c.timeout = 300;
  auto m = encodeMessage(0, std::span(&c, 1));
  ASSERT_TRUE(m.ok()) << m.error().message;
  Bytes expected = {
      0x00, 0x00, 0x00, 0x50, 0x01, 0x01, 0x00, 0x00,  // header, 8 + 72 bytes
      0x01, 0x00, 0x00, 0x48,                          // type v6, IPPROTO_IP, size 72
      0x00, 0x00, 0x11, 0x00,                          // flags TEMPLATE|INACTIVE, MASQ
      0x00, 0x01, 0x00, 0x00,                          // ASSURED, cport 0
      0x00, 0x00, 0x00, 0x00,                          // vport 0, dport 0
      0x00, 0x00, 0x00, 0x07,                          // fwmark 7
      0x00, 0x00, 0x01, 0x2c,                          // timeout 300
      0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01,
      0x00, 0x00, 0x00, 0x07, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00,
      0x20, 0x01, 0x0d, 0xb8, 0, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x05,
  };
  EXPECT_EQ(*m, expected);
}

TEST(SyncWire, PadsAnEntryWithOptionsBeforeTheNextOne) {
  SyncConn t = tcpConn();
  t.flags = kFlagTemplate | kFwdRoute;
  t.state = 0;
  t.cport = 0;
  t.peData = "abc";
  t.peName = "sip";
  SyncConn c = tcpConn();
  std::vector<SyncConn> both = {t, c};
  auto m = encodeMessage(1, both);
  ASSERT_TRUE(m.ok()) << m.error().message;
  // Template: 36 + (2+3) + (2+3) = 46 bytes, then 2 bytes of padding (8 + 46
  // = 54 -> 56), then the 36-byte connection: 92 bytes in all.
  Bytes header = {0x00, 0x01, 0x00, 0x5c, 0x02, 0x01, 0x00, 0x00};
  Bytes tmpl = {
      0x00, 0x06, 0x00, 0x2e, 0x00, 0x00, 0x10, 0x03,  // size 46, TEMPLATE|DROUTE
      0x00, 0x00, 0x00, 0x00, 0x00, 0x50, 0x1f, 0x90,  // NONE, cport 0, vport 80, dport 8080
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x83,  // fwmark, timeout
      0xc0, 0x00, 0x02, 0x01, 0xc6, 0x33, 0x64, 0x0a, 0x0a, 0x00, 0x00, 0x05,
      0x02, 0x03, 'a',  'b',  'c',                     // PE_DATA "abc"
      0x03, 0x03, 's',  'i',  'p',                     // PE_NAME "sip"
      0x00, 0x00,                                      // padding
  };
  EXPECT_EQ(*m, concat({header, tmpl, kTcpEntry}));
  EXPECT_EQ(messageSize(both), 92u);
  EXPECT_EQ(entrySize(t), 46u);
}

TEST(SyncWire, EncodesSequenceOption) {
  SyncConn c = tcpConn();
  c.flags = kFwdMasq | kFlagInSeq;
  c.inSeq = SeqAdjust{0x01020304, 5, 6};
  c.outSeq = SeqAdjust{0xa0b0c0d0, 0xffffffff, 0};
  auto m = encodeMessage(0, std::span(&c, 1));
  ASSERT_TRUE(m.ok()) << m.error().message;
  ASSERT_EQ(m->size(), 8u + 36 + 26);
  Bytes opt(m->begin() + 8 + 36, m->end());
  EXPECT_EQ(opt, (Bytes{0x01, 0x18,                                      // SEQ_DATA, 24 bytes
                        0x01, 0x02, 0x03, 0x04, 0, 0, 0, 5, 0, 0, 0, 6,  // in_seq
                        0xa0, 0xb0, 0xc0, 0xd0, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0}));
  EXPECT_EQ((*m)[8 + 3], 62);  // ver_size
}

TEST(SyncWire, NeverSendsTheHashedFlag) {
  SyncConn c = tcpConn();
  c.flags |= kFlagHashed;
  auto m = encodeMessage(0, std::span(&c, 1));
  ASSERT_TRUE(m.ok());
  EXPECT_EQ((*m)[8 + 7], 0x03);
  EXPECT_EQ((*m)[8 + 6], 0x00);
}

TEST(SyncWire, RoundTripsEveryShape) {
  std::vector<SyncConn> all;
  all.push_back(tcpConn());
  SyncConn t = tcpConn();
  t.flags = kFlagTemplate | kFwdTunnel;
  t.cport = 0;
  t.peData = std::string(255, 'x');
  t.peName = std::string(16, 'n');
  all.push_back(t);
  SyncConn s = tcpConn();
  s.flags = kFwdMasq | kFlagSeqMask | kFlagInactive;
  s.inSeq = SeqAdjust{1, 2, 3};
  s.outSeq = SeqAdjust{4, 5, 6};
  all.push_back(s);
  SyncConn v6 = tcpConn();
  v6.protocol = kProtoSctp;
  v6.caddr = ip("2001:db8::a");
  v6.vaddr = ip("2001:db8::b");
  v6.daddr = ip("fe80::1");
  v6.fwmark = 0xdeadbeef;
  all.push_back(v6);
  auto m = encodeMessage(200, all);
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(m->size(), messageSize(all));
  auto d = decodeMessage(*m);
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(d->syncId, 200);
  EXPECT_EQ(d->conns, all);
}

TEST(SyncWire, RefusesWhatCannotBeEncoded) {
  std::vector<SyncConn> many(256, tcpConn());
  EXPECT_FALSE(encodeMessage(0, many).ok());
  many.resize(255);
  EXPECT_TRUE(encodeMessage(0, many).ok());

  SyncConn big = tcpConn();
  big.flags |= kFlagTemplate;
  big.peData = std::string(255, 'd');
  big.peName = std::string(16, 'n');
  std::vector<SyncConn> bigs(255, big);  // 255 × 312 bytes > 65535
  auto e = encodeMessage(0, bigs);
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.error().message.find("65535"), std::string::npos);

  SyncConn mixed = tcpConn();
  mixed.daddr = ip("2001:db8::5");
  e = encodeMessage(0, std::span(&mixed, 1));
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.error().message.find("entry 0: addresses of mixed families"), std::string::npos);

  SyncConn noName = tcpConn();
  noName.peData = "x";
  EXPECT_FALSE(validate(noName).ok());
  SyncConn longName = tcpConn();
  longName.peData = "x";
  longName.peName = std::string(17, 'n');
  EXPECT_FALSE(validate(longName).ok());
  SyncConn longData = tcpConn();
  longData.peData = std::string(256, 'd');
  longData.peName = "sip";
  EXPECT_FALSE(validate(longData).ok());
  SyncConn seqNoData = tcpConn();
  seqNoData.flags |= kFlagOutSeq;
  EXPECT_FALSE(validate(seqNoData).ok());
  SyncConn dataNoSeq = tcpConn();
  dataNoSeq.inSeq = SeqAdjust{};
  dataNoSeq.outSeq = SeqAdjust{};
  EXPECT_FALSE(validate(dataNoSeq).ok());
  EXPECT_TRUE(validate(tcpConn()).ok());
}

Bytes oneTcp() {
  SyncConn c = tcpConn();
  return encodeMessage(0, std::span(&c, 1)).value();
}

void expectDecodeError(Bytes b, const std::string& fragment) {
  auto d = decodeMessage(b);
  ASSERT_FALSE(d.ok()) << "accepted; wanted: " << fragment;
  EXPECT_NE(d.error().message.find(fragment), std::string::npos) << d.error().message;
}

void setSize(Bytes& b) {
  b[2] = uint8_t(b.size() >> 8);
  b[3] = uint8_t(b.size());
}

TEST(SyncWire, DecoderRejectsBrokenHeaders) {
  expectDecodeError(Bytes{0, 0, 0, 4}, "shorter than the header");
  Bytes b = oneTcp();
  b.pop_back();
  expectDecodeError(b, "header size 44 but the datagram has 43 bytes");
  b = oneTcp();
  b[5] = 0;
  expectDecodeError(b, "not a version-1 message");
  b = oneTcp();
  b[0] = 1;
  expectDecodeError(b, "reserved 1");
  b = oneTcp();
  b[7] = 1;
  expectDecodeError(b, "spare 1");
}

TEST(SyncWire, DecoderRejectsBrokenEntries) {
  Bytes b = oneTcp();
  b[4] = 2;  // claims two entries
  expectDecodeError(b, "offset 44: entry 1 truncated");

  b = oneTcp();
  b[8 + 2] = 0x10;  // entry version 1
  expectDecodeError(b, "entry version 1");

  b = oneTcp();
  b[8] = 2;
  expectDecodeError(b, "unknown entry type 2");

  b = oneTcp();
  b[8 + 3] = 40;  // size past the end
  expectDecodeError(b, "runs past the datagram");

  b = oneTcp();
  b[8 + 3] = 30;  // below the fixed part
  expectDecodeError(b, "below the fixed part");

  b = oneTcp();
  b[8] = 1;  // IPv6 type with an IPv4-sized entry
  expectDecodeError(b, "entry size 36 below the fixed part (72)");

  b = oneTcp();
  b.insert(b.end(), {0, 0, 0, 0});
  setSize(b);
  expectDecodeError(b, "4 bytes after the last entry");
}

Bytes withOptions(Bytes opts) {
  Bytes b = oneTcp();
  b.insert(b.end(), opts.begin(), opts.end());
  b[8 + 3] = uint8_t(36 + opts.size());
  setSize(b);
  return b;
}

TEST(SyncWire, DecoderChecksOptions) {
  expectDecodeError(withOptions({0x02}), "option header truncated");
  expectDecodeError(withOptions({0x02, 0x00}), "option length 0");
  expectDecodeError(withOptions({0x02, 0x05, 'a', 'b'}), "option length 5 out of bounds");
  expectDecodeError(withOptions({0x02, 0x01, 'a'}), "data and name must come together");
  expectDecodeError(withOptions({0x02, 0x01, 'a', 0x03, 0x01, 's', 0x02, 0x01, 'b'}),
                    "option 2 twice");
  expectDecodeError(withOptions({0x05, 0x01, 'z'}), "unknown mandatory option 5");
  expectDecodeError(withOptions({0x01, 0x02, 0, 0}), "sequence option of 2 bytes");
  Bytes seq = {0x01, 0x18};
  seq.resize(26, 0);
  expectDecodeError(withOptions(seq), "sequence option without the IN_SEQ/OUT_SEQ flags");
  Bytes longName = {0x02, 0x01, 'a', 0x03, 17};
  longName.resize(longName.size() + 17, 'n');
  expectDecodeError(withOptions(longName), "persistence-engine name of 17 bytes");

  auto ok = decodeMessage(withOptions({0x45, 0x02, 'z', 'z', 0x02, 0x01, 'a', 0x03, 0x01, 's'}));
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(ok->skippedOptional, 1u);
  EXPECT_EQ(ok->conns.at(0).peData, "a");
  EXPECT_EQ(ok->conns.at(0).peName, "s");

  Bytes flagsNoSeq = oneTcp();
  flagsNoSeq[8 + 6] = 0x04;  // IN_SEQ
  expectDecodeError(flagsNoSeq, "flags without the sequence option");
}

}  // namespace
}  // namespace lvsd::sync::wire
