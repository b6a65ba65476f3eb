#include "tessera_target.h"

#include <capnp/rpc-twoparty.h>
#include <kj/async-io.h>

#include "buffered_stream.h"
#include "rpc_values.h"
#include "tessera/rpc/tessera.capnp.h"
#include "tls_context.h"

namespace tessera::bench {
namespace {

constexpr uint64_t kPreloadBatchOpsMax = 100;

StatusCode code_of(rpc::Error::Reader error) {
  auto code = static_cast<uint16_t>(error.getCode());
  if (code > static_cast<uint16_t>(kLastSchemaStatusCode)) code = uint16_t(StatusCode::kInternal);
  return static_cast<StatusCode>(code);
}

// Words of a message holding `bytes` of text and data in `pointers` pointer fields, with room
// for the options struct and each blob's padding.
capnp::MessageSize message_size(size_t bytes, size_t pointers) {
  return capnp::MessageSize{16 + pointers * 2 + bytes / 8, 0};
}

class TesseraTarget final : public LoadTarget {
 public:
  TesseraTarget(kj::AsyncIoContext& io, const std::string& address, const LoadOptions& options,
                Workload& workload)
      : io_(io), address_(address), options_(options), workload_(workload) {}

  kj::Promise<Status> connect() override {
    if (!options_.tls_ca.empty()) {
      Result<std::vector<kj::TlsCertificate>> trusted = load_tls_ca(options_.tls_ca, "--tls-ca");
      if (!trusted.is_ok()) return trusted.status();
      trusted_ = std::move(trusted).value();
      tls_ = make_client_tls(kj::arrayPtr(trusted_.data(), trusted_.size()));
    }
    return io_.provider->getNetwork()
        .parseAddress(address_, 7400)
        .then([](kj::Own<kj::NetworkAddress> address) { return address->connect(); })
        .then([this](kj::Own<kj::AsyncIoStream> raw) -> kj::Promise<kj::Own<kj::AsyncIoStream>> {
          if (tls_.get() == nullptr) return kj::mv(raw);
          return tls_->wrapClient(kj::mv(raw), tls_host_of(address_));
        })
        .then([this](kj::Own<kj::AsyncIoStream> stream) {
          if (options_.io_buffer_bytes != 0) {
            stream_ = kj::heap<BufferedStream>(kj::mv(stream), options_.io_buffer_bytes);
          } else {
            stream_ = kj::mv(stream);
          }
          rpc_ = kj::heap<capnp::TwoPartyClient>(*stream_);
          main_ = rpc_->bootstrap().castAs<rpc::Tessera>();
          return authenticate();
        })
        .then([this](Status authenticated) -> kj::Promise<Status> {
          if (!authenticated.is_ok()) return authenticated;
          return main_.helloRequest().send().then(
              [this](capnp::Response<rpc::Tessera::HelloResults>&& hello) {
                Status said = read_error(hello.getError());
                if (!said.is_ok()) return said.with_context("node at " + address_);
                if (hello.getApiVersion() != rpc::API_VERSION) {
                  return Status::not_supported("node at " + address_ + " speaks API version " +
                                               std::to_string(hello.getApiVersion()) +
                                               ", this tool speaks " +
                                               std::to_string(rpc::API_VERSION));
                }
                return Status::ok();
              });
        })
        .catch_([this](kj::Exception&& e) {
          return Status::unavailable("cannot reach node at " + address_ + ": " +
                                     std::string(e.getDescription().cStr()));
        });
  }

  // With a token, the session it opens replaces the bootstrap; a refused token is the node's
  // error (unauthorized).
  kj::Promise<Status> authenticate() {
    if (options_.token.empty()) return Status::ok();
    auto request = main_.authenticateRequest();
    request.setToken(as_data(options_.token));
    return request.send().then([this](capnp::Response<rpc::Tessera::AuthenticateResults>&& r) {
      Status status = read_error(r.getError());
      if (!status.is_ok()) return status.with_context("node at " + address_);
      main_ = r.getSession();
      return Status::ok();
    });
  }

  kj::Promise<LoadAnswer> send(const LoadRequest& r) override {
    const uint32_t key_bytes = workload_.key_bytes(r.key);
    if (r.read) {
      auto request = main_.getRequest(message_size(options_.table.size() + key_bytes, 3));
      fill_common(request, r.key, key_bytes);
      return request.send().then(
          [want_value = r.want_value](capnp::Response<rpc::Tessera::GetResults>&& response) {
            LoadAnswer answer{code_of(response.getError()), response.getFound(), {}};
            // Siblings (AP) are not one value: a history names the first.
            if (want_value && answer.found && response.getValues().size() > 0) {
              capnp::Data::Reader value = response.getValues()[0].getData();
              answer.value.assign(reinterpret_cast<const char*>(value.begin()), value.size());
            }
            return answer;
          });
    }
    auto request =
        main_.putRequest(message_size(options_.table.size() + key_bytes + r.value.size(), 4));
    fill_common(request, r.key, key_bytes);
    request.setValue(as_data(r.value));
    return request.send().then([](capnp::Response<rpc::Tessera::PutResults>&& response) {
      return LoadAnswer{code_of(response.getError()), true, {}};
    });
  }

  kj::Promise<LoadAnswer> preload(uint64_t first, uint64_t count, std::mt19937_64& rng) override {
    if (!batches_) return preload_puts(first, first + count, rng);
    size_t bytes = 0;
    for (uint64_t i = first; i < first + count; ++i) {
      bytes += workload_.key_bytes(i) + workload_.value_bytes_max() + 16;
    }
    auto request = main_.writeRequest(message_size(options_.table.size() + bytes, 3));
    request.setTable(capnp::Text::Reader(options_.table.data(), options_.table.size()));
    auto ops = request.initOps(static_cast<unsigned>(count));
    for (uint64_t i = 0; i < count; ++i) {
      const uint64_t key = first + i;
      workload_.fill_key(key,
                         reinterpret_cast<char*>(ops[i].initKey(workload_.key_bytes(key)).begin()));
      ops[i].setPut(as_data(workload_.value(rng)));
    }
    if (options_.timeout_ms != 0) request.initOptions().setTimeoutMs(options_.timeout_ms);
    return request.send().then(
        [this, first, count,
         &rng](capnp::Response<rpc::Tessera::WriteResults>&& response) -> kj::Promise<LoadAnswer> {
          const StatusCode code = code_of(response.getError());
          if (code != StatusCode::kNotSupported) return LoadAnswer{code, true, {}};
          batches_ = false;
          return preload_puts(first, first + count, rng);
        });
  }

  uint64_t preload_batch_max() const override { return batches_ ? kPreloadBatchOpsMax : 1; }

 private:
  template <typename Builder>
  void fill_common(Builder& request, uint64_t key, uint32_t key_bytes) {
    request.setTable(capnp::Text::Reader(options_.table.data(), options_.table.size()));
    workload_.fill_key(key, reinterpret_cast<char*>(request.initKey(key_bytes).begin()));
    if (options_.timeout_ms != 0) request.initOptions().setTimeoutMs(options_.timeout_ms);
  }

  // Puts keys [next, end) one after the other.
  kj::Promise<LoadAnswer> preload_puts(uint64_t next, uint64_t end, std::mt19937_64& rng) {
    if (next == end) return LoadAnswer{};
    LoadRequest request;
    request.key = next;
    request.value = workload_.value(rng);
    return send(request).then([this, next, end, &rng](LoadAnswer answer) {
      if (answer.code != StatusCode::kOk) return kj::Promise<LoadAnswer>(answer);
      return preload_puts(next + 1, end, rng);
    });
  }

  kj::AsyncIoContext& io_;
  const std::string address_;
  const LoadOptions& options_;
  Workload& workload_;
  std::vector<kj::TlsCertificate> trusted_;  // --tls-ca
  kj::Own<kj::TlsContext> tls_;
  kj::Own<kj::AsyncIoStream> stream_;
  kj::Own<capnp::TwoPartyClient> rpc_;
  rpc::Tessera::Client main_ = nullptr;
  bool batches_ = true;  // the node takes Tessera.write
};

}  // namespace

kj::Own<LoadTarget> make_tessera_target(kj::AsyncIoContext& io, const std::string& address,
                                        const LoadOptions& options, Workload& workload) {
  return kj::heap<TesseraTarget>(io, address, options, workload);
}

}  // namespace tessera::bench
