#include "kv_state_machine.h"

#include <cstdio>
#include <utility>

#include "tessera/coding.h"
#include "tessera/write_batch.h"

namespace tessera::raft_host {
namespace {

// An image: the group's pairs in key order, each `varint32 key_len key varint32 value_len
// value` (the key without the group's prefix), packed into chunks of about kChunkBytesMax.
class ImageChunks final : public SnapshotChunks {
 public:
  ImageChunks(std::unique_ptr<Snapshot> snapshot, std::unique_ptr<Iterator> it, size_t prefix_bytes)
      : snapshot_(std::move(snapshot)), it_(std::move(it)), prefix_bytes_(prefix_bytes) {}

  Result<std::optional<Bytes>> next() override {
    if (!it_->valid()) {
      TESSERA_RETURN_IF_ERROR(it_->status());
      return std::optional<Bytes>();
    }
    Bytes chunk;
    while (it_->valid() && chunk.size() < KvStateMachine::kChunkBytesMax) {
      put_length_prefixed(&chunk, it_->key().substr(prefix_bytes_));
      put_length_prefixed(&chunk, it_->value());
      it_->next();
    }
    TESSERA_RETURN_IF_ERROR(it_->status());
    return std::optional<Bytes>(std::move(chunk));
  }

 private:
  std::unique_ptr<Snapshot> snapshot_;  // outlives the iterator reading it
  std::unique_ptr<Iterator> it_;
  const size_t prefix_bytes_;
};

Bytes successor_of_prefix(Bytes prefix) {
  // The data prefix ends in '\0': the next byte value bounds every key under it.
  prefix.back() = '\x01';
  return prefix;
}

}  // namespace

KvStateMachine::KvStateMachine(Engine* engine, std::string group, uint64_t sync_every_entries,
                               std::string tag)
    : engine_(engine),
      group_(std::move(group)),
      sync_every_entries_(sync_every_entries),
      tag_(std::move(tag)),
      applied_(0),
      durable_(0) {}

Result<std::unique_ptr<KvStateMachine>> KvStateMachine::open(Engine* engine, std::string group,
                                                             uint64_t sync_every_entries,
                                                             std::string tag) {
  if (group.find('\0') != std::string::npos) {
    return Status::invalid_argument("a group name with a NUL byte");
  }
  TESSERA_REQUIRE(sync_every_entries >= 1, "sync_every_entries must be at least 1");
  std::unique_ptr<KvStateMachine> sm(
      new KvStateMachine(engine, std::move(group), sync_every_entries, std::move(tag)));
  TESSERA_ASSIGN_OR_RETURN(std::optional<Bytes> applied, engine->get({}, sm->applied_key()));
  if (applied) {
    ByteView in(*applied);
    uint64_t index = 0;
    if (!get_fixed64_be(&in, &index)) {
      return Status::corruption("group " + sm->group_ + ": applied index does not parse");
    }
    sm->applied_ = index;
    sm->durable_ = index;  // the engine recovered it, so it is durable
  }
  return sm;
}

Bytes KvStateMachine::encode_put(ByteView key, ByteView value) {
  Bytes out;
  put_length_prefixed(&out, key);
  put_length_prefixed(&out, value);
  return out;
}

Bytes KvStateMachine::data_key(ByteView key) const {
  Bytes out = "d" + group_;
  out.push_back('\0');
  out.append(key);
  return out;
}

Bytes KvStateMachine::applied_key() const { return "a" + group_; }

Status KvStateMachine::apply(std::span<const Command> commands, std::vector<Bytes>& results) {
  if (commands.empty()) return Status::ok();
  WriteBatch batch;
  results.clear();
  for (const Command& command : commands) {
    ByteView in = command.data;
    ByteView key;
    ByteView value;
    if (command.data.empty()) {  // a leader's no-op
      results.emplace_back();
    } else if (get_length_prefixed(&in, &key) && get_length_prefixed(&in, &value) && in.empty()) {
      batch.put(data_key(key), value);
      results.emplace_back();
    } else {
      results.emplace_back("invalid");
    }
  }
  const LogIndex last = commands.back().index;
  Bytes applied;
  put_fixed64_be(&applied, last);
  batch.put(applied_key(), applied);
  TESSERA_RETURN_IF_ERROR(engine_->write(WriteOptions{.sync = false}, batch));
  const LogIndex before = applied_.exchange(last);
  if (last / sync_every_entries_ != before / sync_every_entries_) return sync();
  return Status::ok();
}

Status KvStateMachine::sync() {
  const LogIndex covered = applied_.load();
  TESSERA_RETURN_IF_ERROR(engine_->sync());
  durable_ = covered;
  return Status::ok();
}

Result<GroupStateMachine::Image> KvStateMachine::snapshot() {
  std::unique_ptr<Snapshot> snapshot = engine_->snapshot();
  IteratorOptions options;
  options.snapshot = snapshot.get();
  const Bytes prefix = data_prefix();
  options.upper_bound = successor_of_prefix(prefix);
  std::unique_ptr<Iterator> it = engine_->new_iterator(options);
  it->seek(prefix);
  Image image;
  image.index = applied_.load();
  image.chunks = std::make_unique<ImageChunks>(std::move(snapshot), std::move(it), prefix.size());
  return image;
}

Status KvStateMachine::clear() {
  const Bytes prefix = data_prefix();
  IteratorOptions options;
  options.upper_bound = successor_of_prefix(prefix);
  std::unique_ptr<Iterator> it = engine_->new_iterator(options);
  WriteBatch batch;
  // First of all the applied index goes, so that a half-cleared state never claims one.
  batch.del(applied_key());
  for (it->seek(prefix); it->valid(); it->next()) {
    batch.del(it->key());
    if (batch.byte_size() >= kChunkBytesMax) {
      TESSERA_RETURN_IF_ERROR(engine_->write({}, batch));
      batch.clear();
    }
  }
  TESSERA_RETURN_IF_ERROR(it->status());
  return engine_->write({}, batch);
}

Status KvStateMachine::restore(LogIndex index, SnapshotChunks& chunks) {
  TESSERA_RETURN_IF_ERROR(clear());
  while (true) {
    TESSERA_ASSIGN_OR_RETURN(std::optional<Bytes> chunk, chunks.next());
    if (!chunk) break;
    ByteView in(*chunk);
    WriteBatch batch;
    while (!in.empty()) {
      ByteView key;
      ByteView value;
      if (!get_length_prefixed(&in, &key) || !get_length_prefixed(&in, &value)) {
        return Status::corruption("group " + group_ + ": a snapshot chunk does not parse");
      }
      batch.put(data_key(key), value);
    }
    TESSERA_RETURN_IF_ERROR(engine_->write({}, batch));
  }
  Bytes applied;
  put_fixed64_be(&applied, index);
  TESSERA_RETURN_IF_ERROR(engine_->put({}, applied_key(), applied));
  applied_ = index;
  TESSERA_RETURN_IF_ERROR(sync());
  std::printf("%s: restored a snapshot at index %llu\n", tag_.c_str(),
              static_cast<unsigned long long>(index));
  std::fflush(stdout);
  return Status::ok();
}

Result<std::optional<Bytes>> KvStateMachine::get(ByteView key) const {
  return engine_->get({}, data_key(key));
}

}  // namespace tessera::raft_host
