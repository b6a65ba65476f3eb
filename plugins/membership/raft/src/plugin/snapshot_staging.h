// SnapshotStaging: incoming snapshot images, written to disk chunk by chunk before the core
// hears of them.
//
// Purpose: a follower far behind receives a state-machine image as a stream of chunks beside
// the kSnapshot message. The chunks go to a staging file as they arrive (bounded memory: one
// chunk at a time), the file is synced, and only then is the message stepped into the group's
// core; if the core installs the snapshot, the apply stage restores the state machine from the
// staged file (`open`). The file is kept until the restore is durable, so that a restore cut by
// a crash can start again from the same image (GroupStateMachine::restore's contract).
//
// File format: a sequence of frames `fixed32_be(length) fixed32_be(crc32c(chunk)) chunk`, each
// chunk at most kChunkBytesMax; a file is complete only once renamed from `.part` to `.snap`.
// Names: `<group>-<index>.snap` in the staging directory.
//
// Thread-safety: a Writer and a reader are each used by one thread at a time; the staging
// object itself is thread-safe. Errors are Statuses naming the file.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>

#include "tessera/bytes.h"
#include "tessera/replication.h"
#include "tessera/status.h"

namespace tessera::raft_plugin {

class SnapshotStaging {
 public:
  static constexpr size_t kChunkBytesMax = size_t{4} << 20;

  // REQUIRES: `dir` exists (created by the caller). Removes `.part` files left by a crash.
  static Result<std::unique_ptr<SnapshotStaging>> open(std::filesystem::path dir);

  // One image being received.
  class Writer {
   public:
    ~Writer();  // an unfinished image is removed
    // InvalidArgument for a chunk over kChunkBytesMax; IOError when the disk refuses it.
    Status append(ByteView chunk);
    // Syncs the file and publishes it under its final name.
    Status finish();

   private:
    friend class SnapshotStaging;
    Writer(int fd, std::filesystem::path part, std::filesystem::path final_path);
    int fd_;
    const std::filesystem::path part_;
    const std::filesystem::path final_;
    bool finished_ = false;
  };

  // Starts receiving the image of `group` at `index`, replacing a staged one of the same name.
  Result<std::unique_ptr<Writer>> begin(uint64_t group, uint64_t index);

  // The staged, complete image of `group` at `index`, read back chunk by chunk with checksums
  // verified (Corruption names the file and offset). NotFound when none is staged.
  Result<std::unique_ptr<SnapshotChunks>> read(uint64_t group, uint64_t index) const;

  // The newest complete image staged for `group`, if any (a restore to finish after a crash).
  std::optional<uint64_t> staged_index(uint64_t group) const;

  // Removes every image of `group` at or below `index` (its restore is durable).
  void remove_up_to(uint64_t group, uint64_t index);

 private:
  explicit SnapshotStaging(std::filesystem::path dir) : dir_(std::move(dir)) {}
  std::filesystem::path path_of(uint64_t group, uint64_t index, const char* suffix) const;

  const std::filesystem::path dir_;
};

}  // namespace tessera::raft_plugin
