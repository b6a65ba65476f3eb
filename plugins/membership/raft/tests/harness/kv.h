// KvStore: the key-value state machine the simulation replicates, with client sessions.
//
// Purpose: applies committed commands in log order. Keys and values are integers (the
// simulation needs identities, not bytes). Each command carries (client, seq); a session table
// applies each (client, seq) at most once, so a client may retry a write at another leader
// without risking a double apply: this is what makes retried writes linearizable.
// Thread-safety: none. Ownership: plain value; snapshot images are strings.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace tessera::raft::sim_harness {

struct KvCommand {
  uint64_t client = 0;
  uint64_t seq = 0;
  uint64_t key = 0;
  uint64_t value = 0;
};

std::string encode_command(const KvCommand& command);
// nullopt for the leader's no-op (empty data).
std::optional<KvCommand> decode_command(std::string_view data);

class KvStore {
 public:
  void apply(const KvCommand& command);
  uint64_t get(uint64_t key) const;  // 0 when never written
  // True if (client, seq) has been applied.
  bool applied(uint64_t client, uint64_t seq) const;

  std::string snapshot() const;
  void restore(std::string_view image);
  void clear();

 private:
  std::map<uint64_t, uint64_t> values_;
  std::map<uint64_t, uint64_t> last_seq_;  // per client
};

}  // namespace tessera::raft::sim_harness
