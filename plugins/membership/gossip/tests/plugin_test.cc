// The gossip plugin through its file: config errors, join errors, and listeners, with one or
// two instances on loopback (each test well under a second).
#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>

#include "plugin_support.h"

namespace tessera::gossip::testing {
namespace {

using namespace std::chrono_literals;

constexpr const char* kFast = "tick_ms = 10\n";

TEST(GossipPlugin, ABadSeedIsInvalidArgumentNamingSeeds) {
  auto made = make_gossip("seeds = [\"127.0.0.1:7000\", \"not-an-address\"]\n");
  ASSERT_FALSE(made.is_ok());
  EXPECT_EQ(made.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(made.status().message().find("seeds"), std::string::npos) << made.status().message();
  EXPECT_NE(made.status().message().find("not-an-address"), std::string::npos);

  for (const char* toml : {"seeds = \"127.0.0.1:7000\"\n", "seeds = [\"127.0.0.1:0\"]\n",
                           "seeds = [\"127.0.0.1:99999\"]\n", "seeds = [7000]\n"}) {
    auto bad = make_gossip(toml);
    ASSERT_FALSE(bad.is_ok()) << toml;
    EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument) << toml;
    EXPECT_NE(bad.status().message().find("seeds"), std::string::npos)
        << bad.status().message();
  }
}

TEST(GossipPlugin, BadValuesNameTheirKeys) {
  for (const char* key : {"tick_ms", "probe_interval_ticks", "suspicion_ticks"}) {
    for (const char* value : {"0", "\"fast\"", "1000000"}) {
      auto made = make_gossip(std::string(key) + " = " + value + "\n");
      ASSERT_FALSE(made.is_ok()) << key << " = " << value;
      EXPECT_EQ(made.status().code(), StatusCode::kInvalidArgument);
      EXPECT_NE(made.status().message().find(key), std::string::npos)
          << made.status().message();
    }
  }
  auto unknown = make_gossip("gossip_port = 7001\n");
  ASSERT_FALSE(unknown.is_ok());
  EXPECT_NE(unknown.status().message().find("gossip_port"), std::string::npos);
}

TEST(GossipPlugin, DefaultsLoadAndNothingRunsBeforeJoin) {
  auto made = make_gossip("");
  ASSERT_TRUE(made.is_ok()) << made.status().to_string();
  EXPECT_TRUE((*made)->members().empty());
  EXPECT_EQ((*made)->replication_groups(), nullptr);
  EXPECT_TRUE((*made)->leave().is_ok());  // nothing to leave: not an error
}

TEST(GossipPlugin, JoinOnAPortInUseNamesTheAddress) {
  boost::asio::io_context io;
  boost::asio::ip::udp::socket taken(
      io, boost::asio::ip::udp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
  const std::string address = loopback(taken.local_endpoint().port());
  auto made = make_gossip(kFast);
  ASSERT_TRUE(made.is_ok());
  const Status status = (*made)->join({"n1", address, "", NodeState::kAlive});
  ASSERT_FALSE(status.is_ok());
  EXPECT_EQ(status.code(), StatusCode::kBusy) << status.to_string();
  EXPECT_NE(status.message().find(address), std::string::npos) << status.to_string();
  EXPECT_TRUE((*made)->members().empty());
  // Once the port is free, the same object joins.
  taken.close();
  EXPECT_TRUE((*made)->join({"n1", address, "", NodeState::kAlive}).is_ok());
}

TEST(GossipPlugin, ABadNodeAddressOrIdIsInvalidArgument) {
  auto made = make_gossip(kFast);
  ASSERT_TRUE(made.is_ok());
  for (const char* address : {"nonsense", "127.0.0.1:0", "127.0.0.1:70000", ""}) {
    const Status status = (*made)->join({"n1", address, "", NodeState::kAlive});
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << address;
    EXPECT_NE(status.message().find("'" + std::string(address) + "'"), std::string::npos)
        << status.to_string();
  }
  const std::string address = loopback(free_udp_ports(1)[0]);
  EXPECT_EQ((*made)->join({"", address, "", NodeState::kAlive}).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ((*made)->join({std::string(49, 'x'), address, "", NodeState::kAlive}).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ((*made)->join({"n1", address, std::string(17, 'z'), NodeState::kAlive}).code(),
            StatusCode::kInvalidArgument);
}

TEST(GossipPlugin, JoinTwiceIsNotAnErrorJoiningAsAnotherNodeIs) {
  auto made = make_gossip(kFast);
  ASSERT_TRUE(made.is_ok());
  const std::vector<uint16_t> ports = free_udp_ports(2);
  const NodeInfo self{"n1", loopback(ports[0]), "z1", NodeState::kAlive};
  ASSERT_TRUE((*made)->join(self).is_ok());
  EXPECT_TRUE((*made)->join(self).is_ok());
  EXPECT_EQ((*made)->join({"n2", loopback(ports[1]), "", NodeState::kAlive}).code(),
            StatusCode::kInvalidArgument);
  const std::vector<NodeInfo> view = (*made)->members();
  ASSERT_EQ(view.size(), 1u);  // a first node: a cluster of one
  EXPECT_EQ(view[0].id, "n1");
  EXPECT_EQ(view[0].address, self.address);
  EXPECT_EQ(view[0].zone, "z1");
  EXPECT_EQ(view[0].state, NodeState::kAlive);
  ASSERT_TRUE((*made)->leave().is_ok());
  EXPECT_TRUE(has_state(**made, "n1", NodeState::kLeft));
  // A new life after leave(), on the same port.
  ASSERT_TRUE((*made)->join(self).is_ok());
  EXPECT_TRUE(has_state(**made, "n1", NodeState::kAlive));
}

// Records every view a listener is called with.
struct Recorder {
  std::mutex mutex;
  std::vector<std::vector<NodeInfo>> views;

  Membership::Listener listener() {
    return [this](const std::vector<NodeInfo>& view) {
      std::lock_guard lock(mutex);
      views.push_back(view);
    };
  }
  bool saw(const NodeId& id, NodeState state) {
    std::lock_guard lock(mutex);
    for (const auto& view : views) {
      std::optional<NodeInfo> n = find(view, id);
      if (n && n->state == state) return true;
    }
    return false;
  }
};

TEST(GossipPlugin, ListenersAreCalledOnChanges) {
  Recorder recorder;  // declared first: outlives the instances that call it
  Recorder second;
  const std::vector<uint16_t> ports = free_udp_ports(2);
  auto a = make_gossip(kFast, "a");
  auto b = make_gossip(std::string(kFast) + "seeds = [\"" + loopback(ports[0]) + "\"]\n", "b");
  ASSERT_TRUE(a.is_ok() && b.is_ok());
  (*a)->subscribe(recorder.listener());
  // A listener that throws is the host's bug; it must not stop the others.
  (*a)->subscribe([](const std::vector<NodeInfo>&) { throw std::runtime_error("listener"); });
  (*a)->subscribe(second.listener());
  ASSERT_TRUE((*a)->join({"a", loopback(ports[0]), "", NodeState::kAlive}).is_ok());
  ASSERT_TRUE((*b)->join({"b", loopback(ports[1]), "", NodeState::kAlive}).is_ok());
  EXPECT_TRUE(eventually([&] { return recorder.saw("b", NodeState::kAlive); }, 10s));
  EXPECT_TRUE(eventually([&] { return second.saw("b", NodeState::kAlive); }, 10s));
  {
    std::lock_guard lock(recorder.mutex);
    ASSERT_FALSE(recorder.views.empty());
    // The first call is the join itself: a view of one, this node first.
    ASSERT_EQ(recorder.views.front().size(), 1u);
    EXPECT_EQ(recorder.views.front()[0].id, "a");
    for (const auto& view : recorder.views) EXPECT_EQ(view[0].id, "a");
  }
  ASSERT_TRUE((*b)->leave().is_ok());
  EXPECT_TRUE(eventually([&] { return recorder.saw("b", NodeState::kLeft); }, 10s));
}

TEST(GossipPlugin, ABlockedListenerDoesNotHoldUpGossip) {
  // Declared first: they outlive the instances whose listener uses them.
  std::mutex mutex;
  std::condition_variable cv;
  bool release = false;
  std::atomic<int> calls{0};
  auto unblock = [&] {
    {
      std::lock_guard lock(mutex);
      release = true;
    }
    cv.notify_all();
  };
  const std::vector<uint16_t> ports = free_udp_ports(2);
  auto a = make_gossip(kFast, "a");
  auto b = make_gossip(std::string(kFast) + "seeds = [\"" + loopback(ports[0]) + "\"]\n", "b");
  ASSERT_TRUE(a.is_ok() && b.is_ok());
  // Unblocks the listener on every way out of the test, before the instances go.
  std::unique_ptr<void, std::function<void(void*)>> guard(&release, [&](void*) { unblock(); });
  (*a)->subscribe([&](const std::vector<NodeInfo>&) {
    ++calls;
    std::unique_lock lock(mutex);
    cv.wait(lock, [&] { return release; });
  });
  ASSERT_TRUE((*a)->join({"a", loopback(ports[0]), "", NodeState::kAlive}).is_ok());
  ASSERT_TRUE((*b)->join({"b", loopback(ports[1]), "", NodeState::kAlive}).is_ok());
  // The listener is stuck in its first call, yet the view moves on and b is never suspected.
  EXPECT_TRUE(eventually([&] { return has_state(**a, "b", NodeState::kAlive); }, 10s));
  EXPECT_TRUE(eventually([&] { return has_state(**b, "a", NodeState::kAlive); }, 10s));
  std::this_thread::sleep_for(300ms);  // 30 ticks: a few probe periods with the listener stuck
  EXPECT_TRUE(has_state(**a, "b", NodeState::kAlive));
  EXPECT_TRUE(has_state(**b, "a", NodeState::kAlive));
  EXPECT_EQ(calls.load(), 1);
  unblock();
  EXPECT_TRUE(eventually([&] { return calls.load() >= 2; }, 10s));
}

}  // namespace
}  // namespace tessera::gossip::testing
