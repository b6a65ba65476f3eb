// Session: construction, the generic checks of every message, the descent, time and effects.
// The leaf exchange is in session_leaves.cc.
#include "tessera/antientropy/session.h"

#include <algorithm>
#include <bit>
#include <utility>

#include "tessera/assert.h"

namespace tessera::antientropy {

Session::Session(Role role, SessionId id, const MerkleTree& tree, uint64_t idle_ticks_max)
    : role_(role), id_(id), tree_(&tree), idle_ticks_max_(idle_ticks_max) {
  TESSERA_REQUIRE(idle_ticks_max >= 1);
}

Session::Session(SessionId id, const MerkleTree& tree, uint64_t idle_ticks_max)
    : Session(Role::kInitiator, id, tree, idle_ticks_max) {
  sent_indices_ = {0};
  expected_level_ = 1;
  send(NodeHashes{0, {NodeHash{0, tree.root()}}});
}

bool Session::opens_session(const Message& message, const MerkleTree& tree) {
  const auto* hashes = std::get_if<NodeHashes>(&message.body);
  return message.seq == 0 && message.range == tree.range() && message.shape == tree.shape() &&
         hashes != nullptr && hashes->level == 0 && hashes->nodes.size() == 1 &&
         hashes->nodes[0].index == 0;
}

std::optional<Session> Session::accept(const Message& first, const MerkleTree& tree,
                                       uint64_t idle_ticks_max) {
  if (!opens_session(first, tree)) return std::nullopt;
  Session session(Role::kResponder, first.session, tree, idle_ticks_max);
  session.step(first);
  TESSERA_ASSERT(session.stats_.messages_ignored == 0);
  return session;
}

Outcome Session::outcome() const {
  TESSERA_REQUIRE(done());
  return *outcome_;
}

void Session::step(const Message& message) {
  const bool for_us = state_ != State::kDone && message.session == id_ && message.seq == seq_ &&
                      message.range == tree_->range() && message.shape == tree_->shape();
  if (!for_us || !std::visit([this](const auto& body) { return acceptable(body); }, message.body)) {
    ++stats_.messages_ignored;
    return;
  }
  ++seq_;
  idle_ticks_ = 0;
  partial_ = partial_ || message.partial;
  std::visit([this](const auto& body) { handle(body); }, message.body);
}

bool Session::acceptable(const NodeHashes& body) const {
  const uint32_t depth = tree_->shape().depth;
  if (state_ != State::kAwaitingHashes || body.level != expected_level_ || body.level > depth) {
    return false;
  }
  if (body.nodes.empty() || body.nodes.size() > kNodesPerMessageMax) return false;
  const uint32_t fan_out_bits = static_cast<uint32_t>(std::countr_zero(tree_->shape().fan_out));
  for (size_t i = 0; i < body.nodes.size(); ++i) {
    const uint32_t index = body.nodes[i].index;
    if (index >= tree_->nodes_at(body.level)) return false;
    if (i > 0 && index <= body.nodes[i - 1].index) return false;
    // Below a node this side sent: the peer expands only what it was shown. (The root is the
    // first message, which has no parent.)
    if (body.level > 0 &&
        !std::binary_search(sent_indices_.begin(), sent_indices_.end(), index >> fan_out_bits)) {
      return false;
    }
  }
  return true;
}

bool Session::acceptable(const NoDifference&) const {
  // An answer to hashes this side sent (internal nodes or leaves).
  return state_ == State::kAwaitingHashes && seq_ > 0;
}

void Session::handle(const NodeHashes& body) {
  std::vector<uint32_t> differing;
  for (const NodeHash& node : body.nodes) {
    if (tree_->node(body.level, node.index) != node.hash) differing.push_back(node.index);
  }
  stats_.nodes_compared += body.nodes.size();
  stats_.nodes_differing += differing.size();
  if (differing.empty()) {
    send(NoDifference{});
    finish(Outcome::kInSync);
    return;
  }
  if (body.level == tree_->shape().depth) {
    stats_.leaves_differing += differing.size();
    leaves_ = std::move(differing);
    page_after_.reset();
    state_ = State::kReadingOwnPage;
    request_read(std::nullopt, std::nullopt);
    return;
  }
  // Expand the differing nodes, as many as fit, in index order.
  const uint32_t fan_out = tree_->shape().fan_out;
  const size_t expanded = std::min(differing.size(), kNodesPerMessageMax / fan_out);
  if (expanded < differing.size()) partial_ = true;
  NodeHashes children{body.level + 1, {}};
  sent_indices_.clear();
  for (size_t i = 0; i < expanded; ++i) {
    for (uint32_t c = 0; c < fan_out; ++c) {
      const uint32_t child = differing[i] * fan_out + c;
      children.nodes.push_back(NodeHash{child, tree_->node(body.level + 1, child)});
      sent_indices_.push_back(child);
    }
  }
  TESSERA_ASSERT(children.nodes.size() <= kNodesPerMessageMax);
  expected_level_ = body.level + 2;
  send(std::move(children));
}

void Session::handle(const NoDifference&) { finish(Outcome::kInSync); }

void Session::tick() {
  if (done()) return;
  if (++idle_ticks_ >= idle_ticks_max_) finish(Outcome::kAbandoned);
}

std::vector<Effect> Session::drain() {
  std::vector<Effect> out;
  out.swap(effects_);
  return out;
}

void Session::request_read(std::optional<EntryPosition> after,
                           std::optional<EntryPosition> through) {
  pending_read_ = ReadLeafEntries{leaves_, std::move(after), std::move(through), kEntriesPerPageMax,
                                  kPageKeyBytesMax};
  emit(pending_read_);
}

void Session::send(MessageBody body) {
  emit(SendToPeer{Message{id_, seq_++, tree_->range(), tree_->shape(), partial_, std::move(body)}});
}

void Session::finish(Outcome outcome) {
  TESSERA_ASSERT(!done());
  state_ = State::kDone;
  outcome_ = outcome;
  emit(Finished{outcome, partial_});
}

void Session::emit(Effect effect) {
  TESSERA_REQUIRE(effects_.size() < kEffectsPendingMax, "drain the session after every input");
  effects_.push_back(std::move(effect));
}

}  // namespace tessera::antientropy
