// Child processes for multi-process tests: start a program with fork/exec, signal it, wait for
// it with a bound, and run a command to completion capturing its output.
//
// Every wait is bounded in time; nothing here blocks forever on a child that hangs.
//
// Ownership: a Process owns its child. Its destructor SIGKILLs the child if it still runs and
// reaps it, so a test that fails or throws leaves no process behind. The child also gets
// PR_SET_PDEATHSIG(SIGKILL): if the test process dies, the kernel kills the child. That signal
// fires when the *thread* that started the child ends, so start children from a thread that
// outlives them (the test's main thread).
//
// Thread-safety: a Process is used from one thread. run_command() may be called from any thread.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tessera/status.h"

namespace tessera::test {

// How a child ended.
struct ExitStatus {
  bool exited = false;  // true: returned from main or called exit(); `code` is valid
  int code = 0;
  int signal = 0;       // when !exited: the signal that ended it

  bool success() const { return exited && code == 0; }
  // "exit code 3" or "killed by signal 9 (Killed)".
  std::string to_string() const;
};

struct ProcessSpec {
  std::vector<std::string> argv;  // argv[0] is the program path
  // Added to (or replacing in) the parent's environment.
  std::vector<std::pair<std::string, std::string>> env;
  std::filesystem::path stdin_path = "/dev/null";
  std::filesystem::path stdout_path = "/dev/null";
  std::filesystem::path stderr_path = "/dev/null";
  bool append_output = false;  // append to stdout/stderr files instead of truncating them
};

class Process {
 public:
  // Starts the child. InvalidArgument for an empty argv; IOError when fork fails, a redirect
  // file cannot be opened or the program cannot be executed (the message names it).
  static Result<std::unique_ptr<Process>> spawn(const ProcessSpec& spec);

  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;
  ~Process();

  pid_t pid() const { return pid_; }

  // True until the child has been reaped. Reaps it when it has exited.
  bool running();

  // The exit status once reaped.
  const std::optional<ExitStatus>& exit_status() const { return exit_status_; }

  // Sends `signal`. InvalidArgument when the child was already reaped.
  Status send_signal(int signal);

  // Waits until the child exits, at most `timeout`. Timeout when it is still running then.
  Result<ExitStatus> wait(std::chrono::milliseconds timeout);

  // SIGKILL and reap. Returns how the child ended (it may have exited on its own before).
  ExitStatus kill();

 private:
  explicit Process(pid_t pid) : pid_(pid) {}

  pid_t pid_;
  std::optional<ExitStatus> exit_status_;
};

struct CommandResult {
  ExitStatus status;
  std::string out;  // everything the command wrote to stdout
  std::string err;  // everything the command wrote to stderr
};

// Runs `argv` with `input` on stdin and waits for it, at most `timeout` (then SIGKILLs it and
// returns Timeout naming the command).
Result<CommandResult> run_command(const std::vector<std::string>& argv, const std::string& input,
                                  std::chrono::milliseconds timeout,
                                  const std::vector<std::pair<std::string, std::string>>& env = {});

// Reads a whole file; "" when it does not exist.
std::string read_file(const std::filesystem::path& path);

// The last `bytes_max` bytes of a file, cut at a line start, for failure messages.
std::string read_file_tail(const std::filesystem::path& path, size_t bytes_max);

// Makes a fresh directory under $TMPDIR (or /tmp) named `<prefix>XXXXXX`.
Result<std::filesystem::path> make_temp_dir(const std::string& prefix);

}  // namespace tessera::test
