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
#include "transport/raft_peer.capnp.h"

namespace tessera::raft::transport {
namespace {

using Clock = std::chrono::steady_clock;
using testing::TestNode;

// Polls `done` every few ms until it holds or `timeout` passes.
template <typename F>
bool eventually(F done, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return done();
}

GroupMessage heartbeat(uint64_t group, uint64_t seq) {
  GroupMessage m;
  m.group = group;
  m.message.type = MessageType::kHeartbeat;
  m.message.from = 1;
  m.message.to = 2;
  m.message.term = 5;
  m.message.context = seq;
  return m;
}

GroupMessage snapshot_message(uint64_t group, Index index) {
  GroupMessage m;
  m.group = group;
  m.message.type = MessageType::kSnapshot;
  m.message.from = 1;
  m.message.to = 2;
  m.message.term = 9;
  m.message.snapshot.index = index;
  m.message.snapshot.term = 8;
  m.message.snapshot.conf.voters = {1, 2, 3};
  return m;
}

// What a node received: the contexts of the messages from each sender, in arrival order.
class Inbox {
 public:
  Transport::BatchHandler handler() {
    return [this](const NodeId& from, std::vector<GroupMessage> batch) {
      std::lock_guard lock(mu_);
      for (const GroupMessage& m : batch) contexts_[from].push_back(m.message.context);
    };
  }
  std::vector<uint64_t> from(const NodeId& node) {
    std::lock_guard lock(mu_);
    return contexts_[node];
  }
  size_t count(const NodeId& node) {
    std::lock_guard lock(mu_);
    return contexts_[node].size();
  }

 private:
  std::mutex mu_;
  std::map<NodeId, std::vector<uint64_t>> contexts_;
};

// A received image: its size and checksum, and whether it was finished.
struct ReceivedImage {
  std::mutex mu;
  uint64_t bytes = 0;
  uint32_t crc = 0;
  bool finished = false;
  bool aborted = false;
  GroupMessage message;
};

class ChecksumSink final : public SnapshotSink {
 public:
  ChecksumSink(std::shared_ptr<ReceivedImage> image, uint64_t fail_after_bytes)
      : image_(std::move(image)), fail_after_bytes_(fail_after_bytes) {}
  ~ChecksumSink() override {
    std::lock_guard lock(image_->mu);
    if (!image_->finished) image_->aborted = true;
  }
  Status append(ByteView chunk) override {
    std::lock_guard lock(image_->mu);
    if (image_->bytes + chunk.size() > fail_after_bytes_) return Status::io_error("disk full");
    image_->crc = crc32c::extend(image_->crc, chunk.data(), chunk.size());
    image_->bytes += chunk.size();
    return Status::ok();
  }
  Status finish() override {
    std::lock_guard lock(image_->mu);
    image_->finished = true;
    return Status::ok();
  }

 private:
  std::shared_ptr<ReceivedImage> image_;
  const uint64_t fail_after_bytes_;
};

// An image made on the fly: `total` pseudo-random bytes in chunks of `chunk` bytes, or a read
// error after `fail_after` chunks.
class GeneratedImage final : public SnapshotChunks {
 public:
  GeneratedImage(uint64_t total, size_t chunk, uint32_t* crc, size_t fail_after = SIZE_MAX)
      : total_(total), chunk_(chunk), crc_(crc), fail_after_(fail_after) {}
  Result<std::optional<Bytes>> next() override {
    if (chunks_ == fail_after_) return Status::io_error("image read failed");
    if (made_ == total_) return std::optional<Bytes>();
    const size_t n = std::min<uint64_t>(chunk_, total_ - made_);
    Bytes out(n, '\0');
    for (size_t i = 0; i < n; i += 8) {
      state_ ^= state_ << 13;
      state_ ^= state_ >> 7;
      state_ ^= state_ << 17;
      std::memcpy(out.data() + i, &state_, std::min<size_t>(8, n - i));
    }
    made_ += n;
    ++chunks_;
    *crc_ = crc32c::extend(*crc_, out.data(), out.size());
    return std::optional<Bytes>(std::move(out));
  }

 private:
  const uint64_t total_;
  const size_t chunk_;
  uint32_t* crc_;
  const size_t fail_after_;
  uint64_t made_ = 0;
  size_t chunks_ = 0;
  uint64_t state_ = 0x9e3779b97f4a7c15ULL;
};

// The outcome of a send_snapshot, as its done callback reports it.
struct Outcome {
  std::mutex mu;
  std::optional<Status> status;
  Transport::SnapshotDone done() {
    return [this](Status s) {
      std::lock_guard lock(mu);
      status = std::move(s);
    };
  }
  bool has() {
    std::lock_guard lock(mu);
    return status.has_value();
  }
  Status get() {
    std::lock_guard lock(mu);
    return *status;
  }
};

// Where each node listens, for every transport's resolver.
class Directory {
 public:
  void set(const NodeId& node, const std::string& address) {
    std::lock_guard lock(mu_);
    addresses_[node] = address;
  }
  Transport::AddressResolver resolver() {
    return [this](const NodeId& node) -> std::optional<std::string> {
      std::lock_guard lock(mu_);
      auto it = addresses_.find(node);
      if (it == addresses_.end()) return std::nullopt;
      return it->second;
    };
  }

 private:
  std::mutex mu_;
  std::map<NodeId, std::string> addresses_;
};

TransportOptions fast_options() {
  TransportOptions options;
  options.connect_timeout_ms = 300;
  options.call_timeout_ms = 300;
  options.backoff_ms_min = 20;
  options.backoff_ms_max = 100;
  options.snapshot_call_timeout_ms = 2000;
  return options;
}

// A node: its transport, served by a test node. The node stops (dropping every capability it
// handed out) before the transport goes.
struct Member {
  NodeId id;
  Inbox inbox;
  std::shared_ptr<ReceivedImage> image = std::make_shared<ReceivedImage>();
  uint64_t sink_fails_after_bytes = UINT64_MAX;
  std::optional<Status> refuse_snapshots;
  std::unique_ptr<Transport> transport;
  std::unique_ptr<TestNode> node;

  ~Member() {
    node.reset();
    transport.reset();
  }
};

std::unique_ptr<Member> make_member(const NodeId& id, Directory& directory,
                                    TransportOptions options = fast_options(),
                                    uint64_t message_words_max = 0) {
  auto m = std::make_unique<Member>();
  m->id = id;
  Member* p = m.get();
  Transport::Handlers handlers;
  handlers.address_of = directory.resolver();
  handlers.batch = m->inbox.handler();
  handlers.snapshot = [p](const NodeId& from,
                          GroupMessage message) -> Result<std::unique_ptr<SnapshotSink>> {
    if (p->refuse_snapshots.has_value()) return *p->refuse_snapshots;
    {
      std::lock_guard lock(p->image->mu);
      p->image->message = std::move(message);
    }
    return std::unique_ptr<SnapshotSink>(new ChecksumSink(p->image, p->sink_fails_after_bytes));
  };
  Result<std::unique_ptr<Transport>> transport = Transport::start(id, options, std::move(handlers));
  EXPECT_TRUE(transport.is_ok()) << transport.status().to_string();
  m->transport = std::move(*transport);
  m->node = std::make_unique<TestNode>(id, m->transport->peer_service(), message_words_max);
  directory.set(id, m->node->address());
  return m;
}

void expect_in_order(const std::vector<uint64_t>& got, uint64_t count) {
  ASSERT_EQ(got.size(), count);
  for (uint64_t i = 0; i < count; ++i) {
    ASSERT_EQ(got[i], i) << "message " << i << " out of order";
  }
}

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
    auto peer = node.peerRequest();
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
