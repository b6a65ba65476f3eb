// Gossip: one node's membership view and failure detector (SWIM with push-pull anti-entropy),
// as a pure state machine.
//
// Purpose: the AP profile's membership core, with no sockets, threads, files, clock or
// logging: the host feeds it peer messages (step), the passage of time (tick) and requests
// (join, leave), and drains effects (messages to send, membership events) with drain(), in
// the order documented in effects.h. README.md describes the protocol, its bounds, and how a
// host drives it.
// Thread-safety: none; one thread owns a Gossip. Ownership: borrows the Rng (must outlive it).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "gossip/effects.h"
#include "gossip/messages.h"
#include "gossip/options.h"
#include "gossip/rng.h"
#include "gossip/types.h"

namespace tessera::gossip {

class Gossip {
 public:
  // REQUIRES: the options' stated requirements. The node is silent until join().
  Gossip(Options options, Rng& rng);

  Gossip(const Gossip&) = delete;
  Gossip& operator=(const Gossip&) = delete;

  // Starts probing and contacts the seeds (none: this node starts a cluster of one).
  // Calling it twice is not an error.
  void join();
  // Marks this node left, tells leave_fanout members, and keeps gossiping so that the news
  // spreads; the host stops the node once leave_done(). Not an error before join() or twice.
  void leave();
  // Clears this node's `joining` flag with a new incarnation, so that the news outranks the
  // flagged entry everywhere. A no-op when the flag is not set.
  void finish_joining();
  // Declares `id`, a member this view holds as dead, left on its behalf, at the incarnation
  // heard, so that its ranges move in every view; a node that is in fact alive refutes it
  // with a higher incarnation and comes back. What prevents it, if anything.
  enum class RemoveRefusal : uint8_t { kNone, kUnknown, kSelf, kLive };
  RemoveRefusal remove(const NodeId& id);
  // A message from a peer. Malformed or misdirected messages are ignored, never asserted.
  void step(const Message& message);
  // One unit of time.
  void tick();

  bool has_effects() const { return !effects_.messages.empty() || !effects_.events.empty(); }
  Effects drain();

  // Observers.
  const Member& self() const { return self_; }
  // Every entry of the view, this node included (first), dead and left ones too.
  std::vector<Member> members() const;
  // The entry about `id`, or nullptr if the view has none (never heard of, or forgotten).
  const Member* find(const NodeId& id) const;
  uint64_t ticks() const { return ticks_; }
  bool joined() const { return joined_; }
  bool leave_done() const { return leaving_ && leave_elapsed_ >= options_.leave_linger_ticks; }
  const Options& options() const { return options_; }

 private:
  struct Entry {
    Member member;
    uint64_t changed_at = 0;        // tick of the last change, for retention
    uint64_t suspect_deadline = 0;  // tick at which a suspect becomes dead
  };
  // The probe this node is running in the current probe period.
  struct Probe {
    NodeId target;
    std::string address;
    uint64_t seq = 0;
    uint32_t elapsed = 0;
    bool acked = false;
  };
  // An indirect probe this node runs for another: forward the target's ack to the origin.
  struct Relay {
    NodeId origin;
    std::string origin_address;
    uint64_t origin_seq = 0;
    uint64_t expires_at = 0;
  };

  // View (gossip.cc).
  bool valid(const Member& m) const;
  void merge(const Member& incoming);
  void refute(const Member& claim);
  void set_entry(Entry& entry, const Member& member);
  void emit_change(const Member& before, const Member& after);
  void enqueue_news(const NodeId& id);
  const Member* entry_member(const NodeId& id) const;
  std::vector<NodeId> live_others() const;
  std::vector<NodeId> dead_others() const;

  // Probing and suspicion (probe.cc).
  void tick_probe();
  void start_probe();
  void add_to_probe_order(const NodeId& id);
  void send_indirect();
  void suspect(const NodeId& id);
  void tick_suspicion_and_retention();
  void expire_relays();
  void handle_ping(const Message& m);
  void handle_ack(const Message& m);
  void handle_ping_req(const Message& m);

  // Dissemination (dissemination.cc).
  void tick_gossip();
  void send_push_pull(const NodeId& to, const std::string& address, MessageType type);
  void handle_push_pull(const Message& m);
  Message make_message(MessageType type, const NodeId& to);
  void add_hint(Message& m, const NodeId& about);
  void add_news(Message& m);
  void add_window(Message& m);
  void send(const NodeId& to, const std::string& address, Message m);
  std::optional<NodeId> pick(const std::vector<NodeId>& ids);

  const Options options_;
  Rng& rng_;
  Member self_;
  std::map<NodeId, Entry> view_;  // others only; ordered so that iteration is deterministic
  uint64_t ticks_ = 0;
  bool started_ = false;
  bool joined_ = false;  // heard from another node since join()
  bool leaving_ = false;
  uint32_t leave_elapsed_ = 0;

  std::vector<NodeId> probe_order_;  // this pass of the shuffled round-robin
  size_t probe_next_ = 0;
  uint32_t probe_clock_ = 0;  // ticks into the current probe period
  std::optional<Probe> probe_;
  uint64_t next_seq_ = 1;
  std::map<uint64_t, Relay> relays_;  // by the seq of this node's ping to the target

  std::map<NodeId, uint32_t> news_;  // changed entries (self included) -> transmissions left
  NodeId window_cursor_;             // push-pull walks the view from here
  uint32_t gossip_clock_ = 0;
  uint32_t reconnect_clock_ = 0;
  uint32_t seed_clock_ = 0;

  Effects effects_;
};

}  // namespace tessera::gossip
