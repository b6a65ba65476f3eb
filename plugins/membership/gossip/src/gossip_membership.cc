// GossipMembership: one gossip core on one Asio thread, UDP on the node's address.
//
// Threads: the Asio thread owns the core, the socket, the timer and the endpoint cache; the
// public methods hand it work with on_io() and wait for the answer; the notifier's thread
// calls the listeners. The view that members() returns is the one shared state, under
// view_mutex_.
#include "gossip_membership.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <exception>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <thread>
#include <type_traits>
#include <utility>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include "gossip/gossip.h"
#include "host_port.h"
#include "notifier.h"
#include "tessera/assert.h"
#include "wire.h"

namespace tessera::gossip {
namespace {

namespace asio = boost::asio;
using udp = asio::ip::udp;
using Clock = std::chrono::steady_clock;
using ErrorCode = boost::system::error_code;

// Resolved Outgoing::address values kept; a full cache starts over (addresses are few).
constexpr size_t kEndpointsMax = 4096;
// A name that did not resolve is tried again after this many ticks; messages to it are lost
// meanwhile, as on any lossy network.
constexpr uint64_t kResolveRetryTicks = 50;
// leave() waits leave_linger_ticks ticks and this much more for the core's leave_done().
constexpr uint32_t kLeaveSlackMs = 2000;

// A seeded std::mt19937_64; any decent generator serves the core (README, "Identity").
class RandomRng final : public Rng {
 public:
  RandomRng() {
    std::random_device device;
    std::seed_seq seed{device(), device(), device(), device()};
    generator_.seed(seed);
  }
  uint64_t uniform(uint64_t n) override {
    TESSERA_REQUIRE(n > 0);
    return std::uniform_int_distribution<uint64_t>(0, n - 1)(generator_);
  }

 private:
  std::mt19937_64 generator_;
};

NodeState node_state(MemberStatus status) {
  switch (status) {
    case MemberStatus::kAlive:
      return NodeState::kAlive;
    case MemberStatus::kSuspect:
      return NodeState::kSuspect;
    case MemberStatus::kDead:
      return NodeState::kDead;
    case MemberStatus::kLeft:
      return NodeState::kLeft;
  }
  TESSERA_ASSERT(false, "unknown member status");
  return NodeState::kDead;
}

uint64_t wall_clock_ms() {
  using namespace std::chrono;
  return static_cast<uint64_t>(
      duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count());
}

// InvalidArgument naming what is wrong with the node's identity; OK when it fits the wire.
Status check_self(const NodeInfo& self) {
  if (self.id.empty()) return Status::invalid_argument("gossip: the node id is empty");
  if (self.id.size() > wire::kIdBytesMax) {
    return Status::invalid_argument("gossip: node id '" + self.id + "' is longer than " +
                                    std::to_string(wire::kIdBytesMax) + " bytes");
  }
  if (!parse_host_port(self.address)) {
    return Status::invalid_argument("gossip: node address '" + self.address +
                                    "' is not host:port with a port in [1, 65535]");
  }
  if (self.address.size() > wire::kAddressBytesMax) {
    return Status::invalid_argument("gossip: node address '" + self.address +
                                    "' is longer than " +
                                    std::to_string(wire::kAddressBytesMax) + " bytes");
  }
  if (self.zone.size() > wire::kZoneBytesMax) {
    return Status::invalid_argument("gossip: zone '" + self.zone + "' is longer than " +
                                    std::to_string(wire::kZoneBytesMax) + " bytes");
  }
  return Status::ok();
}

class GossipMembership final : public Membership {
 public:
  explicit GossipMembership(GossipConfig config)
      : config_(std::move(config)),
        work_(asio::make_work_guard(io_)),
        timer_(io_),
        socket_(io_),
        resolver_(io_),
        thread_([this] { run(); }) {}

  ~GossipMembership() override {
    // Without leave(): the socket closes and this node falls silent, which its peers detect.
    asio::post(io_, [this] {
      stop_io();
      io_.stop();
    });
    thread_.join();
  }

  std::vector<NodeInfo> members() const override {
    std::lock_guard lock(view_mutex_);
    return view_;
  }

  Status join(const NodeInfo& self) override;
  Status leave() override;
  Status finish_joining() override;
  Status remove(const NodeId& id) override;

  void subscribe(Listener listener) override {
    try {
      notifier_.subscribe(std::move(listener));
    } catch (...) {
      // Out of memory copying the listener list: the listener is not added; nothing to report
      // through a void method, and nothing may escape.
    }
  }

 private:
  void run() noexcept {
    for (;;) {
      try {
        io_.run();
        return;
      } catch (...) {
        // A handler ran out of memory; the context stays usable, keep serving.
      }
    }
  }

  // Runs `f` on the Asio thread and returns its result. REQUIRES: not on the Asio thread.
  template <typename F>
  std::invoke_result_t<F&> on_io(F f) {
    using R = std::invoke_result_t<F&>;
    auto task = std::make_shared<std::packaged_task<R()>>(std::move(f));
    std::future<R> done = task->get_future();
    asio::post(io_, [task] { (*task)(); });
    return done.get();
  }

  Result<udp::endpoint> bind_endpoint(const std::string& address);
  Options make_options(const NodeInfo& self) const;

  // The Asio thread's part.
  Status start_io(const NodeInfo& self, const udp::endpoint& bind_to, Options options);
  std::future<void> begin_leave_io();
  void stop_io();
  void arm_timer();
  void on_tick();
  void arm_receive();
  void on_datagram(size_t bytes);
  void flush();
  void send(const Outgoing& out);
  const udp::endpoint* endpoint_for(const std::string& address);
  void resolve(const std::string& address, const HostPort& where);
  void publish_view();

  struct Endpoint {
    std::optional<udp::endpoint> endpoint;  // nullopt while resolving or after a failure
    bool resolving = false;
    uint64_t retry_at = 0;  // core tick at which a failed name is resolved again
  };

  const GossipConfig config_;
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  asio::steady_timer timer_;
  udp::socket socket_;
  udp::resolver resolver_;

  // Asio thread only.
  RandomRng rng_;
  std::unique_ptr<Gossip> gossip_;  // set between join() and leave()
  uint64_t generation_ = 0;         // bumped by stop_io(): older handlers do nothing
  udp protocol_ = udp::v4();
  Clock::time_point next_tick_;
  bool receive_armed_ = false;
  std::array<char, wire::kDatagramBytesMax + 1> buffer_{};  // one more: oversize is seen
  udp::endpoint sender_;
  std::map<std::string, Endpoint> endpoints_;
  NodeInfo self_;
  std::map<NodeId, NodeInfo> others_;  // the core's events applied, in id order
  std::optional<std::promise<void>> leave_done_;
  uint64_t last_incarnation_ = 0;

  std::mutex control_mutex_;  // serializes join() and leave()
  bool running_ = false;      // (control_mutex_)
  NodeInfo joined_as_;        // (control_mutex_)

  mutable std::mutex view_mutex_;
  std::vector<NodeInfo> view_;  // (view_mutex_) self first, then by id

  Notifier notifier_;
  std::thread thread_;  // last: starts once everything it uses exists
};

Status GossipMembership::join(const NodeInfo& self) {
  try {
    std::lock_guard lock(control_mutex_);
    if (running_) {
      if (self.id == joined_as_.id && self.address == joined_as_.address &&
          self.zone == joined_as_.zone) {
        return Status::ok();
      }
      return Status::invalid_argument("gossip: already joined as '" + joined_as_.id + "' at " +
                                      joined_as_.address + "; leave() first");
    }
    TESSERA_RETURN_IF_ERROR(check_self(self));
    TESSERA_ASSIGN_OR_RETURN(udp::endpoint bind_to, bind_endpoint(self.address));
    Options options = make_options(self);
    Status status = on_io([&] {
      try {
        return start_io(self, bind_to, std::move(options));
      } catch (...) {
        stop_io();  // nothing half-started stays behind for the next join()
        throw;
      }
    });
    if (status.is_ok()) {
      running_ = true;
      joined_as_ = self;
    }
    return status;
  } catch (const std::exception& e) {
    return Status::internal(std::string("gossip: join: ") + e.what());
  } catch (...) {
    return Status::internal("gossip: join: unknown exception");
  }
}

Status GossipMembership::leave() {
  try {
    std::lock_guard lock(control_mutex_);
    if (!running_) return Status::ok();  // never joined, or left already: not an error
    std::future<void> done = on_io([this] { return begin_leave_io(); });
    const uint32_t wait_ms =
        (Options().leave_linger_ticks + 1) * config_.tick_ms + kLeaveSlackMs;
    const bool finished =
        done.wait_for(std::chrono::milliseconds(wait_ms)) == std::future_status::ready;
    on_io([this] { stop_io(); });
    running_ = false;
    if (!finished) {
      return Status::timeout("gossip: leave of '" + joined_as_.id + "' not done after " +
                             std::to_string(wait_ms) + " ms; stopped anyway");
    }
    return Status::ok();
  } catch (const std::exception& e) {
    return Status::internal(std::string("gossip: leave: ") + e.what());
  } catch (...) {
    return Status::internal("gossip: leave: unknown exception");
  }
}

Status GossipMembership::finish_joining() {
  try {
    std::lock_guard lock(control_mutex_);
    if (!running_) return Status::invalid_argument("gossip: finish_joining before join");
    on_io([this] {
      gossip_->finish_joining();
      self_.joining = false;
      publish_view();
      flush();
    });
    return Status::ok();
  } catch (const std::exception& e) {
    return Status::internal(std::string("gossip: finish_joining: ") + e.what());
  } catch (...) {
    return Status::internal("gossip: finish_joining: unknown exception");
  }
}

Status GossipMembership::remove(const NodeId& id) {
  try {
    std::lock_guard lock(control_mutex_);
    if (!running_) return Status::invalid_argument("gossip: remove before join");
    const Gossip::RemoveRefusal refusal = on_io([this, &id] {
      const Gossip::RemoveRefusal answer = gossip_->remove(id);
      flush();
      return answer;
    });
    switch (refusal) {
      case Gossip::RemoveRefusal::kNone:
        return Status::ok();
      case Gossip::RemoveRefusal::kUnknown:
        return Status::not_found("gossip: no member '" + id + "' in this node's view");
      case Gossip::RemoveRefusal::kSelf:
        return Status::invalid_argument("gossip: '" + id +
                                        "' is this node; a running node leaves by itself");
      case Gossip::RemoveRefusal::kLive:
        return Status::invalid_argument("gossip: member '" + id +
                                        "' is alive or suspect; only a dead member is removed "
                                        "(a running node leaves by itself)");
    }
    return Status::internal("gossip: remove: unknown refusal");
  } catch (const std::exception& e) {
    return Status::internal(std::string("gossip: remove: ") + e.what());
  } catch (...) {
    return Status::internal("gossip: remove: unknown exception");
  }
}

Result<udp::endpoint> GossipMembership::bind_endpoint(const std::string& address) {
  const std::optional<HostPort> where = parse_host_port(address);
  TESSERA_ASSERT(where.has_value());  // check_self() passed
  ErrorCode ec;
  const asio::ip::address ip = asio::ip::make_address(where->host, ec);
  if (!ec) return udp::endpoint(ip, where->port);
  // A name: resolved here, on the caller's thread, once.
  udp::resolver resolver(io_);
  const udp::resolver::results_type found =
      resolver.resolve(where->host, std::to_string(where->port), ec);
  if (ec || found.empty()) {
    return Status::invalid_argument("gossip: cannot resolve node address '" + address +
                                    "': " + (ec ? ec.message() : "no address"));
  }
  return found.begin()->endpoint();
}

Options GossipMembership::make_options(const NodeInfo& self) const {
  Options options;
  options.id = self.id;
  options.address = self.address;
  options.zone = self.zone;
  options.joining = self.joining;
  options.seeds = config_.seeds;
  options.probe_interval_ticks = config_.probe_interval_ticks;
  options.suspicion_ticks = config_.suspicion_ticks;
  wire::apply_limits(options);
  return options;
}

Status GossipMembership::start_io(const NodeInfo& self, const udp::endpoint& bind_to,
                                  Options options) {
  TESSERA_ASSERT(gossip_ == nullptr);
  ErrorCode ec;
  socket_.open(bind_to.protocol(), ec);
  if (ec) {
    return Status::io_error("gossip: cannot open a UDP socket for " + self.address + ": " +
                            ec.message());
  }
  // No SO_REUSEADDR: a second node on the same port must fail here, not share the port.
  socket_.bind(bind_to, ec);
  if (!ec) socket_.non_blocking(true, ec);
  if (ec) {
    ErrorCode ignored;
    socket_.close(ignored);
    const std::string what = "gossip: cannot bind UDP " + self.address + ": " + ec.message();
    return ec == asio::error::address_in_use ? Status::busy(what) : Status::io_error(what);
  }
  protocol_ = bind_to.protocol();
  // The boot time in ms outranks every earlier life of this id (README, "Identity").
  options.incarnation_start = std::max(wall_clock_ms(), last_incarnation_ + 1);
  gossip_ = std::make_unique<Gossip>(std::move(options), rng_);
  self_ = NodeInfo{self.id, self.address, self.zone, NodeState::kAlive, self.joining};
  others_.clear();
  endpoints_.clear();
  gossip_->join();
  publish_view();
  flush();
  arm_receive();
  next_tick_ = Clock::now();
  arm_timer();
  return Status::ok();
}

std::future<void> GossipMembership::begin_leave_io() {
  TESSERA_ASSERT(gossip_ != nullptr);
  gossip_->leave();
  self_.state = NodeState::kLeft;
  publish_view();
  flush();
  std::promise<void> promise;
  std::future<void> done = promise.get_future();
  if (gossip_->leave_done()) {
    promise.set_value();
  } else {
    leave_done_ = std::move(promise);
  }
  return done;
}

void GossipMembership::stop_io() {
  ++generation_;
  if (gossip_ != nullptr) last_incarnation_ = gossip_->self().incarnation;
  ErrorCode ignored;
  timer_.cancel();
  resolver_.cancel();
  socket_.close(ignored);
  gossip_.reset();
  leave_done_.reset();
  receive_armed_ = false;
  endpoints_.clear();
}

void GossipMembership::arm_timer() {
  // Ticks do not catch up after a stall: a burst of ticks would time probes out unanswered.
  const Clock::time_point now = Clock::now();
  next_tick_ += std::chrono::milliseconds(config_.tick_ms);
  if (next_tick_ < now) next_tick_ = now + std::chrono::milliseconds(config_.tick_ms);
  timer_.expires_at(next_tick_);
  timer_.async_wait([this, generation = generation_](const ErrorCode& ec) {
    if (ec || generation != generation_) return;
    on_tick();
  });
}

void GossipMembership::on_tick() {
  // Out of memory in one tick must not stop the clock: the timer is re-armed regardless.
  try {
    gossip_->tick();
    flush();
    if (leave_done_ && gossip_->leave_done()) {
      leave_done_->set_value();
      leave_done_.reset();
    }
  } catch (...) {
  }
  if (!receive_armed_) arm_receive();
  arm_timer();
}

void GossipMembership::arm_receive() {
  receive_armed_ = true;
  socket_.async_receive_from(
      asio::buffer(buffer_), sender_,
      [this, generation = generation_](const ErrorCode& ec, size_t bytes) {
        if (generation != generation_) return;
        receive_armed_ = false;
        // On an error the next tick re-arms: a persistent error cannot spin this thread.
        if (ec) return;
        try {
          on_datagram(bytes);
        } catch (...) {
          // Out of memory on one datagram: it is lost, as a datagram may be.
        }
        arm_receive();
      });
}

void GossipMembership::on_datagram(size_t bytes) {
  if (bytes > wire::kDatagramBytesMax) return;  // not ours: ours are never that large
  ByteView datagram(buffer_.data(), bytes);
  if (config_.secret != nullptr) {
    // Untagged, or tagged with another secret: not from a member of this cluster.
    static_assert(wire::kTagBytes == ClusterSecret::kProofBytes);
    if (datagram.size() < wire::kTagBytes) return;
    const ByteView body = datagram.substr(0, datagram.size() - wire::kTagBytes);
    if (!config_.secret->check_tag(body, datagram.substr(body.size()))) return;
    datagram = body;
  }
  std::optional<Message> message = wire::decode(datagram);
  if (!message) return;  // garbage, truncated, another version: dropped
  gossip_->step(*message);
  flush();
}

void GossipMembership::flush() {
  Effects effects = gossip_->drain();
  for (const Outgoing& out : effects.messages) send(out);
  for (const Event& event : effects.events) {
    if (event.member.id == self_.id) continue;  // the core reports on others only
    if (event.kind == EventKind::kForgotten) {
      others_.erase(event.member.id);
    } else {
      const Member& m = event.member;
      others_[m.id] = NodeInfo{m.id, m.address, m.zone, node_state(m.status), m.joining};
    }
    publish_view();  // one view per event
  }
}

void GossipMembership::send(const Outgoing& out) {
  // The core's bounds are the wire's (apply_limits) and every relayed entry was decoded.
  TESSERA_ASSERT(wire::encodable(out.message));
  const udp::endpoint* to = endpoint_for(out.address);
  if (to == nullptr) return;
  Bytes datagram = wire::encode(out.message);
  if (config_.secret != nullptr) datagram += config_.secret->tag(datagram);
  ErrorCode ec;
  // Non-blocking: a full send buffer or an unreachable peer loses the datagram, which the
  // protocol expects of UDP.
  socket_.send_to(asio::buffer(datagram), *to, 0, ec);
}

const udp::endpoint* GossipMembership::endpoint_for(const std::string& address) {
  auto it = endpoints_.find(address);
  if (it == endpoints_.end()) {
    if (endpoints_.size() >= kEndpointsMax) endpoints_.clear();
    it = endpoints_.emplace(address, Endpoint{}).first;
    const std::optional<HostPort> where = parse_host_port(address);
    if (!where) {
      it->second.retry_at = UINT64_MAX;  // never valid: a peer's bad address
      return nullptr;
    }
    ErrorCode ec;
    const asio::ip::address ip = asio::ip::make_address(where->host, ec);
    if (!ec) {
      it->second.endpoint = udp::endpoint(ip, where->port);
      return &*it->second.endpoint;
    }
    resolve(address, *where);
    return nullptr;
  }
  Endpoint& e = it->second;
  if (e.endpoint) return &*e.endpoint;
  if (!e.resolving && gossip_->ticks() >= e.retry_at) {
    if (const std::optional<HostPort> where = parse_host_port(address)) resolve(address, *where);
  }
  return nullptr;
}

void GossipMembership::resolve(const std::string& address, const HostPort& where) {
  endpoints_[address].resolving = true;
  resolver_.async_resolve(
      protocol_, where.host, std::to_string(where.port),
      [this, address, generation = generation_](const ErrorCode& ec,
                                                const udp::resolver::results_type& found) {
        if (generation != generation_) return;
        auto it = endpoints_.find(address);
        if (it == endpoints_.end()) return;  // the cache started over meanwhile
        it->second.resolving = false;
        if (!ec && !found.empty()) {
          it->second.endpoint = found.begin()->endpoint();
        } else {
          it->second.retry_at = gossip_->ticks() + kResolveRetryTicks;
        }
      });
}

void GossipMembership::publish_view() {
  std::vector<NodeInfo> view;
  view.reserve(others_.size() + 1);
  view.push_back(self_);
  for (const auto& [id, info] : others_) view.push_back(info);
  {
    std::lock_guard lock(view_mutex_);
    view_ = view;
  }
  notifier_.publish(std::move(view));
}

}  // namespace

Result<std::unique_ptr<Membership>> make_gossip_membership(GossipConfig config) noexcept {
  try {
    return std::unique_ptr<Membership>(std::make_unique<GossipMembership>(std::move(config)));
  } catch (const std::exception& e) {
    return Status::unavailable(std::string("gossip: cannot start: ") + e.what());
  } catch (...) {
    return Status::unavailable("gossip: cannot start: unknown exception");
  }
}

}  // namespace tessera::gossip
