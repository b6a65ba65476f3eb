// Unit tests of one coordinator driven by hand: target choice (sloppy quorum and hints), the
// write and read quorums, early and deadline failures, ignored replies, and read repair.
#include "tessera/quorum/coordinator.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace tessera::quorum {
namespace {

// Last write wins over big-endian versions: the greatest version survives.
Result<std::vector<VersionedValue>> lww(std::vector<VersionedValue> versions) {
  if (versions.empty()) return versions;
  for (const VersionedValue& v : versions) {
    if (v.version.empty()) return Status::invalid_argument("empty version");
  }
  auto best = std::max_element(versions.begin(), versions.end(),
                               [](const auto& a, const auto& b) { return a.version < b.version; });
  return std::vector<VersionedValue>{*best};
}

VersionedValue value(const std::string& version, const std::string& v) {
  return VersionedValue{version, false, v};
}

Request request(Operation op, std::vector<bool> up, size_t required, size_t owners = 3) {
  Request r;
  r.operation = op;
  r.replicas = {"a", "b", "c", "d", "e"};
  r.up = std::move(up);
  r.owners = owners;
  r.required = required;
  r.deadline_ticks = 10;
  return r;
}

Coordinator writer(std::vector<bool> up, size_t w) {
  return Coordinator(request(Operation::kWrite, std::move(up), w), nullptr);
}
Coordinator reader(std::vector<bool> up, size_t r) {
  return Coordinator(request(Operation::kRead, std::move(up), r), lww);
}

template <class T>
std::vector<T> only(const std::vector<Effect>& effects) {
  std::vector<T> out;
  for (const Effect& e : effects) {
    if (const T* t = std::get_if<T>(&e)) out.push_back(*t);
  }
  return out;
}

std::vector<Answer> answers(const std::vector<Effect>& effects) { return only<Answer>(effects); }

TEST(RequestParams, CheckRejectsBadShapes) {
  EXPECT_TRUE(check_request(request(Operation::kWrite, {1, 1, 1, 1, 1}, 2)).is_ok());
  EXPECT_FALSE(check_request(request(Operation::kWrite, {1, 1, 1}, 2)).is_ok());  // up size
  EXPECT_FALSE(check_request(request(Operation::kWrite, {1, 1, 1, 1, 1}, 0)).is_ok());
  EXPECT_FALSE(check_request(request(Operation::kWrite, {1, 1, 1, 1, 1}, 4)).is_ok());  // > N
  EXPECT_FALSE(check_request(request(Operation::kWrite, {1, 1, 1, 1, 1}, 2, 6)).is_ok());
  Request dup = request(Operation::kRead, {1, 1, 1, 1, 1}, 2);
  dup.replicas[3] = "a";
  EXPECT_FALSE(check_request(dup).is_ok());
  Request late = request(Operation::kRead, {1, 1, 1, 1, 1}, 2);
  late.deadline_ticks = 0;
  EXPECT_FALSE(check_request(late).is_ok());
}

TEST(QuorumWrite, AllOwnersUpTargetsTheOwnersWithoutHints) {
  Coordinator c = writer({1, 1, 1, 1, 1}, 2);
  std::vector<SendWrite> sends = only<SendWrite>(c.drain());
  ASSERT_EQ(sends.size(), 3u);
  EXPECT_EQ(sends[0].to, "a");
  EXPECT_EQ(sends[1].to, "b");
  EXPECT_EQ(sends[2].to, "c");
  for (const SendWrite& s : sends) EXPECT_TRUE(s.hint_for.empty());
}

TEST(QuorumWrite, DownOwnersGetFallbacksInOrderWithHints) {
  Coordinator c = writer({0, 1, 0, 0, 1}, 2);  // a and c down; d down too, so e stands for a
  std::vector<SendWrite> sends = only<SendWrite>(c.drain());
  ASSERT_EQ(sends.size(), 2u);
  EXPECT_EQ(sends[0].to, "b");
  EXPECT_TRUE(sends[0].hint_for.empty());
  EXPECT_EQ(sends[1].to, "e");
  EXPECT_EQ(sends[1].hint_for, "a");
  c.step(WriteReply{"b", true});
  c.step(WriteReply{"e", true});
  std::vector<Answer> a = answers(c.drain());
  ASSERT_EQ(a.size(), 1u);
  const auto& acked = std::get<WriteAcked>(a[0]);
  EXPECT_EQ(acked.acks, 2u);
  EXPECT_EQ(acked.hinted, std::vector<NodeId>{"a"});
  EXPECT_EQ(acked.hint_holders, std::vector<NodeId>{"e"});
}

TEST(QuorumWrite, AnswersOnceAfterWAcks) {
  Coordinator c = writer({1, 1, 1, 1, 1}, 2);
  c.drain();
  c.step(WriteReply{"a", true});
  EXPECT_FALSE(c.has_effects());
  c.step(WriteReply{"a", true});  // duplicate: not a second ack
  EXPECT_FALSE(c.answered());
  c.step(WriteReply{"c", true});
  std::vector<Answer> a = answers(c.drain());
  ASSERT_EQ(a.size(), 1u);
  EXPECT_TRUE(to_status(a[0]).is_ok());
  EXPECT_FALSE(c.done());  // b may still reply
  c.step(WriteReply{"b", true});
  EXPECT_FALSE(c.has_effects());
  EXPECT_TRUE(c.done());
}

TEST(QuorumWrite, RepliesFromNodesNotAskedAreIgnored) {
  Coordinator c = writer({1, 1, 1, 1, 1}, 2);
  c.drain();
  c.step(WriteReply{"d", true});
  c.step(WriteReply{"zz", true});
  c.step(ReadReply{"a", true, {}});  // wrong kind
  c.step(WriteReply{"a", true});
  EXPECT_FALSE(c.answered());
}

TEST(QuorumWrite, TooFewHealthyFailsAtOnce) {
  Coordinator c = writer({0, 0, 1, 0, 0}, 2);
  std::vector<Effect> effects = c.drain();
  ASSERT_EQ(effects.size(), 2u);  // the send, then the answer
  EXPECT_TRUE(std::holds_alternative<SendWrite>(effects[0]));
  const auto& u = std::get<QuorumUnavailable>(std::get<Answer>(effects[1]));
  EXPECT_EQ(u.answered, 0u);
  EXPECT_EQ(u.required, 2u);
  EXPECT_FALSE(u.deadline_passed);
  EXPECT_EQ(to_status(std::get<Answer>(effects[1])).code(), StatusCode::kQuorumUnavailable);
}

TEST(QuorumWrite, FailuresThatMakeWUnreachableFailEarly) {
  Coordinator c = writer({1, 1, 1, 1, 1}, 3);
  c.drain();
  c.step(WriteReply{"a", true});
  c.step(WriteReply{"b", false});
  std::vector<Answer> a = answers(c.drain());
  ASSERT_EQ(a.size(), 1u);
  const auto& u = std::get<QuorumUnavailable>(a[0]);
  EXPECT_EQ(u.answered, 1u);
  EXPECT_EQ(u.required, 3u);
  c.step(WriteReply{"c", true});  // too late to change the answer
  EXPECT_FALSE(c.has_effects());
}

TEST(QuorumWrite, DeadlineAnswersUnavailableWithTheAcksSoFar) {
  Coordinator c = writer({1, 1, 1, 1, 1}, 2);
  c.drain();
  c.step(WriteReply{"b", true});
  for (int i = 0; i < 9; ++i) c.tick();
  EXPECT_FALSE(c.answered());
  c.tick();
  std::vector<Answer> a = answers(c.drain());
  ASSERT_EQ(a.size(), 1u);
  const auto& u = std::get<QuorumUnavailable>(a[0]);
  EXPECT_EQ(u.answered, 1u);
  EXPECT_TRUE(u.deadline_passed);
  EXPECT_TRUE(c.done());
  c.step(WriteReply{"a", true});  // after the deadline
  c.tick();
  EXPECT_FALSE(c.has_effects());
}

TEST(QuorumRead, ReadsAllNAndAnswersAtRWithTheReconciledValue) {
  Coordinator c = reader({1, 1, 1, 1, 1}, 2);
  EXPECT_EQ(only<SendRead>(c.drain()).size(), 3u);
  c.step(ReadReply{"b", true, {value("2", "new")}});
  EXPECT_FALSE(c.answered());
  c.step(ReadReply{"a", true, {value("1", "old")}});
  std::vector<Effect> effects = c.drain();
  ASSERT_GE(effects.size(), 1u);
  const auto& read = std::get<ReadAnswer>(std::get<Answer>(effects[0]));
  EXPECT_EQ(read.answered, 2u);
  ASSERT_EQ(read.values.size(), 1u);
  EXPECT_EQ(read.values[0].value, "new");
  EXPECT_EQ(read.context, std::vector<Bytes>{"2"});
  // Then the repair of a, which answered with the stale version.
  std::vector<ReadRepair> repairs = only<ReadRepair>(effects);
  ASSERT_EQ(repairs.size(), 1u);
  EXPECT_EQ(repairs[0].to, "a");
  ASSERT_EQ(repairs[0].versions.size(), 1u);
  EXPECT_EQ(repairs[0].versions[0].version, "2");
}

TEST(QuorumRead, LateRepliesAreRepairedUntilTheDeadline) {
  Coordinator c = reader({1, 1, 1, 1, 1}, 2);
  c.drain();
  c.step(ReadReply{"a", true, {value("2", "x")}});
  c.step(ReadReply{"b", true, {value("2", "x")}});
  std::vector<Effect> effects = c.drain();
  EXPECT_EQ(answers(effects).size(), 1u);
  EXPECT_TRUE(only<ReadRepair>(effects).empty());  // both up to date
  c.step(ReadReply{"c", true, {}});                // missing the key entirely
  std::vector<ReadRepair> repairs = only<ReadRepair>(c.drain());
  ASSERT_EQ(repairs.size(), 1u);
  EXPECT_EQ(repairs[0].to, "c");
  EXPECT_TRUE(c.done());
}

TEST(QuorumRead, ALateNewerVersionRepairsTheEarlierRepliers) {
  Coordinator c = reader({1, 1, 1, 1, 1}, 2);
  c.drain();
  c.step(ReadReply{"a", true, {value("1", "x")}});
  c.step(ReadReply{"b", true, {value("1", "x")}});
  c.drain();
  c.step(ReadReply{"c", true, {value("3", "z")}});
  std::vector<ReadRepair> repairs = only<ReadRepair>(c.drain());
  ASSERT_EQ(repairs.size(), 2u);
  EXPECT_EQ(repairs[0].to, "a");
  EXPECT_EQ(repairs[1].to, "b");
  EXPECT_EQ(repairs[0].versions[0].version, "3");
}

TEST(QuorumRead, NoRepairAfterTheDeadline) {
  Coordinator c = reader({1, 1, 1, 1, 1}, 1);
  c.drain();
  c.step(ReadReply{"a", true, {value("2", "x")}});
  c.drain();
  for (int i = 0; i < 10; ++i) c.tick();
  EXPECT_TRUE(c.done());
  c.step(ReadReply{"b", true, {}});
  EXPECT_FALSE(c.has_effects());
}

TEST(QuorumRead, FallbackReplicasAreRepairedAsHintHolders) {
  Coordinator c = reader({1, 0, 1, 1, 1}, 2);
  c.drain();
  ASSERT_EQ(c.targets().size(), 3u);
  EXPECT_EQ(c.targets()[2].node, "d");
  EXPECT_EQ(c.targets()[2].hint_for, "b");
  c.step(ReadReply{"a", true, {value("2", "x")}});
  c.step(ReadReply{"d", true, {}});
  std::vector<ReadRepair> repairs = only<ReadRepair>(c.drain());
  ASSERT_EQ(repairs.size(), 1u);
  EXPECT_EQ(repairs[0].to, "d");
  EXPECT_EQ(repairs[0].hint_for, "b");
}

TEST(QuorumRead, EffectsComeAsSendsThenTheAnswerThenRepairs) {
  Coordinator c = reader({1, 1, 1, 1, 1}, 1);
  c.step(ReadReply{"b", true, {}});  // before the first drain: the sends are still queued
  c.step(ReadReply{"a", true, {value("1", "x")}});
  std::vector<Effect> effects = c.drain();
  ASSERT_EQ(effects.size(), 5u);
  for (size_t i = 0; i < 3; ++i) EXPECT_TRUE(std::holds_alternative<SendRead>(effects[i]));
  EXPECT_TRUE(std::holds_alternative<Answer>(effects[3]));
  EXPECT_EQ(std::get<ReadRepair>(effects[4]).to, "b");
}

TEST(QuorumWrite, NoHealthyFallbackLeavesFewerTargets) {
  Coordinator c = writer({1, 0, 1, 0, 0}, 2);
  std::vector<SendWrite> sends = only<SendWrite>(c.drain());
  ASSERT_EQ(sends.size(), 2u);
  EXPECT_EQ(sends[0].to, "a");
  EXPECT_EQ(sends[1].to, "c");
  EXPECT_FALSE(c.answered());  // two targets can still make W = 2
}

TEST(QuorumRead, TombstonesStayInTheContextButNotTheValues) {
  Coordinator c = reader({1, 1, 1, 1, 1}, 1);
  c.drain();
  c.step(ReadReply{"a", true, {VersionedValue{"5", true, {}}}});
  std::vector<Answer> a = answers(c.drain());
  ASSERT_EQ(a.size(), 1u);
  const auto& read = std::get<ReadAnswer>(a[0]);
  EXPECT_TRUE(read.values.empty());
  EXPECT_EQ(read.context, std::vector<Bytes>{"5"});
}

TEST(QuorumRead, MalformedRepliesCountAsFailures) {
  Coordinator c = reader({1, 1, 1, 1, 1}, 2);
  c.drain();
  c.step(ReadReply{"a", true, {value("", "bad")}});  // reconcile refuses it
  std::vector<VersionedValue> many(kVersionsMax + 1, value("1", "x"));
  c.step(ReadReply{"b", true, many});
  std::vector<Answer> a = answers(c.drain());
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(std::get<QuorumUnavailable>(a[0]).answered, 0u);
  c.step(ReadReply{"c", true, {value("1", "x")}});
  EXPECT_FALSE(c.has_effects());  // answered already; c is up to date
}

TEST(QuorumRead, FailedRepliesAreNeitherCountedNorRepaired) {
  Coordinator c = reader({1, 1, 1, 1, 1}, 2);
  c.drain();
  c.step(ReadReply{"a", false, {}});
  c.step(ReadReply{"b", true, {value("1", "x")}});
  c.step(ReadReply{"c", true, {value("1", "x")}});
  std::vector<Effect> effects = c.drain();
  EXPECT_EQ(std::get<ReadAnswer>(answers(effects)[0]).answered, 2u);
  EXPECT_TRUE(only<ReadRepair>(effects).empty());
}

}  // namespace
}  // namespace tessera::quorum

namespace tessera::quorum {
namespace {

// Owners a, b, c today; once "j" has joined, j, a and b.
Coordinator joining_writer(std::vector<bool> up, bool joiner_up, size_t w) {
  Request r = request(Operation::kWrite, std::move(up), w);
  r.next_owners = {"j", "a", "b"};
  r.next_up = {joiner_up, true, true};
  return Coordinator(std::move(r), nullptr);
}

TEST(QuorumWrite, WhileANodeJoinsItIsWrittenTooAndTheQuorumHoldsOnBothRings) {
  Coordinator c = joining_writer({1, 1, 1, 1, 1}, true, 2);
  std::vector<SendWrite> sends = only<SendWrite>(c.drain());
  ASSERT_EQ(sends.size(), 4u);
  EXPECT_EQ(sends[3].to, "j");
  EXPECT_TRUE(sends[3].hint_for.empty());
  // a and c: W today, but only one of the next owners.
  c.step(WriteReply{"a", true});
  c.step(WriteReply{"c", true});
  EXPECT_FALSE(c.answered());
  c.step(WriteReply{"j", true});
  std::vector<Answer> a = answers(c.drain());
  ASSERT_EQ(a.size(), 1u);
  EXPECT_TRUE(to_status(a[0]).is_ok());
}

TEST(QuorumWrite, AJoinersAckAloneIsNotTodaysQuorum) {
  Coordinator c = joining_writer({1, 1, 1, 1, 1}, true, 2);
  c.drain();
  c.step(WriteReply{"j", true});
  c.step(WriteReply{"a", true});
  EXPECT_FALSE(c.answered()) << "j is no owner yet";
  c.step(WriteReply{"b", true});
  ASSERT_EQ(answers(c.drain()).size(), 1u);
}

TEST(QuorumWrite, TheNextOwnersQuorumCanFailTheWrite) {
  // j is down and b fails: of j, a, b only a can ack.
  Coordinator c = joining_writer({1, 1, 1, 1, 1}, false, 2);
  EXPECT_EQ(only<SendWrite>(c.drain()).size(), 3u);
  c.step(WriteReply{"b", false});
  std::vector<Answer> a = answers(c.drain());
  ASSERT_EQ(a.size(), 1u);
  const QuorumUnavailable* failed = std::get_if<QuorumUnavailable>(&a[0]);
  ASSERT_NE(failed, nullptr);
  EXPECT_EQ(failed->required, 2u);
}

TEST(RequestParams, NextOwnersAreForWritesAndDistinct) {
  Request read = request(Operation::kRead, {1, 1, 1, 1, 1}, 2);
  read.next_owners = {"j"};
  read.next_up = {true};
  EXPECT_FALSE(check_request(read).is_ok());
  Request twice = request(Operation::kWrite, {1, 1, 1, 1, 1}, 2);
  twice.next_owners = {"j", "j"};
  twice.next_up = {true, true};
  EXPECT_FALSE(check_request(twice).is_ok());
  Request sizes = request(Operation::kWrite, {1, 1, 1, 1, 1}, 2);
  sizes.next_owners = {"j"};
  EXPECT_FALSE(check_request(sizes).is_ok());
}

}  // namespace
}  // namespace tessera::quorum
