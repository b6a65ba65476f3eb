#include "leader_profile.h"

#include <cstdio>
#include <mutex>

#include <spdlog/spdlog.h>

#include "leader_config.h"
#include "leader_router.h"
#include "local_replicas.h"
#include "metadata_store.h"
#include "peer_links.h"
#include "replica_access.h"
#include "tessera/node/client_service.h"

namespace tessera::leader {
namespace {

// How often the node follows the metadata it applied, and proposes the founding until it is in.
constexpr uint32_t kWatchIntervalMs = 20;
constexpr uint32_t kFoundIntervalMs = 500;

// What the leadership listener needs, which may outlive the profile: the plugin keeps its
// listeners until it is destroyed.
struct LeaderEvents {
  LeaderCache leaders;
  std::mutex mutex;
  LocalReplicas* replicas = nullptr;  // (mutex) null once the profile stopped
};

// Serves the "leader" peer service: the client API from this node's own replicas only.
class LocalService final : public PeerService {
 public:
  LocalService(NodeId self, node::RequestPath* path, kj::Timer* timer, uint32_t timeout_ms)
      : self_(std::move(self)), path_(path), timer_(timer), timeout_ms_(timeout_ms) {}
  capnp::Capability::Client capability() override {
    return rpc::Tessera::Client(kj::heap<node::ClientService>(
        self_, path_, timer_, node::ClientServiceOptions{.default_timeout_ms = timeout_ms_}));
  }

 private:
  const NodeId self_;
  node::RequestPath* const path_;
  kj::Timer* const timer_;
  const uint32_t timeout_ms_;
};

class LeaderProfile final : public node::Profile, private kj::TaskSet::ErrorHandler {
 public:
  LeaderProfile(const node::NodeParts& parts, LeaderConfig config, ReplicationGroups* groups)
      : parts_(parts),
        config_(std::move(config)),
        groups_(groups),
        events_(std::make_shared<LeaderEvents>()),
        replicas_(config_, parts.config->data_dir / "leader", parts.engine, parts.conflict,
                  parts.placement, groups, parts.pool),
        access_(&replicas_, groups, parts.conflict, config_.replicas) {}

  ~LeaderProfile() noexcept(false) override { stop(); }

  Status start_serving(kj::Timer& timer, kj::Network& network) override {
    LocalReplicas* replicas = &replicas_;
    groups_->set_resolver([replicas](const GroupId& group, ReplicaId replica) {
      return replicas->resolve(group, replica);
    });
    {
      std::lock_guard lock(events_->mutex);
      events_->replicas = &replicas_;
    }
    groups_->subscribe_leaders([events = events_, groups = groups_,
                                self = config_.peers[config_.self].id](const LeaderChange& change) {
      events->leaders.set(change.group, change.leader ? change.leader->node : NodeId());
      std::printf("tessera-node %s: %s leader %s term %llu\n", self.c_str(), change.group.c_str(),
                  change.leader ? change.leader->node.c_str() : "(none)",
                  static_cast<unsigned long long>(change.term));
      std::fflush(stdout);
      if (!change.leader || change.leader->node != self || change.group == kMetadataGroup) return;
      // A new range leader records itself in the metadata, so that routers go to it first.
      std::lock_guard lock(events->mutex);
      if (events->replicas == nullptr) return;
      const uint64_t range = events->replicas->range_of_group(change.group);
      if (range != 0) groups->propose(kMetadataGroup, encode_set_leader(range, self), [](auto) {});
    });
    TESSERA_RETURN_IF_ERROR(parts_.membership->join(config_.peers[config_.self]));
    TESSERA_RETURN_IF_ERROR(replicas_.open());

    links_ = std::make_unique<PeerLinks>(network, *parts_.peer_dialer, config_.peers);
    router_ = std::make_unique<LeaderRouter>(&replicas_, &access_, parts_.placement,
                                             &events_->leaders, links_.get(), parts_.store,
                                             timer, true);
    local_path_ = std::make_unique<LeaderRouter>(&replicas_, &access_, parts_.placement,
                                                 &events_->leaders, links_.get(), parts_.store,
                                                 timer, false);
    local_service_ = std::make_unique<LocalService>(config_.peers[config_.self].id,
                                                    local_path_.get(), &timer,
                                                    parts_.config->request_timeout_ms);
    tasks_ = kj::heap<kj::TaskSet>(static_cast<kj::TaskSet::ErrorHandler&>(*this));
    tasks_->add(watch(timer));
    tasks_->add(found(timer));
    spdlog::info("node {}: leader profile, {} peers, {} voters per range, metadata on {}",
                 config_.peers[config_.self].id, config_.peers.size(), config_.replicas,
                 config_.metadata_voters().size());
    return Status::ok();
  }

  node::RequestPath& path() override { return *router_; }

  // The range map as this node applied it, with its own groups' view. On the pool: a group's
  // status waits for the raft driver.
  kj::Promise<Result<std::vector<node::RangeReport>>> ring() override {
    using R = Result<std::vector<node::RangeReport>>;
    Result<RangeMap> map = replicas_.metadata().range_map();
    if (!map.is_ok()) return R(map.status());
    std::vector<node::RangeReport> reports;
    for (RangeDescriptor& range : map->ranges) {
      node::RangeReport report;
      report.hosted = replicas_.range(range.id) != nullptr;
      report.leader = events_->leaders.get(range.group);
      if (report.leader.empty()) report.leader = range.leader;
      report.range = std::move(range);
      reports.push_back(std::move(report));
    }
    return parts_.pool->run([groups = groups_, reports = std::move(reports)]() mutable -> R {
      for (node::RangeReport& report : reports) {
        if (!report.hosted) continue;
        Result<GroupStatus> status = groups->status(report.range.group);
        if (!status.is_ok()) continue;
        report.term = status->term;
        report.commit_index = status->commit_index;
        report.applied_index = status->applied_index;
        if (status->leader) report.leader = status->leader->node;
      }
      return reports;
    });
  }

  PeerService* peer_service(std::string_view name) override {
    return name == kLeaderPeerService ? local_service_.get() : nullptr;
  }

  // The peer service's path stays until the profile goes: capabilities it handed out may be
  // dropped a moment after the server.
  void stop_serving() override {
    tasks_ = nullptr;
    router_.reset();
    links_.reset();
    stop();
  }

 private:
  void taskFailed(kj::Exception&& e) override {
    spdlog::error("leader profile: {}", e.getDescription().cStr());
  }

  void stop() {
    {
      std::lock_guard lock(events_->mutex);
      events_->replicas = nullptr;
    }
    replicas_.close();
  }

  // Follows the metadata this node applies (LocalReplicas::refresh).
  kj::Promise<void> watch(kj::Timer& timer) {
    return timer.afterDelay(kWatchIntervalMs * kj::MILLISECONDS).then([this, &timer]() {
      Status followed = replicas_.refresh();
      if (!followed.is_ok()) spdlog::warn("range map: {}", followed.to_string());
      return watch(timer);
    });
  }

  // Until the metadata service is founded, proposes founding it from the static peers; the
  // leader's proposal commits, the others are refused as already founded (or not leaders).
  kj::Promise<void> found(kj::Timer& timer) {
    if (replicas_.metadata().founded()) return kj::READY_NOW;
    groups_->propose(kMetadataGroup, encode_found(config_.cluster_id, config_.peers),
                     [](Result<Bytes>) {});
    return timer.afterDelay(kFoundIntervalMs * kj::MILLISECONDS).then([this, &timer]() {
      return found(timer);
    });
  }

  const node::NodeParts parts_;
  const LeaderConfig config_;
  ReplicationGroups* const groups_;
  std::shared_ptr<LeaderEvents> events_;
  LocalReplicas replicas_;
  ReplicaAccess access_;
  std::unique_ptr<PeerLinks> links_;
  std::unique_ptr<LeaderRouter> router_;
  std::unique_ptr<LeaderRouter> local_path_;
  std::unique_ptr<LocalService> local_service_;
  kj::Own<kj::TaskSet> tasks_;
};

}  // namespace

Result<std::unique_ptr<node::Profile>> make_leader_profile(const node::NodeParts& parts) {
  const node::NodeConfig& config = *parts.config;
  ReplicationGroups* groups =
      parts.membership != nullptr ? parts.membership->replication_groups() : nullptr;
  if (groups == nullptr) {
    return Status::invalid_argument(
        "the leader profile needs a membership plugin with replication groups (raft); " +
        config.membership->plugin + " has none");
  }
  if (parts.peer_dialer == nullptr) {
    return Status::invalid_argument(
        "the leader profile needs [security] cluster_secret_file: its node-to-node links are "
        "authenticated");
  }
  // The versions of a replicated log must have a total order (order_after).
  Result<Bytes> version = parts.conflict->new_version(config.node_id, {});
  Result<Bytes> ordered =
      version.is_ok() ? parts.conflict->order_after(*version, "") : version;
  if (!ordered.is_ok()) {
    return Status::invalid_argument("the leader profile needs a conflict plugin with a total order "
                                    "of versions (lww); " + config.conflict.plugin + ": " +
                                    ordered.status().message());
  }
  // A placement by range map answers locate_span; the ring answers NotSupported.
  Result<std::vector<Location>> span = parts.placement->locate_span("", "", "");
  if (!span.is_ok() && span.status().code() == StatusCode::kNotSupported) {
    return Status::invalid_argument("the leader profile needs a placement plugin that places by "
                                    "key ranges (range); " + config.placement->plugin +
                                    " does not");
  }
  TESSERA_ASSIGN_OR_RETURN(LeaderConfig leader,
                           parse_leader_config(config.profile_section, config.node_id,
                                               config.listen_host + ":" +
                                                   std::to_string(config.listen_port)));
  return std::unique_ptr<node::Profile>(
      std::make_unique<LeaderProfile>(parts, std::move(leader), groups));
}

}  // namespace tessera::leader
