// RaftGroups: the driver thread, the requests waiting for it, and the groups' lifecycle.
#include "plugin/raft_groups.h"

#include <algorithm>
#include <atomic>
#include <future>
#include <random>
#include <set>
#include <type_traits>
#include <utility>

#include "driver/driver.h"
#include "log_store/log_store.h"
#include "plugin/apply_stage.h"
#include "plugin/shared_log.h"
#include "plugin/snapshot_staging.h"
#include "transport/transport.h"

namespace tessera::raft_plugin {
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using raft::driver::Answer;
using raft::driver::Reply;
using DriverGroupId = raft::driver::GroupId;

namespace {

constexpr size_t kInboxMax = 1 << 17;
constexpr uint32_t kStatusWaitMs = 2000;

Status not_leader(const NodeId& hint) {
  return Status::not_leader(hint.empty() ? "not the leader; the leader is not known yet"
                                         : "not the leader; the leader is on node " + hint,
                            hint);
}

// What a driver answer means to the caller.
Status answer_status(const Reply& r) {
  switch (r.answer) {
    case Answer::kOk:
      return Status::ok();
    case Answer::kNotLeader:
      return not_leader(r.leader_hint);
    case Answer::kLost:
      return not_leader(r.leader_hint);  // not applied: the entry lost a leadership change
    case Answer::kUnknown:
      return Status::timeout(
          "the outcome is unknown (a leadership change or a snapshot came "
          "first); the command may or may not have applied");
    case Answer::kBusy:
      return Status::busy("the group's queue is full; retry later");
    case Answer::kNoGroup:
      return Status::unavailable("the group is not open on this node");
    case Answer::kRejected:
      return Status::unavailable(
          "the group refused the request now (a leadership transfer "
          "in progress); retry");
  }
  return Status::internal("unknown driver answer");
}

uint64_t random_u64() {
  static thread_local std::mt19937_64 gen(std::random_device{}());
  uint64_t v = 0;
  while (v == 0) v = gen();
  return v;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Impl: what the threads share.

struct RaftGroups::Impl final : raft::driver::Events, raft::driver::Transport {
  struct Hosted {
    DriverGroupId id = 0;
    ReplicaId self = 0;
    GroupStateMachine* state = nullptr;  // null while not open
  };
  struct Pending {
    enum class Kind : uint8_t { kPropose, kRead } kind = Kind::kPropose;
    DriverGroupId group = 0;
    Completion<Bytes> proposed;
    Completion<LogIndex> read;
    Clock::time_point deadline;
  };

  Impl(NodeId self, RaftConfig config) : self(std::move(self)), config(config) {}

  // --- the driver's Events and Transport (driver thread).
  void proposal_done(const Reply& r) override {
    auto it = pending.find(r.token);
    if (it == pending.end()) return;  // timed out already
    Completion<Bytes> done = std::move(it->second.proposed);
    pending.erase(it);
    if (r.answer != Answer::kOk) return done(answer_status(r));
    done(apply->take_result(r.group, r.index).value_or(Bytes()));
  }
  void read_done(const Reply& r) override {
    auto it = pending.find(r.token);
    if (it == pending.end()) return;
    Completion<LogIndex> done = std::move(it->second.read);
    pending.erase(it);
    if (r.answer != Answer::kOk) return done(answer_status(r));
    done(LogIndex{r.index});
  }
  void leader_changed(DriverGroupId group, const NodeId& leader, raft::Term term) override {
    LeaderChange change;
    change.term = term;
    const raft::Raft* core = driver->core(group);
    if (!leader.empty() && core != nullptr) change.leader = Replica{core->leader(), leader};
    std::vector<LeaderListener> listeners;
    {
      std::lock_guard lock(mu);
      auto name = names.find(group);
      if (name == names.end()) return;
      change.group = name->second;
      listeners = leader_listeners;
    }
    for (const LeaderListener& listener : listeners) listener(change);
  }
  void send(const NodeId& to, raft::driver::MessageBatch batch) override {
    network->send(to, std::move(batch.messages));
  }

  // --- queueing work for the driver thread (any thread). Requests and network input are
  // refused past kInboxMax; the plugin's own reports (apply progress, a staged snapshot) are
  // never dropped, or a group would wait forever: they are bounded by the apply backlog.
  bool post(std::function<void()> fn, bool own_report = false) {
    {
      std::lock_guard lock(inbox_mu);
      if (stopping || (!own_report && inbox.size() >= kInboxMax)) return false;
      inbox.push_back(std::move(fn));
    }
    inbox_cv.notify_one();
    return true;
  }
  // Runs `fn` on the driver thread and waits for its answer (at once when called there, from a
  // completion or a listener, which would otherwise wait for itself).
  template <typename T>
  Result<T> call(std::function<Result<T>()> fn, uint32_t wait_ms = 60000) {
    if (std::this_thread::get_id() == thread.get_id()) return fn();
    auto promise = std::make_shared<std::promise<Result<T>>>();
    std::future<Result<T>> future = promise->get_future();
    if (!post([promise, fn = std::move(fn)]() { promise->set_value(fn()); })) {
      return Status::unavailable("the raft plugin is stopping or its queue is full");
    }
    if (future.wait_for(std::chrono::milliseconds(wait_ms)) != std::future_status::ready) {
      return Status::timeout("the raft driver did not answer within " + std::to_string(wait_ms) +
                             " ms");
    }
    return future.get();
  }

  // --- the driver thread.
  void run() {
    const auto tick = std::chrono::milliseconds(config.tick_ms);
    Clock::time_point next_tick = Clock::now() + tick;
    uint64_t ticks = 0;
    std::deque<std::function<void()>> work;
    while (true) {
      {
        std::unique_lock lock(inbox_mu);
        if (inbox.empty() && !stopping && (!failed.is_ok() || !driver->has_work())) {
          inbox_cv.wait_until(lock, next_tick, [&]() { return stopping || !inbox.empty(); });
        }
        if (stopping) break;
        work.swap(inbox);
      }
      for (std::function<void()>& fn : work) fn();
      work.clear();
      const Clock::time_point now = Clock::now();
      if (now >= next_tick) {
        driver->tick();
        // A stall (a slow fsync) is not caught up tick by tick: the driver bounds that anyway.
        next_tick = std::max(next_tick + tick, now);
        if (++ticks % std::max<uint64_t>(1, 1000 / config.tick_ms) == 0) refresh_routes();
        expire(now);
      }
      if (failed.is_ok() && driver->has_work()) {
        Status s = driver->run_iteration();
        if (!s.is_ok()) fail_everything(s);
      }
    }
  }

  void fail_everything(const Status& why) {
    failed = Status::io_error("the raft log failed (" + why.message() +
                              "); this node's groups stop until it restarts");
    expire(Clock::time_point::max());
  }

  // Answers Timeout (or the failure) to every request whose deadline is past `now`.
  void expire(Clock::time_point now) {
    for (auto it = pending.begin(); it != pending.end();) {
      if (it->second.deadline > now) {
        ++it;
        continue;
      }
      Status why = failed.is_ok() ? Status::timeout("not committed within " +
                                                    std::to_string(kRequestTimeoutMs) +
                                                    " ms; it may still commit")
                                  : failed;
      Pending p = std::move(it->second);
      it = pending.erase(it);
      if (p.kind == Pending::Kind::kPropose) {
        p.proposed(why);
      } else {
        p.read(why);
      }
    }
  }

  // Tells the driver where every member of every hosted group lives (members added by a
  // configuration change included), asking the host's resolver for the ones not known yet.
  void refresh_routes() {
    ReplicaResolver resolve;
    std::vector<std::pair<DriverGroupId, GroupId>> open;
    {
      std::lock_guard lock(mu);
      resolve = resolver;
      for (const auto& [name, h] : hosted) {
        if (h.state != nullptr) open.emplace_back(h.id, name);
      }
    }
    if (!resolve) return;
    for (const auto& [id, name] : open) {
      const raft::Raft* core = driver->core(id);
      if (core == nullptr) continue;
      std::vector<raft::NodeId> members = core->conf().voters;
      members.insert(members.end(), core->conf().learners.begin(), core->conf().learners.end());
      for (raft::NodeId replica : members) {
        if (replica == core->id() || routed.count({id, replica}) != 0) continue;
        std::optional<NodeInfo> info = resolve(name, replica);
        if (!info) continue;
        (void)driver->set_replica_node(id, replica, info->id);
        routed.insert({id, replica});
        std::lock_guard lock(mu);
        addresses[info->id] = info->address;
      }
    }
  }

  // Starts hosting a group whose log exists in the store (driver thread).
  Status start_group(const GroupId& name, GroupStateMachine* state) {
    Hosted h;
    {
      std::lock_guard lock(mu);
      auto it = hosted.find(name);
      if (it == hosted.end()) return Status::not_found("group " + name + " is not on this node");
      if (it->second.state != nullptr) {
        return Status::invalid_argument("group " + name + " is open already");
      }
      h = it->second;
    }
    TESSERA_ASSIGN_OR_RETURN(raft::SnapshotMeta start, store->start(h.id));
    LogIndex durable = state->durable_index();
    if (durable < start.index) {
      // The log starts after a snapshot this state machine has not made durable: a restore was
      // cut by a crash. Its image stays staged until the restore is durable; run it again.
      if (staging->staged_index(h.id) != start.index) {
        return Status::corruption("group " + name + ": the state machine is durable at " +
                                  std::to_string(durable) + ", the raft log starts after " +
                                  std::to_string(start.index) + ", and no image is staged");
      }
      TESSERA_ASSIGN_OR_RETURN(std::unique_ptr<SnapshotChunks> chunks,
                               staging->read(h.id, start.index));
      TESSERA_RETURN_IF_ERROR(state->restore(start.index, *chunks));
      durable = state->durable_index();
      staging->remove_up_to(h.id, start.index);
    }
    TESSERA_ASSIGN_OR_RETURN(raft::DurableState durable_state, log->recover(h.id, durable));
    raft::driver::GroupSpec spec;
    spec.id = h.id;
    spec.self = h.self;
    spec.raft.election_ticks = config.election_ticks;
    spec.raft.heartbeat_ticks = config.heartbeat_ticks;
    spec.raft.entry_cache_bytes_max = config.entry_cache_bytes;
    spec.durable = std::move(durable_state);
    spec.rng_seed = random_u64();
    apply->add_group(h.id, state);
    Status added = driver->add_group(std::move(spec));
    if (!added.is_ok()) {
      apply->remove_group(h.id);
      return added;
    }
    {
      std::lock_guard lock(mu);
      hosted[name].state = state;
    }
    refresh_routes();
    return Status::ok();
  }

  // Creates a group's log (durably) and starts hosting it (driver thread).
  Status create_group(const GroupId& name, ReplicaId self_replica, const raft::SnapshotMeta& start,
                      GroupStateMachine* state) {
    DriverGroupId id = 0;
    {
      std::lock_guard lock(mu);
      if (hosted.count(name) != 0) {
        return Status::invalid_argument("group " + name +
                                        " has a replica on this node already (founded or "
                                        "joined before): open it instead");
      }
      id = next_group_id++;
    }
    TESSERA_RETURN_IF_ERROR(log->create(id, name, self_replica, start));
    {
      std::lock_guard lock(mu);
      hosted[name] = Hosted{id, self_replica, nullptr};
      names[id] = name;
    }
    return start_group(name, state);
  }

  const NodeId self;
  const RaftConfig config;

  // Owned pieces, in the order they are made (and destroyed in reverse, see ~RaftGroups).
  std::unique_ptr<raftlog::LogStore> store;
  std::unique_ptr<SharedLog> log;
  std::unique_ptr<SnapshotStaging> staging;
  std::unique_ptr<raft::transport::Transport> network;
  std::unique_ptr<ApplyStage> apply;
  std::unique_ptr<raft::driver::Driver> driver;
  std::thread thread;

  // Driver-thread state.
  std::map<uint64_t, Pending> pending;  // by token
  std::set<std::pair<DriverGroupId, raft::NodeId>> routed;
  Status failed;

  // Shared state, guarded by mu.
  mutable std::mutex mu;
  std::map<GroupId, Hosted> hosted;
  std::map<DriverGroupId, GroupId> names;
  DriverGroupId next_group_id = 1;
  ReplicaResolver resolver;
  std::map<NodeId, std::string> addresses;
  std::vector<LeaderListener> leader_listeners;
  std::atomic<uint64_t> next_token{1};
  std::atomic<size_t> pending_count{0};

  // The driver thread's inbox.
  std::mutex inbox_mu;
  std::condition_variable inbox_cv;
  std::deque<std::function<void()>> inbox;  // guarded by inbox_mu
  bool stopping = false;                    // guarded by inbox_mu
};

// ---------------------------------------------------------------------------------------------

namespace {

// A received image, written to the staging area; once complete, its message goes to the driver.
class StagedSink final : public raft::transport::SnapshotSink {
 public:
  StagedSink(RaftGroups::Impl* impl, NodeId from, raft::driver::GroupMessage message,
             std::unique_ptr<SnapshotStaging::Writer> writer)
      : impl_(impl),
        from_(std::move(from)),
        message_(std::move(message)),
        writer_(std::move(writer)) {}

  Status append(ByteView chunk) override { return writer_->append(chunk); }
  Status finish() override {
    TESSERA_RETURN_IF_ERROR(writer_->finish());
    raft::driver::MessageBatch batch;
    batch.messages.push_back(std::move(message_));
    RaftGroups::Impl* impl = impl_;
    if (!impl->post(
            [impl, from = from_, batch = std::move(batch)]() mutable {
              impl->driver->deliver(from, std::move(batch));
            },
            /*own_report=*/true)) {
      return Status::busy("the raft driver's queue is full");
    }
    return Status::ok();
  }

 private:
  RaftGroups::Impl* const impl_;
  const NodeId from_;
  raft::driver::GroupMessage message_;
  std::unique_ptr<SnapshotStaging::Writer> writer_;
};

}  // namespace

Result<std::unique_ptr<RaftGroups>> RaftGroups::open(const NodeId& self, const fs::path& dir,
                                                     const RaftConfig& config,
                                                     const PeerDialer* dialer) {
  auto impl = std::make_unique<Impl>(self, config);
  Impl* p = impl.get();
  std::error_code error;
  fs::create_directories(dir / "snapshots", error);
  if (error) {
    return Status::io_error("raft: cannot create " + (dir / "snapshots").string() + ": " +
                            error.message());
  }
  raftlog::LogStoreOptions log_options;
  log_options.dir = dir / "log";
  log_options.segment_bytes = config.segment_bytes;
  log_options.cache_bytes_max = config.log_cache_bytes;
  TESSERA_ASSIGN_OR_RETURN(impl->store, raftlog::LogStore::open(log_options));
  impl->log = std::make_unique<SharedLog>(impl->store.get());
  TESSERA_ASSIGN_OR_RETURN(impl->staging, SnapshotStaging::open(dir / "snapshots"));
  TESSERA_ASSIGN_OR_RETURN(std::vector<StoredGroup> stored, impl->log->groups());
  for (const StoredGroup& g : stored) {
    impl->hosted[g.name] = Impl::Hosted{g.id, g.self, nullptr};
    impl->names[g.id] = g.name;
    impl->next_group_id = std::max(impl->next_group_id, g.id + 1);
  }

  raft::transport::Transport::Handlers handlers;
  handlers.address_of = [p](const NodeId& node) -> std::optional<std::string> {
    std::lock_guard lock(p->mu);
    auto it = p->addresses.find(node);
    if (it == p->addresses.end()) return std::nullopt;
    return it->second;
  };
  handlers.batch = [p](const NodeId& from, std::vector<raft::driver::GroupMessage> messages) {
    raft::driver::MessageBatch batch{std::move(messages)};
    p->post([p, from, batch = std::move(batch)]() mutable {
      p->driver->deliver(from, std::move(batch));
    });
  };
  handlers.snapshot = [p](const NodeId& from, raft::driver::GroupMessage message)
      -> Result<std::unique_ptr<raft::transport::SnapshotSink>> {
    TESSERA_ASSIGN_OR_RETURN(std::unique_ptr<SnapshotStaging::Writer> writer,
                             p->staging->begin(message.group, message.message.snapshot.index));
    return std::unique_ptr<raft::transport::SnapshotSink>(
        new StagedSink(p, from, std::move(message), std::move(writer)));
  };
  raft::transport::TransportOptions transport_options;
  transport_options.queue_bytes_max = config.peer_queue_bytes;
  transport_options.dialer = dialer;
  TESSERA_ASSIGN_OR_RETURN(impl->network, raft::transport::Transport::start(self, transport_options,
                                                                            std::move(handlers)));

  ApplyStage::Callbacks callbacks;
  callbacks.applied = [p](DriverGroupId group, raft::Index applied, raft::Index durable) {
    p->post([p, group, applied, durable]() { p->driver->applied(group, applied, durable); },
            /*own_report=*/true);
  };
  callbacks.send_snapshot = [p](const NodeId& to, DriverGroupId group, raft::Message message,
                                std::unique_ptr<SnapshotChunks> image) {
    // A failed or refused stream is not retried here: the leader's core sends the snapshot
    // again after an election timeout without progress.
    (void)p->network->send_snapshot(to, raft::driver::GroupMessage{group, std::move(message)},
                                    std::move(image), [](Status) {});
  };
  callbacks.failed = [p](DriverGroupId group, const Status& why) {
    // The group cannot go on here: stop hosting it (its requests are answered).
    p->post([p, group, why]() {
      (void)why;  // the group stops; the host learns it from its requests (kNoGroup)
      p->driver->remove_group(group);
      std::lock_guard lock(p->mu);
      auto name = p->names.find(group);
      if (name != p->names.end()) p->hosted[name->second].state = nullptr;
    });
  };
  impl->apply =
      std::make_unique<ApplyStage>(config.apply_threads, impl->staging.get(), std::move(callbacks));
  raft::driver::DriverOptions driver_options;
  driver_options.compact_entries_min = config.compact_entries_min;
  impl->driver = std::make_unique<raft::driver::Driver>(self, driver_options, *impl->log, *p,
                                                        *impl->apply, *p);
  impl->thread = std::thread([p]() { p->run(); });
  return std::unique_ptr<RaftGroups>(new RaftGroups(std::move(impl)));
}

RaftGroups::RaftGroups(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

RaftGroups::~RaftGroups() {
  Impl& p = *impl_;
  // No more driver iterations; input from the network and the apply stage is refused from here.
  {
    std::lock_guard lock(p.inbox_mu);
    p.stopping = true;
  }
  p.inbox_cv.notify_one();
  if (p.thread.joinable()) p.thread.join();
  std::vector<DriverGroupId> open;
  {
    std::lock_guard lock(p.mu);
    for (const auto& [name, h] : p.hosted) {
      if (h.state != nullptr) open.push_back(h.id);
    }
  }
  for (DriverGroupId id : open) {
    p.driver->remove_group(id);  // answers what waits for the group
    p.apply->remove_group(id);   // its last items may still stream a snapshot
  }
  p.network.reset();
  p.failed = Status::unavailable("the raft plugin is stopping");
  p.expire(Clock::time_point::max());
  p.apply.reset();
  p.driver.reset();
}

void RaftGroups::set_resolver(ReplicaResolver resolver) {
  std::lock_guard lock(impl_->mu);
  impl_->resolver = std::move(resolver);
}

std::vector<std::pair<GroupId, ReplicaId>> RaftGroups::groups_on_disk() const {
  std::lock_guard lock(impl_->mu);
  std::vector<std::pair<GroupId, ReplicaId>> out;
  for (const auto& [name, h] : impl_->hosted) out.emplace_back(name, h.self);
  return out;
}

Status RaftGroups::found_group(const GroupId& group, const Replica& self,
                               std::span<const Replica> voters, LogIndex start,
                               GroupStateMachine* state) {
  if (voters.empty()) return Status::invalid_argument("group " + group + ": no voters");
  raft::SnapshotMeta meta;
  meta.index = start;
  bool self_listed = false;
  for (const Replica& r : voters) {
    if (r.id == 0) return Status::invalid_argument("group " + group + ": replica id 0");
    self_listed = self_listed || r == self;
    meta.conf.voters.push_back(r.id);
  }
  std::sort(meta.conf.voters.begin(), meta.conf.voters.end());
  if (std::adjacent_find(meta.conf.voters.begin(), meta.conf.voters.end()) !=
      meta.conf.voters.end()) {
    return Status::invalid_argument("group " + group + ": a replica id is listed twice");
  }
  if (!self_listed) {
    return Status::invalid_argument("group " + group + ": replica " + std::to_string(self.id) +
                                    " on " + self.node + " is not among the voters");
  }
  Impl* p = impl_.get();
  Result<bool> done = p->call<bool>([p, group, self, meta, state]() -> Result<bool> {
    TESSERA_RETURN_IF_ERROR(p->create_group(group, self.id, meta, state));
    return true;
  });
  return done.status();
}

Result<ReplicaId> RaftGroups::join_group(const GroupId& group, GroupStateMachine* state) {
  const ReplicaId self = random_u64();
  Impl* p = impl_.get();
  return p->call<ReplicaId>([p, group, self, state]() -> Result<ReplicaId> {
    TESSERA_RETURN_IF_ERROR(p->create_group(group, self, raft::SnapshotMeta{}, state));
    return self;
  });
}

Status RaftGroups::open_group(const GroupId& group, GroupStateMachine* state) {
  Impl* p = impl_.get();
  return p
      ->call<bool>([p, group, state]() -> Result<bool> {
        TESSERA_RETURN_IF_ERROR(p->start_group(group, state));
        return true;
      })
      .status();
}

Status RaftGroups::close_group(const GroupId& group) {
  Impl* p = impl_.get();
  return p
      ->call<bool>([p, group]() -> Result<bool> {
        DriverGroupId id = 0;
        {
          std::lock_guard lock(p->mu);
          auto it = p->hosted.find(group);
          if (it == p->hosted.end() || it->second.state == nullptr) {
            return Status::not_found("group " + group + " is not open on this node");
          }
          id = it->second.id;
        }
        p->driver->remove_group(id);
        p->apply->remove_group(id);
        std::lock_guard lock(p->mu);
        p->hosted[group].state = nullptr;
        for (auto it = p->routed.begin(); it != p->routed.end();) {
          it = it->first == id ? p->routed.erase(it) : std::next(it);
        }
        return true;
      })
      .status();
}

namespace {

// The driver's id of an open group, or why there is none.
Result<DriverGroupId> open_id(RaftGroups::Impl& p, const GroupId& group) {
  std::lock_guard lock(p.mu);
  auto it = p.hosted.find(group);
  if (it == p.hosted.end() || it->second.state == nullptr) {
    return Status::not_found("group " + group + " is not open on this node");
  }
  return it->second.id;
}

// Queues a request for the driver thread: bounded (kPendingRequestsMax), timed
// (kRequestTimeoutMs), answered exactly once through `done`. `start` runs on the driver thread
// with the group's id and the request's token, once its completion is registered.
template <typename T>
void submit(RaftGroups::Impl* p, const GroupId& group, Completion<T> done,
            std::function<void(DriverGroupId, uint64_t)> start) {
  Result<DriverGroupId> id = open_id(*p, group);
  if (!id.is_ok()) return done(id.status());
  if (p->pending_count.load() >= RaftGroups::kPendingRequestsMax) {
    return done(Status::busy("too many requests waiting for their groups; retry later"));
  }
  const uint64_t token = p->next_token++;
  ++p->pending_count;
  auto shared_done = std::make_shared<Completion<T>>(std::move(done));
  const bool queued = p->post([p, id = *id, token, shared_done, start = std::move(start)]() {
    RaftGroups::Impl::Pending pending;
    pending.group = id;
    Completion<T> answer = [p, shared_done](Result<T> r) {
      --p->pending_count;
      (*shared_done)(std::move(r));
    };
    if constexpr (std::is_same_v<T, Bytes>) {
      pending.kind = RaftGroups::Impl::Pending::Kind::kPropose;
      pending.proposed = std::move(answer);
    } else {
      pending.kind = RaftGroups::Impl::Pending::Kind::kRead;
      pending.read = std::move(answer);
    }
    pending.deadline = Clock::now() + std::chrono::milliseconds(RaftGroups::kRequestTimeoutMs);
    p->pending.emplace(token, std::move(pending));
    start(id, token);
  });
  if (!queued) {
    --p->pending_count;
    (*shared_done)(Status::unavailable("the raft plugin is stopping or its queue is full"));
  }
}

}  // namespace

void RaftGroups::propose(const GroupId& group, Bytes command, Completion<Bytes> done) {
  if (command.empty()) {
    return done(Status::invalid_argument("an empty command (empty entries are the plugin's own)"));
  }
  Impl* p = impl_.get();
  submit<Bytes>(p, group, std::move(done),
                [p, command = std::move(command)](DriverGroupId id, uint64_t token) mutable {
                  p->driver->propose(id, token, std::move(command));  // runs once
                });
}

void RaftGroups::read_barrier(const GroupId& group, Completion<LogIndex> done) {
  Impl* p = impl_.get();
  submit<LogIndex>(p, group, std::move(done),
                   [p](DriverGroupId id, uint64_t token) { p->driver->read_index(id, token); });
}

void RaftGroups::change_voters(const GroupId& group, VoterChange, const Replica&,
                               Completion<LogIndex> done) {
  done(Status::not_supported("group " + group +
                             ": member changes are not offered by the raft plugin yet"));
}

Status RaftGroups::transfer_leadership(const GroupId& group, ReplicaId replica) {
  TESSERA_ASSIGN_OR_RETURN(DriverGroupId id, open_id(*impl_, group));
  Impl* p = impl_.get();
  if (!p->post([p, id, replica]() { p->driver->transfer_leadership(id, replica); })) {
    return Status::unavailable("the raft plugin is stopping or its queue is full");
  }
  return Status::ok();
}

Result<GroupStatus> RaftGroups::status(const GroupId& group) const {
  TESSERA_ASSIGN_OR_RETURN(DriverGroupId id, open_id(*impl_, group));
  Impl* p = impl_.get();
  return p->call<GroupStatus>(
      [p, id, group]() -> Result<GroupStatus> {
        const raft::Raft* core = p->driver->core(id);
        if (core == nullptr) return Status::not_found("group " + group + " is not open");
        GroupStatus s;
        s.group = group;
        s.self = core->id();
        s.term = core->term();
        s.commit_index = core->log().committed();
        s.applied_index = core->log().applied();
        auto replica = [&](raft::NodeId r) {
          NodeId node = r == core->id() ? p->self : NodeId();
          std::lock_guard lock(p->mu);
          if (node.empty() && p->resolver) {
            if (std::optional<NodeInfo> info = p->resolver(group, r)) node = info->id;
          }
          return Replica{r, node};
        };
        if (core->leader() != raft::kNoNode) s.leader = replica(core->leader());
        for (raft::NodeId r : core->conf().voters) s.voters.push_back(replica(r));
        for (raft::NodeId r : core->conf().learners) s.learners.push_back(replica(r));
        return s;
      },
      kStatusWaitMs);
}

std::map<std::string, double> RaftGroups::stats() const {
  Impl* p = impl_.get();
  Result<std::map<std::string, double>> s = p->call<std::map<std::string, double>>(
      [p]() -> Result<std::map<std::string, double>> {
        const raft::driver::DriverStats& d = p->driver->stats();
        const raftlog::LogStoreStats l = p->store->stats();
        return std::map<std::string, double>{
            {"driver_iterations", double(d.iterations)},
            {"log_syncs", double(d.storage_syncs)},
            {"entries_persisted", double(d.entries_persisted)},
            {"messages_sent", double(d.messages_sent)},
            {"batches_sent", double(d.batches_sent)},
            {"proposals_applied", double(d.proposals_applied)},
            {"reads_served", double(d.reads_served)},
            {"snapshots_requested", double(d.snapshots_requested)},
            {"log_fsyncs", double(l.fsyncs)},
            {"log_bytes_written", double(l.bytes_written)},
            {"log_segments_live", double(l.segments_live)},
            {"log_cache_hits", double(l.cache_hits)},
            {"log_cache_misses", double(l.cache_misses)},
            {"groups_open", double(p->driver->groups_count())},
        };
      },
      kStatusWaitMs);
  return s.is_ok() ? std::move(s).value() : std::map<std::string, double>{};
}

void RaftGroups::subscribe_leaders(LeaderListener listener) {
  std::lock_guard lock(impl_->mu);
  impl_->leader_listeners.push_back(std::move(listener));
}

PeerService* RaftGroups::peer_service() { return impl_->network->peer_service(); }

std::vector<NodeInfo> RaftGroups::known_nodes() const {
  std::lock_guard lock(impl_->mu);
  std::vector<NodeInfo> out;
  for (const auto& [node, address] : impl_->addresses) {
    out.push_back(NodeInfo{node, address, "", NodeState::kAlive});
  }
  return out;
}

}  // namespace tessera::raft_plugin
