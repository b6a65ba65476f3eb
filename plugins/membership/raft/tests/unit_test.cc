// Unit tests of the core's pieces, without the simulator: the log, progress, configuration
// encoding, and a hand-driven three-node group for the message-level rules.
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <set>

#include "hand_group.h"
#include "raft/conf_change.h"
#include "raft/log.h"
#include "raft/memory_storage.h"
#include "raft/progress.h"
#include "raft/raft.h"

namespace tessera::raft {
namespace {

using testutil::entries;
using testutil::FixedRng;
using testutil::Group;

// A RaftLog over a MemoryLogStorage holding `terms` from index 1 on, all persisted.
struct LogFixture {
  explicit LogFixture(std::vector<Term> terms, Index commit = 0, size_t cache_bytes_max = 1 << 20)
      : log(&storage, cache_bytes_max) {
    storage.persist(std::nullopt, entries(1, std::move(terms)), HardState{0, kNoNode, commit});
    log.restore_durable(storage.durable_state(0));
  }
  MemoryLogStorage storage;
  RaftLog log;
};

TEST(RaftLog, AppendTruncatesConflictsOnly) {
  LogFixture f({1, 1, 2, 2});
  RaftLog& log = f.log;
  std::vector<Entry> same = entries(2, {1, 2});
  Index written = 0;
  EXPECT_EQ(log.maybe_append(1, 1, same, &written), 3u);
  EXPECT_EQ(written, 0u);  // nothing new: the tail stays
  EXPECT_EQ(log.last_index(), 4u);
  std::vector<Entry> conflict = entries(3, {3});
  EXPECT_EQ(log.maybe_append(2, 1, conflict, &written), 3u);
  EXPECT_EQ(written, 3u);
  EXPECT_EQ(log.last_index(), 3u);
  EXPECT_EQ(log.term(3), 3u);
  EXPECT_EQ(log.persisted(), 2u);
  std::vector<Entry> gap = entries(6, {3});
  EXPECT_FALSE(log.maybe_append(5, 3, gap, &written).has_value());
}

TEST(RaftLog, FindConflictByTermSkipsWholeTerms) {
  LogFixture f({1, 1, 4, 4, 4, 5});
  RaftLog& log = f.log;
  EXPECT_EQ(log.find_conflict_by_term(6, 4).first, 5u);
  EXPECT_EQ(log.find_conflict_by_term(6, 3).first, 2u);
  EXPECT_EQ(log.find_conflict_by_term(10, 9).first, 6u);
}

TEST(RaftLog, CompactKeepsTermOfSnapshotPoint) {
  LogFixture f({1, 2, 3}, 3);
  RaftLog& log = f.log;
  log.applied_to(2);
  log.compact(2);
  EXPECT_EQ(log.first_index(), 3u);
  EXPECT_EQ(log.term(2), 2u);
  EXPECT_EQ(log.term(3), 3u);
  EXPECT_FALSE(log.term(1).has_value());
  EXPECT_EQ(log.term_runs().size(), 1u);
}

TEST(Progress, ReplicateWindowPausesAndRejectionProbes) {
  Progress pr(1, false);
  pr.maybe_update(0);
  pr.become_replicate();
  pr.sent_append(5, true);
  pr.sent_append(10, true);
  EXPECT_TRUE(pr.paused(2));
  pr.maybe_update(5);
  EXPECT_FALSE(pr.paused(2));
  EXPECT_TRUE(pr.maybe_decrease_to(10, 7));
  EXPECT_EQ(pr.state(), ProgressState::kProbe);
  EXPECT_EQ(pr.next(), 8u);
  EXPECT_FALSE(pr.maybe_decrease_to(3, 1));  // stale rejection
}

TEST(ConfChange, OneServerAtATimeAndRoundTrip) {
  ConfState c{{1, 2, 3}, {}};
  auto learner = apply_conf_change(c, {ConfChangeType::kAddLearner, 4});
  ASSERT_TRUE(learner);
  EXPECT_TRUE(learner->is_learner(4));
  auto promoted = apply_conf_change(*learner, {ConfChangeType::kPromoteLearner, 4});
  ASSERT_TRUE(promoted);
  EXPECT_EQ(promoted->voters, (std::vector<NodeId>{1, 2, 3, 4}));
  EXPECT_FALSE(apply_conf_change(c, {ConfChangeType::kPromoteLearner, 2}));
  EXPECT_FALSE(apply_conf_change(c, {ConfChangeType::kAddVoter, 3}));
  EXPECT_FALSE(apply_conf_change(ConfState{{1}, {}}, {ConfChangeType::kRemove, 1}));
  EXPECT_EQ(decode_conf_state(encode_conf_state(*learner)), learner);
  EXPECT_FALSE(decode_conf_state("junk"));
}

TEST(RaftGroup, PreVoteThenElectionThenCommit) {
  Group g(3);
  ASSERT_EQ(g.elect(1), 1u);
  EXPECT_EQ(g.nodes[1]->term(), 1u);  // pre-vote did not spend a term
  Proposal p = g.nodes[1]->propose("hello");
  ASSERT_EQ(p.outcome, Outcome::kOk);
  g.settle();
  for (NodeId id = 1; id <= 3; ++id) {
    ASSERT_FALSE(g.applied[id].empty());
    EXPECT_EQ(g.applied[id].back().data, "hello");
  }
  EXPECT_EQ(g.nodes[2]->propose("x").outcome, Outcome::kNotLeader);
}

TEST(RaftGroup, ReadIndexNeedsAQuorumRound) {
  Group g(3);
  ASSERT_EQ(g.elect(1), 1u);
  g.settle();
  g.down = {2, 3};
  ASSERT_EQ(g.nodes[1]->read_index(7), Outcome::kOk);
  g.settle();
  EXPECT_TRUE(g.reads[1].empty());  // nobody confirmed leadership
  g.down = {3};
  g.nodes[1]->tick();  // the next heartbeat round reaches node 2
  g.settle();
  ASSERT_EQ(g.reads[1].size(), 1u);
  EXPECT_EQ(g.reads[1][0].request_id, 7u);
}

// ReadIndex requests that arrive between two ready() calls share one heartbeat round: 100 reads
// cost one heartbeat per peer, and all 100 are confirmed when that round comes back.
TEST(RaftGroup, ReadsBetweenTwoReadiesShareOneHeartbeatRound) {
  Group g(3);
  ASSERT_EQ(g.elect(1), 1u);
  g.settle();
  Raft& leader = *g.nodes[1];
  const uint64_t rounds = leader.read_rounds();
  for (uint64_t id = 1; id <= 100; ++id) ASSERT_EQ(leader.read_index(id), Outcome::kOk);
  Ready rd = leader.ready();
  std::vector<Message> wire;
  for (Message& m : rd.early_messages) wire.push_back(std::move(m));
  for (Message& m : rd.messages) wire.push_back(std::move(m));
  size_t heartbeats = 0;
  std::set<uint64_t> contexts;
  for (const Message& m : wire) {
    if (m.type != MessageType::kHeartbeat) continue;
    ++heartbeats;
    contexts.insert(m.context);
  }
  EXPECT_EQ(heartbeats, 2u);  // one per peer
  EXPECT_EQ(contexts.size(), 1u);
  EXPECT_EQ(leader.read_rounds(), rounds + 1);
  g.persist(1, rd);
  leader.advance(rd);
  for (Message& m : wire) g.nodes[m.to]->step(std::move(m));
  g.settle();
  ASSERT_EQ(g.reads[1].size(), 100u);
  EXPECT_EQ(leader.read_rounds(), rounds + 1);
  // A read after that Ready needs a round of its own: the earlier one was sent before it came.
  ASSERT_EQ(leader.read_index(101), Outcome::kOk);
  g.settle();
  EXPECT_EQ(leader.read_rounds(), rounds + 2);
  EXPECT_EQ(g.reads[1].size(), 101u);
}

// A read waits for a round sent after it arrived: a late echo of an earlier round (sent
// before the read) must not confirm it, however many peers echoed that round.
TEST(RaftGroup, ReadIsNotConfirmedByAnEarlierRound) {
  Group g(3);
  ASSERT_EQ(g.elect(1), 1u);
  g.settle();
  Raft& leader = *g.nodes[1];
  ASSERT_EQ(leader.read_index(1), Outcome::kOk);
  Ready rd = leader.ready();
  std::vector<Message> heartbeats = std::move(rd.early_messages);
  leader.advance(rd);
  // Both peers answer round 1; node 2's answer is held back (a slow link).
  std::vector<Message> answers;
  for (Message& m : heartbeats) {
    ASSERT_EQ(m.type, MessageType::kHeartbeat);
    Raft& peer = *g.nodes[m.to];
    peer.step(std::move(m));
    Ready p = peer.ready();
    for (Message& r : p.messages) answers.push_back(std::move(r));
    peer.advance(p);
  }
  ASSERT_EQ(answers.size(), 2u);
  Message late = answers[0].from == 2 ? answers[0] : answers[1];
  Message prompt = answers[0].from == 2 ? answers[1] : answers[0];
  leader.step(std::move(prompt));
  rd = leader.ready();
  ASSERT_EQ(rd.read_states.size(), 1u);  // read 1 confirmed by round 1
  leader.advance(rd);
  // Read 2 arrives; its round goes out but is lost. Then node 2's late echo of round 1 comes.
  ASSERT_EQ(leader.read_index(2), Outcome::kOk);
  rd = leader.ready();
  leader.advance(rd);
  leader.step(std::move(late));
  while (leader.has_ready()) {
    rd = leader.ready();
    EXPECT_TRUE(rd.read_states.empty());
    leader.advance(rd);
  }
}

TEST(RaftGroup, CheckQuorumStepsDownAnIsolatedLeader) {
  Options o;
  o.election_ticks = 5;
  Group g(3, o);
  ASSERT_EQ(g.elect(1), 1u);
  g.down = {2, 3};
  for (int t = 0; t < 12; ++t) {
    g.nodes[1]->tick();
    g.settle();
  }
  EXPECT_NE(g.nodes[1]->role(), Role::kLeader);
}

TEST(RaftGroup, LeaderStickinessIgnoresDisruptivePreVotes) {
  Group g(3);
  ASSERT_EQ(g.elect(1), 1u);
  // Node 3 times out alone (e.g. it missed heartbeats), but 2 still hears the leader.
  for (int t = 0; t < 40; ++t) {
    g.nodes[3]->tick();
    g.nodes[1]->tick();
    g.settle();
  }
  EXPECT_EQ(g.nodes[1]->role(), Role::kLeader);
  EXPECT_EQ(g.nodes[1]->term(), 1u);
}

TEST(RaftGroup, TransferLeadership) {
  Group g(3);
  ASSERT_EQ(g.elect(1), 1u);
  g.settle();
  ASSERT_EQ(g.nodes[1]->transfer_leadership(3), Outcome::kOk);
  g.settle();
  EXPECT_EQ(g.nodes[3]->role(), Role::kLeader);
  EXPECT_EQ(g.nodes[1]->role(), Role::kFollower);
}

TEST(RaftGroup, ReadyOrderPersistsVoteBeforeSendingIt) {
  Group g(3);
  for (int t = 0; t < 100 && g.nodes[1]->role() == Role::kFollower; ++t) {
    g.nodes[1]->tick();
  }
  ASSERT_EQ(g.nodes[1]->role(), Role::kPreCandidate);
  // From here on, every Ready that sends a vote request or a granted vote must also carry the
  // hard state recording that vote: the host persists it before it sends anything.
  bool checked = false;
  for (int round = 0; round < 10 && !checked; ++round) {
    for (auto& [id, r] : g.nodes) {
      if (!r->has_ready()) continue;
      Ready rd = r->ready();
      for (const Message& m : rd.messages) {
        if (m.type == MessageType::kVote || (m.type == MessageType::kVoteResp && !m.reject)) {
          ASSERT_TRUE(rd.hard_state.has_value());
          EXPECT_EQ(rd.hard_state->vote, m.type == MessageType::kVote ? id : m.to);
          checked = true;
        }
      }
      std::vector<Message> wire = std::move(rd.messages);
      for (Message& m : rd.early_messages) wire.push_back(std::move(m));
      g.persist(id, rd);
      r->advance(rd);
      for (Message& m : wire) g.nodes[m.to]->step(std::move(m));
    }
  }
  EXPECT_TRUE(checked);
}

// A leader's appends and heartbeats may leave before its own write (early_messages); anything
// that promises this node's disk (acknowledgements, votes) waits for it (messages). A leader
// whose term is not yet durable sends nothing early.
TEST(RaftGroup, OnlyALeadersReplicationTrafficLeavesEarly) {
  Group g(3);
  ASSERT_EQ(g.elect(1), 1u);
  g.settle();
  Raft& leader = *g.nodes[1];
  const Proposal p = leader.propose("early");
  ASSERT_EQ(p.outcome, Outcome::kOk);
  Ready rd = leader.ready();
  ASSERT_EQ(rd.entries.size(), 1u);
  size_t appends = 0;
  for (const Message& m : rd.early_messages) {
    EXPECT_TRUE(m.type == MessageType::kAppend || m.type == MessageType::kHeartbeat);
    if (m.type == MessageType::kAppend && !m.entries.empty()) ++appends;
  }
  EXPECT_EQ(appends, 2u);
  EXPECT_TRUE(rd.messages.empty());
  // Until advance() the leader's own entry does not count: the followers' acknowledgements,
  // stepped after advance(), commit it with the leader's now durable copy.
  EXPECT_LT(leader.log().persisted(), p.index);
  std::vector<Message> wire = std::move(rd.early_messages);
  g.persist(1, rd);
  leader.advance(rd);
  for (Message& m : wire) g.nodes[m.to]->step(std::move(m));
  for (NodeId id : {2, 3}) {
    Ready f = g.nodes[id]->ready();
    EXPECT_TRUE(f.early_messages.empty());  // a follower's acknowledgement waits for its disk
    bool acked = false;
    for (const Message& m : f.messages) acked |= m.type == MessageType::kAppendResp;
    EXPECT_TRUE(acked);
    g.persist(id, f);
    for (Message& m : f.messages) leader.step(std::move(m));
    g.nodes[id]->advance(f);
  }
  EXPECT_EQ(leader.log().committed(), p.index);
  g.settle();

  // A group of one voter and a learner: the voter elects itself within one Ready, so its term
  // is not durable yet and its first append to the learner must wait for the write.
  Group solo(1, Options{}, 1);
  for (int t = 0; t < 100 && solo.nodes[1]->role() != Role::kLeader; ++t) solo.nodes[1]->tick();
  ASSERT_EQ(solo.nodes[1]->role(), Role::kLeader);
  Ready first = solo.nodes[1]->ready();
  ASSERT_TRUE(first.hard_state.has_value());
  EXPECT_TRUE(first.early_messages.empty());
  EXPECT_FALSE(first.messages.empty());
}

// A learner receives and applies the log, but neither campaigns nor counts toward a quorum.
TEST(RaftGroup, LearnerCatchesUpButNeverCounts) {
  Group g(3, Options{}, 1);
  for (int t = 0; t < 100; ++t) g.nodes[4]->tick();
  g.settle();
  EXPECT_EQ(g.nodes[4]->role(), Role::kFollower);  // a learner never campaigns
  ASSERT_EQ(g.elect(1), 1u);
  ASSERT_EQ(g.nodes[1]->propose("a").outcome, Outcome::kOk);
  g.settle();
  ASSERT_FALSE(g.applied[4].empty());
  EXPECT_EQ(g.applied[4].back().data, "a");
  g.down = {2, 3};  // leader + learner are two of four members, but one of three voters
  Proposal p = g.nodes[1]->propose("b");
  g.settle();
  EXPECT_LT(g.nodes[1]->log().committed(), p.index);
  EXPECT_EQ(g.nodes[4]->log().last_index(), p.index);  // the learner has it all the same
}

// A follower with a stale tail (entries 4-5 of term 2, never committed) gets an append that
// matches only up to 3. Even though the leader's commit is 5, only index 3 is known to match
// the leader's log, so only 3 may be committed here.
TEST(RaftFollower, CommitsOnlyWhatTheAppendVouchedFor) {
  SnapshotMeta founding;
  founding.conf.voters = {1, 2, 3};
  MemoryLogStorage storage(founding);
  storage.persist(std::nullopt, entries(1, {1, 1, 1, 2, 2}), HardState{2, kNoNode, 0});
  FixedRng rng;
  Options o;
  o.id = 3;
  Raft follower(o, rng, storage.durable_state(0));
  Message m;
  m.type = MessageType::kAppend;
  m.from = 1;
  m.to = 3;
  m.term = 3;
  m.log_index = 2;
  m.log_term = 1;
  m.entries = entries(3, {1});
  m.commit = 5;
  follower.step(std::move(m));
  EXPECT_EQ(follower.log().committed(), 3u);
  EXPECT_EQ(follower.log().last_index(), 5u);  // the stale tail stays until a conflict shows
}

}  // namespace
}  // namespace tessera::raft
