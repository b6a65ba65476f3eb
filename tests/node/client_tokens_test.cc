#include "tessera/node/client_tokens.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "tessera/crypto.h"

namespace tessera::node {
namespace {
namespace fs = std::filesystem;

class TokensFile : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("tessera-tokens-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  Result<TokenTable> load(const std::string& text) {
    const fs::path file = dir_ / "tokens.toml";
    std::ofstream(file, std::ios::trunc) << text;
    return TokenTable::load(file, "[security] tokens_file");
  }
  static std::string entry(const std::string& name, const std::string& role,
                           const std::string& token) {
    return "[" + name + "]\nrole = \"" + role + "\"\nsha256 = \"" + to_hex(sha256(token)) +
           "\"\n";
  }
  fs::path dir_;
};

TEST_F(TokensFile, FindsEachTokenByItsHashOnly) {
  auto table = load(entry("ops", "admin", "secret-admin") + entry("app", "write", "secret-app") +
                    entry("dash", "read", "secret-dash"));
  ASSERT_TRUE(table.is_ok()) << table.status().to_string();
  EXPECT_EQ(table->size(), 3u);
  auto ops = table->find("secret-admin");
  ASSERT_TRUE(ops.has_value());
  EXPECT_EQ(ops->name, "ops");
  EXPECT_EQ(ops->role, Role::kAdmin);
  EXPECT_EQ(table->find("secret-dash")->role, Role::kRead);
  EXPECT_FALSE(table->find("secret-dashx").has_value());
  EXPECT_FALSE(table->find("").has_value());
  // The hash itself is no token.
  EXPECT_FALSE(table->find(to_hex(sha256("secret-app"))).has_value());
}

TEST_F(TokensFile, RefusalsNameTheFileTheLineAndTheKey) {
  auto bad_role = load("[ops]\nrole = \"root\"\nsha256 = \"" + to_hex(sha256("x")) + "\"\n");
  EXPECT_EQ(bad_role.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad_role.status().message().find("tokens.toml:2"), std::string::npos)
      << bad_role.status().message();
  EXPECT_NE(bad_role.status().message().find("\"root\" is not a role"), std::string::npos);

  auto bad_hash = load("[ops]\nrole = \"read\"\nsha256 = \"abc\"\n");
  EXPECT_NE(bad_hash.status().message().find("ops.sha256"), std::string::npos)
      << bad_hash.status().message();

  auto twice = load(entry("a", "read", "same") + entry("b", "admin", "same"));
  EXPECT_NE(twice.status().message().find("also the hash of token \"a\""), std::string::npos)
      << twice.status().message();

  auto inline_token = load("[ops]\nrole = \"read\"\ntoken = \"plain\"\n");
  EXPECT_EQ(inline_token.status().code(), StatusCode::kInvalidArgument);

  auto empty = load("");
  EXPECT_NE(empty.status().message().find("holds no token"), std::string::npos)
      << empty.status().message();

  auto broken = load("[ops\n");
  EXPECT_EQ(broken.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(broken.status().message().find("tokens_file"), std::string::npos);

  auto missing = TokenTable::load(dir_ / "none.toml", "[security] tokens_file");
  EXPECT_EQ(missing.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(missing.status().message().find("none.toml"), std::string::npos)
      << missing.status().message();
}

TEST(ClientRoles, AdminImpliesWriteImpliesRead) {
  EXPECT_TRUE(check_role(Role::kAdmin, Role::kRead, "get", "node n1").is_ok());
  EXPECT_TRUE(check_role(Role::kWrite, Role::kWrite, "put", "node n1").is_ok());
  Status anonymous = check_role(Role::kNone, Role::kRead, "get", "node n1");
  EXPECT_EQ(anonymous.code(), StatusCode::kUnauthorized);
  EXPECT_NE(anonymous.message().find("authenticate"), std::string::npos) << anonymous.message();
  Status reader = check_role(Role::kRead, Role::kWrite, "put", "node n1");
  EXPECT_EQ(reader.code(), StatusCode::kForbidden);
  EXPECT_NE(reader.message().find("put needs role write"), std::string::npos) << reader.message();
  EXPECT_NE(reader.message().find("role read"), std::string::npos) << reader.message();
  EXPECT_EQ(check_role(Role::kWrite, Role::kAdmin, "createTable", "n").code(),
            StatusCode::kForbidden);
  EXPECT_TRUE(is_loopback_host("127.0.0.1"));
  EXPECT_TRUE(is_loopback_host("127.1.2.3"));
  EXPECT_TRUE(is_loopback_host("localhost"));
  EXPECT_TRUE(is_loopback_host("::1"));
  EXPECT_FALSE(is_loopback_host("0.0.0.0"));
  EXPECT_FALSE(is_loopback_host("10.0.0.1"));
  EXPECT_FALSE(is_loopback_host("1270.0.0.1"));
}

}  // namespace
}  // namespace tessera::node
