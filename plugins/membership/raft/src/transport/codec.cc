#include "transport/codec.h"

#include <limits>
#include <string>

#include "raft/conf_change.h"

namespace tessera::raft::transport {
namespace {

constexpr uint16_t kLastMessageType = static_cast<uint16_t>(MessageType::kTimeoutNow);
constexpr uint16_t kLastEntryType = static_cast<uint16_t>(EntryType::kConfChange);
static_assert(static_cast<uint16_t>(rpc::MessageType::TIMEOUT_NOW) == kLastMessageType);
static_assert(static_cast<uint16_t>(rpc::EntryType::CONF_CHANGE) == kLastEntryType);

// Sizes in bytes of the schema's structs (data + pointer sections) and of a list pointer.
constexpr size_t kWordBytes = 8;
constexpr size_t kGroupMessageBytes = 12 * kWordBytes;  // 10 data words + 2 pointers, rounded
constexpr size_t kEntryBytes = 4 * kWordBytes;          // 3 data words + 1 pointer
constexpr size_t kSnapshotMetaBytes = 4 * kWordBytes;   // 2 data words + 2 pointers

size_t round_up_to_word(size_t bytes) { return (bytes + kWordBytes - 1) / kWordBytes * kWordBytes; }

Status malformed(std::string what) { return Status::invalid_argument("raft message: " + what); }

Result<std::vector<raft::NodeId>> decode_members(capnp::List<uint64_t>::Reader in,
                                                 const char* name) {
  std::vector<raft::NodeId> out;
  out.reserve(in.size());
  for (uint64_t id : in) {
    if (id == kNoNode) return malformed(std::string("snapshot ") + name + " lists replica 0");
    if (!out.empty() && id <= out.back()) {
      return malformed(std::string("snapshot ") + name + " are not strictly ascending");
    }
    out.push_back(id);
  }
  return out;
}

Status decode_snapshot(rpc::SnapshotMeta::Reader in, const DecodeLimits& limits,
                       SnapshotMeta& out) {
  if (size_t{in.getVoters().size()} + in.getLearners().size() > limits.members_max) {
    return malformed("snapshot configuration has over " + std::to_string(limits.members_max) +
                     " members");
  }
  TESSERA_ASSIGN_OR_RETURN(out.conf.voters, decode_members(in.getVoters(), "voters"));
  TESSERA_ASSIGN_OR_RETURN(out.conf.learners, decode_members(in.getLearners(), "learners"));
  for (raft::NodeId learner : out.conf.learners) {
    if (out.conf.is_voter(learner)) {
      return malformed("snapshot lists replica " + std::to_string(learner) +
                       " as voter and learner");
    }
  }
  out.index = in.getIndex();
  out.term = in.getTerm();
  return Status::ok();
}

Status decode_entries(capnp::List<rpc::Entry>::Reader in, const DecodeLimits& limits,
                      Message& out) {
  if (in.size() > limits.entries_max) {
    return malformed(std::to_string(in.size()) + " entries, over the bound of " +
                     std::to_string(limits.entries_max));
  }
  if (in.size() == 0) return Status::ok();
  if (out.type != MessageType::kAppend) {
    return malformed("entries on a message of type " + std::string(to_string(out.type)));
  }
  if (out.log_index > std::numeric_limits<Index>::max() - in.size()) {
    return malformed("entry indexes overflow");
  }
  out.entries.reserve(in.size());
  Term previous_term = out.log_term;
  for (uint32_t k = 0; k < in.size(); ++k) {
    rpc::Entry::Reader e = in[k];
    const Index expected = out.log_index + 1 + k;
    if (e.getIndex() != expected) {
      return malformed("entry " + std::to_string(k) + " has index " + std::to_string(e.getIndex()) +
                       ", expected " + std::to_string(expected));
    }
    if (e.getTerm() < previous_term || e.getTerm() > out.term) {
      return malformed("entry " + std::to_string(expected) + " has term " +
                       std::to_string(e.getTerm()) + " outside [" + std::to_string(previous_term) +
                       ", " + std::to_string(out.term) + "]");
    }
    previous_term = e.getTerm();
    const auto type = static_cast<uint16_t>(e.getType());
    if (type > kLastEntryType) {
      return malformed("entry " + std::to_string(expected) + " of unknown type " +
                       std::to_string(type));
    }
    capnp::Data::Reader data = e.getData();
    Entry entry{e.getTerm(), e.getIndex(), static_cast<EntryType>(type),
                std::string(reinterpret_cast<const char*>(data.begin()), data.size())};
    if (entry.type == EntryType::kConfChange && !decode_conf_state(entry.data).has_value()) {
      return malformed("configuration entry " + std::to_string(expected) + " does not decode");
    }
    out.entries.push_back(std::move(entry));
  }
  return Status::ok();
}

void encode_members(const std::vector<raft::NodeId>& ids, capnp::List<uint64_t>::Builder out) {
  for (size_t i = 0; i < ids.size(); ++i) out.set(i, ids[i]);
}

}  // namespace

void encode(const GroupMessage& in, rpc::GroupMessage::Builder out) {
  const Message& m = in.message;
  out.setGroup(in.group);
  out.setType(static_cast<rpc::MessageType>(m.type));
  out.setFrom(m.from);
  out.setTo(m.to);
  out.setTerm(m.term);
  out.setLogIndex(m.log_index);
  out.setLogTerm(m.log_term);
  out.setCommit(m.commit);
  out.setReject(m.reject);
  out.setForce(m.force);
  out.setRejectHint(m.reject_hint);
  out.setContext(m.context);
  if (!m.entries.empty()) {
    auto entries = out.initEntries(m.entries.size());
    for (size_t i = 0; i < m.entries.size(); ++i) {
      const Entry& e = m.entries[i];
      entries[i].setTerm(e.term);
      entries[i].setIndex(e.index);
      entries[i].setType(static_cast<rpc::EntryType>(e.type));
      entries[i].setData(
          capnp::Data::Reader(reinterpret_cast<const kj::byte*>(e.data.data()), e.data.size()));
    }
  }
  if (m.type == MessageType::kSnapshot) {
    auto snapshot = out.initSnapshot();
    snapshot.setIndex(m.snapshot.index);
    snapshot.setTerm(m.snapshot.term);
    encode_members(m.snapshot.conf.voters, snapshot.initVoters(m.snapshot.conf.voters.size()));
    encode_members(m.snapshot.conf.learners,
                   snapshot.initLearners(m.snapshot.conf.learners.size()));
  }
}

Result<GroupMessage> decode(rpc::GroupMessage::Reader in, const DecodeLimits& limits) {
  const auto type = static_cast<uint16_t>(in.getType());
  if (type > kLastMessageType) return malformed("unknown type " + std::to_string(type));
  GroupMessage out;
  out.group = in.getGroup();
  Message& m = out.message;
  m.type = static_cast<MessageType>(type);
  m.from = in.getFrom();
  m.to = in.getTo();
  if (m.from == kNoNode || m.to == kNoNode) return malformed("replica id 0 in from or to");
  m.term = in.getTerm();
  m.log_index = in.getLogIndex();
  m.log_term = in.getLogTerm();
  m.commit = in.getCommit();
  m.reject = in.getReject();
  m.force = in.getForce();
  m.reject_hint = in.getRejectHint();
  m.context = in.getContext();
  TESSERA_RETURN_IF_ERROR(decode_entries(in.getEntries(), limits, m));
  if (m.type == MessageType::kSnapshot) {
    TESSERA_RETURN_IF_ERROR(decode_snapshot(in.getSnapshot(), limits, m.snapshot));
  }
  return out;
}

size_t encoded_bytes(const GroupMessage& message) {
  const Message& m = message.message;
  size_t bytes = kGroupMessageBytes;
  if (!m.entries.empty()) bytes += kWordBytes;  // the list's tag
  for (const Entry& e : m.entries) bytes += kEntryBytes + round_up_to_word(e.data.size());
  if (m.type == MessageType::kSnapshot) {
    bytes += kSnapshotMetaBytes +
             kWordBytes * (m.snapshot.conf.voters.size() + m.snapshot.conf.learners.size() + 2);
  }
  return bytes;
}

}  // namespace tessera::raft::transport
