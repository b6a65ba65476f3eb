// TLS on the client port and on node links, with a CA and certificates made in the test by the
// openssl command: a client that trusts the CA gets in (library and CLI); one that speaks plain
// TCP or trusts another CA does not. In an AP and a CP cluster every node link is TLS, each
// dialing node verifying its peer's certificate against the CA: writes that need every replica
// succeed, and a node whose certificate another CA signed is not reached by its peers.
#include <chrono>
#include <fstream>
#include <string>
#include <thread>

#include "e2e_env.h"

namespace tessera::e2e {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

// A CA, and certificates it signs for 127.0.0.1 (kj-tls matches the host as a DNS name, so the
// address is a DNS entry as well as an IP entry).
class TestCa {
 public:
  TestCa(fs::path dir, const std::string& name) : dir_(std::move(dir)), name_(name) {
    fs::create_directories(dir_);
    ok_ = openssl({"req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
                   "/CN=" + name + " CA", "-keyout", key().string(), "-out", cert().string()});
  }
  bool ok() const { return ok_; }
  fs::path cert() const { return dir_ / (name_ + "-ca.pem"); }
  fs::path key() const { return dir_ / (name_ + "-ca.key"); }

  // Makes <node>.pem and <node>.key signed by this CA; whether openssl succeeded.
  bool issue(const std::string& node) {
    const fs::path ext = dir_ / (node + ".ext");
    std::ofstream(ext) << "subjectAltName=IP:127.0.0.1,DNS:127.0.0.1,DNS:localhost\n";
    const fs::path csr = dir_ / (node + ".csr");
    return openssl({"req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=" + node, "-keyout",
                    node_key(node).string(), "-out", csr.string()}) &&
           openssl({"x509", "-req", "-in", csr.string(), "-CA", cert().string(), "-CAkey",
                    key().string(), "-CAcreateserial", "-days", "2", "-extfile", ext.string(),
                    "-out", node_cert(node).string()});
  }
  fs::path node_cert(const std::string& node) const { return dir_ / (node + ".pem"); }
  fs::path node_key(const std::string& node) const { return dir_ / (node + ".key"); }

  // The [tls] section of a node that presents `node`'s certificate and trusts `trusted`.
  std::string section(const std::string& node, const TestCa& trusted) const {
    return "\n[tls]\ncert_file = \"" + node_cert(node).string() + "\"\nkey_file = \"" +
           node_key(node).string() + "\"\nca_file = \"" + trusted.cert().string() + "\"\n";
  }

 private:
  static bool openssl(std::vector<std::string> args) {
    args.insert(args.begin(), "/usr/bin/openssl");  // run_command does not search PATH
    Result<test::CommandResult> ran = test::run_command(args, "", 30s);
    EXPECT_TRUE(ran.is_ok() && ran->status.success())
        << (ran.is_ok() ? ran->err : ran.status().to_string());
    return ran.is_ok() && ran->status.success();
  }
  fs::path dir_;
  std::string name_;
  bool ok_ = false;
};

Result<std::unique_ptr<Client>> connect_tls(const std::string& address, const fs::path& ca) {
  ConnectOptions options;
  options.connect_timeout_ms = 3000;
  options.tls_ca_file = ca;
  return Client::connect(address, options);
}

TEST(Tls, ASingleNodeServesTlsToClientsThatTrustItsCa) {
  test::TestCluster cluster(cluster_options());
  TestCa ca(cluster.root() / "pki", "good");
  TestCa rogue(cluster.root() / "pki", "rogue");
  ASSERT_TRUE(ca.ok() && rogue.ok() && ca.issue("n1"));
  cluster.add_node(std::string(test::kMemoryNodeConfig) + ca.section("n1", ca));
  ASSERT_TRUE(cluster.start_node(0).is_ok());

  auto client = connect_tls(cluster.address(0), ca.cert());
  ASSERT_TRUE(client.is_ok()) << client.status().to_string();
  ASSERT_TRUE((*client)->create_table("t").is_ok());
  ASSERT_TRUE((*client)->put("t", "k", "over tls").is_ok());
  Result<GetReply> got = (*client)->get("t", "k");
  ASSERT_TRUE(got.is_ok() && got->found);
  EXPECT_EQ(got->values[0].data, "over tls");

  // Plain TCP gets nothing; neither does a client that trusts another CA.
  // (On a thread of its own: this one's loop is the TLS clients'.)
  Status plain;
  std::thread([&] { plain = Client::connect(cluster.address(0), 3000).status(); }).join();
  EXPECT_FALSE(plain.is_ok());
  EXPECT_EQ(plain.message().find("EventLoop"), std::string::npos) << plain.to_string();
  Result<std::unique_ptr<Client>> fooled = connect_tls(cluster.address(0), rogue.cert());
  EXPECT_EQ(fooled.status().code(), StatusCode::kUnavailable) << fooled.status().to_string();
  // A CA file that is no PEM is the caller's error, named.
  std::ofstream(cluster.root() / "junk.pem") << "not a certificate\n";
  Result<std::unique_ptr<Client>> junk = connect_tls(cluster.address(0), cluster.root() / "junk.pem");
  EXPECT_EQ(junk.status().code(), StatusCode::kInvalidArgument) << junk.status().to_string();
  // The node still serves after all that.
  EXPECT_TRUE((*client)->get("t", "k").is_ok());

  // The CLI speaks it too.
  Result<test::CommandResult> cli = test::run_command(
      {kCliBinary.string(), "--addr", cluster.address(0), "--tls-ca", ca.cert().string(), "get",
       "t", "k"},
      "", 10s);
  ASSERT_TRUE(cli.is_ok());
  EXPECT_EQ(cli->status.code, 0) << cli->err;
  EXPECT_EQ(cli->out, "over tls");
}

TEST(Tls, BadTlsFilesStopTheNodeAtStart) {
  test::TestCluster cluster(cluster_options());
  TestCa ca(cluster.root() / "pki", "good");
  TestCa other(cluster.root() / "pki", "other");
  ASSERT_TRUE(ca.ok() && other.ok() && ca.issue("n1") && other.issue("n2"));
  const fs::path config = cluster.root() / "node.toml";
  auto run_with = [&](const std::string& tls) {
    std::ofstream(config, std::ios::trunc)
        << "[node]\nid = \"n1\"\nlisten = \"127.0.0.1:0\"\ndata_dir = \""
        << (cluster.root() / "data").string() << "\"\n"
        << test::kMemoryNodeConfig << tls;
    Result<test::CommandResult> ran = cluster.run_node({"--config", config.string()}, 10s);
    EXPECT_TRUE(ran.is_ok());
    return ran.is_ok() ? std::move(ran).value() : test::CommandResult{};
  };
  test::CommandResult half = run_with("[tls]\ncert_file = \"x.pem\"\n");
  EXPECT_EQ(half.status.code, 2) << half.err;
  EXPECT_NE(half.err.find("needs key_file"), std::string::npos) << half.err;
  test::CommandResult missing =
      run_with("[tls]\ncert_file = \"none.pem\"\nkey_file = \"none.key\"\nca_file = \"" +
               ca.cert().string() + "\"\n");
  EXPECT_EQ(missing.status.code, 2) << missing.err;
  EXPECT_NE(missing.err.find("none.pem"), std::string::npos) << missing.err;
  // n1's certificate with n2's key.
  test::CommandResult mismatched =
      run_with("[tls]\ncert_file = \"" + ca.node_cert("n1").string() + "\"\nkey_file = \"" +
               other.node_key("n2").string() + "\"\nca_file = \"" + ca.cert().string() + "\"\n");
  EXPECT_EQ(mismatched.status.code, 2) << mismatched.err;
  EXPECT_NE(mismatched.err.find("does not go with the certificate"), std::string::npos)
      << mismatched.err;
}

const std::string kApConfig = ap_cluster_config("memory");

RequestOptions with(Consistency consistency) {
  RequestOptions options;
  options.consistency = consistency;
  options.timeout_ms = 2000;
  return options;
}

// Whether, within 20 s, a put with W = `consistency` into `table` (created through node `i`
// if need be) through node `i` succeeds.
bool put_succeeds(const test::TestCluster& cluster, size_t i, const fs::path& ca,
                  Consistency consistency, const std::string& table = "t") {
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  Status last;
  while (std::chrono::steady_clock::now() < deadline) {
    auto client = connect_tls(cluster.address(i), ca);
    last = client.status();
    if (client.is_ok()) {
      last = (*client)->create_table(table);
      if (last.is_ok() || last.code() == StatusCode::kTableExists) {
        last = (*client)->put(table, "k" + std::to_string(i), "v", with(consistency)).status();
        if (last.is_ok()) return true;
      }
    }
    std::this_thread::sleep_for(200ms);
  }
  ADD_FAILURE() << "the last attempt through node " << i << ": " << last.to_string();
  return false;
}

TEST(Tls, APeerLinksAreTlsAndANodeWithAnotherCasCertificateIsNotReached) {
  test::TestCluster cluster(cluster_options(kApConfig));
  TestCa ca(cluster.root() / "pki", "good");
  TestCa rogue(cluster.root() / "pki", "rogue");
  ASSERT_TRUE(ca.ok() && rogue.ok());
  for (const char* node : {"n1", "n2"}) ASSERT_TRUE(ca.issue(node));
  ASSERT_TRUE(rogue.issue("n3"));
  cluster.add_node(std::string(kApConfig) + ca.section("n1", ca));
  cluster.add_node(std::string(kApConfig) + ca.section("n2", ca));
  // n3 holds the secret and trusts the right CA, but presents a certificate the CA never signed.
  cluster.add_node(std::string(kApConfig) + rogue.section("n3", ca));
  for (size_t i = 0; i < 3; ++i) ASSERT_TRUE(cluster.start_node(i).is_ok());

  // n1 and n2 reach each other over TLS: a quorum write through either succeeds.
  EXPECT_TRUE(put_succeeds(cluster, 0, ca.cert(), Consistency::kQuorum));
  EXPECT_TRUE(put_succeeds(cluster, 1, ca.cert(), Consistency::kQuorum));
  // No write needing n3 succeeds through n1: n1 refuses n3's certificate.
  auto client = connect_tls(cluster.address(0), ca.cert());
  ASSERT_TRUE(client.is_ok());
  Status all = (*client)->put("t", "everywhere", "v", with(Consistency::kAll)).status();
  EXPECT_EQ(all.code(), StatusCode::kQuorumUnavailable) << all.to_string();

  // Once n3 presents a certificate of the cluster's CA (the same files, reissued), a write
  // reaches all three.
  ASSERT_TRUE(ca.issue("n3"));
  ASSERT_EQ(ca.node_cert("n3"), rogue.node_cert("n3"));
  ASSERT_TRUE(cluster.restart_node(2).is_ok());
  // A table of its own: n3 restarted empty (memory engine) and lacks "t".
  EXPECT_TRUE(put_succeeds(cluster, 0, ca.cert(), Consistency::kAll, "after"));
}

const std::string kLeaderConfig = leader_cluster_config("memory");

// The raft transport dials from its own thread with the node's dialer: over TLS, a CP cluster
// elects, commits and forwards as before.
TEST(Tls, ACpClusterRunsRaftAndForwardingOverTls) {
  test::TestCluster cluster(cluster_options(kLeaderConfig));
  TestCa ca(cluster.root() / "pki", "good");
  ASSERT_TRUE(ca.ok());
  for (size_t i = 0; i < 3; ++i) {
    const std::string node = "n" + std::to_string(i + 1);
    ASSERT_TRUE(ca.issue(node));
    cluster.add_node(std::string(kLeaderConfig) + ca.section(node, ca));
  }
  for (size_t i = 0; i < 3; ++i) ASSERT_TRUE(cluster.start_node(i).is_ok());
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_TRUE(put_succeeds(cluster, i, ca.cert(), Consistency::kDefault)) << "through n" << i + 1;
  }
}

}  // namespace
}  // namespace tessera::e2e
