// ClusterSecret: the secret every node of a cluster shares, and what is proved with it.
//
// Nodes prove to each other that they belong to the cluster by HMAC-SHA256 under this secret:
// a peer answers a node's random per-connection challenge with
//   proof = HMAC-SHA256(secret, nonce || node_id)            (tessera.capnp, authenticatePeer)
// and membership datagrams may carry a tag HMAC-SHA256(secret, datagram). The secret itself
// never leaves the node. It is read from a file ([security] cluster_secret_file) of at least
// kSecretBytesMin bytes; trailing whitespace (the newline an editor or `echo` adds) is not part
// of it, so that every node of a cluster reads the same bytes from the same text.
//
// Thread-safety: immutable after it is made; any thread may use it. Ownership: a value; the
// node keeps the one it loaded for as long as it runs.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>

#include "tessera/bytes.h"
#include "tessera/status.h"

namespace tessera {

class ClusterSecret {
 public:
  static constexpr size_t kSecretBytesMin = 32;
  static constexpr size_t kNonceBytes = 32;
  static constexpr size_t kProofBytes = 32;

  // Reads the secret from `file`; `what` names the config key for the messages.
  // InvalidArgument when the file is missing, unreadable or holds fewer than kSecretBytesMin
  // bytes (after trailing whitespace), each naming `what`, the file and the reason.
  // `*readable_by_others` is set when the file's mode lets its group or others read it (the
  // node warns: the secret should be the node's alone).
  static Result<ClusterSecret> load(const std::filesystem::path& file, std::string_view what,
                                    bool* readable_by_others);
  // From the bytes themselves (tests). InvalidArgument when shorter than kSecretBytesMin.
  static Result<ClusterSecret> from_bytes(Bytes secret);

  // HMAC-SHA256(secret, nonce || node_id): what node `node_id` answers to `nonce`.
  Bytes peer_proof(ByteView nonce, std::string_view node_id) const;
  // Whether `proof` is peer_proof(nonce, node_id), compared in constant time.
  bool check_peer_proof(ByteView nonce, std::string_view node_id, ByteView proof) const;

  // HMAC-SHA256(secret, message): a tag that authenticates `message` (a datagram).
  Bytes tag(ByteView message) const;
  // Whether `tag` is tag(message), compared in constant time.
  bool check_tag(ByteView message, ByteView tag) const;

 private:
  explicit ClusterSecret(Bytes secret) : secret_(std::move(secret)) {}
  Bytes secret_;
};

}  // namespace tessera
