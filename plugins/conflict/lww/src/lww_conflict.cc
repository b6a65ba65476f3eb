// The last-write-wins conflict plugin: every version is a 16-byte Sequencer; of several versions
// of a key the greatest survives and the others are discarded. Versions are totally ordered, so
// compare() never answers kConcurrent.
#include <algorithm>
#include <chrono>

#include "sequencer.h"
#include "tessera/conflict.h"
#include "tessera/plugin.h"

namespace tessera::lww {
namespace {

uint64_t wall_clock_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Status not_a_sequencer(ByteView bytes) {
  return Status::invalid_argument("version of " + std::to_string(bytes.size()) +
                                  " bytes is not a 16-byte last-write-wins sequencer");
}

// How far ahead of this node's clock a version in a client's context may be. New versions must
// supersede the context, so a context version drags the node's clock up to it, and with it
// every version the node makes afterwards, for every key: one bogus context stamped years ahead
// would make later writes lose to it after a restart. Real contexts hold versions some node
// made, at most a clock skew ahead.
constexpr uint64_t kContextAheadMaxNs = 60'000'000'000;

class LwwConflict : public Conflict {
 public:
  explicit LwwConflict(const NodeId& node) : clock_(node_tag(node)) {}

  Result<Bytes> new_version(const NodeId&, std::span<const Bytes> context) override {
    const uint64_t now_ns = wall_clock_ns();
    std::vector<Sequencer> seen;
    for (const Bytes& bytes : context) {
      std::optional<Sequencer> s = Sequencer::decode(bytes);
      if (!s) return not_a_sequencer(bytes);
      if (s->timestamp_ns > now_ns + kContextAheadMaxNs) {
        return Status::invalid_argument(
            "context version is " + std::to_string((s->timestamp_ns - now_ns) / 1'000'000) +
            " ms ahead of this node's clock, more than the " +
            std::to_string(kContextAheadMaxNs / 1'000'000) +
            " ms a clock skew explains; pass back the context a get returned");
      }
      seen.push_back(*s);
    }
    return clock_.next(now_ns, seen).encode();
  }

  Result<VersionOrder> compare(ByteView a, ByteView b) const override {
    std::optional<Sequencer> sa = Sequencer::decode(a);
    if (!sa) return not_a_sequencer(a);
    std::optional<Sequencer> sb = Sequencer::decode(b);
    if (!sb) return not_a_sequencer(b);
    if (*sa < *sb) return VersionOrder::kBefore;
    if (*sb < *sa) return VersionOrder::kAfter;
    return VersionOrder::kEqual;
  }

  Result<std::vector<VersionedValue>> reconcile(
      std::vector<VersionedValue> versions) const override {
    if (versions.empty()) return versions;
    for (const VersionedValue& v : versions) {
      if (!Sequencer::decode(v.version)) return not_a_sequencer(v.version);
    }
    // Encoded sequencers sort like sequencers; the value breaks a tie deterministically.
    auto winner = std::max_element(
        versions.begin(), versions.end(), [](const VersionedValue& a, const VersionedValue& b) {
          return std::tie(a.version, a.tombstone, a.value) <
                 std::tie(b.version, b.tombstone, b.value);
        });
    std::vector<VersionedValue> out;
    out.push_back(std::move(*winner));
    return out;
  }

  // A sequencer names no other node: nothing to prune.
  Result<Bytes> prune(ByteView version, std::span<const NodeId>) const override {
    if (!Sequencer::decode(version)) return not_a_sequencer(version);
    return Bytes(version);
  }

  Result<Bytes> order_after(ByteView proposed, ByteView last) const override {
    std::optional<Sequencer> p = Sequencer::decode(proposed);
    if (!p) return not_a_sequencer(proposed);
    if (last.empty()) return p->encode();
    std::optional<Sequencer> l = Sequencer::decode(last);
    if (!l) return not_a_sequencer(last);
    return ratchet(*p, *l).encode();
  }

 private:
  SequencerClock clock_;
};

Result<std::unique_ptr<Conflict>> make_lww(const PluginContext& context,
                                           const ConfigSection&) noexcept {
  return std::unique_ptr<Conflict>(std::make_unique<LwwConflict>(context.node_id));
}

}  // namespace

extern const PluginDescriptor lww_descriptor;
const PluginDescriptor lww_descriptor{
    .abi_version = kPluginAbiVersion,
    .kind = PluginKind::kConflict,
    .name = "lww",
    .version = "1.0.0",
    .description = "last-write-wins with 16-byte sequencers (timestamp, counter, node)",
    .config_keys = nullptr,
    .config_key_count = 0,
    .make_conflict = make_lww,
};

}  // namespace tessera::lww

TESSERA_EXPORT_PLUGIN(tessera::lww::lww_descriptor)
