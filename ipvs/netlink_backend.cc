// IpvsBackend over the "IPVS" generic-netlink family.

#include <cerrno>
#include <cstring>
#include <functional>

#include "ipvs/genl_client.h"
#include "ipvs/ipvs.h"
#include "ipvs/netlink_codec.h"

namespace lvsd::ipvs {
namespace {

class NetlinkBackend final : public IpvsBackend {
 public:
  explicit NetlinkBackend(std::unique_ptr<GenlClient> client) : client_(std::move(client)) {}

  Result<Info> info() override {
    auto r = one(&nl::encodeGetInfo, "info");
    if (!r) return std::move(r).takeError();
    return nl::decodeInfo(*r);
  }

  Result<std::vector<ServiceEntry>> services() override {
    return dump<ServiceEntry>([](nl::Bytes& out, uint16_t f, uint32_t s) { nl::encodeDumpServices(out, f, s); },
                              [](const nl::Bytes& b) { return nl::decodeService(b); });
  }

  Result<ServiceEntry> service(const ServiceKey& key) override {
    auto r = one([&](nl::Bytes& out, uint16_t f, uint32_t s) { nl::encodeGetService(out, f, s, key); },
                 "get service");
    if (!r) return std::move(r).takeError();
    return nl::decodeService(*r);
  }

  Result<std::vector<DestinationEntry>> destinations(const ServiceKey& key) override {
    return dump<DestinationEntry>(
        [&](nl::Bytes& out, uint16_t f, uint32_t s) { nl::encodeDumpDestinations(out, f, s, key); },
        [&](const nl::Bytes& b) { return nl::decodeDestination(b, key.family); });
  }

  BatchResult apply(std::span<const Op> ops) override { return client_->batch(ops); }

  Status flush() override { return status(&nl::encodeFlush); }

  Status zero(const ServiceKey* key) override {
    return status([&](nl::Bytes& out, uint16_t f, uint32_t s) { nl::encodeZero(out, f, s, key); });
  }

  Result<Timeouts> timeouts() override {
    auto r = one(&nl::encodeGetConfig, "get config");
    if (!r) return std::move(r).takeError();
    return nl::decodeTimeouts(*r);
  }

  Status setTimeouts(const Timeouts& t) override {
    return status([&](nl::Bytes& out, uint16_t f, uint32_t s) { nl::encodeSetConfig(out, f, s, t); });
  }

  Result<std::vector<SyncDaemon>> syncDaemons() override {
    return dump<SyncDaemon>([](nl::Bytes& out, uint16_t f, uint32_t s) { nl::encodeDumpDaemons(out, f, s); },
                            [](const nl::Bytes& b) { return nl::decodeDaemon(b); });
  }

  Status startSyncDaemon(const SyncDaemon& d) override {
    return status([&](nl::Bytes& out, uint16_t f, uint32_t s) { nl::encodeNewDaemon(out, f, s, d); });
  }

  Status stopSyncDaemon(SyncState state) override {
    return status([&](nl::Bytes& out, uint16_t f, uint32_t s) { nl::encodeDelDaemon(out, f, s, state); });
  }

 private:
  using Encode = std::function<void(nl::Bytes&, uint16_t family, uint32_t seq)>;

  Result<std::vector<nl::Bytes>> transact(const Encode& encode) {
    uint32_t seq = client_->nextSeq();
    nl::Bytes req;
    encode(req, client_->family(), seq);
    return client_->transact(req, seq);
  }

  Status status(const Encode& encode) {
    auto r = transact(encode);
    if (!r) return std::move(r).takeError();
    return okStatus();
  }

  // A request answered by exactly one reply message.
  Result<nl::Bytes> one(const Encode& encode, const char* what) {
    auto r = transact(encode);
    if (!r) return std::move(r).takeError();
    if (r->empty()) return Error(std::string("IPVS ") + what + ": empty reply", EPROTO);
    return std::move(r->front());
  }

  template <typename T>
  Result<std::vector<T>> dump(const Encode& encode,
                              const std::function<Result<T>(const nl::Bytes&)>& decode) {
    uint32_t seq = client_->nextSeq();
    nl::Bytes req;
    encode(req, client_->family(), seq);
    auto replies = client_->dump(req, seq);
    if (!replies) return std::move(replies).takeError();
    std::vector<T> out;
    out.reserve(replies->size());
    for (const auto& r : *replies) {
      auto e = decode(r);
      if (!e) return std::move(e).takeError();
      out.push_back(std::move(*e));
    }
    return out;
  }

  std::unique_ptr<GenlClient> client_;
};

}  // namespace

Result<std::unique_ptr<IpvsBackend>> makeNetlinkBackend(const NetlinkOptions& opts) {
  auto transport = openNetlinkSocket(opts.receiveBuffer);
  if (!transport) return std::move(transport).takeError();
  // Distinct starting sequence numbers per process keep stray answers apart.
  auto client = std::make_unique<GenlClient>(std::move(*transport), opts,
                                             static_cast<uint32_t>(::getpid()) << 16);
  auto family = client->resolveFamily("IPVS");
  if (!family) {
    Error e = std::move(family).takeError();
    return Error("generic netlink family IPVS: " + e.what() + " (is ip_vs loaded?)", e.code);
  }
  return std::unique_ptr<IpvsBackend>(new NetlinkBackend(std::move(client)));
}

Result<Table> readTable(IpvsBackend& backend) {
  auto services = backend.services();
  if (!services) return std::move(services).takeError();
  Table table;
  table.reserve(services->size());
  for (auto& s : *services) {
    auto dests = backend.destinations(s.service.key);
    if (!dests) {
      Error e = std::move(dests).takeError();
      return Error("service " + s.service.key.toString() + ": " + e.what(), e.code);
    }
    VirtualServer vs{std::move(s.service), {}};
    vs.destinations.reserve(dests->size());
    for (auto& d : *dests) vs.destinations.push_back(std::move(d.dest));
    table.push_back(std::move(vs));
  }
  return table;
}

}  // namespace lvsd::ipvs
