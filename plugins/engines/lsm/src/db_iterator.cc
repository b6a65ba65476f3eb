// The user-facing iterator: turns the merged stream of internal entries into the view at one
// sequence number. For each user key it shows the newest entry with sequence <= the view's
// sequence, and hides the key when that entry is a deletion.
#include "db.h"

namespace tessera::lsm {
namespace {

class DbIterator final : public Iterator {
 public:
  DbIterator(std::unique_ptr<InternalIterator> internal, SequenceNumber sequence,
             std::optional<Bytes> upper_bound)
      : internal_(std::move(internal)), sequence_(sequence), upper_bound_(std::move(upper_bound)) {}

  bool valid() const override { return valid_; }
  void seek(ByteView target) override {
    internal_->seek(make_internal_key(target, sequence_, kValueTypeForSeek));
    find_next_visible(false);
  }
  void seek_to_first() override {
    internal_->seek_to_first();
    find_next_visible(false);
  }
  void next() override {
    TESSERA_REQUIRE(valid_);
    // Skip the remaining (older) versions of the current key.
    skip_key_.assign(user_key_of(internal_->key()));
    internal_->next();
    find_next_visible(true);
  }
  ByteView key() const override {
    TESSERA_REQUIRE(valid_);
    return user_key_of(internal_->key());
  }
  ByteView value() const override {
    TESSERA_REQUIRE(valid_);
    return internal_->value();
  }
  Status status() const override { return status_.is_ok() ? internal_->status() : status_; }

 private:
  // Moves to the first entry at or after the current position that is visible and not shadowed
  // by skip_key_ (when `skipping`).
  void find_next_visible(bool skipping) {
    valid_ = false;
    for (; internal_->valid(); internal_->next()) {
      ParsedInternalKey key;
      if (!parse_internal_key(internal_->key(), &key)) {
        status_ = Status::corruption("iterator: malformed internal key");
        return;
      }
      if (key.sequence > sequence_) continue;  // written after this view
      if (skipping && key.user_key == ByteView(skip_key_)) continue;
      if (upper_bound_ && key.user_key >= ByteView(*upper_bound_)) return;
      if (key.type == ValueType::kDeletion) {
        skip_key_.assign(key.user_key);
        skipping = true;
        continue;
      }
      valid_ = true;
      return;
    }
  }

  std::unique_ptr<InternalIterator> internal_;
  const SequenceNumber sequence_;
  const std::optional<Bytes> upper_bound_;
  Bytes skip_key_;
  bool valid_ = false;
  Status status_;
};

}  // namespace

std::unique_ptr<Iterator> new_db_iterator(std::unique_ptr<InternalIterator> internal,
                                          SequenceNumber sequence,
                                          std::optional<Bytes> upper_bound) {
  return std::make_unique<DbIterator>(std::move(internal), sequence, std::move(upper_bound));
}

}  // namespace tessera::lsm
