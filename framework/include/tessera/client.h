// Client: a blocking C++ client for the Tessera RPC API (framework/schema/tessera.capnp).
//
// Each method sends one request and waits for the answer. Errors come back as Status with the
// schema's typed code (NoSuchTable, TooLarge, Timeout, ...). A node that cannot be reached, or a
// connection that breaks, gives Unavailable naming the address. A node that authenticates
// clients answers Unauthorized to a client without a token (ConnectOptions::token) and
// Forbidden to a call the token's role does not allow.
//
// Thread-safety: a Client uses a KJ event loop on the thread that created it and must be used
// from that thread only. Clients of one thread share its loop: plain ones capnp::EzRpcClient's,
// TLS ones (ConnectOptions::tls_ca_file) one of their own, so a thread holds plain or TLS
// clients at a time, not both (the second kind answers Unavailable: the thread has a loop).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tessera/bytes.h"
#include "tessera/mutation.h"
#include "tessera/status.h"

namespace tessera {

enum class Consistency : uint8_t { kDefault, kOne, kQuorum, kAll, kLinearizable, kStale };

struct RequestOptions {
  Consistency consistency = Consistency::kDefault;
  uint32_t timeout_ms = 0;  // 0 = the node's default
  Bytes context;            // causal context from an earlier get (AP)
};

// What a node says of itself (Tessera.status).
struct NodeStatus {
  struct Plugin {
    std::string slot, name, version, file;
  };
  std::string node_id;
  std::string profile;
  std::string listen;
  uint64_t uptime_ms = 0;
  std::vector<Plugin> plugins;
  uint64_t data_bytes = 0;
  std::vector<std::pair<std::string, double>> engine_stats;      // in name order
  std::vector<std::pair<std::string, double>> membership_stats;  // in name order
  std::vector<std::pair<std::string, double>> profile_stats;     // in name order
};

// A member as the node knows it (Tessera.members).
struct MemberInfo {
  std::string id, address, zone, state;  // state: alive, suspect, dead, left
  bool joining = false;  // Dynamo: copying its ranges, owning none yet
};

// A range as the node knows it (Tessera.ring, leader profile).
struct RangeInfo {
  std::string table;
  Bytes start, end;  // end empty: to the table's end
  uint64_t range_id = 0;
  uint64_t epoch = 0;
  std::string group;
  std::vector<std::string> voters;
  std::string leader;
  bool hosted = false;  // the node has a replica: term and indexes are its view
  uint64_t term = 0, commit_index = 0, applied_index = 0;
};

// The hints a node holds per target (Tessera.hints).
struct HintCounts {
  std::vector<std::pair<std::string, uint64_t>> pending;  // target node, hints
  bool truncated = false;
};

struct StoredValue {
  Bytes data;
  Bytes version;
};

struct GetReply {
  bool found = false;
  std::vector<StoredValue> values;  // siblings; exactly one with last-write-wins
  Bytes context;
};

struct ScanItem {
  Bytes key;
  Bytes value;
  Bytes version;
};

struct ScanPage {
  std::vector<ScanItem> items;
  Bytes next_page_token;  // empty when the scan is complete
};

using BatchOperation = Mutation;

struct ConnectOptions {
  uint32_t connect_timeout_ms = 5000;
  // A client token (read_token_file), presented once the connection is up; empty: none.
  Bytes token{};
  // The CA (PEM) the node's certificate must be signed by: the client then speaks TLS and
  // checks that the certificate names the host of `address`. Empty: plain TCP.
  std::filesystem::path tls_ca_file{};
};

// The token in `file` (trailing whitespace is not part of it). InvalidArgument naming the file
// when it cannot be read or holds no token.
Result<Bytes> read_token_file(const std::filesystem::path& file);

class Client {
 public:
  // Connects to "host:port" (over TLS with ConnectOptions::tls_ca_file) and, with a token,
  // authenticates. InvalidArgument naming --tls-ca for a CA file that is not PEM; Unavailable
  // when the node cannot be reached or its certificate does not verify; Timeout when nothing
  // answers within `connect_timeout_ms`; Unauthorized when the node does not know the token, or needs
  // one and none was given; Forbidden when the token's role may not even read (never: every
  // role reads).
  static Result<std::unique_ptr<Client>> connect(const std::string& address,
                                                 const ConnectOptions& options);
  static Result<std::unique_ptr<Client>> connect(const std::string& address,
                                                 uint32_t connect_timeout_ms = 5000) {
    return connect(address, ConnectOptions{.connect_timeout_ms = connect_timeout_ms});
  }
  ~Client();

  Result<std::string> node_id();
  Result<NodeStatus> status(const RequestOptions& options = {});
  Result<std::vector<MemberInfo>> members(const RequestOptions& options = {});
  Result<std::vector<RangeInfo>> ring(const RequestOptions& options = {});
  Result<HintCounts> hints(const RequestOptions& options = {});
  // Tessera.decommission: the keys copied before the node left.
  Result<uint64_t> decommission(const RequestOptions& options = {});
  // Tessera.removeNode: takes node `id`, down for good, out of the cluster.
  Status remove_node(const std::string& id, const RequestOptions& options = {});
  // Table calls use only `options.timeout_ms`.
  Result<std::vector<std::string>> list_tables(const RequestOptions& options = {});
  // `split_keys` (leader profile): the table starts in ranges beginning at each key.
  Status create_table(const std::string& name, const RequestOptions& options = {},
                      const std::vector<Bytes>& split_keys = {});
  Status drop_table(const std::string& name, const RequestOptions& options = {});

  // Returns the version the write made.
  Result<Bytes> put(const std::string& table, ByteView key, ByteView value,
                    const RequestOptions& options = {});
  Result<GetReply> get(const std::string& table, ByteView key, const RequestOptions& options = {});
  Status remove(const std::string& table, ByteView key, const RequestOptions& options = {});
  // One page of [start, end); pass the returned token back for the next page.
  Result<ScanPage> scan(const std::string& table, ByteView start, ByteView end, uint32_t limit,
                        ByteView page_token = {}, const RequestOptions& options = {});
  Status write(const std::string& table, const std::vector<BatchOperation>& operations,
               const RequestOptions& options = {});

 private:
  struct Connection;
  explicit Client(std::unique_ptr<Connection> connection);
  std::unique_ptr<Connection> connection_;
};

}  // namespace tessera
