// RaftGroups: the raft plugin's ReplicationGroups: many Raft groups on one node, their shared
// log, their network and their state machines, on threads of the plugin's own.
//
// Threads:
//  - the driver thread owns the multi-group Driver (driver/driver.h), the LogStore behind it
//    and every group's core. It waits for input or the next tick, takes everything queued for
//    it, runs one driver iteration (one log write and one fsync for every group), and goes
//    round again, so that whatever arrives during an fsync joins the next one (group commit
//    across groups and proposers alike);
//  - the apply stage's threads (plugin/apply_stage.h) apply committed entries per group in
//    order and report back to the driver thread;
//  - the transport's thread sends message batches and snapshot streams; the node's event-loop
//    thread receives them (PeerLink.peer "raft") and queues them for the driver thread.
// Every public method only queues work for the driver thread (and, for found/join/open/close/
// status, waits for it); completions are called on the driver thread and must not block.
//
// Requests are bounded: at most kPendingRequestsMax proposals and reads wait at once (then
// Busy), each at most `request_timeout_ms` (then Timeout; a proposal may still commit later).
//
// Thread-safety: every public method may be called from any thread, concurrently. Ownership:
// owns the log store, driver, apply stage and transport; borrows the state machines between
// open and close.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "plugin/raft_config.h"
#include "tessera/peer_service.h"
#include "tessera/replication.h"

namespace tessera {
class PeerDialer;  // peer_dialer.h
}  // namespace tessera

namespace tessera::raft_plugin {

class RaftGroups final : public ReplicationGroups {
 public:
  static constexpr size_t kPendingRequestsMax = 1 << 16;
  static constexpr uint32_t kRequestTimeoutMs = 10000;

  // Opens the node's raft log under `dir` (recovering it) and starts the plugin's threads.
  // `dialer` (the host's, borrowed; outlives the object) opens the authenticated links to
  // peers; null only under a host that serves Tessera.peer itself (the transport's README).
  // Errors: the log store's (Busy: another process has the directory; Corruption; IOError).
  static Result<std::unique_ptr<RaftGroups>> open(const NodeId& self,
                                                  const std::filesystem::path& dir,
                                                  const RaftConfig& config,
                                                  const PeerDialer* dialer);
  // Stops every thread; pending calls complete with Unavailable.
  ~RaftGroups() override;

  void set_resolver(ReplicaResolver resolver) override;
  std::vector<std::pair<GroupId, ReplicaId>> groups_on_disk() const override;
  Status found_group(const GroupId& group, const Replica& self, std::span<const Replica> voters,
                     LogIndex start, GroupStateMachine* state) override;
  Result<ReplicaId> join_group(const GroupId& group, GroupStateMachine* state) override;
  Status open_group(const GroupId& group, GroupStateMachine* state) override;
  Status close_group(const GroupId& group) override;
  void propose(const GroupId& group, Bytes command, Completion<Bytes> done) override;
  void read_barrier(const GroupId& group, Completion<LogIndex> done) override;
  void change_voters(const GroupId& group, VoterChange change, const Replica& replica,
                     Completion<LogIndex> done) override;
  Status transfer_leadership(const GroupId& group, ReplicaId replica) override;
  Result<GroupStatus> status(const GroupId& group) const override;
  void subscribe_leaders(LeaderListener listener) override;
  // The driver's and the shared log's counters: "driver_iterations", "log_syncs" (driver
  // iterations that wrote), "entries_persisted", "messages_sent", "batches_sent",
  // "proposals_applied", "reads_served", "snapshots_requested", "log_fsyncs",
  // "log_bytes_written", "log_segments_live", "log_cache_hits", "log_cache_misses",
  // "groups_open".
  std::map<std::string, double> stats() const override;

  // The node-to-node service peers reach through Tessera.peer("raft").
  PeerService* peer_service();
  // Every node the host's resolver named so far, with its address.
  std::vector<NodeInfo> known_nodes() const;

  struct Impl;  // everything the threads share (raft_groups.cc)

 private:
  explicit RaftGroups(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tessera::raft_plugin
