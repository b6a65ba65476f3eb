// Helpers for the tests that load the gossip plugin file: making instances from TOML text,
// free loopback UDP ports, and polling a condition against a deadline.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>

#include "tessera/config.h"
#include "tessera/cluster_secret.h"
#include "tessera/membership.h"
#include "tessera/plugin_loader.h"

namespace tessera::gossip::testing {

inline PluginLoader loader() {
  return PluginLoader({std::filesystem::path(TESSERA_GOSSIP_PLUGIN).parent_path()});
}

// A gossip membership made from `toml` (the plugin's config section), or the loader's error.
// With `secret`, its datagrams are tagged with it and untagged ones dropped, as on a node.
inline Result<PluginPtr<Membership>> make_gossip(const std::string& toml,
                                                 const std::string& node = "n",
                                                 const ClusterSecret* secret = nullptr) {
  auto file = ConfigFile::parse(toml, "gossip.toml");
  if (!file.is_ok()) return file.status();
  return loader().make_membership(
      "gossip", PluginContext{.node_id = node, .data_dir = {}, .cluster_secret = secret},
      (*file)->root());
}

// `n` distinct loopback UDP ports that were free a moment ago (held together while picked, so
// that they differ; another process could still take one before the test binds it).
inline std::vector<uint16_t> free_udp_ports(size_t n) {
  boost::asio::io_context io;
  std::vector<boost::asio::ip::udp::socket> held;
  std::vector<uint16_t> ports;
  for (size_t i = 0; i < n; ++i) {
    held.emplace_back(io, boost::asio::ip::udp::endpoint(
                              boost::asio::ip::make_address("127.0.0.1"), 0));
    ports.push_back(held.back().local_endpoint().port());
  }
  return ports;
}

inline std::string loopback(uint16_t port) { return "127.0.0.1:" + std::to_string(port); }

// Polls `done` every 5 ms until it holds or `limit` passes; whether it held.
template <typename Done>
bool eventually(Done done, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return done();
}

inline std::optional<NodeInfo> find(const std::vector<NodeInfo>& view, const NodeId& id) {
  for (const NodeInfo& n : view) {
    if (n.id == id) return n;
  }
  return std::nullopt;
}

inline bool has_state(const Membership& m, const NodeId& id, NodeState state) {
  const std::optional<NodeInfo> n = find(m.members(), id);
  return n.has_value() && n->state == state;
}

}  // namespace tessera::gossip::testing
