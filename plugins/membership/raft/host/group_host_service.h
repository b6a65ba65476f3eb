// GroupHostService: the Tessera client API, as far as `tessera-raft-host` offers it.
//
// Purpose: lets the multi-process tests and the benchmark drive the raft plugin's groups with
// the ordinary client library and `tessera-bench client`. A key belongs to group
// `g<hash(key) % groups>`. put proposes `KvStateMachine::encode_put` to that group (answered
// once committed and applied here); get is linearizable: a read barrier on the group, then the
// local state machine (consistency `stale`: the local state machine at once, on any replica);
// the table name is ignored. A follower answers notLeader with the leader's
// address as the hint. peer hands out the membership plugin's node-to-node services, which is
// how the nodes' raft transports reach each other on this one port. createTable answers OK
// (every table name shares the groups' one key space); write (a batch) answers notSupported.
// Everything else is not implemented.
//
// Thread-safety: lives on the event-loop thread; plugin completions come back through KJ
// cross-thread fulfillers. Ownership: borrows the groups, membership and state machines, which
// outlive it.
#pragma once

#include <kj/timer.h>

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "kv_state_machine.h"
#include "tessera/membership.h"
#include "tessera/replication.h"
#include "tessera/rpc/tessera.capnp.h"

namespace tessera::raft_host {

// The leader of each group as this node last heard it, kept from the plugin's leader-change
// events so that a notLeader answer names it without asking the plugin. Thread-safe.
class Leaders {
 public:
  void set(const std::string& group, const NodeId& node) {
    std::lock_guard lock(mu_);
    leaders_[group] = node;
  }
  NodeId get(const std::string& group) const {
    std::lock_guard lock(mu_);
    auto it = leaders_.find(group);
    return it == leaders_.end() ? NodeId() : it->second;
  }

 private:
  mutable std::mutex mu_;
  std::map<std::string, NodeId> leaders_;
};

struct HostedGroup {
  std::string name;
  KvStateMachine* state = nullptr;
};

class GroupHostService final : public rpc::Tessera::Server {
 public:
  // `addresses`: every node's client address, for leader hints.
  // `leaders` outlives the service.
  GroupHostService(std::string node_id, Membership* membership, std::vector<HostedGroup> groups,
                   std::map<NodeId, std::string> addresses, const Leaders* leaders,
                   kj::Timer* timer, uint32_t timeout_ms);

  // The group that owns `key`.
  static size_t group_of(ByteView key, size_t groups);

 protected:
  kj::Promise<void> hello(HelloContext context) override;
  kj::Promise<void> createTable(CreateTableContext context) override;
  kj::Promise<void> write(WriteContext context) override;
  kj::Promise<void> put(PutContext context) override;
  kj::Promise<void> get(GetContext context) override;
  kj::Promise<void> peer(PeerContext context) override;

 private:
  // `answer`, or Timeout once timeout_ms passes.
  template <typename T>
  kj::Promise<Result<T>> within_deadline(kj::Promise<Result<T>> answer);
  // A linearizable read point on `group` (ReadIndex), or one that is ready at once (stale).
  kj::Promise<Result<LogIndex>> read_barrier(const std::string& group);
  static kj::Promise<Result<LogIndex>> read_now();
  // The address of the group's leader as this node knows it; empty when unknown.
  std::string leader_address(const std::string& group) const;
  void set_error(rpc::Error::Builder error, const Status& status, const std::string& group) const;

  const std::string node_id_;
  Membership* const membership_;
  ReplicationGroups* const groups_;
  const std::vector<HostedGroup> hosted_;
  const std::map<NodeId, std::string> addresses_;
  const Leaders* const leaders_;
  kj::Timer* const timer_;
  const uint32_t timeout_ms_;
};

}  // namespace tessera::raft_host
