// What the transport tests share: nodes with a transport served by a test node, a directory
// of their addresses, inboxes, generated snapshot images and sinks that checksum them.
// Header-only, for the tests in this folder.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "tessera/crc32c.h"
#include "test_node.h"
#include "transport/transport.h"

namespace tessera::raft::transport::testing {

using Clock = std::chrono::steady_clock;

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

inline GroupMessage heartbeat(uint64_t group, uint64_t seq) {
  GroupMessage m;
  m.group = group;
  m.message.type = MessageType::kHeartbeat;
  m.message.from = 1;
  m.message.to = 2;
  m.message.term = 5;
  m.message.context = seq;
  return m;
}

inline GroupMessage snapshot_message(uint64_t group, Index index) {
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

inline TransportOptions fast_options() {
  TransportOptions options;
  options.dialer = &test_peer_dialer();
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

inline std::unique_ptr<Member> make_member(const NodeId& id, Directory& directory,
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

inline void expect_in_order(const std::vector<uint64_t>& got, uint64_t count) {
  ASSERT_EQ(got.size(), count);
  for (uint64_t i = 0; i < count; ++i) {
    ASSERT_EQ(got[i], i) << "message " << i << " out of order";
  }
}

}  // namespace tessera::raft::transport::testing
