// Recovery of the shared raft log: a torn tail of the last segment at every byte offset is cut
// and invisible; a flipped bit is Corruption in an older segment and a cut in the last one; a
// missing segment is Corruption; a segment whose head a crash interrupted is dropped.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>

#include <map>

#include "test_util.h"

namespace tessera::raftlog {
namespace {

using namespace testing;

LogStoreOptions options_for(const fs::path& dir) {
  LogStoreOptions o;
  o.dir = dir;
  o.segment_bytes = 16 << 10;
  o.zero_fill_chunk_bytes = 4 << 10;
  return o;
}

// Writes `batches` batches of 3 entries to group 1 (and a hard state), continuing its log.
void write_batches(LogStore& store, int batches) {
  for (int b = 0; b < batches; ++b) {
    auto e = make_entries(1, *store.last_index(1) + 1, 3, 1);
    GroupWrite w = entries_write(1, e);
    w.hard_state = HardState{1, 1, e.back().index};
    ASSERT_TRUE(store.write(std::vector{w}).is_ok());
  }
}

void expect_entries_intact(LogStore& store, Index last) {
  ASSERT_EQ(*store.last_index(1), last);
  auto got = store.entries(1, 1, last + 1, 1 << 30);
  ASSERT_TRUE(got.is_ok()) << got.status().to_string();
  ASSERT_EQ(got->size(), last);
  for (const Entry& e : *got) ASSERT_EQ(e.data, entry_data(1, e.index));
}

TEST(LogStoreRecovery, TornTailAtEveryByteOfTheLastRecordIsCut) {
  TempDir dir;
  LogStoreOptions options = options_for(dir.path());
  {
    auto store = open_store(options);
    ASSERT_TRUE(store->write(std::vector{create_write(1, "a")}).is_ok());
    write_batches(*store, 9);
  }
  ASSERT_EQ(segment_files(dir.path()).size(), 1u);
  const fs::path segment = segment_files(dir.path())[0];
  const uint64_t before = fs::file_size(segment);
  {
    auto store = open_store(options);
    auto e = make_entries(1, 28, 3, 1, /*salt=*/0, /*spread=*/10);
    ASSERT_TRUE(store->write(std::vector{entries_write(1, e)}).is_ok());
  }
  const std::string full = read_file(segment);
  ASSERT_GT(full.size(), before + 100);
  std::mt19937_64 rng(11);
  for (uint64_t cut = before; cut < full.size(); ++cut) {
    SCOPED_TRACE("cut at " + std::to_string(cut));
    TempDir copy;
    const fs::path torn = copy.path() / segment.filename();
    std::string bytes = full.substr(0, cut);
    if (cut % 5 == 0) {  // sometimes garbage rather than nothing after the cut
      for (uint64_t i = cut; i < full.size(); ++i) bytes.push_back(static_cast<char>(rng()));
    }
    write_file(torn, bytes);
    LogStoreOptions o = options_for(copy.path());
    {
      auto store = open_store(o);
      ASSERT_NE(store, nullptr);
      expect_entries_intact(*store, 27);
      EXPECT_EQ(*store->hard_state(1), (HardState{1, 1, 27}));
      EXPECT_EQ(fs::file_size(torn), before);
      // The log goes on from the cut (checked at some of the cuts: each costs fsyncs).
      if (cut % 8 == 0) write_batches(*store, 1);
    }
    if (cut % 8 == 0) {
      auto store = open_store(o);
      ASSERT_NE(store, nullptr);
      expect_entries_intact(*store, 30);
    }
    if (::testing::Test::HasFatalFailure()) return;
  }
}

// Three or more segments of group 1, closed.
fs::path fill_segments(const LogStoreOptions& options, Index* last) {
  auto store = open_store(options);
  EXPECT_TRUE(store->write(std::vector{create_write(1, "a")}).is_ok());
  while (store->stats().segments_live < 4) write_batches(*store, 1);
  *last = *store->last_index(1);
  return options.dir;
}

void flip_bit(const fs::path& path, uint64_t offset) {
  std::string bytes = read_file(path);
  bytes[offset] ^= 0x10;
  write_file(path, bytes);
}

TEST(LogStoreRecovery, BitFlipInAnOlderSegmentIsCorruptionNamingTheFileAndOffset) {
  for (uint64_t offset : {uint64_t{3}, uint64_t{30}, uint64_t{2000}, uint64_t{9000}}) {
    TempDir dir;
    LogStoreOptions options = options_for(dir.path());
    Index last = 0;
    fill_segments(options, &last);
    auto files = segment_files(dir.path());
    ASSERT_GE(files.size(), 3u);
    ASSERT_LT(offset, fs::file_size(files[1]));
    flip_bit(files[1], offset);
    auto store = LogStore::open(options);
    ASSERT_FALSE(store.is_ok());
    EXPECT_EQ(store.status().code(), StatusCode::kCorruption);
    EXPECT_NE(store.status().message().find(files[1].filename().string()), std::string::npos)
        << store.status().to_string();
    EXPECT_NE(store.status().message().find("offset"), std::string::npos);
    // Nothing was cut or deleted: the error is reported again.
    EXPECT_EQ(segment_files(dir.path()).size(), files.size());
    EXPECT_EQ(LogStore::open(options).status().code(), StatusCode::kCorruption);
  }
}

TEST(LogStoreRecovery, BitFlipInTheLastSegmentCutsTheLogThere) {
  TempDir dir;
  LogStoreOptions options = options_for(dir.path());
  Index last = 0;
  fill_segments(options, &last);
  auto files = segment_files(dir.path());
  const fs::path tail = files.back();
  const uint64_t size = fs::file_size(tail);
  flip_bit(tail, size - 50);  // inside the last record
  auto store = open_store(options);
  ASSERT_NE(store, nullptr);
  Index now = *store->last_index(1);
  EXPECT_LT(now, last);
  EXPECT_GE(now + 3, last);
  expect_entries_intact(*store, now);
  EXPECT_LT(fs::file_size(tail), size);
  EXPECT_GT(store->stats().recovered_cut_bytes, 0u);
}

TEST(LogStoreRecovery, MissingSegmentIsCorruption) {
  TempDir dir;
  LogStoreOptions options = options_for(dir.path());
  Index last = 0;
  fill_segments(options, &last);
  auto files = segment_files(dir.path());
  fs::remove(files[1]);
  auto store = LogStore::open(options);
  EXPECT_EQ(store.status().code(), StatusCode::kCorruption);
  EXPECT_NE(store.status().message().find("missing"), std::string::npos);
}

TEST(LogStoreRecovery, ASegmentWhoseHeadACrashInterruptedIsDropped) {
  TempDir dir;
  LogStoreOptions options = options_for(dir.path());
  Index last = 0;
  fill_segments(options, &last);
  auto files = segment_files(dir.path());
  uint64_t next = 0;
  ASSERT_TRUE(parse_segment_name(files.back().filename().string(), &next));
  ++next;
  // A header cut short, then a header with half a checkpoint.
  Bytes head;
  append_segment_header(&head, next);
  append_checkpoint_end(&head, 0);  // claims no groups: must never be taken as a checkpoint
  for (size_t n : {size_t{0}, size_t{10}, kSegmentHeaderBytes, kSegmentHeaderBytes + 7}) {
    write_file(segment_path(dir.path(), next), head.substr(0, n));
    auto store = open_store(options);
    ASSERT_NE(store, nullptr);
    expect_entries_intact(*store, last);
    EXPECT_EQ(store->groups().size(), 1u);
    store.reset();
    EXPECT_EQ(segment_files(dir.path()).size(), files.size() + 1);  // a fresh one replaced it
    fs::remove(segment_files(dir.path()).back());
  }
  // A whole but garbage header on a segment that is not the last is Corruption.
  write_file(segment_path(dir.path(), next), head.substr(0, 10));
  write_file(segment_path(dir.path(), next + 1), head);
  EXPECT_EQ(LogStore::open(options).status().code(), StatusCode::kCorruption);
}

}  // namespace
}  // namespace tessera::raftlog

namespace tessera::raftlog {
namespace {

using namespace testing;

// A write the disk refuses halfway (here: the file size limit) fails with IOError, and every
// later write fails the same way (the on-disk state is unknown) while reads go on; a reopen
// cuts the half record and has everything acknowledged before.
TEST(LogStoreRecovery, AFailedWriteStopsWritesAndReopeningCutsItsHalfRecord) {
  TempDir dir;
  LogStoreOptions options = options_for(dir.path());
  options.zero_fill_chunk_bytes = 0;
  auto store = open_store(options);
  ASSERT_TRUE(store->write(std::vector{create_write(1, "a")}).is_ok());
  write_batches(*store, 3);
  const fs::path segment = segment_files(dir.path()).back();
  const uint64_t size = fs::file_size(segment);
  rlimit saved{};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &saved), 0);
  auto old_handler = ::signal(SIGXFSZ, SIG_IGN);
  rlimit small = saved;
  small.rlim_cur = size + 100;
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small), 0);
  auto big = make_entries(1, 10, 4, 1);  // several hundred bytes: cut at the limit
  Status failed = store->write(std::vector{entries_write(1, big)});
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &saved), 0);
  ::signal(SIGXFSZ, old_handler);
  EXPECT_EQ(failed.code(), StatusCode::kIOError) << failed.to_string();
  EXPECT_EQ(fs::file_size(segment), size + 100);
  auto more = make_entries(1, 10, 1, 1);
  EXPECT_EQ(store->write(std::vector{entries_write(1, more)}).code(), StatusCode::kIOError);
  EXPECT_EQ(store->sync().code(), StatusCode::kIOError);
  expect_entries_intact(*store, 9);
  store.reset();
  store = open_store(options);
  ASSERT_NE(store, nullptr);
  expect_entries_intact(*store, 9);
  EXPECT_EQ(fs::file_size(segment), size);
  write_batches(*store, 1);
  expect_entries_intact(*store, 12);
}

// Records that pass every checksum but make no sense together (a record of a group that does
// not exist, a start moving backwards, entries out of place, a group created twice) must give
// Corruption or a consistent log, never a crash.
TEST(LogStoreRecovery, WellFramedNonsenseIsCorruptionNeverACrash) {
  std::mt19937_64 rng(5);
  int opened = 0;
  int refused = 0;
  int rounds = 500;
  if (const char* s = std::getenv("TESSERA_FUZZ_ROUNDS")) rounds = std::atoi(s);
  for (int round = 0; round < rounds; ++round) {
    TempDir dir;
    Bytes bytes;
    append_segment_header(&bytes, 1);
    append_checkpoint_end(&bytes, 0);
    const int records = 1 + static_cast<int>(rng() % 12);
    for (int r = 0; r < records; ++r) {
      GroupId g = 1 + rng() % 3;
      switch (rng() % 6) {
        case 0:
          append_group_state(&bytes, RecordKind::kGroupState, g,
                             GroupMeta{"n", {}, {rng() % 5, rng() % 3, {}}});
          break;
        case 1:
          append_remove(&bytes, g);
          break;
        case 2:
          append_hard_state(&bytes, g, {rng() % 4, rng() % 4, rng() % 40});
          break;
        case 3:
          append_start(&bytes, g, {rng() % 30, rng() % 4, {}}, rng() % 2 == 0);
          break;
        case 4:
          append_checkpoint_end(&bytes, rng() % 2);
          break;
        default: {
          std::vector<EntrySpan> spans;
          auto entries = make_entries(g, 1 + rng() % 30, 1 + rng() % 5, rng() % 4, 0, 10);
          append_entries(&bytes, g, entries, &spans);
        }
      }
    }
    write_file(segment_path(dir.path(), 1), bytes);
    LogStoreOptions options;
    options.dir = dir.path();
    auto store = LogStore::open(options);
    if (!store.is_ok()) {
      EXPECT_EQ(store.status().code(), StatusCode::kCorruption) << store.status().to_string();
      ++refused;
      continue;
    }
    ++opened;
    for (const GroupInfo& info : (*store)->groups()) {
      EXPECT_EQ(info.first_index, (*store)->start(info.id)->index + 1);
      if (info.last_index < info.first_index) continue;
      auto got = (*store)->entries(info.id, info.first_index, info.last_index + 1, 1 << 20);
      ASSERT_TRUE(got.is_ok()) << got.status().to_string();
      EXPECT_EQ(got->size(), info.last_index - info.first_index + 1);
    }
  }
  EXPECT_GT(opened, 0);
  EXPECT_GT(refused, rounds / 2);
}

}  // namespace
}  // namespace tessera::raftlog
