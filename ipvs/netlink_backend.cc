// IpvsBackend over the "IPVS" generic-netlink family.

#include <cerrno>
#include <cstring>

#include "ipvs/genl_client.h"
#include "ipvs/ipvs.h"
#include "ipvs/netlink_codec.h"

namespace lvsd::ipvs {
namespace {

class NetlinkBackend final : public IpvsBackend {
 public:
  explicit NetlinkBackend(std::unique_ptr<GenlClient> client) : client_(std::move(client)) {}

  Result<Info> info() override {
    uint32_t seq = client_->nextSeq();
    nl::Bytes req;
    nl::encodeGetInfo(req, client_->family(), seq);
    auto replies = client_->transact(req, seq);
    if (!replies) return std::move(replies).takeError();
    if (replies->empty()) return Error("IPVS info: empty reply", EPROTO);
    return nl::decodeInfo(replies->front());
  }

  Result<std::vector<ServiceEntry>> services() override {
    uint32_t seq = client_->nextSeq();
    nl::Bytes req;
    nl::encodeDumpServices(req, client_->family(), seq);
    auto replies = client_->dump(req, seq);
    if (!replies) return std::move(replies).takeError();
    std::vector<ServiceEntry> out;
    out.reserve(replies->size());
    for (const auto& r : *replies) {
      auto e = nl::decodeService(r);
      if (!e) return std::move(e).takeError();
      out.push_back(std::move(*e));
    }
    return out;
  }

  Result<ServiceEntry> service(const ServiceKey& key) override {
    uint32_t seq = client_->nextSeq();
    nl::Bytes req;
    nl::encodeGetService(req, client_->family(), seq, key);
    auto replies = client_->transact(req, seq);
    if (!replies) return std::move(replies).takeError();
    if (replies->empty()) return Error("IPVS get service: empty reply", EPROTO);
    return nl::decodeService(replies->front());
  }

  Result<std::vector<DestinationEntry>> destinations(const ServiceKey& key) override {
    uint32_t seq = client_->nextSeq();
    nl::Bytes req;
    nl::encodeDumpDestinations(req, client_->family(), seq, key);
    auto replies = client_->dump(req, seq);
    if (!replies) return std::move(replies).takeError();
    std::vector<DestinationEntry> out;
    out.reserve(replies->size());
    for (const auto& r : *replies) {
      auto e = nl::decodeDestination(r, key.family);
      if (!e) return std::move(e).takeError();
      out.push_back(std::move(*e));
    }
    return out;
  }

  BatchResult apply(std::span<const Op> ops) override { return client_->batch(ops); }

  Status flush() override {
    uint32_t seq = client_->nextSeq();
    nl::Bytes req;
    nl::encodeFlush(req, client_->family(), seq);
    return status(client_->transact(req, seq));
  }

  Status zero(const ServiceKey* key) override {
    uint32_t seq = client_->nextSeq();
    nl::Bytes req;
    nl::encodeZero(req, client_->family(), seq, key);
    return status(client_->transact(req, seq));
  }

  Result<Timeouts> timeouts() override {
    uint32_t seq = client_->nextSeq();
    nl::Bytes req;
    nl::encodeGetConfig(req, client_->family(), seq);
    auto replies = client_->transact(req, seq);
    if (!replies) return std::move(replies).takeError();
    if (replies->empty()) return Error("IPVS get config: empty reply", EPROTO);
    return nl::decodeTimeouts(replies->front());
  }

  Status setTimeouts(const Timeouts& t) override {
    uint32_t seq = client_->nextSeq();
    nl::Bytes req;
    nl::encodeSetConfig(req, client_->family(), seq, t);
    return status(client_->transact(req, seq));
  }

  Result<std::vector<SyncDaemon>> syncDaemons() override {
    uint32_t seq = client_->nextSeq();
    nl::Bytes req;
    nl::encodeDumpDaemons(req, client_->family(), seq);
    auto replies = client_->dump(req, seq);
    if (!replies) return std::move(replies).takeError();
    std::vector<SyncDaemon> out;
    for (const auto& r : *replies) {
      auto d = nl::decodeDaemon(r);
      if (!d) return std::move(d).takeError();
      out.push_back(std::move(*d));
    }
    return out;
  }

  Status startSyncDaemon(const SyncDaemon& d) override {
    uint32_t seq = client_->nextSeq();
    nl::Bytes req;
    nl::encodeNewDaemon(req, client_->family(), seq, d);
    return status(client_->transact(req, seq));
  }

  Status stopSyncDaemon(SyncState state) override {
    uint32_t seq = client_->nextSeq();
    nl::Bytes req;
    nl::encodeDelDaemon(req, client_->family(), seq, state);
    return status(client_->transact(req, seq));
  }

 private:
  static Status status(const Result<std::vector<nl::Bytes>>& r) {
    if (!r) return r.error();
    return okStatus();
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
