// QuorumRouter: hinted handoff (quorum_router.h, "Hinted handoff").
#include <spdlog/spdlog.h>

#include <algorithm>

#include "quorum_router_internal.h"
#include "rpc_values.h"

namespace tessera::dynamo {

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
        std::vector<NodeId> alive;
        for (const NodeInfo& member : membership_->members()) {
          if (is_up(member.state) && member.id != self_) alive.push_back(member.id);
        }
        kj::Vector<kj::Promise<void>> handovers;
        for (Hint& hint : page->hints) {
          if (std::find(alive.begin(), alive.end(), hint.owner) == alive.end()) continue;
          handovers.add(hand_over(std::move(hint)));
        }
        return kj::joinPromises(handovers.releaseAsArray());
      })
      .catch_([](kj::Exception&& e) {
        spdlog::warn("hinted handoff round failed: {}", e.getDescription().cStr());
      })
      .then([this]() { return hand_over_hints(); });
}

kj::Promise<void> QuorumRouter::hand_over(Hint hint) {
  auto send = [&](rpc::Replica::Client& replica) {
    auto call = replica.writeRequest();
    call.setTable(as_text(hint.table));
    call.setKey(as_data(hint.key));
    set_versions(call.initVersions(hint.versions.size()), hint.versions);
    return call.send();
  };
  const NodeId owner = hint.owner;
  kj::Promise<Status> delivered = call_peer<Status>(
      owner, kHintRoundIntervalMs * kj::MILLISECONDS, send,
      [](auto response) { return from_error(response.getError()); },
      [](Status failed) { return failed; });
  return delivered.then([this, hint = std::move(hint)](Status status) mutable -> kj::Promise<void> {
    if (status.code() == StatusCode::kNoSuchTable) return owner_lacks_table(std::move(hint));
    if (!status.is_ok()) return kj::READY_NOW;  // tried again in a later round
    return pool_->run([hints = hints_, hint = std::move(hint)]() { return hints->drop_hint(hint); })
        .then([](Status dropped) {
          if (!dropped.is_ok()) spdlog::warn("hinted handoff: {}", dropped.to_string());
        });
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
