// tessera: the command-line client. One subcommand per API call; see hosts/cli/README.md.
//
// Output is for scripts first: values go to stdout untouched (get) or as escaped
// `key<TAB>value` lines (scan); errors go to stderr as one line; the exit code says what
// happened (exit_code.h).
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "exit_code.h"
#include "format.h"
#include "tessera/client.h"

namespace tessera::cli {
namespace {

constexpr const char* kDefaultAddress = "127.0.0.1:7400";
constexpr uint32_t kConnectTimeoutMsDefault = 5000;
constexpr uint32_t kScanPageSizeDefault = 1000;
// A scan stops after this many pages even if the node keeps handing out tokens: a node that
// never finishes a scan is a bug to report, not a reason to loop forever.
constexpr uint64_t kScanPagesMax = 100'000'000;
constexpr size_t kStdinBytesMax = size_t{1} << 31;

struct GlobalOptions {
  std::string address = kDefaultAddress;
  uint32_t timeout_ms = 0;  // 0: the node's default per request, kConnectTimeoutMsDefault
  std::string consistency_name = "default";
  std::string token_file;  // --token-file: the client token to present; empty: none
  std::string tls_ca;      // --tls-ca: speak TLS, trusting this CA (PEM); empty: plain TCP

  Consistency consistency() const {
    static const std::map<std::string, Consistency> kByName = {
        {"default", Consistency::kDefault}, {"one", Consistency::kOne},
        {"quorum", Consistency::kQuorum},   {"all", Consistency::kAll},
        {"linearizable", Consistency::kLinearizable}, {"stale", Consistency::kStale}};
    return kByName.at(consistency_name);  // checked by the command line parser
  }
};

void print_error(std::string_view what) {
  std::fprintf(stderr, "tessera: %.*s\n", static_cast<int>(what.size()), what.data());
}

// "cannot reach node at <address>: <why>", without repeating the address when the client's
// message already names it.
std::string unreachable_message(const std::string& address, const std::string& why) {
  if (why.find(address) != std::string::npos) return why;
  return "cannot reach node at " + address + ": " + why;
}

void write_stdout(std::string_view bytes) {
  std::fwrite(bytes.data(), 1, bytes.size(), stdout);
}

// Reads all of stdin as bytes. InvalidArgument past kStdinBytesMax.
Result<Bytes> read_stdin() {
  Bytes data;
  char buffer[64 * 1024];
  while (true) {
    const size_t n = std::fread(buffer, 1, sizeof(buffer), stdin);
    data.append(buffer, n);
    if (data.size() > kStdinBytesMax) {
      return Status::invalid_argument("standard input is larger than " +
                                      std::to_string(kStdinBytesMax) + " bytes");
    }
    if (n < sizeof(buffer)) break;
  }
  if (std::ferror(stdin)) return Status::io_error("cannot read standard input");
  return data;
}

// The connection and the options every command shares; turns a failed Status into the exit
// code and a one-line message.
class Session {
 public:
  explicit Session(GlobalOptions options) : options_(std::move(options)) {
    request_options_.timeout_ms = options_.timeout_ms;
    request_options_.consistency = options_.consistency();
  }

  // Connects (and authenticates with --token-file); on failure prints why and returns the
  // exit code, kExitOk on success.
  int connect() {
    ConnectOptions connect_options;
    connect_options.connect_timeout_ms =
        options_.timeout_ms != 0 ? options_.timeout_ms : kConnectTimeoutMsDefault;
    connect_options.tls_ca_file = options_.tls_ca;
    if (!options_.token_file.empty()) {
      Result<Bytes> token = read_token_file(options_.token_file);
      if (!token.is_ok()) {
        print_error("--token-file: " + token.status().message());
        return kExitUsage;
      }
      connect_options.token = std::move(token).value();
    }
    Result<std::unique_ptr<Client>> client = Client::connect(options_.address, connect_options);
    if (!client.is_ok()) {
      const int code = exit_code_for(client.status());
      if (code == kExitUnreachable || code == kExitServerError) {
        print_error(unreachable_message(options_.address, client.status().message()));
        return kExitUnreachable;
      }
      print_error(options_.address + ": " + client.status().to_string());
      return code;
    }
    client_ = std::move(client).value();
    return kExitOk;
  }

  Client& client() { return *client_; }
  const RequestOptions& request_options() const { return request_options_; }
  // The causal context (from `get --show-context`) that a put or delete sends back.
  void set_context(Bytes context) { request_options_.context = std::move(context); }

  // Prints `status` for `command` and returns its exit code.
  int fail(std::string_view command, const Status& status) const {
    const int code = exit_code_for(status);
    if (code == kExitUnreachable) {
      print_error(std::string(command) + ": " +
                  unreachable_message(options_.address, status.message()));
    } else {
      print_error(std::string(command) + ": " + status.to_string());
    }
    return code;
  }

 private:
  GlobalOptions options_;
  RequestOptions request_options_;
  std::unique_ptr<Client> client_;
};

// `tessera status`: aligned "name  value" lines, or one JSON object with --json.
int run_status(Session& session, bool json) {
  Result<NodeStatus> got = session.client().status(session.request_options());
  if (!got.is_ok()) return session.fail("status", got.status());
  const NodeStatus& s = *got;
  if (json) {
    nlohmann::json out = {{"node_id", s.node_id},     {"profile", s.profile},
                          {"listen", s.listen},       {"uptime_ms", s.uptime_ms},
                          {"data_bytes", s.data_bytes}, {"plugins", nlohmann::json::array()},
                          {"engine", nlohmann::json::object()},
                          {"membership", nlohmann::json::object()},
                          {"profile_stats", nlohmann::json::object()}};
    for (const NodeStatus::Plugin& p : s.plugins) {
      out["plugins"].push_back(
          {{"slot", p.slot}, {"name", p.name}, {"version", p.version}, {"file", p.file}});
    }
    for (const auto& [name, value] : s.engine_stats) out["engine"][name] = value;
    for (const auto& [name, value] : s.membership_stats) out["membership"][name] = value;
    for (const auto& [name, value] : s.profile_stats) out["profile_stats"][name] = value;
    write_stdout(out.dump(2) + "\n");
    return kExitOk;
  }
  auto line = [](const std::string& name, const std::string& value) {
    std::string padded = name;
    padded.resize(std::max<size_t>(padded.size() + 1, 34), ' ');
    write_stdout(padded + value + "\n");
  };
  auto number = [](double value) {
    char text[64];
    std::snprintf(text, sizeof(text), "%.15g", value);
    return std::string(text);
  };
  line("node", s.node_id);
  line("profile", s.profile);
  line("listen", s.listen);
  line("uptime", number(static_cast<double>(s.uptime_ms) / 1000.0) + " s");
  char mib[32];
  std::snprintf(mib, sizeof(mib), "%.2f", static_cast<double>(s.data_bytes) / (1024.0 * 1024.0));
  line("data", std::string(mib) + " MiB (" + std::to_string(s.data_bytes) + " bytes, approximate)");
  for (const NodeStatus::Plugin& p : s.plugins) {
    line("plugin " + p.slot, p.name + " " + p.version + " (" + p.file + ")");
  }
  for (const auto& [name, value] : s.engine_stats) line("engine." + name, number(value));
  for (const auto& [name, value] : s.membership_stats) line("membership." + name, number(value));
  for (const auto& [name, value] : s.profile_stats) line(s.profile + "." + name, number(value));
  return kExitOk;
}

// `tessera members`: "id<TAB>address<TAB>zone<TAB>state" lines (state ",joining" for a node
// copying its ranges), or JSON.
int run_members(Session& session, bool json) {
  Result<std::vector<MemberInfo>> got = session.client().members(session.request_options());
  if (!got.is_ok()) return session.fail("members", got.status());
  nlohmann::json out = nlohmann::json::array();
  for (const MemberInfo& m : *got) {
    if (json) {
      out.push_back({{"id", m.id},
                     {"address", m.address},
                     {"zone", m.zone},
                     {"state", m.state},
                     {"joining", m.joining}});
    } else {
      write_stdout(m.id + "\t" + m.address + "\t" + (m.zone.empty() ? "-" : m.zone) + "\t" +
                   m.state + (m.joining ? ",joining" : "") + "\n");
    }
  }
  if (json) write_stdout(out.dump(2) + "\n");
  return kExitOk;
}

// `tessera ring`: a line per range, keys escaped as the scan prints them, or JSON.
int run_ring(Session& session, bool json) {
  Result<std::vector<RangeInfo>> got = session.client().ring(session.request_options());
  if (!got.is_ok()) return session.fail("ring", got.status());
  nlohmann::json out = nlohmann::json::array();
  for (const RangeInfo& r : *got) {
    std::string voters;
    for (const std::string& v : r.voters) voters += (voters.empty() ? "" : ",") + v;
    if (json) {
      out.push_back({{"table", r.table}, {"start", escape(r.start)}, {"end", escape(r.end)},
                     {"range_id", r.range_id}, {"epoch", r.epoch}, {"group", r.group},
                     {"voters", r.voters}, {"leader", r.leader}, {"hosted", r.hosted},
                     {"term", r.term}, {"commit_index", r.commit_index},
                     {"applied_index", r.applied_index}});
      continue;
    }
    if (r.table.empty()) {
      // The AP ring: token ranges (8-byte big-endian tokens) and their N owners.
      write_stdout("tokens\t[" + (r.start.empty() ? std::string("0") : to_hex(r.start)) + ", " +
                   (r.end.empty() ? std::string("end") : to_hex(r.end)) + ")\towners " + voters +
                   (r.hosted ? "\t(here)" : "") + "\n");
      continue;
    }
    std::string line = r.table + "\t[" + escape(r.start) + ", " +
                       (r.end.empty() ? std::string("end") : escape(r.end)) + ")\trange " +
                       std::to_string(r.range_id) + " epoch " + std::to_string(r.epoch) + "\t" +
                       r.group + "\tvoters " + voters + "\tleader " +
                       (r.leader.empty() ? std::string("?") : r.leader);
    if (r.hosted) {
      line += "\tterm " + std::to_string(r.term) + " commit " + std::to_string(r.commit_index) +
              " applied " + std::to_string(r.applied_index) + " lag " +
              std::to_string(r.commit_index - std::min(r.commit_index, r.applied_index));
    }
    write_stdout(line + "\n");
  }
  if (json) write_stdout(out.dump(2) + "\n");
  return kExitOk;
}

// `tessera hints`: "target<TAB>count" lines (dynamo), or JSON.
int run_hints(Session& session, bool json) {
  Result<HintCounts> got = session.client().hints(session.request_options());
  if (!got.is_ok()) return session.fail("hints", got.status());
  if (json) {
    nlohmann::json out = {{"pending", nlohmann::json::object()}, {"truncated", got->truncated}};
    for (const auto& [target, count] : got->pending) out["pending"][target] = count;
    write_stdout(out.dump(2) + "\n");
    return kExitOk;
  }
  for (const auto& [target, count] : got->pending) {
    write_stdout(target + "\t" + std::to_string(count) + "\n");
  }
  if (got->truncated) write_stdout("(counting stopped at 1,000,000 hints)\n");
  return kExitOk;
}

int run_tables(Session& session) {
  Result<std::vector<std::string>> tables = session.client().list_tables();
  if (!tables.is_ok()) return session.fail("tables", tables.status());
  for (const std::string& name : *tables) write_stdout(name + "\n");
  return kExitOk;
}

int run_create_table(Session& session, const std::string& name,
                     const std::vector<std::string>& split_keys) {
  Status status = session.client().create_table(name, {}, {split_keys.begin(), split_keys.end()});
  return status.is_ok() ? kExitOk : session.fail("create-table", status);
}

// `tessera decommission`: waits, a call at a time, until the node has left the ring (the node
// goes on copying past a call's deadline).
int run_decommission(Session& session) {
  RequestOptions options = session.request_options();
  if (options.timeout_ms == 0) options.timeout_ms = 60'000;
  for (;;) {
    Result<uint64_t> copied = session.client().decommission(options);
    if (copied.is_ok()) {
      write_stdout("copied " + std::to_string(*copied) + " keys to their next owners; the node "
                   "has left the ring and may be stopped once `tessera hints` shows none\n");
      return kExitOk;
    }
    if (copied.status().code() != StatusCode::kTimeout) return session.fail("decommission", copied.status());
    write_stdout("still copying...\n");
  }
}

int run_remove_node(Session& session, const std::string& id) {
  Status status = session.client().remove_node(id, session.request_options());
  if (!status.is_ok()) return session.fail("remove-node", status);
  write_stdout("node " + id + " is removed; the nodes that hold its ranges' copies stream them "
               "to its ranges' new owners\n");
  return kExitOk;
}

int run_drop_table(Session& session, const std::string& name) {
  Status status = session.client().drop_table(name);
  return status.is_ok() ? kExitOk : session.fail("drop-table", status);
}

int run_put(Session& session, const std::string& table, const std::string& key,
            const Bytes& value, bool show_version) {
  Result<Bytes> version = session.client().put(table, key, value, session.request_options());
  if (!version.is_ok()) return session.fail("put", version.status());
  if (show_version) write_stdout(to_hex(*version) + "\n");
  return kExitOk;
}

struct GetFlags {
  bool all = false;
  bool show_version = false;
  bool show_context = false;
  bool raw = false;
};

int run_get(Session& session, const std::string& table, const std::string& key,
            const GetFlags& flags) {
  Result<GetReply> reply = session.client().get(table, key, session.request_options());
  if (!reply.is_ok()) return session.fail("get", reply.status());
  // On stderr, so that stdout stays exactly the value.
  if (flags.show_context) print_error("context: " + to_hex(reply->context));
  if (!reply->found || reply->values.empty()) {
    print_error("get: no value for key \"" + escape(key) + "\" in table " + table);
    return kExitNotFound;
  }
  if (!flags.all) {
    const StoredValue& value = reply->values.front();
    if (flags.show_version) write_stdout(to_hex(value.version) + "\t");
    write_stdout(value.data);
    if (flags.show_version) write_stdout("\n");
    if (reply->values.size() > 1) {
      print_error("get: key has " + std::to_string(reply->values.size()) +
                  " concurrent values; printed the first, --all prints every one");
    }
    return kExitOk;
  }
  // Several values share stdout, so each is one line: escaped unless the caller asked for raw.
  for (const StoredValue& value : reply->values) {
    if (flags.show_version) write_stdout(to_hex(value.version) + "\t");
    write_stdout(flags.raw ? std::string_view(value.data) : std::string_view(escape(value.data)));
    write_stdout("\n");
  }
  return kExitOk;
}

int run_delete(Session& session, const std::string& table, const std::string& key) {
  Status status = session.client().remove(table, key, session.request_options());
  return status.is_ok() ? kExitOk : session.fail("delete", status);
}

struct ScanFlags {
  std::string start;
  std::string end;
  uint64_t limit = 0;  // 0: every key
  uint32_t page_size = kScanPageSizeDefault;
  bool raw = false;
};

int run_scan(Session& session, const std::string& table, const ScanFlags& flags) {
  uint64_t printed = 0;
  Bytes token;
  for (uint64_t page = 0; page < kScanPagesMax; ++page) {
    uint64_t want = flags.page_size;
    if (flags.limit != 0) want = std::min<uint64_t>(want, flags.limit - printed);
    Result<ScanPage> result =
        session.client().scan(table, flags.start, flags.end, static_cast<uint32_t>(want), token,
                              session.request_options());
    if (!result.is_ok()) return session.fail("scan", result.status());
    for (const ScanItem& item : result->items) {
      if (flags.limit != 0 && printed == flags.limit) break;
      if (flags.raw) {
        write_stdout(item.key + "\t" + item.value + "\n");
      } else {
        write_stdout(escape(item.key) + "\t" + escape(item.value) + "\n");
      }
      ++printed;
    }
    if (result->next_page_token.empty() || (flags.limit != 0 && printed == flags.limit)) {
      return kExitOk;
    }
    if (result->next_page_token == token) {
      return session.fail("scan", Status::internal("the node returned the same page token twice"));
    }
    token = std::move(result->next_page_token);
  }
  return session.fail("scan", Status::internal("the scan did not end after " +
                                               std::to_string(kScanPagesMax) + " pages"));
}

int run_batch(Session& session, const std::string& table) {
  Result<Bytes> input = read_stdin();
  if (!input.is_ok()) return session.fail("batch", input.status());
  Result<std::vector<BatchOperation>> operations = parse_batch(*input);
  if (!operations.is_ok()) return session.fail("batch", operations.status());
  Status status = session.client().write(table, *operations, session.request_options());
  return status.is_ok() ? kExitOk : session.fail("batch", status);
}

int run(int argc, char** argv) {
  CLI::App app{"tessera: command-line client for a Tessera node", "tessera"};
  app.footer(kExitCodeHelp);
  app.require_subcommand(1);

  GlobalOptions global;
  app.add_option("--addr", global.address, "Node address HOST:PORT")
      ->envname("TESSERA_ADDR")
      ->capture_default_str();
  app.add_option("--timeout-ms", global.timeout_ms,
                 "Per-request deadline and connect timeout in ms (0: defaults)")
      ->capture_default_str();
  app.add_option("--token-file", global.token_file,
                 "File holding the client token to present (a node with [security] "
                 "tokens_file needs one)")
      ->envname("TESSERA_TOKEN_FILE");
  app.add_option("--tls-ca", global.tls_ca,
                 "Speak TLS, trusting the CA in this PEM file (a node with [tls] needs it)")
      ->envname("TESSERA_TLS_CA");
  app.add_option("--consistency", global.consistency_name,
                 "AP: one, quorum or all replicas; CP: linearizable or stale (default: the "
                 "node's)")
      ->check(CLI::IsMember({"default", "one", "quorum", "all", "linearizable", "stale"}));

  std::string table;
  std::string key;
  std::string value;

  CLI::App* status = app.add_subcommand(
      "status", "What the node is: id, profile, plugins and versions, uptime, data size, stats");
  bool status_json = false;
  status->add_flag("--json", status_json, "One JSON object, for scripts");
  CLI::App* members = app.add_subcommand(
      "members",
      "The members the node knows: id, address, zone, state (alive, suspect, dead, left; "
      "',joining' while it copies its ranges)");
  bool members_json = false;
  members->add_flag("--json", members_json, "A JSON array, for scripts");
  CLI::App* ring = app.add_subcommand(
      "ring", "Who owns what: the ring's token ranges and owners (dynamo), or every range with "
              "its group, voters, leader, term and indexes (leader)");
  bool ring_json = false;
  ring->add_flag("--json", ring_json, "A JSON array, for scripts");
  CLI::App* hints = app.add_subcommand(
      "hints", "Dynamo: the hints the node holds per node it stood in for (target<TAB>count)");
  bool hints_json = false;
  hints->add_flag("--json", hints_json, "One JSON object, for scripts");
  CLI::App* decommission = app.add_subcommand(
      "decommission", "Dynamo: copy the node's keys to their next owners, then leave the ring");
  CLI::App* remove_node = app.add_subcommand(
      "remove-node", "Dynamo: take a node that is down for good out of the cluster");
  std::string removed_id;
  remove_node->add_option("id", removed_id, "The id of the node to remove")->required();
  CLI::App* tables = app.add_subcommand("tables", "List tables, one per line");
  CLI::App* create = app.add_subcommand("create-table", "Create a table");
  create->add_option("name", table, "Table name: 1-128 of [A-Za-z0-9_.-]")->required();
  std::vector<std::string> split_keys;
  create->add_option("--split", split_keys,
                     "Leader profile: start the table in ranges beginning at these keys "
                     "(increasing), each its own Raft group");
  CLI::App* drop = app.add_subcommand("drop-table", "Drop a table and all its data");
  drop->add_option("name", table, "Table name")->required();

  bool put_show_version = false;
  CLI::App* put = app.add_subcommand("put", "Store a value (from stdin when VALUE is - or absent)");
  put->add_option("table", table, "Table")->required();
  put->add_option("key", key, "Key")->required();
  CLI::Option* put_value = put->add_option("value", value, "Value; - or absent reads stdin");
  put->add_flag("--show-version", put_show_version, "Print the new version in hex");
  std::string context_hex;
  put->add_option("--context", context_hex,
                  "Hex context from `get --show-context`: the put supersedes what that get saw");

  GetFlags get_flags;
  CLI::App* get = app.add_subcommand("get", "Print a key's value, raw, to stdout");
  get->add_option("table", table, "Table")->required();
  get->add_option("key", key, "Key")->required();
  get->add_flag("--all", get_flags.all, "Print every concurrent value, one escaped line each");
  get->add_flag("--show-version", get_flags.show_version, "Prefix values with version hex + TAB");
  get->add_flag("--raw", get_flags.raw, "With --all: do not escape values");
  get->add_flag("--show-context", get_flags.show_context,
                "Print the causal context in hex on stderr (for put/delete --context)");

  CLI::App* del = app.add_subcommand("delete", "Delete a key (a missing key is not an error)");
  del->add_option("table", table, "Table")->required();
  del->add_option("key", key, "Key")->required();
  del->add_option("--context", context_hex, "Hex context from `get --show-context`");

  ScanFlags scan_flags;
  CLI::App* scan = app.add_subcommand("scan", "Print key<TAB>value lines of [start, end)");
  scan->add_option("table", table, "Table")->required();
  scan->add_option("--start", scan_flags.start, "First key (inclusive); default: the first");
  scan->add_option("--end", scan_flags.end, "End key (exclusive); default: the end of the table");
  scan->add_option("--limit", scan_flags.limit, "At most N keys (0: all)")->capture_default_str();
  scan->add_option("--page-size", scan_flags.page_size, "Keys per request")
      ->check(CLI::Range(1u, 1u << 20))
      ->capture_default_str();
  scan->add_flag("--raw", scan_flags.raw, "Do not escape keys and values");

  CLI::App* batch = app.add_subcommand(
      "batch", "Apply `put KEY VALUE` / `delete KEY` lines from stdin atomically");
  batch->add_option("table", table, "Table")->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // Help prints and exits 0; every real parse error is a usage error.
    return app.exit(e) == 0 ? kExitOk : kExitUsage;
  }

  Bytes put_bytes = value;
  if (*put && (put_value->count() == 0 || value == "-")) {
    Result<Bytes> input = read_stdin();
    if (!input.is_ok()) {
      print_error("put: " + input.status().message());
      return kExitInvalid;
    }
    put_bytes = std::move(input).value();
  }

  Session session(global);
  if (!context_hex.empty()) {
    Result<Bytes> context = from_hex(context_hex);
    if (!context.is_ok()) {
      print_error("--context: " + context.status().message());
      return kExitUsage;
    }
    session.set_context(std::move(context).value());
  }
  if (int connected = session.connect(); connected != kExitOk) return connected;
  if (*status) return run_status(session, status_json);
  if (*members) return run_members(session, members_json);
  if (*ring) return run_ring(session, ring_json);
  if (*hints) return run_hints(session, hints_json);
  if (*decommission) return run_decommission(session);
  if (*remove_node) return run_remove_node(session, removed_id);
  if (*tables) return run_tables(session);
  if (*create) return run_create_table(session, table, split_keys);
  if (*drop) return run_drop_table(session, table);
  if (*put) return run_put(session, table, key, put_bytes, put_show_version);
  if (*get) return run_get(session, table, key, get_flags);
  if (*del) return run_delete(session, table, key);
  if (*scan) return run_scan(session, table, scan_flags);
  if (*batch) return run_batch(session, table);
  print_error("no command given; see --help");
  return kExitUsage;
}

}  // namespace
}  // namespace tessera::cli

int main(int argc, char** argv) {
  try {
    const int code = tessera::cli::run(argc, argv);
    if (std::fflush(stdout) != 0) {
      tessera::cli::print_error("cannot write standard output");
      return code == 0 ? tessera::cli::kExitServerError : code;
    }
    return code;
  } catch (const std::exception& e) {
    tessera::cli::print_error(std::string("unexpected error: ") + e.what());
    return tessera::cli::kExitServerError;
  }
}
