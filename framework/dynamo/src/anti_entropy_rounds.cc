// QuorumRouter: Merkle anti-entropy rounds (quorum_router.h, "Anti-entropy").
//
// Every anti_entropy_interval_ms the router starts one session (antientropy/session.h) with
// the next member in turn that owns keys with this node, over the keys both own
// (replica_keys.h), and drives it over Replica.antiEntropy: this node's messages go out, the
// peer's answers come back with its repairs, and this node carries out every repair of both
// sides: it merges what the peer pushes, sends the peer what it fetches (writeBatch), and does
// the same for its own session's PushKeys and FetchKeys (a fetch reads the peer's copies with
// Replica.read). A session left partial (more differences than one session takes) is followed
// by another with the same peer at once.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>

#include "anti_entropy_rpc.h"
#include "quorum_router_internal.h"

namespace tessera::dynamo {

struct QuorumRouter::AntiEntropyRun {
  NodeId peer;
  std::shared_ptr<const antientropy::MerkleTree> tree;
  std::optional<antientropy::Session> session;
  std::optional<antientropy::Finished> finished;
  uint64_t started_ms = 0;
  size_t keys = 0;
  size_t pushed = 0;   // keys sent to the peer (its fetches and this side's pushes)
  size_t fetched = 0;  // keys taken from the peer (its pushes and this side's fetches)
};

namespace {

constexpr uint32_t kAntiEntropyCallTimeoutMs = 10'000;
constexpr uint32_t kResponderTickMs = 500;

uint64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

NodeId QuorumRouter::next_anti_entropy_peer() {
  // Members this node shares a range with, by the ring as it places keys now.
  std::set<NodeId> co_owners;
  Result<std::vector<Location>> ranges = placement_->list_ranges();
  if (!ranges.is_ok()) return {};
  for (const Location& range : *ranges) {
    const auto owners_end = range.replicas.begin() + std::min(range.owners, range.replicas.size());
    if (std::find(range.replicas.begin(), owners_end, self_) == owners_end) continue;
    co_owners.insert(range.replicas.begin(), owners_end);
  }
  co_owners.erase(self_);
  std::vector<NodeId> up;
  for (const NodeInfo& member : membership_->members()) {
    if (co_owners.contains(member.id) && is_up(member.state)) up.push_back(member.id);
  }
  if (up.empty()) return {};
  std::sort(up.begin(), up.end());
  auto next = std::upper_bound(up.begin(), up.end(), last_anti_entropy_peer_);
  last_anti_entropy_peer_ = next == up.end() ? up.front() : *next;
  return last_anti_entropy_peer_;
}

kj::Promise<void> QuorumRouter::tick_anti_entropy_responder() {
  return timer_.afterDelay(kResponderTickMs * kj::MILLISECONDS).then([this]() {
    if (anti_entropy_ != nullptr) anti_entropy_->tick();
    return tick_anti_entropy_responder();
  });
}

kj::Promise<void> QuorumRouter::anti_entropy_rounds() {
  if (options_.anti_entropy_interval_ms == 0) return kj::NEVER_DONE;
  return timer_.afterDelay(options_.anti_entropy_interval_ms * kj::MILLISECONDS)
      .then([this]() -> kj::Promise<void> {
        const NodeId peer = next_anti_entropy_peer();
        if (peer.empty()) return kj::READY_NOW;
        return anti_entropy_with(peer, 0);
      })
      .catch_([](kj::Exception&& e) {
        spdlog::warn("anti-entropy round failed: {}", e.getDescription().cStr());
      })
      .then([this]() { return anti_entropy_rounds(); });
}

kj::Promise<void> QuorumRouter::anti_entropy_with(NodeId peer, uint32_t follow_ups) {
  auto run = std::make_shared<AntiEntropyRun>();
  run->peer = peer;
  run->started_ms = steady_ms();
  ReplicaView view{store_, placement_, self_};
  auto build = [view, peer, shape = shape_for(anti_entropy_keys_)]() {
    return build_co_owned_tree(view, peer, shape);
  };
  return pool_->run(std::move(build))
      .then([this, run](Result<CoOwnedTree> built) -> kj::Promise<void> {
        if (!built.is_ok()) {
          spdlog::warn("anti-entropy with {}: {}", run->peer, built.status().to_string());
          return kj::READY_NOW;
        }
        anti_entropy_keys_ = built->keys;
        run->keys = built->keys;
        run->tree = std::make_shared<const antientropy::MerkleTree>(std::move(built->tree));
        run->session.emplace(std::uniform_int_distribution<uint64_t>()(random_), *run->tree);
        ++anti_entropy_stats_.sessions;
        return drive_anti_entropy(run);
      })
      .then([this, run, follow_ups]() -> kj::Promise<void> {
        if (!run->finished) return kj::READY_NOW;
        report_anti_entropy(*run);
        // More differences than one session takes: go on with the same peer now, a bounded
        // number of times per round.
        if (run->finished->partial && follow_ups < kAntiEntropyFollowUpsMax) {
          return anti_entropy_with(run->peer, follow_ups + 1);
        }
        return kj::READY_NOW;
      });
}

void QuorumRouter::report_anti_entropy(const AntiEntropyRun& run) {
  AntiEntropyStats& stats = anti_entropy_stats_;
  const antientropy::Outcome outcome = run.finished->outcome;
  if (outcome == antientropy::Outcome::kInSync) ++stats.in_sync;
  if (outcome == antientropy::Outcome::kRepaired) ++stats.repaired;
  if (outcome == antientropy::Outcome::kAbandoned) ++stats.abandoned;
  stats.keys_sent += run.pushed;
  stats.keys_taken += run.fetched;
  const uint64_t took_ms = steady_ms() - run.started_ms;
  if (outcome == antientropy::Outcome::kInSync) {
    spdlog::debug("anti-entropy with {}: in sync ({} keys, {} ms)", run.peer, run.keys, took_ms);
    return;
  }
  spdlog::info("anti-entropy with {}: {}{}, sent {} keys, took {} keys ({} keys compared, {} ms)",
               run.peer, outcome == antientropy::Outcome::kRepaired ? "repaired" : "abandoned",
               run.finished->partial ? " (partial)" : "", run.pushed, run.fetched, run.keys,
               took_ms);
}

kj::Promise<void> QuorumRouter::drive_anti_entropy(std::shared_ptr<AntiEntropyRun> run) {
  std::optional<antientropy::Message> outgoing;
  for (antientropy::Effect& effect : run->session->drain()) {
    if (auto* read = std::get_if<antientropy::ReadLeafEntries>(&effect)) {
      auto job = [view = ReplicaView{store_, placement_, self_}, peer = run->peer,
                  tree = run->tree, read = std::move(*read)]() {
        return read_co_owned_leaves(view, peer, *tree, read);
      };
      return pool_->run(std::move(job))
          .then([this, run](Result<antientropy::LeafEntries> entries) -> kj::Promise<void> {
            if (!entries.is_ok()) {
              spdlog::warn("anti-entropy with {}: {}", run->peer, entries.status().to_string());
              run->finished = antientropy::Finished{antientropy::Outcome::kAbandoned, false};
              return kj::READY_NOW;
            }
            run->session->leaf_entries_read(std::move(entries).value());
            return drive_anti_entropy(run);
          });
    } else if (auto* push = std::get_if<antientropy::PushKeys>(&effect)) {
      send_anti_entropy_keys(run, std::move(push->keys));
    } else if (auto* fetch = std::get_if<antientropy::FetchKeys>(&effect)) {
      fetch_anti_entropy_keys(run, std::move(fetch->keys));
    } else if (auto* send = std::get_if<antientropy::SendToPeer>(&effect)) {
      outgoing = std::move(send->message);
    } else if (auto* finished = std::get_if<antientropy::Finished>(&effect)) {
      run->finished = *finished;
    }
  }
  if (!outgoing) {
    if (!run->finished) run->finished = antientropy::Finished{antientropy::Outcome::kAbandoned};
    return kj::READY_NOW;
  }
  // Sent even when this side is finished (its last ack), so that the peer's side ends too.
  auto call = [&](rpc::Replica::Client& replica) {
    auto request = replica.antiEntropyRequest();
    request.setFrom(as_text(self_));
    set_message(request.initMessage(), *outgoing);
    return request.send();
  };
  using Answer = Result<std::optional<antientropy::Message>>;
  return call_peer<Answer>(
             run->peer, kAntiEntropyCallTimeoutMs * kj::MILLISECONDS, call,
             [this, run](auto response) -> Answer {
               TESSERA_RETURN_IF_ERROR(from_error(response.getError()));
               take_anti_entropy_push(run, response.getPush());
               std::vector<Bytes> wanted;
               for (auto key : response.getFetch()) {
                 wanted.push_back(host_key(to_string(key.getTable()), to_bytes(key.getKey())));
               }
               if (!wanted.empty()) send_anti_entropy_keys(run, std::move(wanted));
               if (!response.getHasReply()) return std::optional<antientropy::Message>();
               return to_message(response.getReply());
             },
             [](Status failed) { return Answer(failed); })
      .then([this, run](Answer answer) -> kj::Promise<void> {
        if (run->finished) return kj::READY_NOW;
        if (!answer.is_ok() || !answer->has_value()) {
          if (!answer.is_ok()) {
            spdlog::info("anti-entropy with {}: {}", run->peer, answer.status().to_string());
          }
          run->finished = antientropy::Finished{antientropy::Outcome::kAbandoned, false};
          return kj::READY_NOW;
        }
        run->session->step(**answer);
        return drive_anti_entropy(run);
      });
}

void QuorumRouter::take_anti_entropy_push(const std::shared_ptr<AntiEntropyRun>& run,
                                          capnp::List<rpc::TableKeyVersions>::Reader pushed) {
  if (pushed.size() == 0) return;
  std::vector<HostKeyVersions> items;
  for (auto item : pushed) {
    items.push_back({to_string(item.getTable()), to_bytes(item.getKey()),
                     to_versions(item.getVersions())});
  }
  run->fetched += items.size();
  tasks_->add(merge_anti_entropy_keys(std::move(items)));
}

kj::Promise<void> QuorumRouter::merge_anti_entropy_keys(std::vector<HostKeyVersions> items) {
  auto merge = [store = store_, items = std::move(items)]() -> Status {
    for (const HostKeyVersions& item : items) {
      // One key that does not merge (a table dropped meanwhile, too many siblings) does not
      // stop the others.
      Status merged = store->merge_versions(item.table, item.key, item.versions);
      if (!merged.is_ok()) spdlog::debug("anti-entropy: {}", merged.to_string());
    }
    return Status::ok();
  };
  return pool_->run(std::move(merge)).then([](Status) {});
}

void QuorumRouter::send_anti_entropy_keys(const std::shared_ptr<AntiEntropyRun>& run,
                                          std::vector<Bytes> keys) {
  run->pushed += keys.size();
  auto read = [store = store_, keys = std::move(keys)]() { return read_host_keys(store, keys); };
  tasks_->add(pool_->run(std::move(read))
                  .then([this, peer = run->peer](
                            Result<std::vector<HostKeyVersions>> items) -> kj::Promise<void> {
                    if (!items.is_ok() || items->empty()) return kj::READY_NOW;
                    auto items_shared =
                        std::make_shared<std::vector<HostKeyVersions>>(std::move(items).value());
                    auto send = [&](rpc::Replica::Client& replica) {
                      auto call = replica.writeBatchRequest();
                      auto writes = call.initWrites(items_shared->size());
                      for (size_t i = 0; i < items_shared->size(); ++i) {
                        const HostKeyVersions& item = (*items_shared)[i];
                        writes[i].setTable(as_text(item.table));
                        writes[i].setKey(as_data(item.key));
                        set_versions(writes[i].initVersions(item.versions.size()), item.versions);
                      }
                      return call.send();
                    };
                    return call_peer<Status>(
                               peer, kAntiEntropyCallTimeoutMs * kj::MILLISECONDS, send,
                               [](auto) { return Status::ok(); },
                               [](Status failed) { return failed; })
                        .then([items_shared](Status) {});  // a lost repair is found again
                  }));
}

void QuorumRouter::fetch_anti_entropy_keys(const std::shared_ptr<AntiEntropyRun>& run,
                                           std::vector<Bytes> keys) {
  kj::Vector<kj::Promise<std::optional<HostKeyVersions>>> reads;
  for (const Bytes& host : keys) {
    HostKeyVersions item;
    if (!split_host_key(host, &item.table, &item.key)) continue;
    auto send = [&](rpc::Replica::Client& replica) {
      auto call = replica.readRequest();
      call.setTable(as_text(item.table));
      call.setKey(as_data(item.key));
      return call.send();
    };
    reads.add(call_peer<std::optional<HostKeyVersions>>(
        run->peer, kAntiEntropyCallTimeoutMs * kj::MILLISECONDS, send,
        [item](auto response) mutable -> std::optional<HostKeyVersions> {
          if (response.getError().getCode() != rpc::ErrorCode::OK) return std::nullopt;
          item.versions = to_versions(response.getVersions());
          if (item.versions.empty()) return std::nullopt;
          return item;
        },
        [](Status) -> std::optional<HostKeyVersions> { return std::nullopt; }));
  }
  run->fetched += reads.size();
  tasks_->add(kj::joinPromises(reads.releaseAsArray())
                  .then([this](kj::Array<std::optional<HostKeyVersions>> read) {
                    std::vector<HostKeyVersions> items;
                    for (auto& item : read) {
                      if (item) items.push_back(std::move(*item));
                    }
                    return merge_anti_entropy_keys(std::move(items));
                  }));
}

}  // namespace tessera::dynamo
