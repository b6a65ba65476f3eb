// Session: two replicas' sessions stepped against each other by hand, on a perfect network or
// one that duplicates, with repairs applied at once: what is exchanged, pages, partial sessions,
// what is ignored, and the timeout.
#include "tessera/antientropy/session.h"

#include <gtest/gtest.h>

#include <deque>
#include <optional>
#include <vector>

#include "replica_store.h"

namespace tessera::antientropy {
namespace {

using testing::key_in_range;
using testing::ReplicaStore;
using testing::Version;

constexpr TokenRange kRange{uint64_t{3} << 62, uint64_t{1} << 61};  // wraps past zero

// Runs one session between two stores until both sides are done or the network is empty.
class Exchange {
 public:
  Exchange(ReplicaStore& initiator, ReplicaStore& responder, bool duplicate = false,
           SessionId id = 1)
      : stores_{&initiator, &responder}, duplicate_(duplicate) {
    sessions_[0].emplace(id, initiator.tree());
    pump(0);
  }

  void run() {
    for (size_t steps = 0; !network_.empty() && steps < 100'000; ++steps) {
      auto [to, message] = std::move(network_.front());
      network_.pop_front();
      deliver(to, message);
    }
  }

  void deliver(size_t to, const Message& message) {
    ++messages;
    if (!sessions_[to]) {
      sessions_[to] = Session::accept(message, stores_[to]->tree());
      if (!sessions_[to]) {
        ++refused;
        return;
      }
    } else {
      sessions_[to]->step(message);
    }
    pump(to);
  }

  Session& session(size_t side) { return *sessions_[side]; }
  bool both_done() const { return sessions_[0]->done() && sessions_[1] && sessions_[1]->done(); }
  std::deque<std::pair<size_t, Message>>& network() { return network_; }

  uint64_t messages = 0;
  uint64_t refused = 0;
  uint64_t keys_pushed = 0;
  uint64_t keys_fetched = 0;
  uint64_t pages_sent = 0;
  std::optional<Finished> finished[2];

 private:
  void pump(size_t side) {
    Session& session = *sessions_[side];
    ReplicaStore& mine = *stores_[side];
    ReplicaStore& peer = *stores_[1 - side];
    while (session.has_effects()) {
      for (Effect& effect : session.drain()) {
        if (auto* send = std::get_if<SendToPeer>(&effect)) {
          if (std::holds_alternative<LeafPage>(send->message.body)) ++pages_sent;
          if (duplicate_) network_.emplace_back(1 - side, send->message);
          network_.emplace_back(1 - side, std::move(send->message));
        } else if (auto* read = std::get_if<ReadLeafEntries>(&effect)) {
          session.leaf_entries_read(mine.read(*read));
        } else if (auto* push = std::get_if<PushKeys>(&effect)) {
          keys_pushed += push->keys.size();
          for (const Bytes& key : push->keys) peer.merge(key, *mine.get(key));
        } else if (auto* fetch = std::get_if<FetchKeys>(&effect)) {
          keys_fetched += fetch->keys.size();
          for (const Bytes& key : fetch->keys) mine.merge(key, *peer.get(key));
        } else {
          EXPECT_FALSE(finished[side].has_value()) << "Finished twice";
          finished[side] = std::get<Finished>(effect);
        }
      }
    }
  }

  ReplicaStore* stores_[2];
  bool duplicate_;
  std::optional<Session> sessions_[2];
  std::deque<std::pair<size_t, Message>> network_;
};

// `count` keys at version 1..count, the same on both stores.
std::vector<Bytes> fill_both(ReplicaStore& a, ReplicaStore& b, size_t count) {
  std::vector<Bytes> keys;
  uint64_t next = 0;
  for (size_t i = 0; i < count; ++i) {
    keys.push_back(key_in_range(a.range(), "key", &next));
    a.merge(keys.back(), Version{i + 1, false});
    b.merge(keys.back(), Version{i + 1, false});
  }
  return keys;
}

void expect_converged(const ReplicaStore& a, const ReplicaStore& b) {
  EXPECT_EQ(a.contents(), b.contents());
  EXPECT_TRUE(a.tree() == b.tree());
  EXPECT_TRUE(a.tree() == a.rebuilt_tree());
}

TEST(Session, EqualTreesFinishInOneRoundTrip) {
  ReplicaStore a(kRange, {2, 10});
  ReplicaStore b(kRange, {2, 10});
  fill_both(a, b, 1000);
  Exchange exchange(a, b);
  exchange.run();
  EXPECT_EQ(exchange.messages, 2u);  // the root, and NoDifference
  ASSERT_TRUE(exchange.both_done());
  EXPECT_EQ(exchange.finished[0]->outcome, Outcome::kInSync);
  EXPECT_EQ(exchange.finished[1]->outcome, Outcome::kInSync);
  EXPECT_EQ(exchange.keys_pushed + exchange.keys_fetched, 0u);
}

TEST(Session, OneStaleKeyIsTheOnlyKeyExchanged) {
  for (TreeShape shape : {TreeShape{2, 10}, TreeShape{16, 3}, TreeShape{4, 5}}) {
    ReplicaStore a(kRange, shape);
    ReplicaStore b(kRange, shape);
    const std::vector<Bytes> keys = fill_both(a, b, 10'000);
    a.merge(keys[777], Version{20'000, false});
    Exchange exchange(a, b);
    exchange.run();
    ASSERT_TRUE(exchange.both_done());
    expect_converged(a, b);
    EXPECT_EQ(b.get(keys[777])->number, 20'000u);
    // Both digests exist, so the key goes both ways; nothing else moves.
    EXPECT_EQ(exchange.keys_pushed, 1u);
    EXPECT_EQ(exchange.keys_fetched, 1u);
    // The root, depth levels of one path's children, one page and its ack.
    EXPECT_EQ(exchange.messages, shape.depth + 1 + 2);
    const uint64_t compared =
        exchange.session(0).stats().entries_compared + exchange.session(1).stats().entries_compared;
    EXPECT_LE(compared, 10'000u / a.tree().leaf_count() * 4 + 8);
    EXPECT_EQ(exchange.finished[0]->outcome, Outcome::kRepaired);
    EXPECT_FALSE(exchange.finished[0]->partial);
  }
}

TEST(Session, KeysOnOneSideGoToTheOther) {
  ReplicaStore a(kRange, {2, 8});
  ReplicaStore b(kRange, {2, 8});
  fill_both(a, b, 2000);
  uint64_t next = 0;
  const Bytes only_a = key_in_range(kRange, "only-a", &next);
  const Bytes only_b = key_in_range(kRange, "only-b", &next);
  a.merge(only_a, Version{5000, false});
  b.merge(only_b, Version{5001, true});  // a tombstone travels like any version
  Exchange exchange(a, b);
  exchange.run();
  ASSERT_TRUE(exchange.both_done());
  expect_converged(a, b);
  EXPECT_EQ(exchange.keys_pushed, 1u);
  EXPECT_EQ(exchange.keys_fetched, 1u);
  EXPECT_TRUE(a.get(only_b)->deleted);
}

TEST(Session, ATombstoneWinsOverAnOlderValue) {
  ReplicaStore a(kRange, {2, 6});
  ReplicaStore b(kRange, {2, 6});
  const std::vector<Bytes> keys = fill_both(a, b, 300);
  b.merge(keys[5], Version{10'000, true});
  Exchange exchange(a, b);
  exchange.run();
  expect_converged(a, b);
  EXPECT_EQ(a.get(keys[5]), (Version{10'000, true}));
}

TEST(Session, TooManyDifferencesArePartialAndRepeatedSessionsConverge) {
  ReplicaStore a(kRange, {2, 10});
  ReplicaStore b(kRange, {2, 10});
  uint64_t next = 0;
  for (uint64_t i = 0; i < 20'000; ++i) a.merge(key_in_range(kRange, "k", &next), Version{i + 1});
  size_t sessions = 0;
  uint64_t exchanged = 0;
  for (; a.tree().root() != b.tree().root() && sessions < 20; ++sessions) {
    Exchange exchange(a, b, false, sessions + 1);
    exchange.run();
    ASSERT_TRUE(exchange.both_done());
    exchanged += exchange.keys_pushed + exchange.keys_fetched;
    const bool last = a.tree().root() == b.tree().root();
    EXPECT_EQ(exchange.finished[0]->partial, !last) << "session " << sessions;
    // Both sides count the same leaves.
    EXPECT_LE(exchange.session(0).stats().leaves_differing, kNodesPerMessageMax);
    EXPECT_EQ(exchange.session(0).stats().leaves_differing,
              exchange.session(1).stats().leaves_differing);
  }
  EXPECT_GT(sessions, 1u);
  EXPECT_LE(sessions, 10u);  // 1024 leaves, 128 or more repaired per session
  expect_converged(a, b);
  EXPECT_EQ(exchanged, 20'000u);  // every key exactly once
}

TEST(Session, LeavesOverOnePageArePagedAndExchangedOnce) {
  // Two leaves of ~2,000 keys each: pages of kEntriesPerPageMax. Each side has many keys the
  // other lacks (so both sides' reads are truncated) and some stale ones.
  ReplicaStore a(kRange, {2, 1});
  ReplicaStore b(kRange, {2, 1});
  const std::vector<Bytes> keys = fill_both(a, b, 3000);
  uint64_t next = 0;
  size_t expected = 0;
  for (int i = 0; i < 700; ++i, ++expected) {
    a.merge(key_in_range(kRange, "extra-a", &next), Version{100'000u + i});
  }
  for (int i = 0; i < 300; ++i, ++expected) {
    b.merge(key_in_range(kRange, "extra-b", &next), Version{200'000u + i});
  }
  for (size_t i = 0; i < keys.size(); i += 97, expected += 2) {
    (i % 2 ? a : b).merge(keys[i], Version{300'000 + i, i % 3 == 0});
  }
  Exchange exchange(a, b);
  exchange.run();
  ASSERT_TRUE(exchange.both_done());
  expect_converged(a, b);
  EXPECT_EQ(exchange.keys_pushed + exchange.keys_fetched, expected);
  EXPECT_GT(exchange.pages_sent, 6u);
  EXPECT_FALSE(exchange.finished[0]->partial);
}

TEST(Session, TheWholeRingAndTinyRangesWork) {
  for (TokenRange range : {TokenRange{0, 0}, TokenRange{123, 123}}) {
    ReplicaStore a(range, {8, 3});
    ReplicaStore b(range, {8, 3});
    const std::vector<Bytes> keys = fill_both(a, b, 500);
    a.merge(keys[0], Version{9999});
    b.merge(keys[499], Version{9998, true});
    Exchange exchange(a, b);
    exchange.run();
    expect_converged(a, b);
  }
}

TEST(Session, DuplicatedMessagesAreIgnored) {
  ReplicaStore a(kRange, {2, 8});
  ReplicaStore b(kRange, {2, 8});
  const std::vector<Bytes> keys = fill_both(a, b, 3000);
  for (size_t i = 0; i < keys.size(); i += 301) a.merge(keys[i], Version{50'000 + i});
  Exchange exchange(a, b, /*duplicate=*/true);
  exchange.run();
  ASSERT_TRUE(exchange.both_done());
  expect_converged(a, b);
  EXPECT_EQ(exchange.keys_pushed + exchange.keys_fetched, 2 * 10u);
  EXPECT_GT(
      exchange.session(0).stats().messages_ignored + exchange.session(1).stats().messages_ignored,
      0u);
}

// Steps `message` into `session` and expects it to be ignored, with nothing emitted.
void expect_ignored(Session& session, const Message& message, const char* what) {
  const uint64_t before = session.stats().messages_ignored;
  session.step(message);
  EXPECT_EQ(session.stats().messages_ignored, before + 1) << what;
  EXPECT_FALSE(session.has_effects()) << what;
}

TEST(Session, WhatIsNotTheNextStepIsIgnored) {
  const TreeShape shape{2, 3};
  ReplicaStore a(kRange, shape);
  ReplicaStore b(kRange, shape);
  const std::vector<Bytes> keys = fill_both(a, b, 200);
  a.merge(keys[10], Version{1000});
  Session initiator(9, a.tree());
  std::vector<Effect> effects = initiator.drain();
  ASSERT_EQ(effects.size(), 1u);
  const Message open = std::get<SendToPeer>(effects[0]).message;
  EXPECT_EQ(open.seq, 0u);

  // accept() refuses what does not open a session.
  Message wrong = open;
  wrong.shape = {2, 4};
  EXPECT_FALSE(Session::accept(wrong, b.tree()));
  wrong = open;
  wrong.range = TokenRange{0, 0};
  EXPECT_FALSE(Session::accept(wrong, b.tree()));
  wrong = open;
  wrong.seq = 1;
  EXPECT_FALSE(Session::accept(wrong, b.tree()));
  wrong = open;
  std::get<NodeHashes>(wrong.body).nodes.push_back({1, 0});
  EXPECT_FALSE(Session::accept(wrong, b.tree()));
  wrong = open;
  wrong.body = NoDifference{};
  EXPECT_FALSE(Session::accept(wrong, b.tree()));

  std::optional<Session> responder = Session::accept(open, b.tree());
  ASSERT_TRUE(responder);
  effects = responder->drain();
  ASSERT_EQ(effects.size(), 1u);
  const Message level1 = std::get<SendToPeer>(effects[0]).message;
  ASSERT_EQ(std::get<NodeHashes>(level1.body).level, 1u);

  // The initiator now expects NodeHashes at level 1, seq 1, below the root.
  expect_ignored(initiator, open, "its own message back");
  Message bad = level1;
  bad.session = 10;
  expect_ignored(initiator, bad, "another session");
  bad = level1;
  bad.seq = 3;
  expect_ignored(initiator, bad, "a later seq");
  bad = level1;
  bad.shape = {4, 3};
  expect_ignored(initiator, bad, "another shape");
  bad = level1;
  std::get<NodeHashes>(bad.body).level = 2;
  expect_ignored(initiator, bad, "a level not expected");
  bad = level1;
  std::get<NodeHashes>(bad.body).nodes = {{1, 0}, {0, 0}};
  expect_ignored(initiator, bad, "indices out of order");
  bad = level1;
  std::get<NodeHashes>(bad.body).nodes = {{2, 0}};
  expect_ignored(initiator, bad, "an index past the level");
  bad = level1;
  std::get<NodeHashes>(bad.body).nodes.clear();
  expect_ignored(initiator, bad, "no nodes");
  bad = level1;
  std::get<NodeHashes>(bad.body).nodes.assign(kNodesPerMessageMax + 1, NodeHash{});
  expect_ignored(initiator, bad, "over the bound");
  bad = level1;
  bad.body = LeafPage{{0}, std::nullopt, std::nullopt, {}};
  expect_ignored(initiator, bad, "a page during the descent");
  bad = level1;
  bad.body = LeafPageAck{};
  expect_ignored(initiator, bad, "an ack during the descent");
  initiator.leaf_entries_read(LeafEntries{});  // not waiting for a read: ignored
  EXPECT_FALSE(initiator.has_effects());

  // The real answer still goes through, and the exchange completes.
  initiator.step(level1);
  effects = initiator.drain();
  ASSERT_EQ(effects.size(), 1u);
  const Message level2 = std::get<SendToPeer>(effects[0]).message;
  responder->step(level2);
  effects = responder->drain();
  ASSERT_EQ(effects.size(), 1u);
  const Message leaves = std::get<SendToPeer>(effects[0]).message;  // level 3: the leaves
  // The initiator sent the children of one level-1 node; leaves under the other are refused.
  bad = leaves;
  for (NodeHash& node : std::get<NodeHashes>(bad.body).nodes) node.index ^= 4;
  expect_ignored(initiator, bad, "children of a node not sent");
  initiator.step(leaves);
  effects = initiator.drain();
  ASSERT_EQ(effects.size(), 1u);
  const ReadLeafEntries read = std::get<ReadLeafEntries>(effects[0]);
  ASSERT_EQ(read.leaves.size(), 1u);
  initiator.leaf_entries_read(a.read(read));
  effects = initiator.drain();
  ASSERT_EQ(effects.size(), 1u);
  const Message page = std::get<SendToPeer>(effects[0]).message;

  // The responder expects that page: not one with other leaves or entries out of bounds.
  bad = page;
  std::get<LeafPage>(bad.body).leaves = {read.leaves[0] ^ 1};
  expect_ignored(*responder, bad, "a leaf it did not send");
  bad = page;
  auto& entries = std::get<LeafPage>(bad.body).entries;
  ASSERT_GE(entries.size(), 2u);
  std::swap(entries[0], entries[1]);
  expect_ignored(*responder, bad, "entries out of order");
  bad = page;
  std::get<LeafPage>(bad.body).entries.push_back(
      KeyDigest{a.tree().leaf_tokens(read.leaves[0] ^ 1)->first, "x", 1});
  expect_ignored(*responder, bad, "an entry of another leaf");
  bad = page;
  bad.body = LeafPageAck{};
  expect_ignored(*responder, bad, "an ack instead of a page");

  responder->step(page);
  effects = responder->drain();
  ASSERT_EQ(effects.size(), 1u);
  responder->leaf_entries_read(b.read(std::get<ReadLeafEntries>(effects[0])));
  effects = responder->drain();
  ASSERT_EQ(effects.size(), 4u);  // push, fetch, the ack, finished
  EXPECT_EQ(std::get<PushKeys>(effects[0]).keys.size(), 1u);
  EXPECT_EQ(std::get<FetchKeys>(effects[1]).keys, std::vector<Bytes>{keys[10]});
  const Message ack = std::get<SendToPeer>(effects[2]).message;
  EXPECT_EQ(std::get<Finished>(effects[3]).outcome, Outcome::kRepaired);
  EXPECT_TRUE(responder->done());
  expect_ignored(*responder, page, "anything after Finished");

  bad = ack;
  std::get<LeafPageAck>(bad.body).compared_through =
      EntryPosition{a.tree().leaf_tokens(read.leaves[0] ^ 1)->first, ""};
  expect_ignored(initiator, bad, "an ack in another leaf");
  initiator.step(ack);
  EXPECT_TRUE(initiator.done());
  EXPECT_EQ(initiator.outcome(), Outcome::kRepaired);
}

TEST(Session, ASilentPeerMakesTheSessionGiveUp) {
  ReplicaStore a(kRange, {2, 4});
  Session session(1, a.tree(), 5);
  session.drain();
  for (int i = 0; i < 4; ++i) session.tick();
  EXPECT_FALSE(session.done());
  session.tick();
  ASSERT_TRUE(session.done());
  EXPECT_EQ(session.outcome(), Outcome::kAbandoned);
  std::vector<Effect> effects = session.drain();
  ASSERT_EQ(effects.size(), 1u);
  EXPECT_EQ(std::get<Finished>(effects[0]).outcome, Outcome::kAbandoned);
  session.tick();
  EXPECT_FALSE(session.has_effects());
}

TEST(Session, AnInputResetsTheIdleTimer) {
  ReplicaStore a(kRange, {2, 4});
  ReplicaStore b(kRange, {2, 4});
  uint64_t next = 0;
  b.merge(key_in_range(kRange, "x", &next), Version{1});
  Session initiator(1, a.tree(), 3);
  const Message open = std::get<SendToPeer>(initiator.drain()[0]).message;
  std::optional<Session> responder = Session::accept(open, b.tree(), 3);
  initiator.tick();
  initiator.tick();
  initiator.step(std::get<SendToPeer>(responder->drain()[0]).message);
  initiator.tick();
  initiator.tick();
  EXPECT_FALSE(initiator.done());
  initiator.tick();
  EXPECT_TRUE(initiator.done());
}

}  // namespace
}  // namespace tessera::antientropy
