#include "tessera/cluster_secret.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "tessera/crypto.h"

namespace tessera {
namespace {
namespace fs = std::filesystem;

class ClusterSecretFile : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("tessera-secret-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path write(const std::string& name, const std::string& content, fs::perms perms) {
    fs::path file = dir_ / name;
    std::ofstream(file, std::ios::binary) << content;
    fs::permissions(file, perms);
    return file;
  }
  fs::path dir_;
};

TEST_F(ClusterSecretFile, LoadsAndIgnoresTheTrailingNewline) {
  const std::string text(40, 'a');
  bool loose = true;
  auto with_newline = ClusterSecret::load(write("a", text + "\n", fs::perms::owner_read),
                                          "[security] cluster_secret_file", &loose);
  ASSERT_TRUE(with_newline.is_ok()) << with_newline.status().to_string();
  EXPECT_FALSE(loose);
  auto bare = ClusterSecret::from_bytes(text);
  ASSERT_TRUE(bare.is_ok());
  // The same bytes: a proof of one verifies with the other.
  EXPECT_TRUE(bare->check_peer_proof("nonce", "n1", with_newline->peer_proof("nonce", "n1")));
}

TEST_F(ClusterSecretFile, RefusalsNameTheKeyTheFileAndTheReason) {
  bool loose = false;
  auto missing = ClusterSecret::load(dir_ / "none", "[security] cluster_secret_file", &loose);
  EXPECT_EQ(missing.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(missing.status().message().find("cluster_secret_file"), std::string::npos);
  EXPECT_NE(missing.status().message().find("does not exist"), std::string::npos)
      << missing.status().message();

  auto short_one = ClusterSecret::load(write("short", std::string(31, 'x') + "\n\n",
                                             fs::perms::owner_read),
                                       "[security] cluster_secret_file", &loose);
  EXPECT_EQ(short_one.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(short_one.status().message().find("31 bytes; at least 32"), std::string::npos)
      << short_one.status().message();

  auto directory = ClusterSecret::load(dir_, "[security] cluster_secret_file", &loose);
  EXPECT_EQ(directory.status().code(), StatusCode::kInvalidArgument);

  if (::geteuid() != 0) {  // root reads any file
    auto unreadable = ClusterSecret::load(write("locked", std::string(32, 'x'), fs::perms::none),
                                          "[security] cluster_secret_file", &loose);
    EXPECT_EQ(unreadable.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(unreadable.status().message().find("cannot read"), std::string::npos)
        << unreadable.status().message();
  }
}

TEST_F(ClusterSecretFile, ReadableByOthersIsReported) {
  bool loose = false;
  auto secret = ClusterSecret::load(
      write("open", std::string(32, 'x'), fs::perms::owner_read | fs::perms::others_read),
      "[security] cluster_secret_file", &loose);
  ASSERT_TRUE(secret.is_ok());
  EXPECT_TRUE(loose);
}

TEST(ClusterSecret, ProofsBindTheSecretTheNonceAndTheNode) {
  auto secret = ClusterSecret::from_bytes(std::string(32, 's'));
  auto other = ClusterSecret::from_bytes(std::string(32, 't'));
  ASSERT_TRUE(secret.is_ok() && other.is_ok());
  const Bytes proof = secret->peer_proof("nonce-1", "n1");
  EXPECT_EQ(proof.size(), ClusterSecret::kProofBytes);
  EXPECT_TRUE(secret->check_peer_proof("nonce-1", "n1", proof));
  EXPECT_FALSE(other->check_peer_proof("nonce-1", "n1", proof));
  EXPECT_FALSE(secret->check_peer_proof("nonce-2", "n1", proof));
  EXPECT_FALSE(secret->check_peer_proof("nonce-1", "n2", proof));
  EXPECT_FALSE(secret->check_peer_proof("nonce-1", "n1", proof.substr(0, 31)));
  EXPECT_FALSE(secret->check_peer_proof("nonce-1", "n1", ""));
  EXPECT_TRUE(secret->check_tag("datagram", secret->tag("datagram")));
  EXPECT_FALSE(secret->check_tag("datagran", secret->tag("datagram")));
  EXPECT_FALSE(ClusterSecret::from_bytes(std::string(31, 's')).is_ok());
}

// RFC 4231, test case 2: the primitive is the standard one.
TEST(Crypto, HmacSha256MatchesTheRfc) {
  EXPECT_EQ(to_hex(hmac_sha256("Jefe", {"what do ya want ", "for nothing?"})),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  EXPECT_EQ(to_hex(sha256("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  auto a = random_bytes(32);
  auto b = random_bytes(32);
  ASSERT_TRUE(a.is_ok() && b.is_ok());
  EXPECT_EQ(a->size(), 32u);
  EXPECT_NE(*a, *b);
  EXPECT_TRUE(constant_time_equal("abc", "abc"));
  EXPECT_FALSE(constant_time_equal("abc", "abd"));
  EXPECT_FALSE(constant_time_equal("abc", "ab"));
}

}  // namespace
}  // namespace tessera
