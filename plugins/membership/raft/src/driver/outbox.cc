#include "driver/outbox.h"

#include "tessera/assert.h"

namespace tessera::raft::driver {

size_t message_bytes(const Message& message) {
  // A fixed header (type, ids, terms, indexes) plus each entry's header and payload.
  constexpr size_t kMessageHeaderBytes = 64;
  constexpr size_t kEntryHeaderBytes = 24;
  size_t bytes = kMessageHeaderBytes;
  for (const Entry& e : message.entries) bytes += kEntryHeaderBytes + e.data.size();
  return bytes;
}

void Outbox::add(const tessera::NodeId& to, GroupMessage message) {
  TESSERA_ASSERT(messages_max_ >= 1);
  const size_t bytes = message_bytes(message.message);
  std::vector<Pending>& batches = nodes_[to];
  if (batches.empty() || batches.back().batch.messages.size() >= messages_max_ ||
      (!batches.back().batch.messages.empty() && batches.back().bytes + bytes > bytes_max_)) {
    batches.emplace_back();
  }
  Pending& p = batches.back();
  p.batch.messages.push_back(std::move(message));
  p.bytes += bytes;
}

}  // namespace tessera::raft::driver
