// Exit codes of the `tessera` command-line client, and how a Status maps to them.
//
// Scripts branch on these, so the numbers are stable; hosts/cli/README.md and `tessera --help`
// list them.
//
// Thread-safety: constants and a pure function.
#pragma once

#include "tessera/status.h"

namespace tessera::cli {

enum ExitCode : int {
  kExitOk = 0,
  kExitNotFound = 1,         // get of a key that has no value
  kExitUsage = 2,            // bad command line
  kExitUnreachable = 3,      // the node cannot be reached, or the connection broke
  kExitNoSuchTable = 4,      // the table does not exist
  kExitInvalid = 5,          // too large, or an invalid argument (table name, batch input)
  kExitServerError = 6,      // any other error the node reported
  kExitDenied = 7,           // unauthorized (no token, a bad token) or forbidden (role too low)
};

inline constexpr const char* kExitCodeHelp =
    "Exit codes:\n"
    "  0  success\n"
    "  1  not found (get of a missing key)\n"
    "  2  usage error\n"
    "  3  cannot reach the node\n"
    "  4  no such table\n"
    "  5  too large or invalid argument (key/value size, table name, batch input)\n"
    "  6  other error reported by the node (table exists, timeout, I/O error, ...)\n"
    "  7  not authenticated (no or bad token) or not allowed (the token's role is too low)";

inline int exit_code_for(const Status& status) {
  switch (status.code()) {
    case StatusCode::kOk: return kExitOk;
    case StatusCode::kNotFound: return kExitNotFound;
    case StatusCode::kUnavailable: return kExitUnreachable;
    case StatusCode::kNoSuchTable: return kExitNoSuchTable;
    case StatusCode::kTooLarge:
    case StatusCode::kInvalidArgument: return kExitInvalid;
    case StatusCode::kUnauthorized:
    case StatusCode::kForbidden: return kExitDenied;
    default: return kExitServerError;
  }
}

}  // namespace tessera::cli
