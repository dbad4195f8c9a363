#pragma once
// Private to cli/ipvsadm: ipvsadm 1.31's output, byte for byte — the
// service listing in all its variants (-L/-l, -n, --stats, --rate, --exact,
// --thresholds, --persistent-conn, --tun-info, --nosort), the save format
// (-S), connections (-c), --timeout and --daemon. Pure: data in, text out.

#include <string>
#include <vector>

#include "cli/ipvsadm/resolver.h"
#include "ipvs/ipvs.h"

namespace lvsd::ipvsadm {

// "IP Virtual Server version 1.2.1 (size=4096)\n"
std::string versionHeader(const ipvs::Info& info);
// The column titles for a format (empty for -S).
std::string title(unsigned format);
// One service and its destinations. Destinations are sorted as ipvsadm sorts
// them unless kFmtNoSort.
std::string serviceBlock(const ipvs::ServiceEntry& se, std::vector<ipvs::DestinationEntry> dests,
                         unsigned format, const NameResolver& resolver);
// Services in ipvsadm's order (glibc's merge sort with ipvsadm's comparator).
void sortServices(std::vector<ipvs::ServiceEntry>& services);
void sortDestinations(std::vector<ipvs::DestinationEntry>& dests);

std::string connectionsHeader(unsigned format);
std::string connectionLine(const ipvs::Connection& c, unsigned format, const NameResolver& resolver);

std::string timeoutLine(const ipvs::Timeouts& t);
std::string daemonLines(const std::vector<ipvs::SyncDaemon>& daemons);

// ipvsadm's print_largenum: 9 columns, K/M/G/T above 10^8 unless --exact.
std::string largeNumber(uint64_t n, unsigned format);

}  // namespace lvsd::ipvsadm
