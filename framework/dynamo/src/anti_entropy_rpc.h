// antientropy::Message in Replica.antiEntropy (replica.capnp) and back, and the keys a session
// repairs. Internal to tessera_dynamo.
#pragma once

#include <optional>
#include <vector>

#include "rpc_values.h"
#include "tessera/antientropy/message.h"
#include "tessera/dynamo/replica_keys.h"
#include "tessera/rpc/replica.capnp.h"

namespace tessera::dynamo {

namespace ae = antientropy;
using AeMessage = rpc::AntiEntropyMessage;

inline void set_position(AeMessage::Position::Builder out,
                         const std::optional<ae::EntryPosition>& position) {
  out.setSet(position.has_value());
  if (!position) return;
  out.setToken(position->token);
  out.setKey(as_data(position->key));
}

inline std::optional<ae::EntryPosition> to_position(AeMessage::Position::Reader in) {
  if (!in.getSet()) return std::nullopt;
  return ae::EntryPosition{in.getToken(), to_bytes(in.getKey())};
}

inline void set_message(AeMessage::Builder out, const ae::Message& message) {
  out.setSession(message.session);
  out.setSeq(message.seq);
  out.setRangeStart(message.range.start);
  out.setRangeEnd(message.range.end);
  out.setFanOut(message.shape.fan_out);
  out.setDepth(message.shape.depth);
  out.setPartial(message.partial);
  auto body = out.initBody();
  if (const auto* hashes = std::get_if<ae::NodeHashes>(&message.body)) {
    auto to = body.initNodeHashes();
    to.setLevel(hashes->level);
    auto nodes = to.initNodes(hashes->nodes.size());
    for (size_t i = 0; i < hashes->nodes.size(); ++i) {
      nodes[i].setIndex(hashes->nodes[i].index);
      nodes[i].setHash(hashes->nodes[i].hash);
    }
  } else if (std::holds_alternative<ae::NoDifference>(message.body)) {
    body.setNoDifference();
  } else if (const auto* page = std::get_if<ae::LeafPage>(&message.body)) {
    auto to = body.initLeafPage();
    auto leaves = to.initLeaves(page->leaves.size());
    for (size_t i = 0; i < page->leaves.size(); ++i) leaves.set(i, page->leaves[i]);
    set_position(to.initAfter(), page->after);
    set_position(to.initThrough(), page->through);
    auto entries = to.initEntries(page->entries.size());
    for (size_t i = 0; i < page->entries.size(); ++i) {
      entries[i].setToken(page->entries[i].token);
      entries[i].setKey(as_data(page->entries[i].key));
      entries[i].setDigest(page->entries[i].digest);
    }
  } else {
    const auto& ack = std::get<ae::LeafPageAck>(message.body);
    set_position(body.initLeafPageAck().initComparedThrough(), ack.compared_through);
  }
}

// The message, or nullopt for a body of a kind this node does not know (a later schema's) or
// lists over the protocol's bounds, which a session would ignore anyway.
inline std::optional<ae::Message> to_message(AeMessage::Reader in) {
  ae::Message message;
  message.session = in.getSession();
  message.seq = in.getSeq();
  message.range = ae::TokenRange{in.getRangeStart(), in.getRangeEnd()};
  message.shape = ae::TreeShape{in.getFanOut(), in.getDepth()};
  message.partial = in.getPartial();
  auto body = in.getBody();
  switch (body.which()) {
    case AeMessage::Body::NODE_HASHES: {
      auto hashes = body.getNodeHashes();
      if (hashes.getNodes().size() > ae::kNodesPerMessageMax) return std::nullopt;
      ae::NodeHashes out{hashes.getLevel(), {}};
      for (auto node : hashes.getNodes()) out.nodes.push_back({node.getIndex(), node.getHash()});
      message.body = std::move(out);
      return message;
    }
    case AeMessage::Body::NO_DIFFERENCE:
      message.body = ae::NoDifference{};
      return message;
    case AeMessage::Body::LEAF_PAGE: {
      auto page = body.getLeafPage();
      if (page.getLeaves().size() > ae::kNodesPerMessageMax ||
          page.getEntries().size() > ae::kEntriesPerPageMax) {
        return std::nullopt;
      }
      ae::LeafPage out;
      for (uint32_t leaf : page.getLeaves()) out.leaves.push_back(leaf);
      out.after = to_position(page.getAfter());
      out.through = to_position(page.getThrough());
      for (auto entry : page.getEntries()) {
        out.entries.push_back({entry.getToken(), to_bytes(entry.getKey()), entry.getDigest()});
      }
      message.body = std::move(out);
      return message;
    }
    case AeMessage::Body::LEAF_PAGE_ACK:
      message.body = ae::LeafPageAck{to_position(body.getLeafPageAck().getComparedThrough())};
      return message;
  }
  return std::nullopt;
}

inline void set_key_versions(capnp::List<rpc::TableKeyVersions>::Builder out,
                             const std::vector<HostKeyVersions>& items) {
  for (size_t i = 0; i < items.size(); ++i) {
    out[i].setTable(as_text(items[i].table));
    out[i].setKey(as_data(items[i].key));
    set_versions(out[i].initVersions(items[i].versions.size()), items[i].versions);
  }
}

}  // namespace tessera::dynamo
