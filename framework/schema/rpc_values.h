// Conversions between the schemas' types (tessera.capnp, replica.capnp) and the framework's,
// shared by the node's RPC services and its quorum router. Shared by the node core, the profiles and the client library.
#pragma once

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

inline capnp::Text::Reader as_text(const std::string& text) {
  return capnp::Text::Reader(text.c_str(), text.size());
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
