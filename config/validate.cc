#include <set>

#include "config/located.h"
#include "core/address.h"

namespace lvsd::config {

void validate(const Config& config, const Located& root, Diagnostics& out) {
  if (config.director_size() == 0) out.add(root, "director", "at least one director is required");
  std::set<std::string> directors;
  for (int i = 0; i < config.director_size(); ++i) {
    const auto& d = config.director(i);
    Located at = root.child("director", i);
    if (d.name().empty()) out.add(at, "name", "director name is required");
    else if (!directors.insert(d.name()).second)
      out.add(at, "name", "duplicate director '" + d.name() + "'");
  }
  for (int i = 0; i < config.virtual_service_size(); ++i) {
    const auto& vs = config.virtual_service(i);
    Located at = root.child("virtual_service", i);
    for (int j = 0; j < vs.real_server_size(); ++j) {
      Located rs = at.child("real_server", j);
      if (vs.real_server(j).weight() > 65535)
        out.add(rs, "weight", "weight " + std::to_string(vs.real_server(j).weight()) +
                                  " outside 0..65535");
    }
  }
}

}  // namespace lvsd::config
