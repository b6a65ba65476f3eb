#include "client_connections.h"

#include <arpa/inet.h>
#include <malloc.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <spdlog/spdlog.h>

namespace tessera::node {
namespace {

// Pause after a failed accept before the next one, and how often a streak is logged.
constexpr uint32_t kAcceptRetryDelayMs = 100;
constexpr uint32_t kRefusalsPerLog = 100;
// Descriptors a node needs besides its clients: engine files, peer links, the listener.
constexpr rlim_t kDescriptorReserve = 256;
// Once the open connections fall to half of their peak since the last trim, and that peak was
// at least this many, the freed memory of the closed ones is given back to the system.
constexpr uint32_t kTrimAfterConnections = 256;

// The client's IP address, or "" when the stream has none (the limit per address then does not
// apply).
std::string peer_address(kj::AsyncIoStream& stream) {
  struct sockaddr_storage address {};
  uint length = sizeof(address);
  try {
    stream.getpeername(reinterpret_cast<struct sockaddr*>(&address), &length);
  } catch (const kj::Exception&) {
    return {};
  }
  char text[INET6_ADDRSTRLEN] = {};
  if (address.ss_family == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(&address)->sin_addr, text, sizeof(text));
  } else if (address.ss_family == AF_INET6) {
    inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(&address)->sin6_addr, text,
              sizeof(text));
  }
  return text;
}

// A client stream that closes itself when no byte has gone either way for `idle`: it shuts the
// socket down, so that the RPC system's pending read ends and the connection with it.
class IdleClosingStream final : public kj::AsyncIoStream {
 public:
  IdleClosingStream(kj::Own<kj::AsyncIoStream> inner, kj::Timer& timer, kj::Duration idle)
      : inner_(kj::mv(inner)),
        timer_(timer),
        idle_(idle),
        last_(timer.now()),
        watching_(watch().eagerlyEvaluate(nullptr)) {}

  kj::Promise<size_t> tryRead(void* buffer, size_t min_bytes, size_t max_bytes) override {
    return inner_->tryRead(buffer, min_bytes, max_bytes).then([this](size_t n) {
      last_ = timer_.now();
      return n;
    });
  }
  kj::Promise<void> write(const void* buffer, size_t size) override {
    last_ = timer_.now();
    return inner_->write(buffer, size);
  }
  kj::Promise<void> write(kj::ArrayPtr<const kj::ArrayPtr<const kj::byte>> pieces) override {
    last_ = timer_.now();
    return inner_->write(pieces);
  }
  kj::Promise<void> whenWriteDisconnected() override { return inner_->whenWriteDisconnected(); }
  void shutdownWrite() override { inner_->shutdownWrite(); }
  void abortRead() override { inner_->abortRead(); }
  void getsockopt(int level, int option, void* value, uint* length) override {
    inner_->getsockopt(level, option, value, length);
  }
  void setsockopt(int level, int option, const void* value, uint length) override {
    inner_->setsockopt(level, option, value, length);
  }
  void getsockname(struct sockaddr* addr, uint* length) override {
    inner_->getsockname(addr, length);
  }
  void getpeername(struct sockaddr* addr, uint* length) override {
    inner_->getpeername(addr, length);
  }

 private:
  kj::Promise<void> watch() {
    return timer_.atTime(last_ + idle_).then([this]() -> kj::Promise<void> {
      if (timer_.now() - last_ < idle_) return watch();
      spdlog::debug("closing a client connection idle for {} ms", idle_ / kj::MILLISECONDS);
      KJ_IF_MAYBE(fd, inner_->getFd()) { ::shutdown(*fd, SHUT_RDWR); }
      else {
        inner_->shutdownWrite();
        inner_->abortRead();
      }
      return kj::READY_NOW;
    });
  }

  kj::Own<kj::AsyncIoStream> inner_;
  kj::Timer& timer_;
  const kj::Duration idle_;
  kj::TimePoint last_;
  kj::Promise<void> watching_;
};

}  // namespace

// One served connection; members go in reverse order (the RPC system first).
struct ConnectionServer::Connection {
  Connection(kj::Own<kj::AsyncIoStream> s, capnp::Capability::Client bootstrap)
      : stream(kj::mv(s)),
        network(*stream, capnp::rpc::twoparty::Side::SERVER),
        rpc(capnp::makeRpcServer(network, kj::mv(bootstrap))) {}
  kj::Own<kj::AsyncIoStream> stream;
  capnp::TwoPartyVatNetwork network;
  capnp::RpcSystem<capnp::rpc::twoparty::VatId> rpc;
};

ConnectionServer::ConnectionServer(MakeBootstrap make_bootstrap, kj::Own<kj::TlsContext> tls)
    : make_bootstrap_(std::move(make_bootstrap)), tls_(kj::mv(tls)) {}

ConnectionServer::~ConnectionServer() noexcept(false) { connections_ = nullptr; }

void ConnectionServer::accept(kj::Own<kj::AsyncIoStream> connection) {
  if (tls_.get() == nullptr) {
    serve(kj::mv(connection));
    return;
  }
  // The handshake is a task of its own: a client that never finishes it holds nothing else up.
  connections_->add(tls_->wrapServer(kj::mv(connection))
                        .then([this](kj::Own<kj::AsyncIoStream> secured) {
                          serve(kj::mv(secured));
                        }));
}

void ConnectionServer::serve(kj::Own<kj::AsyncIoStream> connection) {
  auto served = kj::heap<Connection>(kj::mv(connection), make_bootstrap_());
  kj::Promise<void> disconnected = served->network.onDisconnect();
  connections_->add(disconnected.attach(kj::mv(served)));
}

void ConnectionServer::ErrorHandler::taskFailed(kj::Exception&& exception) {
  spdlog::debug("a client connection failed: {}", exception.getDescription().cStr());
}

void serve_connection(ConnectionServer& server, kj::Timer& timer, uint32_t idle_timeout_ms,
                      kj::Own<kj::AsyncIoStream> connection, ConnectionToken token) {
  if (idle_timeout_ms != 0) {
    connection = kj::heap<IdleClosingStream>(kj::mv(connection), timer,
                                             idle_timeout_ms * kj::MILLISECONDS);
  }
  server.accept(kj::mv(connection).attach(kj::mv(token)));
}

ClientAcceptor::ClientAcceptor(kj::ConnectionReceiver& listener, kj::Timer& timer,
                               ConnectionLimits limits, ServeConnection serve)
    : listener_(listener), timer_(timer), limits_(limits), serve_(std::move(serve)) {}

kj::Promise<void> ClientAcceptor::accept_next(uint32_t failures) {
  // evalNow: accept() may also throw at once, before it returns a promise.
  return kj::evalNow([this]() { return listener_.accept(); })
      .then(
          [this](kj::Own<kj::AsyncIoStream>&& connection) {
            admit(kj::mv(connection));
            return accept_next(0);
          },
          [this, failures](kj::Exception&& e) {
            if (failures % kRefusalsPerLog == 0) {
              spdlog::warn("cannot accept a client ({} failures in a row), retrying every {} ms: {}",
                           failures + 1, kAcceptRetryDelayMs, e.getDescription().cStr());
            }
            return timer_.afterDelay(kAcceptRetryDelayMs * kj::MILLISECONDS)
                .then([this, failures]() { return accept_next(failures + 1); });
          });
}

void ClientAcceptor::admit(kj::Own<kj::AsyncIoStream> connection) {
  Counts& counts = *counts_;
  std::string address = peer_address(*connection);
  std::unique_lock lock(counts.mutex);
  const char* over = nullptr;
  if (counts.open >= limits_.connections_max) {
    over = "connections_max";
  } else if (!address.empty() && counts.by_address[address] >= limits_.per_address_max) {
    over = "connections_per_address_max";
  }
  if (over != nullptr) {
    // Dropping the stream closes it: the client sees its connection end at once.
    if (counts.refused++ % kRefusalsPerLog == 0) {
      spdlog::warn("{} client connections are open ({} from {}); closing new ones past {} ({} "
                   "so far)",
                   counts.open, counts.by_address[address], address, over, counts.refused);
    }
    return;
  }
  ++counts.open;
  counts.peak_since_trim = std::max(counts.peak_since_trim, counts.open);
  if (!address.empty()) ++counts.by_address[address];
  lock.unlock();
  ConnectionToken token(nullptr, [counts = counts_, address](void*) {
    bool trim = false;
    {
      std::lock_guard held(counts->mutex);
      --counts->open;
      if (counts->peak_since_trim >= kTrimAfterConnections &&
          counts->open <= counts->peak_since_trim / 2) {
        counts->peak_since_trim = counts->open;
        trim = true;
      }
      if (!address.empty()) {
        auto it = counts->by_address.find(address);
        if (it != counts->by_address.end() && --it->second == 0) counts->by_address.erase(it);
      }
    }
    // The allocator keeps what closed connections freed for later use; after many close, the
    // node gives it back rather than holding its peak for good. glibc trims every arena.
    if (trim) ::malloc_trim(0);
  });
  serve_(kj::mv(connection), kj::mv(token));
}

void raise_descriptor_limit(uint32_t connections_max) {
  struct rlimit limit {};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  const rlim_t before = limit.rlim_cur;
  if (limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) limit.rlim_cur = before;
  }
  spdlog::info("open file descriptors: limit {} (was {}, hard limit {})",
               static_cast<unsigned long long>(limit.rlim_cur),
               static_cast<unsigned long long>(before),
               static_cast<unsigned long long>(limit.rlim_max));
  if (limit.rlim_cur != RLIM_INFINITY && connections_max + kDescriptorReserve > limit.rlim_cur) {
    spdlog::warn("connections_max {} leaves fewer than {} of the {} descriptors for files and "
                 "peers: a full node may fail to open a file",
                 connections_max, static_cast<unsigned long long>(kDescriptorReserve),
                 static_cast<unsigned long long>(limit.rlim_cur));
  }
}

}  // namespace tessera::node
