// The `leader` profile: the CP design on a node (DESIGN.md, "CP profile, end to end").
//
// Each table's key space is in ranges, each range one Raft group of [leader] replicas voters
// (RangeStateMachine), with a metadata group over SQLite (MetadataStore) that holds tables,
// ranges with their epochs, groups, nodes and leaders; every node hosts a metadata replica and
// the replicas of the ranges it is a voter of (LocalReplicas), and every node routes
// (LeaderRouter). Writes commit on a majority of a range's voters; reads are linearizable
// (ReadIndex) unless a request asks for `stale`.
//
// It needs: a membership plugin with replication groups (raft), a placement plugin that
// places by a range map (range), and a conflict plugin whose versions have a total order for a
// replicated log (lww); make_leader_profile refuses others, naming them. Its own keys are in
// [leader] (leader_config.h).
//
// Prints a line per leadership change it sees, for operators and tests:
//   tessera-node <id>: <group> leader <node id or (none)> term <term>
#pragma once

#include <memory>

#include "tessera/node/profile.h"
#include "tessera/status.h"

namespace tessera::leader {

Result<std::unique_ptr<node::Profile>> make_leader_profile(const node::NodeParts& parts);

}  // namespace tessera::leader
