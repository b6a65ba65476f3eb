#include "manifest.h"

#include <unistd.h>

#include "tessera/coding.h"

namespace tessera::lsm {
namespace {

enum Tag : uint32_t {
  kLogNumber = 1,
  kNextFileNumber = 2,
  kLastSequence = 3,
  kDeletedFile = 4,
  kNewFile = 5,
};

}  // namespace

FileMeta::~FileMeta() {
  if (obsolete.load()) {
    table.reset();
    ::unlink(path.c_str());  // a failure leaves an orphan, which the next open removes
  }
}

void VersionEdit::encode(Bytes* out) const {
  if (log_number) {
    put_varint32(out, kLogNumber);
    put_varint64(out, *log_number);
  }
  if (next_file_number) {
    put_varint32(out, kNextFileNumber);
    put_varint64(out, *next_file_number);
  }
  if (last_sequence) {
    put_varint32(out, kLastSequence);
    put_varint64(out, *last_sequence);
  }
  for (const auto& [level, number] : deleted_files) {
    put_varint32(out, kDeletedFile);
    put_varint32(out, static_cast<uint32_t>(level));
    put_varint64(out, number);
  }
  for (const auto& [level, file] : added_files) {
    put_varint32(out, kNewFile);
    put_varint32(out, static_cast<uint32_t>(level));
    put_varint64(out, file->number);
    put_varint64(out, file->file_bytes);
    put_length_prefixed(out, file->smallest);
    put_length_prefixed(out, file->largest);
  }
}

Result<VersionEdit> VersionEdit::decode(ByteView in) {
  VersionEdit edit;
  auto bad = [](const char* what) { return Status::corruption(std::string("manifest: ") + what); };
  while (!in.empty()) {
    uint32_t tag;
    if (!get_varint32(&in, &tag)) return bad("truncated field tag");
    uint64_t number = 0;
    uint32_t level = 0;
    switch (tag) {
      case kLogNumber:
      case kNextFileNumber:
      case kLastSequence:
        if (!get_varint64(&in, &number)) return bad("truncated number");
        (tag == kLogNumber        ? edit.log_number
         : tag == kNextFileNumber ? edit.next_file_number
                                  : edit.last_sequence) = number;
        break;
      case kDeletedFile:
        if (!get_varint32(&in, &level) || !get_varint64(&in, &number)) {
          return bad("truncated deleted file");
        }
        if (level >= kNumLevels) return bad("level out of range");
        edit.deleted_files.emplace_back(static_cast<int>(level), number);
        break;
      case kNewFile: {
        auto file = std::make_shared<FileMeta>();
        ByteView smallest, largest;
        if (!get_varint32(&in, &level) || !get_varint64(&in, &file->number) ||
            !get_varint64(&in, &file->file_bytes) || !get_length_prefixed(&in, &smallest) ||
            !get_length_prefixed(&in, &largest)) {
          return bad("truncated new file");
        }
        if (level >= kNumLevels) return bad("level out of range");
        if (smallest.size() < kTagBytes || largest.size() < kTagBytes) {
          return bad("bad key range of a file");
        }
        file->smallest.assign(smallest);
        file->largest.assign(largest);
        edit.added_files.emplace_back(static_cast<int>(level), std::move(file));
        break;
      }
      default:
        return bad("unknown field tag");
    }
  }
  return edit;
}

}  // namespace tessera::lsm
