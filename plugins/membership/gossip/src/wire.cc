// Wire encoding of gossip messages; the grammar is in wire.h.
#include "wire.h"

#include <utility>

#include "tessera/assert.h"
#include "tessera/coding.h"
#include "tessera/crc32c.h"

namespace tessera::gossip::wire {
namespace {

constexpr char kMagic0 = 'T';
constexpr char kMagic1 = 'G';
constexpr uint8_t kTypeMax = static_cast<uint8_t>(MessageType::kPushPullReply);
constexpr uint8_t kStatusMax = static_cast<uint8_t>(MemberStatus::kLeft);
constexpr uint8_t kFlagJoining = 1;
constexpr uint8_t kFlagsKnown = kFlagJoining;

bool entry_fits(const Member& m) {
  return !m.id.empty() && m.id.size() <= kIdBytesMax && !m.address.empty() &&
         m.address.size() <= kAddressBytesMax && m.zone.size() <= kZoneBytesMax &&
         static_cast<uint8_t>(m.status) <= kStatusMax;
}

void put_entry(Bytes* out, const Member& m) {
  put_length_prefixed(out, m.id);
  put_length_prefixed(out, m.address);
  put_length_prefixed(out, m.zone);
  put_varint64(out, m.incarnation);
  out->push_back(static_cast<char>(m.status));
  out->push_back(static_cast<char>(m.joining ? kFlagJoining : 0));
}

bool get_u8(ByteView* in, uint8_t* value) {
  if (in->empty()) return false;
  *value = static_cast<uint8_t>(in->front());
  in->remove_prefix(1);
  return true;
}

// A length-prefixed string of at most `max` bytes.
bool get_str(ByteView* in, size_t max, std::string* value) {
  ByteView bytes;
  if (!get_length_prefixed(in, &bytes) || bytes.size() > max) return false;
  value->assign(bytes);
  return true;
}

bool get_entry(ByteView* in, Member* m) {
  uint8_t status = 0;
  uint8_t flags = 0;
  if (!get_str(in, kIdBytesMax, &m->id) || !get_str(in, kAddressBytesMax, &m->address) ||
      !get_str(in, kZoneBytesMax, &m->zone) || !get_varint64(in, &m->incarnation) ||
      !get_u8(in, &status) || status > kStatusMax || !get_u8(in, &flags) ||
      (flags & ~kFlagsKnown) != 0) {
    return false;
  }
  m->status = static_cast<MemberStatus>(status);
  m->joining = (flags & kFlagJoining) != 0;
  return !m->id.empty() && !m->address.empty();
}

std::optional<Message> decode_body(ByteView in) {
  Message m;
  uint8_t type = 0;
  uint8_t count = 0;
  if (!get_u8(&in, &type) || type > kTypeMax || !get_str(&in, kIdBytesMax, &m.to) ||
      !get_varint64(&in, &m.seq) || !get_str(&in, kIdBytesMax, &m.target) ||
      !get_str(&in, kAddressBytesMax, &m.target_address) || !get_u8(&in, &count) ||
      count == 0 || count > kWireEntriesMax) {
    return std::nullopt;
  }
  m.type = static_cast<MessageType>(type);
  m.entries.resize(count);
  for (Member& entry : m.entries) {
    if (!get_entry(&in, &entry)) return std::nullopt;
  }
  if (!in.empty()) return std::nullopt;  // trailing bytes: not a datagram of this version
  m.from = m.entries[0].id;
  m.from_address = m.entries[0].address;
  return m;
}

}  // namespace

void apply_limits(Options& options) {
  options.entries_per_message_max = kWireEntriesMax;
  options.id_bytes_max = kIdBytesMax;
  options.address_bytes_max = kAddressBytesMax;
  options.zone_bytes_max = kZoneBytesMax;
}

bool encodable(const Message& m) {
  if (m.entries.empty() || m.entries.size() > kWireEntriesMax) return false;
  if (m.entries[0].id != m.from || m.entries[0].address != m.from_address) return false;
  if (m.to.size() > kIdBytesMax || m.target.size() > kIdBytesMax ||
      m.target_address.size() > kAddressBytesMax ||
      static_cast<uint8_t>(m.type) > kTypeMax) {
    return false;
  }
  for (const Member& entry : m.entries) {
    if (!entry_fits(entry)) return false;
  }
  return true;
}

Bytes encode(const Message& m) {
  TESSERA_REQUIRE(encodable(m));
  Bytes body;
  body.reserve(kEncodedBytesMax);
  body.push_back(static_cast<char>(m.type));
  put_length_prefixed(&body, m.to);
  put_varint64(&body, m.seq);
  put_length_prefixed(&body, m.target);
  put_length_prefixed(&body, m.target_address);
  body.push_back(static_cast<char>(m.entries.size()));
  for (const Member& entry : m.entries) put_entry(&body, entry);

  Bytes out;
  out.reserve(kHeaderBytes + body.size());
  out.push_back(kMagic0);
  out.push_back(kMagic1);
  out.push_back(static_cast<char>(kVersion));
  put_fixed32_be(&out, crc32c::value(body.data(), body.size()));
  out += body;
  TESSERA_ASSERT(out.size() <= kEncodedBytesMax);
  return out;
}

std::optional<Message> decode(ByteView in) {
  if (in.size() > kDatagramBytesMax || in.size() < kHeaderBytes) return std::nullopt;
  if (in[0] != kMagic0 || in[1] != kMagic1 || static_cast<uint8_t>(in[2]) != kVersion) {
    return std::nullopt;
  }
  in.remove_prefix(3);
  uint32_t crc = 0;
  if (!get_fixed32_be(&in, &crc) || crc != crc32c::value(in.data(), in.size())) {
    return std::nullopt;
  }
  return decode_body(in);
}

}  // namespace tessera::gossip::wire
