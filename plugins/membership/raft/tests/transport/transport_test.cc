// The transport between real connections: three transports in one process, each served by a
// test node (the node's real ClientService behind Tessera.peer) on 127.0.0.1.
#include "transport/transport.h"

#include <capnp/rpc-twoparty.h>
#include <gtest/gtest.h>
#include <kj/async-io.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tessera/crc32c.h"
#include "tessera/rpc/tessera.capnp.h"
#include "test_node.h"
#include "tessera/node/cluster_peer_dialer.h"
#include "test_support.h"
#include "transport/raft_peer.capnp.h"

namespace tessera::raft::transport {
namespace {

using namespace testing;  // NOLINT: the helpers of this folder's tests

TEST(TransportTest, MessagesArriveInOrderPerPeerAndCoalesce) {
  Directory directory;
  auto a = make_member("a", directory);
  auto b = make_member("b", directory);
  auto c = make_member("c", directory);
  constexpr uint64_t kCount = 20'000;
  // Message 0 first, so that the connections are up: what coalesces below waited for calls in
  // flight, not for a connection.
  a->transport->send("b", {heartbeat(1, 0)});
  a->transport->send("c", {heartbeat(1, 0)});
  c->transport->send("b", {heartbeat(2, 0)});
  ASSERT_TRUE(eventually([&]() {
    return b->inbox.count("a") == 1 && b->inbox.count("c") == 1 && c->inbox.count("a") == 1;
  }));
  // a sends to b and c from this thread, c to b from another, one message per call.
  const auto start = Clock::now();
  std::thread c_sender([&]() {
    for (uint64_t i = 1; i < kCount; ++i) c->transport->send("b", {heartbeat(2, i)});
  });
  for (uint64_t i = 1; i < kCount; ++i) {
    a->transport->send("b", {heartbeat(1, i)});
    a->transport->send("c", {heartbeat(1, i)});
  }
  c_sender.join();
  ASSERT_TRUE(eventually([&]() {
    return b->inbox.count("a") == kCount && b->inbox.count("c") == kCount &&
           c->inbox.count("a") == kCount;
  })) << b->inbox.count("a")
      << " " << b->inbox.count("c") << " " << c->inbox.count("a");
  const auto elapsed_us =
      std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start).count();
  std::printf("%llu messages delivered in %lld us\n",
              static_cast<unsigned long long>(3 * (kCount - 1)),
              static_cast<long long>(elapsed_us));
  expect_in_order(b->inbox.from("a"), kCount);
  expect_in_order(b->inbox.from("c"), kCount);
  expect_in_order(c->inbox.from("a"), kCount);

  // The sender counts a batch once its answer is back, which may be after the delivery.
  EXPECT_TRUE(eventually([&]() { return a->transport->stats().messages_sent == 2 * kCount; }));
  TransportStats sent = a->transport->stats();
  EXPECT_EQ(sent.dropped_queue_full + sent.dropped_unreachable + sent.dropped_send_failed, 0u);
  EXPECT_EQ(sent.connects, 2u);
  EXPECT_EQ(sent.reconnects, 0u);
  TransportStats received = b->transport->stats();
  EXPECT_EQ(received.messages_received, 2 * kCount);
  EXPECT_EQ(received.dropped_malformed, 0u);
  // What waited while calls were in flight went out together.
  EXPECT_LT(received.batches_received * 4, received.messages_received)
      << received.batches_received << " batches";
  EXPECT_GT(received.bytes_received, received.messages_received * 8);
  std::printf("coalescing: %llu messages in %llu batches at b\n",
              static_cast<unsigned long long>(received.messages_received),
              static_cast<unsigned long long>(received.batches_received));
}

// A peer that restarts (on another port, as after a crash) is reached again: the dead
// connection is noticed and a new one opened from the resolver's new address.
TEST(TransportTest, RestartedPeerIsReconnected) {
  Directory directory;
  auto a = make_member("a", directory);
  auto b = make_member("b", directory);
  a->transport->send("b", {heartbeat(1, 0)});
  ASSERT_TRUE(eventually([&]() { return b->inbox.count("a") == 1; }));
  b.reset();
  b = make_member("b", directory);
  // Messages sent while the old connection dies may be lost (Raft resends); keep sending
  // until one arrives.
  uint64_t seq = 1;
  ASSERT_TRUE(eventually([&]() {
    a->transport->send("b", {heartbeat(1, seq++)});
    return b->inbox.count("a") > 0;
  }));
  EXPECT_GE(a->transport->stats().connects, 2u);
}

TEST(TransportTest, DeadStalledAndDeafPeersDoNotHoldUpTheHealthyOne) {
  Directory directory;
  TransportOptions options = fast_options();
  options.queue_messages_max = 500;
  auto a = make_member("a", directory, options);
  auto b = make_member("b", directory);
  std::unique_ptr<PeerService> stalled_service = testing::make_stalled_service();
  TestNode stalled("stalled", stalled_service.get());
  testing::DeafListener deaf;
  directory.set("stalled", stalled.address());
  directory.set("deaf", deaf.address());
  directory.set("dead", testing::dead_address());
  // "unknown" has no address at all.
  const std::vector<NodeId> bad = {"stalled", "deaf", "dead", "unknown"};

  constexpr uint64_t kRounds = 150;
  constexpr uint64_t kPerRound = 100;
  uint64_t seq = 0;
  auto slowest = Clock::duration::zero();
  uint64_t queued_max = 0;
  for (uint64_t round = 0; round < kRounds; ++round) {
    for (const NodeId& peer : bad) {
      std::vector<GroupMessage> batch;
      for (uint64_t i = 0; i < kPerRound; ++i) batch.push_back(heartbeat(3, i));
      const auto start = Clock::now();
      a->transport->send(peer, std::move(batch));
      slowest = std::max(slowest, Clock::now() - start);
    }
    std::vector<GroupMessage> batch;
    for (uint64_t i = 0; i < kPerRound; ++i) batch.push_back(heartbeat(3, seq++));
    const auto start = Clock::now();
    a->transport->send("b", std::move(batch));
    slowest = std::max(slowest, Clock::now() - start);
    queued_max = std::max(queued_max, a->transport->stats().queued_messages);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(eventually([&]() { return b->inbox.count("a") == seq; }))
      << b->inbox.count("a") << " of " << seq;
  expect_in_order(b->inbox.from("a"), seq);

  TransportStats stats = a->transport->stats();
  std::printf(
      "slowest send %lld us; queued at most %llu; dropped: queue full %llu, unreachable %llu, "
      "in failed calls %llu; connection failures %llu, connects %llu\n",
      static_cast<long long>(
          std::chrono::duration_cast<std::chrono::microseconds>(slowest).count()),
      static_cast<unsigned long long>(queued_max),
      static_cast<unsigned long long>(stats.dropped_queue_full),
      static_cast<unsigned long long>(stats.dropped_unreachable),
      static_cast<unsigned long long>(stats.dropped_send_failed),
      static_cast<unsigned long long>(stats.connection_failures),
      static_cast<unsigned long long>(stats.connects));
  EXPECT_LT(slowest, std::chrono::milliseconds(50));
  // Each bad peer's queue stays within its bound; the healthy one drains.
  EXPECT_LE(queued_max, bad.size() * options.queue_messages_max + kPerRound);
  const uint64_t bad_sent = kRounds * kPerRound * bad.size();
  EXPECT_GT(stats.dropped_queue_full + stats.dropped_unreachable + stats.dropped_send_failed,
            bad_sent / 2);
  EXPECT_GT(stats.dropped_unreachable, 0u);
  EXPECT_GT(stats.connection_failures, 3u);
  EXPECT_TRUE(eventually([&]() { return a->transport->stats().messages_sent == seq; }));
}

TEST(TransportTest, SnapshotOf200MiBStreamsInSmallMessages) {
  Directory directory;
  auto a = make_member("a", directory);
  // b reads no message over 2 MiB: a larger one would break the stream.
  auto b = make_member("b", directory, fast_options(), (size_t{2} << 20) / 8);
  constexpr uint64_t kTotal = uint64_t{200} << 20;

  auto rss_bytes = []() {
    std::ifstream statm("/proc/self/statm");
    uint64_t pages = 0, resident = 0;
    statm >> pages >> resident;
    return resident * static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  };
  const uint64_t rss_before = rss_bytes();
  uint32_t sent_crc = 0;
  Outcome outcome;
  // 4 MiB chunks from the image, split by the transport into 1 MiB pieces.
  ASSERT_TRUE(a->transport
                  ->send_snapshot("b", snapshot_message(7, 12345),
                                  std::make_unique<GeneratedImage>(kTotal, 4 << 20, &sent_crc),
                                  outcome.done())
                  .is_ok());
  ASSERT_TRUE(eventually([&]() { return outcome.has(); }, std::chrono::seconds(20)));
  ASSERT_TRUE(outcome.get().is_ok()) << outcome.get().to_string();
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  const uint64_t peak = static_cast<uint64_t>(usage.ru_maxrss) * 1024;

  {
    std::lock_guard lock(b->image->mu);
    EXPECT_TRUE(b->image->finished);
    EXPECT_EQ(b->image->bytes, kTotal);
    EXPECT_EQ(b->image->crc, sent_crc);
    EXPECT_EQ(b->image->message.group, 7u);
    EXPECT_EQ(b->image->message.message.snapshot.index, 12345u);
    EXPECT_EQ(b->image->message.message.snapshot.conf.voters, (std::vector<raft::NodeId>{1, 2, 3}));
  }
  std::printf("peak RSS %llu MiB, %llu MiB before the stream\n",
              static_cast<unsigned long long>(peak >> 20),
              static_cast<unsigned long long>(rss_before >> 20));
  EXPECT_LT(peak, rss_before + (uint64_t{48} << 20));
  EXPECT_EQ(a->transport->stats().snapshot_bytes_sent, kTotal);
  EXPECT_EQ(a->transport->stats().snapshots_sent, 1u);
  EXPECT_EQ(b->transport->stats().snapshots_received, 1u);
  EXPECT_EQ(b->transport->stats().snapshot_bytes_received, kTotal);

  // The control: b really refuses a message over 2 MiB (its connection breaks), and a counts
  // the batch as failed.
  GroupMessage big = heartbeat(1, 0);
  big.message.type = MessageType::kAppend;
  big.message.log_index = 10;
  big.message.log_term = 5;
  big.message.entries.push_back({5, 11, EntryType::kNormal, std::string(3 << 20, 'x')});
  a->transport->send("b", {big});
  EXPECT_TRUE(eventually([&]() { return a->transport->stats().dropped_send_failed == 1; }));
  EXPECT_EQ(b->inbox.count("a"), 0u);
}

TEST(TransportTest, SnapshotFailuresReachTheSender) {
  Directory directory;
  TransportOptions options = fast_options();
  options.snapshots_sending_max = 1;
  auto a = make_member("a", directory, options);
  auto b = make_member("b", directory);
  uint32_t crc = 0;

  // The receiver refuses the stream.
  b->refuse_snapshots = Status::io_error("no room for a staging file");
  {
    Outcome outcome;
    ASSERT_TRUE(a->transport
                    ->send_snapshot("b", snapshot_message(1, 10),
                                    std::make_unique<GeneratedImage>(5 << 20, 1 << 20, &crc),
                                    outcome.done())
                    .is_ok());
    ASSERT_TRUE(eventually([&]() { return outcome.has(); }));
    EXPECT_FALSE(outcome.get().is_ok());
    EXPECT_NE(outcome.get().message().find("no room for a staging file"), std::string::npos)
        << outcome.get().to_string();
  }
  // A chunk fails to be written: the stream fails, the sink is aborted.
  b->refuse_snapshots.reset();
  b->sink_fails_after_bytes = 3 << 20;
  {
    Outcome outcome;
    ASSERT_TRUE(a->transport
                    ->send_snapshot("b", snapshot_message(1, 11),
                                    std::make_unique<GeneratedImage>(8 << 20, 1 << 20, &crc),
                                    outcome.done())
                    .is_ok());
    ASSERT_TRUE(eventually([&]() { return outcome.has(); }));
    EXPECT_NE(outcome.get().message().find("disk full"), std::string::npos)
        << outcome.get().to_string();
    EXPECT_TRUE(eventually([&]() {
      std::lock_guard lock(b->image->mu);
      return b->image->aborted;
    }));
  }
  // The image cannot be read: the sender gives up, the receiver aborts.
  b->sink_fails_after_bytes = UINT64_MAX;
  b->image = std::make_shared<ReceivedImage>();
  {
    Outcome outcome;
    ASSERT_TRUE(a->transport
                    ->send_snapshot("b", snapshot_message(1, 12),
                                    std::make_unique<GeneratedImage>(8 << 20, 1 << 20, &crc, 2),
                                    outcome.done())
                    .is_ok());
    ASSERT_TRUE(eventually([&]() { return outcome.has(); }));
    EXPECT_EQ(outcome.get().code(), StatusCode::kIOError) << outcome.get().to_string();
    EXPECT_NE(outcome.get().message().find("image read failed"), std::string::npos);
    EXPECT_TRUE(eventually([&]() {
      std::lock_guard lock(b->image->mu);
      return b->image->aborted && !b->image->finished;
    }));
  }
  EXPECT_TRUE(eventually([&]() { return b->transport->stats().snapshots_receive_failed == 2; }))
      << b->transport->stats().snapshots_receive_failed;
  EXPECT_EQ(b->transport->stats().snapshots_receive_refused, 1u);
  EXPECT_EQ(a->transport->stats().snapshots_failed, 3u);

  // A stalled receiver holds the only sending slot: the next stream is refused at once, and
  // stopping the transport ends the one under way.
  std::unique_ptr<PeerService> stalled_service = testing::make_stalled_service();
  TestNode stalled("stalled", stalled_service.get());
  directory.set("stalled", stalled.address());
  Outcome hanging;
  ASSERT_TRUE(a->transport
                  ->send_snapshot("stalled", snapshot_message(1, 13),
                                  std::make_unique<GeneratedImage>(8 << 20, 1 << 20, &crc),
                                  hanging.done())
                  .is_ok());
  Outcome refused;
  Status busy = a->transport->send_snapshot(
      "b", snapshot_message(1, 14), std::make_unique<GeneratedImage>(1 << 20, 1 << 20, &crc),
      refused.done());
  EXPECT_EQ(busy.code(), StatusCode::kBusy) << busy.to_string();
  EXPECT_FALSE(refused.has());
  a.reset();
  ASSERT_TRUE(hanging.has());
  EXPECT_EQ(hanging.get().code(), StatusCode::kUnavailable) << hanging.get().to_string();
}

// A peer that sends garbage: what does not decode is dropped and counted, the rest delivered.
TEST(TransportTest, MalformedMessagesFromTheWireAreDroppedAndCounted) {
  Directory directory;
  auto b = make_member("b", directory);
  kj::AsyncIoContext io = kj::setupAsyncIo();
  auto stream = io.provider->getNetwork()
                    .parseAddress(b->node->address())
                    .wait(io.waitScope)
                    ->connect()
                    .wait(io.waitScope);
  {
    capnp::TwoPartyClient client(*stream);
    auto node = client.bootstrap().castAs<tessera::rpc::Tessera>();
    auto link = static_cast<const tessera::node::ClusterPeerDialer&>(test_peer_dialer())
                    .authenticate(node, b->node->address())
                    .wait(io.waitScope);
    auto peer = link.peerRequest();
    peer.setName("raft");
    auto answer = peer.send().wait(io.waitScope);
    ASSERT_EQ(answer.getError().getCode(), tessera::rpc::ErrorCode::OK);
    auto raft_peer = answer.getService().castAs<rpc::RaftPeer>();

    auto call = raft_peer.sendRequest();
    call.setFrom("x");
    auto messages = call.initMessages(4);
    encode(heartbeat(1, 42), messages[0]);
    encode(heartbeat(1, 43), messages[1]);
    messages[1].setType(static_cast<rpc::MessageType>(99));
    encode(heartbeat(1, 44), messages[2]);
    messages[2].setFrom(0);
    encode(heartbeat(1, 45), messages[3]);
    messages[3].initEntries(2);  // entries on a heartbeat
    call.send().wait(io.waitScope);

    // No sender id: the whole batch is dropped.
    auto anonymous = raft_peer.sendRequest();
    encode(heartbeat(1, 46), anonymous.initMessages(1)[0]);
    anonymous.send().wait(io.waitScope);

    // A snapshot stream for a message that is not a snapshot is refused.
    auto snapshot = raft_peer.snapshotRequest();
    snapshot.setFrom("x");
    encode(heartbeat(1, 47), snapshot.initMessage());
    EXPECT_ANY_THROW(snapshot.send().wait(io.waitScope));
  }
  EXPECT_EQ(b->inbox.from("x"), std::vector<uint64_t>{42});
  TransportStats stats = b->transport->stats();
  EXPECT_EQ(stats.dropped_malformed, 4u);
  EXPECT_EQ(stats.messages_received, 1u);
  EXPECT_EQ(stats.snapshots_receive_refused, 1u);
}

TEST(TransportTest, OptionsAndHandlersAreChecked) {
  Transport::Handlers handlers;
  handlers.address_of = [](const NodeId&) { return std::nullopt; };
  handlers.batch = [](const NodeId&, std::vector<GroupMessage>) {};
  handlers.snapshot = [](const NodeId&, GroupMessage) -> Result<std::unique_ptr<SnapshotSink>> {
    return Status::not_supported("no");
  };
  TransportOptions zero_window;
  zero_window.batches_in_flight_max = 0;
  Result<std::unique_ptr<Transport>> bad = Transport::start("a", zero_window, handlers);
  ASSERT_FALSE(bad.is_ok());
  EXPECT_NE(bad.status().message().find("batches_in_flight_max"), std::string::npos);
  Transport::Handlers missing = handlers;
  missing.batch = nullptr;
  EXPECT_FALSE(Transport::start("a", TransportOptions(), missing).is_ok());
  // Sending to a node with no address drops and counts, and stopping is prompt.
  Result<std::unique_ptr<Transport>> t = Transport::start("a", TransportOptions(), handlers);
  ASSERT_TRUE(t.is_ok());
  (*t)->send("nowhere", {heartbeat(1, 1), heartbeat(1, 2)});
  EXPECT_TRUE(eventually([&]() { return (*t)->stats().dropped_unreachable == 2; }));
}

}  // namespace
}  // namespace tessera::raft::transport
