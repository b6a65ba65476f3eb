#include "client_loops.h"

#include <fcntl.h>

#include <future>
#include <thread>

#include <kj/io.h>
#include <spdlog/spdlog.h>

namespace tessera::node {

Result<std::unique_ptr<ClientLoops>> ClientLoops::start(size_t loops, Profile& profile,
                                                        MakeService make_service,
                                                        uint32_t idle_timeout_ms,
                                                        std::shared_ptr<const TlsMaterial> tls) {
  std::unique_ptr<ClientLoops> started(new ClientLoops(idle_timeout_ms));
  for (size_t i = 0; i < loops; ++i) {
    auto loop = std::make_unique<Loop>();
    std::future<Status> ready = loop->ready.get_future();
    loop->thread = std::thread(run, loop.get(), &profile, make_service, tls);
    Status status = ready.get();
    if (status.code() == StatusCode::kNotSupported) {
      loop->thread.join();
      break;  // the profile serves from the main loop only
    }
    started->loops_.push_back(std::move(loop));  // joined by the destructor, even on error
    if (!status.is_ok()) return status;
  }
  return started;
}

void ClientLoops::run(Loop* loop, Profile* profile, MakeService make_service,
                      std::shared_ptr<const TlsMaterial> tls) {
  bool reported = false;
  try {
    kj::AsyncIoContext io = kj::setupAsyncIo();
    std::unique_ptr<RequestPath> path = profile->path_for_loop();
    if (path == nullptr) {
      loop->ready.set_value(Status::not_supported("the profile serves from the main loop"));
      return;
    }
    {
      std::unique_ptr<ClientServices> services = make_service(path.get(), io.provider->getTimer());
      ConnectionServer server(
          [&services]() -> capnp::Capability::Client {
            return rpc::Tessera::Client(services->for_connection());
          },
          tls ? make_server_tls(*tls, io.provider->getTimer()) : kj::Own<kj::TlsContext>());
      auto stopped = kj::newPromiseAndCrossThreadFulfiller<void>();
      loop->executor = &kj::getCurrentThreadExecutor();
      loop->io = &io;
      loop->server = &server;
      loop->stop = kj::mv(stopped.fulfiller);
      reported = true;
      loop->ready.set_value(Status::ok());
      stopped.promise.wait(io.waitScope);
    }  // the server, and with it every connection of this loop, goes before the path
  } catch (const kj::Exception& e) {
    Status failed = Status::internal(std::string("a client event loop failed: ") +
                                     e.getDescription().cStr());
    if (!reported) {
      loop->ready.set_value(failed);
    } else {
      spdlog::error("{}", failed.to_string());
    }
  }
}

ClientLoops::~ClientLoops() noexcept(false) {
  handoffs_ = nullptr;  // while the loops still run: a queued handoff is cancelled on its loop
  for (auto& loop : loops_) {
    if (loop->stop.get() != nullptr) loop->stop->fulfill();
  }
  for (auto& loop : loops_) {
    if (loop->thread.joinable()) loop->thread.join();
  }
}

void ClientLoops::serve(size_t index, kj::Own<kj::AsyncIoStream> connection,
                        ConnectionToken token) {
  Loop* loop = loops_.at(index).get();
  int copy = -1;
  KJ_IF_MAYBE(fd, connection->getFd()) { copy = ::fcntl(*fd, F_DUPFD_CLOEXEC, 0); }
  connection = nullptr;  // closes this loop's descriptor; the copy keeps the socket
  if (copy < 0) {
    spdlog::warn("cannot hand a client connection to event loop {}: no descriptor", index + 1);
    return;  // the client sees its connection close; the token frees its place
  }
  kj::AutoCloseFd owned(copy);
  const uint32_t idle_ms = idle_timeout_ms_;
  handoffs_->add(loop->executor->executeAsync(
      [loop, owned = kj::mv(owned), token = std::move(token), idle_ms]() mutable {
        // The socket was made non-blocking by the accepting loop; the flag is shared.
        auto stream = loop->io->lowLevelProvider->wrapSocketFd(
            owned.release(), kj::LowLevelAsyncIoProvider::TAKE_OWNERSHIP |
                                 kj::LowLevelAsyncIoProvider::ALREADY_NONBLOCK |
                                 kj::LowLevelAsyncIoProvider::ALREADY_CLOEXEC);
        serve_connection(*loop->server, loop->io->provider->getTimer(), idle_ms,
                         kj::mv(stream), std::move(token));
      }));
}

void ClientLoops::ErrorHandler::taskFailed(kj::Exception&& exception) {
  spdlog::warn("a client connection was not handed to its event loop: {}",
               exception.getDescription().cStr());
}

}  // namespace tessera::node
