// Message: what two replicas send each other during one anti-entropy session, and its bounds.
//
// A session is a strict ping-pong: the initiator sends seq 0, the responder seq 1, and so on;
// each side accepts only the next seq, so a duplicate, a reordered or a stale message is
// ignored. A lost message stalls the session until its idle timeout (no retransmission: the
// host starts another session later). The conversation:
//   1. Descent. The initiator sends its root as NodeHashes{level 0}. The receiver of
//      NodeHashes{level l} compares them with its own nodes; when some differ and l < depth it
//      answers with its own hashes of their children, NodeHashes{level l + 1}; so the two sides
//      take turns going one level down, only below nodes that differ. At most
//      kNodesPerMessageMax hashes per message: when more children differ, the first ones in
//      index order are kept and the session is `partial` (the rest wait for the next session).
//      NoDifference ends the session when nothing listed differs.
//   2. Leaves. The receiver of the leaf hashes (level == depth) that found differing leaves
//      sends LeafPage: the leaves, and its own entries of them in entry order (entry.h), at
//      most kEntriesPerPageMax entries or kPageKeyBytesMax key bytes; when its entries do not
//      fit, `through` is the position of the last one sent. The other side compares them with
//      its own entries up to `through` (or up to its own last entry, if its own do not fit),
//      emits the repairs (PushKeys / FetchKeys, effects.h), and answers LeafPageAck with the
//      position it compared through; the next page starts after it. An ack without a position
//      (everything compared) ends the session.
// Every message names the session, the range and the tree shape; a message whose range or
// shape differs from the receiver's tree is ignored (the trees cannot be compared).
// Thread-safety: plain values. Ownership: owns everything in it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <variant>
#include <vector>

#include "tessera/antientropy/entry.h"
#include "tessera/antientropy/merkle_tree.h"
#include "tessera/antientropy/token_range.h"

namespace tessera::antientropy {

using SessionId = uint64_t;

// Hashes in one NodeHashes, and leaves in one LeafPage: also the most leaves one session
// compares (more differing leaves make the session partial).
inline constexpr size_t kNodesPerMessageMax = 256;
// Entries in one LeafPage, and so keys in one PushKeys or FetchKeys.
inline constexpr size_t kEntriesPerPageMax = 512;
// The longest key a session carries: the node's largest key_bytes_max.
inline constexpr size_t kKeyBytesMax = size_t{1} << 20;
// Key bytes in one LeafPage (and one host read).
inline constexpr size_t kPageKeyBytesMax = size_t{4} << 20;

// A message must fit all the children of one parent, and a page one key of the longest size.
static_assert(kNodesPerMessageMax >= kFanOutMax);
static_assert(kPageKeyBytesMax >= kKeyBytesMax);
static_assert(kEntriesPerPageMax >= 1);

struct NodeHash {
  uint32_t index = 0;
  Hash hash = 0;

  friend bool operator==(const NodeHash&, const NodeHash&) = default;
};

// The sender's hashes of some nodes at `level`: the root (level 0) to open the session, then
// the children of the nodes that differed at level - 1. Indices strictly ascending, at least
// one, at most kNodesPerMessageMax.
struct NodeHashes {
  uint32_t level = 0;
  std::vector<NodeHash> nodes;
};

// None of the nodes the receiver listed differs: the session is over.
struct NoDifference {};

// The sender's entries of `leaves` (differing leaves, strictly ascending, each among the leaf
// hashes the receiver sent) that come after `after` (nullopt: from the first leaf's start) and
// up to and including `through` (nullopt: to the last leaf's end), in entry order.
struct LeafPage {
  std::vector<uint32_t> leaves;
  std::optional<EntryPosition> after;
  std::optional<EntryPosition> through;
  std::vector<KeyDigest> entries;
};

// The receiver of a LeafPage compared both sides' entries up to `compared_through`; the next
// page starts after it. nullopt: compared to the end of the leaves, the session is over.
struct LeafPageAck {
  std::optional<EntryPosition> compared_through;
};

using MessageBody = std::variant<NodeHashes, NoDifference, LeafPage, LeafPageAck>;

struct Message {
  SessionId session = 0;  // chosen by the initiator's host; unique per initiator
  uint32_t seq = 0;       // 0 from the initiator, then +1 per message either way
  TokenRange range;       // the range both trees cover
  TreeShape shape;        // and their shape
  // The sender, or an earlier message of the session, left differing nodes out: another
  // session should follow soon.
  bool partial = false;
  MessageBody body;
};

}  // namespace tessera::antientropy
