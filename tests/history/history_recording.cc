#include "history_recording.h"

#include <fstream>
#include <optional>
#include <sstream>
#include <thread>

#include "process.h"
#include "tessera/assert.h"

namespace tessera::history {
namespace {

// Beyond --seconds: the tool's preload of the table, connection set-up and its stall timeout.
constexpr std::chrono::seconds kToolMargin{60};

size_t count_of(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

bool put_acknowledged_in_last_third(const std::string& text) {
  std::istringstream tail(text.substr(text.size() - text.size() / 3));
  for (std::string line; std::getline(tail, line);) {
    if (line.find("\"op\":\"put\"") != std::string::npos &&
        line.find("\"ok\":true") != std::string::npos) {
      return true;
    }
  }
  return false;
}

}  // namespace

Result<RecordedHistory> record_history(const RecordingOptions& options,
                                       const std::function<void()>& fault) {
  TESSERA_REQUIRE(!options.addresses.empty(), "record_history needs an address");
  std::string addresses;
  for (const std::string& address : options.addresses) {
    addresses += (addresses.empty() ? "" : ",") + address;
  }
  const std::filesystem::path history = options.dir / "history.jsonl";
  const std::vector<std::string> argv = {options.bench_binary.string(),
                                         "client",
                                         "--addr",
                                         addresses,
                                         "--table",
                                         options.table,
                                         "-c",
                                         std::to_string(options.connections),
                                         "-P",
                                         std::to_string(options.pipeline),
                                         "--keys",
                                         std::to_string(options.keys),
                                         "--read-ratio",
                                         std::to_string(options.read_ratio),
                                         "--seconds",
                                         std::to_string(options.seconds),
                                         "--warmup-s",
                                         "0",
                                         "--timeout-ms",
                                         std::to_string(options.timeout_ms),
                                         "--history",
                                         history.string()};
  const auto tool_timeout = std::chrono::seconds(options.seconds) + kToolMargin;

  std::optional<Result<test::CommandResult>> ran;
  std::thread tool([&]() { ran.emplace(test::run_command(argv, "", tool_timeout)); });
  std::this_thread::sleep_for(options.fault_after);
  fault();
  tool.join();

  RecordedHistory recorded;
  if (ran->is_ok()) recorded.tool_output = (*ran)->out + (*ran)->err;
  if (!ran->is_ok()) {
    return Status::internal("tessera-bench did not end: " + ran->status().to_string());
  }
  std::ifstream in(history);
  if (!in)
    return Status::internal("tessera-bench left no history; it said:\n" + recorded.tool_output);
  Result<CheckReport> report = check_history(in);
  if (!report.is_ok()) return report.status();
  recorded.report = std::move(report).value();
  const std::string text = test::read_file(history);
  recorded.acknowledged = count_of(text, "\"ok\":true");
  recorded.unknown = count_of(text, "\"ok\":null");
  recorded.put_acknowledged_late = put_acknowledged_in_last_third(text);
  return recorded;
}

}  // namespace tessera::history
