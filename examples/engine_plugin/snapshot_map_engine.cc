// snapshot_map: an example engine plugin, built out of tree against an installed Tessera.
//
// The data is a std::map behind one mutex. A snapshot or an iterator copies the map, which is
// simple and obviously consistent, and costs O(n) per snapshot: fine for an example, wrong for
// production (see plugins/engines/lsm for the real thing). Not durable.
#include <map>
#include <memory>
#include <mutex>

#include <tessera/engine.h>
#include <tessera/plugin.h>

namespace example {

using tessera::ByteView;
using tessera::Bytes;
using Map = std::map<Bytes, Bytes, std::less<>>;

class MapSnapshot : public tessera::Snapshot {
 public:
  explicit MapSnapshot(Map map) : map(std::move(map)) {}
  const Map map;
};

class MapIterator : public tessera::Iterator {
 public:
  MapIterator(std::shared_ptr<const Map> map, std::optional<Bytes> upper_bound)
      : map_(std::move(map)), upper_bound_(std::move(upper_bound)), position_(map_->end()) {}

  bool valid() const override {
    return position_ != map_->end() && (!upper_bound_ || position_->first < *upper_bound_);
  }
  void seek(ByteView target) override { position_ = map_->lower_bound(target); }
  void seek_to_first() override { position_ = map_->begin(); }
  void next() override { ++position_; }
  ByteView key() const override { return position_->first; }
  ByteView value() const override { return position_->second; }
  tessera::Status status() const override { return tessera::Status::ok(); }

 private:
  std::shared_ptr<const Map> map_;
  std::optional<Bytes> upper_bound_;
  Map::const_iterator position_;
};

class SnapshotMapEngine : public tessera::Engine {
 public:
  tessera::Result<std::optional<Bytes>> get(const tessera::ReadOptions& options,
                                            ByteView key) override {
    std::lock_guard lock(mutex_);
    const Map& map = options.snapshot != nullptr
                         ? static_cast<const MapSnapshot*>(options.snapshot)->map
                         : map_;
    auto found = map.find(key);
    if (found == map.end()) return std::optional<Bytes>();
    return std::optional<Bytes>(found->second);
  }

  // In memory: never waits for a disk, so memory_only and no_wait change nothing, except that
  // a synced write is refused no_wait (the contract in engine.h).
  tessera::Status write(const tessera::WriteOptions& options,
                        const tessera::WriteBatch& batch) override {
    if (options.sync && options.no_wait) return tessera::Status::would_block("a synced write");
    std::lock_guard lock(mutex_);
    batch.for_each([&](const tessera::WriteBatch::Op& op) {
      if (op.kind == tessera::WriteBatch::OpKind::kPut) {
        map_.insert_or_assign(Bytes(op.key), Bytes(op.value));
      } else if (auto found = map_.find(op.key); found != map_.end()) {
        map_.erase(found);
      }
    });
    return tessera::Status::ok();
  }

  std::unique_ptr<tessera::Iterator> new_iterator(
      const tessera::IteratorOptions& options) override {
    std::shared_ptr<const Map> view;
    if (options.snapshot != nullptr) {
      view = std::make_shared<const Map>(static_cast<const MapSnapshot*>(options.snapshot)->map);
    } else {
      std::lock_guard lock(mutex_);
      view = std::make_shared<const Map>(map_);
    }
    return std::make_unique<MapIterator>(std::move(view), options.upper_bound);
  }

  std::unique_ptr<tessera::Snapshot> snapshot() override {
    std::lock_guard lock(mutex_);
    return std::make_unique<MapSnapshot>(map_);
  }

  tessera::Status sync() override { return tessera::Status::ok(); }
  // Held in memory only: nothing to wait for.
  void sync_async(tessera::SyncCallback done) override { done(tessera::Status::ok()); }

  tessera::Result<uint64_t> approximate_size(ByteView start, ByteView end) override {
    std::lock_guard lock(mutex_);
    uint64_t bytes = 0;
    for (auto it = map_.lower_bound(start); it != map_.end() && (end.empty() || it->first < end);
         ++it) {
      bytes += it->first.size() + it->second.size();
    }
    return bytes;
  }

  tessera::EngineStats stats() override {
    std::lock_guard lock(mutex_);
    return {{"keys", static_cast<double>(map_.size())}};
  }

 private:
  std::mutex mutex_;
  Map map_;
};

tessera::Result<std::unique_ptr<tessera::Engine>> make_engine(
    const tessera::PluginContext&, const tessera::ConfigSection&) noexcept {
  return std::unique_ptr<tessera::Engine>(std::make_unique<SnapshotMapEngine>());
}

extern const tessera::PluginDescriptor descriptor;
const tessera::PluginDescriptor descriptor{
    .abi_version = tessera::kPluginAbiVersion,
    .kind = tessera::PluginKind::kEngine,
    .name = "snapshot_map",
    .version = "0.1.0",
    .description = "example: std::map with copy-on-snapshot; not durable",
    .config_keys = nullptr,
    .config_key_count = 0,
    .make_engine = make_engine,
};

}  // namespace example

TESSERA_EXPORT_PLUGIN(example::descriptor)
