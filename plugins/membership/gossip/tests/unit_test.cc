// Unit tests of one gossip core driven by hand: the order of news, refutation, message bounds,
// the probe sequence (direct ping, indirect probes, suspect, dead), the joining flag and removal.
#include <gtest/gtest.h>

#include "gossip/gossip.h"

namespace tessera::gossip {
namespace {

class CountingRng : public Rng {
 public:
  uint64_t uniform(uint64_t n) override { return (next_++) % n; }

 private:
  uint64_t next_ = 0;
};

Member member(const std::string& id, uint64_t incarnation, MemberStatus status) {
  return Member{id, id + ":1", "", incarnation, status};
}

Options options_for(const std::string& id) {
  Options o;
  o.id = id;
  o.address = id + ":1";
  return o;
}

// A message from `from` carrying its own alive entry and then `news`.
Message push_from(const std::string& from, std::vector<Member> news = {}) {
  Message m;
  m.type = MessageType::kPushPull;
  m.from = from;
  m.from_address = from + ":1";
  m.entries.push_back(member(from, 0, MemberStatus::kAlive));
  for (Member& n : news) m.entries.push_back(std::move(n));
  return m;
}

TEST(GossipOrder, IncarnationFirstThenStatusRank) {
  using S = MemberStatus;
  EXPECT_TRUE(supersedes(member("a", 2, S::kAlive), member("a", 1, S::kLeft)));
  EXPECT_TRUE(supersedes(member("a", 1, S::kSuspect), member("a", 1, S::kAlive)));
  EXPECT_TRUE(supersedes(member("a", 1, S::kDead), member("a", 1, S::kSuspect)));
  EXPECT_TRUE(supersedes(member("a", 1, S::kLeft), member("a", 1, S::kDead)));
  EXPECT_FALSE(supersedes(member("a", 1, S::kAlive), member("a", 1, S::kAlive)));
  EXPECT_FALSE(supersedes(member("a", 0, S::kDead), member("a", 1, S::kAlive)));
}

TEST(GossipCore, RefutesSuspicionByRaisingItsIncarnation) {
  CountingRng rng;
  Gossip g(options_for("a"), rng);
  g.join();
  g.step(push_from("b", {member("a", 0, MemberStatus::kSuspect)}));
  EXPECT_EQ(g.self().incarnation, 1u);
  EXPECT_EQ(g.self().status, MemberStatus::kAlive);
  g.step(push_from("b", {member("a", 4, MemberStatus::kDead)}));
  EXPECT_EQ(g.self().incarnation, 5u);
  // Older news about itself changes nothing.
  g.step(push_from("b", {member("a", 2, MemberStatus::kDead)}));
  EXPECT_EQ(g.self().incarnation, 5u);
}

TEST(GossipCore, LeftWinsOverAliveAtTheSameIncarnationOnly) {
  CountingRng rng;
  Gossip g(options_for("a"), rng);
  g.join();
  g.step(push_from("b", {member("c", 3, MemberStatus::kAlive)}));
  g.step(push_from("b", {member("c", 3, MemberStatus::kLeft)}));
  g.step(push_from("b", {member("c", 3, MemberStatus::kAlive)}));
  EXPECT_EQ(g.find("c")->status, MemberStatus::kLeft);
  g.step(push_from("b", {member("c", 4, MemberStatus::kAlive)}));  // a rejoin
  EXPECT_EQ(g.find("c")->status, MemberStatus::kAlive);
}

// Death or leave of a node the view does not hold (never known, or forgotten) is not learned:
// otherwise forgotten entries would bounce back from peers that forget later.
TEST(GossipCore, DoesNotLearnTheDeathOfAnUnknownNode) {
  CountingRng rng;
  Gossip g(options_for("a"), rng);
  g.join();
  g.step(
      push_from("b", {member("c", 3, MemberStatus::kLeft), member("d", 1, MemberStatus::kDead)}));
  EXPECT_EQ(g.find("c"), nullptr);
  EXPECT_EQ(g.find("d"), nullptr);
}

TEST(GossipCore, LeavingNodeOutranksClaimsAboutItself) {
  CountingRng rng;
  Gossip g(options_for("a"), rng);
  g.join();
  g.leave();
  g.step(push_from("b", {member("a", 6, MemberStatus::kDead)}));
  EXPECT_EQ(g.self().status, MemberStatus::kLeft);
  EXPECT_EQ(g.self().incarnation, 6u);
}

TEST(GossipCore, EveryMessageStaysWithinTheEntryBound) {
  CountingRng rng;
  Options o = options_for("a");
  o.entries_per_message_max = 4;
  Gossip g(o, rng);
  g.join();
  for (int i = 0; i < 40; ++i) {
    g.step(push_from("n" + std::to_string(i),
                     {member("m" + std::to_string(i), 0, MemberStatus::kAlive)}));
  }
  EXPECT_EQ(g.members().size(), 81u);
  for (int t = 0; t < 200; ++t) {
    g.tick();
    for (const Outgoing& out : g.drain().messages) {
      EXPECT_LE(out.message.entries.size(), 4u);
      EXPECT_EQ(out.message.entries[0].id, "a");
    }
  }
}

TEST(GossipCore, IgnoresMalformedAndMisdirectedMessages) {
  CountingRng rng;
  Gossip g(options_for("a"), rng);
  g.join();
  Message no_entries = push_from("b");
  no_entries.entries.clear();
  g.step(no_entries);
  Message wrong_sender = push_from("b");
  wrong_sender.entries[0].id = "c";
  g.step(wrong_sender);
  Message not_for_us = push_from("b");
  not_for_us.to = "z";
  g.step(not_for_us);
  Message bad_entry = push_from("b", {Member{"", "x:1", "", 0, MemberStatus::kAlive}});
  bad_entry.entries.push_back(Member{"e", "", "", 0, MemberStatus::kAlive});
  g.step(bad_entry);
  for (const Member& m : g.members()) EXPECT_TRUE(m.id == "a" || m.id == "b") << m.id;
}

// With one peer that never answers: ping, then (no helpers to ask) suspect at the end of the
// probe period, then dead after suspicion_ticks, with one event each.
TEST(GossipCore, SilentPeerBecomesSuspectThenDead) {
  CountingRng rng;
  Options o = options_for("a");
  Gossip g(o, rng);
  g.join();
  g.step(push_from("b"));
  std::vector<EventKind> kinds;
  uint64_t suspect_at = 0;
  uint64_t dead_at = 0;
  for (int t = 0; t < 100 && dead_at == 0; ++t) {
    g.tick();
    for (const Event& e : g.drain().events) {
      kinds.push_back(e.kind);
      if (e.kind == EventKind::kSuspect) suspect_at = g.ticks();
      if (e.kind == EventKind::kDead) dead_at = g.ticks();
    }
  }
  ASSERT_EQ(kinds,
            (std::vector<EventKind>{EventKind::kJoined, EventKind::kSuspect, EventKind::kDead}));
  EXPECT_EQ(suspect_at, 2u * o.probe_interval_ticks);  // first probe starts after one period
  EXPECT_EQ(dead_at, suspect_at + o.suspicion_ticks);
}

TEST(GossipCore, FinishingAJoinClearsTheFlagWithANewIncarnationThatPeersTake) {
  CountingRng rng;
  Options o = options_for("a");
  o.joining = true;
  Gossip a(o, rng);
  a.join();
  EXPECT_TRUE(a.self().joining);
  const uint64_t before = a.self().incarnation;
  a.finish_joining();
  EXPECT_FALSE(a.self().joining);
  EXPECT_EQ(a.self().incarnation, before + 1);

  // A peer that held a joining takes the cleared flag as an alive event.
  Gossip b(options_for("b"), rng);
  b.join();
  Member joining = member("c", 3, MemberStatus::kAlive);
  joining.joining = true;
  b.step(push_from("d", {joining}));
  b.drain();
  EXPECT_TRUE(b.find("c")->joining);
  b.step(push_from("d", {member("c", 4, MemberStatus::kAlive)}));
  std::vector<Event> events = b.drain().events;
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, EventKind::kAlive);
  EXPECT_FALSE(b.find("c")->joining);
}

TEST(GossipCore, OnlyADeadMemberIsRemovedAndItCanComeBackByRefuting) {
  CountingRng rng;
  Gossip g(options_for("a"), rng);
  g.join();
  g.step(push_from("b", {member("c", 3, MemberStatus::kAlive)}));
  EXPECT_EQ(g.remove("a"), Gossip::RemoveRefusal::kSelf);
  EXPECT_EQ(g.remove("z"), Gossip::RemoveRefusal::kUnknown);
  EXPECT_EQ(g.remove("c"), Gossip::RemoveRefusal::kLive);
  g.step(push_from("b", {member("c", 3, MemberStatus::kDead)}));
  g.drain();
  EXPECT_EQ(g.remove("c"), Gossip::RemoveRefusal::kNone);
  EXPECT_EQ(g.find("c")->status, MemberStatus::kLeft);
  EXPECT_EQ(g.find("c")->incarnation, 3u);
  std::vector<Event> events = g.drain().events;
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, EventKind::kLeft);
  // A node that was alive after all refutes with a higher incarnation.
  g.step(push_from("b", {member("c", 4, MemberStatus::kAlive)}));
  EXPECT_EQ(g.find("c")->status, MemberStatus::kAlive);
}

}  // namespace
}  // namespace tessera::gossip
