#include "tessera/node/durable_gate.h"

#include <spdlog/spdlog.h>

namespace tessera::node {

struct DurableGate::Batch {
  explicit Batch(kj::PromiseCrossThreadFulfillerPair<Status> paf)
      : done(paf.promise.fork()),
        fulfiller(std::make_shared<kj::Own<kj::CrossThreadPromiseFulfiller<Status>>>(
            kj::mv(paf.fulfiller))) {}
  kj::ForkedPromise<Status> done;
  // Shared with the engine's callback, which may outlive the batch and the gate.
  std::shared_ptr<kj::Own<kj::CrossThreadPromiseFulfiller<Status>>> fulfiller;
};

DurableGate::DurableGate(LocalStore* store, WorkerPool* pool) : store_(store), pool_(pool) {}

DurableGate::~DurableGate() noexcept(false) = default;

kj::Promise<Status> DurableGate::wait() {
  if (store_->durable_now()) return Status::ok();
  Result<WorkerPool::InFlight> slot = pool_->count_in();
  if (!slot.is_ok()) return slot.status();
  if (open_.get() == nullptr) {
    open_ = kj::heap<Batch>(kj::newPromiseAndCrossThreadFulfiller<Status>());
    tasks_.add(kj::evalLast([this]() { ask(); }));
  }
  ++waiters_;
  return open_->done.addBranch().attach(std::move(slot).value());
}

void DurableGate::ask() {
  kj::Own<Batch> batch = kj::mv(open_);
  ++batches_;
  store_->when_durable(
      [fulfiller = batch->fulfiller](Status synced) { (*fulfiller)->fulfill(std::move(synced)); });
  // The branches handed out keep the fork alive; the batch itself may go.
}

void DurableGate::ErrorHandler::taskFailed(kj::Exception&& exception) {
  spdlog::error("durability wait failed: {}", exception.getDescription().cStr());
}

}  // namespace tessera::node
