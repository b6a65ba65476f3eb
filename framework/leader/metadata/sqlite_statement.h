// SqliteStatement: a prepared SQLite statement that finalizes itself, with Status errors.
//
// Thread-safety: none; use it on the connection's thread (callers hold their own lock).
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <string>

#include "tessera/bytes.h"
#include "tessera/status.h"

namespace tessera::leader {

// An error naming `what` and SQLite's message for `db`.
inline Status sqlite_error(sqlite3* db, const std::string& what) {
  return Status::io_error(what + ": " + sqlite3_errmsg(db));
}

// Runs `sql` (one or more statements without results).
inline Status sqlite_exec(sqlite3* db, const char* sql) {
  char* message = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &message) != SQLITE_OK) {
    std::string text = message != nullptr ? message : "unknown error";
    sqlite3_free(message);
    return Status::io_error(std::string("sqlite: ") + text + " (in: " + sql + ")");
  }
  return Status::ok();
}

class SqliteStatement {
 public:
  // REQUIRES: `db` outlives the statement.
  SqliteStatement(sqlite3* db, const char* sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr) != SQLITE_OK) {
      status_ = sqlite_error(db, std::string("prepare ") + sql);
      stmt_ = nullptr;
    }
  }
  ~SqliteStatement() { sqlite3_finalize(stmt_); }
  SqliteStatement(const SqliteStatement&) = delete;
  SqliteStatement& operator=(const SqliteStatement&) = delete;

  // Binds are 1-based, as in SQLite. Errors are kept and returned by the next step().
  SqliteStatement& bind(int i, int64_t v) {
    if (stmt_ != nullptr) sqlite3_bind_int64(stmt_, i, v);
    return *this;
  }
  SqliteStatement& bind_text(int i, ByteView v) {
    if (stmt_ != nullptr) {
      sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    }
    return *this;
  }
  SqliteStatement& bind_blob(int i, ByteView v) {
    // A zero-length blob, not NULL, for empty bytes.
    if (stmt_ != nullptr) {
      sqlite3_bind_blob(stmt_, i, v.empty() ? "" : v.data(), static_cast<int>(v.size()),
                        SQLITE_TRANSIENT);
    }
    return *this;
  }

  // True when a row is ready, false when done.
  Result<bool> step() {
    if (!status_.is_ok()) return status_;
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    return sqlite_error(db_, "step");
  }
  // Runs a statement that returns no rows.
  Status run() {
    Result<bool> row = step();
    return row.is_ok() ? Status::ok() : row.status();
  }

  int64_t column_int(int i) const { return sqlite3_column_int64(stmt_, i); }
  Bytes column_bytes(int i) const {
    const void* data = sqlite3_column_blob(stmt_, i);
    int size = sqlite3_column_bytes(stmt_, i);
    return data == nullptr ? Bytes() : Bytes(static_cast<const char*>(data), size);
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  Status status_;
};

}  // namespace tessera::leader
