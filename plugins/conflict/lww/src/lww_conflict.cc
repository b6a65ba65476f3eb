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

class LwwConflict : public Conflict {
 public:
  explicit LwwConflict(const NodeId& node) : clock_(node_tag(node)) {}

  Result<Bytes> new_version(const NodeId&, std::span<const Bytes> context) override {
    std::vector<Sequencer> seen;
    for (const Bytes& bytes : context) {
      std::optional<Sequencer> s = Sequencer::decode(bytes);
      if (!s) return not_a_sequencer(bytes);
      seen.push_back(*s);
    }
    return clock_.next(wall_clock_ns(), seen).encode();
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
