#include "history.h"

#include <cerrno>
#include <chrono>
#include <cstring>

namespace tessera::bench {
namespace {

int64_t steady_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// A JSON string of `bytes`: quotes, backslashes and control bytes escaped; bytes above 0x7f
// as \u00XX, so that any key or value round-trips as a string of code points below 256.
void append_json_string(std::string& out, ByteView bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  for (unsigned char c : bytes) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c >= 0x7f) {
      out += "\\u00";
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    } else {
      out += static_cast<char>(c);
    }
  }
  out += '"';
}

bool refused_before_applied(StatusCode code) {
  // NotLeader, StaleRoute and Busy are answered only for a write that was not applied (a
  // proposal lost to a leadership change answers NotLeader too; one whose fate is not known
  // answers Timeout).
  return code == StatusCode::kInvalidArgument || code == StatusCode::kTooLarge ||
         code == StatusCode::kNoSuchTable || code == StatusCode::kNotSupported ||
         code == StatusCode::kNotLeader || code == StatusCode::kStaleRoute ||
         code == StatusCode::kBusy;
}

}  // namespace

std::string history_line(const HistoryOp& op, const HistoryOutcome& outcome) {
  std::string line = "{\"client\":" + std::to_string(op.client) + ",\"op\":\"" +
                     (op.read ? "get" : "put") + "\",\"key\":";
  append_json_string(line, op.key);
  if (!op.read) {
    line += ",\"value\":";
    append_json_string(line, op.value);
  }
  const bool ok = outcome.answered && outcome.code == StatusCode::kOk;
  const bool known = outcome.answered && (ok || op.read || refused_before_applied(outcome.code));
  if (op.read && ok) {
    line += ",\"result\":";
    if (outcome.result.has_value()) {
      append_json_string(line, *outcome.result);
    } else {
      line += "null";
    }
  }
  line += ",\"ok\":";
  line += !known ? "null" : (ok ? "true" : "false");
  line += ",\"call\":" + std::to_string(op.call_ns);
  if (known) line += ",\"return\":" + std::to_string(outcome.return_ns);
  line += '}';
  return line;
}

Result<std::unique_ptr<HistoryLog>> HistoryLog::open(const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "w");
  if (file == nullptr) {
    return Status::io_error("--history " + path + ": " + std::strerror(errno));
  }
  return std::unique_ptr<HistoryLog>(new HistoryLog(file, path));
}

HistoryLog::HistoryLog(std::FILE* file, std::string path)
    : file_(file), path_(std::move(path)), origin_ns_(steady_ns()) {}

HistoryLog::~HistoryLog() { (void)close(); }

int64_t HistoryLog::now_ns() const { return steady_ns() - origin_ns_; }

void HistoryLog::record(const HistoryOp& op, const HistoryOutcome& outcome) {
  std::string line = history_line(op, outcome);
  line += '\n';
  std::lock_guard lock(mutex_);
  if (file_ == nullptr) return;
  if (std::fwrite(line.data(), 1, line.size(), file_) != line.size()) write_failed_ = true;
}

Status HistoryLog::close() {
  std::lock_guard lock(mutex_);
  if (file_ == nullptr) return Status::ok();
  const bool closed = std::fclose(file_) == 0;
  file_ = nullptr;
  if (write_failed_ || !closed) return Status::io_error("--history " + path_ + ": write failed");
  return Status::ok();
}

}  // namespace tessera::bench
