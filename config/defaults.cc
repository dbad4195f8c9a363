// Defaults that proto2 field defaults cannot express, applied after a config
// validated cleanly so consumers never re-derive them (docs/config.md
// §Defaults lists them):
//  - virtual_service.name: the service key (serviceKey()) when unset;
//  - heartbeat.send_key_id: the id of the only key when unset;
//  - instance.link: every heartbeat link when none is listed;
//  - http/https status: ["200-299"] when no status is listed.
#include "config/located.h"

namespace lvsd::config {

namespace {

void defaultStatus(Check& check) {
  HttpProbe* h = check.has_http()    ? check.mutable_http()
                 : check.has_https() ? check.mutable_https()
                                     : nullptr;
  if (h && h->status_size() == 0) h->add_status("200-299");
}

}  // namespace

void applyDefaults(Config& config) {
  for (auto& vs : *config.mutable_virtual_service()) {
    if (!vs.has_name()) vs.set_name(serviceKey(vs));
    for (auto& ch : *vs.mutable_inline_check()) defaultStatus(ch);
    for (auto& rs : *vs.mutable_real_server())
      for (auto& ch : *rs.mutable_inline_check()) defaultStatus(ch);
  }
  for (auto& ch : *config.mutable_check()) defaultStatus(ch);
  if (config.has_heartbeat()) {
    Heartbeat* hb = config.mutable_heartbeat();
    if (!hb->has_send_key_id() && hb->key_size() == 1) hb->set_send_key_id(hb->key(0).id());
    for (auto& in : *config.mutable_instance())
      if (in.link_size() == 0)
        for (const auto& l : hb->link()) in.add_link(l.name());
  }
}

}  // namespace lvsd::config
