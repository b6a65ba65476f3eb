// A peer in another process that is SIGSTOPped (connected, its kernel buffers filling, never
// answering) holds up neither the sender nor the healthy peer; the sender's queue for it stays
// bounded and its drops are counted. Then it is SIGCONTed and reached again. Multi-process:
// label `slow`.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>

#include "test_support.h"

namespace tessera::raft::transport {
namespace {

using namespace testing;  // NOLINT: the helpers of this folder's tests

// A child process running one transport and its node; its address comes back on a pipe.
class ChildNode {
 public:
  ChildNode() {
    int fds[2];
    if (::pipe(fds) != 0) throw std::runtime_error("pipe");
    // Forked before this process starts any thread of its own.
    pid_ = ::fork();
    if (pid_ == 0) {
      ::close(fds[0]);
      Directory directory;
      auto member = make_member("child", directory);
      const std::string address = member->node->address() + "\n";
      if (::write(fds[1], address.data(), address.size()) < 0) ::_exit(1);
      // Serves until killed; a parent that died unexpectedly leaves no orphan for long.
      for (int i = 0; i < 600; ++i) ::sleep(1);
      ::_exit(0);
    }
    ::close(fds[1]);
    char c = 0;
    while (::read(fds[0], &c, 1) == 1 && c != '\n') address_ += c;
    ::close(fds[0]);
  }
  ~ChildNode() {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  pid_t pid() const { return pid_; }
  const std::string& address() const { return address_; }

 private:
  pid_t pid_ = -1;
  std::string address_;
};

TEST(TransportProcessTest, StoppedPeerProcessHoldsUpNobody) {
  ChildNode child;
  ASSERT_FALSE(child.address().empty());
  Directory directory;
  directory.set("child", child.address());
  TransportOptions options = fast_options();
  options.queue_messages_max = 1000;
  auto a = make_member("a", directory, options);
  auto b = make_member("b", directory);

  // Connected first, so that the stop hits a live connection.
  a->transport->send("child", {heartbeat(1, 0)});
  ASSERT_TRUE(eventually([&]() { return a->transport->stats().messages_sent == 1; }));
  ASSERT_EQ(::kill(child.pid(), SIGSTOP), 0);

  // Appends of 64 KiB to the stopped child fill its socket buffers; heartbeats to b go on.
  GroupMessage append = heartbeat(1, 0);
  append.message.type = MessageType::kAppend;
  append.message.log_index = 1;
  append.message.log_term = 5;
  append.message.entries.push_back({5, 2, EntryType::kNormal, std::string(64 << 10, 'x')});
  uint64_t seq = 0;
  auto slowest = Clock::duration::zero();
  uint64_t queued_bytes_max = 0;
  const auto end = Clock::now() + std::chrono::milliseconds(1500);
  while (Clock::now() < end) {
    for (int i = 0; i < 20; ++i) {
      const auto start = Clock::now();
      a->transport->send("child", {append});
      a->transport->send("b", {heartbeat(2, seq++)});
      slowest = std::max(slowest, Clock::now() - start);
    }
    queued_bytes_max = std::max(queued_bytes_max, a->transport->stats().queued_bytes);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_TRUE(eventually([&]() { return b->inbox.count("a") == seq; }))
      << b->inbox.count("a") << " of " << seq;
  expect_in_order(b->inbox.from("a"), seq);
  TransportStats stats = a->transport->stats();
  std::printf(
      "slowest send %lld us; queued at most %llu KiB; dropped: queue full %llu, "
      "unreachable %llu, in failed calls %llu; connection failures %llu\n",
      static_cast<long long>(
          std::chrono::duration_cast<std::chrono::microseconds>(slowest).count()),
      static_cast<unsigned long long>(queued_bytes_max >> 10),
      static_cast<unsigned long long>(stats.dropped_queue_full),
      static_cast<unsigned long long>(stats.dropped_unreachable),
      static_cast<unsigned long long>(stats.dropped_send_failed),
      static_cast<unsigned long long>(stats.connection_failures));
  EXPECT_LT(slowest, std::chrono::milliseconds(50));
  EXPECT_LE(queued_bytes_max, options.queue_bytes_max + (uint64_t{1} << 20));
  EXPECT_GT(stats.dropped_queue_full + stats.dropped_unreachable + stats.dropped_send_failed, 0u);
  EXPECT_GT(stats.connection_failures, 0u);

  // Continued, the child is reached again.
  ASSERT_EQ(::kill(child.pid(), SIGCONT), 0);
  const uint64_t before = a->transport->stats().messages_sent;
  ASSERT_TRUE(eventually([&]() {
    a->transport->send("child", {heartbeat(1, 1)});
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    return a->transport->stats().messages_sent > before + 5;
  }));
}

}  // namespace
}  // namespace tessera::raft::transport
