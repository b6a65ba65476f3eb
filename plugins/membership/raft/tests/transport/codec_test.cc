// The codec: every message type and field survives encode + decode; malformed messages from the
// wire are refused (InvalidArgument naming the field), never asserted on.
#include "transport/codec.h"

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "raft/conf_change.h"

namespace tessera::raft::transport {
namespace {

bool same(const Message& a, const Message& b) {
  return a.type == b.type && a.from == b.from && a.to == b.to && a.term == b.term &&
         a.log_index == b.log_index && a.log_term == b.log_term && a.commit == b.commit &&
         a.entries == b.entries && a.reject == b.reject && a.force == b.force &&
         a.reject_hint == b.reject_hint && a.context == b.context && a.snapshot == b.snapshot;
}

Result<GroupMessage> round_trip(const GroupMessage& in, const DecodeLimits& limits = {}) {
  capnp::MallocMessageBuilder builder;
  auto root = builder.initRoot<rpc::GroupMessage>();
  encode(in, root);
  // What goes over the wire: the flat bytes, read back as a peer would.
  kj::Array<capnp::word> words = capnp::messageToFlatArray(builder);
  capnp::FlatArrayMessageReader reader(words);
  return decode(reader.getRoot<rpc::GroupMessage>(), limits);
}

// A message with every field set to a distinct value that is valid for `type`.
GroupMessage full_message(MessageType type) {
  GroupMessage gm;
  gm.group = 0x1234567890abcdefULL;
  Message& m = gm.message;
  m.type = type;
  m.from = 3;
  m.to = 0xfffffffffffffff0ULL;
  m.term = 41;
  m.log_index = 1000;
  m.log_term = 40;
  m.commit = 999;
  m.reject = true;
  m.force = true;
  m.reject_hint = 998;
  m.context = 0xdeadbeefcafef00dULL;
  if (type == MessageType::kAppend) {
    m.entries.push_back({40, 1001, EntryType::kNormal, std::string("a\0b", 3)});
    m.entries.push_back({41, 1002, EntryType::kNormal, ""});
    m.entries.push_back({41, 1003, EntryType::kConfChange, encode_conf_state({{1, 2, 3}, {7}})});
    m.entries.push_back({41, 1004, EntryType::kNormal, std::string(100'000, 'x')});
  }
  if (type == MessageType::kSnapshot) {
    m.snapshot.index = 5000;
    m.snapshot.term = 39;
    m.snapshot.conf.voters = {1, 2, 3};
    m.snapshot.conf.learners = {4, 9};
  }
  return gm;
}

const MessageType kAllTypes[] = {MessageType::kPreVote,   MessageType::kPreVoteResp,
                                 MessageType::kVote,      MessageType::kVoteResp,
                                 MessageType::kAppend,    MessageType::kAppendResp,
                                 MessageType::kHeartbeat, MessageType::kHeartbeatResp,
                                 MessageType::kSnapshot,  MessageType::kTimeoutNow};

TEST(CodecTest, EveryTypeAndFieldRoundTrips) {
  for (MessageType type : kAllTypes) {
    SCOPED_TRACE(std::string(to_string(type)));
    GroupMessage in = full_message(type);
    Result<GroupMessage> out = round_trip(in);
    ASSERT_TRUE(out.is_ok()) << out.status().to_string();
    EXPECT_EQ(out->group, in.group);
    EXPECT_TRUE(same(out->message, in.message));
  }
}

TEST(CodecTest, DefaultsRoundTrip) {
  GroupMessage in;
  in.message.type = MessageType::kHeartbeat;
  in.message.from = 1;
  in.message.to = 2;
  Result<GroupMessage> out = round_trip(in);
  ASSERT_TRUE(out.is_ok()) << out.status().to_string();
  EXPECT_TRUE(same(out->message, in.message));
  EXPECT_EQ(out->group, 0u);
}

// The estimate used for bounds is an upper bound of the real encoding.
TEST(CodecTest, EncodedBytesIsAnUpperBound) {
  for (MessageType type : kAllTypes) {
    GroupMessage in = full_message(type);
    capnp::MallocMessageBuilder builder;
    auto root = builder.initRoot<rpc::GroupMessage>();
    encode(in, root);
    const size_t real = root.totalSize().wordCount * 8;
    EXPECT_GE(encoded_bytes(in), real) << to_string(type);
    EXPECT_LE(encoded_bytes(in), real + 256) << to_string(type);
  }
}

// Encodes `in`, lets `corrupt` change the wire form, and decodes it.
template <typename F>
Result<GroupMessage> corrupted(const GroupMessage& in, F corrupt, const DecodeLimits& limits = {}) {
  capnp::MallocMessageBuilder builder;
  auto root = builder.initRoot<rpc::GroupMessage>();
  encode(in, root);
  corrupt(root);
  return decode(root.asReader(), limits);
}

void expect_refused(const Result<GroupMessage>& result, const std::string& mentions) {
  ASSERT_FALSE(result.is_ok());
  EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(result.status().message().find(mentions), std::string::npos)
      << result.status().message();
}

TEST(CodecTest, MalformedMessagesAreRefused) {
  const GroupMessage append = full_message(MessageType::kAppend);
  const GroupMessage snapshot = full_message(MessageType::kSnapshot);
  const GroupMessage heartbeat = full_message(MessageType::kHeartbeat);
  using B = rpc::GroupMessage::Builder;

  expect_refused(corrupted(heartbeat, [](B m) { m.setType(static_cast<rpc::MessageType>(10)); }),
                 "unknown type 10");
  expect_refused(corrupted(heartbeat, [](B m) { m.setType(static_cast<rpc::MessageType>(65535)); }),
                 "unknown type");
  expect_refused(corrupted(heartbeat, [](B m) { m.setFrom(0); }), "replica id 0");
  expect_refused(corrupted(heartbeat, [](B m) { m.setTo(0); }), "replica id 0");
  // Entries on a message that carries none.
  expect_refused(corrupted(heartbeat, [](B m) { m.initEntries(1)[0].setIndex(1001); }),
                 "entries on a message of type Heartbeat");
  // Index gap, index overflow, terms that go down or exceed the message's term.
  expect_refused(corrupted(append, [](B m) { m.getEntries()[2].setIndex(1004); }),
                 "has index 1004, expected 1003");
  expect_refused(corrupted(append, [](B m) { m.setLogIndex(~uint64_t{0} - 1); }), "overflow");
  expect_refused(corrupted(append, [](B m) { m.getEntries()[1].setTerm(39); }), "has term 39");
  expect_refused(corrupted(append, [](B m) { m.getEntries()[0].setTerm(42); }), "has term 42");
  expect_refused(
      corrupted(append, [](B m) { m.getEntries()[0].setType(static_cast<rpc::EntryType>(7)); }),
      "unknown type 7");
  // A configuration entry the core could not decode.
  expect_refused(corrupted(append, [](B m) { m.getEntries()[2].setData(capnp::Data::Reader()); }),
                 "configuration entry 1003");
  {
    DecodeLimits limits;
    limits.entries_max = 3;
    expect_refused(corrupted(
                       append, [](B) {}, limits),
                   "4 entries, over the bound of 3");
  }
  // Snapshot configurations: unsorted, duplicate, zero, overlapping, too many.
  auto voters = [](std::vector<uint64_t> ids) {
    return [ids](B m) {
      auto list = m.getSnapshot().initVoters(ids.size());
      for (size_t i = 0; i < ids.size(); ++i) list.set(i, ids[i]);
    };
  };
  expect_refused(corrupted(snapshot, voters({2, 1})), "voters are not strictly ascending");
  expect_refused(corrupted(snapshot, voters({1, 1})), "voters are not strictly ascending");
  expect_refused(corrupted(snapshot, voters({0, 1})), "voters lists replica 0");
  expect_refused(corrupted(snapshot, voters({1, 4})), "replica 4 as voter and learner");
  {
    DecodeLimits limits;
    limits.members_max = 4;
    expect_refused(corrupted(
                       snapshot, [](B) {}, limits),
                   "over 4 members");
  }
}

// Snapshot metadata only travels on a kSnapshot: elsewhere it is not read (the core ignores it).
TEST(CodecTest, SnapshotMetaOnlyOnSnapshots) {
  GroupMessage in = full_message(MessageType::kHeartbeat);
  in.message.snapshot.index = 77;
  Result<GroupMessage> out = round_trip(in);
  ASSERT_TRUE(out.is_ok());
  EXPECT_EQ(out->message.snapshot.index, 0u);
}

}  // namespace
}  // namespace tessera::raft::transport
