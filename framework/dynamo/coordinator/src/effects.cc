#include "tessera/quorum/effects.h"

#include <string>

namespace tessera::quorum {

Status to_status(const Answer& answer) {
  const auto* unavailable = std::get_if<QuorumUnavailable>(&answer);
  if (unavailable == nullptr) return Status::ok();
  return Status::quorum_unavailable(
      std::to_string(unavailable->answered) + " of " + std::to_string(unavailable->required) +
          " required replicas answered" +
          (unavailable->deadline_passed ? " before the deadline" : ""),
      static_cast<uint32_t>(unavailable->answered), static_cast<uint32_t>(unavailable->required));
}

}  // namespace tessera::quorum
