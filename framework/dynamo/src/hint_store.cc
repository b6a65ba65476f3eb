#include "tessera/dynamo/hint_store.h"

#include <functional>

#include "tessera/coding.h"
#include "tessera/node/stored_value.h"

namespace tessera::dynamo {
namespace {

Bytes hint_key(ByteView owner, ByteView table, ByteView key) {
  Bytes rest;
  put_length_prefixed(&rest, owner);
  put_length_prefixed(&rest, table);
  rest.append(key);
  return node::LocalStore::extension_key(rest);
}

// The key of a hint's time record, from the hint's key.
Bytes time_key(ByteView hint_key) {
  const Bytes first = node::LocalStore::extension_key("");
  Bytes rest;
  put_length_prefixed(&rest, "");
  rest.append(hint_key.substr(first.size()));
  return node::LocalStore::extension_key(rest);
}

// Whether an extension record is a time record (its owner field is empty).
bool is_time_record(ByteView rest) { return !rest.empty() && rest[0] == '\0'; }

}  // namespace

// The hint half of a hinted write: holds the hint's lock from before the store locks the key
// until the batch is written.
class HintStore::HintedWrite final : public node::BatchExtension {
 public:
  HintedWrite(const HintStore& hints, Bytes key)
      : store_(hints.store_), now_ms_(hints.now_ms_()), key_(std::move(key)),
        held_(hints.stripe(key_)) {}

  Status extend(std::span<const VersionedValue> versions, WriteBatch* batch) override {
    const Bytes when = time_key(key_);
    TESSERA_ASSIGN_OR_RETURN(std::optional<Bytes> stamped, store_->engine()->get({}, when));
    if (!stamped) {
      Bytes ms;
      put_fixed64_be(&ms, now_ms_);
      batch->put(when, ms);
    }
    return store_->merge_record(key_, {versions.begin(), versions.end()}, batch);
  }

 private:
  node::LocalStore* const store_;
  const uint64_t now_ms_;
  const Bytes key_;
  std::lock_guard<std::mutex> held_;
};

HintStore::HintStore(node::LocalStore* store, std::function<uint64_t()> now_ms)
    : store_(store), now_ms_(std::move(now_ms)) {
  store_->add_drop_hook([this](std::string_view table, WriteBatch* batch) {
    return delete_hints_of(table, batch);
  });
}

std::mutex& HintStore::stripe(ByteView hint_key) const {
  return stripes_[std::hash<ByteView>{}(hint_key) % kLockStripes];
}

Status HintStore::merge_versions(std::string_view table, ByteView key,
                                 std::vector<VersionedValue> versions, ByteView hint_for,
                                 node::Waiting waiting) {
  if (hint_for.empty()) {
    return store_->merge_versions(table, key, std::move(versions), nullptr, waiting);
  }
  if (waiting == node::Waiting::kNever) return Status::would_block("a hinted write");
  HintedWrite hinted(*this, hint_key(hint_for, table, key));
  return store_->merge_versions(table, key, std::move(versions), &hinted);
}

Status HintStore::delete_hints_of(std::string_view table, WriteBatch* batch) const {
  const Bytes first = node::LocalStore::extension_key("");
  auto it = store_->engine()->new_iterator({.upper_bound = node::LocalStore::extension_end()});
  for (it->seek(first); it->valid(); it->next()) {
    ByteView rest = it->key().substr(first.size());
    ByteView owner, hinted_table;
    // A time record names its hint's owner and table after its own empty owner field.
    if (is_time_record(rest)) get_length_prefixed(&rest, &owner);
    if (get_length_prefixed(&rest, &owner) && get_length_prefixed(&rest, &hinted_table) &&
        hinted_table == table) {
      batch->del(it->key());
    }
  }
  return it->status();
}

Result<HintPage> HintStore::hints(ByteView cursor, size_t hints_max) const {
  HintPage page;
  const Bytes first = node::LocalStore::extension_key("");
  auto it = store_->engine()->new_iterator({.upper_bound = node::LocalStore::extension_end()});
  it->seek(cursor.empty() || cursor < ByteView(first) ? ByteView(first) : cursor);
  for (; it->valid(); it->next()) {
    if (page.hints.size() == hints_max) {
      page.next_cursor = Bytes(it->key());
      break;
    }
    ByteView rest = it->key().substr(first.size());
    if (is_time_record(rest)) continue;  // read with its hint, below
    ByteView owner, table;
    Result<std::vector<VersionedValue>> versions = node::decode_record(it->value());
    if (!get_length_prefixed(&rest, &owner) || !get_length_prefixed(&rest, &table) ||
        !versions.is_ok()) {
      // Counted and passed over, as the tombstone sweep does: failing here would stop every
      // later round at this hint.
      ++page.unreadable;
      continue;
    }
    Hint hint{NodeId(owner), std::string(table), Bytes(rest), std::move(versions).value(),
              Bytes(it->value())};
    TESSERA_ASSIGN_OR_RETURN(std::optional<Bytes> stamped,
                             store_->engine()->get({}, time_key(it->key())));
    ByteView ms = stamped ? ByteView(*stamped) : ByteView();
    if (stamped && !get_fixed64_be(&ms, &hint.first_hinted_ms)) hint.first_hinted_ms = 0;
    page.hints.push_back(std::move(hint));
  }
  TESSERA_RETURN_IF_ERROR(it->status());
  return page;
}

Status HintStore::drop_hint(const Hint& hint) {
  const Bytes key = hint_key(hint.owner, hint.table, hint.key);
  std::lock_guard lock(stripe(key));
  TESSERA_ASSIGN_OR_RETURN(std::optional<Bytes> stored, store_->engine()->get({}, key));
  // A hinted write that arrived after `hint` was read is owed too: keep the hint then.
  if (!stored || *stored != hint.record) return Status::ok();
  WriteBatch batch;
  batch.del(key);
  batch.del(time_key(key));
  // Unsynced: a crash that undoes it hands the hint over once more, which changes nothing.
  return store_->engine()->write({}, batch);
}

}  // namespace tessera::dynamo
