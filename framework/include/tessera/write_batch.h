// WriteBatch: an ordered list of puts and deletes that an engine applies atomically.
//
// The batch keeps its operations in one contiguous buffer (`rep()`), so an engine can append it
// to a write-ahead log as is and rebuild it on recovery with `from_rep()`. Grammar of rep:
//
//   rep    := op*
//   op     := kPut    varint32(key_len) key varint32(value_len) value
//           | kDelete varint32(key_len) key
//
// A later operation on the same key within one batch wins. Deleting a missing key is not an
// error. Thread-safety: none; a batch is built by one thread and then only read.
#pragma once

#include <cstddef>
#include <cstdint>

#include "tessera/bytes.h"
#include "tessera/status.h"

namespace tessera {

class WriteBatch {
 public:
  enum class OpKind : uint8_t { kPut = 1, kDelete = 2 };

  struct Op {
    OpKind kind;
    ByteView key;
    ByteView value;  // empty for kDelete
  };

  void put(ByteView key, ByteView value);
  void del(ByteView key);
  void clear();

  // Appends every operation of `other`, in order.
  void append(const WriteBatch& other);

  size_t count() const { return count_; }
  bool empty() const { return count_ == 0; }
  // Bytes of keys and values plus encoding overhead: what a log record of this batch costs.
  size_t byte_size() const { return rep_.size(); }
  ByteView rep() const { return rep_; }

  // Rebuilds a batch from `rep()`; Corruption if the bytes do not follow the grammar.
  static Result<WriteBatch> from_rep(ByteView rep);

  // Calls fn(const Op&) for each operation in order. The views borrow from this batch.
  template <typename Fn>
  void for_each(Fn&& fn) const {
    ByteView in = rep_;
    Op op;
    while (next_op(&in, &op)) fn(op);
  }

 private:
  // Decodes one op from the front of *in. REQUIRES: *in was produced by this class.
  static bool next_op(ByteView* in, Op* op);

  std::string rep_;
  size_t count_ = 0;
};

}  // namespace tessera
