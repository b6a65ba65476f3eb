// The schema's Error (tessera.capnp) to and from Status, detail included: one conversion for
// the node's services, the client library and any host that answers the client API.
#pragma once

#include <string>

#include "tessera/rpc/tessera.capnp.h"
#include "tessera/status.h"

namespace tessera {

// The schema's ErrorCode numbers the framework's StatusCode one to one, up to the last code
// they share.
static_assert(static_cast<int>(rpc::ErrorCode::INTERNAL) == static_cast<int>(StatusCode::kInternal));
static_assert(static_cast<int>(rpc::ErrorCode::UNAUTHORIZED) ==
              static_cast<int>(StatusCode::kUnauthorized));
static_assert(static_cast<int>(rpc::ErrorCode::FORBIDDEN) ==
              static_cast<int>(kLastSchemaStatusCode));

inline void write_error(rpc::Error::Builder error, const Status& status) {
  // WouldBlock is the node's own (status.h); one that escaped it is a bug.
  error.setCode(status.code() == StatusCode::kWouldBlock
                    ? rpc::ErrorCode::INTERNAL
                    : static_cast<rpc::ErrorCode>(status.code()));
  if (status.is_ok()) return;
  error.setMessage(status.message());
  const StatusDetail& detail = status.detail();
  if (!detail.leader_hint.empty()) error.setLeaderHint(detail.leader_hint);
  error.setAnswered(detail.answered);
  error.setRequired(detail.required);
  error.setRouteEpoch(detail.route_epoch);
}

// The Status an Error carries, detail included. A code from a later schema becomes Internal.
inline Status read_error(rpc::Error::Reader error) {
  if (error.getCode() == rpc::ErrorCode::OK) return Status::ok();
  auto code = static_cast<uint16_t>(error.getCode());
  if (code > static_cast<uint16_t>(kLastSchemaStatusCode)) code = uint16_t(StatusCode::kInternal);
  Status status(static_cast<StatusCode>(code),
                std::string(error.getMessage().cStr(), error.getMessage().size()));
  StatusDetail detail;
  detail.leader_hint = std::string(error.getLeaderHint().cStr(), error.getLeaderHint().size());
  detail.route_epoch = error.getRouteEpoch();
  detail.answered = error.getAnswered();
  detail.required = error.getRequired();
  if (detail.leader_hint.empty() && detail.route_epoch == 0 && detail.answered == 0 &&
      detail.required == 0) {
    return status;
  }
  return status.with_detail(std::move(detail));
}

}  // namespace tessera
