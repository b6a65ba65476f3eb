// The tessera CLI end to end: the real binary against a real node, exit codes included.
#include <chrono>

#include "e2e_env.h"

namespace tessera::e2e {
namespace {

using std::chrono_literals::operator""ms;

constexpr std::chrono::milliseconds kCliTimeout{20'000};

// Exit codes documented in hosts/cli/README.md.
constexpr int kOk = 0;
constexpr int kNotFound = 1;
constexpr int kUsage = 2;
constexpr int kUnreachable = 3;
constexpr int kNoSuchTable = 4;
constexpr int kInvalid = 5;
constexpr int kServerError = 6;

class CliTest : public SingleNodeTest {
 protected:
  // Runs `tessera --addr <node> args...` with `input` on stdin.
  test::CommandResult cli(std::vector<std::string> args, const std::string& input = "") {
    std::vector<std::string> argv = {kCliBinary.string(), "--addr", address()};
    argv.insert(argv.end(), args.begin(), args.end());
    return run(argv, input);
  }

  static test::CommandResult run(const std::vector<std::string>& argv, const std::string& input,
                                 const std::vector<std::pair<std::string, std::string>>& env = {}) {
    Result<test::CommandResult> result = test::run_command(argv, input, kCliTimeout, env);
    EXPECT_TRUE(result.is_ok()) << result.status().to_string();
    if (!result.is_ok()) return {};
    return std::move(result).value();
  }
};

// Prints what a failed expectation needs to be understood.
std::string describe(const test::CommandResult& r) {
  return r.status.to_string() + "\nstdout: " + r.out + "\nstderr: " + r.err;
}

#define EXPECT_EXIT_CODE(result, expected)                                  \
  do {                                                                      \
    const test::CommandResult& r_ = (result);                               \
    EXPECT_TRUE(r_.status.exited) << describe(r_);                          \
    EXPECT_EQ(r_.status.code, (expected)) << describe(r_);                  \
  } while (false)

TEST_F(CliTest, TablesLifecycle) {
  EXPECT_EXIT_CODE(cli({"create-table", "users"}), kOk);
  EXPECT_EXIT_CODE(cli({"create-table", "orders"}), kOk);
  test::CommandResult tables = cli({"tables"});
  EXPECT_EXIT_CODE(tables, kOk);
  EXPECT_TRUE(tables.out == "orders\nusers\n" || tables.out == "users\norders\n") << tables.out;

  test::CommandResult exists = cli({"create-table", "users"});
  EXPECT_EXIT_CODE(exists, kServerError);
  EXPECT_NE(exists.err.find("TableExists"), std::string::npos) << exists.err;
  EXPECT_EXIT_CODE(cli({"create-table", "no spaces"}), kInvalid);
  EXPECT_EXIT_CODE(cli({"drop-table", "orders"}), kOk);
  EXPECT_EXIT_CODE(cli({"drop-table", "orders"}), kNoSuchTable);
  EXPECT_EQ(cli({"tables"}).out, "users\n");
}

TEST_F(CliTest, StatusSaysWhatTheNodeIs) {
  test::CommandResult status = cli({"status"});
  EXPECT_EXIT_CODE(status, kOk);
  for (const char* expected : {"profile                           single", "plugin engine",
                               "memory", "plugin conflict", "lww", "listen", "uptime", "data"}) {
    EXPECT_NE(status.out.find(expected), std::string::npos) << expected << " in\n" << status.out;
  }
  EXPECT_EQ(status.out.find("plugin placement"), std::string::npos) << status.out;
  test::CommandResult json = cli({"status", "--json"});
  EXPECT_EXIT_CODE(json, kOk);
  EXPECT_NE(json.out.find("\"profile\": \"single\""), std::string::npos) << json.out;
  EXPECT_NE(json.out.find("\"slot\": \"engine\""), std::string::npos) << json.out;
}

TEST_F(CliTest, MembersOfASingleNodeAndNoRingOrHints) {
  test::CommandResult members = cli({"members"});
  EXPECT_EXIT_CODE(members, kOk);
  EXPECT_NE(members.out.find(address() + "\t-\talive"), std::string::npos) << members.out;
  for (const char* command : {"ring", "hints"}) {
    test::CommandResult refused = cli({command});
    EXPECT_NE(refused.status.code, kOk) << describe(refused);
    EXPECT_NE(refused.err.find("NotSupported"), std::string::npos) << command << ": " << refused.err;
  }
}

TEST_F(CliTest, PutGetDelete) {
  ASSERT_TRUE(client().create_table("t").is_ok());
  EXPECT_EXIT_CODE(cli({"put", "t", "k", "hello world"}), kOk);
  test::CommandResult got = cli({"get", "t", "k"});
  EXPECT_EXIT_CODE(got, kOk);
  EXPECT_EQ(got.out, "hello world");  // raw: no newline added

  // From stdin, with bytes a shell argument cannot hold.
  const std::string binary("line1\nline2\0\xff", 13);
  EXPECT_EXIT_CODE(cli({"put", "t", "bin"}, binary), kOk);
  EXPECT_EQ(cli({"get", "t", "bin"}).out, binary);
  EXPECT_EXIT_CODE(cli({"put", "t", "dash", "-"}, "via dash"), kOk);
  EXPECT_EQ(cli({"get", "t", "dash"}).out, "via dash");
  Result<GetReply> direct = client().get("t", "bin");
  ASSERT_TRUE(direct.is_ok());
  EXPECT_EQ(direct->values.at(0).data, binary);

  test::CommandResult versioned = cli({"get", "t", "k", "--show-version"});
  EXPECT_EXIT_CODE(versioned, kOk);
  const size_t tab = versioned.out.find('\t');
  ASSERT_NE(tab, std::string::npos) << versioned.out;
  EXPECT_GT(tab, 0u);
  EXPECT_EQ(versioned.out.substr(0, tab).find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_EQ(versioned.out.substr(tab), "\thello world\n");

  EXPECT_EXIT_CODE(cli({"delete", "t", "k"}), kOk);
  test::CommandResult missing = cli({"get", "t", "k"});
  EXPECT_EXIT_CODE(missing, kNotFound);
  EXPECT_EQ(missing.out, "");
  EXPECT_EXIT_CODE(cli({"delete", "t", "k"}), kOk);  // deleting a missing key is fine
}

TEST_F(CliTest, ScanEscapesAndFollowsPages) {
  ASSERT_TRUE(client().create_table("t").is_ok());
  std::vector<BatchOperation> ops;
  for (int i = 0; i < 250; ++i) {
    char key[16];
    std::snprintf(key, sizeof(key), "k%03d", i);
    ops.push_back({key, "v" + std::to_string(i)});
  }
  ops.push_back({"odd\tkey", std::string("new\nline\0", 9)});
  ASSERT_TRUE(client().write("t", ops).is_ok());

  // A page size far below the key count: the CLI must follow tokens.
  test::CommandResult all = cli({"scan", "t", "--page-size", "7"});
  EXPECT_EXIT_CODE(all, kOk);
  std::string expected;
  for (int i = 0; i < 250; ++i) {
    char line[32];
    std::snprintf(line, sizeof(line), "k%03d\tv%d\n", i, i);
    expected += line;
  }
  expected += "odd\\tkey\tnew\\nline\\x00\n";
  EXPECT_EQ(all.out, expected);

  test::CommandResult limited = cli({"scan", "t", "--start", "k100", "--limit", "3"});
  EXPECT_EXIT_CODE(limited, kOk);
  EXPECT_EQ(limited.out, "k100\tv100\nk101\tv101\nk102\tv102\n");
  test::CommandResult range = cli({"scan", "t", "--start", "k248", "--end", "k250"});
  EXPECT_EQ(range.out, "k248\tv248\nk249\tv249\n");
  test::CommandResult raw = cli({"scan", "t", "--start", "odd", "--raw"});
  EXPECT_EQ(raw.out, std::string("odd\tkey\tnew\nline\0\n", 18));
}

TEST_F(CliTest, BatchFromStdin) {
  ASSERT_TRUE(client().create_table("t").is_ok());
  ASSERT_TRUE(client().put("t", "old", "x").is_ok());
  EXPECT_EXIT_CODE(cli({"batch", "t"}, "# setup\nput a 1\nput b two words\ndelete old\n"), kOk);
  EXPECT_EQ(cli({"scan", "t"}).out, "a\t1\nb\ttwo words\n");

  // A malformed line rejects the whole batch before anything is sent.
  test::CommandResult bad = cli({"batch", "t"}, "put c 3\nupsert d 4\n");
  EXPECT_EXIT_CODE(bad, kInvalid);
  EXPECT_NE(bad.err.find("line 2"), std::string::npos) << bad.err;
  EXPECT_EXIT_CODE(cli({"get", "t", "c"}), kNotFound);

  // Over the node's value limit: typed TooLarge, nothing applied.
  EXPECT_EXIT_CODE(cli({"batch", "t"}, "put c 3\nput d " + std::string(1024 * 1024 + 1, 'x')),
                   kInvalid);
  EXPECT_EXIT_CODE(cli({"get", "t", "c"}), kNotFound);
}

TEST_F(CliTest, ErrorExitCodes) {
  ASSERT_TRUE(client().create_table("t").is_ok());
  test::CommandResult no_table = cli({"get", "nope", "k"});
  EXPECT_EXIT_CODE(no_table, kNoSuchTable);
  EXPECT_NE(no_table.err.find("nope"), std::string::npos) << no_table.err;
  EXPECT_EXIT_CODE(cli({"put", "nope", "k", "v"}), kNoSuchTable);
  EXPECT_EXIT_CODE(cli({"scan", "nope"}), kNoSuchTable);

  test::CommandResult big_key = cli({"put", "t", std::string(10 * 1024 + 1, 'k'), "v"});
  EXPECT_EXIT_CODE(big_key, kInvalid);
  EXPECT_NE(big_key.err.find("TooLarge"), std::string::npos) << big_key.err;
  EXPECT_EXIT_CODE(cli({"put", "t", "k"}, std::string(1024 * 1024 + 1, 'v')), kInvalid);

  EXPECT_EXIT_CODE(cli({}), kUsage);
  EXPECT_EXIT_CODE(cli({"frobnicate"}), kUsage);
  EXPECT_EXIT_CODE(cli({"get", "t"}), kUsage);
  EXPECT_EXIT_CODE(cli({"scan", "t", "--limit", "many"}), kUsage);
  EXPECT_EXIT_CODE(cli({"--consistency", "most", "tables"}), kUsage);
  // A single node takes any consistency and ignores it.
  EXPECT_EXIT_CODE(cli({"--consistency", "all", "put", "t", "k", "v"}), kOk);
  test::CommandResult help = cli({"--help"});
  EXPECT_EXIT_CODE(help, kOk);
  EXPECT_NE(help.out.find("Exit codes"), std::string::npos) << help.out;
}

TEST_F(CliTest, UnreachableNodeIsExitCodeThreeNamingTheAddress) {
  Result<uint16_t> port = test::reserve_loopback_port();
  ASSERT_TRUE(port.is_ok());
  const std::string nowhere = "127.0.0.1:" + std::to_string(*port);
  test::CommandResult r = run({kCliBinary.string(), "--addr", nowhere, "tables"}, "");
  EXPECT_EXIT_CODE(r, kUnreachable);
  EXPECT_NE(r.err.find("cannot reach node at " + nowhere), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;

  // A node that goes away: the same exit code.
  cluster_->kill_node(0);
  EXPECT_EXIT_CODE(cli({"tables"}), kUnreachable);
}

TEST_F(CliTest, AddressFromEnvironment) {
  ASSERT_TRUE(client().create_table("from_env").is_ok());
  test::CommandResult r = run({kCliBinary.string(), "tables"}, "", {{"TESSERA_ADDR", address()}});
  EXPECT_EXIT_CODE(r, kOk);
  EXPECT_EQ(r.out, "from_env\n");
}

// With vector clocks, blind writes are concurrent: get --all shows every sibling.
class CliSiblingsTest : public CliTest {
  std::string config_template() const override {
    return "[engine]\nplugin = \"memory\"\n\n[conflict]\nplugin = \"vclock\"\n";
  }
};

TEST_F(CliSiblingsTest, GetAllPrintsEverySibling) {
  ASSERT_TRUE(client().create_table("t").is_ok());
  EXPECT_EXIT_CODE(cli({"put", "t", "k", "first"}), kOk);
  EXPECT_EXIT_CODE(cli({"put", "t", "k", "second\tvalue"}), kOk);

  test::CommandResult all = cli({"get", "t", "k", "--all"});
  EXPECT_EXIT_CODE(all, kOk);
  EXPECT_TRUE(all.out == "first\nsecond\\tvalue\n" || all.out == "second\\tvalue\nfirst\n")
      << all.out;
  test::CommandResult raw = cli({"get", "t", "k", "--all", "--raw"});
  EXPECT_NE(raw.out.find("second\tvalue\n"), std::string::npos) << raw.out;

  // Without --all: one value, and a note on stderr that there are more.
  test::CommandResult one = cli({"get", "t", "k"});
  EXPECT_EXIT_CODE(one, kOk);
  EXPECT_TRUE(one.out == "first" || one.out == "second\tvalue") << one.out;
  EXPECT_NE(one.err.find("2 concurrent values"), std::string::npos) << one.err;
}

TEST_F(CliSiblingsTest, AContextFromGetResolvesTheSiblings) {
  ASSERT_TRUE(client().create_table("t").is_ok());
  EXPECT_EXIT_CODE(cli({"put", "t", "k", "left"}), kOk);
  EXPECT_EXIT_CODE(cli({"put", "t", "k", "right"}), kOk);
  test::CommandResult read = cli({"get", "t", "k", "--all", "--show-context"});
  EXPECT_EXIT_CODE(read, kOk);
  size_t at = read.err.find("context: ");
  ASSERT_NE(at, std::string::npos) << read.err;
  std::string context = read.err.substr(at + 9);
  context = context.substr(0, context.find('\n'));
  EXPECT_EXIT_CODE(cli({"put", "t", "k", "merged", "--context", context}), kOk);
  test::CommandResult after = cli({"get", "t", "k", "--all"});
  EXPECT_EQ(after.out, "merged\n");
  EXPECT_EXIT_CODE(cli({"put", "t", "k", "x", "--context", "zz"}), kUsage);
}


}  // namespace
}  // namespace tessera::e2e
