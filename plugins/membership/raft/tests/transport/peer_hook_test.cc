// The framework's hook for plugin peer services: PeerLink.peer, on the link the node's real
// ClientService hands a peer that proved the cluster secret, hands out what
// Membership::peer_service returns, and answers notSupported / notFound with a message naming
// the service otherwise.
#include <gtest/gtest.h>
#include <kj/async-io.h>

#include <memory>
#include <string>
#include <vector>

#include "tessera/membership.h"
#include "tessera/peer_service.h"
#include "tessera/rpc/tessera.capnp.h"
#include "tessera/node/client_service.h"
#include "tessera/node/cluster_peer_dialer.h"

namespace tessera {
namespace {

using node::ClientService;
using node::ClientServiceOptions;

// A peer service whose capability is another ClientService, so that a call on it (hello) shows
// the capability reached the caller.
class HelloPeerService final : public PeerService {
 public:
  explicit HelloPeerService(kj::Timer* timer) : timer_(timer) {}
  capnp::Capability::Client capability() override {
    ++made_;
    return rpc::Tessera::Client(kj::heap<ClientService>("inner", nullptr, timer_, ClientServiceOptions{.default_timeout_ms = 1000}));
  }
  int made() const { return made_; }

 private:
  kj::Timer* timer_;
  int made_ = 0;
};

class OneServiceMembership final : public Membership {
 public:
  explicit OneServiceMembership(PeerService* service) : service_(service) {}
  std::vector<NodeInfo> members() const override { return {}; }
  Status join(const NodeInfo&) override { return Status::ok(); }
  Status leave() override { return Status::ok(); }
  void subscribe(Listener) override {}
  PeerService* peer_service(std::string_view name) override {
    return name == "hello" ? service_ : nullptr;
  }

 private:
  PeerService* service_;
};

class PeerHookTest : public ::testing::Test {
 protected:
  ClientServiceOptions options(Membership* membership) {
    return ClientServiceOptions{
        .default_timeout_ms = 1000, .cluster_secret = &secret_, .membership = membership};
  }
  // The PeerLink of `node`, as a peer with the secret gets it.
  rpc::PeerLink::Client link_of(rpc::Tessera::Client node) {
    return dialer_->authenticate(kj::mv(node), "node under test").wait(io_.waitScope);
  }

  ClusterSecret secret_ = std::move(ClusterSecret::from_bytes(std::string(40, 'k'))).value();
  // Held by pointer, like the AsyncIoContext: its destructor may throw, a fixture's may not.
  std::unique_ptr<node::ClusterPeerDialer> dialer_ =
      std::make_unique<node::ClusterPeerDialer>("peer-1", &secret_);
  // Held by pointer: AsyncIoContext's destructor may throw, a test fixture's may not.
  std::unique_ptr<kj::AsyncIoContext> context_ =
      std::make_unique<kj::AsyncIoContext>(kj::setupAsyncIo());
  kj::AsyncIoContext& io_ = *context_;
  kj::Timer& timer_ = io_.provider->getTimer();
};

TEST_F(PeerHookTest, KnownServiceIsHandedOut) {
  HelloPeerService service(&timer_);
  OneServiceMembership membership(&service);
  rpc::Tessera::Client node(kj::heap<ClientService>("node-1", nullptr, &timer_, options(&membership)));
  auto request = link_of(node).peerRequest();
  request.setName("hello");
  auto response = request.send().wait(io_.waitScope);
  EXPECT_EQ(response.getError().getCode(), rpc::ErrorCode::OK);
  auto inner = response.getService().castAs<rpc::Tessera>();
  auto hello = inner.helloRequest().send().wait(io_.waitScope);
  EXPECT_EQ(std::string(hello.getNodeId().cStr()), "inner");
  EXPECT_EQ(service.made(), 1);
}

TEST_F(PeerHookTest, UnknownServiceIsNotFound) {
  HelloPeerService service(&timer_);
  OneServiceMembership membership(&service);
  rpc::Tessera::Client node(kj::heap<ClientService>("node-1", nullptr, &timer_, options(&membership)));
  auto request = link_of(node).peerRequest();
  request.setName("raft");
  auto response = request.send().wait(io_.waitScope);
  EXPECT_EQ(response.getError().getCode(), rpc::ErrorCode::NOT_FOUND);
  std::string message = response.getError().getMessage().cStr();
  EXPECT_NE(message.find("\"raft\""), std::string::npos) << message;
  EXPECT_NE(message.find("node-1"), std::string::npos) << message;
  EXPECT_EQ(service.made(), 0);
}

TEST_F(PeerHookTest, NodeWithoutMembershipIsNotSupported) {
  rpc::Tessera::Client node(kj::heap<ClientService>("single", nullptr, &timer_, options(nullptr)));
  auto request = link_of(node).peerRequest();
  request.setName("raft");
  auto response = request.send().wait(io_.waitScope);
  EXPECT_EQ(response.getError().getCode(), rpc::ErrorCode::NOT_SUPPORTED);
  std::string message = response.getError().getMessage().cStr();
  EXPECT_NE(message.find("\"raft\""), std::string::npos) << message;
}

// Gossip's membership (and any plugin that offers nothing) keeps the default: no service.
TEST_F(PeerHookTest, DefaultMembershipOffersNothing) {
  class Plain final : public Membership {
   public:
    std::vector<NodeInfo> members() const override { return {}; }
    Status join(const NodeInfo&) override { return Status::ok(); }
    Status leave() override { return Status::ok(); }
    void subscribe(Listener) override {}
  } plain;
  EXPECT_EQ(plain.peer_service("raft"), nullptr);
  rpc::Tessera::Client node(kj::heap<ClientService>("node-2", nullptr, &timer_, options(&plain)));
  auto request = link_of(node).peerRequest();
  request.setName("raft");
  EXPECT_EQ(request.send().wait(io_.waitScope).getError().getCode(), rpc::ErrorCode::NOT_FOUND);
}

// The old way in, Tessera.peer on the bootstrap, hands out nothing, whatever the plugins offer.
TEST_F(PeerHookTest, BootstrapPeerIsRefused) {
  HelloPeerService service(&timer_);
  OneServiceMembership membership(&service);
  rpc::Tessera::Client node(kj::heap<ClientService>("node-1", nullptr, &timer_, options(&membership)));
  auto request = node.peerRequest();
  request.setName("hello");
  auto response = request.send().wait(io_.waitScope);
  EXPECT_EQ(response.getError().getCode(), rpc::ErrorCode::UNAUTHORIZED);
  EXPECT_EQ(service.made(), 0);
}

}  // namespace
}  // namespace tessera
