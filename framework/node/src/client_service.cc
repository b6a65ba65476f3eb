#include "tessera/node/client_service.h"

#include <vector>

#include "rpc_values.h"
#include "tessera/crypto.h"
#include "tessera/peer_service.h"

namespace tessera::node {
namespace {

// The continuation of a call whose answer is its error alone.
template <typename Context>
auto answer_status(Context context) {
  return [context](Status status) mutable { set_error(context.getResults().initError(), status); };
}

// Answers a call this session's role does not allow (unauthorized, forbidden).
#define TESSERA_REQUIRE_ROLE(context, needed, call)                              \
  if (Status refused = allowed((needed), (call)); !refused.is_ok()) {           \
    set_error((context).getResults().initError(), refused);                     \
    return kj::READY_NOW;                                                       \
  }

// Answers a data call on a service that has no request path (one that offers peer services
// only), or one the session's role does not allow.
#define TESSERA_REFUSE_WITHOUT_PATH(context, needed, call)                                 \
  TESSERA_REQUIRE_ROLE(context, needed, call)                                              \
  if (path_ == nullptr) {                                                                  \
    set_error((context).getResults().initError(),                                          \
              Status::not_supported("node " + node_id_ + " serves no data on this service")); \
    return kj::READY_NOW;                                                                  \
  }

// What an authenticated peer gets: this node's node-to-node capabilities.
class PeerLinkService final : public rpc::PeerLink::Server {
 public:
  PeerLinkService(std::shared_ptr<ClientServiceContext> context, NodeId peer)
      : context_(std::move(context)), peer_(std::move(peer)) {}

 protected:
  kj::Promise<void> replica(ReplicaContext context) override {
    auto results = context.getResults();
    kj::Maybe<rpc::Replica::Client> replica = nullptr;
    if (context_->options.replica) replica = context_->options.replica(peer_);
    KJ_IF_MAYBE(found, replica) {
      results.setReplica(*found);
      set_error(results.initError(), Status::ok());
    } else {
      set_error(results.initError(), Status::not_supported("node " + context_->node_id +
                                                           " runs no AP profile"));
    }
    return kj::READY_NOW;
  }

  kj::Promise<void> peer(PeerContext context) override {
    auto results = context.getResults();
    ClientServiceOptions& options = context_->options;
    const std::string& node_id = context_->node_id;
    const std::string name = to_string(context.getParams().getName());
    PeerService* own = options.profile_peer_services ? options.profile_peer_services(name)
                                                     : nullptr;
    if (own != nullptr) {
      results.setService(own->capability());
      set_error(results.initError(), Status::ok());
      return kj::READY_NOW;
    }
    if (options.membership == nullptr) {
      const std::string why = "node " + node_id +
                              " runs no plugin that offers peer services (asked for \"" + name +
                              "\")";
      set_error(results.initError(), Status::not_supported(why));
      return kj::READY_NOW;
    }
    PeerService* service = options.membership->peer_service(name);
    if (service == nullptr) {
      set_error(results.initError(),
                Status::not_found("node " + node_id + " offers no peer service \"" + name + "\""));
      return kj::READY_NOW;
    }
    results.setService(service->capability());
    set_error(results.initError(), Status::ok());
    return kj::READY_NOW;
  }

 private:
  const std::shared_ptr<ClientServiceContext> context_;
  const NodeId peer_;  // the id this link's peer proved the cluster secret for
};

}  // namespace

ClientService::ClientService(std::string node_id, RequestPath* path, kj::Timer* timer,
                             ClientServiceOptions options)
    : ClientService(std::make_shared<ClientServiceContext>(
                        ClientServiceContext{std::move(node_id), path, timer, std::move(options)}),
                    Role::kAdmin) {}

ClientService::ClientService(std::shared_ptr<ClientServiceContext> context, Role role)
    : context_(std::move(context)),
      node_id_(context_->node_id),
      path_(context_->path),
      timer_(context_->timer),
      options_(context_->options),
      role_(role) {}

Status ClientService::allowed(Role needed, std::string_view call) const {
  return check_role(role_, needed, call, "node " + node_id_);
}

kj::Promise<void> ClientService::authenticate(AuthenticateContext context) {
  auto results = context.getResults();
  Role role = Role::kAdmin;
  if (options_.tokens != nullptr) {
    std::optional<ClientToken> token = options_.tokens->find(to_bytes(context.getParams().getToken()));
    if (!token) {
      set_error(results.initError(),
                Status::unauthorized("node " + node_id_ + " knows no such token"));
      return kj::READY_NOW;
    }
    role = token->role;
  }
  results.setSession(kj::heap<ClientService>(context_, role));
  results.setRole(std::string(role_name(role)));
  set_error(results.initError(), Status::ok());
  return kj::READY_NOW;
}

RequestParams ClientService::params_of(rpc::RequestOptions::Reader options) const {
  return RequestParams{.consistency = options.getConsistency(),
                       .read_quorum = options.getReadQuorum(),
                       .write_quorum = options.getWriteQuorum(),
                       .timeout_ms = options.getTimeoutMs() != 0 ? options.getTimeoutMs()
                                                                 : options_.default_timeout_ms,
                       .context = to_bytes(options.getContext())};
}

template <typename R>
kj::Promise<R> ClientService::within_deadline(const RequestParams& params,
                                              kj::Promise<R> answer) {
  const uint32_t timeout = params.timeout_ms;
  return answer.exclusiveJoin(timer_->afterDelay(timeout * kj::MILLISECONDS).then([timeout]() {
    return R(Status::timeout("no answer within " + std::to_string(timeout) +
                             " ms; a write may or may not have been applied"));
  }));
}

// What the superseded node-to-node calls on the bootstrap answer.
static Status superseded_peer_call(const std::string& node_id, std::string_view call) {
  return Status::unauthorized("node " + node_id + ": Tessera." + std::string(call) +
                              " is not served; a peer proves the cluster secret (peerChallenge, "
                              "authenticatePeer) and uses PeerLink");
}

kj::Promise<void> ClientService::replica(ReplicaContext context) {
  set_error(context.getResults().initError(), superseded_peer_call(node_id_, "replica"));
  return kj::READY_NOW;
}

kj::Promise<void> ClientService::peer(PeerContext context) {
  set_error(context.getResults().initError(), superseded_peer_call(node_id_, "peer"));
  return kj::READY_NOW;
}

kj::Promise<void> ClientService::peerChallenge(PeerChallengeContext context) {
  auto results = context.getResults();
  if (options_.cluster_secret == nullptr) {
    set_error(results.initError(),
              Status::not_supported("node " + node_id_ +
                                    " runs no distributed profile: it has no peers"));
    return kj::READY_NOW;
  }
  Result<Bytes> nonce = random_bytes(ClusterSecret::kNonceBytes);
  if (!nonce.is_ok()) {
    set_error(results.initError(), nonce.status());
    return kj::READY_NOW;
  }
  challenge_ = std::move(nonce).value();
  results.setNonce(as_data(*challenge_));
  set_error(results.initError(), Status::ok());
  return kj::READY_NOW;
}

kj::Promise<void> ClientService::authenticatePeer(AuthenticatePeerContext context) {
  auto results = context.getResults();
  if (options_.cluster_secret == nullptr) {
    set_error(results.initError(),
              Status::not_supported("node " + node_id_ +
                                    " runs no distributed profile: it has no peers"));
    return kj::READY_NOW;
  }
  // Used up whatever the outcome, so that a proof can never be tried twice against one nonce.
  std::optional<Bytes> nonce = std::move(challenge_);
  challenge_.reset();
  const std::string peer = to_string(context.getParams().getNodeId());
  if (peer.empty()) {
    set_error(results.initError(), Status::invalid_argument("authenticatePeer: nodeId is empty"));
    return kj::READY_NOW;
  }
  if (!nonce.has_value()) {
    set_error(results.initError(),
              Status::unauthorized("node " + node_id_ + ": peer \"" + peer +
                                   "\" authenticated without a challenge on this connection "
                                   "(call peerChallenge first; a nonce serves one attempt)"));
    return kj::READY_NOW;
  }
  if (!options_.cluster_secret->check_peer_proof(*nonce, peer,
                                                 to_bytes(context.getParams().getProof()))) {
    set_error(results.initError(),
              Status::unauthorized("node " + node_id_ + ": the proof of peer \"" + peer +
                                   "\" does not verify: it holds another cluster secret"));
    return kj::READY_NOW;
  }
  results.setLink(kj::heap<PeerLinkService>(context_, peer));
  set_error(results.initError(), Status::ok());
  return kj::READY_NOW;
}

kj::Promise<void> ClientService::status(StatusContext context) {
  TESSERA_REQUIRE_ROLE(context, Role::kAdmin, "status");
  if (!options_.status_report) {
    set_error(context.getResults().initError(),
              Status::not_supported("node " + node_id_ + " reports no status on this service"));
    return kj::READY_NOW;
  }
  RequestParams params = params_of(context.getParams().getOptions());
  return within_deadline(params, options_.status_report())
      .then([context](Result<NodeStatusReport> report) mutable {
        auto results = context.getResults();
        set_error(results.initError(), report.status());
        if (!report.is_ok()) return;
        auto out = results.initStatus();
        out.setNodeId(report->node_id);
        out.setProfile(report->profile);
        out.setListen(report->listen);
        out.setUptimeMs(report->uptime_ms);
        auto plugins = out.initPlugins(static_cast<unsigned>(report->plugins.size()));
        for (size_t i = 0; i < report->plugins.size(); ++i) {
          const PluginReport& plugin = report->plugins[i];
          plugins[i].setSlot(plugin.slot);
          plugins[i].setName(plugin.name);
          plugins[i].setVersion(plugin.version);
          plugins[i].setFile(plugin.file);
        }
        out.setDataBytes(report->data_bytes);
        auto fill = [](auto list, const std::map<std::string, double>& stats) {
          unsigned i = 0;
          for (const auto& [name, value] : stats) {
            list[i].setName(name);
            list[i].setValue(value);
            ++i;
          }
        };
        fill(out.initEngineStats(static_cast<unsigned>(report->engine_stats.size())),
             report->engine_stats);
        fill(out.initMembershipStats(static_cast<unsigned>(report->membership_stats.size())),
             report->membership_stats);
        fill(out.initProfileStats(static_cast<unsigned>(report->profile_stats.size())),
             report->profile_stats);
      });
}

kj::Promise<void> ClientService::members(MembersContext context) {
  TESSERA_REQUIRE_ROLE(context, Role::kAdmin, "members");
  auto results = context.getResults();
  if (!options_.members) {
    set_error(results.initError(), Status::not_supported("node " + node_id_ + " lists no members"));
    return kj::READY_NOW;
  }
  Result<std::vector<NodeInfo>> members = options_.members();
  set_error(results.initError(), members.status());
  if (!members.is_ok()) return kj::READY_NOW;
  static constexpr const char* kStates[] = {"alive", "suspect", "dead", "left"};
  auto out = results.initMembers(static_cast<unsigned>(members->size()));
  for (size_t i = 0; i < members->size(); ++i) {
    const NodeInfo& member = (*members)[i];
    out[i].setId(member.id);
    out[i].setAddress(member.address);
    out[i].setZone(member.zone);
    out[i].setState(kStates[static_cast<size_t>(member.state) % 4]);
    out[i].setJoining(member.joining);
  }
  return kj::READY_NOW;
}

kj::Promise<void> ClientService::ring(RingContext context) {
  TESSERA_REQUIRE_ROLE(context, Role::kAdmin, "ring");
  if (!options_.ring) {
    set_error(context.getResults().initError(),
              Status::not_supported("node " + node_id_ + " shows no ranges on this service"));
    return kj::READY_NOW;
  }
  RequestParams params = params_of(context.getParams().getOptions());
  return within_deadline(params, options_.ring())
      .then([context](Result<std::vector<RangeReport>> ranges) mutable {
        auto results = context.getResults();
        set_error(results.initError(), ranges.status());
        if (!ranges.is_ok()) return;
        auto out = results.initRanges(static_cast<unsigned>(ranges->size()));
        for (size_t i = 0; i < ranges->size(); ++i) {
          const RangeReport& r = (*ranges)[i];
          out[i].setTable(r.range.range.table);
          out[i].setStart(as_data(r.range.range.start));
          out[i].setEnd(as_data(r.range.range.end));
          out[i].setRangeId(r.range.id);
          out[i].setEpoch(r.range.epoch);
          out[i].setGroup(r.range.group);
          auto voters = out[i].initVoters(static_cast<unsigned>(r.range.voters.size()));
          for (size_t v = 0; v < r.range.voters.size(); ++v) {
            voters.set(static_cast<unsigned>(v), r.range.voters[v]);
          }
          out[i].setLeader(r.leader);
          out[i].setHosted(r.hosted);
          out[i].setTerm(r.term);
          out[i].setCommitIndex(r.commit_index);
          out[i].setAppliedIndex(r.applied_index);
        }
      });
}

kj::Promise<void> ClientService::hints(HintsContext context) {
  TESSERA_REQUIRE_ROLE(context, Role::kAdmin, "hints");
  if (!options_.hints) {
    set_error(context.getResults().initError(),
              Status::not_supported("node " + node_id_ + " reports no hints on this service"));
    return kj::READY_NOW;
  }
  RequestParams params = params_of(context.getParams().getOptions());
  return within_deadline(params, options_.hints()).then([context](Result<HintReport> report) mutable {
    auto results = context.getResults();
    set_error(results.initError(), report.status());
    if (!report.is_ok()) return;
    auto out = results.initPending(static_cast<unsigned>(report->pending.size()));
    unsigned i = 0;
    for (const auto& [target, count] : report->pending) {
      out[i].setTarget(target);
      out[i].setCount(count);
      ++i;
    }
    results.setTruncated(report->truncated);
  });
}

kj::Promise<void> ClientService::decommission(DecommissionContext context) {
  TESSERA_REQUIRE_ROLE(context, Role::kAdmin, "decommission");
  if (!options_.decommission) {
    set_error(context.getResults().initError(),
              Status::not_supported("node " + node_id_ + " cannot be decommissioned on this service"));
    return kj::READY_NOW;
  }
  RequestParams params = params_of(context.getParams().getOptions());
  return within_deadline(params, options_.decommission())
      .then([context](Result<uint64_t> copied) mutable {
        auto results = context.getResults();
        set_error(results.initError(), copied.status());
        if (copied.is_ok()) results.setKeysCopied(*copied);
      });
}

kj::Promise<void> ClientService::removeNode(RemoveNodeContext context) {
  TESSERA_REQUIRE_ROLE(context, Role::kAdmin, "removeNode");
  const NodeId id = context.getParams().getId();
  if (!options_.remove_node) {
    set_error(context.getResults().initError(),
              Status::not_supported("node " + node_id_ + " cannot remove nodes on this service"));
    return kj::READY_NOW;
  }
  if (id.empty()) {
    set_error(context.getResults().initError(),
              Status::invalid_argument("removeNode needs the id of the node to remove"));
    return kj::READY_NOW;
  }
  RequestParams params = params_of(context.getParams().getOptions());
  return within_deadline(params, options_.remove_node(id)).then([context](Status removed) mutable {
    set_error(context.getResults().initError(), removed);
  });
}

kj::Promise<void> ClientService::hello(HelloContext context) {
  TESSERA_REQUIRE_ROLE(context, Role::kRead, "hello");
  auto results = context.getResults();
  results.setApiVersion(rpc::API_VERSION);
  results.setNodeId(node_id_);
  return kj::READY_NOW;
}

kj::Promise<void> ClientService::listTables(ListTablesContext context) {
  TESSERA_REFUSE_WITHOUT_PATH(context, Role::kRead, "listTables");
  RequestParams params = params_of(context.getParams().getOptions());
  return within_deadline(params, path_->list_tables(params))
      .then([context](Result<std::vector<std::string>> names) mutable {
        auto results = context.getResults();
        set_error(results.initError(), names.status());
        if (!names.is_ok()) return;
        auto tables = results.initTables(names->size());
        for (size_t i = 0; i < names->size(); ++i) tables[i].setName((*names)[i]);
      });
}

kj::Promise<void> ClientService::createTable(CreateTableContext context) {
  TESSERA_REFUSE_WITHOUT_PATH(context, Role::kAdmin, "createTable");
  RequestParams params = params_of(context.getParams().getOptions());
  auto keys = context.getParams().getSplitKeys();
  std::vector<Bytes> split_keys;
  for (auto key : keys) split_keys.push_back(to_bytes(key));
  return within_deadline(params, path_->create_table(to_string(context.getParams().getName()),
                                                     std::move(split_keys), params))
      .then(answer_status(context));
}

kj::Promise<void> ClientService::dropTable(DropTableContext context) {
  TESSERA_REFUSE_WITHOUT_PATH(context, Role::kAdmin, "dropTable");
  RequestParams params = params_of(context.getParams().getOptions());
  return within_deadline(params,
                         path_->drop_table(to_string(context.getParams().getName()), params))
      .then(answer_status(context));
}

kj::Promise<void> ClientService::put(PutContext context) {
  TESSERA_REFUSE_WITHOUT_PATH(context, Role::kWrite, "put");
  auto args = context.getParams();
  RequestParams params = params_of(args.getOptions());
  auto answer = path_->put(to_string(args.getTable()), to_bytes(args.getKey()),
                           to_bytes(args.getValue()), params);
  return within_deadline(params, kj::mv(answer)).then([context](Result<Bytes> result) mutable {
    auto results = context.getResults();
    set_error(results.initError(), result.status());
    if (result.is_ok()) results.setVersion(as_data(*result));
  });
}

kj::Promise<void> ClientService::get(GetContext context) {
  TESSERA_REFUSE_WITHOUT_PATH(context, Role::kRead, "get");
  auto args = context.getParams();
  RequestParams params = params_of(args.getOptions());
  auto answer = path_->get(to_string(args.getTable()), to_bytes(args.getKey()), params);
  return within_deadline(params, kj::mv(answer))
      .then([context](Result<StoreGetResult> result) mutable {
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
  TESSERA_REFUSE_WITHOUT_PATH(context, Role::kWrite, "remove");
  auto args = context.getParams();
  RequestParams params = params_of(args.getOptions());
  auto answer = path_->remove(to_string(args.getTable()), to_bytes(args.getKey()), params);
  return within_deadline(params, kj::mv(answer)).then(answer_status(context));
}

kj::Promise<void> ClientService::scan(ScanContext context) {
  TESSERA_REFUSE_WITHOUT_PATH(context, Role::kRead, "scan");
  auto args = context.getParams();
  RequestParams params = params_of(args.getOptions());
  auto answer = path_->scan(to_string(args.getTable()), to_bytes(args.getStart()),
                            to_bytes(args.getEnd()), args.getLimit(),
                            to_bytes(args.getPageToken()), params);
  return within_deadline(params, kj::mv(answer))
      .then([context](Result<StoreScanPage> result) mutable {
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
  TESSERA_REFUSE_WITHOUT_PATH(context, Role::kWrite, "write");
  auto args = context.getParams();
  auto ops = args.getOps();
  // Before the copy: a list of zero-size structs costs the sender one word per element, so a
  // small message could otherwise make the event loop allocate gigabytes.
  if (Status too_many = check_batch_ops(ops.size(), options_.batch_ops_max); !too_many.is_ok()) {
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
  RequestParams params = params_of(args.getOptions());
  auto answer = path_->write(to_string(args.getTable()), std::move(mutations), params);
  return within_deadline(params, kj::mv(answer)).then(answer_status(context));
}

}  // namespace tessera::node
