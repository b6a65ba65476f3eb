// QuorumRouter: copying keys to the new owners of ranges after a membership change
// (quorum_router.h, "Range streaming").
//
// The pass does not need the placement's token function: for each key this node holds it asks
// the placement who owns the key now and sends the key's versions (tombstones too, so deletes
// move with the data) to the targets among them. Writes merge on the receiver, so a key sent
// twice, or one a client wrote there meanwhile, comes to no harm.
#include <spdlog/spdlog.h>

#include <algorithm>

#include "quorum_router_internal.h"
#include "rpc_values.h"

namespace tessera::dynamo {
namespace {

constexpr uint32_t kStreamPageKeys = 256;
// How long one call of the pass may take (a table exchange, or one key's versions).
constexpr uint32_t kStreamCallTimeoutMs = 5000;

}  // namespace

void RangeMoveQueue::add(const std::vector<RangeMove>& moves) {
  std::lock_guard lock(mutex_);
  for (const RangeMove& move : moves) {
    if (move.from == self_ && move.to != self_) targets_.insert(move.to);
  }
}

std::set<NodeId> RangeMoveQueue::take() {
  std::lock_guard lock(mutex_);
  return std::exchange(targets_, {});
}

kj::Promise<size_t> QuorumRouter::stream_to(std::set<NodeId> targets) {
  std::string names;
  for (const NodeId& target : targets) names += (names.empty() ? "" : ", ") + target;
  spdlog::info("node {}: streaming the ranges {} now own(s)", self_, names);
  return pool_
      ->run([store = store_]() { return Result<std::vector<std::string>>(store->list_tables()); })
      .then([this, targets = std::move(targets)](Result<std::vector<std::string>> tables) {
        return stream_tables(std::move(tables).value(), 0, targets, 0);
      })
      .then([this, names](size_t sent) {
        spdlog::info("node {}: streamed {} keys to {}", self_, sent, names);
        return sent;
      });
}

kj::Promise<size_t> QuorumRouter::stream_tables(std::vector<std::string> tables, size_t index,
                                                std::set<NodeId> targets, size_t sent) {
  if (index == tables.size()) return sent;
  // A new member may not have learned of every table yet: told once, before the first.
  kj::Vector<kj::Promise<Status>> told;
  for (const NodeId& target : targets) {
    if (index == 0) told.add(exchange_tables(target, kStreamCallTimeoutMs * kj::MILLISECONDS));
  }
  return kj::joinPromises(told.releaseAsArray())
      .then([this, table = tables[index], targets, sent](kj::Array<Status>) {
        return stream_page(table, {}, targets, sent);
      })
      .then([this, tables = std::move(tables), index, targets](size_t sent) mutable {
        return stream_tables(std::move(tables), index + 1, std::move(targets), sent);
      });
}

kj::Promise<size_t> QuorumRouter::stream_page(std::string table, Bytes token,
                                              std::set<NodeId> targets, size_t sent) {
  auto read = [store = store_, table, token]() {
    return store->scan_versions(table, {}, {}, kStreamPageKeys, token);
  };
  return pool_->run(read).then([this, table, targets, sent](
                                   Result<StoreVersionsPage> page) mutable -> kj::Promise<size_t> {
    if (!page.is_ok()) {
      // The table was dropped meanwhile, or the disk failed: the other owners still hold
      // the keys, and read repair brings them over.
      spdlog::warn("node {}: streaming table {}: {}", self_, table, page.status().to_string());
      return sent;
    }
    kj::Vector<kj::Promise<Status>> writes;
    for (StoreVersionsPage::Item& item : page->items) {
      Result<Location> location = placement_->locate(table, item.key);
      if (!location.is_ok()) continue;
      const auto owners_end = location->replicas.begin() + location->owners;
      for (const NodeId& target : targets) {
        if (std::find(location->replicas.begin(), owners_end, target) == owners_end) continue;
        writes.add(write_copy(target, kStreamCallTimeoutMs * kj::MILLISECONDS, table, item.key,
                              item.versions));
        ++sent;
      }
    }
    Bytes next = std::move(page->next_page_token);
    return kj::joinPromises(writes.releaseAsArray())
        .then([this, table = std::move(table), next = std::move(next), targets = std::move(targets),
               sent](kj::Array<Status>) mutable -> kj::Promise<size_t> {
          if (next.empty()) return sent;
          return stream_page(std::move(table), std::move(next), std::move(targets), sent);
        });
  });
}

}  // namespace tessera::dynamo
