// Configuration changes, one server at a time, and their encoding in log entries.
//
// Purpose: a ConfChange names one step (add a learner, promote a learner, add a voter, remove
// a member); apply_conf_change() checks it against the current configuration and gives the
// whole next configuration, which is what the kConfChange entry carries. A configuration
// takes effect on every node as soon as its entry is in that node's log, committed or not
// (see README.md for why this is safe with one change at a time).
// Thread-safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "raft/types.h"

namespace tessera::raft {

enum class ConfChangeType : uint8_t {
  kAddLearner,
  kPromoteLearner,
  kAddVoter,  // adds a voter directly; prefer learner then promote for a node that lags
  kRemove,    // removes a voter or a learner
};

struct ConfChange {
  ConfChangeType type = ConfChangeType::kAddLearner;
  NodeId node = kNoNode;
};

// The configuration after `change`, or nullopt if the change is not valid in `current` (adds a
// member twice, promotes a non-learner, removes an unknown node or the last voter).
std::optional<ConfState> apply_conf_change(const ConfState& current, const ConfChange& change);

std::string encode_conf_state(const ConfState& conf);
// nullopt if `data` is not a well-formed encoding.
std::optional<ConfState> decode_conf_state(std::string_view data);

}  // namespace tessera::raft
