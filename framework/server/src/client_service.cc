#include "tessera/server/client_service.h"

#include <vector>

#include "rpc_values.h"
#include "tessera/peer_service.h"

namespace tessera::server {
namespace {

// The continuation of a call whose answer is its error alone.
template <typename Context>
auto answer_status(Context context) {
  return [context](Status status) mutable { set_error(context.getResults().initError(), status); };
}

}  // namespace

ClientService::ClientService(std::string node_id, LocalStore* store, WorkerPool* pool,
                             kj::Timer* timer, uint32_t default_timeout_ms, QuorumRouter* router,
                             kj::Maybe<rpc::Replica::Client> replica, Membership* membership)
    : node_id_(std::move(node_id)),
      store_(store),
      pool_(pool),
      timer_(timer),
      default_timeout_ms_(default_timeout_ms),
      router_(router),
      replica_(kj::mv(replica)),
      membership_(membership) {}

uint32_t ClientService::timeout_ms(rpc::RequestOptions::Reader options) const {
  return options.getTimeoutMs() != 0 ? options.getTimeoutMs() : default_timeout_ms_;
}

template <typename R>
kj::Promise<R> ClientService::within_deadline(rpc::RequestOptions::Reader options,
                                              kj::Promise<R> answer) {
  const uint32_t timeout = timeout_ms(options);
  return answer.exclusiveJoin(timer_->afterDelay(timeout * kj::MILLISECONDS).then([timeout]() {
    return R(Status::timeout("no answer within " + std::to_string(timeout) +
                             " ms; a write may or may not have been applied"));
  }));
}

template <typename Job>
auto ClientService::run(rpc::RequestOptions::Reader options, Job job) {
  return within_deadline(options, pool_->run(std::move(job)));
}

QuorumRequest ClientService::quorum_request(rpc::RequestOptions::Reader options) const {
  return QuorumRequest{.consistency = options.getConsistency(),
                       .read_quorum = options.getReadQuorum(),
                       .write_quorum = options.getWriteQuorum(),
                       .timeout_ms = timeout_ms(options),
                       .context = to_bytes(options.getContext())};
}

kj::Promise<void> ClientService::replica(ReplicaContext context) {
  auto results = context.getResults();
  KJ_IF_MAYBE(replica, replica_) {
    results.setReplica(*replica);
    set_error(results.initError(), Status::ok());
  } else {
    set_error(results.initError(),
              Status::not_supported("node " + node_id_ + " runs no distributed profile"));
  }
  return kj::READY_NOW;
}

kj::Promise<void> ClientService::peer(PeerContext context) {
  auto results = context.getResults();
  const std::string name = to_string(context.getParams().getName());
  if (membership_ == nullptr) {
    const std::string why = "node " + node_id_ +
                            " runs no plugin that offers peer services (asked for \"" + name +
                            "\")";
    set_error(results.initError(), Status::not_supported(why));
    return kj::READY_NOW;
  }
  PeerService* service = membership_->peer_service(name);
  if (service == nullptr) {
    set_error(results.initError(),
              Status::not_found("node " + node_id_ + " offers no peer service \"" + name + "\""));
    return kj::READY_NOW;
  }
  results.setService(service->capability());
  set_error(results.initError(), Status::ok());
  return kj::READY_NOW;
}

kj::Promise<void> ClientService::hello(HelloContext context) {
  auto results = context.getResults();
  results.setApiVersion(rpc::API_VERSION);
  results.setNodeId(node_id_);
  return kj::READY_NOW;
}

kj::Promise<void> ClientService::listTables(ListTablesContext context) {
  // On the pool too: the catalog lock it takes is held across a synced engine write by
  // createTable and dropTable, and the event loop must not wait for a disk.
  auto job = [store = store_]() { return Result<std::vector<std::string>>(store->list_tables()); };
  return run(context.getParams().getOptions(), std::move(job))
      .then([context](Result<std::vector<std::string>> names) mutable {
        auto results = context.getResults();
        set_error(results.initError(), names.status());
        if (!names.is_ok()) return;
        auto tables = results.initTables(names->size());
        for (size_t i = 0; i < names->size(); ++i) tables[i].setName((*names)[i]);
      });
}

kj::Promise<void> ClientService::createTable(CreateTableContext context) {
  std::string name = to_string(context.getParams().getName());
  auto options = context.getParams().getOptions();
  if (router_ != nullptr) {
    return within_deadline(options, router_->create_table(name, quorum_request(options)))
        .then(answer_status(context));
  }
  return run(options, [store = store_, name]() { return store->create_table(name); })
      .then(answer_status(context));
}

kj::Promise<void> ClientService::dropTable(DropTableContext context) {
  std::string name = to_string(context.getParams().getName());
  auto options = context.getParams().getOptions();
  if (router_ != nullptr) {
    return within_deadline(options, router_->drop_table(name, quorum_request(options)))
        .then(answer_status(context));
  }
  return run(options, [store = store_, name]() { return store->drop_table(name); })
      .then(answer_status(context));
}

kj::Promise<void> ClientService::put(PutContext context) {
  auto params = context.getParams();
  auto job = [store = store_, table = to_string(params.getTable()), key = to_bytes(params.getKey()),
              value = to_bytes(params.getValue()),
              causal = to_bytes(params.getOptions().getContext())]() {
    return store->put(table, key, value, causal);
  };
  kj::Promise<Result<Bytes>> answer =
      router_ == nullptr
          ? run(params.getOptions(), std::move(job))
          : within_deadline(
                params.getOptions(),
                router_->put(to_string(params.getTable()), to_bytes(params.getKey()),
                             to_bytes(params.getValue()), quorum_request(params.getOptions())));
  return answer.then([context](Result<Bytes> result) mutable {
    auto results = context.getResults();
    set_error(results.initError(), result.status());
    if (result.is_ok()) results.setVersion(as_data(*result));
  });
}

kj::Promise<void> ClientService::get(GetContext context) {
  auto params = context.getParams();
  auto job = [store = store_, table = to_string(params.getTable()),
              key = to_bytes(params.getKey())]() { return store->get(table, key); };
  kj::Promise<Result<StoreGetResult>> answer =
      router_ == nullptr
          ? run(params.getOptions(), std::move(job))
          : within_deadline(params.getOptions(),
                            router_->get(to_string(params.getTable()), to_bytes(params.getKey()),
                                         quorum_request(params.getOptions())));
  return answer.then([context](Result<StoreGetResult> result) mutable {
    auto results = context.getResults();
    set_error(results.initError(), result.status());
    if (!result.is_ok()) return;
    results.setFound(!result->values.empty());
    results.setContext(as_data(result->context));
    auto values = results.initValues(result->values.size());
    for (size_t i = 0; i < result->values.size(); ++i) {
      values[i].setData(as_data(result->values[i].value));
      values[i].setVersion(as_data(result->values[i].version));
    }
  });
}

kj::Promise<void> ClientService::remove(RemoveContext context) {
  auto params = context.getParams();
  auto job = [store = store_, table = to_string(params.getTable()), key = to_bytes(params.getKey()),
              causal = to_bytes(params.getOptions().getContext())]() {
    return store->remove(table, key, causal);
  };
  if (router_ != nullptr) {
    return within_deadline(params.getOptions(),
                           router_->remove(to_string(params.getTable()), to_bytes(params.getKey()),
                                           quorum_request(params.getOptions())))
        .then(answer_status(context));
  }
  return run(params.getOptions(), std::move(job)).then(answer_status(context));
}

kj::Promise<void> ClientService::scan(ScanContext context) {
  auto params = context.getParams();
  auto job = [store = store_, table = to_string(params.getTable()),
              start = to_bytes(params.getStart()), end = to_bytes(params.getEnd()),
              limit = params.getLimit(), token = to_bytes(params.getPageToken())]() {
    return store->scan(table, start, end, limit, token);
  };
  kj::Promise<Result<StoreScanPage>> answer =
      router_ == nullptr
          ? run(params.getOptions(), std::move(job))
          : within_deadline(params.getOptions(),
                            router_->scan(to_string(params.getTable()), to_bytes(params.getStart()),
                                          to_bytes(params.getEnd()), params.getLimit(),
                                          to_bytes(params.getPageToken()),
                                          quorum_request(params.getOptions())));
  return answer.then([context](Result<StoreScanPage> result) mutable {
    auto results = context.getResults();
    set_error(results.initError(), result.status());
    if (!result.is_ok()) return;
    auto items = results.initItems(result->items.size());
    for (size_t i = 0; i < result->items.size(); ++i) {
      items[i].setKey(as_data(result->items[i].key));
      items[i].setValue(as_data(result->items[i].value));
      items[i].setVersion(as_data(result->items[i].version));
    }
    results.setNextPageToken(as_data(result->next_page_token));
  });
}

kj::Promise<void> ClientService::write(WriteContext context) {
  if (router_ != nullptr) {
    set_error(context.getResults().initError(),
              Status::not_supported("atomic batches are not offered by the AP profile: keys of "
                                    "one batch live on different replicas; write them one by one"));
    return kj::READY_NOW;
  }
  auto params = context.getParams();
  auto ops = params.getOps();
  // Before the copy: a list of zero-size structs costs the sender one word per element, so a
  // small message could otherwise make the event loop allocate gigabytes.
  if (Status too_many = store_->check_batch_ops(ops.size()); !too_many.is_ok()) {
    set_error(context.getResults().initError(), too_many);
    return kj::READY_NOW;
  }
  std::vector<Mutation> mutations;
  mutations.reserve(ops.size());
  for (uint32_t i = 0; i < ops.size(); ++i) {
    Mutation m{to_bytes(ops[i].getKey()), std::nullopt};
    switch (ops[i].which()) {
      case rpc::BatchOp::PUT:
        m.value = to_bytes(ops[i].getPut());
        break;
      case rpc::BatchOp::REMOVE:
        break;
      default:
        // A kind from a later schema: taking it for either kind would change data unasked.
        set_error(context.getResults().initError(),
                  Status::invalid_argument("batch operation " + std::to_string(i) +
                                           " is of a kind this node does not know (" +
                                           std::to_string(ops[i].which()) + ")"));
        return kj::READY_NOW;
    }
    mutations.push_back(std::move(m));
  }
  auto job = [store = store_, table = to_string(params.getTable()),
              mutations = std::move(mutations)]() { return store->write(table, mutations); };
  return run(params.getOptions(), std::move(job)).then(answer_status(context));
}

}  // namespace tessera::server
