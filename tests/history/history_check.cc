#include "history_check.h"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

#include "tessera/sim/linearizability.h"

namespace tessera::history {
namespace {

struct Register {
  using State = std::optional<std::string>;
  struct Input {
    bool read = false;
    std::string value;  // puts
  };
  using Output = std::optional<std::string>;  // gets: the value read, nullopt = not found

  static bool apply(State& state, const Input& in, const Output* out) {
    if (!in.read) {
      state = in.value;
      return true;
    }
    return out == nullptr || *out == state;
  }
  static uint64_t hash(const State& state) {
    return state ? std::hash<std::string>{}(*state) : 0x9e3779b97f4a7c15ull;
  }
};

// One line as read, before calls and returns are ranked.
struct Recorded {
  Register::Input input;
  Register::Output output;
  int64_t call_ns = 0;
  std::optional<int64_t> return_ns;  // nullopt: outcome unknown
};

Status bad_line(uint64_t line, const std::string& why) {
  return Status::invalid_argument("history line " + std::to_string(line) + ": " + why);
}

}  // namespace

Result<CheckReport> check_history(std::istream& in, uint64_t states_max_per_key) {
  CheckReport report;
  std::map<std::string, std::vector<Recorded>> by_key;
  std::string text;
  uint64_t line = 0;
  while (std::getline(in, text)) {
    ++line;
    if (text.empty()) continue;
    ++report.operations;
    nlohmann::json json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (json.is_discarded() || !json.is_object()) return bad_line(line, "not a JSON object");
    const auto op = json.find("op");
    const auto key = json.find("key");
    const auto ok = json.find("ok");
    const auto call = json.find("call");
    if (op == json.end() || !op->is_string() || key == json.end() || !key->is_string() ||
        ok == json.end() || !(ok->is_boolean() || ok->is_null()) || call == json.end() ||
        !call->is_number_integer()) {
      return bad_line(line, "needs op, key (strings), ok (true, false or null) and call (ns)");
    }
    const std::string kind = op->get<std::string>();
    if (kind != "put" && kind != "get") return bad_line(line, "op '" + kind + "' is not checked");
    Recorded r;
    r.input.read = kind == "get";
    r.call_ns = call->get<int64_t>();
    if (ok->is_boolean() && !ok->get<bool>()) continue;  // no effect
    if (ok->is_null() && r.input.read) continue;         // no effect, nothing observed
    if (ok->is_boolean()) {
      const auto ret = json.find("return");
      if (ret == json.end() || !ret->is_number_integer()) {
        return bad_line(line, "an answered operation needs return (ns)");
      }
      r.return_ns = ret->get<int64_t>();
      if (*r.return_ns < r.call_ns) return bad_line(line, "return before call");
    }
    if (!r.input.read) {
      const auto value = json.find("value");
      if (value == json.end() || !value->is_string()) return bad_line(line, "a put needs value");
      r.input.value = value->get<std::string>();
    } else {
      const auto result = json.find("result");
      if (result == json.end() || !(result->is_string() || result->is_null())) {
        return bad_line(line, "an answered get needs result (string or null)");
      }
      if (result->is_string()) r.output = result->get<std::string>();
    }
    by_key[key->get<std::string>()].push_back(std::move(r));
  }
  report.keys = by_key.size();
  for (auto& [key, recorded] : by_key) {
    // Rank calls and returns: at equal times calls come first, so the operations overlap.
    struct Event {
      int64_t ns;
      int kind;  // 0 call, 1 return
      size_t op;
    };
    std::vector<Event> events;
    for (size_t i = 0; i < recorded.size(); ++i) {
      events.push_back({recorded[i].call_ns, 0, i});
      if (recorded[i].return_ns) events.push_back({*recorded[i].return_ns, 1, i});
    }
    std::sort(events.begin(), events.end(), [](const Event& a, const Event& b) {
      return a.ns != b.ns ? a.ns < b.ns : a.kind < b.kind;
    });
    std::vector<sim::Operation<Register>> ops(recorded.size());
    for (size_t rank = 0; rank < events.size(); ++rank) {
      sim::Operation<Register>& o = ops[events[rank].op];
      (events[rank].kind == 0 ? o.call : o.ret) = rank;
    }
    for (size_t i = 0; i < recorded.size(); ++i) {
      ops[i].input = recorded[i].input;
      ops[i].output = recorded[i].output;
    }
    sim::LinearizabilityResult result =
        sim::check_linearizable<Register>(std::move(ops), std::nullopt, states_max_per_key);
    if (result.inconclusive) {
      ++report.inconclusive;
    } else if (!result.ok) {
      ++report.violations;
      if (report.first_violation.empty()) {
        report.first_violation = "key " + key + ": " + result.message;
      }
    }
  }
  return report;
}

}  // namespace tessera::history
