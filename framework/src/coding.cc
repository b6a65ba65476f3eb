#include "tessera/coding.h"

namespace tessera {

void put_fixed32_be(Bytes* dst, uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8) dst->push_back(static_cast<char>(value >> shift));
}

void put_fixed64_be(Bytes* dst, uint64_t value) {
  for (int shift = 56; shift >= 0; shift -= 8) dst->push_back(static_cast<char>(value >> shift));
}

void put_varint64(Bytes* dst, uint64_t value) {
  while (value >= 0x80) {
    dst->push_back(static_cast<char>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  dst->push_back(static_cast<char>(value));
}

void put_varint32(Bytes* dst, uint32_t value) { put_varint64(dst, value); }

void put_length_prefixed(Bytes* dst, ByteView value) {
  put_varint32(dst, static_cast<uint32_t>(value.size()));
  dst->append(value);
}

bool get_fixed32_be(ByteView* in, uint32_t* value) {
  if (in->size() < 4) return false;
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<uint8_t>((*in)[i]);
  in->remove_prefix(4);
  *value = v;
  return true;
}

bool get_fixed64_be(ByteView* in, uint64_t* value) {
  if (in->size() < 8) return false;
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>((*in)[i]);
  in->remove_prefix(8);
  *value = v;
  return true;
}

bool get_varint64(ByteView* in, uint64_t* value) {
  uint64_t result = 0;
  for (size_t i = 0; i < in->size() && i < 10; ++i) {
    uint64_t byte = static_cast<uint8_t>((*in)[i]);
    // The tenth byte holds bit 63 only; anything more would be silently dropped.
    if (i == 9 && byte > 1) return false;
    result |= (byte & 0x7f) << (7 * i);
    if ((byte & 0x80) == 0) {
      in->remove_prefix(i + 1);
      *value = result;
      return true;
    }
  }
  return false;
}

bool get_varint32(ByteView* in, uint32_t* value) {
  uint64_t wide = 0;
  ByteView probe = *in;
  if (!get_varint64(&probe, &wide) || wide > UINT32_MAX) return false;
  *in = probe;
  *value = static_cast<uint32_t>(wide);
  return true;
}

bool get_length_prefixed(ByteView* in, ByteView* value) {
  uint32_t length = 0;
  ByteView probe = *in;
  if (!get_varint32(&probe, &length) || probe.size() < length) return false;
  *value = probe.substr(0, length);
  probe.remove_prefix(length);
  *in = probe;
  return true;
}

}  // namespace tessera
