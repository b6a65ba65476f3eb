// ApplyStage: carries out the driver's committed work on the groups' state machines, off the
// driver thread, in log order per group and in parallel across groups.
//
// Purpose: the driver (driver/driver.h) hands each group's items (committed entries, snapshot
// restores, snapshot images to send) to this ApplySink; each group has a Boost.Asio strand on a
// small thread pool, so one group's items run one at a time in the order given while other
// groups' run beside them (TiKV's apply pool). After every item the stage reports the group's
// applied and durable index back (`Callbacks::applied`, which the plugin queues for the
// driver), and the driver answers the proposals and reads that waited for them.
//
// Commands: an entry's data goes to GroupStateMachine::apply as is; entries the plugin made
// itself (a leader's no-op, a configuration change) go as empty commands, so that the state
// machine sees every index. A non-empty result of a command is kept for its proposer
// (`take_result`), at most kResultsPerGroupMax per group (the oldest go first: a proposer
// answered that late gets an empty result).
//
// Snapshots: a restore reads the image staged for it (SnapshotStaging) and removes it once the
// state machine holds it durably; an image to send is taken at exactly its place in the group's
// order, so it is the state at the index the core put in the kSnapshot message.
//
// A state machine that fails (a non-OK status) stops its group: no later item of the group
// runs, and `Callbacks::failed` says why.
//
// Thread-safety: apply() is called from the driver thread; add_group/remove_group/take_result
// from any thread. Callbacks run on the pool's threads and must not block. Ownership: borrows
// the state machines (until remove_group returns) and the staging.
#pragma once

#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

#include "driver/apply_sink.h"
#include "plugin/snapshot_staging.h"
#include "tessera/replication.h"

namespace tessera::raft_plugin {

using DriverGroupId = raft::driver::GroupId;

class ApplyStage final : public raft::driver::ApplySink {
 public:
  static constexpr size_t kResultsPerGroupMax = 4096;

  struct Callbacks {
    // The group's items are carried out up to `applied`; its state machine is durable up to
    // `durable` (<= applied).
    std::function<void(DriverGroupId group, raft::Index applied, raft::Index durable)> applied;
    // Stream `image` to node `to` beside `message` (the core's kSnapshot message).
    std::function<void(const NodeId& to, DriverGroupId group, raft::Message message,
                       std::unique_ptr<SnapshotChunks> image)>
        send_snapshot;
    // The group's state machine failed; its later items are not run.
    std::function<void(DriverGroupId group, const Status& why)> failed;
  };

  // REQUIRES: threads >= 1; `staging` outlives the stage.
  ApplyStage(size_t threads, SnapshotStaging* staging, Callbacks callbacks);
  // Waits for the items queued to finish.
  ~ApplyStage() override;

  // REQUIRES: `group` is not added; `state` lives until remove_group(group) returns.
  void add_group(DriverGroupId group, GroupStateMachine* state);
  // Waits until the group's queued items have run (or been skipped after a failure), then
  // forgets the group. Not an error when absent. REQUIRES: not called from a callback.
  void remove_group(DriverGroupId group);

  void apply(DriverGroupId group, std::vector<raft::driver::ApplyItem> items) override;

  // The result of the command at `index`, if the state machine gave a non-empty one and it is
  // still kept; taken once.
  std::optional<Bytes> take_result(DriverGroupId group, raft::Index index);

 private:
  struct GroupState {
    GroupState(DriverGroupId id, GroupStateMachine* sm, boost::asio::thread_pool& pool)
        : id(id), state(sm), strand(boost::asio::make_strand(pool)) {}
    const DriverGroupId id;
    GroupStateMachine* const state;
    boost::asio::strand<boost::asio::thread_pool::executor_type> strand;
    bool failed = false;  // touched on the strand only
    std::mutex results_mu;
    std::deque<std::pair<raft::Index, Bytes>> results;  // guarded by results_mu
  };

  std::shared_ptr<GroupState> find(DriverGroupId group);
  // Each runs on the group's strand; a non-OK status fails the group.
  Status run_entries(GroupState& group, const std::vector<raft::Entry>& entries);
  Status run_restore(GroupState& group, const raft::SnapshotMeta& meta);
  Status run_send_snapshot(GroupState& group, raft::driver::ApplyItem& item);
  void keep_result(GroupState& group, raft::Index index, Bytes result);

  SnapshotStaging* const staging_;
  const Callbacks callbacks_;
  boost::asio::thread_pool pool_;
  std::mutex mu_;
  std::map<DriverGroupId, std::shared_ptr<GroupState>> groups_;  // guarded by mu_
};

}  // namespace tessera::raft_plugin
