#include "tessera/dynamo/replica_keys.h"

#include <xxhash.h>

#include <algorithm>
#include <set>

#include "tessera/coding.h"

namespace tessera::dynamo {
namespace {

using antientropy::KeyDigest;
using antientropy::TokenRange;

constexpr TokenRange kWholeRing{0, 0};
constexpr uint32_t kScanPageKeys = 1024;

// Calls `visit(table, key, versions)` for every key this node holds that it and `peer` both
// own, table by table in pages.
template <typename Visit>
Status for_each_co_owned_key(const ReplicaView& view, const NodeId& peer, Visit visit) {
  for (const std::string& table : view.store->list_tables()) {
    Bytes token;
    do {
      Result<node::StoreVersionsPage> page =
          view.store->scan_versions(table, {}, {}, kScanPageKeys, token);
      // A table dropped while the pass runs has no keys left to compare.
      if (page.status().code() == StatusCode::kNoSuchTable) break;
      TESSERA_RETURN_IF_ERROR(page.status());
      for (node::StoreVersionsPage::Item& item : page->items) {
        Result<Location> where = view.placement->locate(table, item.key);
        TESSERA_RETURN_IF_ERROR(where.status());
        const auto owners = where->replicas.begin();
        const auto owners_end = owners + std::min(where->owners, where->replicas.size());
        if (std::find(owners, owners_end, view.self) == owners_end ||
            std::find(owners, owners_end, peer) == owners_end) {
          continue;
        }
        visit(table, item.key, std::move(item.versions));
      }
      token = std::move(page->next_page_token);
    } while (!token.empty());
  }
  return Status::ok();
}

// Entry order over the whole ring: by token, then by key (entry.h).
bool before(const KeyDigest& a, const KeyDigest& b) {
  return antientropy::entry_before(kWholeRing, a.token, a.key, b.token, b.key);
}

}  // namespace

Bytes host_key(std::string_view table, ByteView key) {
  Bytes out;
  put_length_prefixed(&out, table);
  out.append(key);
  return out;
}

bool split_host_key(ByteView host_key, std::string* table, Bytes* key) {
  ByteView name;
  if (!get_length_prefixed(&host_key, &name)) return false;
  *table = std::string(name);
  *key = Bytes(host_key);
  return true;
}

antientropy::Token token_of(ByteView host_key) {
  return XXH64(host_key.data(), host_key.size(), 0);
}

antientropy::Digest digest_of_versions(ByteView host_key, std::vector<VersionedValue> versions) {
  std::sort(versions.begin(), versions.end(), [](const VersionedValue& a, const VersionedValue& b) {
    return std::tie(a.version, a.tombstone, a.value) < std::tie(b.version, b.tombstone, b.value);
  });
  Bytes encoded;
  for (const VersionedValue& v : versions) {
    put_length_prefixed(&encoded, v.version);
    encoded.push_back(v.tombstone ? 1 : 0);
    put_length_prefixed(&encoded, v.value);
  }
  return antientropy::digest_of(host_key, encoded);
}

antientropy::TreeShape shape_for(size_t keys) {
  uint32_t depth = 1;
  size_t leaves = 16;
  while (depth < 4 && leaves * antientropy::kEntriesPerPageMax < keys) {
    ++depth;
    leaves *= 16;
  }
  return antientropy::TreeShape{16, depth};
}

Result<CoOwnedTree> build_co_owned_tree(const ReplicaView& view, const NodeId& peer,
                                        antientropy::TreeShape shape) {
  TESSERA_RETURN_IF_ERROR(antientropy::check_shape(shape));
  antientropy::MerkleTreeBuilder builder(kWholeRing, shape);
  size_t keys = 0;
  TESSERA_RETURN_IF_ERROR(for_each_co_owned_key(
      view, peer, [&](const std::string& table, ByteView key, std::vector<VersionedValue> versions) {
        const Bytes host = host_key(table, key);
        builder.add(token_of(host), digest_of_versions(host, std::move(versions)));
        ++keys;
      }));
  return CoOwnedTree{std::move(builder).finish(), keys};
}

Result<antientropy::LeafEntries> read_co_owned_leaves(const ReplicaView& view, const NodeId& peer,
                                                      const antientropy::MerkleTree& tree,
                                                      const antientropy::ReadLeafEntries& read) {
  const std::set<uint32_t> leaves(read.leaves.begin(), read.leaves.end());
  // The first entries_max entries in entry order, kept as the pass goes: memory stays within
  // one page however many keys the leaves hold.
  auto order = [](const KeyDigest& a, const KeyDigest& b) { return before(a, b); };
  std::set<KeyDigest, decltype(order)> kept(order);
  bool more = false;
  TESSERA_RETURN_IF_ERROR(for_each_co_owned_key(
      view, peer, [&](const std::string& table, ByteView key, std::vector<VersionedValue> versions) {
        Bytes host = host_key(table, key);
        const antientropy::Token token = token_of(host);
        if (!leaves.contains(tree.leaf_of(token))) return;
        if (read.after &&
            !antientropy::entry_before(kWholeRing, read.after->token, read.after->key, token, host)) {
          return;
        }
        if (read.through &&
            antientropy::entry_before(kWholeRing, read.through->token, read.through->key, token,
                                      host)) {
          return;
        }
        const antientropy::Digest digest = digest_of_versions(host, std::move(versions));
        kept.insert(KeyDigest{token, std::move(host), digest});
        if (kept.size() > read.entries_max) {
          kept.erase(std::prev(kept.end()));
          more = true;
        }
      }));
  antientropy::LeafEntries out;
  size_t key_bytes = 0;
  for (const KeyDigest& entry : kept) {
    if (key_bytes + entry.key.size() > read.key_bytes_max) {
      more = true;
      break;
    }
    key_bytes += entry.key.size();
    out.entries.push_back(entry);
  }
  out.truncated = more && !out.entries.empty();
  return out;
}

Result<std::vector<HostKeyVersions>> read_host_keys(node::LocalStore* store,
                                                    const std::vector<Bytes>& host_keys) {
  std::vector<HostKeyVersions> out;
  for (const Bytes& host : host_keys) {
    HostKeyVersions item;
    if (!split_host_key(host, &item.table, &item.key)) continue;
    Result<std::vector<VersionedValue>> versions = store->read_versions(item.table, item.key);
    if (versions.status().code() == StatusCode::kNoSuchTable) continue;
    TESSERA_RETURN_IF_ERROR(versions.status());
    if (versions->empty()) continue;
    item.versions = std::move(versions).value();
    out.push_back(std::move(item));
  }
  return out;
}

}  // namespace tessera::dynamo
