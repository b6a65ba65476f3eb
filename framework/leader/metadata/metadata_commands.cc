// Encoding of the metadata group's commands and results (framework/schema/metadata.capnp).
#include <capnp/message.h>
#include <capnp/serialize.h>

#include "metadata_codec.h"
#include "metadata_store.h"

namespace tessera::leader {
namespace {

capnp::Text::Reader text(ByteView bytes) { return capnp::Text::Reader(bytes.data(), bytes.size()); }

void fill_node(rpc::meta::NodeRecord::Builder out, const NodeInfo& node) {
  out.setId(text(node.id));
  out.setAddress(text(node.address));
  out.setZone(text(node.zone));
}

void fill_list(capnp::List<capnp::Text>::Builder out, std::span<const NodeId> nodes) {
  for (size_t i = 0; i < nodes.size(); ++i) out.set(static_cast<unsigned>(i), text(nodes[i]));
}

}  // namespace

void fill_range_record(rpc::meta::RangeRecord::Builder out, const RangeDescriptor& range) {
  out.setId(range.id);
  out.setTable(text(range.range.table));
  out.setStart(as_data(range.range.start));
  out.setEnd(as_data(range.range.end));
  out.setEpoch(range.epoch);
  out.setGroup(text(range.group));
  fill_list(out.initVoters(static_cast<unsigned>(range.voters.size())), range.voters);
  fill_list(out.initLearners(static_cast<unsigned>(range.learners.size())), range.learners);
  out.setLeader(text(range.leader));
  out.setState(static_cast<rpc::meta::RangeState>(range.state));
  out.setSplitKey(as_data(range.split_key));
  out.setLeaving(text(range.leaving));
}

RangeDescriptor read_range_record(rpc::meta::RangeRecord::Reader in) {
  RangeDescriptor range;
  range.id = in.getId();
  range.range.table = in.getTable().cStr();
  range.range.start = Bytes(in.getStart().asChars().begin(), in.getStart().size());
  range.range.end = Bytes(in.getEnd().asChars().begin(), in.getEnd().size());
  range.epoch = in.getEpoch();
  range.group = in.getGroup().cStr();
  for (auto v : in.getVoters()) range.voters.emplace_back(v.cStr());
  for (auto l : in.getLearners()) range.learners.emplace_back(l.cStr());
  range.leader = in.getLeader().cStr();
  range.state = static_cast<RangeState>(in.getState());
  range.split_key = Bytes(in.getSplitKey().asChars().begin(), in.getSplitKey().size());
  range.leaving = in.getLeaving().cStr();
  return range;
}

Bytes encode_result(const CommandResult& result) {
  capnp::MallocMessageBuilder message;
  auto out = message.initRoot<rpc::meta::Result>();
  out.setCode(static_cast<uint16_t>(result.status.code()));
  out.setMessage(text(result.status.message()));
  out.setTableId(result.table_id);
  out.setRangeId(result.range_id);
  out.setGeneration(result.generation);
  return message_bytes(message);
}

Bytes encode_found(const std::string& cluster_id, std::span<const NodeInfo> nodes) {
  capnp::MallocMessageBuilder message;
  auto found = message.initRoot<rpc::meta::Command>().initFound();
  found.setClusterId(text(cluster_id));
  auto list = found.initNodes(static_cast<unsigned>(nodes.size()));
  for (size_t i = 0; i < nodes.size(); ++i) fill_node(list[static_cast<unsigned>(i)], nodes[i]);
  return message_bytes(message);
}

Bytes encode_put_node(const NodeInfo& node) {
  capnp::MallocMessageBuilder message;
  fill_node(message.initRoot<rpc::meta::Command>().initPutNode(), node);
  return message_bytes(message);
}

Bytes encode_create_table(const std::string& name, const std::string& group,
                          std::span<const NodeId> voters) {
  const TableRange first{"", group, {voters.begin(), voters.end()}};
  return encode_create_table(name, std::span<const TableRange>(&first, 1));
}

Bytes encode_create_table(const std::string& name, std::span<const TableRange> ranges) {
  TESSERA_REQUIRE(!ranges.empty() && ranges[0].start.empty());
  capnp::MallocMessageBuilder message;
  auto create = message.initRoot<rpc::meta::Command>().initCreateTable();
  create.setName(text(name));
  create.setGroup(text(ranges[0].group));
  fill_list(create.initVoters(static_cast<unsigned>(ranges[0].voters.size())), ranges[0].voters);
  auto more = create.initMoreRanges(static_cast<unsigned>(ranges.size() - 1));
  for (size_t i = 1; i < ranges.size(); ++i) {
    auto range = more[static_cast<unsigned>(i - 1)];
    range.setStart(as_data(ranges[i].start));
    range.setGroup(text(ranges[i].group));
    fill_list(range.initVoters(static_cast<unsigned>(ranges[i].voters.size())), ranges[i].voters);
  }
  return message_bytes(message);
}

Bytes encode_drop_table(const std::string& name) {
  capnp::MallocMessageBuilder message;
  message.initRoot<rpc::meta::Command>().setDropTable(text(name));
  return message_bytes(message);
}

Bytes encode_put_ranges(std::span<const RangeUpdate> updates) {
  capnp::MallocMessageBuilder message;
  auto list =
      message.initRoot<rpc::meta::Command>().initPutRanges(static_cast<unsigned>(updates.size()));
  for (size_t i = 0; i < updates.size(); ++i) {
    auto out = list[static_cast<unsigned>(i)];
    fill_range_record(out.initRange(), updates[i].range);
    out.setExpectEpoch(updates[i].expect_epoch);
  }
  return message_bytes(message);
}

Bytes encode_set_leader(uint64_t range_id, const NodeId& leader) {
  capnp::MallocMessageBuilder message;
  auto set = message.initRoot<rpc::meta::Command>().initSetLeader();
  set.setRangeId(range_id);
  set.setLeader(text(leader));
  return message_bytes(message);
}

CommandResult decode_result(ByteView bytes) {
  CommandResult result;
  KJ_IF_MAYBE (e, kj::runCatchingExceptions([&]() {
                 kj::Array<capnp::word> words = copy_to_words(bytes);
                 capnp::FlatArrayMessageReader reader(words);
                 auto in = reader.getRoot<rpc::meta::Result>();
                 uint16_t code = in.getCode();
                 if (code > static_cast<uint16_t>(StatusCode::kInternal)) {
                   code = static_cast<uint16_t>(StatusCode::kInternal);
                 }
                 if (code != 0) {
                   result.status = Status(static_cast<StatusCode>(code), in.getMessage().cStr());
                 }
                 result.table_id = in.getTableId();
                 result.range_id = in.getRangeId();
                 result.generation = in.getGeneration();
               })) {
    result = CommandResult{};
    result.status = Status::corruption("a metadata result that does not parse: " +
                                       std::string(e->getDescription().cStr()));
  }
  return result;
}


}  // namespace tessera::leader
