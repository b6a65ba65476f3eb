// Encoding of a range group's commands and results (framework/schema/range.capnp).
#include "range_commands.h"

#include <capnp/message.h>
#include <capnp/serialize.h>

#include <cstring>
#include <string>

#include "rpc_values.h"
#include "tessera/rpc/range.capnp.h"

namespace tessera::leader {
namespace {

}  // namespace

Bytes encode_write(uint64_t range_id, uint64_t epoch, ByteView sequencer,
                   std::span<const RangeWriteOp> writes) {
  capnp::MallocMessageBuilder message;
  auto command = message.initRoot<rpc::range::RangeCommand>();
  command.setRangeId(range_id);
  command.setEpoch(epoch);
  command.setSequencer(as_data(sequencer));
  auto list = command.initWrite(static_cast<unsigned>(writes.size()));
  for (size_t i = 0; i < writes.size(); ++i) {
    auto out = list[static_cast<unsigned>(i)];
    out.setKey(as_data(writes[i].key));
    if (writes[i].value) {
      out.setPut(as_data(*writes[i].value));
    } else {
      out.setRemove();
    }
  }
  return message_bytes(message);
}

Result<RangeWriteCommand> decode_command(ByteView bytes) {
  RangeWriteCommand command;
  Status refusal;
  // A reader checks bounds lazily, on each access: every read of the message stays inside the
  // guard, and what it finds is copied out before the words go away.
  KJ_IF_MAYBE (e, kj::runCatchingExceptions([&]() {
                 kj::Array<capnp::word> words = copy_to_words(bytes);
                 capnp::FlatArrayMessageReader reader(words);
                 auto in = reader.getRoot<rpc::range::RangeCommand>();
                 command.range_id = in.getRangeId();
                 command.epoch = in.getEpoch();
                 command.sequencer = to_bytes(in.getSequencer());
                 if (!in.isWrite()) {
                   refusal = Status::invalid_argument("a range command with no operation");
                   return;
                 }
                 auto list = in.getWrite();
                 command.writes.reserve(list.size());
                 for (auto write : list) {
                   RangeWriteOp op;
                   op.key = to_bytes(write.getKey());
                   if (write.isPut()) op.value = to_bytes(write.getPut());
                   command.writes.push_back(std::move(op));
                 }
               })) {
    return Status::invalid_argument("a range command that does not parse: " +
                                    std::string(e->getDescription().cStr()));
  }
  if (!refusal.is_ok()) return refusal;
  if (command.writes.empty()) return Status::invalid_argument("a range write with no keys");
  return command;
}

Bytes encode_range_result(const Result<Bytes>& outcome) {
  capnp::MallocMessageBuilder message;
  auto result = message.initRoot<rpc::range::RangeResult>();
  write_error(result.initError(), outcome.status());
  if (outcome.is_ok()) result.setVersion(as_data(outcome.value()));
  return message_bytes(message);
}

Result<Bytes> decode_range_result(ByteView bytes) {
  Status status;
  Bytes version;
  KJ_IF_MAYBE (e, kj::runCatchingExceptions([&]() {
                 kj::Array<capnp::word> words = copy_to_words(bytes);
                 capnp::FlatArrayMessageReader reader(words);
                 auto in = reader.getRoot<rpc::range::RangeResult>();
                 status = read_error(in.getError());
                 version = to_bytes(in.getVersion());
               })) {
    return Status::corruption("a range result that does not parse: " +
                              std::string(e->getDescription().cStr()));
  }
  if (!status.is_ok()) return status;
  return version;
}

}  // namespace tessera::leader
