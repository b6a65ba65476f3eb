// The vector-clock conflict plugin (dotted version vectors; see dotted_version.h).
//
// new_version: the dot is (this node, a fresh counter); the past is the union of every version
// in the client's context. reconcile: a version survives unless another one covers its dot, so
// every write the client had not seen stays as a concurrent sibling until a write that saw it
// supersedes it.
//
// Counters: a node's dot counters must never repeat, also across restarts, without a disk
// write per version. The counter is max(last + 1, wall-clock microseconds): it increases within
// a process and starts above any counter of an earlier run unless the clock went back by more
// than the earlier run's lifetime of writes.
#include <algorithm>
#include <chrono>
#include <mutex>

#include "dotted_version.h"
#include "tessera/conflict.h"
#include "tessera/plugin.h"

namespace tessera::vclock {
namespace {

Status not_a_version(ByteView bytes) {
  return Status::invalid_argument("version of " + std::to_string(bytes.size()) +
                                  " bytes is not a dotted version vector");
}

class VclockConflict : public Conflict {
 public:
  Result<Bytes> new_version(const NodeId& node, std::span<const Bytes> context) override {
    DottedVersion made;
    for (const Bytes& bytes : context) {
      std::optional<DottedVersion> seen = DottedVersion::decode(bytes);
      if (!seen) return not_a_version(bytes);
      seen->merge_into(&made.past);
    }
    // The dot is one event; the past keeps this node's own entry, because the dot alone does not
    // say which of the node's earlier events the writer saw.
    uint64_t own_seen = made.past.contains(node) ? made.past[node] : 0;
    made.dot = {node, next_counter(own_seen)};
    return made.encode();
  }

  Result<VersionOrder> compare(ByteView a, ByteView b) const override {
    std::optional<DottedVersion> va = DottedVersion::decode(a);
    if (!va) return not_a_version(a);
    std::optional<DottedVersion> vb = DottedVersion::decode(b);
    if (!vb) return not_a_version(b);
    if (va->dot == vb->dot) return VersionOrder::kEqual;
    bool a_before_b = vb->covers(va->dot);
    bool b_before_a = va->covers(vb->dot);
    if (a_before_b && !b_before_a) return VersionOrder::kBefore;
    if (b_before_a && !a_before_b) return VersionOrder::kAfter;
    return VersionOrder::kConcurrent;
  }

  Result<std::vector<VersionedValue>> reconcile(
      std::vector<VersionedValue> versions) const override {
    std::vector<DottedVersion> decoded;
    for (const VersionedValue& v : versions) {
      std::optional<DottedVersion> d = DottedVersion::decode(v.version);
      if (!d) return not_a_version(v.version);
      decoded.push_back(std::move(*d));
    }
    std::vector<VersionedValue> survivors;
    for (size_t i = 0; i < versions.size(); ++i) {
      bool superseded = false;
      bool duplicate = false;
      for (size_t j = 0; j < versions.size() && !superseded; ++j) {
        if (i == j) continue;
        if (decoded[j].dot == decoded[i].dot) {
          duplicate = duplicate || j < i;  // the same event twice: keep the first copy
        } else {
          superseded = decoded[j].covers(decoded[i].dot);
        }
      }
      if (!superseded && !duplicate) survivors.push_back(std::move(versions[i]));
    }
    std::sort(survivors.begin(), survivors.end(),
              [](const VersionedValue& a, const VersionedValue& b) { return a.version < b.version; });
    return survivors;
  }

  // Drops the past's entries of nodes outside `members`. The dot stays: it names the event.
  // Without an entry, versions that entry covered look concurrent with this one (a sibling
  // returns until a write that read both settles it); none looks superseded that was not.
  Result<Bytes> prune(ByteView version, std::span<const NodeId> members) const override {
    std::optional<DottedVersion> v = DottedVersion::decode(version);
    if (!v) return not_a_version(version);
    std::erase_if(v->past, [&](const auto& entry) {
      return std::find(members.begin(), members.end(), entry.first) == members.end();
    });
    return v->encode();
  }

  // Vector clocks order writes only partially; a log that needs a total order refuses them.
  Result<Bytes> order_after(ByteView, ByteView) const override {
    return Status::not_supported(
        "conflict plugin vclock: vector clocks have no total order for a replicated log; the "
        "leader profile needs conflict plugin lww");
  }

 private:
  uint64_t next_counter(uint64_t seen) {
    uint64_t now_us = std::chrono::duration_cast<std::chrono::microseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
    std::lock_guard lock(mutex_);
    last_counter_ = std::max({last_counter_ + 1, seen + 1, now_us});
    return last_counter_;
  }

  std::mutex mutex_;
  uint64_t last_counter_ = 0;
};

Result<std::unique_ptr<Conflict>> make_vclock(const PluginContext&,
                                              const ConfigSection&) noexcept {
  return std::unique_ptr<Conflict>(std::make_unique<VclockConflict>());
}

}  // namespace

extern const PluginDescriptor vclock_descriptor;
const PluginDescriptor vclock_descriptor{
    .abi_version = kPluginAbiVersion,
    .kind = PluginKind::kConflict,
    .name = "vclock",
    .version = "1.0.0",
    .description = "dotted version vectors; concurrent writes are kept as siblings",
    .config_keys = nullptr,
    .config_key_count = 0,
    .make_conflict = make_vclock,
};

}  // namespace tessera::vclock

TESSERA_EXPORT_PLUGIN(tessera::vclock::vclock_descriptor)
