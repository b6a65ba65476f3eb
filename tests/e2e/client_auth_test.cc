// Clients authenticate: a node with [security] tokens_file answers unauthorized to a client
// without a token or with a token it does not know, forbidden to a call the token's role does
// not allow; an admin creates tables, a writer writes, a reader reads. A bad tokens file, and an
// open node on a non-loopback address, do not start. The CLI presents --token-file.
#include <chrono>
#include <fstream>
#include <string>
#include <thread>

#include "e2e_env.h"
#include "tessera/crypto.h"

namespace tessera::e2e {
namespace {

using namespace std::chrono_literals;

std::string token_entry(const std::string& name, const std::string& role,
                        const std::string& token) {
  return "[" + name + "]\nrole = \"" + role + "\"\nsha256 = \"" + to_hex(sha256(token)) + "\"\n";
}

// The tokens of the tests: one per role, and the file that holds their hashes.
std::string write_tokens(const std::filesystem::path& dir) {
  const std::filesystem::path file = dir / "tokens.toml";
  std::ofstream(file) << token_entry("ops", "admin", "admin-token-1") +
                             token_entry("app", "write", "write-token-1") +
                             token_entry("dashboard", "read", "read-token-1");
  return file.string();
}

Result<std::unique_ptr<Client>> connect_as(const std::string& address, const std::string& token) {
  ConnectOptions options;
  options.token = token;
  return Client::connect(address, options);
}

class ClientAuthTest : public SingleNodeTest {
 protected:
  void SetUp() override {
    cluster_ = std::make_unique<test::TestCluster>(cluster_options());
    const std::string tokens = write_tokens(cluster_->root());
    cluster_->add_node(std::string(test::kMemoryNodeConfig) + "[security]\ntokens_file = \"" +
                       tokens + "\"\n");
    ASSERT_TRUE(cluster_->start_node(0).is_ok());
  }
};

TEST_F(ClientAuthTest, WithoutATokenEveryCallIsUnauthorized) {
  Result<std::unique_ptr<Client>> anonymous = Client::connect(address());
  ASSERT_FALSE(anonymous.is_ok());
  EXPECT_EQ(anonymous.status().code(), StatusCode::kUnauthorized);
  EXPECT_NE(anonymous.status().message().find("authenticate"), std::string::npos)
      << anonymous.status().message();
  Result<std::unique_ptr<Client>> forged = connect_as(address(), "admin-token-2");
  EXPECT_EQ(forged.status().code(), StatusCode::kUnauthorized) << forged.status().to_string();
  EXPECT_EQ(forged.status().message().find("admin-token-2"), std::string::npos)
      << "the node repeats the token: " << forged.status().message();
}

TEST_F(ClientAuthTest, EachRoleDoesWhatItMayAndIsRefusedTheRest) {
  auto admin = connect_as(address(), "admin-token-1");
  auto writer = connect_as(address(), "write-token-1");
  auto reader = connect_as(address(), "read-token-1");
  ASSERT_TRUE(admin.is_ok()) << admin.status().to_string();
  ASSERT_TRUE(writer.is_ok()) << writer.status().to_string();
  ASSERT_TRUE(reader.is_ok()) << reader.status().to_string();

  // Only an admin creates and drops tables and sees the node.
  EXPECT_EQ((*writer)->create_table("t").code(), StatusCode::kForbidden);
  EXPECT_EQ((*reader)->create_table("t").code(), StatusCode::kForbidden);
  ASSERT_TRUE((*admin)->create_table("t").is_ok());
  EXPECT_TRUE((*admin)->status().is_ok());
  EXPECT_EQ((*writer)->status().status().code(), StatusCode::kForbidden);
  EXPECT_EQ((*reader)->members().status().code(), StatusCode::kForbidden);

  // A writer writes; a reader cannot.
  ASSERT_TRUE((*writer)->put("t", "k", "v").is_ok());
  Status read_put = (*reader)->put("t", "k", "other").status();
  EXPECT_EQ(read_put.code(), StatusCode::kForbidden);
  EXPECT_NE(read_put.message().find("put needs role write"), std::string::npos)
      << read_put.message();
  EXPECT_EQ((*reader)->remove("t", "k").code(), StatusCode::kForbidden);
  EXPECT_EQ((*reader)->write("t", {{"k", Bytes("x")}}).code(), StatusCode::kForbidden);

  // Everybody reads, and the reader's refused put changed nothing.
  Result<GetReply> got = (*reader)->get("t", "k");
  ASSERT_TRUE(got.is_ok()) << got.status().to_string();
  ASSERT_EQ(got->values.size(), 1u);
  EXPECT_EQ(got->values[0].data, "v");
  EXPECT_TRUE((*reader)->list_tables().is_ok());
  EXPECT_TRUE((*reader)->scan("t", "", "", 10).is_ok());
  EXPECT_EQ((*writer)->drop_table("t").code(), StatusCode::kForbidden);
  EXPECT_TRUE((*admin)->drop_table("t").is_ok());
}

TEST_F(ClientAuthTest, TheCliPresentsItsTokenFile) {
  const std::filesystem::path token_file = cluster_->root() / "reader.token";
  std::ofstream(token_file) << "read-token-1\n";
  auto cli = [&](const std::vector<std::string>& args) {
    std::vector<std::string> argv = {kCliBinary.string(), "--addr", address()};
    argv.insert(argv.end(), args.begin(), args.end());
    Result<test::CommandResult> ran = test::run_command(argv, "", 10s);
    EXPECT_TRUE(ran.is_ok()) << ran.status().to_string();
    return ran.is_ok() ? std::move(ran).value() : test::CommandResult{};
  };
  test::CommandResult anonymous = cli({"tables"});
  EXPECT_EQ(anonymous.status.code, 7) << anonymous.err;
  EXPECT_NE(anonymous.err.find("Unauthorized"), std::string::npos) << anonymous.err;
  test::CommandResult listed = cli({"--token-file", token_file.string(), "tables"});
  EXPECT_EQ(listed.status.code, 0) << listed.err;
  test::CommandResult refused =
      cli({"--token-file", token_file.string(), "create-table", "x"});
  EXPECT_EQ(refused.status.code, 7) << refused.err;
  EXPECT_NE(refused.err.find("Forbidden"), std::string::npos) << refused.err;
  test::CommandResult missing = cli({"--token-file", "/nonexistent/token", "tables"});
  EXPECT_EQ(missing.status.code, 2) << missing.err;
  EXPECT_NE(missing.err.find("--token-file"), std::string::npos) << missing.err;
}

// A node without tokens serves clients on loopback only, and says so; a bad tokens file stops
// it at start with the key and the reason.
TEST(ClientAuthConfig, OpenNodesListenOnLoopbackOnlyAndBadTokenFilesDoNotStart) {
  test::TestCluster cluster(cluster_options());
  const std::filesystem::path dir = cluster.root();
  auto run_with = [&](const std::string& listen, const std::string& security) {
    const std::filesystem::path config = dir / "node.toml";
    std::ofstream(config, std::ios::trunc)
        << "[node]\nid = \"n1\"\nlisten = \"" << listen << "\"\ndata_dir = \""
        << (dir / "data").string() << "\"\n"
        << test::kMemoryNodeConfig << security;
    Result<test::CommandResult> ran = cluster.run_node({"--config", config.string()}, 10s);
    EXPECT_TRUE(ran.is_ok()) << ran.status().to_string();
    return ran.is_ok() ? std::move(ran).value() : test::CommandResult{};
  };
  test::CommandResult open = run_with("0.0.0.0:0", "");
  EXPECT_EQ(open.status.code, 2) << open.err;
  EXPECT_NE(open.err.find("not a loopback address"), std::string::npos) << open.err;
  EXPECT_NE(open.err.find("tokens_file"), std::string::npos) << open.err;

  std::ofstream(dir / "bad.toml") << "[ops]\nrole = \"superuser\"\nsha256 = \"00\"\n";
  test::CommandResult bad = run_with("127.0.0.1:0", "[security]\ntokens_file = \"bad.toml\"\n");
  EXPECT_EQ(bad.status.code, 2) << bad.err;
  EXPECT_NE(bad.err.find("\"superuser\" is not a role"), std::string::npos) << bad.err;
  test::CommandResult absent =
      run_with("127.0.0.1:0", "[security]\ntokens_file = \"absent.toml\"\n");
  EXPECT_EQ(absent.status.code, 2) << absent.err;
  EXPECT_NE(absent.err.find("absent.toml"), std::string::npos) << absent.err;
}

// An open node on loopback starts and says that clients are not authenticated.
TEST_F(SingleNodeTest, AnOpenLoopbackNodeSaysClientsAreNotAuthenticated) {
  EXPECT_NE(cluster_->stderr_text(0).find("clients are not authenticated"), std::string::npos)
      << cluster_->stderr_text(0);
  EXPECT_TRUE(client().list_tables().is_ok());
}

}  // namespace
}  // namespace tessera::e2e
