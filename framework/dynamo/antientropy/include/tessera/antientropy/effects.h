// Effects: what an anti-entropy session asks its host to do.
//
// The host drains a session after its construction and after every input (step, tick,
// leaf_entries_read) and handles the effects in vector order. One input yields at most:
//   ReadLeafEntries, alone: read this replica's entries of some leaves, then hand them back
//     with Session::leaf_entries_read (now or later; the session waits, counting ticks);
//   or, in this order: PushKeys, FetchKeys (repairs found by comparing one page), SendToPeer,
//     Finished (the last effect a session ever emits, exactly once).
// Repairs are fire-and-forget: merging a pushed or fetched version is idempotent, and a repair
// that is lost is found again by a later session.
// Thread-safety: plain values. Ownership: owns everything in it.
#pragma once

#include <cstddef>
#include <optional>
#include <variant>
#include <vector>

#include "tessera/antientropy/entry.h"
#include "tessera/antientropy/message.h"

namespace tessera::antientropy {

// Send `message` to the session's peer.
struct SendToPeer {
  Message message;
};

// Read this replica's entries (token, key, digest) of `leaves` (strictly ascending; the tokens
// of each are MerkleTree::leaf_tokens) that come strictly after `after` and up to and
// including `through` (nullopt: no bound on that side), in entry order or any order, at most
// `entries_max` of them and `key_bytes_max` key bytes. If more remain than that, return the
// first ones in entry order and set LeafEntries::truncated.
struct ReadLeafEntries {
  std::vector<uint32_t> leaves;
  std::optional<EntryPosition> after;
  std::optional<EntryPosition> through;
  size_t entries_max = kEntriesPerPageMax;
  size_t key_bytes_max = kPageKeyBytesMax;
};

// Send this replica's versions of `keys` to the peer, which merges them (the peer lacks them
// or holds other versions). At most kEntriesPerPageMax keys, in entry order.
struct PushKeys {
  std::vector<Bytes> keys;
};

// Ask the peer for its versions of `keys` and merge them here (this replica lacks them or
// holds other versions). At most kEntriesPerPageMax keys, in entry order.
struct FetchKeys {
  std::vector<Bytes> keys;
};

enum class Outcome : uint8_t {
  kInSync,     // nothing compared differed (the roots, or every node below the first ones)
  kRepaired,   // differing leaves were compared to their end; the side that compared them
               // emitted the repairs
  kAbandoned,  // no input for idle_ticks_max ticks (a lost message, a dead peer, a slow host)
};

// The session is over; drop it. `partial`: differences were left out, start another session.
struct Finished {
  Outcome outcome = Outcome::kInSync;
  bool partial = false;
};

using Effect = std::variant<SendToPeer, ReadLeafEntries, PushKeys, FetchKeys, Finished>;

}  // namespace tessera::antientropy
