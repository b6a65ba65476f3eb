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
  return Status(code_, std::move(message));
}

}  // namespace tessera
