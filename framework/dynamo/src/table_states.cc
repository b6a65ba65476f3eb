#include "tessera/dynamo/table_states.h"

#include <algorithm>

#include "tessera/coding.h"

namespace tessera::dynamo {
namespace {

constexpr char kStateFormat = 1;

void put_stamp(Bytes* out, const TableStamp& stamp) {
  put_fixed64_be(out, stamp.ms);
  put_length_prefixed(out, stamp.node);
}

bool get_stamp(ByteView* in, TableStamp* stamp) {
  ByteView node;
  if (!get_fixed64_be(in, &stamp->ms) || !get_length_prefixed(in, &node)) return false;
  stamp->node = NodeId(node);
  return true;
}

}  // namespace

Bytes encode_table_state(const TableState& state) {
  Bytes out;
  out.push_back(kStateFormat);
  out.push_back(state.live ? 1 : 0);
  put_stamp(&out, state.stamp);
  put_stamp(&out, state.after_drop);
  return out;
}

Result<TableState> decode_table_state(std::string name, ByteView bytes) {
  TableState state;
  state.name = std::move(name);
  if (bytes.size() < 2 || bytes[0] != kStateFormat || static_cast<uint8_t>(bytes[1]) > 1) {
    return Status::corruption("table \"" + state.name + "\": not a table state record");
  }
  state.live = bytes[1] == 1;
  bytes.remove_prefix(2);
  if (!get_stamp(&bytes, &state.stamp) || !get_stamp(&bytes, &state.after_drop) ||
      !bytes.empty()) {
    return Status::corruption("table \"" + state.name + "\": a truncated table state record");
  }
  return state;
}

Result<std::unique_ptr<TableStates>> TableStates::open(node::LocalStore* store, NodeId self,
                                                       std::function<uint64_t()> now_ms) {
  TESSERA_ASSIGN_OR_RETURN(auto records, store->table_records());
  std::map<std::string, TableState> states;
  for (auto& [name, bytes] : records) {
    TESSERA_ASSIGN_OR_RETURN(TableState state, decode_table_state(name, bytes));
    states.emplace(name, std::move(state));
  }
  for (const std::string& name : store->list_tables()) {
    auto it = states.find(name);
    if (it != states.end() && it->second.live) continue;
    // Made before tables were cluster state: created at stamp 0, which any change supersedes.
    TableState adopted{name, true, TableStamp{0, self}, {}};
    // Kept in memory if it cannot be written (a full disk): the next open adopts it again.
    (void)store->put_table_record(name, encode_table_state(adopted));
    states.insert_or_assign(name, std::move(adopted));
  }
  return std::unique_ptr<TableStates>(
      new TableStates(store, std::move(self), std::move(now_ms), std::move(states)));
}

TableStates::TableStates(node::LocalStore* store, NodeId self, std::function<uint64_t()> now_ms,
                         std::map<std::string, TableState> states)
    : store_(store), self_(std::move(self)), now_ms_(std::move(now_ms)),
      states_(std::move(states)) {}

TableStamp TableStates::next_stamp(const TableStamp& after) const {
  return TableStamp{std::max(now_ms_(), after.ms + 1), self_};
}

Status TableStates::create(const std::string& name) {
  std::lock_guard change(change_mutex_);
  const std::optional<TableState> known = state_of(name);
  if (known && known->live) return Status::table_exists("table \"" + name + "\" exists");
  TableState state{name, true, next_stamp(known ? known->stamp : TableStamp{}),
                   known ? known->stamp : TableStamp{}};
  TESSERA_RETURN_IF_ERROR(store_->create_table(name, encode_table_state(state)));
  remember(state);
  return Status::ok();
}

Status TableStates::drop(const std::string& name) {
  std::lock_guard change(change_mutex_);
  const std::optional<TableState> known = state_of(name);
  if (!known || !known->live) {
    return Status::no_such_table("table \"" + name + "\" does not exist");
  }
  TableState state{name, false, next_stamp(known->stamp), {}};
  TESSERA_RETURN_IF_ERROR(store_->drop_table(name, encode_table_state(state)));
  remember(state);
  return Status::ok();
}

Result<size_t> TableStates::merge(const std::vector<TableState>& incoming) {
  std::lock_guard change(change_mutex_);
  size_t taken = 0;
  for (const TableState& winner : incoming) {
    const std::optional<TableState> known = state_of(winner.name);
    if (known && !(known->stamp < winner.stamp)) continue;
    Status status = take(winner, known);
    // A name this node refuses (a peer of a later version may allow more) is passed over
    // rather than stopping every later exchange at it.
    if (status.code() == StatusCode::kInvalidArgument) continue;
    TESSERA_RETURN_IF_ERROR(status);
    remember(winner);
    ++taken;
  }
  return taken;
}

Status TableStates::take(const TableState& winner, const std::optional<TableState>& known) {
  const Bytes record = encode_table_state(winner);
  const bool exists = store_->has_table(winner.name);
  if (!winner.live) {
    return exists ? store_->drop_table(winner.name, record)
                  : store_->put_table_record(winner.name, record);
  }
  if (!exists) return store_->create_table(winner.name, record);
  const bool copy_predates_drop = known && known->stamp < winner.after_drop;
  if (!copy_predates_drop) return store_->put_table_record(winner.name, record);
  // Dropped and made again while this node was away: its copy holds the old table's data.
  TableState dropped{winner.name, false, winner.after_drop, {}};
  TESSERA_RETURN_IF_ERROR(store_->drop_table(winner.name, encode_table_state(dropped)));
  return store_->create_table(winner.name, record);
}

void TableStates::remember(const TableState& state) {
  std::lock_guard lock(mutex_);
  states_.insert_or_assign(state.name, state);
}

std::vector<TableState> TableStates::states() const {
  std::lock_guard lock(mutex_);
  std::vector<TableState> out;
  out.reserve(states_.size());
  for (const auto& [name, state] : states_) out.push_back(state);
  return out;
}

std::optional<TableState> TableStates::state_of(const std::string& name) const {
  std::lock_guard lock(mutex_);
  auto it = states_.find(name);
  if (it == states_.end()) return std::nullopt;
  return it->second;
}

}  // namespace tessera::dynamo
