#include "tessera/dynamo/anti_entropy_responder.h"

#include <variant>

namespace tessera::dynamo {

using antientropy::Message;
using antientropy::Session;

namespace {

// An answer that ends the session on this side, with nothing else in it.
AntiEntropyAnswer ended() {
  AntiEntropyAnswer answer;
  answer.finished = true;
  return answer;
}

}  // namespace

kj::Promise<Result<AntiEntropyAnswer>> AntiEntropyResponder::answer(NodeId from, Message message) {
  Key key{from, message.session};
  auto it = sessions_.find(key);
  if (it != sessions_.end()) {
    Responding& r = *it->second;
    // The peer sends its next message only once it has this node's answer: anything else is a
    // duplicate, answered with nothing.
    if (r.busy || !r.session) return Result<AntiEntropyAnswer>(AntiEntropyAnswer{});
    r.session->step(message);
    return drive(std::move(key), {});
  }
  const bool opens = message.seq == 0 && message.range == antientropy::TokenRange{0, 0} &&
                     antientropy::check_shape(message.shape).is_ok();
  if (!opens) return Result<AntiEntropyAnswer>(ended());
  if (sessions_.size() >= sessions_max_) {
    return Result<AntiEntropyAnswer>(Status::busy(
        "over " + std::to_string(sessions_max_) + " anti-entropy sessions at once; retry later"));
  }
  auto& made = sessions_[key];
  made = std::make_unique<Responding>();
  made->busy = true;
  auto build = [view = view_, from, shape = message.shape]() {
    return build_co_owned_tree(view, from, shape);
  };
  return pool_->run(std::move(build))
      .then([this, key, message = std::move(message)](
                Result<CoOwnedTree> built) mutable -> kj::Promise<Result<AntiEntropyAnswer>> {
        auto it = sessions_.find(key);
        if (it == sessions_.end()) return Result<AntiEntropyAnswer>(ended());
        if (!built.is_ok()) {
          sessions_.erase(it);
          return Result<AntiEntropyAnswer>(built.status());
        }
        Responding& r = *it->second;
        r.tree = std::make_shared<const antientropy::MerkleTree>(std::move(built->tree));
        r.session = Session::accept(message, *r.tree);
        if (!r.session) return Result<AntiEntropyAnswer>(finish(key, {}));
        return drive(key, {});
      });
}

kj::Promise<Result<AntiEntropyAnswer>> AntiEntropyResponder::drive(Key key,
                                                                   AntiEntropyAnswer answer) {
  auto it = sessions_.find(key);
  if (it == sessions_.end()) {
    answer.finished = true;
    return Result<AntiEntropyAnswer>(std::move(answer));
  }
  Responding& r = *it->second;
  r.busy = true;
  std::vector<Bytes> push;
  bool finished = false;
  for (antientropy::Effect& effect : r.session->drain()) {
    if (auto* read = std::get_if<antientropy::ReadLeafEntries>(&effect)) {
      // A read comes alone: the session waits for its answer.
      auto job = [view = view_, peer = key.first, tree = r.tree, read = std::move(*read)]() {
        return read_co_owned_leaves(view, peer, *tree, read);
      };
      return pool_->run(std::move(job))
          .then([this, key, answer = std::move(answer)](
                    Result<antientropy::LeafEntries> entries) mutable
                -> kj::Promise<Result<AntiEntropyAnswer>> {
            auto it = sessions_.find(key);
            if (it == sessions_.end() || !entries.is_ok()) {
              if (it != sessions_.end()) sessions_.erase(it);
              return entries.is_ok() ? Result<AntiEntropyAnswer>(ended())
                                     : Result<AntiEntropyAnswer>(entries.status());
            }
            it->second->session->leaf_entries_read(std::move(entries).value());
            return drive(key, std::move(answer));
          });
    } else if (auto* pushed = std::get_if<antientropy::PushKeys>(&effect)) {
      push = std::move(pushed->keys);
    } else if (auto* fetched = std::get_if<antientropy::FetchKeys>(&effect)) {
      answer.fetch = std::move(fetched->keys);
    } else if (auto* send = std::get_if<antientropy::SendToPeer>(&effect)) {
      answer.reply = std::move(send->message);
    } else if (std::holds_alternative<antientropy::Finished>(effect)) {
      finished = true;
    }
  }
  auto done = [this, key, finished](AntiEntropyAnswer answer) -> Result<AntiEntropyAnswer> {
    if (finished) return finish(key, std::move(answer));
    auto it = sessions_.find(key);
    if (it != sessions_.end()) it->second->busy = false;
    return answer;
  };
  if (push.empty()) return done(std::move(answer));
  auto read = [store = view_.store, push = std::move(push)]() { return read_host_keys(store, push); };
  return pool_->run(std::move(read))
      .then([done, answer = std::move(answer)](
                Result<std::vector<HostKeyVersions>> versions) mutable -> Result<AntiEntropyAnswer> {
        // Repairs are best effort: a failed read leaves them to the next session.
        if (versions.is_ok()) answer.push = std::move(versions).value();
        return done(std::move(answer));
      });
}

AntiEntropyAnswer AntiEntropyResponder::finish(const Key& key, AntiEntropyAnswer answer) {
  sessions_.erase(key);
  answer.finished = true;
  return answer;
}

void AntiEntropyResponder::tick() {
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    Responding& r = *it->second;
    if (r.session && !r.busy) {
      r.session->tick();
      for (antientropy::Effect& effect : r.session->drain()) (void)effect;
      if (r.session->done()) {
        it = sessions_.erase(it);
        continue;
      }
    }
    ++it;
  }
}

}  // namespace tessera::dynamo
