// QuorumRouter: the AP ("Dynamo") profile's request path on a node.
//
// Any node coordinates. For a put, remove or get the router asks the placement plugin for the
// key's preference list, takes from the membership plugin who is believed up, and drives one
// quorum::Coordinator (framework/dynamo/coordinator) to its answer: it carries out the coordinator's
// sends (to this node's own store on the worker pool, to peers through their Replica
// capability, replica.capnp), feeds back the replies, ticks it, and sends its read repairs.
// A put's version is made here, by the conflict plugin, before any replica sees it.
//
// Peers are reached at the address membership gives them, one Cap'n Proto connection each,
// opened on first use and opened again after it fails. A peer that fails or does not answer
// in time counts as a failed reply; the coordinator decides what that means for the quorum.
//
// Hinted handoff: a fallback keeps a hinted write as a durable hint beside its own copy
// (hint_store.h); every kHintRoundIntervalMs the router hands up to
// kHintsPerRound hints, resuming where the last round stopped, to owners that are alive again
// and forgets each once its owner acknowledged it.
//
// Range streaming: when a membership change makes other nodes owners of keys this node holds
// (a member left or was removed), the tick loop copies those keys to them (range_streaming.cc).
// A joining node is not streamed to: it copies its ranges itself before it owns them.
//
// Tables are cluster state (table_states.h): a create or drop is made here, stamped, then
// exchanged with every member believed up (Replica.exchangeTables), and every
// kTableExchangeIntervalMs the router exchanges all states with one member at random, so that a
// node that was down, partitioned or not yet joined learns every change. A peer that answers
// NoSuchTable for a table live here is told the states at once, and a write to it is sent
// again; a read counts its answer as empty (it has no copy yet).
//
// Anti-entropy (anti_entropy_rounds.cc): every anti_entropy_interval_ms the router compares
// the keys it owns with one co-owner in turn, by Merkle trees built for the session, and moves
// only the keys that differ, both ways; the peer's side is its AntiEntropyResponder.
//
// Hints older than hint_max_age_ms are dropped; a hint whose owner left goes to the key's
// owners now. Leaving (decommission.cc) copies this node's keys to their next owners first;
// joining (join_ranges.cc) copies the keys a new node will own before it owns them, while
// writes go to its next owners as well as today's.
//
// Not built yet: batches across the ring.
//
// Thread-safety: lives on the event loop thread; every method is called from it.
// Ownership: borrows everything it is given; all of it outlives the router.
#pragma once

#include <kj/async-io.h>
#include <kj/timer.h>

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "tessera/conflict.h"
#include "tessera/membership.h"
#include "peer_dialer.h"
#include "tessera/placement.h"
#include "tessera/quorum/coordinator.h"
#include "tessera/rpc/replica.capnp.h"
#include "tessera/rpc/tessera.capnp.h"
#include "tessera/dynamo/anti_entropy_responder.h"
#include "tessera/dynamo/hint_store.h"
#include "tessera/dynamo/table_states.h"
#include "tessera/node/durable_gate.h"
#include "tessera/node/local_store.h"
#include "tessera/node/request_path.h"
#include "tessera/node/worker_pool.h"

namespace tessera::dynamo {

using node::LocalStore;
using node::RequestParams;
using node::StoreGetResult;
using node::StoreScanPage;
using node::StoreLimits;
using node::StoreVersionsPage;
using node::WorkerPool;

struct QuorumOptions {
  uint32_t read_quorum = 2;   // R for a request with the default consistency
  uint32_t write_quorum = 2;  // W likewise
  uint32_t tick_ms = 10;      // the coordinators' unit of time
  // How often an anti-entropy session starts with the next co-owner; 0: never.
  uint32_t anti_entropy_interval_ms = 60'000;
  // A hint older than this is dropped, not handed over; 0: kept until handed over. Below
  // tombstone_grace_ms, or a late hint could bring back a value whose tombstone is gone.
  uint64_t hint_max_age_ms = 3ull * 24 * 3600 * 1000;
  // Requests coordinated at once; past it a request gets Busy (the node's
  // requests_in_flight_max).
  size_t requests_in_flight_max = 4096;
  // How long a joining node waits, once it announced itself, before it copies its ranges: for
  // every member to learn that it is joining (and send it writes), and for the writes they
  // started before they knew to finish.
  uint32_t join_settle_ms = 5'000;
};

// Where this node's join is (join_ranges.cc).
struct JoinProgress {
  bool joining = false;     // copying its ranges; it owns none yet
  uint64_t keys_copied = 0;
};

// The nodes this node owes data to after a membership change: the new owners of ranges it held
// (Placement::set_members' moves from this node). Filled on the membership listener's thread,
// emptied by the router on the event loop; shared, so that a listener that outlives the router
// is harmless.
class RangeMoveQueue {
 public:
  explicit RangeMoveQueue(NodeId self) : self_(std::move(self)) {}
  void add(const std::vector<RangeMove>& moves);
  std::set<NodeId> take();

 private:
  const NodeId self_;
  std::mutex mutex_;
  std::set<NodeId> targets_;  // (mutex_)
};

// What anti-entropy has done since the node started.
struct AntiEntropyStats {
  uint64_t sessions = 0;
  uint64_t in_sync = 0;
  uint64_t repaired = 0;
  uint64_t abandoned = 0;
  uint64_t keys_sent = 0;   // this node's versions sent to peers
  uint64_t keys_taken = 0;  // peers' versions merged here
};

class QuorumRouter final : public node::RequestPath, private kj::TaskSet::ErrorHandler {
 public:
  // `gate` serves this node's own replica writes and reads (DurableGate::serve).
  // `anti_entropy` answers the sessions peers start (ticked here); null: none. `background`
  // runs anti-entropy's passes over the store, apart from the requests' `pool`. `dialer` opens
  // the authenticated links to peers (peer_dialer.h).
  QuorumRouter(NodeId self, LocalStore* store, HintStore* hints, TableStates* tables,
               AntiEntropyResponder* anti_entropy, WorkerPool* pool, WorkerPool* background,
               node::DurableGate* gate, Conflict* conflict,
               Placement* placement, Membership* membership, kj::Timer& timer, kj::Network& network,
               const PeerDialer& dialer, QuorumOptions options,
               std::shared_ptr<RangeMoveQueue> moves);
  ~QuorumRouter() noexcept(false);

  // QuorumUnavailable (with how many answered) when fewer than W replicas acked in time;
  // InvalidArgument for an R or W over the key's N, or a malformed context.
  kj::Promise<Result<Bytes>> put(std::string table, Bytes key, Bytes value,
                                 RequestParams request) override;
  kj::Promise<Status> remove(std::string table, Bytes key, RequestParams request) override;
  // The reconciled live versions and their context, once R replicas answered.
  kj::Promise<Result<StoreGetResult>> get(std::string table, Bytes key,
                                          RequestParams request) override;

  // Live keys of [start, end) in key order, paged as the client API's scan: every member's
  // copies, each key's versions reconciled across them. Needs answers from all but N - 1
  // members (then every key has a copy among them), else QuorumUnavailable. A value may be
  // older than a quorum read would give where only a stale copy answered; nothing is repaired.
  kj::Promise<Result<StoreScanPage>> scan(std::string table, Bytes start, Bytes end, uint32_t limit,
                                          Bytes page_token, RequestParams request) override;

  // Made here (TableExists, NoSuchTable as a single node's), then told to every member
  // believed up, waiting for them within the deadline; a member not reached learns it by a
  // later exchange (logged).
  kj::Promise<Status> create_table(std::string name, std::vector<Bytes> split_keys,
                                   RequestParams request) override;
  kj::Promise<Status> drop_table(std::string name, RequestParams request) override;
  // This node's tables, from its store.
  kj::Promise<Result<std::vector<std::string>>> list_tables(RequestParams request) override;
  // NotSupported: the keys of one batch live on different replicas.
  kj::Promise<Status> write(std::string table, std::vector<Mutation> mutations,
                            RequestParams request) override;

  const AntiEntropyStats& anti_entropy_stats() const { return anti_entropy_stats_; }

  // Joining (join_ranges.cc). Whether this node owns its ranges: it finished a join, or
  // founded the cluster (its store says so).
  Result<bool> owns_its_ranges() const;
  // Copies, in the background, the ranges this node (a joining member) is to own: waits
  // join_settle_ms, then asks every member that owns ranges and is up for a scan of each table
  // that keeps only the keys this node will own, merges the pages here, records in the store
  // that it owns its ranges, and clears its joining flag (Membership::finish_joining). A node
  // that hears of no member owning ranges after the wait founds the cluster: it owns its
  // ranges at once. A member that is down is passed over (its keys have other copies);
  // a member that does not yet see this node joining is asked again.
  void join_ranges();
  const JoinProgress& join_progress() const { return join_progress_; }

  // Leaving (decommission.cc): copies every key this node owns to the owners it has once this
  // node is gone, then leaves the ring; resolves to the keys copied. Runs to its end whatever
  // the caller's deadline; a call while one runs waits for that one. Unavailable when the ring
  // would have fewer members than copies, or a target did not take a copy (the node stays a
  // member, and may try again).
  kj::Promise<Result<uint64_t>> decommission();

 private:
  // Sends and repairs that fail are counted where they are awaited; a task that throws anyway
  // is logged.
  void taskFailed(kj::Exception&& e) override;

  struct Pending;
  struct Peer;
  struct PeerLink;
  struct PeerWrites;
  struct AntiEntropyRun;

  // Runs one coordinator for (table, key); `payload` is what a write sends (empty for a read).
  // The answer, or the refusal a replica gave when too few could take the request.
  kj::Promise<Result<quorum::Answer>> coordinate(quorum::Request request, std::string table,
                                                 Bytes key, std::vector<VersionedValue> payload);
  // The coordinator's request for `key`: its preference list, who is up, R or W, deadline.
  Result<quorum::Request> make_request(quorum::Operation operation, ByteView table, ByteView key,
                                       const RequestParams& request) const;

  // One page out of every answering replica's page.
  Result<StoreScanPage> merge_scan_pages(std::vector<StoreVersionsPage*> pages,
                                         uint32_t limit) const;
  void handle_effects(uint64_t id);
  // How long one send of `pending` may take: its request's deadline.
  kj::Duration send_timeout(const Pending& pending) const;
  // Likewise for the calls of a scan or a table change.
  kj::Duration send_timeout(const RequestParams& request) const;
  // Queues a replica write for `to`'s batch of this turn (Replica.writeBatch), sent at the end
  // of the turn (or at once when it is full); answers that write's own status.
  kj::Promise<Status> batch_write(const NodeId& to, kj::Duration timeout, const Pending& pending,
                                  const NodeId& hint_for, std::vector<VersionedValue> versions);
  void flush_writes(const NodeId& to);
  void send_write(uint64_t id, const NodeId& to, const NodeId& hint_for, const Pending& pending,
                  std::vector<VersionedValue> versions);
  // `to` refused request `id`'s write with NoSuchTable: tells it the table states and sends
  // the write again, or answers `refused` when the table is not live here or the request is
  // gone.
  kj::Promise<Status> resend_to_peer_without_table(uint64_t id, const NodeId& to,
                                                   const NodeId& hint_for, Status refused);
  void send_read(uint64_t id, const NodeId& to, const Pending& pending);
  // One Replica.write of `versions` to `to`, outside any coordinator (handoff, streaming).
  kj::Promise<Status> write_copy(const NodeId& to, kj::Duration timeout, const std::string& table,
                                 ByteView key, const std::vector<VersionedValue>& versions);
  kj::Promise<void> tick_loop();
  // Copies every key this node holds that one of `targets` now owns to it, table by table and
  // page by page (range_streaming.cc). Resolves to the number of keys sent.
  kj::Promise<size_t> stream_to(std::set<NodeId> targets);
  kj::Promise<size_t> stream_tables(std::vector<std::string> tables, size_t index,
                                    std::set<NodeId> targets, size_t sent);
  kj::Promise<size_t> stream_page(std::string table, Bytes token, std::set<NodeId> targets,
                                  size_t sent);
  kj::Promise<void> hand_over_hints();
  // Sends `hint` to its owner and forgets it once the owner has it.
  kj::Promise<void> hand_over(Hint hint);
  // The owner answered NoSuchTable for a hint's table.
  kj::Promise<void> owner_lacks_table(Hint hint);
  // The hint's owner left the ring: sends the versions to the key's owners now, then forgets it.
  kj::Promise<void> hand_to_new_owners(Hint hint);
  // Forgets hints over hint_max_age_ms, logging how many.
  kj::Promise<void> drop_expired_hints(std::vector<Hint> expired);

  static constexpr uint32_t kHintRoundIntervalMs = 1000;
  static constexpr size_t kHintsPerRound = 256;
  // A table change here, then told to every other member believed up.
  kj::Promise<Status> change_table(std::string name, bool create, const RequestParams& request);
  // Sends this node's table states to `node` and takes the states it answers.
  kj::Promise<Status> exchange_tables(const NodeId& node, kj::Duration timeout);
  kj::Promise<void> exchange_tables_periodically();
  static constexpr uint32_t kTableExchangeIntervalMs = 1000;

  // Anti-entropy (anti_entropy_rounds.cc).
  static constexpr uint32_t kAntiEntropyFollowUpsMax = 4;  // partial sessions followed per round
  kj::Promise<void> anti_entropy_rounds();
  kj::Promise<void> tick_anti_entropy_responder();
  // The next up member, in id order, that owns keys with this node; empty when none.
  NodeId next_anti_entropy_peer();
  kj::Promise<void> anti_entropy_with(NodeId peer, uint32_t follow_ups);
  kj::Promise<void> drive_anti_entropy(std::shared_ptr<AntiEntropyRun> run);
  void report_anti_entropy(const AntiEntropyRun& run);
  void take_anti_entropy_push(const std::shared_ptr<AntiEntropyRun>& run,
                              capnp::List<rpc::TableKeyVersions>::Reader pushed);
  kj::Promise<void> merge_anti_entropy_keys(std::vector<HostKeyVersions> items);
  // This node's versions of `keys` to the peer (writeBatch), and the peer's merged here.
  void send_anti_entropy_keys(const std::shared_ptr<AntiEntropyRun>& run, std::vector<Bytes> keys);
  void fetch_anti_entropy_keys(const std::shared_ptr<AntiEntropyRun>& run, std::vector<Bytes> keys);

  struct JoinCopy;
  kj::Promise<void> copy_ranges_when_ready(bool waited_before);
  kj::Promise<void> copy_join_tables(std::shared_ptr<JoinCopy> copy);
  kj::Promise<void> copy_join_page(std::shared_ptr<JoinCopy> copy);
  kj::Promise<void> finish_join(uint64_t keys);

  kj::Promise<Result<uint64_t>> copy_departing_tables(std::vector<std::string> tables,
                                                      size_t index, uint64_t copied);
  kj::Promise<Result<uint64_t>> copy_departing_page(std::string table, Bytes token,
                                                    uint64_t copied);

  // The connection to `node`, opened now (at its address in the membership view) if there is
  // none.
  Peer peer(const NodeId& node);
  // Drops `node`'s connection if it is still `link`, so that the next call reconnects.
  void forget_peer(const NodeId& node, const PeerLink* link);
  // One call on `node`'s Replica: `send(client)` makes it and `reply(response)` reads the
  // answer; a failed call or no answer within `timeout` is `failed(status)` instead.
  template <typename T, typename Send, typename Reply, typename Failed>
  kj::Promise<T> call_peer(const NodeId& node, kj::Duration timeout, Send send, Reply reply,
                           Failed failed);

  const NodeId self_;
  LocalStore* const store_;
  HintStore* const hints_;
  TableStates* const tables_;
  AntiEntropyResponder* const anti_entropy_;
  WorkerPool* const pool_;
  WorkerPool* const background_;
  node::DurableGate* const gate_;
  Conflict* const conflict_;
  Placement* const placement_;
  Membership* const membership_;
  kj::Timer& timer_;
  kj::Network& network_;
  const PeerDialer& dialer_;
  const QuorumOptions options_;

  uint64_t next_id_ = 1;
  std::map<uint64_t, std::unique_ptr<Pending>> pending_;
  std::map<NodeId, Peer> peers_;
  std::map<NodeId, PeerWrites> open_writes_;  // this turn's replica writes, per peer
  kj::Own<kj::TaskSet> tasks_;  // sends and repairs in flight; cancelled with the router
  Bytes hint_cursor_;           // where the next handoff round reads on
  std::shared_ptr<RangeMoveQueue> moves_;
  bool streaming_ = false;  // a stream_to() runs
  std::minstd_rand random_{std::random_device{}()};  // whom the periodic exchange asks
  kj::Promise<void> ticking_;
  kj::Promise<void> handing_over_;
  AntiEntropyStats anti_entropy_stats_;
  // Keys in the last tree this node built, which sizes the next one; none before the first.
  std::optional<size_t> anti_entropy_keys_;
  NodeId last_anti_entropy_peer_;
  kj::Maybe<kj::ForkedPromise<Result<uint64_t>>> decommissioning_;
  bool decommission_failed_ = false;  // the last decommission stopped: another may start
  JoinProgress join_progress_;
  kj::Maybe<kj::Promise<void>> joining_;  // join_ranges() at work
  kj::Promise<void> exchanging_tables_;
  kj::Promise<void> anti_entropy_running_;
  kj::Promise<void> anti_entropy_ticking_;
};

}  // namespace tessera::dynamo
