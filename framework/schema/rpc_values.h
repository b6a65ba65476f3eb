// Conversions between the schemas' types (tessera.capnp, replica.capnp) and the framework's, and
// between whole messages and bytes,
// shared by the node's RPC services and its quorum router. Shared by the node core, the profiles and the client library.
#pragma once

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <kj/array.h>

#include <cstring>
#include <string>
#include <vector>

#include "error_status.h"
#include "tessera/bytes.h"
#include "tessera/conflict.h"
#include "tessera/rpc/replica.capnp.h"
#include "tessera/rpc/tessera.capnp.h"
#include "tessera/status.h"

namespace tessera {

inline Bytes to_bytes(capnp::Data::Reader data) {
  return Bytes(reinterpret_cast<const char*>(data.begin()), data.size());
}

inline std::string to_string(capnp::Text::Reader text) {
  return std::string(text.cStr(), text.size());
}

// Borrows `bytes` for as long as the reader is used.
inline capnp::Data::Reader as_data(ByteView bytes) {
  return capnp::Data::Reader(reinterpret_cast<const kj::byte*>(bytes.data()), bytes.size());
}

// With its explicit size, so that a name with a NUL byte reaches the node whole (and is refused
// there) instead of being cut short at the NUL.
inline capnp::Text::Reader as_text(const std::string& text) {
  return capnp::Text::Reader(text.c_str(), text.size());
}

// A whole message as bytes (a command proposed to a group, a result).
inline Bytes message_bytes(capnp::MessageBuilder& message) {
  kj::Array<capnp::word> words = capnp::messageToFlatArray(message);
  kj::ArrayPtr<const char> chars = words.asChars();
  return Bytes(chars.begin(), chars.size());
}

// `bytes` copied into aligned words, as capnp's flat-array reader needs (the rest zeroed).
inline kj::Array<capnp::word> copy_to_words(ByteView bytes) {
  auto words =
      kj::heapArray<capnp::word>((bytes.size() + sizeof(capnp::word) - 1) / sizeof(capnp::word));
  if (words.size() != 0) std::memset(words.begin(), 0, words.size() * sizeof(capnp::word));
  if (!bytes.empty()) std::memcpy(words.begin(), bytes.data(), bytes.size());
  return words;
}

inline void set_error(rpc::Error::Builder error, const Status& status) {
  write_error(error, status);
}

inline Status from_error(rpc::Error::Reader error) { return read_error(error); }

inline void set_versions(capnp::List<rpc::StoredVersion>::Builder out,
                         const std::vector<VersionedValue>& versions) {
  for (size_t i = 0; i < versions.size(); ++i) {
    out[i].setVersion(as_data(versions[i].version));
    out[i].setTombstone(versions[i].tombstone);
    out[i].setValue(as_data(versions[i].value));
  }
}

inline std::vector<VersionedValue> to_versions(capnp::List<rpc::StoredVersion>::Reader in) {
  std::vector<VersionedValue> versions;
  versions.reserve(in.size());
  for (auto v : in) {
    versions.push_back({to_bytes(v.getVersion()), v.getTombstone(), to_bytes(v.getValue())});
  }
  return versions;
}

}  // namespace tessera
