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
  std::vector<NodeId> sorted = request.replicas;
  std::sort(sorted.begin(), sorted.end());
  if (sorted.front().empty()) return Status::invalid_argument("empty node id in preference list");
  if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end()) {
    return Status::invalid_argument("preference list names a node twice");
  }
  return Status::ok();
}

}  // namespace tessera::quorum
