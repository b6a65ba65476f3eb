#include "tessera/dynamo/dynamo_profile.h"

#include <algorithm>
#include <array>

#include <spdlog/spdlog.h>

#include <chrono>

#include "tessera/dynamo/hint_store.h"
#include "tessera/dynamo/replica_service.h"
#include "tessera/dynamo/table_states.h"

namespace tessera::dynamo {
namespace {

constexpr std::array<std::string_view, 6> kQuorumKeys = {
    "read_quorum", "write_quorum", "tick_ms", "anti_entropy_interval_ms", "hint_max_age_ms",
    "join_settle_ms"};
// `tessera hints` counts at most this many, a page at a time, so that a node with a huge backlog
// answers in bounded time.
constexpr uint64_t kHintsCounted = 1'000'000;
// Anti-entropy jobs queued at once on the background thread (builds, leaf reads, repairs).
constexpr size_t kBackgroundJobsMax = 256;

uint64_t wall_clock_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}
constexpr size_t kHintsPerPage = 4096;

class DynamoProfile final : public node::Profile {
 public:
  DynamoProfile(const node::NodeParts& parts, QuorumOptions options,
                std::unique_ptr<TableStates> tables)
      : parts_(parts), options_(options), hints_(parts.store, wall_clock_ms),
        tables_(std::move(tables)) {}

  Status start_serving(kj::Timer& timer, kj::Network& network) override {
    const NodeId& self = parts_.config->node_id;
    moves_ = std::make_shared<RangeMoveQueue>(self);
    gate_ = kj::heap<node::DurableGate>(parts_.store, parts_.pool);
    anti_entropy_ = kj::heap<AntiEntropyResponder>(
        ReplicaView{parts_.store, parts_.placement, self}, &background_);
    router_ = kj::heap<QuorumRouter>(self, parts_.store, &hints_, tables_.get(),
                                     anti_entropy_.get(), parts_.pool, &background_, gate_.get(),
                                     parts_.conflict,
                                     parts_.placement, parts_.membership, timer, network,
                                     *parts_.peer_dialer, options_, moves_);
    return Status::ok();
  }

  node::RequestPath& path() override { return *router_; }

  kj::Maybe<rpc::Replica::Client> replica(const NodeId& peer) override {
    return rpc::Replica::Client(kj::heap<ReplicaService>(
        parts_.store, &hints_, tables_.get(), anti_entropy_.get(), parts_.pool, gate_.get(),
        parts_.placement, parts_.membership, peer));
  }

  // Places keys by the membership view from now on and joins the cluster as this node at
  // `address` (its client API; gossip uses the same host and port). Ranges this node gives
  // away on a change go to the move queue, for the router to stream.
  Status listening(const std::string& address) override {
    // Ownership follows membership (join, leave), not liveness: every member but those that
    // left keeps its place on the ring, and a down one is stood in for with hints.
    Placement* placement = parts_.placement;
    auto place = [placement, moves = moves_, self = parts_.config->node_id](
                     const std::vector<NodeInfo>& members) {
      std::vector<NodeInfo> owners;
      for (const NodeInfo& member : members) {
        if (member.state != NodeState::kLeft) owners.push_back(member);
      }
      // Only a ring that served requests placed data: the moves from a view this node had
      // while it was still learning its peers (below N members) would send everything it
      // holds to owners that have it already.
      const bool was_serving = placement->locate("", "").is_ok();
      Result<std::vector<RangeMove>> changes = placement->set_members(owners);
      if (!changes.is_ok()) {
        spdlog::error("node {}: placement refused the view: {}", self,
                      changes.status().to_string());
      } else if (!changes->empty()) {
        spdlog::info("node {}: {} members; {} ranges change owner", self, owners.size(),
                     changes->size());
        if (was_serving) moves->add(*changes);
      }
    };
    // Views reach `place` only from the plugin, in order (join publishes the first one): a
    // view read here could be older than one the plugin already delivered.
    parts_.membership->subscribe(place);
    // A node that has never owned its ranges joins as a joining member and copies them first
    // (join_ranges.cc); one that did (a restart) owns them at once.
    Result<bool> owns = router_->owns_its_ranges();
    if (!owns.is_ok()) return owns.status();
    TESSERA_RETURN_IF_ERROR(parts_.membership->join(
        NodeInfo{parts_.config->node_id, address, "", NodeState::kAlive, !*owns}));
    if (!*owns) router_->join_ranges();
    return Status::ok();
  }

  // The ring's token ranges with their owners (N of them), as this node places keys now.
  kj::Promise<Result<std::vector<node::RangeReport>>> ring() override {
    using R = Result<std::vector<node::RangeReport>>;
    Result<std::vector<Location>> ranges = parts_.placement->list_ranges();
    if (!ranges.is_ok()) return R(ranges.status());
    std::vector<node::RangeReport> reports;
    for (Location& location : *ranges) {
      node::RangeReport report;
      report.range.range = std::move(location.range);
      location.replicas.resize(location.owners);
      report.hosted = std::find(location.replicas.begin(), location.replicas.end(),
                                parts_.config->node_id) != location.replicas.end();
      report.range.voters = std::move(location.replicas);
      reports.push_back(std::move(report));
    }
    return R(std::move(reports));
  }

  // Counts the hints on the pool, page by page, up to kHintsCounted.
  kj::Promise<Result<node::HintReport>> hints() override {
    return parts_.pool->run([hints = &hints_]() -> Result<node::HintReport> {
      node::HintReport report;
      Bytes cursor;
      uint64_t counted = 0;
      do {
        TESSERA_ASSIGN_OR_RETURN(HintPage page, hints->hints(cursor, kHintsPerPage));
        for (const Hint& hint : page.hints) ++report.pending[hint.owner];
        counted += page.hints.size();
        cursor = std::move(page.next_cursor);
      } while (!cursor.empty() && counted < kHintsCounted);
      report.truncated = !cursor.empty();
      return report;
    });
  }

  kj::Promise<Result<uint64_t>> decommission() override { return router_->decommission(); }

  // Takes a member that is down for good out of the ring (Membership::remove); the ring's
  // change then streams its ranges' copies to their new owners, here as on every node.
  kj::Promise<Status> remove_node(const NodeId& id) override {
    return parts_.pool->run([membership = parts_.membership, id]() {
      Status removed = membership->remove(id);
      if (removed.is_ok()) spdlog::info("node {} removed from the cluster", id);
      return removed;
    });
  }

  // Anti-entropy's counters, and the responder sessions open now.
  std::map<std::string, double> stats() override {
    if (router_.get() == nullptr) return {};
    const AntiEntropyStats& ae = router_->anti_entropy_stats();
    return {{"anti_entropy_sessions", double(ae.sessions)},
            {"anti_entropy_in_sync", double(ae.in_sync)},
            {"anti_entropy_repaired", double(ae.repaired)},
            {"anti_entropy_abandoned", double(ae.abandoned)},
            {"anti_entropy_keys_sent", double(ae.keys_sent)},
            {"anti_entropy_keys_taken", double(ae.keys_taken)},
            {"anti_entropy_responding", double(anti_entropy_->sessions())},
            {"joining", router_->join_progress().joining ? 1.0 : 0.0},
            {"join_keys_copied", double(router_->join_progress().keys_copied)}};
  }

  // Stopping is not leaving (decommission() is): a node that stops (a restart, an upgrade)
  // keeps its place on the ring, and its peers take hints for it until it is back.
  // The client port, and with it every ReplicaService handed to a peer, is gone by now.
  void stop_serving() override {
    router_ = nullptr;
    anti_entropy_ = nullptr;
    gate_ = nullptr;
  }

 private:
  const node::NodeParts parts_;
  const QuorumOptions options_;
  HintStore hints_;
  const std::unique_ptr<TableStates> tables_;
  // Anti-entropy's passes over the store (one thread), so that they never take a request's
  // worker; after the router and responder that use it.
  node::WorkerPool background_{1, kBackgroundJobsMax};
  std::shared_ptr<RangeMoveQueue> moves_;
  kj::Own<node::DurableGate> gate_;  // the event loop's; before router_, which borrows it
  kj::Own<AntiEntropyResponder> anti_entropy_;  // likewise
  kj::Own<QuorumRouter> router_;
};

}  // namespace

Result<QuorumOptions> parse_quorum_options(const ConfigSection& section) {
  TESSERA_RETURN_IF_ERROR(section.check_known_keys(kQuorumKeys));
  TESSERA_ASSIGN_OR_RETURN(int64_t r, section.get_int("read_quorum", 2, 1, 16));
  TESSERA_ASSIGN_OR_RETURN(int64_t w, section.get_int("write_quorum", 2, 1, 16));
  TESSERA_ASSIGN_OR_RETURN(int64_t tick_ms, section.get_int("tick_ms", 10, 1, 1000));
  TESSERA_ASSIGN_OR_RETURN(int64_t anti_entropy_ms,
                           section.get_int("anti_entropy_interval_ms", 60'000, 0, 3'600'000));
  TESSERA_ASSIGN_OR_RETURN(
      int64_t hint_max_age_ms,
      section.get_int("hint_max_age_ms", 3ll * 24 * 3600 * 1000, 0, 365ll * 24 * 3600 * 1000));
  TESSERA_ASSIGN_OR_RETURN(int64_t join_settle_ms,
                           section.get_int("join_settle_ms", 5'000, 0, 600'000));
  QuorumOptions options;
  options.join_settle_ms = static_cast<uint32_t>(join_settle_ms);
  options.read_quorum = static_cast<uint32_t>(r);
  options.write_quorum = static_cast<uint32_t>(w);
  options.tick_ms = static_cast<uint32_t>(tick_ms);
  options.anti_entropy_interval_ms = static_cast<uint32_t>(anti_entropy_ms);
  options.hint_max_age_ms = static_cast<uint64_t>(hint_max_age_ms);
  return options;
}

Result<std::unique_ptr<node::Profile>> make_dynamo_profile(const node::NodeParts& parts) {
  if (parts.placement == nullptr || parts.membership == nullptr) {
    return Status::invalid_argument("the dynamo profile needs a placement and a membership plugin");
  }
  if (parts.peer_dialer == nullptr) {
    return Status::invalid_argument(
        "the dynamo profile needs [security] cluster_secret_file: its node-to-node links are "
        "authenticated");
  }
  TESSERA_ASSIGN_OR_RETURN(QuorumOptions options,
                           parse_quorum_options(parts.config->profile_section));
  options.requests_in_flight_max = parts.config->requests_in_flight_max;
  TESSERA_ASSIGN_OR_RETURN(std::unique_ptr<TableStates> tables,
                           TableStates::open(parts.store, parts.config->node_id, wall_clock_ms));
  return std::unique_ptr<node::Profile>(
      std::make_unique<DynamoProfile>(parts, options, std::move(tables)));
}

}  // namespace tessera::dynamo
