// A plugin completion (tessera/replication.h: called once, on a plugin thread) turned into a
// promise on the caller's KJ event loop, for hosts of replication groups.
#pragma once

#include <kj/async.h>

#include <memory>
#include <utility>

#include "tessera/replication.h"

namespace tessera {

template <typename T>
std::pair<kj::Promise<Result<T>>, Completion<T>> loop_completion() {
  auto paf = kj::newPromiseAndCrossThreadFulfiller<Result<T>>();
  // Completion is a std::function, which must be copyable; the fulfiller is not.
  auto fulfiller =
      std::make_shared<kj::Own<kj::CrossThreadPromiseFulfiller<Result<T>>>>(kj::mv(paf.fulfiller));
  Completion<T> done = [fulfiller](Result<T> result) { (*fulfiller)->fulfill(std::move(result)); };
  return {kj::mv(paf.promise), std::move(done)};
}

}  // namespace tessera
