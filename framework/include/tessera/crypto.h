// Cryptographic primitives the node's authentication is built from, all from OpenSSL's
// libcrypto: HMAC-SHA256, SHA-256, constant-time comparison and the system's random generator.
// Nothing here is home-made; these are thin, value-returning wrappers.
//
// Thread-safety: every function may be called from any thread.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <string>

#include "tessera/bytes.h"
#include "tessera/status.h"

namespace tessera {

inline constexpr size_t kSha256Bytes = 32;

// HMAC-SHA256 under `key` of the concatenation of `pieces` (32 bytes).
Bytes hmac_sha256(ByteView key, std::initializer_list<ByteView> pieces);

// SHA-256 of `bytes` (32 bytes).
Bytes sha256(ByteView bytes);

// Lowercase hex of `bytes`.
std::string to_hex(ByteView bytes);

// Whether `a` equals `b`, in time that depends on their lengths only (CRYPTO_memcmp).
bool constant_time_equal(ByteView a, ByteView b);

// `count` bytes from OpenSSL's generator (RAND_bytes, seeded by the operating system).
// Internal when the generator fails (it is not seeded), which a caller must not paper over.
Result<Bytes> random_bytes(size_t count);

}  // namespace tessera
