// GossipMembership: the `gossip` Membership plugin object. It drives one gossip::Gossip core
// over UDP, on one Boost.Asio thread, and tells listeners about changes on a second thread.
//
// Purpose: the AP profile's membership. join(self) binds one UDP socket to the host and port of
// `self.address` (the node's RPC address: gossip uses the same host and port number over UDP,
// so that a node has one address) and starts the core; every datagram is decoded (wire.h) and
// stepped, a timer ticks the core every tick_ms, and the effects of every input are carried
// out at once: messages sent, events turned into the view that members() returns and
// listeners receive. README.md states the protocol's guarantees and what this object adds.
//
// Thread-safety: every public method may be called from any thread. The core lives on the
// Asio thread alone; join() and leave() hand their work to it and wait. Listeners are called
// on the notifier's thread (notifier.h), never on the Asio thread, one change at a time.
// No exception leaves an object of this class. REQUIRES: the object is not destroyed from
// one of its own listeners (it waits for the listeners' thread to finish).
//
// members(): empty before the first join(); from then on this node first, then every member
// the core holds (dead and left ones too, until forgotten), by id. After leave() the view stays
// as it was last seen, with this node kLeft, until the next join().
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tessera/cluster_secret.h"
#include "tessera/membership.h"
#include "tessera/status.h"

namespace tessera::gossip {

// The plugin's config section, checked (gossip_plugin.cc reads it; README.md lists the keys).
struct GossipConfig {
  static constexpr size_t kSeedsMax = 64;

  std::vector<std::string> seeds;  // "host:port" each; empty: this node starts a cluster
  uint32_t tick_ms = 100;
  uint32_t probe_interval_ticks = 5;
  uint32_t suspicion_ticks = 30;
  // Not a config key: the host's cluster secret (PluginContext::cluster_secret; borrowed, it
  // outlives the membership). When set, every datagram sent carries a tag,
  // HMAC-SHA256(secret, datagram), after its bytes, and a received datagram whose tag is
  // missing or does not verify is dropped, so that nobody without the secret can make a member
  // look dead or left. Null: datagrams go untagged (tests of the plugin alone).
  const ClusterSecret* secret = nullptr;
};

// A membership with its threads started and no socket yet (join() binds it). Unavailable
// when a thread cannot be started.
Result<std::unique_ptr<Membership>> make_gossip_membership(GossipConfig config) noexcept;

}  // namespace tessera::gossip
