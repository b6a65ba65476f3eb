// QuorumRouter: hinted handoff (quorum_router.h, "Hinted handoff").
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

#include "quorum_router_internal.h"
#include "rpc_values.h"

namespace tessera::dynamo {
namespace {

uint64_t wall_clock_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

}  // namespace

kj::Promise<void> QuorumRouter::hand_over_hints() {
  return timer_.afterDelay(kHintRoundIntervalMs * kj::MILLISECONDS)
      .then([this]() {
        return pool_->run([hints = hints_, cursor = hint_cursor_]() {
          return hints->hints(cursor, kHintsPerRound);
        });
      })
      .then([this](Result<HintPage> page) -> kj::Promise<void> {
        if (!page.is_ok()) {
          spdlog::warn("hinted handoff: {}", page.status().to_string());
          return kj::READY_NOW;
        }
        hint_cursor_ = page->next_cursor;
        if (page->unreadable > 0) {
          spdlog::warn("hinted handoff: {} stored hints do not decode (Corruption); skipped",
                       page->unreadable);
        }
        std::set<NodeId> alive, left;
        for (const NodeInfo& member : membership_->members()) {
          if (member.id == self_) continue;
          if (is_up(member.state)) alive.insert(member.id);
          if (member.state == NodeState::kLeft) left.insert(member.id);
        }
        const uint64_t now_ms = wall_clock_ms();
        std::vector<Hint> expired;
        kj::Vector<kj::Promise<void>> handovers;
        for (Hint& hint : page->hints) {
          const uint64_t age_ms = now_ms > hint.first_hinted_ms ? now_ms - hint.first_hinted_ms : 0;
          if (options_.hint_max_age_ms != 0 && hint.first_hinted_ms != 0 &&
              age_ms > options_.hint_max_age_ms) {
            expired.push_back(std::move(hint));
          } else if (alive.contains(hint.owner)) {
            handovers.add(hand_over(std::move(hint)));
          } else if (left.contains(hint.owner)) {
            handovers.add(hand_to_new_owners(std::move(hint)));
          }
        }
        if (!expired.empty()) handovers.add(drop_expired_hints(std::move(expired)));
        return kj::joinPromises(handovers.releaseAsArray());
      })
      .catch_([](kj::Exception&& e) {
        spdlog::warn("hinted handoff round failed: {}", e.getDescription().cStr());
      })
      .then([this]() { return hand_over_hints(); });
}

kj::Promise<void> QuorumRouter::hand_over(Hint hint) {
  kj::Promise<Status> delivered = write_copy(hint.owner, kHintRoundIntervalMs * kj::MILLISECONDS,
                                             hint.table, hint.key, hint.versions);
  return delivered.then([this, hint = std::move(hint)](Status status) mutable -> kj::Promise<void> {
    if (status.code() == StatusCode::kNoSuchTable) return owner_lacks_table(std::move(hint));
    if (!status.is_ok()) return kj::READY_NOW;  // tried again in a later round
    return pool_->run([hints = hints_, hint = std::move(hint)]() { return hints->drop_hint(hint); })
        .then([](Status dropped) {
          if (!dropped.is_ok()) spdlog::warn("hinted handoff: {}", dropped.to_string());
        });
  });
}

kj::Promise<void> QuorumRouter::drop_expired_hints(std::vector<Hint> expired) {
  const size_t count = expired.size();
  spdlog::warn("hinted handoff: dropping {} hint(s) older than hint_max_age_ms = {} (anti-entropy "
               "repairs their owners once they are back)",
               count, options_.hint_max_age_ms);
  return pool_
      ->run([hints = hints_, expired = std::move(expired)]() {
        for (const Hint& hint : expired) TESSERA_RETURN_IF_ERROR(hints->drop_hint(hint));
        return Status::ok();
      })
      .then([](Status dropped) {
        if (!dropped.is_ok()) spdlog::warn("hinted handoff: {}", dropped.to_string());
      });
}

kj::Promise<void> QuorumRouter::hand_to_new_owners(Hint hint) {
  // The owner left the ring: the key's owners now are who the hint is owed to. This node
  // already holds the versions when it is one (a hinted write lands in its own copy too).
  Result<Location> where = placement_->locate(hint.table, hint.key);
  if (!where.is_ok()) return kj::READY_NOW;
  const size_t owners = std::min(where->owners, where->replicas.size());
  const std::vector<NodeInfo> view = membership_->members();
  kj::Vector<kj::Promise<Status>> sent;
  for (size_t i = 0; i < owners; ++i) {
    const NodeId& owner = where->replicas[i];
    if (owner == self_) continue;
    auto member = std::find_if(view.begin(), view.end(),
                               [&](const NodeInfo& info) { return info.id == owner; });
    // An owner that is down now: try again in a later round.
    if (member == view.end() || !is_up(member->state)) return kj::READY_NOW;
    sent.add(write_copy(owner, kHintRoundIntervalMs * kj::MILLISECONDS, hint.table, hint.key,
                        hint.versions));
  }
  return kj::joinPromises(sent.releaseAsArray())
      .then([this, hint = std::move(hint)](kj::Array<Status> statuses) mutable -> kj::Promise<void> {
        for (const Status& status : statuses) {
          if (!status.is_ok()) return kj::READY_NOW;  // every new owner must have it first
        }
        return pool_->run([hints = hints_, hint = std::move(hint)]() { return hints->drop_hint(hint); })
            .then([](Status) {});
      });
}

kj::Promise<void> QuorumRouter::owner_lacks_table(Hint hint) {
  // Dropped here too: nothing is owed. Still here: the owner missed the table's creation
  // (it was down); tell it the tables, and hand the hint over in a later round.
  const std::optional<bool> here = store_->has_table_now(hint.table);
  if (!here) return kj::READY_NOW;  // the catalog is changing: ask again next round
  if (!*here) {
    return pool_->run([hints = hints_, hint = std::move(hint)]() { return hints->drop_hint(hint); })
        .then([](Status) {});
  }
  return exchange_tables(hint.owner, kHintRoundIntervalMs * kj::MILLISECONDS)
      .then([owner = hint.owner, table = hint.table](Status told) {
        if (told.is_ok()) spdlog::info("told {}, which missed table {}, the tables", owner, table);
      });
}

}  // namespace tessera::dynamo
