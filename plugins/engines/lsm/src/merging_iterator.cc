// The merging iterator picks the smallest current key among its children on every step. The
// engine merges few sources (memtables, level-0 files, one per deeper level), so a linear scan
// over the children costs less than keeping a heap.
#include "format.h"
#include "iterator.h"

namespace tessera::lsm {
namespace {

class EmptyIterator final : public InternalIterator {
 public:
  explicit EmptyIterator(Status status) : status_(std::move(status)) {}
  bool valid() const override { return false; }
  void seek_to_first() override {}
  void seek(ByteView) override {}
  void next() override { TESSERA_REQUIRE(false, "next() on an empty iterator"); }
  ByteView key() const override { return {}; }
  ByteView value() const override { return {}; }
  Status status() const override { return status_; }

 private:
  Status status_;
};

class MergingIterator final : public InternalIterator {
 public:
  explicit MergingIterator(std::vector<std::unique_ptr<InternalIterator>> children)
      : children_(std::move(children)) {}

  bool valid() const override { return current_ != nullptr; }
  void seek_to_first() override {
    for (auto& child : children_) child->seek_to_first();
    find_smallest();
  }
  void seek(ByteView target) override {
    for (auto& child : children_) child->seek(target);
    find_smallest();
  }
  void next() override {
    TESSERA_REQUIRE(valid());
    current_->next();
    find_smallest();
  }
  ByteView key() const override { return current_->key(); }
  ByteView value() const override { return current_->value(); }
  Status status() const override {
    for (const auto& child : children_) {
      Status s = child->status();
      if (!s.is_ok()) return s;
    }
    return Status::ok();
  }

 private:
  void find_smallest() {
    current_ = nullptr;
    for (auto& child : children_) {
      if (!child->valid()) continue;
      if (current_ == nullptr || compare_internal_keys(child->key(), current_->key()) < 0) {
        current_ = child.get();
      }
    }
    // A child that failed stops the merge: continuing would silently skip its entries.
    for (auto& child : children_) {
      if (!child->valid() && !child->status().is_ok()) current_ = nullptr;
    }
  }

  std::vector<std::unique_ptr<InternalIterator>> children_;
  InternalIterator* current_ = nullptr;
};

}  // namespace

std::unique_ptr<InternalIterator> new_empty_iterator(Status status) {
  return std::make_unique<EmptyIterator>(std::move(status));
}

std::unique_ptr<InternalIterator> new_merging_iterator(
    std::vector<std::unique_ptr<InternalIterator>> children) {
  if (children.size() == 1) return std::move(children[0]);
  return std::make_unique<MergingIterator>(std::move(children));
}

}  // namespace tessera::lsm
