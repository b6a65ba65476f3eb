#include "process.h"

#include <signal.h>

#include <gtest/gtest.h>

namespace tessera::test {
namespace {

using std::chrono_literals::operator""ms;

TEST(RunCommand, CapturesOutputAndExitCode) {
  Result<CommandResult> r =
      run_command({"/bin/sh", "-c", "cat; echo err >&2; exit 3"}, "from stdin\n", 5000ms);
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_TRUE(r->status.exited);
  EXPECT_EQ(r->status.code, 3);
  EXPECT_EQ(r->out, "from stdin\n");
  EXPECT_EQ(r->err, "err\n");
}

TEST(RunCommand, PassesEnvironment) {
  Result<CommandResult> r =
      run_command({"/bin/sh", "-c", "printf %s \"$TESSERA_X\""}, "", 5000ms, {{"TESSERA_X", "y"}});
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_EQ(r->out, "y");
}

TEST(RunCommand, KillsACommandThatOverstaysItsTimeout) {
  const auto start = std::chrono::steady_clock::now();
  Result<CommandResult> r = run_command({"/bin/sleep", "30"}, "", 200ms);
  EXPECT_EQ(r.status().code(), StatusCode::kTimeout);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
}

TEST(Process, ReportsAProgramThatCannotStart) {
  ProcessSpec spec;
  spec.argv = {"/nonexistent/tessera-node"};
  Result<std::unique_ptr<Process>> p = Process::spawn(spec);
  ASSERT_FALSE(p.is_ok());
  EXPECT_NE(p.status().message().find("/nonexistent/tessera-node"), std::string::npos);
}

TEST(Process, StopContinueTerminate) {
  ProcessSpec spec;
  spec.argv = {"/bin/sleep", "30"};
  Result<std::unique_ptr<Process>> p = Process::spawn(spec);
  ASSERT_TRUE(p.is_ok()) << p.status().to_string();
  Process& process = **p;
  EXPECT_TRUE(process.running());
  ASSERT_TRUE(process.send_signal(SIGSTOP).is_ok());
  EXPECT_TRUE(process.running());
  ASSERT_TRUE(process.send_signal(SIGCONT).is_ok());
  ASSERT_TRUE(process.send_signal(SIGTERM).is_ok());
  Result<ExitStatus> status = process.wait(5000ms);
  ASSERT_TRUE(status.is_ok());
  EXPECT_FALSE(status->exited);
  EXPECT_EQ(status->signal, SIGTERM);
  EXPECT_FALSE(process.send_signal(SIGTERM).is_ok());
}

TEST(Process, DestructorKillsTheChild) {
  pid_t pid = 0;
  {
    ProcessSpec spec;
    spec.argv = {"/bin/sleep", "30"};
    Result<std::unique_ptr<Process>> p = Process::spawn(spec);
    ASSERT_TRUE(p.is_ok());
    pid = (*p)->pid();
  }
  // Reaped: the pid no longer names a child of ours.
  EXPECT_NE(::kill(pid, 0), 0);
}

}  // namespace
}  // namespace tessera::test
