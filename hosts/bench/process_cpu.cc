#include "process_cpu.h"

#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

namespace tessera::bench {

CpuSeconds self_cpu() {
  struct rusage usage {};
  ::getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) * 1e-6;
  };
  return CpuSeconds{seconds(usage.ru_utime), seconds(usage.ru_stime)};
}

Result<CpuSeconds> process_cpu(pid_t pid) {
  const std::string path = "/proc/" + std::to_string(pid) + "/stat";
  std::ifstream file(path);
  if (!file) {
    if (errno == ENOENT) return Status::not_found("no process " + std::to_string(pid));
    return Status::io_error("cannot read " + path + ": " + std::strerror(errno));
  }
  std::string line;
  std::getline(file, line);
  // The command name (field 2) is in parentheses and may hold spaces and parentheses itself:
  // the fields after it start after the last ')'. utime and stime are fields 14 and 15, i.e.
  // the 12th and 13th after the name.
  const size_t name_end = line.rfind(')');
  if (name_end == std::string::npos) return Status::io_error(path + ": unexpected format");
  std::istringstream fields(line.substr(name_end + 1));
  std::string field;
  unsigned long long utime = 0;
  unsigned long long stime = 0;
  for (int i = 3; i <= 15 && fields >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  if (!fields) return Status::io_error(path + ": unexpected format");
  const double tick = 1.0 / static_cast<double>(::sysconf(_SC_CLK_TCK));
  return CpuSeconds{static_cast<double>(utime) * tick, static_cast<double>(stime) * tick};
}

}  // namespace tessera::bench
