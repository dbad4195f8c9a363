#include "heartbeat/native_codec.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cctype>

namespace lvsd::heartbeat {

namespace {

// Domain separation: a MAC over this prefix cannot be confused with a MAC
// the same key might make elsewhere.
constexpr char kMacPrefix[] = "lvsd-hb-1";
constexpr size_t kMacPrefixLen = sizeof(kMacPrefix) - 1;

void computeMac(const std::vector<uint8_t>& key, uint32_t keyId, const std::string& payload,
                unsigned char out[kMacLen]) {
  std::string buf;
  buf.reserve(kMacPrefixLen + 4 + payload.size());
  buf.append(kMacPrefix, kMacPrefixLen);
  buf.push_back(static_cast<char>(keyId >> 24));
  buf.push_back(static_cast<char>(keyId >> 16));
  buf.push_back(static_cast<char>(keyId >> 8));
  buf.push_back(static_cast<char>(keyId));
  buf.append(payload);
  unsigned int len = kMacLen;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(buf.data()), buf.size(), out, &len);
}

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

Status KeyRing::add(uint32_t id, std::vector<uint8_t> secret) {
  if (secret.size() < 16) return Error("key " + std::to_string(id) + ": secret shorter than 16 bytes");
  if (!keys_.emplace(id, std::move(secret)).second)
    return Error("key " + std::to_string(id) + " given twice");
  if (keys_.size() == 1) sendKey_ = id;
  return okStatus();
}

Status KeyRing::setSendKey(uint32_t id) {
  if (!keys_.count(id)) return Error("send key " + std::to_string(id) + " names no key");
  sendKey_ = id;
  return okStatus();
}

const std::vector<uint8_t>* KeyRing::find(uint32_t id) const {
  auto it = keys_.find(id);
  return it == keys_.end() ? nullptr : &it->second;
}

Result<std::vector<uint8_t>> parseHexSecret(const std::string& text) {
  std::string digits;
  for (char c : text) {
    if (std::isspace(static_cast<unsigned char>(c))) continue;
    if (hexValue(c) < 0) return Error("secret is not hex");
    digits.push_back(c);
  }
  if (digits.size() % 2 != 0) return Error("secret has an odd number of hex digits");
  std::vector<uint8_t> out(digits.size() / 2);
  for (size_t i = 0; i < out.size(); ++i)
    out[i] = static_cast<uint8_t>(hexValue(digits[2 * i]) << 4 | hexValue(digits[2 * i + 1]));
  return out;
}

std::string sealFrame(const KeyRing& keys, const wire::Heartbeat& hb) {
  wire::Frame frame;
  frame.set_key_id(keys.sendKeyId());
  hb.SerializeToString(frame.mutable_payload());
  unsigned char mac[kMacLen];
  computeMac(*keys.find(keys.sendKeyId()), keys.sendKeyId(), frame.payload(), mac);
  frame.set_mac(mac, kMacLen);
  return frame.SerializeAsString();
}

Decoded<wire::Heartbeat> openFrame(const KeyRing& keys, std::span<const uint8_t> datagram) {
  using D = Decoded<wire::Heartbeat>;
  if (datagram.size() > kMaxFrameBytes) return D::fail(DropReason::kOversize);
  if (datagram.empty()) return D::fail(DropReason::kTruncated);
  wire::Frame frame;
  if (!frame.ParseFromArray(datagram.data(), static_cast<int>(datagram.size())))
    return D::fail(DropReason::kMalformed);
  const auto* key = keys.find(frame.key_id());
  if (!key) return D::fail(DropReason::kUnknownKey);
  if (frame.mac().size() != kMacLen) return D::fail(DropReason::kBadMac);
  unsigned char mac[kMacLen];
  computeMac(*key, frame.key_id(), frame.payload(), mac);
  if (CRYPTO_memcmp(mac, frame.mac().data(), kMacLen) != 0) return D::fail(DropReason::kBadMac);
  D d;
  if (!d.value.ParseFromString(frame.payload())) return D::fail(DropReason::kMalformed);
  if (d.value.version() != kNativeVersion) return D::fail(DropReason::kBadVersion);
  return d;
}

DropReason ReplayWindow::admit(uint64_t bootId, uint64_t seq, int64_t sentMs, int64_t nowMs,
                               int64_t windowMs) {
  int64_t skew = sentMs > nowMs ? sentMs - nowMs : nowMs - sentMs;
  if (skew > windowMs) return DropReason::kStale;
  if (!have_ || bootId != boot_) {
    // A different boot must be newer than anything of the boot we know.
    if (have_ && sentMs <= newestMs_) return DropReason::kReplayed;
    have_ = true;
    boot_ = bootId;
    maxSeq_ = seq;
    bitmap_ = 1;
    newestMs_ = sentMs;
    return DropReason::kNone;
  }
  if (seq > maxSeq_) {
    uint64_t shift = seq - maxSeq_;
    bitmap_ = shift >= kWidth ? 1 : (bitmap_ << shift) | 1;
    maxSeq_ = seq;
  } else {
    uint64_t back = maxSeq_ - seq;
    if (back >= kWidth) return DropReason::kReplayed;
    uint64_t bit = uint64_t(1) << back;
    if (bitmap_ & bit) return DropReason::kReplayed;
    bitmap_ |= bit;
  }
  if (sentMs > newestMs_) newestMs_ = sentMs;
  return DropReason::kNone;
}

}  // namespace lvsd::heartbeat
