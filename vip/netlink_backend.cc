// rtnetlink address changes through libnl-route-3.
#include <linux/if_addr.h>
#include <net/if.h>
#include <netlink/cache.h>
#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <sys/socket.h>

#include "vip/vip.h"

namespace lvsd::vip {

namespace {

Error nlError(const std::string& what, int err) {
  return Error(what + ": " + nl_geterror(err), err < 0 ? -err : err);
}

class NetlinkBackend final : public AddressBackend {
 public:
  explicit NetlinkBackend(nl_sock* sock) : sock_(sock) {}
  ~NetlinkBackend() override { nl_socket_free(sock_); }

  Status add(const VipSpec& v) override {
    auto addr = build(v);
    if (!addr) return std::move(addr).takeError();
    int err = rtnl_addr_add(sock_, addr->get(), NLM_F_CREATE | NLM_F_EXCL);
    if (err == -NLE_EXIST) return okStatus();
    if (err < 0) return nlError("add " + v.toString(), err);
    return okStatus();
  }

  Result<bool> has(const VipSpec& v) override {
    auto want = build(v);
    if (!want) {
      if (want.error().code == ENODEV) return false;
      return std::move(want).takeError();
    }
    nl_cache* cache = nullptr;
    int err = rtnl_addr_alloc_cache(sock_, &cache);
    if (err < 0) return nlError("list addresses", err);
    bool found = false;
    for (nl_object* o = nl_cache_get_first(cache); o && !found; o = nl_cache_get_next(o)) {
      auto* a = reinterpret_cast<rtnl_addr*>(o);
      // Same interface, address and prefix length (nl_addr_cmp compares all three).
      found = rtnl_addr_get_ifindex(a) == rtnl_addr_get_ifindex(want->get()) &&
              nl_addr_cmp(rtnl_addr_get_local(a), rtnl_addr_get_local(want->get())) == 0;
    }
    nl_cache_free(cache);
    return found;
  }

  Status remove(const VipSpec& v) override {
    auto addr = build(v);
    if (!addr) {
      // The interface is gone, and with it the address.
      if (addr.error().code == ENODEV) return okStatus();
      return std::move(addr).takeError();
    }
    int err = rtnl_addr_delete(sock_, addr->get(), 0);
    if (err == -NLE_NOADDR || err == -NLE_OBJ_NOTFOUND || err == -NLE_NODEV) return okStatus();
    if (err < 0) return nlError("remove " + v.toString(), err);
    return okStatus();
  }

 private:
  struct AddrDeleter {
    void operator()(rtnl_addr* a) const { rtnl_addr_put(a); }
  };
  using AddrPtr = std::unique_ptr<rtnl_addr, AddrDeleter>;

  Result<AddrPtr> build(const VipSpec& v) {
    unsigned ifindex = if_nametoindex(v.interface.c_str());
    if (ifindex == 0) return Error("interface " + v.interface + " not found", ENODEV);
    AddrPtr a(rtnl_addr_alloc());
    if (!a) return Error("out of memory");
    const IpAddress& ip = v.prefix.address();
    int family = toAf(ip.family());
    nl_addr* local = nl_addr_build(family, ip.bytes().data(), ip.size());
    if (!local) return Error("out of memory");
    nl_addr_set_prefixlen(local, v.prefix.length());
    rtnl_addr_set_ifindex(a.get(), static_cast<int>(ifindex));
    rtnl_addr_set_family(a.get(), family);
    int err = rtnl_addr_set_local(a.get(), local);
    nl_addr_put(local);
    if (err < 0) return nlError("address " + v.toString(), err);
    rtnl_addr_set_prefixlen(a.get(), v.prefix.length());
    if (ip.isV4() && !v.label.empty()) {
      err = rtnl_addr_set_label(a.get(), v.label.c_str());
      if (err < 0) return nlError("label " + v.label, err);
    }
    // A VIP must answer the moment it is added: no duplicate address
    // detection delay (the election already decided who owns it).
    if (ip.isV6()) rtnl_addr_set_flags(a.get(), IFA_F_NODAD);
    return a;
  }

  nl_sock* sock_;
};

}  // namespace

Result<std::unique_ptr<AddressBackend>> makeNetlinkBackend() {
  nl_sock* sock = nl_socket_alloc();
  if (!sock) return Error("nl_socket_alloc failed");
  int err = nl_connect(sock, NETLINK_ROUTE);
  if (err < 0) {
    nl_socket_free(sock);
    return nlError("rtnetlink connect", err);
  }
  return std::unique_ptr<AddressBackend>(new NetlinkBackend(sock));
}

}  // namespace lvsd::vip
