// QuorumRouter: joining the ring (quorum_router.h, "Joining").
//
// Copy first, then own. A node that has never owned its ranges joins the membership as a
// joining member: no placement puts it on the ring of owners, but every write to a key it will
// own also goes to it and needs its quorum among the key's next owners too (Location's
// next_owners, quorum::Request). Once its announcement has settled, it asks every member that
// owns ranges and is up for each table's keys that it will own (Replica.scan with `joiner`,
// filtered on the member's side by the member's own placement), merges them here, records in
// its store that it owns its ranges, and only then clears its joining flag. So every write
// acknowledged before the copy began reached it through the copy, and every one after through
// the writes themselves; the members' ring changes when they learn the flag is clear, and no
// range is streamed to it again.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

#include "quorum_router_internal.h"
#include "rpc_values.h"

namespace tessera::dynamo {
namespace {

constexpr std::string_view kOwnsRangesRecord = "owns-ranges";
constexpr uint32_t kJoinScanKeys = 512;
constexpr uint32_t kJoinCallTimeoutMs = 10'000;
constexpr uint32_t kJoinRetryMs = 500;

uint64_t steady_ms() {
  using namespace std::chrono;
  return static_cast<uint64_t>(
      duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count());
}

}  // namespace

// One join's copy: the tables and members to copy from, and where it is.
struct QuorumRouter::JoinCopy {
  std::vector<std::string> tables;
  std::vector<NodeId> sources;
  std::set<std::string> copied_tables;
  size_t table = 0;
  size_t source = 0;
  Bytes token;           // the next page of (table, source)
  uint64_t keys = 0;     // merged here so far
  uint64_t page_keys = 0;  // of (table, source)
  uint64_t started_ms = 0;
  bool exchanged = false;  // tables were exchanged with the source after it lacked one
};

Result<bool> QuorumRouter::owns_its_ranges() const {
  TESSERA_ASSIGN_OR_RETURN(std::optional<Bytes> record, store_->node_record(kOwnsRangesRecord));
  return record.has_value();
}

void QuorumRouter::join_ranges() {
  if (joining_ != nullptr) return;
  join_progress_.joining = true;
  spdlog::info("node {}: joining: copies the ranges it will own in {} ms, once every member "
               "knows it is joining",
               self_, options_.join_settle_ms);
  joining_ = timer_.afterDelay(options_.join_settle_ms * kj::MILLISECONDS)
                 .then([this]() { return copy_ranges_when_ready(false); })
                 .eagerlyEvaluate([this](kj::Exception&& e) {
                   spdlog::error("node {}: joining stopped: {}", self_, e.getDescription().cStr());
                 });
}

kj::Promise<void> QuorumRouter::copy_ranges_when_ready(bool waited_before) {
  bool any_owner = false;
  std::vector<NodeId> sources;
  for (const NodeInfo& member : membership_->members()) {
    if (member.id == self_ || member.joining || member.state == NodeState::kLeft) continue;
    any_owner = true;
    if (is_up(member.state)) sources.push_back(member.id);
  }
  if (!any_owner) {
    spdlog::info("node {}: no member owns ranges: it founds the cluster and owns its ranges now",
                 self_);
    return finish_join(0);
  }
  if (sources.empty()) {
    if (!waited_before) {
      spdlog::warn("node {}: joining: waits for a member that owns ranges to be up", self_);
    }
    return timer_.afterDelay(kJoinRetryMs * kj::MILLISECONDS).then([this]() {
      return copy_ranges_when_ready(true);
    });
  }
  auto copy = std::make_shared<JoinCopy>();
  copy->sources = std::move(sources);
  copy->started_ms = steady_ms();
  // The tables first: this node may not have heard of every one yet.
  return exchange_tables(copy->sources.front(), kJoinCallTimeoutMs * kj::MILLISECONDS)
      .then([this, copy](Status) { return copy_join_tables(copy); });
}

// Lists the tables not copied yet and copies them from every source; again until a listing
// brings no new table (one made during the copy), then finishes.
kj::Promise<void> QuorumRouter::copy_join_tables(std::shared_ptr<JoinCopy> copy) {
  return pool_
      ->run([store = store_]() { return Result<std::vector<std::string>>(store->list_tables()); })
      .then([this, copy](Result<std::vector<std::string>> tables) -> kj::Promise<void> {
        copy->tables.clear();
        for (std::string& table : *tables) {
          if (!copy->copied_tables.count(table)) copy->tables.push_back(std::move(table));
        }
        if (copy->tables.empty()) {
          spdlog::info("node {}: joining: copied {} keys of {} tables from {} members in {} ms",
                       self_, copy->keys, copy->copied_tables.size(), copy->sources.size(),
                       steady_ms() - copy->started_ms);
          return finish_join(copy->keys);
        }
        copy->table = 0;
        copy->source = 0;
        copy->token.clear();
        copy->page_keys = 0;
        return copy_join_page(copy);
      });
}

kj::Promise<void> QuorumRouter::copy_join_page(std::shared_ptr<JoinCopy> copy) {
  if (copy->table == copy->tables.size()) {
    for (const std::string& table : copy->tables) copy->copied_tables.insert(table);
    return copy_join_tables(copy);
  }
  const std::string table = copy->tables[copy->table];
  const NodeId source = copy->sources[copy->source];
  // On to the next source, or the next table after the last source.
  auto next_part = [this, copy, table, source](std::string_view outcome) {
    spdlog::info("node {}: joining: table {} from {}: {} keys{}", self_, table, source,
                 copy->page_keys, outcome);
    copy->token.clear();
    copy->page_keys = 0;
    copy->exchanged = false;
    if (++copy->source == copy->sources.size()) {
      copy->source = 0;
      ++copy->table;
    }
    return copy_join_page(copy);
  };
  auto send = [&](rpc::Replica::Client& replica) {
    auto call = replica.scanRequest();
    call.setTable(as_text(table));
    call.setLimit(kJoinScanKeys);
    call.setPageToken(as_data(copy->token));
    call.setJoiner(as_text(self_));
    return call.send();
  };
  return call_peer<Result<StoreVersionsPage>>(
             source, kJoinCallTimeoutMs * kj::MILLISECONDS, send,
             [](auto response) { return to_versions_page(kj::mv(response)); },
             [](Status failed) { return Result<StoreVersionsPage>(failed); })
      .then([this, copy, table, source, next_part](
                Result<StoreVersionsPage> page) mutable -> kj::Promise<void> {
        if (page.status().code() == StatusCode::kNoSuchTable) {
          if (copy->exchanged) return next_part(" (it has no such table)");
          // It had not heard of the table yet: tell it, and ask again.
          copy->exchanged = true;
          return exchange_tables(source, kJoinCallTimeoutMs * kj::MILLISECONDS)
              .then([this, copy](Status) { return copy_join_page(copy); });
        }
        if (!page.is_ok()) {
          const std::vector<NodeInfo> view = membership_->members();
          const bool up = std::any_of(view.begin(), view.end(), [&](const NodeInfo& m) {
            return m.id == source && is_up(m.state) && !m.joining;
          });
          if (!up) {
            spdlog::warn("node {}: joining: passes over {}, which is down: {} (its keys have "
                         "other copies, and anti-entropy brings what only it held)",
                         self_, source, page.status().to_string());
            return next_part(" before it went down");
          }
          // Not yet aware that this node joins, or slow: ask again.
          return timer_.afterDelay(kJoinRetryMs * kj::MILLISECONDS).then([this, copy]() {
            return copy_join_page(copy);
          });
        }
        auto items = std::make_shared<StoreVersionsPage>(std::move(page).value());
        auto merge = [store = store_, table, items]() -> Status {
          for (StoreVersionsPage::Item& item : items->items) {
            Status merged = store->merge_versions(table, item.key, std::move(item.versions));
            // A table dropped meanwhile has nothing left to copy.
            if (merged.code() == StatusCode::kNoSuchTable) return Status::ok();
            TESSERA_RETURN_IF_ERROR(merged);
          }
          return Status::ok();
        };
        return node::run_durable(*pool_, store_, std::move(merge))
            .then([this, copy, items, next_part](Status merged) mutable -> kj::Promise<void> {
              if (!merged.is_ok()) {
                // This node's own disk: wait and try the page again rather than own a range
                // it does not hold.
                spdlog::warn("node {}: joining: cannot store a copied page: {}", self_,
                             merged.to_string());
                return timer_.afterDelay(kJoinRetryMs * kj::MILLISECONDS).then([this, copy]() {
                  return copy_join_page(copy);
                });
              }
              copy->keys += items->items.size();
              copy->page_keys += items->items.size();
              join_progress_.keys_copied = copy->keys;
              if (items->next_page_token.empty()) return next_part("");
              copy->token = std::move(items->next_page_token);
              return copy_join_page(copy);
            });
      });
}

kj::Promise<void> QuorumRouter::finish_join(uint64_t keys) {
  auto record = [store = store_, membership = membership_]() -> Status {
    // Recorded first: a crash after it restarts the node as an owner, which it now is.
    TESSERA_RETURN_IF_ERROR(store->put_node_record(kOwnsRangesRecord, "1"));
    return membership->finish_joining();
  };
  return pool_->run(std::move(record)).then([this, keys](Status done) -> kj::Promise<void> {
    if (!done.is_ok()) {
      spdlog::warn("node {}: joining: cannot record that it owns its ranges: {}; trying again",
                   self_, done.to_string());
      return timer_.afterDelay(kJoinRetryMs * kj::MILLISECONDS).then([this, keys]() {
        return finish_join(keys);
      });
    }
    join_progress_.joining = false;
    join_progress_.keys_copied = keys;
    spdlog::info("node {}: owns its ranges", self_);
    return kj::READY_NOW;
  });
}

}  // namespace tessera::dynamo
