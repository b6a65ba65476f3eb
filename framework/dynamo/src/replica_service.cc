#include "tessera/dynamo/replica_service.h"

#include <kj/vector.h>

#include <algorithm>

#include "anti_entropy_rpc.h"
#include "rpc_values.h"
#include "table_states_rpc.h"

namespace tessera::dynamo {

namespace {

constexpr size_t kWritesPerBatchMax = 1024;

}  // namespace

template <typename Write>
kj::Promise<Status> ReplicaService::merge(Write write) {
  if (write.getVersions().size() > node::LocalStore::kVersionsMerged) {
    return Status::invalid_argument(
        "a replica write of " + std::to_string(write.getVersions().size()) +
        " versions is over the limit of " + std::to_string(node::LocalStore::kVersionsMerged));
  }
  auto call = [hints = hints_, table = to_string(write.getTable()), key = to_bytes(write.getKey()),
               versions = to_versions(write.getVersions()),
               hint_for = to_string(write.getHintFor())](node::Waiting waiting) {
    return hints->merge_versions(table, key, versions, hint_for, waiting);
  };
  return gate_->serve(std::move(call));
}

kj::Promise<void> ReplicaService::write(WriteContext context) {
  return merge(context.getParams()).then([context](Status status) mutable {
    set_error(context.getResults().initError(), status);
  });
}

kj::Promise<void> ReplicaService::writeBatch(WriteBatchContext context) {
  auto writes = context.getParams().getWrites();
  kj::Vector<kj::Promise<Status>> merged(writes.size());
  for (size_t i = 0; i < writes.size(); ++i) {
    if (i < kWritesPerBatchMax) {
      merged.add(merge(writes[i]));
    } else {
      merged.add(Status::invalid_argument("a replica write batch of " +
                                          std::to_string(writes.size()) +
                                          " writes is over the limit of " +
                                          std::to_string(kWritesPerBatchMax)));
    }
  }
  return kj::joinPromises(merged.releaseAsArray())
      .then([context](kj::Array<Status> statuses) mutable {
        auto errors = context.getResults().initErrors(statuses.size());
        for (size_t i = 0; i < statuses.size(); ++i) set_error(errors[i], statuses[i]);
      });
}

kj::Promise<void> ReplicaService::read(ReadContext context) {
  auto params = context.getParams();
  auto call = [store = store_, table = to_string(params.getTable()),
               key = to_bytes(params.getKey())](node::Waiting waiting) {
    return store->read_versions(table, key, waiting);
  };
  return gate_->serve(std::move(call))
      .then([context](Result<std::vector<VersionedValue>> versions) mutable {
        auto results = context.getResults();
        set_error(results.initError(), versions.status());
        if (versions.is_ok()) set_versions(results.initVersions(versions->size()), *versions);
      });
}

kj::Promise<void> ReplicaService::scan(ScanContext context) {
  auto params = context.getParams();
  const NodeId joiner = to_string(params.getJoiner());
  if (!joiner.empty() && !sees_joining(joiner)) {
    set_error(context.getResults().initError(),
              Status::unavailable("node " + joiner + " is not joining in this node's view"));
    return kj::READY_NOW;
  }
  auto job = [store = store_, placement = placement_, joiner, table = to_string(params.getTable()),
              start = to_bytes(params.getStart()), end = to_bytes(params.getEnd()),
              limit = params.getLimit(),
              token = to_bytes(params.getPageToken())]() -> Result<node::StoreVersionsPage> {
    TESSERA_ASSIGN_OR_RETURN(node::StoreVersionsPage page,
                             store->scan_versions(table, start, end, limit, token));
    if (joiner.empty()) return page;
    // Only the keys the joiner will own; the page token still says where the scan stopped.
    std::erase_if(page.items, [&](const node::StoreVersionsPage::Item& item) {
      Result<Location> where = placement->locate(table, item.key);
      return !where.is_ok() || std::find(where->next_owners.begin(), where->next_owners.end(),
                                         joiner) == where->next_owners.end();
    });
    return page;
  };
  return node::run_durable(*pool_, store_, std::move(job))
      .then([context](Result<node::StoreVersionsPage> page) mutable {
    auto results = context.getResults();
    set_error(results.initError(), page.status());
    if (!page.is_ok()) return;
    auto items = results.initItems(page->items.size());
    for (size_t i = 0; i < page->items.size(); ++i) {
      items[i].setKey(as_data(page->items[i].key));
      set_versions(items[i].initVersions(page->items[i].versions.size()), page->items[i].versions);
    }
    results.setNextPageToken(as_data(page->next_page_token));
  });
}

bool ReplicaService::sees_joining(const NodeId& joiner) const {
  for (const NodeInfo& member : membership_->members()) {
    if (member.id == joiner) return member.joining && member.state != NodeState::kLeft;
  }
  return false;
}

kj::Promise<void> ReplicaService::createTable(CreateTableContext context) {
  auto job = [tables = tables_, name = to_string(context.getParams().getName())]() {
    return tables->create(name);
  };
  return pool_->run(std::move(job)).then([context](Status status) mutable {
    set_error(context.getResults().initError(), status);
  });
}

kj::Promise<void> ReplicaService::dropTable(DropTableContext context) {
  auto job = [tables = tables_, name = to_string(context.getParams().getName())]() {
    return tables->drop(name);
  };
  return pool_->run(std::move(job)).then([context](Status status) mutable {
    set_error(context.getResults().initError(), status);
  });
}

kj::Promise<void> ReplicaService::exchangeTables(ExchangeTablesContext context) {
  auto offered = context.getParams().getStates();
  if (offered.size() > kTableStatesPerExchangeMax) {
    set_error(context.getResults().initError(),
              Status::invalid_argument("an exchange of " + std::to_string(offered.size()) +
                                       " table states is over the limit of " +
                                       std::to_string(kTableStatesPerExchangeMax)));
    return kj::READY_NOW;
  }
  auto job = [tables = tables_, incoming = to_table_states(offered)]() -> Result<size_t> {
    return tables->merge(incoming);
  };
  return pool_->run(std::move(job)).then([context, tables = tables_](Result<size_t> merged) mutable {
    // What this node knows, even when a store error stopped the merge partway: the caller
    // takes it all the same, and the rest comes with the next exchange.
    auto results = context.getResults();
    set_error(results.initError(), merged.status());
    const std::vector<TableState> known = tables->states();
    set_table_states(results.initStates(known.size()), known);
  });
}

kj::Promise<void> ReplicaService::antiEntropy(AntiEntropyContext context) {
  auto params = context.getParams();
  std::optional<antientropy::Message> message = to_message(params.getMessage());
  if (!message) {
    auto results = context.getResults();
    set_error(results.initError(),
              Status::invalid_argument("an anti-entropy message of an unknown kind or over "
                                       "the protocol's bounds"));
    results.setFinished(true);
    return kj::READY_NOW;
  }
  // The session is the authenticated peer's, whatever `from` says.
  return anti_entropy_->answer(peer_, std::move(*message))
      .then([context](Result<AntiEntropyAnswer> answer) mutable {
        auto results = context.getResults();
        set_error(results.initError(), answer.status());
        if (!answer.is_ok()) {
          results.setFinished(true);
          return;
        }
        results.setHasReply(answer->reply.has_value());
        if (answer->reply) set_message(results.initReply(), *answer->reply);
        set_key_versions(results.initPush(answer->push.size()), answer->push);
        auto fetch = results.initFetch(answer->fetch.size());
        for (size_t i = 0; i < answer->fetch.size(); ++i) {
          std::string table;
          Bytes key;
          split_host_key(answer->fetch[i], &table, &key);
          fetch[i].setTable(as_text(table));
          fetch[i].setKey(as_data(key));
        }
        results.setFinished(answer->finished);
      });
}

}  // namespace tessera::dynamo
