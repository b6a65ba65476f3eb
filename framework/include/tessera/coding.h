// Little helpers to encode integers into byte strings and decode them back: fixed-width
// big-endian (so that encoded integers sort like the numbers) and LEB128 varints.
// Decoders take a ByteView* cursor, consume what they read, and return false on short input.
#pragma once

#include <cstdint>

#include "tessera/bytes.h"

namespace tessera {

void put_fixed32_be(Bytes* dst, uint32_t value);
void put_fixed64_be(Bytes* dst, uint64_t value);
void put_varint32(Bytes* dst, uint32_t value);
void put_varint64(Bytes* dst, uint64_t value);
// varint32 length followed by the bytes.
void put_length_prefixed(Bytes* dst, ByteView value);

bool get_fixed32_be(ByteView* in, uint32_t* value);
bool get_fixed64_be(ByteView* in, uint64_t* value);
bool get_varint32(ByteView* in, uint32_t* value);
bool get_varint64(ByteView* in, uint64_t* value);
bool get_length_prefixed(ByteView* in, ByteView* value);

}  // namespace tessera
