#include "tessera/node/local_path.h"

#include <memory>

#include "tessera/node/profile.h"

namespace tessera::node {

Status refuse_split_keys(std::string_view table) {
  return Status::invalid_argument("table " + std::string(table) +
                                  ": split keys are for the leader profile, whose tables are in "
                                  "key ranges; this node's profile places no ranges");
}

kj::Promise<Result<std::vector<std::string>>> LocalPath::list_tables(RequestParams) {
  // On the pool too: the catalog lock it takes is held across a synced engine write by
  // create_table and drop_table, and the event loop must not wait for a disk.
  return pool_->run(
      [store = store_]() { return Result<std::vector<std::string>>(store->list_tables()); });
}

kj::Promise<Status> LocalPath::create_table(std::string name, std::vector<Bytes> split_keys,
                                            RequestParams) {
  if (!split_keys.empty()) return refuse_split_keys(name);
  return pool_->run([store = store_, name = std::move(name)]() { return store->create_table(name); });
}

kj::Promise<Status> LocalPath::drop_table(std::string name, RequestParams) {
  return pool_->run([store = store_, name = std::move(name)]() { return store->drop_table(name); });
}

kj::Promise<Result<Bytes>> LocalPath::put(std::string table, Bytes key, Bytes value,
                                          RequestParams params) {
  return gate_.serve([store = store_, table = std::move(table), key = std::move(key),
                value = std::move(value), causal = std::move(params.context)](Waiting waiting) {
    return store->put(table, key, value, causal, waiting);
  });
}

kj::Promise<Result<StoreGetResult>> LocalPath::get(std::string table, Bytes key, RequestParams) {
  return gate_.serve([store = store_, table = std::move(table), key = std::move(key)](Waiting waiting) {
    return store->get(table, key, waiting);
  });
}

kj::Promise<Status> LocalPath::remove(std::string table, Bytes key, RequestParams params) {
  return gate_.serve([store = store_, table = std::move(table), key = std::move(key),
                causal = std::move(params.context)](Waiting waiting) {
    return store->remove(table, key, causal, waiting);
  });
}

kj::Promise<Result<StoreScanPage>> LocalPath::scan(std::string table, Bytes start, Bytes end,
                                                   uint32_t limit, Bytes page_token,
                                                   RequestParams) {
  // On the pool: a page may read many blocks, and engines offer no memory-only iterator.
  return run_durable(*pool_, store_, [store = store_, table = std::move(table),
                                      start = std::move(start), end = std::move(end), limit,
                                      token = std::move(page_token)]() {
    return store->scan(table, start, end, limit, token);
  });
}

kj::Promise<Status> LocalPath::write(std::string table, std::vector<Mutation> mutations,
                                     RequestParams) {
  return gate_.serve([store = store_, table = std::move(table),
                mutations = std::move(mutations)](Waiting waiting) {
    return store->write(table, mutations, waiting);
  });
}

}  // namespace tessera::node

namespace tessera::node {
namespace {

class SingleProfile final : public Profile {
 public:
  explicit SingleProfile(const NodeParts& parts) : parts_(parts) {}

  Status start_serving(kj::Timer&, kj::Network&) override {
    path_ = std::make_unique<LocalPath>(parts_.store, parts_.pool);
    return Status::ok();
  }
  RequestPath& path() override { return *path_; }
  // Each loop its own path and DurableGate; the store and the pool are thread-safe.
  std::unique_ptr<RequestPath> path_for_loop() override {
    return std::make_unique<LocalPath>(parts_.store, parts_.pool);
  }
  void stop_serving() override { path_.reset(); }

 private:
  const NodeParts parts_;
  std::unique_ptr<LocalPath> path_;
};

}  // namespace

Result<std::unique_ptr<Profile>> make_single_profile(const NodeParts& parts) {
  return std::unique_ptr<Profile>(std::make_unique<SingleProfile>(parts));
}

}  // namespace tessera::node
