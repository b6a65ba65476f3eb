// TableStates in Replica.exchangeTables (replica.capnp) and back. Internal to tessera_dynamo.
#pragma once

#include <vector>

#include "rpc_values.h"
#include "tessera/dynamo/table_states.h"
#include "tessera/rpc/replica.capnp.h"

namespace tessera::dynamo {

// The most states one exchangeTables call carries or takes.
inline constexpr size_t kTableStatesPerExchangeMax = 100'000;

inline void set_table_states(capnp::List<rpc::TableState>::Builder out,
                             const std::vector<TableState>& states) {
  for (size_t i = 0; i < states.size(); ++i) {
    out[i].setName(as_text(states[i].name));
    out[i].setLive(states[i].live);
    out[i].setStampMs(states[i].stamp.ms);
    out[i].setStampNode(as_text(states[i].stamp.node));
    out[i].setAfterDropMs(states[i].after_drop.ms);
    out[i].setAfterDropNode(as_text(states[i].after_drop.node));
  }
}

inline std::vector<TableState> to_table_states(capnp::List<rpc::TableState>::Reader in) {
  std::vector<TableState> states;
  states.reserve(in.size());
  for (auto s : in) {
    states.push_back(TableState{to_string(s.getName()), s.getLive(),
                                TableStamp{s.getStampMs(), to_string(s.getStampNode())},
                                TableStamp{s.getAfterDropMs(), to_string(s.getAfterDropNode())}});
  }
  return states;
}

}  // namespace tessera::dynamo
