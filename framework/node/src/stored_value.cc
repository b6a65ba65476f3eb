#include "tessera/node/stored_value.h"

#include "tessera/coding.h"

namespace tessera::node {

namespace {
constexpr uint8_t kTombstoneFlag = 1;
}

Bytes encode_record(std::span<const VersionedValue> siblings) {
  Bytes out;
  put_varint32(&out, static_cast<uint32_t>(siblings.size()));
  for (const VersionedValue& sibling : siblings) {
    out.push_back(static_cast<char>(sibling.tombstone ? kTombstoneFlag : 0));
    put_length_prefixed(&out, sibling.version);
    put_length_prefixed(&out, sibling.value);
  }
  return out;
}

Result<std::vector<VersionedValue>> decode_record(ByteView bytes) {
  uint32_t count = 0;
  if (!get_varint32(&bytes, &count)) return Status::corruption("stored record: bad count");
  std::vector<VersionedValue> siblings;
  for (uint32_t i = 0; i < count; ++i) {
    if (bytes.empty()) return Status::corruption("stored record: truncated");
    uint8_t flags = static_cast<uint8_t>(bytes[0]);
    bytes.remove_prefix(1);
    ByteView version, value;
    if (!get_length_prefixed(&bytes, &version) || !get_length_prefixed(&bytes, &value)) {
      return Status::corruption("stored record: truncated sibling");
    }
    siblings.push_back({Bytes(version), (flags & kTombstoneFlag) != 0, Bytes(value)});
  }
  if (!bytes.empty()) return Status::corruption("stored record: trailing bytes");
  return siblings;
}

VersionedValue make_tombstone(Bytes version, uint64_t now_ms) {
  Bytes when;
  put_fixed64_be(&when, now_ms);
  return VersionedValue{std::move(version), true, std::move(when)};
}

uint64_t tombstone_written_ms(const VersionedValue& sibling) {
  TESSERA_REQUIRE(sibling.tombstone);
  ByteView in = sibling.value;
  uint64_t written = 0;
  return get_fixed64_be(&in, &written) ? written : 0;
}

Bytes encode_context(std::span<const VersionedValue> siblings) {
  Bytes out;
  put_varint32(&out, static_cast<uint32_t>(siblings.size()));
  for (const VersionedValue& sibling : siblings) put_length_prefixed(&out, sibling.version);
  return out;
}

Bytes encode_context(std::span<const Bytes> versions) {
  Bytes out;
  put_varint32(&out, static_cast<uint32_t>(versions.size()));
  for (const Bytes& version : versions) put_length_prefixed(&out, version);
  return out;
}

Result<std::vector<Bytes>> decode_context(ByteView bytes) {
  std::vector<Bytes> versions;
  if (bytes.empty()) return versions;
  uint32_t count = 0;
  if (!get_varint32(&bytes, &count)) return Status::invalid_argument("context: bad count");
  for (uint32_t i = 0; i < count; ++i) {
    ByteView version;
    if (!get_length_prefixed(&bytes, &version)) {
      return Status::invalid_argument("context: truncated; pass back the context a get returned");
    }
    versions.emplace_back(version);
  }
  if (!bytes.empty()) return Status::invalid_argument("context: trailing bytes");
  return versions;
}

}  // namespace tessera::node
