// Options: the knobs of one gossip node. The core reads no config file: the host fills this.
//
// Thread-safety: plain value. Every timer is in ticks (the host's tick, e.g. 100 ms) and every
// message, queue and table of the core is bounded by one of these. README.md states the
// detection and convergence bounds they imply.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "gossip/types.h"

namespace tessera::gossip {

struct Options {
  NodeId id;            // REQUIRES: not empty, at most id_bytes_max
  std::string address;  // this node's gossip address; REQUIRES: not empty
  std::string zone;
  // Must exceed every incarnation this node id ever used before (a persisted counter, or the
  // boot time in milliseconds), so that a restarted or rejoining node outranks its old entries.
  uint64_t incarnation_start = 0;
  // This node starts with Member::joining set (a node that copies its ranges first).
  bool joining = false;
  // Addresses contacted to join, and now and then to heal a split view; this node's own
  // address may be listed (it is skipped).
  std::vector<std::string> seeds;

  // Failure detection (SWIM): one probe per probe period, to members in a shuffled round-robin
  // order; no ack after probe_timeout_ticks: ask indirect_probes helpers; no ack by the end of
  // the period: suspect; suspect for suspicion_ticks without a refutation: dead.
  uint32_t probe_interval_ticks = 5;
  uint32_t probe_timeout_ticks = 2;  // REQUIRES: 0 < probe_timeout_ticks < probe_interval_ticks
  uint32_t indirect_probes = 3;
  uint32_t suspicion_ticks = 30;

  // Dissemination: news rides on probes (piggyback, each change retransmitted
  // retransmit_mult * ceil(log2(members + 1)) times); a push-pull with one random live member
  // every gossip_interval_ticks walks the whole view over rounds (anti-entropy).
  uint32_t gossip_interval_ticks = 2;
  uint32_t retransmit_mult = 3;
  // A push-pull with one dead member every reconnect_interval_ticks, so that the two sides of
  // a healed partition find each other again.
  uint32_t reconnect_interval_ticks = 10;
  // While no other member is live: push-pull with every seed this often. Once joined: with one
  // random seed every seed_sync_ticks (heals views that forgot each other entirely).
  uint32_t join_retry_ticks = 10;
  uint32_t seed_sync_ticks = 100;

  // Graceful leave: the leaving node keeps answering and gossiping for leave_linger_ticks
  // before leave_done(), and tells leave_fanout members at once.
  uint32_t leave_linger_ticks = 20;
  uint32_t leave_fanout = 3;
  // Dead and left entries stay this long (so that stale alive news cannot bring them back),
  // then are forgotten.
  uint32_t dead_retention_ticks = 3000;
  uint32_t left_retention_ticks = 3000;

  // Bounds.
  size_t entries_per_message_max = 8;  // REQUIRES: >= 3 (own entry, receiver hint, news)
  size_t members_max = 1024;           // entries about unknown nodes beyond this are ignored
  size_t relays_max = 64;              // indirect probes this node runs for others at once
  size_t id_bytes_max = 128;           // entries with longer strings are ignored
  size_t address_bytes_max = 256;
  size_t zone_bytes_max = 64;
};

}  // namespace tessera::gossip
