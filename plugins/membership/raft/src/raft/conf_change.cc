#include "raft/conf_change.h"

#include <algorithm>
#include <cstring>

namespace tessera::raft {

bool ConfState::is_voter(NodeId id) const {
  return std::binary_search(voters.begin(), voters.end(), id);
}

bool ConfState::is_learner(NodeId id) const {
  return std::binary_search(learners.begin(), learners.end(), id);
}

namespace {

void insert_sorted(std::vector<NodeId>& ids, NodeId id) {
  ids.insert(std::lower_bound(ids.begin(), ids.end(), id), id);
}

void erase_id(std::vector<NodeId>& ids, NodeId id) {
  ids.erase(std::remove(ids.begin(), ids.end(), id), ids.end());
}

// A configuration is at most this many members: a bound on decoding, far above any group.
constexpr uint64_t kMembersMax = 1024;

void put_u64(std::string& out, uint64_t v) {
  char buf[8];
  std::memcpy(buf, &v, 8);
  out.append(buf, 8);
}

bool get_u64(std::string_view& in, uint64_t* v) {
  if (in.size() < 8) return false;
  std::memcpy(v, in.data(), 8);
  in.remove_prefix(8);
  return true;
}

}  // namespace

std::optional<ConfState> apply_conf_change(const ConfState& current, const ConfChange& change) {
  if (change.node == kNoNode) return std::nullopt;
  ConfState next = current;
  switch (change.type) {
    case ConfChangeType::kAddLearner:
      if (current.contains(change.node)) return std::nullopt;
      insert_sorted(next.learners, change.node);
      break;
    case ConfChangeType::kPromoteLearner:
      if (!current.is_learner(change.node)) return std::nullopt;
      erase_id(next.learners, change.node);
      insert_sorted(next.voters, change.node);
      break;
    case ConfChangeType::kAddVoter:
      if (current.contains(change.node)) return std::nullopt;
      insert_sorted(next.voters, change.node);
      break;
    case ConfChangeType::kRemove:
      if (!current.contains(change.node)) return std::nullopt;
      if (current.is_voter(change.node) && current.voters.size() == 1) return std::nullopt;
      erase_id(next.voters, change.node);
      erase_id(next.learners, change.node);
      break;
  }
  return next;
}

// Layout: u64 voter count, voters, u64 learner count, learners; little-endian host order.
std::string encode_conf_state(const ConfState& conf) {
  std::string out;
  out.reserve(16 + 8 * (conf.voters.size() + conf.learners.size()));
  put_u64(out, conf.voters.size());
  for (NodeId id : conf.voters) put_u64(out, id);
  put_u64(out, conf.learners.size());
  for (NodeId id : conf.learners) put_u64(out, id);
  return out;
}

std::optional<ConfState> decode_conf_state(std::string_view data) {
  ConfState conf;
  for (std::vector<NodeId>* list : {&conf.voters, &conf.learners}) {
    uint64_t count = 0;
    if (!get_u64(data, &count) || count > kMembersMax) return std::nullopt;
    for (uint64_t k = 0; k < count; ++k) {
      uint64_t id = 0;
      if (!get_u64(data, &id)) return std::nullopt;
      list->push_back(id);
    }
    if (!std::is_sorted(list->begin(), list->end())) return std::nullopt;
  }
  if (!data.empty()) return std::nullopt;
  return conf;
}

}  // namespace tessera::raft
