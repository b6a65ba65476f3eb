// Status and Result<T>: errors as values.
//
// Every call that crosses a plugin boundary or the RPC schema reports failure as a Status,
// never as an exception. A Status is a code from a small closed set (the same set the client
// schema exposes as ErrorCode) plus a human-readable message that names what is wrong. OK carries
// no message and costs nothing to copy.
//
// Result<T> is either a T or a non-OK Status. Absence that is not an error (a missing key) is
// expressed with std::optional inside the Result, never with a NotFound status.
//
// Thread-safety: both are values; distinct objects may be used from distinct threads freely.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "tessera/assert.h"

namespace tessera {

// Stable numbering: the client schema's ErrorCode mirrors these values one to one.
enum class StatusCode : uint8_t {
  kOk = 0,
  kNotFound = 1,           // a named thing (plugin file, config key, table) does not exist
  kInvalidArgument = 2,    // the request or config is malformed
  kTooLarge = 3,           // a key, value or batch is over its configured limit
  kNoSuchTable = 4,        // the table named in a request does not exist
  kTableExists = 5,        // create of a table that exists already
  kNotLeader = 6,          // CP: this node does not lead the group; the message holds a hint
  kStaleRoute = 7,         // CP: the router's range map is out of date
  kQuorumUnavailable = 8,  // AP: fewer replicas answered than the request needs
  kTimeout = 9,            // the request's deadline passed
  kCorruption = 10,        // stored bytes failed a checksum or do not parse
  kIOError = 11,           // the operating system refused a read, write or fsync
  kNotSupported = 12,      // the plugin or profile does not offer this operation
  kBusy = 13,              // a resource is held by someone else (a locked data directory)
  kUnavailable = 14,       // the service is shutting down or not reachable
  kInternal = 15,          // a bug: reported instead of crashing the node
  kUnauthorized = 16,      // the caller proved no identity or a wrong one (token, peer proof)
  kForbidden = 17,         // the caller's role does not allow the call
  // An engine call made not to wait (ReadOptions::memory_only, WriteOptions::no_wait) would
  // have: the caller does it again where waiting is allowed. Never sent to a client, so it is
  // numbered outside the schema's range.
  kWouldBlock = 64,
};

// The last code the schema's ErrorCode has; a code above it read from the wire (a later
// schema's) is taken as kInternal.
inline constexpr StatusCode kLastSchemaStatusCode = StatusCode::kForbidden;

std::string_view status_code_name(StatusCode code);

// What some errors carry beyond their code and message, for a client or a router to act on.
struct StatusDetail {
  std::string leader_hint;   // NotLeader: the node believed to lead ("host:port" or a node id)
  uint64_t route_epoch = 0;  // StaleRoute: the range's epoch where the request was refused
  uint32_t answered = 0;     // QuorumUnavailable: replicas that answered in time
  uint32_t required = 0;     // QuorumUnavailable: replicas the request needed
};

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK.
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status ok() { return Status(); }
  static Status not_found(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
  static Status invalid_argument(std::string m) {
    return {StatusCode::kInvalidArgument, std::move(m)};
  }
  static Status too_large(std::string m) { return {StatusCode::kTooLarge, std::move(m)}; }
  static Status no_such_table(std::string m) { return {StatusCode::kNoSuchTable, std::move(m)}; }
  static Status table_exists(std::string m) { return {StatusCode::kTableExists, std::move(m)}; }
  static Status timeout(std::string m) { return {StatusCode::kTimeout, std::move(m)}; }
  static Status corruption(std::string m) { return {StatusCode::kCorruption, std::move(m)}; }
  static Status io_error(std::string m) { return {StatusCode::kIOError, std::move(m)}; }
  static Status not_supported(std::string m) {
    return {StatusCode::kNotSupported, std::move(m)};
  }
  static Status busy(std::string m) { return {StatusCode::kBusy, std::move(m)}; }
  static Status unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
  static Status internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }
  static Status unauthorized(std::string m) {
    return {StatusCode::kUnauthorized, std::move(m)};
  }
  static Status forbidden(std::string m) { return {StatusCode::kForbidden, std::move(m)}; }
  static Status would_block(std::string m) { return {StatusCode::kWouldBlock, std::move(m)}; }
  static Status not_leader(std::string m, std::string leader_hint) {
    StatusDetail detail;
    detail.leader_hint = std::move(leader_hint);
    return Status(StatusCode::kNotLeader, std::move(m)).with_detail(std::move(detail));
  }
  static Status stale_route(std::string m, uint64_t route_epoch) {
    StatusDetail detail;
    detail.route_epoch = route_epoch;
    return Status(StatusCode::kStaleRoute, std::move(m)).with_detail(std::move(detail));
  }
  static Status quorum_unavailable(std::string m, uint32_t answered, uint32_t required) {
    StatusDetail detail;
    detail.answered = answered;
    detail.required = required;
    return Status(StatusCode::kQuorumUnavailable, std::move(m)).with_detail(std::move(detail));
  }

  bool is_ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // "OK", or "<CodeName>: <message>".
  std::string to_string() const;

  // Returns a copy whose message is "<context>: <message>"; OK stays OK. The detail is kept.
  Status with_context(std::string_view context) const;

  // The detail, or an empty one when the error carries none (OK never does).
  const StatusDetail& detail() const;
  // A copy that carries `detail`. REQUIRES: !is_ok().
  Status with_detail(StatusDetail detail) const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
  // Shared and immutable: a Status stays cheap to copy, and one without detail pays a pointer.
  std::shared_ptr<const StatusDetail> detail_;
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {  // NOLINT: implicit by design
    TESSERA_REQUIRE(!status_.is_ok(), "a Result made from a Status needs an error");
  }

  bool is_ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }

  // REQUIRES: is_ok().
  T& value() & {
    TESSERA_REQUIRE(is_ok(), "value() of a failed Result");
    return *value_;
  }
  const T& value() const& {
    TESSERA_REQUIRE(is_ok(), "value() of a failed Result");
    return *value_;
  }
  T&& value() && {
    TESSERA_REQUIRE(is_ok(), "value() of a failed Result");
    return std::move(*value_);
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::optional<T> value_;
  Status status_;
};

}  // namespace tessera

// Evaluates `expr` (a Status) and returns it from the enclosing function if it is not OK.
#define TESSERA_RETURN_IF_ERROR(expr)              \
  do {                                             \
    ::tessera::Status tessera_status_ = (expr);    \
    if (!tessera_status_.is_ok()) return tessera_status_; \
  } while (false)

#define TESSERA_CONCAT_INNER(a, b) a##b
#define TESSERA_CONCAT(a, b) TESSERA_CONCAT_INNER(a, b)

// Evaluates `expr` (a Result<T>); on error returns its Status, else moves the value into `lhs`,
// which may be a declaration: TESSERA_ASSIGN_OR_RETURN(auto engine, open_engine()).
#define TESSERA_ASSIGN_OR_RETURN(lhs, expr)                                        \
  auto TESSERA_CONCAT(tessera_result_, __LINE__) = (expr);                         \
  if (!TESSERA_CONCAT(tessera_result_, __LINE__).is_ok())                          \
    return TESSERA_CONCAT(tessera_result_, __LINE__).status();                     \
  lhs = std::move(TESSERA_CONCAT(tessera_result_, __LINE__)).value()
