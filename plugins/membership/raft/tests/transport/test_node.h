// Test nodes for the transport tests: each a thread with its own KJ event loop, listening on
// 127.0.0.1 (a free port), whose bootstrap capability (one per connection) is the node's real
// ClientService with the test cluster secret and a membership that offers one PeerService as
// "raft" (the hook PeerLink.peer goes through, once a transport proved the secret).
// Also: addresses where nothing listens, and where a socket listens but never accepts.
#pragma once

#include <kj/async.h>
#include <netinet/in.h>

#include <cstdint>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "peer_dialer.h"
#include "tessera/cluster_secret.h"
#include "tessera/peer_service.h"

namespace tessera::raft::transport::testing {

// The secret every test node and transport shares, and a dialer that proves it.
const ClusterSecret& test_cluster_secret();
const PeerDialer& test_peer_dialer();

class TestNode {
 public:
  // `message_words_max`: the largest message (in 8-byte words) the node reads; a larger one
  // breaks its connection. 0: Cap'n Proto's default (64 MiB).
  TestNode(std::string id, PeerService* service, uint64_t message_words_max = 0);
  // Stops the loop; every connection and capability is gone when it returns.
  ~TestNode();

  const std::string& address() const { return address_; }

 private:
  void run(uint64_t message_words_max, std::promise<std::string> listening);

  const std::string id_;
  PeerService* const service_;
  std::string address_;
  std::mutex mu_;
  kj::Own<kj::CrossThreadPromiseFulfiller<void>> stop_;  // guarded by mu_
  std::thread thread_;
};

// A PeerService whose RaftPeer never answers (a peer that is stalled but connected).
std::unique_ptr<PeerService> make_stalled_service();

// "127.0.0.1:<port>" of a port nothing listens on (bound once, then closed).
std::string dead_address();

// A socket that listens but never accepts: connections complete in the kernel, nothing answers.
class DeafListener {
 public:
  DeafListener();
  ~DeafListener();
  const std::string& address() const { return address_; }

 private:
  int fd_ = -1;
  std::string address_;
};

}  // namespace tessera::raft::transport::testing
