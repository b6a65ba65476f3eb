// Session: one anti-entropy exchange between two replicas of one token range, as a pure state
// machine.
//
// Purpose: DESIGN.md's "replicas compare roots periodically and exchange only differing keys",
// with no sockets, threads, files, clock or logging; time is ticks. Each side of an exchange
// has its own Session over its own MerkleTree of the range: the initiator's host builds one
// with the constructor, the peer's host builds one with accept() from the first message. The
// protocol is in message.h, the effects and their order in effects.h. The host feeds a
// session the peer's messages (step), the passage of time (tick) and the entries it was asked
// to read (leaf_entries_read), and drains effects after each.
//
// Cost: a session whose trees differ in d leaves sends O(depth) messages of at most
// kNodesPerMessageMax hashes, then the entries of those leaves only (a page each way per
// kEntriesPerPageMax entries), and repairs exactly the keys whose digests differ. At most
// kNodesPerMessageMax leaves per session; more differences make it partial.
//
// Ignored, never asserted (each counted in stats().messages_ignored): a message of another
// session, not the next seq, for another range or shape, of a kind or level not expected now,
// over a bound, with indices out of order or not below the nodes this side sent, entries out
// of order or outside the page's leaves and bounds, an ack that makes no progress; anything
// after Finished. The host's own answers are trusted (REQUIRES on leaf_entries_read).
// The tree is read, never written: writes may go on during a session (a key written meanwhile
// may be repaired needlessly, or left to the next session).
// Thread-safety: none; one thread owns a Session and its tree. Ownership: borrows the tree,
// which must outlive the session; owns its effects.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "tessera/antientropy/effects.h"
#include "tessera/antientropy/entry.h"
#include "tessera/antientropy/merkle_tree.h"
#include "tessera/antientropy/message.h"

namespace tessera::antientropy {

// Ticks without any input after which a session gives up.
inline constexpr uint64_t kIdleTicksDefault = 20;
// Effects a session holds between drains: one input emits at most four.
inline constexpr size_t kEffectsPendingMax = 8;

// The host's answer to ReadLeafEntries.
struct LeafEntries {
  std::vector<KeyDigest> entries;
  bool truncated = false;  // more entries remain within the bounds asked; REQUIRES entries
};

struct SessionStats {
  uint64_t messages_ignored = 0;
  uint64_t nodes_compared = 0;   // hashes received and compared with this side's
  uint64_t nodes_differing = 0;  // of which differed
  uint64_t leaves_differing = 0;
  uint64_t pages = 0;             // LeafPages sent or compared by this side
  uint64_t entries_sent = 0;      // in this side's LeafPages
  uint64_t entries_compared = 0;  // the peer's entries this side compared
  uint64_t keys_pushed = 0;
  uint64_t keys_fetched = 0;
};

class Session {
 public:
  enum class Role : uint8_t { kInitiator, kResponder };

  // Opens a session as initiator: emits SendToPeer with the root.
  // REQUIRES: idle_ticks_max >= 1.
  Session(SessionId id, const MerkleTree& tree, uint64_t idle_ticks_max = kIdleTicksDefault);

  // Whether `message` opens a session a replica with `tree` can take part in: seq 0, the
  // tree's range and shape, and NodeHashes of the root only.
  static bool opens_session(const Message& message, const MerkleTree& tree);
  // The responder's side, having stepped `first` (its answer is ready to drain); nullopt when
  // !opens_session(first, tree). The host keeps at most a bounded number of these.
  static std::optional<Session> accept(const Message& first, const MerkleTree& tree,
                                       uint64_t idle_ticks_max = kIdleTicksDefault);

  Session(Session&&) = default;
  Session& operator=(Session&&) = default;
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // A message from the peer. What is not the next step of this session is ignored (above).
  void step(const Message& message);
  // The entries a ReadLeafEntries asked for. Ignored when the session is not waiting for a
  // read (it finished meanwhile). REQUIRES: entries within the bounds asked (leaves, after,
  // through, entries_max, key_bytes_max), each key at most kKeyBytesMax and listed once;
  // truncated only with at least one entry.
  void leaf_entries_read(LeafEntries read);
  // One unit of time: after idle_ticks_max ticks without an input, Finished{kAbandoned}.
  void tick();

  bool has_effects() const { return !effects_.empty(); }
  std::vector<Effect> drain();

  SessionId id() const { return id_; }
  Role role() const { return role_; }
  bool done() const { return state_ == State::kDone; }
  // REQUIRES: done().
  Outcome outcome() const;
  bool partial() const { return partial_; }
  const SessionStats& stats() const { return stats_; }

 private:
  enum class State : uint8_t {
    kAwaitingHashes,    // sent NodeHashes at expected_level_ - 1 (or nothing, as responder)
    kReadingOwnPage,    // asked the host for this side's entries, to send a LeafPage
    kAwaitingAck,       // sent a LeafPage
    kReadingToCompare,  // asked the host for this side's entries, to compare a LeafPage
    kAwaitingPage,      // acked a LeafPage short of the end
    kDone,
  };

  Session(Role role, SessionId id, const MerkleTree& tree, uint64_t idle_ticks_max);

  bool acceptable(const NodeHashes& body) const;
  bool acceptable(const NoDifference& body) const;
  bool acceptable(const LeafPage& body) const;
  bool acceptable(const LeafPageAck& body) const;
  bool page_entries_acceptable(const LeafPage& body) const;
  void handle(const NodeHashes& body);
  void handle(const NoDifference& body);
  void handle(const LeafPage& body);
  void handle(const LeafPageAck& body);
  void check_read(const LeafEntries& read) const;
  void send_page(std::vector<KeyDigest> entries, bool truncated);
  void compare_page(const std::vector<KeyDigest>& mine, bool truncated);

  void request_read(std::optional<EntryPosition> after, std::optional<EntryPosition> through);
  void send(MessageBody body);
  void finish(Outcome outcome);
  void emit(Effect effect);

  Role role_;
  SessionId id_;
  const MerkleTree* tree_;
  uint64_t idle_ticks_max_;
  State state_ = State::kAwaitingHashes;
  uint32_t seq_ = 0;  // of the next message, either way
  uint64_t idle_ticks_ = 0;
  bool partial_ = false;
  std::optional<Outcome> outcome_;

  // Descent: the level the peer's next NodeHashes must have (depth + 1: a LeafPage is due),
  // and the indices this side sent last (children of the peer's must be below them).
  uint32_t expected_level_ = 0;
  std::vector<uint32_t> sent_indices_;  // at most kNodesPerMessageMax
  // Leaves: the differing leaves, where the current page starts, where this side's last page
  // ended (when it did not reach the end), and the peer's page being compared.
  std::vector<uint32_t> leaves_;  // at most kNodesPerMessageMax
  std::optional<EntryPosition> page_after_;
  std::optional<EntryPosition> page_through_;
  LeafPage peer_page_;  // at most kEntriesPerPageMax entries
  ReadLeafEntries pending_read_;

  std::vector<Effect> effects_;  // at most kEffectsPendingMax
  SessionStats stats_;
};

}  // namespace tessera::antientropy
