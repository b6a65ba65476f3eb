#include "tessera/crypto.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

namespace tessera {

Bytes hmac_sha256(ByteView key, std::initializer_list<ByteView> pieces) {
  Bytes message;
  for (ByteView piece : pieces) message.append(piece);
  Bytes out(kSha256Bytes, '\0');
  unsigned int length = 0;
  const unsigned char* made =
      HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(message.data()), message.size(),
           reinterpret_cast<unsigned char*>(out.data()), &length);
  TESSERA_ASSERT(made != nullptr);
  TESSERA_ASSERT(length == kSha256Bytes);
  return out;
}

Bytes sha256(ByteView bytes) {
  Bytes out(kSha256Bytes, '\0');
  SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(),
         reinterpret_cast<unsigned char*>(out.data()));
  return out;
}

std::string to_hex(ByteView bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 0xf]);
  }
  return out;
}

bool constant_time_equal(ByteView a, ByteView b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

Result<Bytes> random_bytes(size_t count) {
  Bytes out(count, '\0');
  if (count != 0 && RAND_bytes(reinterpret_cast<unsigned char*>(out.data()),
                               static_cast<int>(count)) != 1) {
    return Status::internal("the random generator (RAND_bytes) failed");
  }
  return out;
}

}  // namespace tessera
