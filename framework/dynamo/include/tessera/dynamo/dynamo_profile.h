// The `dynamo` profile: the AP design on a node (DESIGN.md, "AP profile").
//
// Keys are placed by the placement plugin over the membership plugin's view; every node
// coordinates N/R/W quorums (QuorumRouter), offers its copies to peers (ReplicaService, through
// PeerLink.replica, to authenticated peers), keeps hints for down replicas (HintStore) and streams ranges it gives away.
// Its own keys are in [quorum]: read_quorum, write_quorum, tick_ms.
#pragma once

#include <memory>

#include "tessera/config.h"
#include "tessera/dynamo/quorum_router.h"
#include "tessera/node/profile.h"
#include "tessera/status.h"

namespace tessera::dynamo {

// [quorum]; InvalidArgument naming the key when a value is out of range or unknown.
Result<QuorumOptions> parse_quorum_options(const ConfigSection& section);

// InvalidArgument when the node has no placement or membership plugin, or [quorum] is wrong.
Result<std::unique_ptr<node::Profile>> make_dynamo_profile(const node::NodeParts& parts);

}  // namespace tessera::dynamo
