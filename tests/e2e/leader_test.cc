// The CP ("leader") profile end to end: three tessera-node processes on loopback with the range
// placement, Raft groups (one per range, one for the metadata) and last-write-wins, driven
// through the client API, the CLI and tessera-bench. Leaders are found from the nodes' stdout
// (`tessera-node <id>: <group> leader <id> term <t>`) and SIGKILLed, SIGSTOPped or SIGTERMed:
// no acknowledged write may be lost, a minority must never answer OK, and histories recorded
// across a failover must be linearizable key by key.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "e2e_env.h"
#include "history_recording.h"

namespace tessera::e2e {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

const std::filesystem::path kBenchBinary = TESSERA_BENCH_BINARY;

// Short ticks: an election after 300-600 ms without a leader, so that failovers are quick;
// heartbeats every 30 ms keep the two shared cores of a test machine from starving them.
const std::string kLeaderConfig = leader_cluster_config("lsm");

constexpr size_t kNodes = 3;
constexpr auto kSettle = 20s;                 // bound on every wait for the cluster to agree
constexpr uint32_t kRequestTimeoutMs = 2000;  // each request's deadline
// How much later than its deadline a request that cannot succeed may answer: the node's own
// timer resolution and the RPC round trip on a loaded machine.
constexpr auto kDeadlineSlack = 1500ms;
constexpr const char* kMetaGroup = "meta";

RequestOptions with(Consistency consistency = Consistency::kDefault) {
  RequestOptions options;
  options.consistency = consistency;
  options.timeout_ms = kRequestTimeoutMs;
  return options;
}

// Retries `pred` every 50 ms until it holds, at most `timeout`.
template <typename Pred>
bool eventually(std::chrono::milliseconds timeout, Pred pred) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(50ms);
  }
  return pred();
}

// ---- Leaders, as the nodes print them ----

struct Leadership {
  std::string leader;  // a node id, or "(none)"
  uint64_t term = 0;
};

// The last leadership line of each group in `out`:
// `tessera-node <id>: <group> leader <node-id or (none)> term <t>`.
std::map<std::string, Leadership> leaderships_in(const std::string& out, const std::string& id) {
  std::map<std::string, Leadership> last;
  const std::string prefix = "tessera-node " + id + ": ";
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind(prefix, 0) != 0) continue;
    std::istringstream words(line.substr(prefix.size()));
    std::string group, leader_word, leader, term_word;
    uint64_t term = 0;
    if (words >> group >> leader_word >> leader >> term_word >> term && leader_word == "leader" &&
        term_word == "term") {
      last[group] = {leader, term};
    }
  }
  return last;
}

std::map<std::string, Leadership> leaderships_seen_by(const test::TestCluster& cluster,
                                                      size_t node) {
  return leaderships_in(test::read_file(cluster.node_dir(node) / "stdout.log"),
                        cluster.node_id(node));
}

// The node every running node names as `group`'s leader, in the same term, when that node runs
// too; nullopt while they disagree or an election is under way.
std::optional<size_t> agreed_leader(test::TestCluster& cluster, const std::string& group) {
  std::optional<Leadership> agreed;
  for (size_t i = 0; i < cluster.size(); ++i) {
    if (!cluster.running(i)) continue;
    const std::map<std::string, Leadership> seen = leaderships_seen_by(cluster, i);
    auto it = seen.find(group);
    if (it == seen.end()) return std::nullopt;
    if (agreed && (agreed->leader != it->second.leader || agreed->term != it->second.term)) {
      return std::nullopt;
    }
    agreed = it->second;
  }
  if (!agreed) return std::nullopt;
  for (size_t i = 0; i < cluster.size(); ++i) {
    if (cluster.node_id(i) == agreed->leader && cluster.running(i)) return i;
  }
  return std::nullopt;
}

// Every group but the metadata's that any node has printed a leader line for.
std::set<std::string> data_groups(const test::TestCluster& cluster) {
  std::set<std::string> groups;
  for (size_t i = 0; i < cluster.size(); ++i) {
    for (const auto& [group, leadership] : leaderships_seen_by(cluster, i)) {
      if (group != kMetaGroup) groups.insert(group);
    }
  }
  return groups;
}

// Every node's leadership lines, for a failure message.
std::string describe_leaders(const test::TestCluster& cluster) {
  std::string out;
  for (size_t i = 0; i < cluster.size(); ++i) {
    out += cluster.node_id(i) + " sees:";
    for (const auto& [group, l] : leaderships_seen_by(cluster, i)) {
      out += " " + group + "=" + l.leader + "@" + std::to_string(l.term);
    }
    out += "\n";
  }
  return out;
}

// ---- The fixture: three nodes, a client on each, table "t" ----

class LeaderCluster : public ::testing::Test {
 protected:
  void SetUp() override {
    cluster_ = std::make_unique<test::TestCluster>(cluster_options(kLeaderConfig));
    // Every address must be known before the first config (its peer list) is written.
    for (size_t i = 0; i < kNodes; ++i) cluster_->add_node();
    for (size_t i = 0; i < kNodes; ++i) {
      Status started = cluster_->start_node(i);
      ASSERT_TRUE(started.is_ok()) << started.to_string();
    }
    for (size_t i = 0; i < kNodes; ++i) {
      clients_[i] = connect_client(cluster_->address(i));
      ASSERT_NE(clients_[i], nullptr);
    }
  }

  Client& client(size_t i) { return *clients_[i]; }

  // Reconnects the test's client of node `i` (after that node restarted).
  void reconnect(size_t i) {
    clients_[i].reset();
    clients_[i] = connect_client(cluster_->address(i));
  }

  // Creates `table` through node `via`, retried while the metadata group elects its first
  // leader; a retry may find the table made by an attempt that timed out.
  bool create_table(const std::string& table, size_t via) {
    Status last;
    const bool created = eventually(kSettle, [&] {
      last = client(via).create_table(table, with());
      return last.is_ok() || last.code() == StatusCode::kTableExists;
    });
    EXPECT_TRUE(created) << "create-table " << table << " through " << cluster_->node_id(via)
                         << ": " << last.to_string() << "\n"
                         << describe_leaders(*cluster_);
    return created;
  }

  // Waits until `table` takes writes through node `via` (its range group has a leader).
  bool writable(const std::string& table, size_t via) {
    Status last;
    const bool ok = eventually(kSettle, [&] {
      last = client(via).put(table, "probe", "p", with()).status();
      return last.is_ok();
    });
    EXPECT_TRUE(ok) << "no write to " << table << " succeeded: " << last.to_string() << "\n"
                    << describe_leaders(*cluster_);
    return ok;
  }

  // Table "t", writable, and the leader of its one range group agreed on by every node.
  std::optional<size_t> make_table_and_find_its_leader() {
    if (!create_table("t", 0) || !writable("t", 0)) return std::nullopt;
    std::string group;
    std::optional<size_t> leader;
    const bool found = eventually(kSettle, [&] {
      const std::set<std::string> groups = data_groups(*cluster_);
      if (groups.size() != 1) return false;
      group = *groups.begin();
      leader = agreed_leader(*cluster_, group);
      return leader.has_value();
    });
    EXPECT_TRUE(found) << "no agreed leader of table t's one range group\n"
                       << describe_leaders(*cluster_);
    range_group_ = group;
    return found ? leader : std::nullopt;
  }

  // The value node `via` reads for `key` (linearizable unless asked otherwise); nullopt for a
  // missing key, an error or more than one value.
  std::optional<Bytes> value_at(size_t via, const std::string& table, const std::string& key,
                                Consistency consistency = Consistency::kDefault) {
    Result<GetReply> got = client(via).get(table, key, with(consistency));
    if (!got.is_ok() || !got->found || got->values.size() != 1) return std::nullopt;
    return got->values[0].data;
  }

  // SIGSTOPs every node but `lone`, then expects a put and linearizable gets through `lone` to
  // answer Timeout or Unavailable within their deadline, never OK; SIGCONTs them and expects
  // service again. REQUIRES: table t holds key "k".
  void expect_a_minority_refuses(size_t lone);

  std::unique_ptr<test::TestCluster> cluster_;
  std::unique_ptr<Client> clients_[kNodes];  // after cluster_: closed before the nodes stop
  std::string range_group_;                  // table t's group, once found
};

// The keys of [start, end) of `table` as node `via` pages them, `page_keys` at a time; the
// number of pages in `pages`.
std::vector<std::string> scan_all(Client& client, const std::string& table,
                                  const std::string& start, const std::string& end,
                                  uint32_t page_keys, int* pages) {
  std::vector<std::string> keys;
  Bytes token;
  *pages = 0;
  for (int page_count = 0; page_count < 1000; ++page_count) {
    Result<ScanPage> page = client.scan(table, start, end, page_keys, token, with());
    EXPECT_TRUE(page.is_ok()) << page.status().to_string();
    if (!page.is_ok()) break;
    ++*pages;
    for (const ScanItem& item : page->items) keys.push_back(item.key);
    token = page->next_page_token;
    if (token.empty()) break;
  }
  return keys;
}

std::string key_of(const char* prefix, int i) {
  char key[32];
  std::snprintf(key, sizeof key, "%s%03d", prefix, i);
  return key;
}

TEST_F(LeaderCluster, WritesOnAnyNodeAreReadOnEveryNode) {
  ASSERT_TRUE(create_table("t", 0));
  ASSERT_TRUE(writable("t", 1));
  // Every node knows the table, whichever took the create.
  for (size_t i = 0; i < kNodes; ++i) {
    Result<std::vector<std::string>> tables = client(i).list_tables(with());
    ASSERT_TRUE(tables.is_ok()) << tables.status().to_string();
    EXPECT_NE(std::find(tables->begin(), tables->end(), "t"), tables->end()) << "node " << i;
  }
  EXPECT_EQ(client(2).create_table("t", with()).code(), StatusCode::kTableExists);

  constexpr int kKeys = 30;
  for (int i = 0; i < kKeys; ++i) {
    Result<Bytes> put =
        client(i % kNodes).put("t", key_of("k", i), "v" + std::to_string(i), with());
    ASSERT_TRUE(put.is_ok()) << key_of("k", i) << ": " << put.status().to_string();
  }
  // Linearizable reads through every node, followers included, see every acknowledged write.
  for (size_t node = 0; node < kNodes; ++node) {
    for (int i = 0; i < kKeys; ++i) {
      EXPECT_EQ(value_at(node, "t", key_of("k", i)), "v" + std::to_string(i))
          << key_of("k", i) << " through " << cluster_->node_id(node);
    }
  }
  // A stale read answers from the node's own replica: it catches up within a bound.
  for (size_t node = 0; node < kNodes; ++node) {
    EXPECT_TRUE(eventually(kSettle,
                           [&] {
                             return value_at(node, "t", key_of("k", kKeys - 1),
                                             Consistency::kStale) ==
                                    "v" + std::to_string(kKeys - 1);
                           }))
        << "stale read through " << cluster_->node_id(node);
  }

  // Pages of 7 keys: every node pages the same keys in order, the token continuing each page.
  std::vector<std::string> expected;
  for (int i = 0; i < kKeys; ++i) expected.push_back(key_of("k", i));
  for (size_t node = 0; node < kNodes; ++node) {
    int pages = 0;
    EXPECT_EQ(scan_all(client(node), "t", "k", "l", 7, &pages), expected)
        << "scan through " << cluster_->node_id(node);
    EXPECT_GE(pages, (kKeys + 6) / 7) << "a page held more than its limit";
  }

  // A batch within the table's one range applies all of it.
  const std::vector<BatchOperation> batch = {
      {"b1", Bytes("x")}, {"b2", Bytes("y")}, {key_of("k", 0), std::nullopt}};
  Status wrote = client(1).write("t", batch, with());
  ASSERT_TRUE(wrote.is_ok()) << wrote.to_string();
  for (size_t node = 0; node < kNodes; ++node) {
    EXPECT_EQ(value_at(node, "t", "b1"), "x") << cluster_->node_id(node);
    EXPECT_EQ(value_at(node, "t", "b2"), "y") << cluster_->node_id(node);
    Result<GetReply> gone = client(node).get("t", key_of("k", 0), with());
    ASSERT_TRUE(gone.is_ok()) << gone.status().to_string();
    EXPECT_FALSE(gone->found) << "the batch's delete, through " << cluster_->node_id(node);
  }

  // A remove through one node is seen through the others, and by a scan.
  ASSERT_TRUE(client(2).remove("t", key_of("k", 1), with()).is_ok());
  for (size_t node = 0; node < kNodes; ++node) {
    Result<GetReply> gone = client(node).get("t", key_of("k", 1), with());
    ASSERT_TRUE(gone.is_ok()) << gone.status().to_string();
    EXPECT_FALSE(gone->found) << cluster_->node_id(node);
  }
  int pages = 0;
  expected.erase(expected.begin(), expected.begin() + 2);
  EXPECT_EQ(scan_all(client(0), "t", "k", "l", 0, &pages), expected);

  // A table that does not exist is named as such through any node.
  EXPECT_EQ(client(1).put("nope", "k", "v", with()).status().code(), StatusCode::kNoSuchTable);

  // The CLI talks to a follower as to any node.
  Result<test::CommandResult> cli = test::run_command(
      {kCliBinary.string(), "--addr", cluster_->address(2), "get", "t", key_of("k", 5)}, "", 20s);
  ASSERT_TRUE(cli.is_ok()) << cli.status().to_string();
  EXPECT_TRUE(cli->status.success()) << cli->status.to_string() << "\n" << cli->err;
  EXPECT_NE(cli->out.find("v5"), std::string::npos) << cli->out;
}

// A table pre-split into three ranges: each range a group of its own, scans that page across
// the ranges in key order, batches atomic within a range and refused across ranges.
TEST_F(LeaderCluster, APreSplitTableScansAcrossRangesAndRefusesBatchesAcrossThem) {
  Status created;
  ASSERT_TRUE(eventually(kSettle, [&] {
    created = client(0).create_table("s", with(), {"g", "p"});
    return created.is_ok() || created.code() == StatusCode::kTableExists;
  })) << created.to_string();
  EXPECT_EQ(client(1).create_table("bad", with(), {"p", "g"}).code(),
            StatusCode::kInvalidArgument);
  const std::vector<std::string> keys = {"a", "f", "g", "h", "o", "p", "q", "z"};
  for (size_t i = 0; i < keys.size(); ++i) {
    Status put;
    ASSERT_TRUE(eventually(kSettle, [&] {
      put = client(i % kNodes).put("s", keys[i], "v" + keys[i], with()).status();
      return put.is_ok();
    })) << keys[i] << ": " << put.to_string();
  }
  EXPECT_EQ(data_groups(*cluster_).size(), 3u) << describe_leaders(*cluster_);
  for (size_t node = 0; node < kNodes; ++node) {
    int pages = 0;
    EXPECT_EQ(scan_all(client(node), "s", "", "", 2, &pages), keys)
        << "scan through " << cluster_->node_id(node);
    EXPECT_GE(pages, 5) << "a page crossed a range";
    EXPECT_EQ(scan_all(client(node), "s", "f", "q", 100, &pages),
              (std::vector<std::string>{"f", "g", "h", "o", "p"}));
  }
  // Within one range: applied whole. Across two: refused, naming the ranges, nothing applied.
  ASSERT_TRUE(client(2).write("s", {{"h", Bytes("1")}, {"i", Bytes("2")}}, with()).is_ok());
  EXPECT_EQ(value_at(0, "s", "i"), "2");
  Status across = client(1).write("s", {{"b", Bytes("3")}, {"r", Bytes("4")}}, with());
  EXPECT_EQ(across.code(), StatusCode::kInvalidArgument) << across.to_string();
  EXPECT_NE(across.message().find("ranges"), std::string::npos) << across.message();
  EXPECT_EQ(value_at(0, "s", "b"), std::nullopt);
  EXPECT_EQ(value_at(0, "s", "r"), std::nullopt);
}

// A node paused while its table is dropped and created again comes back with the old range map:
// its router still routes to the old table's range, whose group the others closed. The first
// put through it must still land in the new table, and no read may see the old table's data.
TEST_F(LeaderCluster, ARouterWithAStaleMapRecovers) {
  ASSERT_TRUE(create_table("t", 0));
  ASSERT_TRUE(writable("t", 2));
  ASSERT_TRUE(client(2).put("t", "old", "1", with()).is_ok());
  ASSERT_TRUE(cluster_->pause_node(2).is_ok());
  // The paused node may lead the metadata group: a drop sent to it has an unknown outcome
  // (Timeout) until another leads; one that committed answers NoSuchTable when tried again.
  Status dropped;
  ASSERT_TRUE(eventually(kSettle, [&] {
    dropped = client(0).drop_table("t", with());
    return dropped.is_ok() || dropped.code() == StatusCode::kNoSuchTable;
  })) << dropped.to_string();
  ASSERT_TRUE(create_table("t", 1));
  ASSERT_TRUE(writable("t", 0));
  ASSERT_TRUE(cluster_->resume_node(2).is_ok());
  // Through the paused node at once: it learns the new map while the request retries.
  Result<Bytes> put = client(2).put("t", "new", "2", with(Consistency::kDefault));
  ASSERT_TRUE(put.is_ok()) << put.status().to_string() << "\n" << describe_leaders(*cluster_);
  for (size_t node = 0; node < kNodes; ++node) {
    EXPECT_EQ(value_at(node, "t", "new"), "2") << cluster_->node_id(node);
    Result<GetReply> old = client(node).get("t", "old", with());
    ASSERT_TRUE(old.is_ok()) << old.status().to_string();
    EXPECT_FALSE(old->found) << "the dropped table's key, through " << cluster_->node_id(node);
  }
}

// `ring` and `members` show the cluster as each node sees it.
TEST_F(LeaderCluster, RingAndMembersShowTheRangesTheirLeadersAndTheNodes) {
  Status created;
  ASSERT_TRUE(eventually(kSettle, [&] {
    created = client(0).create_table("r", with(), {"m"});
    return created.is_ok() || created.code() == StatusCode::kTableExists;
  })) << created.to_string();
  for (const char* key : {"a", "z"}) {
    Status put;
    ASSERT_TRUE(eventually(kSettle, [&] {
      put = client(1).put("r", key, "v", with()).status();
      return put.is_ok();
    })) << put.to_string();
  }
  for (size_t node = 0; node < kNodes; ++node) {
    Result<std::vector<RangeInfo>> ring = Status::unavailable("not asked yet");
    ASSERT_TRUE(eventually(kSettle, [&] {
      ring = client(node).ring(with());
      if (!ring.is_ok() || ring->size() != 2) return false;
      for (const RangeInfo& r : *ring) {
        if (r.leader.empty() || !r.hosted || r.applied_index == 0) return false;
      }
      return true;
    })) << cluster_->node_id(node) << ": "
        << (ring.is_ok() ? std::to_string(ring->size()) + " ranges" : ring.status().to_string());
    EXPECT_EQ((*ring)[0].end, "m");
    EXPECT_EQ((*ring)[1].start, "m");
    EXPECT_EQ((*ring)[0].voters.size(), kNodes);
    Result<std::vector<MemberInfo>> members = client(node).members(with());
    ASSERT_TRUE(members.is_ok()) << members.status().to_string();
    EXPECT_EQ(members->size(), kNodes);
  }
}

// ---- Writers that remember what was acknowledged ----

// Threads that each overwrite their own keys through one node, moving to the next node when
// theirs stops answering. Per key they keep the last acknowledged value and the values of the
// puts after it whose outcome is unknown (a timeout may still commit): a read must return one
// of those.
class Writers {
 public:
  struct KeyState {
    std::string acknowledged;             // empty until a put of the key is acknowledged
    std::set<std::string> unknown_after;  // puts after the last acknowledged one, outcome unknown
  };

  Writers(test::TestCluster& cluster, int threads) : cluster_(cluster) {
    for (int t = 0; t < threads; ++t) threads_.emplace_back([this, t] { run(t); });
  }
  ~Writers() { stop(); }

  void stop() {
    stop_ = true;
    for (std::thread& t : threads_) {
      if (t.joinable()) t.join();
    }
  }

  size_t acked() const { return acked_.load(); }
  Clock::time_point last_ack() const {
    std::lock_guard lock(mu_);
    return last_ack_;
  }
  std::map<std::string, KeyState> keys() const {
    std::lock_guard lock(mu_);
    return keys_;
  }

 private:
  static constexpr int kOpsMax = 100'000;
  static constexpr int kKeysPerThread = 40;

  void run(int t) {
    std::vector<std::unique_ptr<Client>> clients(cluster_.size());
    size_t node = static_cast<size_t>(t) % cluster_.size();
    for (int i = 0; i < kOpsMax && !stop_; ++i) {
      if (clients[node] == nullptr) {
        Result<std::unique_ptr<Client>> c = Client::connect(cluster_.address(node), 500);
        if (!c.is_ok()) {
          node = (node + 1) % cluster_.size();
          std::this_thread::sleep_for(20ms);
          continue;
        }
        clients[node] = std::move(c).value();
      }
      const std::string key = "w" + std::to_string(t) + "-" + std::to_string(i % kKeysPerThread);
      const std::string value = "w" + std::to_string(t) + "-v" + std::to_string(i);
      Result<Bytes> put = clients[node]->put("t", key, value, with());
      {
        std::lock_guard lock(mu_);
        KeyState& state = keys_[key];
        if (put.is_ok()) {
          state.acknowledged = value;
          state.unknown_after.clear();
          last_ack_ = Clock::now();
          ++acked_;
        } else {
          state.unknown_after.insert(value);
        }
      }
      if (put.is_ok()) continue;
      // A node that is gone breaks the connection; any other error is the cluster electing,
      // which the node waits out itself.
      if (put.status().code() == StatusCode::kUnavailable) {
        clients[node].reset();
        node = (node + 1) % cluster_.size();
      }
      std::this_thread::sleep_for(10ms);
    }
  }

  test::TestCluster& cluster_;
  std::vector<std::thread> threads_;
  std::atomic<bool> stop_{false};
  std::atomic<size_t> acked_{0};
  mutable std::mutex mu_;
  std::map<std::string, KeyState> keys_;
  Clock::time_point last_ack_;
};

// The acknowledged keys that node `via` does not read back (linearizably, retried for up to
// 10 s a key while a group elects) with their last acknowledged value or a later unknown one.
std::vector<std::string> wrong_keys(test::TestCluster& cluster, size_t via,
                                    const std::map<std::string, Writers::KeyState>& keys) {
  std::unique_ptr<Client> client;
  std::vector<std::string> wrong;
  for (const auto& [key, state] : keys) {
    if (state.acknowledged.empty()) continue;
    std::optional<Result<GetReply>> got;
    const auto deadline = Clock::now() + 10s;
    while (Clock::now() < deadline && !(got && got->is_ok())) {
      if (client == nullptr) {
        Result<std::unique_ptr<Client>> c = Client::connect(cluster.address(via), 500);
        if (c.is_ok()) client = std::move(c).value();
      }
      if (client != nullptr) {
        got = client->get("t", key, with());
        if (!got->is_ok() && got->status().code() == StatusCode::kUnavailable) client.reset();
      }
      if (!(got && got->is_ok())) std::this_thread::sleep_for(50ms);
    }
    if (!got || !got->is_ok()) {
      wrong.push_back(key + " (no answer: " + (got ? got->status().to_string() : "") + ")");
    } else if (!(*got)->found || (*got)->values.size() != 1) {
      wrong.push_back(key + " (not found, acknowledged " + state.acknowledged + ")");
    } else {
      const std::string& read = (*got)->values[0].data;
      if (read != state.acknowledged && state.unknown_after.count(read) == 0) {
        wrong.push_back(key + " (read " + read + ", acknowledged " + state.acknowledged + ")");
      }
    }
    if (wrong.size() > 20) break;
  }
  return wrong;
}

TEST_F(LeaderCluster, NoAcknowledgedWriteIsLostWhenTheDataLeaderIsKilled) {
  const std::optional<size_t> leader = make_table_and_find_its_leader();
  ASSERT_TRUE(leader.has_value());
  Writers writers(*cluster_, 3);
  ASSERT_TRUE(eventually(kSettle, [&] { return writers.acked() > 200; }))
      << "no progress before the kill: " << writers.acked() << "\n"
      << cluster_->describe_logs();

  cluster_->kill_node(*leader);
  const auto killed_at = Clock::now();
  const size_t before_kill = writers.acked();
  ASSERT_TRUE(eventually(kSettle, [&] { return writers.last_ack() > killed_at; }))
      << "nothing acknowledged after the kill of " << cluster_->node_id(*leader) << "\n"
      << describe_leaders(*cluster_) << cluster_->describe_logs();
  const auto failover = writers.last_ack() - killed_at;
  ASSERT_TRUE(eventually(kSettle, [&] { return writers.acked() > before_kill + 200; }));

  // A new leader was elected among the survivors.
  std::optional<size_t> new_leader;
  EXPECT_TRUE(eventually(kSettle, [&] {
    new_leader = agreed_leader(*cluster_, range_group_);
    return new_leader.has_value();
  })) << describe_leaders(*cluster_);
  if (new_leader) {
    EXPECT_NE(*new_leader, *leader);
  }

  Status restarted = cluster_->start_node(*leader);
  ASSERT_TRUE(restarted.is_ok()) << restarted.to_string();
  const size_t before_restart = writers.acked();
  ASSERT_TRUE(eventually(kSettle, [&] { return writers.acked() > before_restart + 100; }));
  writers.stop();
  const std::map<std::string, Writers::KeyState> keys = writers.keys();

  for (size_t node = 0; node < kNodes; ++node) {
    const std::vector<std::string> wrong = wrong_keys(*cluster_, node, keys);
    EXPECT_TRUE(wrong.empty()) << wrong.size() << " keys wrong through " << cluster_->node_id(node)
                               << ", first " << wrong.front();
  }
  // The restarted node's own replica catches up with every acknowledged key.
  reconnect(*leader);
  ASSERT_NE(clients_[*leader], nullptr);
  std::string behind;
  EXPECT_TRUE(eventually(
      kSettle,
      [&] {
        for (const auto& [key, state] : keys) {
          if (state.acknowledged.empty()) continue;
          std::optional<Bytes> read = value_at(*leader, "t", key, Consistency::kStale);
          if (!read || (*read != state.acknowledged && state.unknown_after.count(*read) == 0)) {
            behind = key;
            return false;
          }
        }
        return true;
      }))
      << "the restarted node's replica lacks " << behind;
  // And it follows both groups' leaders again, as the others do.
  for (const std::string& group : {std::string(kMetaGroup), range_group_}) {
    EXPECT_TRUE(eventually(kSettle, [&] { return agreed_leader(*cluster_, group).has_value(); }))
        << "the nodes do not agree on " << group << "'s leader after the restart\n"
        << describe_leaders(*cluster_);
  }
  std::printf("acknowledged %zu puts, failover %lld ms\n", writers.acked(),
              static_cast<long long>(
                  std::chrono::duration_cast<std::chrono::milliseconds>(failover).count()));
}

TEST_F(LeaderCluster, MetadataLeaderKillStillCreatesTables) {
  ASSERT_TRUE(create_table("t", 0));
  std::optional<size_t> meta_leader;
  ASSERT_TRUE(eventually(kSettle,
                         [&] {
                           meta_leader = agreed_leader(*cluster_, kMetaGroup);
                           return meta_leader.has_value();
                         }))
      << "no agreed leader of the meta group\n"
      << describe_leaders(*cluster_);

  cluster_->kill_node(*meta_leader);
  const size_t survivor = (*meta_leader + 1) % kNodes;
  const size_t other = (*meta_leader + 2) % kNodes;
  const auto killed_at = Clock::now();
  // One election and one commit: well within the bound, with 300-600 ms election timeouts.
  Status last;
  const bool created = eventually(10s, [&] {
    last = client(survivor).create_table("u", with());
    return last.is_ok() || last.code() == StatusCode::kTableExists;
  });
  const auto took = Clock::now() - killed_at;
  ASSERT_TRUE(created) << "create-table through " << cluster_->node_id(survivor)
                       << " after the kill of meta leader " << cluster_->node_id(*meta_leader)
                       << ": " << last.to_string() << "\n"
                       << describe_leaders(*cluster_);
  std::printf(
      "create-table answered %lld ms after the kill of the meta leader\n",
      static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(took).count()));

  // The new table serves through both survivors, and the other survivor lists it.
  ASSERT_TRUE(writable("u", survivor));
  EXPECT_TRUE(eventually(kSettle, [&] { return value_at(other, "u", "probe") == "p"; }));
  Result<std::vector<std::string>> tables = client(other).list_tables(with());
  ASSERT_TRUE(tables.is_ok()) << tables.status().to_string();
  EXPECT_NE(std::find(tables->begin(), tables->end(), "u"), tables->end());

  // The killed node comes back knowing the table.
  Status restarted = cluster_->start_node(*meta_leader);
  ASSERT_TRUE(restarted.is_ok()) << restarted.to_string();
  reconnect(*meta_leader);
  ASSERT_NE(clients_[*meta_leader], nullptr);
  EXPECT_TRUE(eventually(kSettle, [&] { return value_at(*meta_leader, "u", "probe") == "p"; }))
      << describe_leaders(*cluster_);
}

// Whether `status` is what a request that cannot reach a majority answers.
bool no_majority(const Status& status) {
  return status.code() == StatusCode::kTimeout || status.code() == StatusCode::kUnavailable;
}

void LeaderCluster::expect_a_minority_refuses(size_t lone) {
  Client& lone_client = client(lone);
  const size_t stopped[2] = {(lone + 1) % kNodes, (lone + 2) % kNodes};
  for (size_t node : stopped) ASSERT_TRUE(cluster_->pause_node(node).is_ok());

  auto started = Clock::now();
  Result<Bytes> put = lone_client.put("t", "k", "minority", with());
  auto took = Clock::now() - started;
  EXPECT_FALSE(put.is_ok()) << "a put with two of three nodes stopped was acknowledged";
  EXPECT_TRUE(no_majority(put.status())) << put.status().to_string();
  EXPECT_LT(took, std::chrono::milliseconds(kRequestTimeoutMs) + kDeadlineSlack)
      << "the put answered past its deadline";

  // The put took longer than an election timeout, so no lease a leader might hold covers this
  // read: it must confirm leadership with a majority, which it cannot.
  started = Clock::now();
  Result<GetReply> get = lone_client.get("t", "k", with(Consistency::kLinearizable));
  took = Clock::now() - started;
  EXPECT_FALSE(get.is_ok()) << "a linearizable get with two of three nodes stopped answered";
  EXPECT_TRUE(no_majority(get.status())) << get.status().to_string();
  EXPECT_LT(took, std::chrono::milliseconds(kRequestTimeoutMs) + kDeadlineSlack)
      << "the get answered past its deadline";
  // So does the default consistency, which is linearizable in this profile.
  Result<GetReply> plain = lone_client.get("t", "k", with());
  EXPECT_TRUE(no_majority(plain.status())) << plain.status().to_string();

  for (size_t node : stopped) ASSERT_TRUE(cluster_->resume_node(node).is_ok());
  // The cluster serves again; the minority's put may have committed after all (its outcome was
  // unknown), so the value read is one of the two, and a new write wins over both.
  Status last;
  EXPECT_TRUE(eventually(kSettle,
                         [&] {
                           last = lone_client.put("t", "k", "after", with()).status();
                           return last.is_ok();
                         }))
      << last.to_string() << "\n"
      << describe_leaders(*cluster_);
  for (size_t node = 0; node < kNodes; ++node) {
    EXPECT_TRUE(eventually(kSettle, [&] { return value_at(node, "t", "k") == "after"; }))
        << cluster_->node_id(node);
  }
}

TEST_F(LeaderCluster, AMinorityCanNeitherCommitNorReadLinearizably) {
  const std::optional<size_t> leader = make_table_and_find_its_leader();
  ASSERT_TRUE(leader.has_value());
  ASSERT_TRUE(client(*leader).put("t", "k", "before", with()).is_ok());
  // The range's leader is left alone: the node most tempted to answer from what it has.
  expect_a_minority_refuses(*leader);
}

// The same through a follower of the range, which forwards to a leader that cannot commit.
TEST_F(LeaderCluster, AMinorityFollowerCanNeitherCommitNorReadLinearizably) {
  const std::optional<size_t> leader = make_table_and_find_its_leader();
  ASSERT_TRUE(leader.has_value());
  ASSERT_TRUE(client(*leader).put("t", "k", "before", with()).is_ok());
  expect_a_minority_refuses((*leader + 1) % kNodes);
}

TEST_F(LeaderCluster, RestartOfAllNodesKeepsEverything) {
  ASSERT_TRUE(create_table("t", 0));
  ASSERT_TRUE(writable("t", 0));
  ASSERT_TRUE(create_table("u", 1));
  ASSERT_TRUE(writable("u", 1));
  constexpr int kKeys = 150;
  for (int i = 0; i < kKeys; ++i) {
    const std::string table = i % 2 == 0 ? "t" : "u";
    Result<Bytes> put =
        client(i % kNodes).put(table, key_of("r", i), "v" + std::to_string(i), with());
    ASSERT_TRUE(put.is_ok()) << key_of("r", i) << ": " << put.status().to_string();
  }
  ASSERT_TRUE(client(0).remove("t", key_of("r", 0), with()).is_ok());

  for (size_t i = 0; i < kNodes; ++i) clients_[i].reset();
  for (size_t i = 0; i < kNodes; ++i) {
    Result<test::ExitStatus> stopped = cluster_->terminate_node(i);
    ASSERT_TRUE(stopped.is_ok()) << stopped.status().to_string();
    EXPECT_TRUE(stopped->success()) << cluster_->node_id(i) << ": " << stopped->to_string();
  }
  for (size_t i = 0; i < kNodes; ++i) {
    Status started = cluster_->start_node(i);
    ASSERT_TRUE(started.is_ok()) << started.to_string();
  }
  for (size_t i = 0; i < kNodes; ++i) {
    reconnect(i);
    ASSERT_NE(clients_[i], nullptr);
  }

  for (size_t node = 0; node < kNodes; ++node) {
    EXPECT_TRUE(eventually(kSettle,
                           [&] {
                             Result<std::vector<std::string>> tables =
                                 client(node).list_tables(with());
                             return tables.is_ok() &&
                                    std::count(tables->begin(), tables->end(), "t") == 1 &&
                                    std::count(tables->begin(), tables->end(), "u") == 1;
                           }))
        << cluster_->node_id(node) << " lost a table";
    for (int i = 1; i < kKeys; ++i) {
      const std::string table = i % 2 == 0 ? "t" : "u";
      // The first read of each group waits out its election after the restart.
      EXPECT_TRUE(eventually(
          kSettle,
          [&] { return value_at(node, table, key_of("r", i)) == "v" + std::to_string(i); }))
          << table << "/" << key_of("r", i) << " through " << cluster_->node_id(node);
    }
    Result<GetReply> removed = client(node).get("t", key_of("r", 0), with());
    ASSERT_TRUE(removed.is_ok()) << removed.status().to_string();
    EXPECT_FALSE(removed->found) << "a remove came back after the restart";
  }
}

// Records a history with tessera-bench over all three nodes (any node answers), calls
// `fault(leader of the range)` 2 s in, and checks it key by key: every get returns the last
// write linearized before it, whatever the failover did.
template <typename Fault>
void check_history_across(test::TestCluster& cluster, const std::string& range_group,
                          std::optional<size_t> leader, Fault fault) {
  ASSERT_TRUE(leader.has_value());
  history::RecordingOptions options;
  options.bench_binary = kBenchBinary;
  for (size_t i = 0; i < cluster.size(); ++i) options.addresses.push_back(cluster.address(i));
  options.dir = cluster.root();
  Result<history::RecordedHistory> recorded = history::record_history(options, [&] {
    // The leader as of the fault, should the load have moved it; the one found before if the
    // nodes do not agree within a moment.
    eventually(2s, [&] {
      std::optional<size_t> now = agreed_leader(cluster, range_group);
      if (now) leader = now;
      return now.has_value();
    });
    fault(*leader);
  });
  ASSERT_TRUE(recorded.is_ok()) << recorded.status().to_string();
  const history::RecordedHistory& h = recorded.value();
  std::printf("%llu operations on %llu keys, %llu acknowledged, %llu unknown outcomes\n",
              static_cast<unsigned long long>(h.report.operations),
              static_cast<unsigned long long>(h.report.keys),
              static_cast<unsigned long long>(h.acknowledged),
              static_cast<unsigned long long>(h.unknown));
  // Enough operations that the check says something; the bound is low for a loaded machine.
  EXPECT_GT(h.report.operations, 500u) << h.tool_output;
  EXPECT_EQ(h.report.violations, 0u) << h.report.first_violation;
  EXPECT_EQ(h.report.inconclusive, 0u);
  EXPECT_TRUE(h.put_acknowledged_late) << "nothing was acknowledged after the fault\n"
                                       << h.tool_output << describe_leaders(cluster);
}

TEST_F(LeaderCluster, HistoryAcrossALeaderKillIsLinearizable) {
  const std::optional<size_t> leader = make_table_and_find_its_leader();
  check_history_across(*cluster_, range_group_, leader,
                       [&](size_t node) { cluster_->kill_node(node); });
}

// The old leader, stopped for 2.5 s (several election timeouts) and then continued, still
// believes it leads for a moment: it must neither acknowledge a write nor serve a read that
// the new leader's history contradicts.
TEST_F(LeaderCluster, HistoryAcrossAPausedLeaderIsLinearizable) {
  const std::optional<size_t> leader = make_table_and_find_its_leader();
  check_history_across(*cluster_, range_group_, leader, [&](size_t node) {
    ASSERT_TRUE(cluster_->pause_node(node).is_ok());
    std::this_thread::sleep_for(2500ms);
    ASSERT_TRUE(cluster_->resume_node(node).is_ok());
  });
}

}  // namespace
}  // namespace tessera::e2e
