#include "process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

extern char** environ;

namespace tessera::test {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// How often bounded waits look at a child again.
constexpr std::chrono::milliseconds kPollInterval{5};
// After SIGKILL a child is gone within milliseconds; this bounds the wait anyway.
constexpr std::chrono::milliseconds kKillReapTimeout{10'000};
constexpr int kSignalsMax = 64;

ExitStatus decode(int wait_status) {
  ExitStatus status;
  if (WIFEXITED(wait_status)) {
    status.exited = true;
    status.code = WEXITSTATUS(wait_status);
  } else if (WIFSIGNALED(wait_status)) {
    status.signal = WTERMSIG(wait_status);
  }
  return status;
}

std::string errno_text(int error) { return std::strerror(error); }

// Everything the child needs, built before fork(): between fork and exec only async-signal-safe
// calls are allowed, so no allocation happens there.
struct ExecPlan {
  std::vector<std::string> argv_storage;
  std::vector<std::string> env_storage;
  std::vector<char*> argv;
  std::vector<char*> envp;
  std::string stdin_path, stdout_path, stderr_path;
  int output_flags = 0;

  explicit ExecPlan(const ProcessSpec& spec) : argv_storage(spec.argv) {
    for (char** e = environ; *e != nullptr; ++e) {
      std::string entry = *e;
      const std::string name = entry.substr(0, entry.find('='));
      bool replaced = false;
      for (const auto& [key, value] : spec.env) replaced = replaced || key == name;
      if (!replaced) env_storage.push_back(std::move(entry));
    }
    for (const auto& [key, value] : spec.env) env_storage.push_back(key + "=" + value);
    for (std::string& s : argv_storage) argv.push_back(s.data());
    argv.push_back(nullptr);
    for (std::string& s : env_storage) envp.push_back(s.data());
    envp.push_back(nullptr);
    stdin_path = spec.stdin_path.string();
    stdout_path = spec.stdout_path.string();
    stderr_path = spec.stderr_path.string();
    output_flags = O_WRONLY | O_CREAT | O_CLOEXEC | (spec.append_output ? O_APPEND : O_TRUNC);
  }
};

// In the child: reports errno to the parent and ends.
[[noreturn]] void child_failed(int report_fd) {
  const int error = errno;
  ssize_t ignored = ::write(report_fd, &error, sizeof(error));
  (void)ignored;
  ::_exit(127);
}

// Runs in the child: async-signal-safe calls only. Reports a failure's errno on `report_fd`.
[[noreturn]] void exec_child(const ExecPlan& plan, pid_t parent, int report_fd) {
  auto fail = [report_fd]() { child_failed(report_fd); };
  // Dies with the test, so that a crashed test leaves no node running.
  if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) fail();
  if (::getppid() != parent) ::_exit(127);  // the parent is already gone

  // A blocked or ignored signal survives exec; the node must see SIGTERM/SIGINT/SIGPIPE as
  // a fresh process would, whatever the test process did to them.
  sigset_t none;
  ::sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  struct sigaction default_action {};
  default_action.sa_handler = SIG_DFL;
  for (int s = 1; s < kSignalsMax; ++s) ::sigaction(s, &default_action, nullptr);

  // Descriptors the test process opened without O_CLOEXEC (sockets of its clients) must not
  // leak into the node: they would keep connections open after the test closes them.
  ::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);

  const int in = ::open(plan.stdin_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0 || ::dup2(in, STDIN_FILENO) < 0) fail();
  const int out = ::open(plan.stdout_path.c_str(), plan.output_flags, 0644);
  if (out < 0 || ::dup2(out, STDOUT_FILENO) < 0) fail();
  const int err = ::open(plan.stderr_path.c_str(), plan.output_flags, 0644);
  if (err < 0 || ::dup2(err, STDERR_FILENO) < 0) fail();
  ::execve(plan.argv[0], plan.argv.data(), plan.envp.data());
  child_failed(report_fd);
}

}  // namespace

std::string ExitStatus::to_string() const {
  if (exited) return "exit code " + std::to_string(code);
  return "killed by signal " + std::to_string(signal) + " (" + strsignal(signal) + ")";
}

Result<std::unique_ptr<Process>> Process::spawn(const ProcessSpec& spec) {
  if (spec.argv.empty()) return Status::invalid_argument("spawn: empty argv");
  const ExecPlan plan(spec);

  // The child writes errno here when exec fails; a successful exec closes it (O_CLOEXEC), so
  // reading EOF means the program runs.
  int report[2];
  if (::pipe2(report, O_CLOEXEC) != 0) {
    return Status::io_error("spawn " + spec.argv[0] + ": pipe: " + errno_text(errno));
  }
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    const int error = errno;
    ::close(report[0]);
    ::close(report[1]);
    return Status::io_error("spawn " + spec.argv[0] + ": fork: " + errno_text(error));
  }
  if (pid == 0) {
    ::close(report[0]);
    exec_child(plan, parent, report[1]);
  }
  ::close(report[1]);
  int child_errno = 0;
  ssize_t n;
  do {
    n = ::read(report[0], &child_errno, sizeof(child_errno));
  } while (n < 0 && errno == EINTR);
  ::close(report[0]);

  std::unique_ptr<Process> process(new Process(pid));
  if (n > 0) {
    process->kill();  // reaps the failed child
    return Status::io_error("cannot start " + spec.argv[0] + ": " + errno_text(child_errno));
  }
  return process;
}

Process::~Process() {
  if (!exit_status_.has_value()) kill();
}

bool Process::running() {
  if (exit_status_.has_value()) return false;
  int wait_status = 0;
  const pid_t r = ::waitpid(pid_, &wait_status, WNOHANG);
  if (r == pid_) {
    exit_status_ = decode(wait_status);
    return false;
  }
  if (r < 0 && errno == ECHILD) {
    // Someone else reaped it; it is gone, how it ended is unknown.
    exit_status_ = ExitStatus{};
    return false;
  }
  return true;
}

Status Process::send_signal(int signal) {
  if (exit_status_.has_value()) {
    return Status::invalid_argument("process " + std::to_string(pid_) + " has already ended (" +
                                    exit_status_->to_string() + ")");
  }
  // A zombie still accepts signals, so this is safe until the pid is reaped.
  if (::kill(pid_, signal) != 0) {
    return Status::io_error("kill(" + std::to_string(pid_) + "): " + errno_text(errno));
  }
  return Status::ok();
}

Result<ExitStatus> Process::wait(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  const auto polls_max = timeout / kPollInterval + 1;
  for (int64_t i = 0; i <= polls_max; ++i) {
    if (!running()) return *exit_status_;
    if (Clock::now() >= deadline) break;
    std::this_thread::sleep_for(kPollInterval);
  }
  if (!running()) return *exit_status_;
  return Status::timeout("process " + std::to_string(pid_) + " still running after " +
                         std::to_string(timeout.count()) + " ms");
}

ExitStatus Process::kill() {
  if (running()) {
    ::kill(pid_, SIGKILL);
    Result<ExitStatus> status = wait(kKillReapTimeout);
    // SIGKILL cannot be caught; a child that outlives it is stuck in the kernel (D state).
    TESSERA_ASSERT(status.is_ok(), "a SIGKILLed child did not exit");
  }
  return *exit_status_;
}

Result<CommandResult> run_command(const std::vector<std::string>& argv, const std::string& input,
                                  std::chrono::milliseconds timeout,
                                  const std::vector<std::pair<std::string, std::string>>& env) {
  if (argv.empty()) return Status::invalid_argument("run_command: empty argv");
  // Files, not pipes: no risk of a deadlock on a full pipe, and no poll loop to get wrong.
  Result<fs::path> dir = make_temp_dir("tessera-cmd-");
  if (!dir.is_ok()) return dir.status();
  struct RemoveDir {
    fs::path path;
    ~RemoveDir() {
      std::error_code ignored;
      fs::remove_all(path, ignored);
    }
  } remove_dir{*dir};

  ProcessSpec spec;
  spec.argv = argv;
  spec.env = env;
  spec.stdin_path = *dir / "stdin";
  spec.stdout_path = *dir / "stdout";
  spec.stderr_path = *dir / "stderr";
  {
    std::ofstream in(spec.stdin_path, std::ios::binary);
    in.write(input.data(), static_cast<std::streamsize>(input.size()));
    if (!in) return Status::io_error("cannot write " + spec.stdin_path.string());
  }
  Result<std::unique_ptr<Process>> process = Process::spawn(spec);
  if (!process.is_ok()) return process.status();
  Result<ExitStatus> status = (*process)->wait(timeout);
  if (!status.is_ok()) {
    (*process)->kill();
    return Status::timeout(argv[0] + " did not finish within " + std::to_string(timeout.count()) +
                           " ms; stderr: " + read_file_tail(spec.stderr_path, 4096));
  }
  return CommandResult{*status, read_file(spec.stdout_path), read_file(spec.stderr_path)};
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string read_file_tail(const std::filesystem::path& path, size_t bytes_max) {
  std::string text = read_file(path);
  if (text.size() <= bytes_max) return text;
  size_t start = text.size() - bytes_max;
  const size_t newline = text.find('\n', start);
  if (newline != std::string::npos) start = newline + 1;
  return "[...]\n" + text.substr(start);
}

Result<std::filesystem::path> make_temp_dir(const std::string& prefix) {
  const char* tmp = std::getenv("TMPDIR");
  fs::path base = tmp != nullptr && tmp[0] != '\0' ? fs::path(tmp) : fs::path("/tmp");
  std::string pattern = (base / (prefix + "XXXXXX")).string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    return Status::io_error("mkdtemp " + pattern + ": " + errno_text(errno));
  }
  return fs::path(pattern);
}

}  // namespace tessera::test
