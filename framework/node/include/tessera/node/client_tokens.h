// Client roles and the tokens that grant them ([security] tokens_file).
//
// A client proves who it is with a bearer token (Tessera.authenticate) and gets a session bound
// to the token's role. Roles are ordered: admin implies write, write implies read.
//   read   hello, listTables, get, scan
//   write  put, remove, write (and what read allows)
//   admin  createTable, dropTable, status, members, ring, hints, decommission, removeNode (and
//          what write allows)
// The tokens file holds only each token's SHA-256, so a copy of it grants nothing:
//
//   [ops]                      # one table per token; the name is what logs and errors say
//   role = "admin"             # read, write or admin
//   sha256 = "9f86d0...0f00a08" # lowercase hex SHA-256 of the token's bytes
//
// Thread-safety: immutable after load(); any thread may use it.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tessera/bytes.h"
#include "tessera/status.h"

namespace tessera::node {

enum class Role : uint8_t { kNone = 0, kRead = 1, kWrite = 2, kAdmin = 3 };

// "none", "read", "write", "admin".
std::string_view role_name(Role role);

// OK when `held` allows what `needed` allows; otherwise Unauthorized (no role: the connection
// presented no token) or Forbidden (a lower role), naming `call`, the roles and `who`.
Status check_role(Role held, Role needed, std::string_view call, std::string_view who);

struct ClientToken {
  std::string name;
  Role role = Role::kNone;
};

class TokenTable {
 public:
  // Reads `file` (TOML, above). InvalidArgument naming the file, line and key for a file that
  // does not parse, a token without a valid role or sha256, two tokens with one hash, or no
  // token at all; NotFound or IOError (naming `what` and the file) when it cannot be read.
  static Result<TokenTable> load(const std::filesystem::path& file, std::string_view what);

  // The token whose SHA-256 is sha256(token), or nullopt. Every stored hash is compared, in
  // constant time, so the answer's timing does not depend on which token matched.
  std::optional<ClientToken> find(ByteView token) const;

  size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    ClientToken token;
    Bytes sha256;  // 32 raw bytes
  };
  std::vector<Entry> entries_;
};

// Whether `host` is a loopback address (127.0.0.0/8, ::1, localhost): a node that
// authenticates no clients may listen only there.
bool is_loopback_host(std::string_view host);

}  // namespace tessera::node
