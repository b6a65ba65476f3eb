// Engine: the storage-engine plugin interface, an ordered bytes -> bytes store.
//
// Contract (every engine, checked by tests/conformance/engine):
//  - Keys are ordered byte-wise (unsigned). Empty keys and empty values are allowed, and so
//    are the largest a node can hand over: keys of kEngineKeyBytesMax, values of
//    kEngineValueBytesMax (a node's configurable limits plus its own framing).
//  - `write` applies a WriteBatch atomically: after any crash either all of it or none of it is
//    visible. A write that returned OK is visible to every read that starts afterwards.
//  - Durability: a write with WriteOptions::sync, or any write followed by a `sync()` that
//    returned OK or a `sync_async()` that called back OK, survives kill -9 of the process.
//    Concurrent sync writers may share one fsync (group commit).
//  - Awaited durability: `sync_async()` never blocks its caller on the disk. A server writes
//    without sync (the write is visible at once), then asks sync_async() to call back once the
//    write is durable, and answers its client from the callback; every waiter that asked before
//    a sync began shares that sync, however few threads the server runs. `GroupSync`
//    (group_sync.h) builds it from a blocking sync().
//  - Reads see a consistent state: an iterator or a read with a snapshot sees exactly the writes
//    that returned before the snapshot was taken, no matter what is written afterwards.
//  - Errors are Status values (IOError, Corruption, InvalidArgument, ...), never exceptions.
//    WouldBlock answers only a call made not to wait (memory_only, no_wait) and changes nothing.
//
// Thread-safety: all methods may be called concurrently from any number of threads. An
// Iterator is used by one thread at a time.
// Ownership: snapshots and iterators must be destroyed before the engine that made them.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "tessera/bytes.h"
#include "tessera/status.h"
#include "tessera/write_batch.h"

namespace tessera {

// The largest key and value every engine must store: the node's largest configurable key
// (1 MiB) with its 4-byte table prefix and room to spare, and the largest record of one key's
// versions (40 MiB: siblings of a value up to 32 MiB, with their versions).
inline constexpr size_t kEngineKeyBytesMax = (size_t{1} << 20) + 64;
inline constexpr size_t kEngineValueBytesMax = size_t{40} << 20;

// A frozen point in an engine's history. Releasing it (destroying it) lets the engine reclaim
// versions only it could see.
class Snapshot {
 public:
  virtual ~Snapshot() = default;
};

struct ReadOptions {
  // Read as of this snapshot; nullptr reads the latest state. The snapshot must come from the
  // same engine.
  const Snapshot* snapshot = nullptr;
  // Answer from memory only (a memtable, a cached block, a map): a read that would wait for
  // the disk answers WouldBlock instead, so that an event loop may try it before it hands the
  // read to a thread that may wait. An engine that cannot tell answers WouldBlock always.
  bool memory_only = false;
};

struct WriteOptions {
  // Make the write durable before returning (fsync of the log, shared with concurrent writers).
  bool sync = false;
  // Never wait for the disk: where the write would wait for an fsync, for room (a stall) or
  // for the disk beyond handing bytes to the kernel, it answers WouldBlock and writes nothing.
  // It may wait briefly for other writers' in-memory work (a write queue's turn). With `sync`, or in an
  // engine that cannot tell, it answers WouldBlock always.
  bool no_wait = false;
};

struct IteratorOptions {
  const Snapshot* snapshot = nullptr;
  // Exclusive upper bound; nullopt iterates to the end. The iterator becomes invalid at the
  // first key >= upper_bound, which lets an engine stop reading early.
  std::optional<Bytes> upper_bound;
};

// A forward cursor over a consistent view of the engine. When the underlying view is fixed at
// creation, later writes are not seen.
class Iterator {
 public:
  virtual ~Iterator() = default;

  // True while positioned on an entry. False at the end or after an error (see status()).
  virtual bool valid() const = 0;
  // Positions at the first key >= target.
  virtual void seek(ByteView target) = 0;
  virtual void seek_to_first() = 0;
  // REQUIRES: valid().
  virtual void next() = 0;
  // REQUIRES: valid(). The views stay good until the iterator moves or is destroyed.
  virtual ByteView key() const = 0;
  virtual ByteView value() const = 0;
  // OK unless reading failed; an iterator that hit an error becomes invalid.
  virtual Status status() const = 0;
};

// What sync_async calls once the writes before it are durable, or with the error.
using SyncCallback = std::function<void(Status)>;

// Counters and gauges an engine reports, by name ("bytes_written", "write_amplification", ...).
using EngineStats = std::map<std::string, double>;

class Engine {
 public:
  virtual ~Engine() = default;

  // Value of `key`, or nullopt when there is none (a missing key is not an error).
  virtual Result<std::optional<Bytes>> get(const ReadOptions& options, ByteView key) = 0;

  // Applies `batch` atomically. An empty batch is OK and does nothing.
  virtual Status write(const WriteOptions& options, const WriteBatch& batch) = 0;

  virtual std::unique_ptr<Iterator> new_iterator(const IteratorOptions& options) = 0;

  virtual std::unique_ptr<Snapshot> snapshot() = 0;

  // Durable sync point: every write that returned before this call, or that a read could see
  // before it, is on stable storage when it returns OK.
  virtual Status sync() = 0;

  // Asynchronous sync point: calls `done` once every write that returned, or that a read could
  // see, before this call is on stable storage (OK), or with the error that stopped it. Does not wait for the disk: the
  // sync runs on a thread of the engine's and serves every waiter queued before it began.
  // `done` is called exactly once, on that thread or (when nothing needs a sync) before
  // sync_async returns; it must neither block nor throw. An engine calls every pending `done`
  // before its destructor returns.
  virtual void sync_async(SyncCallback done) = 0;

  // Approximate bytes stored for keys in [start, end); end empty means "to the end". May count
  // overwritten data that compaction has not yet reclaimed.
  virtual Result<uint64_t> approximate_size(ByteView start, ByteView end) = 0;

  virtual EngineStats stats() = 0;

  // Convenience wrappers over write(); not virtual.
  Status put(const WriteOptions& options, ByteView key, ByteView value) {
    WriteBatch batch;
    batch.put(key, value);
    return write(options, batch);
  }
  Status del(const WriteOptions& options, ByteView key) {
    WriteBatch batch;
    batch.del(key);
    return write(options, batch);
  }
};

}  // namespace tessera
