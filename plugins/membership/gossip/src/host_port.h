// HostPort: a "host:port" address split into its parts, as gossip seeds and node addresses
// are written ("10.0.0.7:7000", "node-3.internal:7000", "[2001:db8::7]:7000").
// Thread-safety: pure functions and plain values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tessera::gossip {

struct HostPort {
  std::string host;  // without the brackets of an IPv6 literal
  uint16_t port = 0;
};

// The parts of `text`, or nullopt unless it is a non-empty host (no ':' in it unless it is in
// brackets; no spaces or control bytes), a ':', and a decimal port in [1, 65535].
std::optional<HostPort> parse_host_port(std::string_view text);

}  // namespace tessera::gossip
