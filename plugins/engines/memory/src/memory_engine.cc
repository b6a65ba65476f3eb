// The memory engine: an ordered map in RAM, for tests and as the smallest example of an engine
// plugin. Not durable: sync() succeeds and nothing survives the process.
//
// Consistency: the map is copy-on-write. Readers of a consistent view (iterators, snapshots)
// share the current map; a writer that finds the map shared copies it before changing it. Point
// reads and writes take a shared or exclusive lock. Iterators and snapshots let go of their map
// under the shared lock: a writer that then finds the map unshared changes it in place, and
// only the lock orders the reader's last reads before those changes (use_count() does not).
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>

#include "tessera/engine.h"
#include "tessera/plugin.h"

namespace tessera {
namespace {

using Map = std::map<Bytes, Bytes, std::less<>>;

// Drops `map` under `mutex`'s shared lock (see the top of this file).
void release_shared(std::shared_mutex* mutex, std::shared_ptr<const Map>* map) {
  std::shared_lock lock(*mutex);
  map->reset();
}

class MemorySnapshot : public Snapshot {
 public:
  MemorySnapshot(std::shared_mutex* mutex, std::shared_ptr<const Map> map)
      : mutex_(mutex), map_(std::move(map)) {}
  ~MemorySnapshot() override { release_shared(mutex_, &map_); }
  const std::shared_ptr<const Map>& map() const { return map_; }

 private:
  std::shared_mutex* const mutex_;
  std::shared_ptr<const Map> map_;
};

class MemoryIterator : public Iterator {
 public:
  MemoryIterator(std::shared_mutex* mutex, std::shared_ptr<const Map> map,
                 std::optional<Bytes> upper_bound)
      : mutex_(mutex), map_(std::move(map)), upper_bound_(std::move(upper_bound)),
        it_(map_->end()) {}
  ~MemoryIterator() override { release_shared(mutex_, &map_); }

  bool valid() const override {
    return it_ != map_->end() && (!upper_bound_ || ByteView(it_->first) < *upper_bound_);
  }
  void seek(ByteView target) override { it_ = map_->lower_bound(target); }
  void seek_to_first() override { it_ = map_->begin(); }
  void next() override {
    TESSERA_REQUIRE(valid());
    ++it_;
  }
  ByteView key() const override {
    TESSERA_REQUIRE(valid());
    return it_->first;
  }
  ByteView value() const override {
    TESSERA_REQUIRE(valid());
    return it_->second;
  }
  Status status() const override { return Status::ok(); }

 private:
  std::shared_mutex* const mutex_;
  std::shared_ptr<const Map> map_;
  std::optional<Bytes> upper_bound_;
  Map::const_iterator it_;
};

class MemoryEngine : public Engine {
 public:
  Result<std::optional<Bytes>> get(const ReadOptions& options, ByteView key) override {
    std::shared_lock lock(mutex_);
    const Map& map = options.snapshot != nullptr ? view(options.snapshot) : *map_;
    auto it = map.find(key);
    if (it == map.end()) return std::optional<Bytes>();
    return std::optional<Bytes>(it->second);
  }

  // Never waits for a disk, so memory_only and no_wait change nothing (but a synced write is
  // refused no_wait, as the contract says).
  Status write(const WriteOptions& options, const WriteBatch& batch) override {
    if (options.no_wait && options.sync) return Status::would_block("memory: a synced write");
    std::unique_lock lock(mutex_);
    if (map_.use_count() > 1) map_ = std::make_shared<Map>(*map_);  // a reader holds it
    batch.for_each([&](const WriteBatch::Op& op) {
      if (op.kind == WriteBatch::OpKind::kPut) {
        map_->insert_or_assign(Bytes(op.key), Bytes(op.value));
      } else if (auto it = map_->find(op.key); it != map_->end()) {
        map_->erase(it);
      }
    });
    bytes_written_ += batch.byte_size();
    return Status::ok();
  }

  std::unique_ptr<Iterator> new_iterator(const IteratorOptions& options) override {
    std::shared_ptr<const Map> map;
    if (options.snapshot != nullptr) {
      map = static_cast<const MemorySnapshot*>(options.snapshot)->map();
    } else {
      std::shared_lock lock(mutex_);
      map = map_;
    }
    return std::make_unique<MemoryIterator>(&mutex_, std::move(map), options.upper_bound);
  }

  std::unique_ptr<Snapshot> snapshot() override {
    std::shared_lock lock(mutex_);
    return std::make_unique<MemorySnapshot>(&mutex_, map_);
  }

  Status sync() override { return Status::ok(); }
  // Nothing is ever made durable, so nothing is waited for.
  void sync_async(SyncCallback done) override { done(Status::ok()); }

  Result<uint64_t> approximate_size(ByteView start, ByteView end) override {
    std::shared_lock lock(mutex_);
    uint64_t bytes = 0;
    if (!end.empty() && end <= start) return bytes;
    auto last = end.empty() ? map_->end() : map_->lower_bound(end);
    for (auto it = map_->lower_bound(start); it != last; ++it) {
      bytes += it->first.size() + it->second.size();
    }
    return bytes;
  }

  EngineStats stats() override {
    std::shared_lock lock(mutex_);
    return {{"keys", static_cast<double>(map_->size())},
            {"bytes_written", static_cast<double>(bytes_written_)}};
  }

 private:
  const Map& view(const Snapshot* snapshot) const {
    return *static_cast<const MemorySnapshot*>(snapshot)->map();
  }

  std::shared_mutex mutex_;
  std::shared_ptr<Map> map_ = std::make_shared<Map>();
  uint64_t bytes_written_ = 0;
};

Result<std::unique_ptr<Engine>> make_memory_engine(const PluginContext&,
                                                   const ConfigSection&) noexcept {
  return std::unique_ptr<Engine>(std::make_unique<MemoryEngine>());
}

}  // namespace

extern const PluginDescriptor memory_engine_descriptor;
const PluginDescriptor memory_engine_descriptor{
    .abi_version = kPluginAbiVersion,
    .kind = PluginKind::kEngine,
    .name = "memory",
    .version = "1.0.0",
    .description = "ordered map in RAM; not durable; for tests",
    .config_keys = nullptr,
    .config_key_count = 0,
    .make_engine = make_memory_engine,
};

}  // namespace tessera

TESSERA_EXPORT_PLUGIN(tessera::memory_engine_descriptor)
