#include "tessera/quorum/request.h"

#include <algorithm>
#include <string>

namespace tessera::quorum {

Status check_request(const Request& request) {
  const size_t nodes = request.replicas.size();
  if (nodes == 0 || nodes > kPreferenceListNodesMax) {
    return Status::invalid_argument("preference list has " + std::to_string(nodes) +
                                    " nodes; want 1.." + std::to_string(kPreferenceListNodesMax));
  }
  if (request.up.size() != nodes) {
    return Status::invalid_argument("up has " + std::to_string(request.up.size()) +
                                    " entries for " + std::to_string(nodes) + " replicas");
  }
  if (request.owners == 0 || request.owners > nodes || request.owners > kOwnersMax) {
    return Status::invalid_argument("owners (N) is " + std::to_string(request.owners) +
                                    "; want 1..min(replicas, " + std::to_string(kOwnersMax) + ")");
  }
  if (request.required == 0 || request.required > request.owners) {
    return Status::invalid_argument("quorum (R or W) is " + std::to_string(request.required) +
                                    "; want 1..N = " + std::to_string(request.owners));
  }
  if (request.deadline_ticks == 0 || request.deadline_ticks > kDeadlineTicksMax) {
    return Status::invalid_argument("deadline_ticks is " + std::to_string(request.deadline_ticks) +
                                    "; want 1.." + std::to_string(kDeadlineTicksMax));
  }
  if (request.next_owners.size() > kOwnersMax ||
      request.next_up.size() != request.next_owners.size()) {
    return Status::invalid_argument("next_owners has " + std::to_string(request.next_owners.size()) +
                                    " nodes and next_up " + std::to_string(request.next_up.size()) +
                                    "; want the same count, at most " + std::to_string(kOwnersMax));
  }
  if (!request.next_owners.empty() && request.operation != Operation::kWrite) {
    return Status::invalid_argument("only a write has next_owners");
  }
  std::vector<NodeId> next = request.next_owners;
  std::sort(next.begin(), next.end());
  if (std::adjacent_find(next.begin(), next.end()) != next.end() ||
      (!next.empty() && next.front().empty())) {
    return Status::invalid_argument("next_owners names a node twice or an empty id");
  }
  std::vector<NodeId> sorted = request.replicas;
  std::sort(sorted.begin(), sorted.end());
  if (sorted.front().empty()) return Status::invalid_argument("empty node id in preference list");
  if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end()) {
    return Status::invalid_argument("preference list names a node twice");
  }
  return Status::ok();
}

}  // namespace tessera::quorum
