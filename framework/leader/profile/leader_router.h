// LeaderRouter: the leader profile's request path. Any node routes.
//
// A key's range comes from the placement plugin's copy of the range map (fed by LocalReplicas);
// the request goes to the range's leader: served here when this node hosts the leader's
// replica, else sent to the leader's node through its "leader" peer service (peer_links.h),
// which serves from its own replicas only. A refusal that says the request reached the wrong
// place is retried within the request's deadline, with backoff from kBackoffFirstMs doubling
// to kBackoffMaxMs:
//   NotLeader (with the leader's node id when known): to that node next;
//   StaleRoute (the range moved or changed epoch): after this node's map caught up;
//   Unavailable, Busy: to the next replica, after the backoff;
//   NoSuchTable, for up to kTableWaitMs: a table created through another node reaches this
//   node's map a moment later.
// A write whose outcome is unknown (Timeout, a connection lost after the call left) is never
// retried: applying it twice could be seen. When the deadline nears, the last refusal is the
// answer.
//
// Reads are linearizable (the leader's ReadIndex) unless the request asks for `stale`, which a
// local replica serves when there is one. A scan page never crosses a range: its token is where
// the next page starts, the next range's start at a boundary. A batch is atomic within one range
// and refused (InvalidArgument) across ranges.
//
// With `forward` false (the peer service's path) nothing is sent on or retried: the request is
// served here or refused.
//
// Thread-safety: event loop thread only. Ownership: borrows everything; all outlive it.
#pragma once

#include <kj/timer.h>

#include <functional>
#include <map>
#include <mutex>
#include <string>

#include "local_replicas.h"
#include "peer_links.h"
#include "replica_access.h"
#include "tessera/node/request_path.h"
#include "tessera/placement.h"

namespace tessera::leader {

// The leader each group last announced on this node (subscribe_leaders), for routing.
class LeaderCache {
 public:
  void set(const GroupId& group, NodeId leader) {
    std::lock_guard lock(mutex_);
    leaders_[group] = std::move(leader);
  }
  NodeId get(const GroupId& group) const {
    std::lock_guard lock(mutex_);
    auto it = leaders_.find(group);
    return it == leaders_.end() ? NodeId() : it->second;
  }

 private:
  mutable std::mutex mutex_;
  std::map<GroupId, NodeId> leaders_;  // (mutex_)
};

class LeaderRouter final : public node::RequestPath {
 public:
  static constexpr uint32_t kBackoffFirstMs = 5;
  static constexpr uint32_t kBackoffMaxMs = 200;
  static constexpr uint32_t kTableWaitMs = 2000;
  // One attempt on another node gets at most this long, so that a paused node is passed over.
  static constexpr uint32_t kAttemptMaxMs = 1500;

  // `store` checks key and value sizes against the node's limits.
  LeaderRouter(LocalReplicas* replicas, ReplicaAccess* access, Placement* placement,
               const LeaderCache* leaders, PeerLinks* links, const node::LocalStore* store,
               kj::Timer& timer, bool forward)
      : replicas_(replicas),
        access_(access),
        placement_(placement),
        leaders_(leaders),
        links_(links),
        store_(store),
        timer_(timer),
        forward_(forward) {}

  kj::Promise<Result<std::vector<std::string>>> list_tables(node::RequestParams params) override;
  kj::Promise<Status> create_table(std::string name, node::RequestParams params) override;
  kj::Promise<Status> drop_table(std::string name, node::RequestParams params) override;
  kj::Promise<Result<Bytes>> put(std::string table, Bytes key, Bytes value,
                                 node::RequestParams params) override;
  kj::Promise<Result<node::StoreGetResult>> get(std::string table, Bytes key,
                                                node::RequestParams params) override;
  kj::Promise<Status> remove(std::string table, Bytes key, node::RequestParams params) override;
  kj::Promise<Result<node::StoreScanPage>> scan(std::string table, Bytes start, Bytes end,
                                                uint32_t limit, Bytes page_token,
                                                node::RequestParams params) override;
  kj::Promise<Status> write(std::string table, std::vector<Mutation> mutations,
                            node::RequestParams params) override;

 private:
  // Where one attempt goes and how long it may take.
  struct Attempt {
    Location where;
    NodeId target;
    uint32_t timeout_ms = 0;
  };
  template <typename T>
  using Try = std::function<kj::Promise<Result<T>>(const Attempt&)>;

  // Locates, attempts and retries as the top says. `write` marks an attempt whose unknown
  // outcome must not be retried.
  template <typename T>
  kj::Promise<Result<T>> route(std::function<Result<Location>()> locate, kj::TimePoint deadline,
                               bool write, Try<T> attempt, uint32_t tries = 0, NodeId hint = {});
  // Creates or drops table `name` through the metadata group.
  kj::Promise<Status> change_table(std::string name, bool create,
                                   const node::RequestParams& params);
  // Writes `writes` atomically (one range), as put, remove and write do.
  kj::Promise<Result<Bytes>> write_keys(std::string table, std::vector<RangeWriteOp> writes,
                                        node::RequestParams params);
  // OK once this node's map has (`present`) or has no longer table `name`, or the deadline is
  // near (the change is committed; requests here wait for the map, see NoSuchTable above).
  kj::Promise<Status> await_table(std::string name, bool present, kj::TimePoint deadline);
  // The metadata group's location (table changes).
  Location metadata_location() const;
  // `locate` for (table, key).
  std::function<Result<Location>()> key_locator(std::string table, Bytes key) const;
  NodeId choose_target(const Location& where, const NodeId& hint, uint32_t tries) const;
  kj::TimePoint deadline_of(const node::RequestParams& params) const;
  uint32_t remaining_ms(kj::TimePoint deadline) const;

  // One call on `target`'s peer service: `send(client)` makes it, `reply(response)` reads it;
  // a failed call is Unavailable (`unsent` tells whether it surely never left this node).
  template <typename T, typename Send, typename Reply>
  kj::Promise<Result<T>> call(const Attempt& attempt, bool write, Send send, Reply reply);

  LocalReplicas* const replicas_;
  ReplicaAccess* const access_;
  Placement* const placement_;
  const LeaderCache* const leaders_;
  PeerLinks* const links_;
  const node::LocalStore* const store_;
  kj::Timer& timer_;
  const bool forward_;
};

}  // namespace tessera::leader
