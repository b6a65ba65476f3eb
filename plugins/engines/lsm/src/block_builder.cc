#include "block_builder.h"

#include <algorithm>

#include "format.h"
#include "tessera/assert.h"
#include "tessera/coding.h"

namespace tessera::lsm {

BlockBuilder::BlockBuilder(int restart_interval) : restart_interval_(restart_interval) {
  TESSERA_REQUIRE(restart_interval >= 1);
  restarts_.push_back(0);
}

void BlockBuilder::reset() {
  buffer_.clear();
  restarts_.clear();
  restarts_.push_back(0);
  counter_ = 0;
  finished_ = false;
  last_key_.clear();
}

void BlockBuilder::add(ByteView key, ByteView value) {
  TESSERA_REQUIRE(!finished_);
  TESSERA_ASSERT(buffer_.empty() || compare_internal_keys(key, last_key_) > 0,
                 "block keys must be added in increasing order");
  size_t shared = 0;
  if (counter_ < restart_interval_) {
    size_t limit = std::min(last_key_.size(), key.size());
    while (shared < limit && last_key_[shared] == key[shared]) ++shared;
  } else {
    restarts_.push_back(static_cast<uint32_t>(buffer_.size()));
    counter_ = 0;
  }
  size_t unshared = key.size() - shared;
  put_varint32(&buffer_, static_cast<uint32_t>(shared));
  put_varint32(&buffer_, static_cast<uint32_t>(unshared));
  put_varint32(&buffer_, static_cast<uint32_t>(value.size()));
  buffer_.append(key.substr(shared));
  buffer_.append(value);
  last_key_.resize(shared);
  last_key_.append(key.substr(shared));
  ++counter_;
}

ByteView BlockBuilder::finish() {
  for (uint32_t restart : restarts_) put_fixed32_le(&buffer_, restart);
  put_fixed32_le(&buffer_, static_cast<uint32_t>(restarts_.size()));
  finished_ = true;
  return buffer_;
}

}  // namespace tessera::lsm
