// tessera-check-history FILE: checks a `tessera-bench client --history` file for
// linearizability, key by key. Exit status 0: linearizable; 1: a key is not (the first is
// named); 2: the file cannot be read or parsed, or a key's search was inconclusive.
#include <cstdio>
#include <fstream>

#include "history_check.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: tessera-check-history FILE\n");
    return 2;
  }
  std::ifstream in(argv[1]);
  if (!in) {
    std::fprintf(stderr, "tessera-check-history: cannot open %s\n", argv[1]);
    return 2;
  }
  tessera::Result<tessera::history::CheckReport> report = tessera::history::check_history(in);
  if (!report.is_ok()) {
    std::fprintf(stderr, "tessera-check-history: %s\n", report.status().to_string().c_str());
    return 2;
  }
  const tessera::history::CheckReport& r = report.value();
  std::printf("%llu operations on %llu keys: %llu not linearizable, %llu inconclusive\n",
              static_cast<unsigned long long>(r.operations),
              static_cast<unsigned long long>(r.keys),
              static_cast<unsigned long long>(r.violations),
              static_cast<unsigned long long>(r.inconclusive));
  if (r.violations > 0) {
    std::printf("first: %s\n", r.first_violation.c_str());
    return 1;
  }
  return r.inconclusive > 0 ? 2 : 0;
}
