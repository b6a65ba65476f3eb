#include "test_node.h"

#include <arpa/inet.h>
#include <capnp/rpc-twoparty.h>
#include <kj/async-io.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdexcept>
#include <vector>

#include "tessera/membership.h"
#include "tessera/rpc/tessera.capnp.h"
#include "tessera/node/client_service.h"
#include "tessera/node/cluster_peer_dialer.h"
#include "transport/raft_peer.capnp.h"

namespace tessera::raft::transport::testing {
namespace {

class ServiceMembership final : public Membership {
 public:
  explicit ServiceMembership(PeerService* service) : service_(service) {}
  std::vector<NodeInfo> members() const override { return {}; }
  Status join(const NodeInfo&) override { return Status::ok(); }
  Status leave() override { return Status::ok(); }
  void subscribe(Listener) override {}
  PeerService* peer_service(std::string_view name) override {
    return name == "raft" ? service_ : nullptr;
  }

 private:
  PeerService* service_;
};

// One accepted connection; members go in reverse order (the RPC system first).
struct Connection {
  Connection(kj::Own<kj::AsyncIoStream> s, capnp::Capability::Client bootstrap,
             capnp::ReaderOptions options)
      : stream(kj::mv(s)),
        network(*stream, capnp::rpc::twoparty::Side::SERVER, options),
        rpc(capnp::makeRpcServer(network, kj::mv(bootstrap))) {}
  kj::Own<kj::AsyncIoStream> stream;
  capnp::TwoPartyVatNetwork network;
  capnp::RpcSystem<capnp::rpc::twoparty::VatId> rpc;
};

class IgnoreErrors final : public kj::TaskSet::ErrorHandler {
 public:
  void taskFailed(kj::Exception&&) override {}
};

kj::Promise<void> accept_loop(kj::ConnectionReceiver& listener, kj::TaskSet& connections,
                              const node::ClientServices& services, capnp::ReaderOptions options) {
  return listener.accept().then(
      [&listener, &connections, &services, options](kj::Own<kj::AsyncIoStream> stream) mutable {
        auto connection = kj::heap<Connection>(
            kj::mv(stream), tessera::rpc::Tessera::Client(services.for_connection()), options);
        auto disconnected = connection->network.onDisconnect();
        connections.add(disconnected.attach(kj::mv(connection)));
        return accept_loop(listener, connections, services, options);
      });
}

class StalledPeer final : public rpc::RaftPeer::Server {
 protected:
  kj::Promise<void> send(SendContext) override { return kj::NEVER_DONE; }
  kj::Promise<void> snapshot(SnapshotContext) override { return kj::NEVER_DONE; }
};

class StalledService final : public PeerService {
 public:
  capnp::Capability::Client capability() override {
    return rpc::RaftPeer::Client(kj::heap<StalledPeer>());
  }
};

}  // namespace

const ClusterSecret& test_cluster_secret() {
  static const ClusterSecret secret =
      std::move(ClusterSecret::from_bytes(std::string(32, 's'))).value();
  return secret;
}

const PeerDialer& test_peer_dialer() {
  static const node::ClusterPeerDialer dialer("transport-test", &test_cluster_secret());
  return dialer;
}

TestNode::TestNode(std::string id, PeerService* service, uint64_t message_words_max)
    : id_(std::move(id)), service_(service) {
  std::promise<std::string> listening;
  std::future<std::string> address = listening.get_future();
  thread_ = std::thread([this, message_words_max, listening = std::move(listening)]() mutable {
    run(message_words_max, std::move(listening));
  });
  address_ = address.get();
}

TestNode::~TestNode() {
  {
    std::lock_guard lock(mu_);
    if (stop_.get() != nullptr) stop_->fulfill();
  }
  thread_.join();
}

void TestNode::run(uint64_t message_words_max, std::promise<std::string> listening) {
  kj::AsyncIoContext io = kj::setupAsyncIo();
  ServiceMembership membership(service_);
  node::ClientServices services(id_, nullptr, &io.provider->getTimer(),
                                node::ClientServiceOptions{.default_timeout_ms = 1000,
                                                           .cluster_secret = &test_cluster_secret(),
                                                           .membership = &membership});
  capnp::ReaderOptions options;
  if (message_words_max != 0) options.traversalLimitInWords = message_words_max;
  auto stop = kj::newPromiseAndCrossThreadFulfiller<void>();
  {
    std::lock_guard lock(mu_);
    stop_ = kj::mv(stop.fulfiller);
  }
  kj::Own<kj::ConnectionReceiver> listener =
      io.provider->getNetwork().parseAddress("127.0.0.1", 0).wait(io.waitScope)->listen();
  IgnoreErrors errors;
  {
    kj::TaskSet connections(errors);
    auto accepting = accept_loop(*listener, connections, services, options);
    listening.set_value("127.0.0.1:" + std::to_string(listener->getPort()));
    stop.promise.exclusiveJoin(kj::mv(accepting)).wait(io.waitScope);
  }  // every connection, and every capability handed out, goes here
}

std::unique_ptr<PeerService> make_stalled_service() { return std::make_unique<StalledService>(); }

namespace {

int bound_socket(uint16_t& port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error("socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    throw std::runtime_error("bind");
  }
  socklen_t length = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &length);
  port = ntohs(addr.sin_port);
  return fd;
}

}  // namespace

std::string dead_address() {
  uint16_t port = 0;
  ::close(bound_socket(port));
  return "127.0.0.1:" + std::to_string(port);
}

DeafListener::DeafListener() {
  uint16_t port = 0;
  fd_ = bound_socket(port);
  if (::listen(fd_, 4) != 0) throw std::runtime_error("listen");
  address_ = "127.0.0.1:" + std::to_string(port);
}

DeafListener::~DeafListener() { ::close(fd_); }

}  // namespace tessera::raft::transport::testing
