// QuorumRouter: scans across every replica (quorum_router.h, scan()).
#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <optional>

#include "quorum_router_internal.h"
#include "rpc_values.h"

namespace tessera::dynamo {

kj::Promise<Result<StoreScanPage>> QuorumRouter::scan(std::string table, Bytes start, Bytes end,
                                                      uint32_t limit, Bytes page_token,
                                                      RequestParams request) {
  using R = Result<StoreScanPage>;
  Result<Location> any = placement_->locate(table, start);
  if (!any.is_ok()) return R(any.status());
  // Every key has `owners` replicas: with at most owners - 1 members missing, each key still
  // has a copy among those that answer.
  const size_t missing_max = any->owners - 1;
  std::vector<NodeId> asked;
  size_t missing = 0;
  for (const NodeInfo& member : membership_->members()) {
    if (member.state == NodeState::kLeft) continue;
    if (member.id == self_ || is_up(member.state)) {
      asked.push_back(member.id);
    } else {
      ++missing;
    }
  }
  auto unavailable = [owners = any->owners](size_t answered, size_t members) {
    return Status::quorum_unavailable(
        "a scan needs all but " + std::to_string(owners - 1) + " of the " +
            std::to_string(members) + " members; " + std::to_string(answered) + " answered",
        static_cast<uint32_t>(answered), static_cast<uint32_t>(members - (owners - 1)));
  };
  const size_t members = asked.size() + missing;
  if (missing > missing_max) return R(unavailable(asked.size(), members));

  const kj::Duration timeout = send_timeout(request);
  kj::Vector<kj::Promise<Result<StoreVersionsPage>>> parts;
  for (const NodeId& node : asked) {
    kj::Promise<Result<StoreVersionsPage>> part = nullptr;
    if (node == self_) {
      part = node::run_durable(*pool_, store_, [store = store_, table, start, end, limit,
                                                page_token]() {
        return store->scan_versions(table, start, end, limit, page_token);
      });
    } else {
      auto send = [&](rpc::Replica::Client& replica) {
        auto call = replica.scanRequest();
        call.setTable(as_text(table));
        call.setStart(as_data(start));
        call.setEnd(as_data(end));
        call.setLimit(limit);
        call.setPageToken(as_data(page_token));
        return call.send();
      };
      part = call_peer<Result<StoreVersionsPage>>(
          node, timeout, send,
          [](auto response) { return to_versions_page(kj::mv(response)); },
          [](Status failed) { return Result<StoreVersionsPage>(failed); });
    }
    parts.add(kj::mv(part));
  }
  return kj::joinPromises(parts.releaseAsArray())
      .then([this, missing, missing_max, members, limit,
             unavailable](kj::Array<Result<StoreVersionsPage>> pages) -> R {
        std::vector<StoreVersionsPage*> answered;
        for (Result<StoreVersionsPage>& page : pages) {
          if (page.is_ok()) {
            answered.push_back(&page.value());
          } else if (page.status().code() == StatusCode::kNoSuchTable ||
                     page.status().code() == StatusCode::kInvalidArgument) {
            return page.status();  // the request's fault, not the replica's
          }
        }
        if (missing + (pages.size() - answered.size()) > missing_max) {
          return unavailable(answered.size(), members);
        }
        return merge_scan_pages(answered, limit);
      });
}

Result<StoreScanPage> QuorumRouter::merge_scan_pages(std::vector<StoreVersionsPage*> pages,
                                                     uint32_t limit) const {
  // A replica with more to come has shown every key it holds below its next page token, so the
  // merged page is complete below the smallest of those tokens.
  std::optional<Bytes> cut;
  for (const StoreVersionsPage* page : pages) {
    if (!page->next_page_token.empty() && (!cut || page->next_page_token < *cut)) {
      cut = page->next_page_token;
    }
  }
  std::map<Bytes, std::vector<VersionedValue>> keys;
  for (StoreVersionsPage* page : pages) {
    for (auto& item : page->items) {
      if (cut && item.key >= *cut) break;
      auto& versions = keys[item.key];
      for (VersionedValue& v : item.versions) versions.push_back(std::move(v));
    }
  }
  StoreScanPage out;
  // The replicas' pages each keep to the node's limits; their union must too.
  const StoreLimits& limits = store_->limits();
  const uint32_t keys_max =
      limit == 0 ? limits.scan_items_max : std::min(limit, limits.scan_items_max);
  uint32_t live_keys = 0;
  size_t bytes = 0;
  for (auto& [key, versions] : keys) {
    TESSERA_ASSIGN_OR_RETURN(std::vector<VersionedValue> survivors,
                             conflict_->reconcile(std::move(versions)));
    bool live = false;
    for (const VersionedValue& v : survivors) live = live || !v.tombstone;
    if (!live) continue;
    if (live_keys == keys_max || bytes >= limits.scan_bytes_max) {
      out.next_page_token = key;
      return out;
    }
    ++live_keys;
    for (VersionedValue& v : survivors) {
      if (v.tombstone) continue;
      bytes += key.size() + v.value.size() + v.version.size();
      out.items.push_back({key, std::move(v.value), std::move(v.version)});
    }
  }
  if (cut) out.next_page_token = *cut;
  return out;
}

}  // namespace tessera::dynamo
