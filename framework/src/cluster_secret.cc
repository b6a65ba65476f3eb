#include "tessera/cluster_secret.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "tessera/crypto.h"

namespace tessera {
namespace fs = std::filesystem;

namespace {

void strip_trailing_space(Bytes* bytes) {
  while (!bytes->empty() &&
         (bytes->back() == '\n' || bytes->back() == '\r' || bytes->back() == ' ' ||
          bytes->back() == '\t')) {
    bytes->pop_back();
  }
}

}  // namespace

Result<ClusterSecret> ClusterSecret::load(const fs::path& file, std::string_view what,
                                          bool* readable_by_others) {
  const std::string where = std::string(what) + " (" + file.string() + ")";
  std::error_code error;
  const fs::file_status status = fs::status(file, error);
  if (error || !fs::exists(status)) {
    return Status::invalid_argument(where + ": the cluster secret file does not exist" +
                                    (error ? ": " + error.message() : std::string()));
  }
  if (!fs::is_regular_file(status)) {
    return Status::invalid_argument(where + ": the cluster secret is not a regular file");
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    return Status::invalid_argument(where + ": cannot read the cluster secret file: " +
                                    std::strerror(errno));
  }
  std::ostringstream content;
  content << in.rdbuf();
  if (in.bad()) {
    return Status::invalid_argument(where + ": cannot read the cluster secret file");
  }
  Bytes secret = content.str();
  strip_trailing_space(&secret);
  if (secret.size() < kSecretBytesMin) {
    return Status::invalid_argument(where + ": the cluster secret has " +
                                    std::to_string(secret.size()) + " bytes; at least " +
                                    std::to_string(kSecretBytesMin) +
                                    " are needed (e.g. `openssl rand -hex 32 > FILE`)");
  }
  const fs::perms perms = status.permissions();
  *readable_by_others = (perms & (fs::perms::group_read | fs::perms::others_read)) != fs::perms::none;
  return ClusterSecret(std::move(secret));
}

Result<ClusterSecret> ClusterSecret::from_bytes(Bytes secret) {
  if (secret.size() < kSecretBytesMin) {
    return Status::invalid_argument("a cluster secret needs at least " +
                                    std::to_string(kSecretBytesMin) + " bytes");
  }
  return ClusterSecret(std::move(secret));
}

Bytes ClusterSecret::peer_proof(ByteView nonce, std::string_view node_id) const {
  return hmac_sha256(secret_, {nonce, node_id});
}

bool ClusterSecret::check_peer_proof(ByteView nonce, std::string_view node_id,
                                     ByteView proof) const {
  return constant_time_equal(peer_proof(nonce, node_id), proof);
}

Bytes ClusterSecret::tag(ByteView message) const { return hmac_sha256(secret_, {message}); }

bool ClusterSecret::check_tag(ByteView message, ByteView tag_bytes) const {
  return constant_time_equal(tag(message), tag_bytes);
}

}  // namespace tessera
