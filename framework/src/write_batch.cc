#include "tessera/write_batch.h"

#include "tessera/coding.h"

namespace tessera {

void WriteBatch::put(ByteView key, ByteView value) {
  rep_.push_back(static_cast<char>(OpKind::kPut));
  put_length_prefixed(&rep_, key);
  put_length_prefixed(&rep_, value);
  ++count_;
}

void WriteBatch::del(ByteView key) {
  rep_.push_back(static_cast<char>(OpKind::kDelete));
  put_length_prefixed(&rep_, key);
  ++count_;
}

void WriteBatch::clear() {
  rep_.clear();
  count_ = 0;
}

void WriteBatch::append(const WriteBatch& other) {
  rep_.append(other.rep_);
  count_ += other.count_;
}

bool WriteBatch::next_op(ByteView* in, Op* op) {
  if (in->empty()) return false;
  op->kind = static_cast<OpKind>((*in)[0]);
  in->remove_prefix(1);
  bool ok = get_length_prefixed(in, &op->key);
  op->value = {};
  if (ok && op->kind == OpKind::kPut) ok = get_length_prefixed(in, &op->value);
  TESSERA_ASSERT(ok, "WriteBatch rep was validated on construction");
  return true;
}

Result<WriteBatch> WriteBatch::from_rep(ByteView rep) {
  WriteBatch batch;
  ByteView in = rep;
  while (!in.empty()) {
    auto kind = static_cast<OpKind>(in[0]);
    in.remove_prefix(1);
    ByteView key, value;
    if (kind != OpKind::kPut && kind != OpKind::kDelete) {
      return Status::corruption("write batch: unknown operation kind");
    }
    if (!get_length_prefixed(&in, &key) ||
        (kind == OpKind::kPut && !get_length_prefixed(&in, &value))) {
      return Status::corruption("write batch: truncated operation");
    }
    ++batch.count_;
  }
  batch.rep_.assign(rep);
  return batch;
}

}  // namespace tessera
