// Driver unit tests: three drivers wired by hand (no simulator), eight groups each, fakes for
// the log, the transport, the apply stage and the events; and the counter test: with eight
// groups busy at once, every iteration makes exactly one storage sync and one batch per peer.
#include "driver/driver.h"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "raft/memory_storage.h"

namespace tessera::raft::driver {
namespace {

constexpr size_t kNodes = 3;
constexpr GroupId kGroups = 8;

tessera::NodeId name(size_t i) { return std::string(1, static_cast<char>('a' + i)); }
ReplicaId replica(GroupId g, size_t i) { return g * 10 + i + 1; }

// One node's effects, recorded.
struct FakeNode : DurableLog, Transport, ApplySink, Events {
  std::map<GroupId, std::unique_ptr<MemoryLogStorage>> logs;
  std::vector<LogWrite> writes_seen;  // the groups of each write (entries not kept)
  std::vector<size_t> sends_before_write;
  std::vector<std::pair<tessera::NodeId, MessageBatch>> sent;
  std::map<GroupId, std::vector<ApplyItem>> applied_items;
  std::vector<Reply> proposals;
  std::vector<Reply> reads;
  Status fail_writes;

  Status write(const LogWrite& w) override {
    if (!fail_writes.is_ok()) return fail_writes;
    sends_before_write.push_back(sent.size());
    LogWrite copy;
    for (const GroupWrite& gw : w.groups) {
      std::vector<Entry> entries(gw.entries.begin(), gw.entries.end());
      logs.at(gw.group)->persist(gw.snapshot, entries, gw.hard_state);
      if (gw.compacted_to) logs.at(gw.group)->compact(*gw.compacted_to);
      GroupWrite g;
      g.group = gw.group;
      g.hard_state = gw.hard_state;
      copy.groups.push_back(g);
    }
    writes_seen.push_back(std::move(copy));
    return Status::ok();
  }
  void send(const tessera::NodeId& to, MessageBatch batch) override {
    sent.emplace_back(to, std::move(batch));
  }
  void apply(GroupId group, std::vector<ApplyItem> items) override {
    for (ApplyItem& item : items) applied_items[group].push_back(std::move(item));
  }
  void proposal_done(const Reply& r) override { proposals.push_back(r); }
  void read_done(const Reply& r) override { reads.push_back(r); }
  void leader_changed(GroupId, const tessera::NodeId&, Term) override {}

  // The last index handed out to apply for `group`.
  Index handed_out(GroupId group) {
    Index last = 0;
    for (const ApplyItem& item : applied_items[group]) {
      if (item.kind == ApplyItem::Kind::kEntries) last = item.entries.back().index;
    }
    return last;
  }
};

class ThreeNodes {
 public:
  explicit ThreeNodes(DriverOptions options = {}) {
    for (size_t i = 0; i < kNodes; ++i) {
      fakes_.push_back(std::make_unique<FakeNode>());
      FakeNode& f = *fakes_.back();
      drivers_.push_back(std::make_unique<Driver>(name(i), options, f, f, f, f));
      for (GroupId g = 1; g <= kGroups; ++g) {
        ConfState founders;
        for (size_t m = 0; m < kNodes; ++m) founders.voters.push_back(replica(g, m));
        f.logs[g] = std::make_unique<MemoryLogStorage>(SnapshotMeta{0, 0, founders});
        GroupSpec spec;
        spec.id = g;
        spec.self = replica(g, i);
        for (size_t m = 0; m < kNodes; ++m) spec.replicas[replica(g, m)] = name(m);
        spec.durable = f.logs[g]->durable_state(0);
        spec.rng_seed = g * 100 + i;
        EXPECT_TRUE(drivers_.back()->add_group(std::move(spec)).is_ok());
      }
    }
  }

  Driver& driver(size_t i) { return *drivers_[i]; }
  FakeNode& fake(size_t i) { return *fakes_[i]; }

  // Delivers everything node i sent since the last call.
  void deliver_from(size_t i) {
    FakeNode& f = fake(i);
    for (auto& [to, batch] : f.sent) driver(to[0] - 'a').deliver(name(i), std::move(batch));
    f.sent.clear();
  }
  // Reports every handed-out item of node i as applied and durable.
  void apply_all(size_t i) {
    for (GroupId g = 1; g <= kGroups; ++g) {
      const Index last = fake(i).handed_out(g);
      if (last > 0) driver(i).applied(g, last, last);
    }
  }
  // Runs one iteration on every node (apply completes at once), delivering its messages.
  void round() {
    for (size_t i = 0; i < kNodes; ++i) {
      ASSERT_TRUE(driver(i).run_iteration().is_ok());
      deliver_from(i);
      apply_all(i);
    }
  }
  // Only node 0 ticks, so it times out first and wins every group.
  void elect_node0() {
    for (int t = 0; t < 100; ++t) {
      driver(0).tick();
      round();
      bool all = true;
      for (GroupId g = 1; g <= kGroups; ++g)
        all = all && driver(0).core(g)->role() == Role::kLeader;
      if (all) break;
    }
    for (int r = 0; r < 5; ++r) round();  // the no-ops commit everywhere
    for (GroupId g = 1; g <= kGroups; ++g) ASSERT_EQ(driver(0).core(g)->role(), Role::kLeader);
  }

 private:
  std::vector<std::unique_ptr<FakeNode>> fakes_;
  std::vector<std::unique_ptr<Driver>> drivers_;
};

TEST(Driver, OneSyncAndOneBatchPerPeerPerIterationWithEightGroupsBusy) {
  ThreeNodes nodes;
  nodes.elect_node0();
  for (int wave = 0; wave < 20; ++wave) {
    for (GroupId g = 1; g <= kGroups; ++g) {
      for (int k = 0; k < 3; ++k) nodes.driver(0).propose(g, wave * 100 + g * 10 + k, "x");
    }
    for (int step = 0; step < 4; ++step) {
      for (size_t i = 0; i < kNodes; ++i) {
        const DriverStats before = nodes.driver(i).stats();
        const size_t writes_before = nodes.fake(i).writes_seen.size();
        ASSERT_TRUE(nodes.driver(i).run_iteration().is_ok());
        const DriverStats& after = nodes.driver(i).stats();
        if (after.iterations == before.iterations) continue;
        const uint64_t syncs = after.storage_syncs - before.storage_syncs;
        EXPECT_LE(syncs, 1u);
        std::map<tessera::NodeId, int> per_peer;
        for (const auto& [to, batch] : nodes.fake(i).sent) ++per_peer[to];
        for (const auto& [to, count] : per_peer)
          EXPECT_EQ(count, 1) << "node " << i << " to " << to;
        if (i == 0 && step == 0) {
          // The leader's first iteration of a wave persists all eight groups in one write and
          // sends one batch to each follower carrying all eight groups' appends.
          EXPECT_EQ(syncs, 1u);
          ASSERT_EQ(nodes.fake(0).writes_seen.size(), writes_before + 1);
          EXPECT_EQ(nodes.fake(0).writes_seen.back().groups.size(), kGroups);
          EXPECT_EQ(per_peer.size(), 2u);
          for (const auto& [to, batch] : nodes.fake(0).sent) {
            EXPECT_EQ(batch.messages.size(), kGroups);
          }
        }
        nodes.deliver_from(i);
        nodes.apply_all(i);
      }
    }
  }
  for (int r = 0; r < 5; ++r) nodes.round();
  // Every proposal was answered, and applied.
  EXPECT_EQ(nodes.fake(0).proposals.size(), 20u * kGroups * 3);
  for (const Reply& r : nodes.fake(0).proposals) EXPECT_EQ(r.answer, Answer::kOk);
  const DriverStats& s = nodes.driver(0).stats();
  EXPECT_GT(s.entries_persisted, 20u * kGroups * 3);
  EXPECT_LE(s.storage_syncs, s.iterations);
}

TEST(Driver, LeaderSendsAppendsBeforeItsOwnSync) {
  ThreeNodes nodes;
  nodes.elect_node0();
  nodes.fake(0).sent.clear();
  const size_t writes = nodes.fake(0).sends_before_write.size();
  nodes.driver(0).propose(1, 7, "x");
  ASSERT_TRUE(nodes.driver(0).run_iteration().is_ok());
  ASSERT_EQ(nodes.fake(0).sends_before_write.size(), writes + 1);
  // Both followers' batches were handed to the transport before the write was.
  EXPECT_EQ(nodes.fake(0).sends_before_write.back(), 2u);
  EXPECT_EQ(nodes.driver(0).stats().early_batches_sent > 0, true);
}

TEST(Driver, ProposalIsAnsweredOnlyOnceApplied) {
  ThreeNodes nodes;
  nodes.elect_node0();
  nodes.driver(0).propose(3, 42, "payload");
  for (int r = 0; r < 6; ++r) {
    for (size_t i = 0; i < kNodes; ++i) {
      ASSERT_TRUE(nodes.driver(i).run_iteration().is_ok());
      nodes.deliver_from(i);
      if (i != 0) nodes.apply_all(i);  // node 0's apply stage is stuck
    }
  }
  EXPECT_TRUE(nodes.fake(0).proposals.empty());  // committed and handed out, not applied
  const Index last = nodes.fake(0).handed_out(3);
  ASSERT_GT(last, 0u);
  nodes.driver(0).applied(3, last, 0);
  ASSERT_TRUE(nodes.driver(0).run_iteration().is_ok());
  ASSERT_EQ(nodes.fake(0).proposals.size(), 1u);
  EXPECT_EQ(nodes.fake(0).proposals[0].token, 42u);
  EXPECT_EQ(nodes.fake(0).proposals[0].answer, Answer::kOk);
  EXPECT_EQ(nodes.fake(0).proposals[0].index, last);
}

TEST(Driver, ReadWaitsForTheApplyOfItsIndex) {
  ThreeNodes nodes;
  nodes.elect_node0();
  // A write commits and is handed out, but node 0's apply stage does not report it; a read
  // that comes after it must wait for it.
  auto rounds_without_apply_on_0 = [&] {
    for (int r = 0; r < 6; ++r) {
      for (size_t i = 0; i < kNodes; ++i) {
        ASSERT_TRUE(nodes.driver(i).run_iteration().is_ok());
        nodes.deliver_from(i);
        if (i != 0) nodes.apply_all(i);
      }
    }
  };
  nodes.driver(0).propose(2, 1, "w");
  rounds_without_apply_on_0();
  nodes.driver(0).read_index(2, 2);
  rounds_without_apply_on_0();
  EXPECT_TRUE(nodes.fake(0).reads.empty());
  nodes.apply_all(0);
  ASSERT_TRUE(nodes.driver(0).run_iteration().is_ok());
  ASSERT_EQ(nodes.fake(0).reads.size(), 1u);
  EXPECT_EQ(nodes.fake(0).reads[0].answer, Answer::kOk);
}

TEST(Driver, FollowerAnswersNotLeaderWithHint) {
  ThreeNodes nodes;
  nodes.elect_node0();
  nodes.driver(1).propose(5, 9, "x");
  nodes.driver(1).read_index(5, 10);
  nodes.driver(1).propose(99, 11, "x");
  ASSERT_TRUE(nodes.driver(1).run_iteration().is_ok());
  ASSERT_EQ(nodes.fake(1).proposals.size(), 2u);
  EXPECT_EQ(nodes.fake(1).proposals[0].answer, Answer::kNotLeader);
  EXPECT_EQ(nodes.fake(1).proposals[0].leader_hint, "a");
  EXPECT_EQ(nodes.fake(1).proposals[1].answer, Answer::kNoGroup);
  ASSERT_EQ(nodes.fake(1).reads.size(), 1u);
  EXPECT_EQ(nodes.fake(1).reads[0].answer, Answer::kNotLeader);
  EXPECT_EQ(nodes.driver(1).leader(5), "a");
}

TEST(Driver, PendingProposalsAreBounded) {
  DriverOptions options;
  options.pending_proposals_per_group_max = 4;
  ThreeNodes nodes(options);
  nodes.elect_node0();
  for (Token t = 1; t <= 6; ++t) nodes.driver(0).propose(1, t, "x");
  ASSERT_TRUE(nodes.driver(0).run_iteration().is_ok());
  ASSERT_EQ(nodes.fake(0).proposals.size(), 2u);
  EXPECT_EQ(nodes.fake(0).proposals[0].answer, Answer::kBusy);
  EXPECT_EQ(nodes.fake(0).proposals[0].token, 5u);
}

TEST(Driver, BatchesSplitAtTheMessageBound) {
  DriverOptions options;
  options.messages_per_batch_max = 3;
  ThreeNodes nodes(options);
  nodes.elect_node0();
  nodes.fake(0).sent.clear();
  for (GroupId g = 1; g <= kGroups; ++g) nodes.driver(0).propose(g, g, "x");
  ASSERT_TRUE(nodes.driver(0).run_iteration().is_ok());
  std::map<tessera::NodeId, size_t> messages;
  for (const auto& [to, batch] : nodes.fake(0).sent) {
    EXPECT_LE(batch.messages.size(), 3u);
    messages[to] += batch.messages.size();
  }
  EXPECT_EQ(messages["b"], kGroups);
  EXPECT_EQ(nodes.fake(0).sent.size(), 2 * 3u);  // ceil(8 / 3) batches per follower
}

TEST(Driver, ApplyBacklogHoldsBackTheGroup) {
  DriverOptions options;
  options.apply_backlog_per_group_max = 2;
  ThreeNodes nodes(options);
  nodes.elect_node0();
  const Index start = nodes.fake(0).handed_out(1);
  for (Token t = 1; t <= 10; ++t) {
    nodes.driver(0).propose(1, t, "x");  // one entry per round: one Ready each
    for (size_t i = 0; i < kNodes; ++i) {
      ASSERT_TRUE(nodes.driver(i).run_iteration().is_ok());
      nodes.deliver_from(i);
      if (i != 0) nodes.apply_all(i);
    }
  }
  // Node 0 never reports progress: it stops handing out at the bound.
  EXPECT_GT(nodes.driver(0).stats().apply_stalls, 0u);
  EXPECT_LE(nodes.fake(0).handed_out(1), start + 2);
  nodes.apply_all(0);
  for (int r = 0; r < 8; ++r) nodes.round();
  EXPECT_EQ(nodes.fake(0).handed_out(1), start + 10);
  EXPECT_EQ(nodes.fake(0).proposals.size(), 10u);
}

TEST(Driver, StorageErrorStopsTheDriver) {
  ThreeNodes nodes;
  nodes.elect_node0();
  nodes.fake(0).fail_writes = Status::io_error("disk gone");
  nodes.driver(0).propose(1, 1, "x");
  EXPECT_EQ(nodes.driver(0).run_iteration().code(), StatusCode::kIOError);
  EXPECT_FALSE(nodes.driver(0).has_work());
  nodes.fake(0).fail_writes = Status::ok();
  EXPECT_EQ(nodes.driver(0).run_iteration().code(), StatusCode::kIOError);
}

TEST(Driver, MessagesForUnknownGroupsOrReplicasAreDropped) {
  ThreeNodes nodes;
  MessageBatch batch;
  Message m;
  m.type = MessageType::kHeartbeat;
  m.to = replica(1, 2);  // node c's replica, delivered to node b
  batch.messages.push_back(GroupMessage{1, m});
  batch.messages.push_back(GroupMessage{77, m});
  nodes.driver(1).deliver("a", std::move(batch));
  ASSERT_TRUE(nodes.driver(1).run_iteration().is_ok());
  EXPECT_EQ(nodes.driver(1).stats().dropped_messages, 2u);
}

}  // namespace
}  // namespace tessera::raft::driver
