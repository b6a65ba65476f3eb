#include "range_state_machine.h"

#include <string>
#include <utility>

#include "range_commands.h"
#include "tessera/coding.h"
#include "tessera/write_batch.h"

namespace tessera::leader {
namespace {

constexpr char kTopPrefix = '\xFF';
constexpr char kDataTag = 'r';
constexpr char kMetaTag = 'm';
constexpr uint8_t kStoredValue = 0;
constexpr uint8_t kStoredTombstone = 1;
// First byte of an image's header chunk; another value is an image format this code predates.
constexpr char kImageFormat = '\x01';

// The bytes right after every key that starts with `prefix`: the last byte that can be raised
// is, and what follows it goes. REQUIRES: `prefix` has a byte below 0xFF.
Bytes prefix_successor(Bytes prefix) {
  while (!prefix.empty() && static_cast<uint8_t>(prefix.back()) == 0xFF) prefix.pop_back();
  TESSERA_ASSERT(!prefix.empty(), "a prefix of 0xFF bytes only has no successor");
  prefix.back() = static_cast<char>(static_cast<uint8_t>(prefix.back()) + 1);
  return prefix;
}

Bytes encode_stored(ByteView version, ByteView value) {
  Bytes out(1, static_cast<char>(kStoredValue));
  put_length_prefixed(&out, version);
  out.append(value);
  return out;
}

// nullopt for a tombstone; Corruption for bytes of another layout.
Result<std::optional<StoredValue>> decode_stored(ByteView in) {
  if (in.empty()) return Status::corruption("range: an empty stored value");
  const auto flags = static_cast<uint8_t>(in.front());
  in.remove_prefix(1);
  ByteView version;
  if (flags > kStoredTombstone || !get_length_prefixed(&in, &version)) {
    return Status::corruption("range: a stored value that does not parse");
  }
  if (flags == kStoredTombstone) return std::optional<StoredValue>();
  return std::optional<StoredValue>(StoredValue{Bytes(in), Bytes(version)});
}

Status check_bounds(const RangeDescriptor& descriptor) {
  if (descriptor.id == 0) return Status::invalid_argument("range id 0");
  const KeyRange& range = descriptor.range;
  if (!range.end.empty() && range.end <= range.start) {
    return Status::invalid_argument("range " + std::to_string(descriptor.id) +
                                    ": end is not after start");
  }
  return Status::ok();
}

Status outside(const RangeDescriptor& descriptor, std::string_view what) {
  return Status::stale_route(std::string(what) + " is outside range " +
                                 std::to_string(descriptor.id) + " at epoch " +
                                 std::to_string(descriptor.epoch),
                             descriptor.epoch);
}

// The image: a header chunk, then the range's pairs `varint32 key_len user_key varint32
// stored_len stored` in key order, packed into chunks of at most kChunkBytesMax (a pair larger
// than that alone in its chunk).
//   header := kImageFormat fixed64_be(range_id) fixed64_be(index) last_version
class ImageChunks final : public SnapshotChunks {
 public:
  ImageChunks(Bytes header, std::unique_ptr<Snapshot> snapshot, std::unique_ptr<Iterator> it,
              size_t prefix_bytes)
      : header_(std::move(header)),
        snapshot_(std::move(snapshot)),
        it_(std::move(it)),
        prefix_bytes_(prefix_bytes) {}

  Result<std::optional<Bytes>> next() override {
    if (header_) {
      Bytes header = std::move(*header_);
      header_.reset();
      return std::optional<Bytes>(std::move(header));
    }
    if (!it_->valid()) {
      TESSERA_RETURN_IF_ERROR(it_->status());
      return std::optional<Bytes>();
    }
    Bytes chunk;
    while (it_->valid()) {
      ByteView key = it_->key().substr(prefix_bytes_);
      ByteView value = it_->value();
      // Two varint32 lengths take at most 10 bytes.
      if (!chunk.empty() &&
          chunk.size() + key.size() + value.size() + 10 > RangeStateMachine::kChunkBytesMax) {
        break;
      }
      put_length_prefixed(&chunk, key);
      put_length_prefixed(&chunk, value);
      it_->next();
    }
    TESSERA_RETURN_IF_ERROR(it_->status());
    return std::optional<Bytes>(std::move(chunk));
  }

 private:
  std::optional<Bytes> header_;         // until handed out
  std::unique_ptr<Snapshot> snapshot_;  // outlives the iterator reading it
  std::unique_ptr<Iterator> it_;
  const size_t prefix_bytes_;
};

}  // namespace

RangeStateMachine::RangeStateMachine(Engine* engine, const Conflict* conflict, uint32_t table_id,
                                     RangeDescriptor descriptor, Options options)
    : engine_(engine),
      conflict_(conflict),
      table_id_(table_id),
      range_id_(descriptor.id),
      sync_every_entries_(options.sync_every_entries),
      descriptor_(std::make_shared<const RangeDescriptor>(std::move(descriptor))) {}

Result<std::unique_ptr<RangeStateMachine>> RangeStateMachine::open(Engine* engine,
                                                                   const Conflict* conflict,
                                                                   uint32_t table_id,
                                                                   RangeDescriptor descriptor,
                                                                   Options options) {
  TESSERA_REQUIRE(engine != nullptr, "an engine is required");
  TESSERA_REQUIRE(conflict != nullptr, "a conflict plugin is required");
  TESSERA_REQUIRE(options.sync_every_entries >= 1, "sync_every_entries must be at least 1");
  TESSERA_RETURN_IF_ERROR(check_bounds(descriptor));
  std::unique_ptr<RangeStateMachine> sm(
      new RangeStateMachine(engine, conflict, table_id, std::move(descriptor), options));
  TESSERA_ASSIGN_OR_RETURN(std::optional<Bytes> meta, engine->get({}, meta_key(sm->range_id_)));
  if (meta) {
    ByteView in(*meta);
    uint64_t index = 0;
    if (!get_fixed64_be(&in, &index)) {
      return Status::corruption("range " + std::to_string(sm->range_id_) +
                                ": meta record does not parse");
    }
    sm->applied_ = index;
    sm->durable_ = index;  // the engine recovered it, so it is durable
    sm->last_version_ = Bytes(in);
  }
  return sm;
}

Bytes RangeStateMachine::data_key(uint32_t table_id, ByteView user_key) {
  Bytes out{kTopPrefix, kDataTag};
  put_fixed32_be(&out, table_id);
  out.append(user_key);
  return out;
}

Bytes RangeStateMachine::meta_key(uint64_t range_id) {
  Bytes out{kTopPrefix, kMetaTag};
  put_fixed64_be(&out, range_id);
  return out;
}

Bytes RangeStateMachine::data_lower(const KeyRange& range) const {
  return data_key(table_id_, range.start);
}

Bytes RangeStateMachine::data_upper(const KeyRange& range) const {
  if (!range.end.empty()) return data_key(table_id_, range.end);
  return prefix_successor(data_key(table_id_, ""));  // the table's end
}

Bytes RangeStateMachine::encode_meta(LogIndex index, ByteView last) const {
  Bytes out;
  put_fixed64_be(&out, index);
  out.append(last);
  return out;
}

std::shared_ptr<const RangeDescriptor> RangeStateMachine::current() const {
  std::lock_guard lock(mutex_);
  return descriptor_;
}

RangeDescriptor RangeStateMachine::descriptor() const { return *current(); }

Bytes RangeStateMachine::last_version() const {
  std::lock_guard lock(mutex_);
  return last_version_;
}

Status RangeStateMachine::set_descriptor(RangeDescriptor descriptor) {
  TESSERA_RETURN_IF_ERROR(check_bounds(descriptor));
  std::lock_guard lock(mutex_);
  if (descriptor.id != range_id_) {
    return Status::invalid_argument("the descriptor of range " + std::to_string(descriptor.id) +
                                    " given to range " + std::to_string(range_id_));
  }
  if (descriptor.epoch < descriptor_->epoch) {
    return Status::invalid_argument("range " + std::to_string(range_id_) + " is at epoch " +
                                    std::to_string(descriptor_->epoch) + ", not back to " +
                                    std::to_string(descriptor.epoch));
  }
  descriptor_ = std::make_shared<const RangeDescriptor>(std::move(descriptor));
  return Status::ok();
}

Result<Bytes> RangeStateMachine::apply_write(ByteView data, const RangeDescriptor& range,
                                             ByteView last, WriteBatch& batch) const {
  TESSERA_ASSIGN_OR_RETURN(RangeWriteCommand command, decode_command(data));
  if (command.range_id != range.id) {
    return outside(range, "a command for range " + std::to_string(command.range_id));
  }
  if (command.epoch != range.epoch) {
    return outside(range, "a command routed at epoch " + std::to_string(command.epoch));
  }
  // Sizes are checked here, not left to the engine: an engine write that fails stops the group on
  // this node, and every replica must refuse the same commands.
  for (const RangeWriteOp& op : command.writes) {
    if (!range.range.contains(op.key)) return outside(range, "a key");
    if (op.key.size() > kEngineKeyBytesMax - kDataKeyPrefixBytes) {
      return Status::too_large("a key of " + std::to_string(op.key.size()) + " bytes");
    }
  }
  TESSERA_ASSIGN_OR_RETURN(Bytes version, conflict_->order_after(command.sequencer, last));
  for (const RangeWriteOp& op : command.writes) {
    if (op.value &&
        op.value->size() + version.size() > kEngineValueBytesMax - kStoredFramingBytes) {
      return Status::too_large("a value of " + std::to_string(op.value->size()) + " bytes");
    }
  }
  for (const RangeWriteOp& op : command.writes) {
    if (op.value) {
      batch.put(data_key(table_id_, op.key), encode_stored(version, *op.value));
    } else {
      batch.del(data_key(table_id_, op.key));
    }
  }
  return version;
}

Status RangeStateMachine::apply(std::span<const Command> commands, std::vector<Bytes>& results) {
  results.clear();
  if (commands.empty()) return Status::ok();
  const std::shared_ptr<const RangeDescriptor> range = current();
  Bytes last = last_version();
  WriteBatch batch;
  for (const Command& command : commands) {
    if (command.data.empty()) {  // the plugin's own entry
      results.emplace_back();
      continue;
    }
    Result<Bytes> outcome = apply_write(command.data, *range, last, batch);
    if (outcome.is_ok()) last = outcome.value();
    results.push_back(encode_range_result(outcome));
  }
  const LogIndex index = commands.back().index;
  batch.put(meta_key(range_id_), encode_meta(index, last));
  Status written = engine_->write(WriteOptions{.sync = false}, batch);
  if (!written.is_ok()) {
    results.clear();
    return written;
  }
  {
    std::lock_guard lock(mutex_);
    last_version_ = std::move(last);
  }
  const LogIndex before = applied_.exchange(index);
  if (index / sync_every_entries_ != before / sync_every_entries_) return sync();
  return Status::ok();
}

Status RangeStateMachine::sync() {
  const LogIndex covered = applied_.load();
  TESSERA_RETURN_IF_ERROR(engine_->sync());
  durable_ = covered;
  return Status::ok();
}

Result<GroupStateMachine::Image> RangeStateMachine::snapshot() {
  const KeyRange range = current()->range;
  std::unique_ptr<Snapshot> snapshot = engine_->snapshot();
  IteratorOptions options;
  options.snapshot = snapshot.get();
  options.upper_bound = data_upper(range);
  std::unique_ptr<Iterator> it = engine_->new_iterator(options);
  it->seek(data_lower(range));
  // Called between two applies: the engine snapshot holds exactly the state as of these.
  Bytes header(1, kImageFormat);
  put_fixed64_be(&header, range_id_);
  put_fixed64_be(&header, applied_.load());
  header.append(last_version());
  Image image;
  image.index = applied_.load();
  image.chunks = std::make_unique<ImageChunks>(std::move(header), std::move(snapshot),
                                               std::move(it), kDataKeyPrefixBytes);
  return image;
}

Status RangeStateMachine::clear(const KeyRange& range) {
  // The meta record goes first, and durably: a replica that crashes in the middle of a restore
  // then claims no index, whatever the engine kept of the later unsynced writes, and the group
  // restores it again.
  TESSERA_RETURN_IF_ERROR(engine_->del(WriteOptions{.sync = true}, meta_key(range_id_)));
  applied_ = 0;
  durable_ = 0;
  IteratorOptions options;
  options.upper_bound = data_upper(range);
  std::unique_ptr<Iterator> it = engine_->new_iterator(options);
  WriteBatch batch;
  for (it->seek(data_lower(range)); it->valid(); it->next()) {
    batch.del(it->key());
    if (batch.byte_size() >= kChunkBytesMax) {
      TESSERA_RETURN_IF_ERROR(engine_->write({}, batch));
      batch.clear();
    }
  }
  TESSERA_RETURN_IF_ERROR(it->status());
  return engine_->write({}, batch);
}

Status RangeStateMachine::destroy() {
  TESSERA_RETURN_IF_ERROR(clear(current()->range));
  return engine_->sync();
}

Status RangeStateMachine::restore_pairs(ByteView in, const KeyRange& range) {
  WriteBatch batch;
  while (!in.empty()) {
    ByteView key;
    ByteView stored;
    if (!get_length_prefixed(&in, &key) || !get_length_prefixed(&in, &stored)) {
      return Status::corruption("range " + std::to_string(range_id_) +
                                ": a snapshot chunk does not parse");
    }
    if (!range.contains(key)) {
      return Status::corruption("range " + std::to_string(range_id_) +
                                ": a snapshot holds a key outside the range");
    }
    TESSERA_ASSIGN_OR_RETURN(std::optional<StoredValue> ignored, decode_stored(stored));
    (void)ignored;
    batch.put(data_key(table_id_, key), stored);
  }
  return engine_->write({}, batch);
}

Status RangeStateMachine::restore(LogIndex index, SnapshotChunks& chunks) {
  const std::string name = "range " + std::to_string(range_id_);
  // The header is checked before anything is cleared: a wrong image leaves the replica as it was.
  TESSERA_ASSIGN_OR_RETURN(std::optional<Bytes> header, chunks.next());
  if (!header) return Status::corruption(name + ": an empty snapshot image");
  ByteView in(*header);
  uint64_t image_range = 0;
  uint64_t image_index = 0;
  if (in.empty() || in.front() != kImageFormat) {
    return Status::corruption(name + ": a snapshot image of an unknown format");
  }
  in.remove_prefix(1);
  if (!get_fixed64_be(&in, &image_range) || !get_fixed64_be(&in, &image_index)) {
    return Status::corruption(name + ": a snapshot header that does not parse");
  }
  if (image_range != range_id_) {
    return Status::invalid_argument(name + ": an image of range " + std::to_string(image_range));
  }
  if (image_index != index) {
    return Status::corruption(name + ": an image taken at index " + std::to_string(image_index) +
                              " restored as index " + std::to_string(index));
  }
  const Bytes last(in);
  const KeyRange range = current()->range;
  TESSERA_RETURN_IF_ERROR(clear(range));
  while (true) {
    TESSERA_ASSIGN_OR_RETURN(std::optional<Bytes> chunk, chunks.next());
    if (!chunk) break;
    TESSERA_RETURN_IF_ERROR(restore_pairs(*chunk, range));
  }
  TESSERA_RETURN_IF_ERROR(engine_->put({}, meta_key(range_id_), encode_meta(index, last)));
  {
    std::lock_guard lock(mutex_);
    last_version_ = last;
  }
  applied_ = index;
  return sync();
}

Result<std::optional<StoredValue>> RangeStateMachine::get(ByteView key) const {
  const std::shared_ptr<const RangeDescriptor> range = current();
  if (!range->range.contains(key)) return outside(*range, "the key");
  TESSERA_ASSIGN_OR_RETURN(std::optional<Bytes> stored, engine_->get({}, data_key(table_id_, key)));
  if (!stored) return std::optional<StoredValue>();
  return decode_stored(*stored);
}

Result<ScanPage> RangeStateMachine::scan(ByteView start, ByteView end, uint32_t limit) const {
  const std::shared_ptr<const RangeDescriptor> descriptor = current();
  const KeyRange& range = descriptor->range;
  if (!range.contains(start)) return outside(*descriptor, "the scan's start");
  if (!end.empty() && !range.end.empty() && end > range.end) {
    return outside(*descriptor, "the scan's end");
  }
  ScanPage page;
  if (!end.empty() && end <= start) return page;
  if (limit == 0 || limit > kScanItemsMax) limit = kScanItemsMax;
  IteratorOptions options;
  options.upper_bound = end.empty() ? data_upper(range) : data_key(table_id_, end);
  std::unique_ptr<Iterator> it = engine_->new_iterator(options);
  size_t bytes = 0;
  for (it->seek(data_key(table_id_, start)); it->valid(); it->next()) {
    ByteView key = it->key().substr(kDataKeyPrefixBytes);
    if (page.items.size() >= limit || bytes >= kScanBytesMax) {
      page.next_key = Bytes(key);
      break;
    }
    TESSERA_ASSIGN_OR_RETURN(std::optional<StoredValue> value, decode_stored(it->value()));
    if (!value) continue;  // a tombstone
    bytes += key.size() + value->value.size() + value->version.size();
    page.items.push_back(ScanItem{Bytes(key), std::move(*value)});
  }
  TESSERA_RETURN_IF_ERROR(it->status());
  return page;
}

}  // namespace tessera::leader
