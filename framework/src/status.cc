#include "tessera/status.h"

namespace tessera {

std::string_view status_code_name(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return "OK";
    case StatusCode::kNotFound: return "NotFound";
    case StatusCode::kInvalidArgument: return "InvalidArgument";
    case StatusCode::kTooLarge: return "TooLarge";
    case StatusCode::kNoSuchTable: return "NoSuchTable";
    case StatusCode::kTableExists: return "TableExists";
    case StatusCode::kNotLeader: return "NotLeader";
    case StatusCode::kStaleRoute: return "StaleRoute";
    case StatusCode::kQuorumUnavailable: return "QuorumUnavailable";
    case StatusCode::kTimeout: return "Timeout";
    case StatusCode::kCorruption: return "Corruption";
    case StatusCode::kIOError: return "IOError";
    case StatusCode::kNotSupported: return "NotSupported";
    case StatusCode::kBusy: return "Busy";
    case StatusCode::kUnavailable: return "Unavailable";
    case StatusCode::kInternal: return "Internal";
    case StatusCode::kUnauthorized: return "Unauthorized";
    case StatusCode::kForbidden: return "Forbidden";
    case StatusCode::kWouldBlock: return "WouldBlock";
  }
  return "Unknown";
}

std::string Status::to_string() const {
  if (is_ok()) return "OK";
  std::string out(status_code_name(code_));
  out += ": ";
  out += message_;
  return out;
}

Status Status::with_context(std::string_view context) const {
  if (is_ok()) return *this;
  std::string message(context);
  message += ": ";
  message += message_;
  Status out(code_, std::move(message));
  out.detail_ = detail_;
  return out;
}

const StatusDetail& Status::detail() const {
  static const StatusDetail kNone;
  return detail_ ? *detail_ : kNone;
}

Status Status::with_detail(StatusDetail detail) const {
  TESSERA_REQUIRE(!is_ok(), "an OK status carries no detail");
  Status out = *this;
  out.detail_ = std::make_shared<const StatusDetail>(std::move(detail));
  return out;
}

}  // namespace tessera
