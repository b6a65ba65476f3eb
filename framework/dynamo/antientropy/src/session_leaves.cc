// Session: the leaf exchange. One side sends its entries of the differing leaves page by page
// (send_page); the other compares each page with its own entries and emits the repairs
// (compare_page).
#include <algorithm>
#include <utility>

#include "tessera/antientropy/session.h"  // the class whose leaf half this is
#include "tessera/assert.h"

namespace tessera::antientropy {
namespace {

bool before(const TokenRange& range, const KeyDigest& a, const KeyDigest& b) {
  return entry_before(range, a.token, a.key, b.token, b.key);
}

// Whether `token` falls in one of `leaves` (sorted).
bool in_listed_leaf(const MerkleTree& tree, const std::vector<uint32_t>& leaves, Token token) {
  return tree.range().contains(token) &&
         std::binary_search(leaves.begin(), leaves.end(), tree.leaf_of(token));
}

}  // namespace

bool Session::acceptable(const LeafPage& page) const {
  if (state_ == State::kAwaitingHashes) {
    // The first page answers this side's leaf hashes: its leaves must be among them.
    if (seq_ == 0 || expected_level_ != tree_->shape().depth + 1 || page.after) return false;
    if (page.leaves.empty() || page.leaves.size() > kNodesPerMessageMax) return false;
    for (size_t i = 0; i < page.leaves.size(); ++i) {
      if (i > 0 && page.leaves[i] <= page.leaves[i - 1]) return false;
      if (!std::binary_search(sent_indices_.begin(), sent_indices_.end(), page.leaves[i])) {
        return false;
      }
    }
  } else if (state_ == State::kAwaitingPage) {
    if (page.leaves != leaves_ || page.after != page_after_) return false;
  } else {
    return false;
  }
  return page_entries_acceptable(page);
}

bool Session::page_entries_acceptable(const LeafPage& page) const {
  const TokenRange& range = tree_->range();
  if (page.entries.size() > kEntriesPerPageMax) return false;
  if (page.through) {
    if (page.through->key.size() > kKeyBytesMax) return false;
    if (!in_listed_leaf(*tree_, page.leaves, page.through->token)) return false;
    if (page.after && !entry_before(range, *page.after, *page.through)) return false;
  }
  size_t key_bytes = 0;
  for (size_t i = 0; i < page.entries.size(); ++i) {
    const KeyDigest& entry = page.entries[i];
    key_bytes += entry.key.size();
    if (entry.key.size() > kKeyBytesMax || key_bytes > kPageKeyBytesMax) return false;
    if (!in_listed_leaf(*tree_, page.leaves, entry.token)) return false;
    if (i > 0 && !before(range, page.entries[i - 1], entry)) return false;
    if (page.after && !entry_before(range, *page.after, entry)) return false;
    if (page.through && entry_before(range, *page.through, entry)) return false;
  }
  return true;
}

bool Session::acceptable(const LeafPageAck& ack) const {
  if (state_ != State::kAwaitingAck) return false;
  // The end only if this side's page reached it.
  if (!ack.compared_through) return !page_through_;
  const EntryPosition& through = *ack.compared_through;
  const TokenRange& range = tree_->range();
  if (through.key.size() > kKeyBytesMax || !in_listed_leaf(*tree_, leaves_, through.token)) {
    return false;
  }
  // Progress, and not past what this side sent.
  if (page_after_ && !entry_before(range, *page_after_, through)) return false;
  if (page_through_ && entry_before(range, *page_through_, through)) return false;
  return true;
}

void Session::handle(const LeafPage& page) {
  if (state_ == State::kAwaitingHashes) {
    leaves_ = page.leaves;
    stats_.leaves_differing += leaves_.size();
  }
  peer_page_ = page;
  ++stats_.pages;
  state_ = State::kReadingToCompare;
  request_read(page.after, page.through);
}

void Session::handle(const LeafPageAck& ack) {
  if (!ack.compared_through) {
    finish(Outcome::kRepaired);
    return;
  }
  page_after_ = ack.compared_through;
  state_ = State::kReadingOwnPage;
  request_read(page_after_, std::nullopt);
}

void Session::leaf_entries_read(LeafEntries read) {
  if (state_ != State::kReadingOwnPage && state_ != State::kReadingToCompare) return;
  const TokenRange& range = tree_->range();
  std::sort(read.entries.begin(), read.entries.end(),
            [&range](const KeyDigest& a, const KeyDigest& b) { return before(range, a, b); });
  check_read(read);
  idle_ticks_ = 0;
  if (state_ == State::kReadingOwnPage) {
    send_page(std::move(read.entries), read.truncated);
  } else {
    compare_page(read.entries, read.truncated);
  }
}

void Session::check_read(const LeafEntries& read) const {
  const ReadLeafEntries& asked = pending_read_;
  const TokenRange& range = tree_->range();
  TESSERA_REQUIRE(read.entries.size() <= asked.entries_max, "more entries than asked");
  TESSERA_REQUIRE(!read.truncated || !read.entries.empty(), "truncated, yet no entry");
  size_t key_bytes = 0;
  for (size_t i = 0; i < read.entries.size(); ++i) {
    const KeyDigest& entry = read.entries[i];
    key_bytes += entry.key.size();
    TESSERA_REQUIRE(entry.key.size() <= kKeyBytesMax, "a key over kKeyBytesMax");
    TESSERA_REQUIRE(in_listed_leaf(*tree_, leaves_, entry.token), "an entry of another leaf");
    TESSERA_REQUIRE(i == 0 || before(range, read.entries[i - 1], entry), "a key listed twice");
    TESSERA_REQUIRE(!asked.after || entry_before(range, *asked.after, entry), "before `after`");
    TESSERA_REQUIRE(!asked.through || !entry_before(range, *asked.through, entry),
                    "after `through`");
  }
  TESSERA_REQUIRE(key_bytes <= asked.key_bytes_max, "more key bytes than asked");
}

void Session::send_page(std::vector<KeyDigest> entries, bool truncated) {
  page_through_.reset();
  if (truncated) page_through_ = position_of(entries.back());
  ++stats_.pages;
  stats_.entries_sent += entries.size();
  state_ = State::kAwaitingAck;
  send(LeafPage{leaves_, page_after_, page_through_, std::move(entries)});
}

void Session::compare_page(const std::vector<KeyDigest>& mine, bool truncated) {
  const TokenRange& range = tree_->range();
  // Compared through this side's last entry when its own did not fit, else the page's end.
  std::optional<EntryPosition> through = peer_page_.through;
  if (truncated) through = position_of(mine.back());
  const std::vector<KeyDigest>& theirs = peer_page_.entries;
  size_t theirs_end = theirs.size();
  if (through) {
    theirs_end =
        static_cast<size_t>(std::partition_point(theirs.begin(), theirs.end(),
                                                 [&](const KeyDigest& e) {
                                                   return !entry_before(range, *through, e);
                                                 }) -
                            theirs.begin());
  }
  // Merge both sorted lists: a key on one side only goes the other way; a key on both sides
  // with different digests goes both ways, and each side's conflict rules merge the two.
  PushKeys push;
  FetchKeys fetch;
  size_t m = 0;
  size_t t = 0;
  while (m < mine.size() || t < theirs_end) {
    if (t == theirs_end || (m < mine.size() && before(range, mine[m], theirs[t]))) {
      push.keys.push_back(mine[m++].key);
    } else if (m == mine.size() || before(range, theirs[t], mine[m])) {
      fetch.keys.push_back(theirs[t++].key);
    } else {
      if (mine[m].digest != theirs[t].digest) {
        push.keys.push_back(mine[m].key);
        fetch.keys.push_back(theirs[t].key);
      }
      ++m;
      ++t;
    }
  }
  TESSERA_ASSERT(push.keys.size() <= kEntriesPerPageMax && fetch.keys.size() <= kEntriesPerPageMax);
  stats_.entries_compared += theirs_end;
  stats_.keys_pushed += push.keys.size();
  stats_.keys_fetched += fetch.keys.size();
  peer_page_ = LeafPage{};
  if (!push.keys.empty()) emit(std::move(push));
  if (!fetch.keys.empty()) emit(std::move(fetch));
  send(LeafPageAck{through});
  if (!through) {
    finish(Outcome::kRepaired);
    return;
  }
  page_after_ = std::move(through);
  state_ = State::kAwaitingPage;
}

}  // namespace tessera::antientropy
