#include "sync/peer_protocol.h"

#include <algorithm>
#include <cmath>

namespace lvsd::sync {

const char* channelErrorName(ChannelError e) {
  switch (e) {
    case ChannelError::kBadFrame:
      return "bad-frame";
    case ChannelError::kTruncated:
      return "truncated";
    case ChannelError::kMalformed:
      return "malformed";
    case ChannelError::kBadSequence:
      return "bad-sequence";
    case ChannelError::kNoHello:
      return "no-hello";
    case ChannelError::kBadHello:
      return "bad-hello";
    case ChannelError::kDuplicateHello:
      return "duplicate-hello";
    case ChannelError::kEmptyBody:
      return "empty-body";
    case ChannelError::kBadContent:
      return "bad-content";
    case ChannelError::kTimeout:
      return "timeout";
    case ChannelError::kTls:
      return "tls";
    case ChannelError::kIo:
      return "io";
    case ChannelError::kReplaced:
      return "replaced";
    case ChannelError::kOverflow:
      return "overflow";
  }
  return "?";
}

std::string encodePeerFrame(const wire::PeerMessage& m) {
  std::string body = m.SerializeAsString();
  std::string out(4, '\0');
  uint32_t n = uint32_t(body.size());
  out[0] = char(n >> 24);
  out[1] = char(n >> 16);
  out[2] = char(n >> 8);
  out[3] = char(n);
  out += body;
  return out;
}

void FrameReader::feed(const void* data, size_t n) {
  // Drop consumed bytes before growing, so the buffer holds at most one
  // frame plus what arrived with it.
  if (pos_ > 0 && pos_ >= buf_.size() / 2) {
    buf_.erase(0, pos_);
    pos_ = 0;
  }
  buf_.append(static_cast<const char*>(data), n);
}

std::variant<std::nullopt_t, std::string, Violation> FrameReader::next() {
  if (pending() < 4) return std::nullopt;
  const auto* p = reinterpret_cast<const uint8_t*>(buf_.data() + pos_);
  uint32_t len = uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3];
  if (len == 0 || len > kMaxPeerFrame)
    return Violation{ChannelError::kBadFrame, "frame length " + std::to_string(len) +
                                                  " outside 1.." + std::to_string(kMaxPeerFrame)};
  if (pending() < 4 + size_t{len}) return std::nullopt;
  std::string payload = buf_.substr(pos_ + 4, len);
  pos_ += 4 + len;
  return payload;
}

std::string FrameReader::truncation() const {
  if (pending() == 0) return "";
  if (pending() < 4)
    return "truncated frame: " + std::to_string(pending()) + " of 4 header bytes";
  const auto* p = reinterpret_cast<const uint8_t*>(buf_.data() + pos_);
  uint32_t len = uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3];
  return "truncated frame: " + std::to_string(pending() - 4) + " of " + std::to_string(len) +
         " bytes";
}

PeerSession::PeerSession(std::string self, std::set<std::string> directors,
                         std::string expectedPeer,
                         std::function<bool(const std::string&)> identityMatches)
    : self_(std::move(self)),
      directors_(std::move(directors)),
      expected_(std::move(expectedPeer)),
      identityMatches_(std::move(identityMatches)) {}

std::variant<wire::PeerMessage, Violation> PeerSession::receive(std::string_view payload) {
  wire::PeerMessage m;
  if (!m.ParseFromArray(payload.data(), int(payload.size())))
    return Violation{ChannelError::kMalformed,
                     "payload of " + std::to_string(payload.size()) + " bytes is not a PeerMessage"};
  if (m.seq() != received_ + 1)
    return Violation{ChannelError::kBadSequence, "seq " + std::to_string(m.seq()) + " after " +
                                                     std::to_string(received_)};
  if (m.body_case() == wire::PeerMessage::BODY_NOT_SET)
    return Violation{ChannelError::kEmptyBody, "message " + std::to_string(m.seq()) +
                                                   " has no body"};
  if (!established()) {
    if (m.body_case() != wire::PeerMessage::kHello)
      return Violation{ChannelError::kNoHello,
                       "first message is field " + std::to_string(int(m.body_case())) +
                           ", not a Hello"};
    const auto& h = m.hello();
    if (h.version() != kPeerProtocolVersion)
      return Violation{ChannelError::kBadHello,
                       "protocol version " + std::to_string(h.version()) + " (speaks " +
                           std::to_string(kPeerProtocolVersion) + ")"};
    if (h.director() == self_ || !directors_.count(h.director()))
      return Violation{ChannelError::kBadHello,
                       "hello from '" + h.director() + "', not a peer director"};
    if (!expected_.empty() && h.director() != expected_)
      return Violation{ChannelError::kBadHello,
                       "dialled '" + expected_ + "' but hello says '" + h.director() + "'"};
    if (identityMatches_ && !identityMatches_(h.director()))
      return Violation{ChannelError::kBadHello,
                       "hello says '" + h.director() + "' but the TLS identity is not that director"};
    peer_ = h.director();
    bootId_ = h.boot_id();
  } else if (m.body_case() == wire::PeerMessage::kHello) {
    return Violation{ChannelError::kDuplicateHello, "second hello at seq " + std::to_string(m.seq())};
  }
  received_ = m.seq();
  return m;
}

void toProto(const HealthView& v, wire::HealthReport* out) {
  for (const auto& s : v.services) {
    auto* ps = out->add_service();
    ps->set_key(s.key);
    ps->set_quorum(s.quorum);
    ps->set_sorry_active(s.sorryActive);
    for (const auto& r : s.realServers) {
      auto* pr = ps->add_real_server();
      pr->set_address(r.address.toString());
      pr->set_up(r.up);
      pr->set_in_pool(r.weight.has_value());
      pr->set_weight(r.weight.value_or(0));
      pr->set_draining(r.draining);
      pr->set_settled(r.settled);
    }
  }
}

Result<HealthView> fromProto(const wire::HealthReport& r) {
  HealthView v;
  for (const auto& ps : r.service()) {
    ServiceHealth s;
    s.key = ps.key();
    s.quorum = ps.quorum();
    s.sorryActive = ps.sorry_active();
    for (const auto& pr : ps.real_server()) {
      auto ep = Endpoint::parse(pr.address(), true);
      if (!ep) return Error(ep.error().message).context("service '" + ps.key() + "'");
      RealServerHealth h;
      h.address = *ep;
      h.up = pr.up();
      if (pr.in_pool()) h.weight = pr.weight();
      h.draining = pr.draining();
      h.settled = pr.settled();
      s.realServers.push_back(std::move(h));
    }
    v.services.push_back(std::move(s));
  }
  return v;
}

std::optional<InstanceRole> parseRole(std::string_view name) {
  for (auto r : {InstanceRole::kInit, InstanceRole::kBackup, InstanceRole::kMaster,
                 InstanceRole::kFault, InstanceRole::kStop})
    if (name == roleName(r)) return r;
  return std::nullopt;
}

void toProto(const std::map<std::string, InstanceRole>& roles,
             google::protobuf::RepeatedPtrField<wire::InstanceRole>* out) {
  for (const auto& [instance, role] : roles) {
    auto* r = out->Add();
    r->set_instance(instance);
    r->set_state(roleName(role));
  }
}

Result<std::map<std::string, InstanceRole>> fromProto(
    const google::protobuf::RepeatedPtrField<wire::InstanceRole>& roles) {
  std::map<std::string, InstanceRole> out;
  for (const auto& r : roles) {
    auto role = parseRole(r.state());
    if (!role) return Error("instance '" + r.instance() + "': unknown state '" + r.state() + "'");
    out[r.instance()] = *role;
  }
  return out;
}

std::vector<std::string> PeerBook::setLocalDigest(const std::string& digest) {
  local_ = digest;
  std::vector<std::string> changed;
  for (auto& [name, e] : peers_) {
    if (!e.compared) continue;
    bool mismatch = e.digest != local_;
    if (mismatch != e.mismatch) {
      e.mismatch = mismatch;
      changed.push_back(name);
    }
  }
  return changed;
}

bool PeerBook::peerDigest(const std::string& peer, const std::string& digest,
                          uint64_t generation) {
  Entry& e = peers_[peer];
  e.digest = digest;
  e.generation = generation;
  bool mismatch = digest != local_;
  bool changed = !e.compared || mismatch != e.mismatch;
  e.mismatch = mismatch;
  e.compared = true;
  return changed;
}

void PeerBook::peerHello(const std::string& peer, uint64_t bootId) {
  Entry& e = peers_[peer];
  if (e.bootId != bootId) {
    e.bootId = bootId;
    e.healthVersion = 0;
  }
}

bool PeerBook::peerHealth(const std::string& peer, uint64_t version, HealthView view) {
  Entry& e = peers_[peer];
  if (version <= e.healthVersion) return false;
  e.healthVersion = version;
  e.health = std::move(view);
  return true;
}

void PeerBook::peerRoles(const std::string& peer, std::map<std::string, InstanceRole> roles) {
  peers_[peer].roles = std::move(roles);
}

void PeerBook::forget(const std::string& peer) { peers_.erase(peer); }

const PeerBook::Entry* PeerBook::find(const std::string& peer) const {
  auto it = peers_.find(peer);
  return it == peers_.end() ? nullptr : &it->second;
}

Backoff::Backoff(Duration initial, Duration max, double jitter, uint64_t seed)
    : initial_(initial),
      max_(std::max(max, initial)),
      jitter_(std::clamp(jitter, 0.0, 1.0)),
      state_(seed ? seed : 0x9e3779b97f4a7c15ull) {}

double Backoff::uniform() {
  // xorshift64*: deterministic for a seed, good enough for spreading retries.
  state_ ^= state_ >> 12;
  state_ ^= state_ << 25;
  state_ ^= state_ >> 27;
  uint64_t v = state_ * 0x2545f4914f6cdd1dull;
  return double(v >> 11) / double(uint64_t{1} << 53);
}

Duration Backoff::next() {
  double base = double(initial_.count()) * std::pow(2.0, std::min(attempt_, 30u));
  base = std::min(base, double(max_.count()));
  ++attempt_;
  double spread = 1.0 + jitter_ * (2.0 * uniform() - 1.0);
  return Duration(int64_t(base * spread));
}

}  // namespace lvsd::sync
