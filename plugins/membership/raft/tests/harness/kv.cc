#include "kv.h"

#include <cstring>

#include "tessera/assert.h"

namespace tessera::raft::sim_harness {

namespace {

void put_u64(std::string& out, uint64_t v) {
  char buf[8];
  std::memcpy(buf, &v, 8);
  out.append(buf, 8);
}

uint64_t get_u64(std::string_view& in) {
  TESSERA_ASSERT(in.size() >= 8);
  uint64_t v = 0;
  std::memcpy(&v, in.data(), 8);
  in.remove_prefix(8);
  return v;
}

}  // namespace

std::string encode_command(const KvCommand& c) {
  std::string out;
  out.reserve(32);
  put_u64(out, c.client);
  put_u64(out, c.seq);
  put_u64(out, c.key);
  put_u64(out, c.value);
  return out;
}

std::optional<KvCommand> decode_command(std::string_view data) {
  if (data.empty()) return std::nullopt;
  TESSERA_ASSERT(data.size() == 32);
  KvCommand c;
  c.client = get_u64(data);
  c.seq = get_u64(data);
  c.key = get_u64(data);
  c.value = get_u64(data);
  return c;
}

void KvStore::apply(const KvCommand& c) {
  uint64_t& last = last_seq_[c.client];
  if (c.seq <= last) return;  // a retry of something already applied
  last = c.seq;
  values_[c.key] = c.value;
}

uint64_t KvStore::get(uint64_t key) const {
  auto it = values_.find(key);
  return it == values_.end() ? 0 : it->second;
}

bool KvStore::applied(uint64_t client, uint64_t seq) const {
  auto it = last_seq_.find(client);
  return it != last_seq_.end() && it->second >= seq;
}

std::string KvStore::snapshot() const {
  std::string out;
  for (const auto* map : {&values_, &last_seq_}) {
    put_u64(out, map->size());
    for (const auto& [k, v] : *map) {
      put_u64(out, k);
      put_u64(out, v);
    }
  }
  return out;
}

void KvStore::restore(std::string_view image) {
  clear();
  for (auto* map : {&values_, &last_seq_}) {
    const uint64_t count = get_u64(image);
    for (uint64_t i = 0; i < count; ++i) {
      const uint64_t k = get_u64(image);
      (*map)[k] = get_u64(image);
    }
  }
}

void KvStore::clear() {
  values_.clear();
  last_seq_.clear();
}

}  // namespace tessera::raft::sim_harness
