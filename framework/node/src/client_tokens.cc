#include "tessera/node/client_tokens.h"

#include <array>

#include "tessera/config.h"
#include "tessera/crypto.h"

namespace tessera::node {
namespace {

constexpr std::array<std::string_view, 2> kTokenKeys = {"role", "sha256"};

std::optional<Role> parse_role(std::string_view text) {
  if (text == "read") return Role::kRead;
  if (text == "write") return Role::kWrite;
  if (text == "admin") return Role::kAdmin;
  return std::nullopt;
}

// The 32 bytes of a 64-digit hex SHA-256 (either case), or nullopt.
std::optional<Bytes> parse_sha256(std::string_view hex) {
  if (hex.size() != 2 * kSha256Bytes) return std::nullopt;
  auto digit = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  Bytes out;
  for (size_t i = 0; i < hex.size(); i += 2) {
    const int high = digit(hex[i]);
    const int low = digit(hex[i + 1]);
    if (high < 0 || low < 0) return std::nullopt;
    out.push_back(static_cast<char>(high * 16 + low));
  }
  return out;
}

}  // namespace

std::string_view role_name(Role role) {
  switch (role) {
    case Role::kNone: return "none";
    case Role::kRead: return "read";
    case Role::kWrite: return "write";
    case Role::kAdmin: return "admin";
  }
  return "none";
}

Status check_role(Role held, Role needed, std::string_view call, std::string_view who) {
  if (held >= needed) return Status::ok();
  if (held == Role::kNone) {
    return Status::unauthorized(std::string(call) + " needs a token with role " +
                                std::string(role_name(needed)) + " or above; " +
                                std::string(who) +
                                " authenticates clients: call authenticate first (tessera "
                                "--token-file FILE)");
  }
  return Status::forbidden(std::string(call) + " needs role " + std::string(role_name(needed)) +
                           "; this session's token has role " + std::string(role_name(held)) +
                           " (" + std::string(who) + ")");
}

Result<TokenTable> TokenTable::load(const std::filesystem::path& file, std::string_view what) {
  Result<std::unique_ptr<ConfigFile>> loaded = ConfigFile::load(file);
  if (!loaded.is_ok()) {
    // A node cannot start on it whatever the reason: a config error, as its key is.
    return Status::invalid_argument(std::string(what) + " (" + file.string() +
                                    "): " + loaded.status().to_string());
  }
  const ConfigSection root = (*loaded)->root();
  TokenTable table;
  for (const std::string& name : root.keys()) {
    TESSERA_ASSIGN_OR_RETURN(ConfigSection section, root.section(name));
    TESSERA_RETURN_IF_ERROR(section.check_known_keys(kTokenKeys));
    TESSERA_ASSIGN_OR_RETURN(std::string role_text, section.get_string("role", ""));
    std::optional<Role> role = parse_role(role_text);
    if (!role) {
      return Status::invalid_argument(section.where("role") + ": \"" + role_text +
                                      "\" is not a role; expected read, write or admin");
    }
    TESSERA_ASSIGN_OR_RETURN(std::string hex, section.get_string("sha256", ""));
    std::optional<Bytes> hash = parse_sha256(hex);
    if (!hash) {
      return Status::invalid_argument(
          section.where("sha256") +
          ": is not a SHA-256 in hex (64 digits; `printf %s TOKEN | sha256sum`)");
    }
    for (const Entry& other : table.entries_) {
      if (other.sha256 == *hash) {
        return Status::invalid_argument(section.where("sha256") + ": is also the hash of token \"" +
                                        other.token.name + "\"");
      }
    }
    table.entries_.push_back(Entry{ClientToken{name, *role}, std::move(*hash)});
  }
  if (table.entries_.empty()) {
    return Status::invalid_argument(std::string(what) + " (" + file.string() +
                                    "): holds no token; every client would be refused");
  }
  return table;
}

std::optional<ClientToken> TokenTable::find(ByteView token) const {
  const Bytes hash = sha256(token);
  std::optional<ClientToken> found;
  for (const Entry& entry : entries_) {
    if (constant_time_equal(entry.sha256, hash)) found = entry.token;
  }
  return found;
}

bool is_loopback_host(std::string_view host) {
  if (host == "localhost" || host == "::1" || host == "[::1]") return true;
  return host.substr(0, 4) == "127.";
}

}  // namespace tessera::node
