// ReplicaStore: one replica's copy of a token range in memory, with its Merkle tree, as the
// tests' host: keys with one version each (a higher number wins; a delete is a version too),
// digests, and the answer to ReadLeafEntries.
// Thread-safety: none. Ownership: owns its keys and its tree.
#pragma once

#include <xxhash.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>

#include "tessera/antientropy/digest.h"
#include "tessera/antientropy/effects.h"
#include "tessera/antientropy/merkle_tree.h"
#include "tessera/antientropy/session.h"
#include "tessera/assert.h"

namespace tessera::antientropy::testing {

// The total order of versions in the tests: a higher number wins. Numbers are unique.
struct Version {
  uint64_t number = 0;
  bool deleted = false;  // a tombstone

  friend bool operator==(const Version&, const Version&) = default;
};

inline Token token_of(ByteView key) { return XXH64(key.data(), key.size(), 0); }

inline Digest digest_of_version(ByteView key, const Version& version) {
  Bytes encoded;
  for (int i = 0; i < 8; ++i) encoded.push_back(static_cast<char>(version.number >> (8 * i)));
  encoded.push_back(version.deleted ? 1 : 0);
  return digest_of(key, encoded);
}

class ReplicaStore {
 public:
  ReplicaStore(TokenRange range, TreeShape shape) : range_(range), shape_(shape) {
    tree_.emplace(range, shape);
  }

  const TokenRange& range() const { return range_; }
  size_t size() const { return keys_.size(); }
  // REQUIRES: has_tree().
  const MerkleTree& tree() const { return *tree_; }
  bool has_tree() const { return tree_.has_value(); }

  // Keeps the higher of the stored and the given version, updating the tree. REQUIRES: the key
  // is in the range.
  bool merge(const Bytes& key, const Version& version) {
    const Token token = token_of(key);
    TESSERA_REQUIRE(range_.contains(token));
    auto [it, inserted] = keys_.try_emplace(Slot{range_.offset_of(token), key}, version);
    if (!inserted) {
      if (it->second.number >= version.number) return false;
      if (tree_) tree_->remove(token, digest_of_version(key, it->second));
      it->second = version;
    }
    if (tree_) tree_->add(token, digest_of_version(key, version));
    return true;
  }

  std::optional<Version> get(const Bytes& key) const {
    auto it = keys_.find(Slot{range_.offset_of(token_of(key)), key});
    if (it == keys_.end()) return std::nullopt;
    return it->second;
  }

  // Every key and version, in entry order.
  std::map<Bytes, Version> contents() const {
    std::map<Bytes, Version> out;
    for (const auto& [slot, version] : keys_) out.emplace(slot.second, version);
    return out;
  }

  // A crash loses the tree (it lives in memory); a restart rebuilds it from the keys.
  void drop_tree() { tree_.reset(); }
  void rebuild_tree() { tree_.emplace(rebuilt_tree()); }
  MerkleTree rebuilt_tree() const {
    MerkleTreeBuilder builder(range_, shape_);
    for (const auto& [slot, version] : keys_) {
      builder.add(range_.start + slot.first, digest_of_version(slot.second, version));
    }
    return std::move(builder).finish();
  }

  // The answer to `ask`, in entry order. REQUIRES: has_tree().
  LeafEntries read(const ReadLeafEntries& ask) const {
    LeafEntries out;
    size_t key_bytes = 0;
    for (uint32_t leaf : ask.leaves) {
      const std::optional<TokenSpan> span = tree_->leaf_tokens(leaf);
      if (!span) continue;
      const Slot first{range_.offset_of(span->first), Bytes()};
      auto it = keys_.lower_bound(first);
      if (ask.after) {
        const Slot after{range_.offset_of(ask.after->token), ask.after->key};
        if (first < after) it = keys_.upper_bound(after);
      }
      for (; it != keys_.end() && it->first.first <= range_.offset_of(span->last); ++it) {
        const Token token = range_.start + it->first.first;
        const Bytes& key = it->first.second;
        if (ask.through && entry_before(range_, ask.through->token, ask.through->key, token, key)) {
          return out;  // the leaves ascend: every later entry is past `through` too
        }
        if (out.entries.size() == ask.entries_max || key_bytes + key.size() > ask.key_bytes_max) {
          out.truncated = true;
          return out;
        }
        key_bytes += key.size();
        out.entries.push_back(KeyDigest{token, key, digest_of_version(key, it->second)});
      }
    }
    return out;
  }

 private:
  using Slot = std::pair<uint64_t, Bytes>;  // (offset of the token in the range, key)

  TokenRange range_;
  TreeShape shape_;
  std::map<Slot, Version> keys_;
  std::optional<MerkleTree> tree_;
};

// A key whose token falls in `range`: "<prefix><n>" for the first n from `*next` that fits.
inline Bytes key_in_range(const TokenRange& range, const std::string& prefix, uint64_t* next) {
  for (;;) {
    Bytes key = prefix + std::to_string((*next)++);
    if (range.contains(token_of(key))) return key;
  }
}

}  // namespace tessera::antientropy::testing
