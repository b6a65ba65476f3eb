#include "tessera/client.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <capnp/ez-rpc.h>
#include <capnp/rpc-twoparty.h>
#include <kj/async-io.h>
#include <kj/async.h>
#include <kj/timer.h>

#include "rpc_values.h"
#include "tessera/rpc/tessera.capnp.h"
#include "tls_context.h"

namespace tessera {
namespace {

// How long past the request's own timeout the client waits for an answer before it gives up on
// the node (a stopped or wedged node never answers).
constexpr uint32_t kDefaultRequestTimeoutMs = 30'000;
constexpr uint32_t kAnswerGraceMs = 2'000;

// The error with its detail; the message names a leader hint, so that a person reading it can
// act on it too.
Status client_error(rpc::Error::Reader error) {
  Status status = read_error(error);
  if (status.code() != StatusCode::kNotLeader || status.detail().leader_hint.empty()) {
    return status;
  }
  return Status(status.code(),
                status.message() + " (leader hint: " + status.detail().leader_hint + ")")
      .with_detail(status.detail());
}

void fill_options(rpc::RequestOptions::Builder out, const RequestOptions& options) {
  out.setConsistency(static_cast<rpc::Consistency>(options.consistency));
  out.setTimeoutMs(options.timeout_ms);
  if (!options.context.empty()) out.setContext(as_data(options.context));
}

// The KJ event loop of this thread for TLS clients, shared by every TLS Client the thread has (a
// thread has at most one event loop), made by the first and gone with the last. Plain clients
// use capnp::EzRpcClient's, which is the same kind of thing but cannot carry TLS.
struct ThreadIo {
  kj::AsyncIoContext io = kj::setupAsyncIo();
};

std::shared_ptr<ThreadIo> thread_io() {
  thread_local std::weak_ptr<ThreadIo> current;
  std::shared_ptr<ThreadIo> io = current.lock();
  if (io == nullptr) {
    io = std::make_shared<ThreadIo>();
    current = io;
  }
  return io;
}

}  // namespace

struct Client::Connection {
  // Plain TCP: capnp::EzRpcClient, which connects on first use.
  explicit Connection(const std::string& address)
      : address(address), ez(kj::heap<capnp::EzRpcClient>(address, 7400)) {
    main = ez->getMain<rpc::Tessera>();
  }
  // TLS: connects now (open()).
  Connection(const std::string& address, std::shared_ptr<ThreadIo> io)
      : address(address), shared_io(std::move(io)) {}
  ~Connection() noexcept(false) = default;

  kj::WaitScope& wait_scope() { return ez ? ez->getWaitScope() : shared_io->io.waitScope; }
  kj::Timer& timer() {
    return ez ? ez->getIoProvider().getTimer() : shared_io->io.provider->getTimer();
  }

  // Connects over TLS, trusting `trusted` only, within `timeout_ms`; Unavailable naming the
  // address (no route, a refused connection, a certificate that does not verify), or Timeout.
  Status open(uint32_t timeout_ms, const std::vector<kj::TlsCertificate>& trusted) {
    kj::AsyncIoContext& io = shared_io->io;
    tls = make_client_tls(kj::arrayPtr(trusted.data(), trusted.size()));
    auto connected =
        io.provider->getNetwork()
            .parseAddress(address, 7400)
            .then([](kj::Own<kj::NetworkAddress> resolved) { return resolved->connect(); })
            .then([this](kj::Own<kj::AsyncIoStream> raw) {
              return tls->wrapClient(kj::mv(raw), tls_host_of(address));
            })
            .then([](kj::Own<kj::AsyncIoStream> up) -> kj::Maybe<kj::Own<kj::AsyncIoStream>> {
              return kj::mv(up);
            });
    auto deadline = io.provider->getTimer()
                        .afterDelay(timeout_ms * kj::MILLISECONDS)
                        .then([]() -> kj::Maybe<kj::Own<kj::AsyncIoStream>> { return nullptr; });
    try {
      kj::Maybe<kj::Own<kj::AsyncIoStream>> up =
          connected.exclusiveJoin(kj::mv(deadline)).wait(io.waitScope);
      KJ_IF_MAYBE(s, up) {
        stream = kj::mv(*s);
      } else {
        return Status::timeout("no connection to node at " + address + " within " +
                               std::to_string(timeout_ms) + " ms");
      }
    } catch (const kj::Exception& e) {
      return Status::unavailable("cannot reach node at " + address + ": " +
                                 std::string(e.getDescription().cStr()));
    }
    rpc = kj::heap<capnp::TwoPartyClient>(*stream);
    main = rpc->bootstrap().castAs<rpc::Tessera>();
    return Status::ok();
  }

  // Sends `request`, waits for its answer or `deadline_ms`, and hands the response to `read`.
  // Connection failures and the deadline become Unavailable / Timeout.
  template <typename Params, typename Results, typename Read,
            typename R = std::invoke_result_t<Read, capnp::Response<Results>&>>
  R call(capnp::Request<Params, Results>& request, uint32_t deadline_ms, Read read) {
    kj::WaitScope& wait_scope = this->wait_scope();
    kj::Timer& timer = this->timer();
    try {
      auto answer = request.send().then(
          [&](capnp::Response<Results>&& response) -> kj::Maybe<R> {
            return read(response);
          });
      auto deadline = timer.afterDelay(deadline_ms * kj::MILLISECONDS).then([]() -> kj::Maybe<R> {
        return nullptr;
      });
      kj::Maybe<R> result = answer.exclusiveJoin(kj::mv(deadline)).wait(wait_scope);
      KJ_IF_MAYBE(value, result) { return kj::mv(*value); }
      return R(Status::timeout("node at " + address + " did not answer within " +
                               std::to_string(deadline_ms) + " ms"));
    } catch (const kj::Exception& e) {
      return R(Status::unavailable("cannot reach node at " + address + ": " +
                                   std::string(e.getDescription().cStr())));
    }
  }

  // Saturates: a timeout near 2^32 ms must not wrap around to a deadline of a second.
  static uint32_t deadline(const RequestOptions& options) {
    uint64_t timeout_ms = options.timeout_ms != 0 ? options.timeout_ms : kDefaultRequestTimeoutMs;
    return static_cast<uint32_t>(std::min<uint64_t>(timeout_ms + kAnswerGraceMs, UINT32_MAX));
  }

  std::string address;
  // Destroyed bottom-up: the capability and the RPC system before the stream, all before the
  // event loop.
  kj::Own<capnp::EzRpcClient> ez;  // plain TCP
  std::shared_ptr<ThreadIo> shared_io;  // TLS: the loop, the context, the stream and its RPC
  kj::Own<kj::TlsContext> tls;
  kj::Own<kj::AsyncIoStream> stream;
  kj::Own<capnp::TwoPartyClient> rpc;
  rpc::Tessera::Client main = nullptr;
};

Client::Client(std::unique_ptr<Connection> connection) : connection_(std::move(connection)) {}
Client::~Client() = default;

Result<Bytes> read_token_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    return Status::invalid_argument("cannot read the token file " + file.string() + ": " +
                                    std::strerror(errno));
  }
  std::ostringstream content;
  content << in.rdbuf();
  Bytes token = content.str();
  while (!token.empty() && std::isspace(static_cast<unsigned char>(token.back()))) {
    token.pop_back();
  }
  if (token.empty()) return Status::invalid_argument("the token file " + file.string() + " is empty");
  return token;
}

Result<std::unique_ptr<Client>> Client::connect(const std::string& address,
                                                const ConnectOptions& options) {
  const uint32_t connect_timeout_ms = options.connect_timeout_ms;
  std::optional<std::vector<kj::TlsCertificate>> trusted;
  if (!options.tls_ca_file.empty()) {
    TESSERA_ASSIGN_OR_RETURN(trusted, load_tls_ca(options.tls_ca_file, "--tls-ca"));
  }
  std::unique_ptr<Connection> connection;
  try {
    connection = trusted ? std::make_unique<Connection>(address, thread_io())
                         : std::make_unique<Connection>(address);
  } catch (const kj::Exception& e) {
    return Status::unavailable("cannot reach node at " + address + ": " +
                               std::string(e.getDescription().cStr()));
  }
  if (trusted) TESSERA_RETURN_IF_ERROR(connection->open(connect_timeout_ms, *trusted));
  if (!options.token.empty()) {
    auto authenticate = connection->main.authenticateRequest();
    authenticate.setToken(as_data(options.token));
    Result<rpc::Tessera::Client> session = connection->call(
        authenticate, connect_timeout_ms, [](auto& response) -> Result<rpc::Tessera::Client> {
          TESSERA_RETURN_IF_ERROR(client_error(response.getError()));
          return response.getSession();
        });
    if (!session.is_ok()) return session.status();
    connection->main = std::move(session).value();
  }
  auto request = connection->main.helloRequest();
  Status hello = connection->call(request, connect_timeout_ms, [](auto& response) -> Status {
    TESSERA_RETURN_IF_ERROR(client_error(response.getError()));
    if (response.getApiVersion() != rpc::API_VERSION) {
      return Status::not_supported("node speaks API version " +
                                   std::to_string(response.getApiVersion()) +
                                   ", this client speaks " + std::to_string(rpc::API_VERSION));
    }
    return Status::ok();
  });
  if (!hello.is_ok()) return hello;
  return std::unique_ptr<Client>(new Client(std::move(connection)));
}

Result<std::string> Client::node_id() {
  auto request = connection_->main.helloRequest();
  return connection_->call(request, kDefaultRequestTimeoutMs, [](auto& response) -> Result<std::string> {
    TESSERA_RETURN_IF_ERROR(client_error(response.getError()));
    return std::string(response.getNodeId().cStr());
  });
}

Result<NodeStatus> Client::status(const RequestOptions& options) {
  auto request = connection_->main.statusRequest();
  fill_options(request.initOptions(), options);
  return connection_->call(
      request, Connection::deadline(options), [](auto& response) -> Result<NodeStatus> {
        Status status = client_error(response.getError());
        if (!status.is_ok()) return status;
        auto in = response.getStatus();
        NodeStatus out;
        out.node_id = in.getNodeId().cStr();
        out.profile = in.getProfile().cStr();
        out.listen = in.getListen().cStr();
        out.uptime_ms = in.getUptimeMs();
        for (auto plugin : in.getPlugins()) {
          out.plugins.push_back({plugin.getSlot().cStr(), plugin.getName().cStr(),
                                 plugin.getVersion().cStr(), plugin.getFile().cStr()});
        }
        out.data_bytes = in.getDataBytes();
        for (auto stat : in.getEngineStats()) {
          out.engine_stats.emplace_back(stat.getName().cStr(), stat.getValue());
        }
        for (auto stat : in.getMembershipStats()) {
          out.membership_stats.emplace_back(stat.getName().cStr(), stat.getValue());
        }
        for (auto stat : in.getProfileStats()) {
          out.profile_stats.emplace_back(stat.getName().cStr(), stat.getValue());
        }
        return out;
      });
}

Result<uint64_t> Client::decommission(const RequestOptions& options) {
  auto request = connection_->main.decommissionRequest();
  fill_options(request.initOptions(), options);
  return connection_->call(request, Connection::deadline(options),
                           [](auto& response) -> Result<uint64_t> {
                             Status status = client_error(response.getError());
                             if (!status.is_ok()) return status;
                             return response.getKeysCopied();
                           });
}

Status Client::remove_node(const std::string& id, const RequestOptions& options) {
  auto request = connection_->main.removeNodeRequest();
  request.setId(id);
  fill_options(request.initOptions(), options);
  return connection_->call(request, Connection::deadline(options), [](auto& response) -> Status {
    return client_error(response.getError());
  });
}

Result<HintCounts> Client::hints(const RequestOptions& options) {
  auto request = connection_->main.hintsRequest();
  fill_options(request.initOptions(), options);
  return connection_->call(request, Connection::deadline(options),
                           [](auto& response) -> Result<HintCounts> {
                             Status status = client_error(response.getError());
                             if (!status.is_ok()) return status;
                             HintCounts out;
                             for (auto h : response.getPending()) {
                               out.pending.emplace_back(h.getTarget().cStr(), h.getCount());
                             }
                             out.truncated = response.getTruncated();
                             return out;
                           });
}

Result<std::vector<MemberInfo>> Client::members(const RequestOptions& options) {
  auto request = connection_->main.membersRequest();
  fill_options(request.initOptions(), options);
  using R = Result<std::vector<MemberInfo>>;
  return connection_->call(request, Connection::deadline(options), [](auto& response) -> R {
    Status status = client_error(response.getError());
    if (!status.is_ok()) return status;
    std::vector<MemberInfo> out;
    for (auto m : response.getMembers()) {
      out.push_back({m.getId().cStr(), m.getAddress().cStr(), m.getZone().cStr(),
                     m.getState().cStr(), m.getJoining()});
    }
    return out;
  });
}

Result<std::vector<RangeInfo>> Client::ring(const RequestOptions& options) {
  auto request = connection_->main.ringRequest();
  fill_options(request.initOptions(), options);
  using R = Result<std::vector<RangeInfo>>;
  return connection_->call(request, Connection::deadline(options), [](auto& response) -> R {
    Status status = client_error(response.getError());
    if (!status.is_ok()) return status;
    std::vector<RangeInfo> out;
    for (auto r : response.getRanges()) {
      RangeInfo range;
      range.table = r.getTable().cStr();
      range.start = to_bytes(r.getStart());
      range.end = to_bytes(r.getEnd());
      range.range_id = r.getRangeId();
      range.epoch = r.getEpoch();
      range.group = r.getGroup().cStr();
      for (auto v : r.getVoters()) range.voters.emplace_back(v.cStr());
      range.leader = r.getLeader().cStr();
      range.hosted = r.getHosted();
      range.term = r.getTerm();
      range.commit_index = r.getCommitIndex();
      range.applied_index = r.getAppliedIndex();
      out.push_back(std::move(range));
    }
    return out;
  });
}

Result<std::vector<std::string>> Client::list_tables(const RequestOptions& options) {
  auto request = connection_->main.listTablesRequest();
  fill_options(request.initOptions(), options);
  using R = Result<std::vector<std::string>>;
  return connection_->call(request, Connection::deadline(options), [](auto& response) -> R {
    Status status = client_error(response.getError());
    if (!status.is_ok()) return status;
    std::vector<std::string> names;
    for (auto table : response.getTables()) names.emplace_back(table.getName().cStr());
    return names;
  });
}

Status Client::create_table(const std::string& name, const RequestOptions& options,
                            const std::vector<Bytes>& split_keys) {
  auto request = connection_->main.createTableRequest();
  request.setName(as_text(name));
  auto keys = request.initSplitKeys(static_cast<unsigned>(split_keys.size()));
  for (size_t i = 0; i < split_keys.size(); ++i) {
    keys.set(static_cast<unsigned>(i), as_data(split_keys[i]));
  }
  fill_options(request.initOptions(), options);
  return connection_->call(request, Connection::deadline(options),
                           [](auto& response) { return client_error(response.getError()); });
}

Status Client::drop_table(const std::string& name, const RequestOptions& options) {
  auto request = connection_->main.dropTableRequest();
  request.setName(as_text(name));
  fill_options(request.initOptions(), options);
  return connection_->call(request, Connection::deadline(options),
                           [](auto& response) { return client_error(response.getError()); });
}

Result<Bytes> Client::put(const std::string& table, ByteView key, ByteView value,
                          const RequestOptions& options) {
  auto request = connection_->main.putRequest();
  request.setTable(as_text(table));
  request.setKey(as_data(key));
  request.setValue(as_data(value));
  fill_options(request.initOptions(), options);
  return connection_->call(request, Connection::deadline(options),
                           [](auto& response) -> Result<Bytes> {
                             Status status = client_error(response.getError());
                             if (!status.is_ok()) return status;
                             return to_bytes(response.getVersion());
                           });
}

Result<GetReply> Client::get(const std::string& table, ByteView key,
                             const RequestOptions& options) {
  auto request = connection_->main.getRequest();
  request.setTable(as_text(table));
  request.setKey(as_data(key));
  fill_options(request.initOptions(), options);
  return connection_->call(request, Connection::deadline(options),
                           [](auto& response) -> Result<GetReply> {
                             Status status = client_error(response.getError());
                             if (!status.is_ok()) return status;
                             GetReply reply;
                             reply.found = response.getFound();
                             reply.context = to_bytes(response.getContext());
                             for (auto value : response.getValues()) {
                               reply.values.push_back(
                                   {to_bytes(value.getData()), to_bytes(value.getVersion())});
                             }
                             return reply;
                           });
}

Status Client::remove(const std::string& table, ByteView key, const RequestOptions& options) {
  auto request = connection_->main.removeRequest();
  request.setTable(as_text(table));
  request.setKey(as_data(key));
  fill_options(request.initOptions(), options);
  return connection_->call(request, Connection::deadline(options),
                           [](auto& response) { return client_error(response.getError()); });
}

Result<ScanPage> Client::scan(const std::string& table, ByteView start, ByteView end,
                              uint32_t limit, ByteView page_token,
                              const RequestOptions& options) {
  auto request = connection_->main.scanRequest();
  request.setTable(as_text(table));
  request.setStart(as_data(start));
  request.setEnd(as_data(end));
  request.setLimit(limit);
  request.setPageToken(as_data(page_token));
  fill_options(request.initOptions(), options);
  return connection_->call(request, Connection::deadline(options),
                           [](auto& response) -> Result<ScanPage> {
                             Status status = client_error(response.getError());
                             if (!status.is_ok()) return status;
                             ScanPage page;
                             for (auto item : response.getItems()) {
                               page.items.push_back({to_bytes(item.getKey()),
                                                     to_bytes(item.getValue()),
                                                     to_bytes(item.getVersion())});
                             }
                             page.next_page_token = to_bytes(response.getNextPageToken());
                             return page;
                           });
}

Status Client::write(const std::string& table, const std::vector<BatchOperation>& operations,
                     const RequestOptions& options) {
  auto request = connection_->main.writeRequest();
  request.setTable(as_text(table));
  auto ops = request.initOps(operations.size());
  for (size_t i = 0; i < operations.size(); ++i) {
    ops[i].setKey(as_data(operations[i].key));
    if (operations[i].value) {
      ops[i].setPut(as_data(*operations[i].value));
    } else {
      ops[i].setRemove();
    }
  }
  fill_options(request.initOptions(), options);
  return connection_->call(request, Connection::deadline(options),
                           [](auto& response) { return client_error(response.getError()); });
}

}  // namespace tessera
