// Three gossip plugin instances in one process on loopback, through the plugin file: they
// converge, detect a crashed node within the README's bound D, and see a graceful leave.
#include <cstdio>

#include "plugin_support.h"

namespace tessera::gossip::testing {
namespace {

using namespace std::chrono;
using namespace std::chrono_literals;

constexpr uint32_t kTickMs = 20;
constexpr uint32_t kProbeIntervalTicks = 5;
constexpr uint32_t kSuspicionTicks = 10;
constexpr uint32_t kNodes = 3;
// README, "Guarantees": D = (2(n - 1) + 1) * probe_interval + suspicion + 1 ticks.
constexpr uint32_t kDetectionTicks = (2 * (kNodes - 1) + 1) * kProbeIntervalTicks +
                                     kSuspicionTicks + 1;
// Slack for a loaded machine: ticks of a busy process come late, never early.
constexpr milliseconds kSlack = 3000ms;
constexpr milliseconds kDetectionBound = milliseconds(kDetectionTicks * kTickMs) + kSlack;
constexpr milliseconds kConvergenceBound = 10s;

std::string config(const std::string& seed) {
  std::string toml = "tick_ms = " + std::to_string(kTickMs) + "\n" +
                     "probe_interval_ticks = " + std::to_string(kProbeIntervalTicks) + "\n" +
                     "suspicion_ticks = " + std::to_string(kSuspicionTicks) + "\n";
  if (!seed.empty()) toml += "seeds = [\"" + seed + "\"]\n";
  return toml;
}

bool all_alive(const Membership& m, const std::vector<NodeInfo>& expected) {
  const std::vector<NodeInfo> view = m.members();
  if (view.size() != expected.size()) return false;
  for (const NodeInfo& e : expected) {
    const std::optional<NodeInfo> n = find(view, e.id);
    if (!n || n->state != NodeState::kAlive || n->address != e.address) return false;
  }
  return true;
}

long elapsed_ms(steady_clock::time_point since) {
  return static_cast<long>(duration_cast<milliseconds>(steady_clock::now() - since).count());
}

TEST(GossipCluster, ThreeNodesConvergeDetectACrashAndSeeALeave) {
  const std::vector<uint16_t> ports = free_udp_ports(kNodes);
  std::vector<NodeInfo> nodes;
  std::vector<PluginPtr<Membership>> members;
  for (uint32_t i = 0; i < kNodes; ++i) {
    nodes.push_back({"n" + std::to_string(i + 1), loopback(ports[i]), "", NodeState::kAlive});
    auto made = make_gossip(config(i == 0 ? "" : nodes[0].address), nodes[i].id);
    ASSERT_TRUE(made.is_ok()) << made.status().to_string();
    members.push_back(std::move(made).value());
  }
  const auto start = steady_clock::now();
  for (uint32_t i = 0; i < kNodes; ++i) {
    ASSERT_TRUE(members[i]->join(nodes[i]).is_ok()) << nodes[i].address;
  }
  ASSERT_TRUE(eventually(
      [&] {
        for (const auto& m : members) {
          if (!all_alive(*m, nodes)) return false;
        }
        return true;
      },
      kConvergenceBound))
      << "no convergence to 3 alive members within " << kConvergenceBound.count() << " ms";
  std::printf("converged in %ld ms\n", elapsed_ms(start));
  for (uint32_t i = 0; i < kNodes; ++i) {
    EXPECT_EQ(members[i]->members()[0].id, nodes[i].id);  // self first
  }

  // n1, the seed, stops without leave(): the others must hold it dead within D.
  const auto crash = steady_clock::now();
  members[0].reset();
  ASSERT_TRUE(eventually(
      [&] {
        return has_state(*members[1], "n1", NodeState::kDead) &&
               has_state(*members[2], "n1", NodeState::kDead);
      },
      kDetectionBound))
      << "n1 not dead in both views within " << kDetectionBound.count() << " ms (D = "
      << kDetectionTicks << " ticks)";
  std::printf("crash detected in %ld ms (D = %u ticks = %u ms, bound with slack %ld ms)\n",
              elapsed_ms(crash), kDetectionTicks, kDetectionTicks * kTickMs,
              static_cast<long>(kDetectionBound.count()));
  EXPECT_TRUE(has_state(*members[1], "n3", NodeState::kAlive));
  EXPECT_TRUE(has_state(*members[2], "n2", NodeState::kAlive));

  // n3 leaves gracefully: n2 sees it left, and leave() returned after the linger.
  const auto leave = steady_clock::now();
  ASSERT_TRUE(members[2]->leave().is_ok());
  std::printf("leave() returned in %ld ms\n", elapsed_ms(leave));
  EXPECT_TRUE(has_state(*members[2], "n3", NodeState::kLeft));
  ASSERT_TRUE(eventually([&] { return has_state(*members[1], "n3", NodeState::kLeft); },
                         kConvergenceBound));
  std::printf("leave seen in %ld ms\n", elapsed_ms(leave));
  // A left node stays left: it is not declared dead later.
  std::this_thread::sleep_for(milliseconds(kDetectionTicks * kTickMs));
  EXPECT_TRUE(has_state(*members[1], "n3", NodeState::kLeft));
  EXPECT_TRUE(has_state(*members[1], "n1", NodeState::kDead));
}

// Datagrams are tagged with the cluster secret: a member holding another secret (or none) is
// not heard, so it can neither join nor make anyone look dead or left; members that share the
// secret converge as before.
TEST(GossipCluster, AMemberWithAnotherSecretIsNotHeard) {
  const std::vector<uint16_t> ports = free_udp_ports(kNodes);
  auto ours = ClusterSecret::from_bytes(std::string(32, 'o'));
  auto theirs = ClusterSecret::from_bytes(std::string(32, 't'));
  ASSERT_TRUE(ours.is_ok() && theirs.is_ok());
  std::vector<NodeInfo> nodes;
  std::vector<PluginPtr<Membership>> members;
  for (uint32_t i = 0; i < kNodes; ++i) {
    nodes.push_back({"n" + std::to_string(i + 1), loopback(ports[i]), "", NodeState::kAlive});
    const ClusterSecret* secret = i == 2 ? &*theirs : &*ours;
    auto made = make_gossip(config(i == 0 ? "" : nodes[0].address), nodes[i].id, secret);
    ASSERT_TRUE(made.is_ok()) << made.status().to_string();
    members.push_back(std::move(made).value());
  }
  for (uint32_t i = 0; i < kNodes; ++i) ASSERT_TRUE(members[i]->join(nodes[i]).is_ok());
  const std::vector<NodeInfo> pair = {nodes[0], nodes[1]};
  ASSERT_TRUE(eventually([&] { return all_alive(*members[0], pair) && all_alive(*members[1], pair); },
                         kConvergenceBound));
  // Well past convergence: n3 was never heard, and heard nobody.
  std::this_thread::sleep_for(milliseconds(kDetectionTicks * kTickMs));
  EXPECT_FALSE(find(members[0]->members(), "n3").has_value());
  EXPECT_FALSE(find(members[1]->members(), "n3").has_value());
  EXPECT_FALSE(has_state(*members[2], "n1", NodeState::kAlive));
  // n3 leaving makes no difference to the others.
  ASSERT_TRUE(members[2]->leave().is_ok());
  EXPECT_TRUE(has_state(*members[0], "n2", NodeState::kAlive));
  EXPECT_TRUE(has_state(*members[1], "n1", NodeState::kAlive));
}

}  // namespace
}  // namespace tessera::gossip::testing
