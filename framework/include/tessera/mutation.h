// Mutation: one operation of a client's write batch, a put (value set) or a delete (no value).
#pragma once

#include <optional>

#include "tessera/bytes.h"

namespace tessera {

struct Mutation {
  Bytes key;
  std::optional<Bytes> value;  // nullopt deletes the key
};

}  // namespace tessera
