#include "tessera/status.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace tessera {
namespace {

TEST(Status, DefaultIsOkAndEmpty) {
  Status ok;
  EXPECT_TRUE(ok.is_ok());
  EXPECT_EQ(ok.code(), StatusCode::kOk);
  EXPECT_EQ(ok.message(), "");
  EXPECT_EQ(ok.to_string(), "OK");
  EXPECT_TRUE(Status::ok().is_ok());
}

TEST(Status, FactoriesSetTheirCode) {
  EXPECT_EQ(Status::not_found("x").code(), StatusCode::kNotFound);
  EXPECT_EQ(Status::invalid_argument("x").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Status::too_large("x").code(), StatusCode::kTooLarge);
  EXPECT_EQ(Status::no_such_table("x").code(), StatusCode::kNoSuchTable);
  EXPECT_EQ(Status::table_exists("x").code(), StatusCode::kTableExists);
  EXPECT_EQ(Status::timeout("x").code(), StatusCode::kTimeout);
  EXPECT_EQ(Status::corruption("x").code(), StatusCode::kCorruption);
  EXPECT_EQ(Status::io_error("x").code(), StatusCode::kIOError);
  EXPECT_EQ(Status::not_supported("x").code(), StatusCode::kNotSupported);
  EXPECT_EQ(Status::busy("x").code(), StatusCode::kBusy);
  EXPECT_EQ(Status::unavailable("x").code(), StatusCode::kUnavailable);
  EXPECT_EQ(Status::internal("x").code(), StatusCode::kInternal);
  EXPECT_FALSE(Status::io_error("x").is_ok());
}

TEST(Status, ToStringNamesCodeAndMessage) {
  EXPECT_EQ(Status::io_error("disk full").to_string(), "IOError: disk full");
  EXPECT_EQ(Status(StatusCode::kNotLeader, "try n2").to_string(), "NotLeader: try n2");
}

// The numbering is shared with the client schema's ErrorCode: it must never change.
TEST(Status, CodeNumbersAndNamesAreStable) {
  struct Expected {
    StatusCode code;
    int number;
    const char* name;
  };
  const Expected expected[] = {
      {StatusCode::kOk, 0, "OK"},
      {StatusCode::kNotFound, 1, "NotFound"},
      {StatusCode::kInvalidArgument, 2, "InvalidArgument"},
      {StatusCode::kTooLarge, 3, "TooLarge"},
      {StatusCode::kNoSuchTable, 4, "NoSuchTable"},
      {StatusCode::kTableExists, 5, "TableExists"},
      {StatusCode::kNotLeader, 6, "NotLeader"},
      {StatusCode::kStaleRoute, 7, "StaleRoute"},
      {StatusCode::kQuorumUnavailable, 8, "QuorumUnavailable"},
      {StatusCode::kTimeout, 9, "Timeout"},
      {StatusCode::kCorruption, 10, "Corruption"},
      {StatusCode::kIOError, 11, "IOError"},
      {StatusCode::kNotSupported, 12, "NotSupported"},
      {StatusCode::kBusy, 13, "Busy"},
      {StatusCode::kUnavailable, 14, "Unavailable"},
      {StatusCode::kInternal, 15, "Internal"},
      {StatusCode::kUnauthorized, 16, "Unauthorized"},
      {StatusCode::kForbidden, 17, "Forbidden"},
  };
  for (const Expected& e : expected) {
    EXPECT_EQ(static_cast<int>(e.code), e.number) << e.name;
    EXPECT_EQ(status_code_name(e.code), e.name);
  }
  EXPECT_EQ(status_code_name(static_cast<StatusCode>(200)), "Unknown");
}

TEST(Status, WithContextPrefixesAndKeepsTheCode) {
  Status inner = Status::corruption("bad block");
  Status outer = inner.with_context("table 000012.sst");
  EXPECT_EQ(outer.code(), StatusCode::kCorruption);
  EXPECT_EQ(outer.message(), "table 000012.sst: bad block");
  EXPECT_EQ(inner.message(), "bad block") << "the original is unchanged";
  EXPECT_TRUE(Status::ok().with_context("anything").is_ok());
  EXPECT_EQ(Status::ok().with_context("anything").message(), "");
}

TEST(Status, DetailFactoriesCarryWhatARouterActsOn) {
  Status not_leader = Status::not_leader("range 7 is led elsewhere", "127.0.0.1:7002");
  EXPECT_EQ(not_leader.code(), StatusCode::kNotLeader);
  EXPECT_EQ(not_leader.detail().leader_hint, "127.0.0.1:7002");

  Status stale = Status::stale_route("range 7 moved", 12);
  EXPECT_EQ(stale.code(), StatusCode::kStaleRoute);
  EXPECT_EQ(stale.detail().route_epoch, 12u);

  Status quorum = Status::quorum_unavailable("1 of 3 replicas answered", 1, 2);
  EXPECT_EQ(quorum.code(), StatusCode::kQuorumUnavailable);
  EXPECT_EQ(quorum.detail().answered, 1u);
  EXPECT_EQ(quorum.detail().required, 2u);
}

TEST(Status, DetailSurvivesCopiesAndContext) {
  Status original = Status::not_leader("not the leader", "n2");
  Status copy = original;
  Status wrapped = copy.with_context("put k");
  EXPECT_EQ(copy.detail().leader_hint, "n2");
  EXPECT_EQ(wrapped.detail().leader_hint, "n2");
  EXPECT_EQ(wrapped.message(), "put k: not the leader");
}

TEST(Status, ErrorsWithoutDetailReadAnEmptyOne) {
  EXPECT_EQ(Status::ok().detail().leader_hint, "");
  EXPECT_EQ(Status::io_error("disk").detail().answered, 0u);
  StatusDetail detail;
  detail.route_epoch = 3;
  Status with = Status::unavailable("later").with_detail(detail);
  EXPECT_EQ(with.detail().route_epoch, 3u);
  EXPECT_EQ(with.code(), StatusCode::kUnavailable);
}

TEST(Result, HoldsAValue) {
  Result<int> r = 42;
  ASSERT_TRUE(r.is_ok());
  EXPECT_TRUE(r.status().is_ok());
  EXPECT_EQ(r.value(), 42);
  EXPECT_EQ(*r, 42);
  *r = 7;
  EXPECT_EQ(r.value(), 7);
}

TEST(Result, HoldsAnError) {
  Result<int> r = Status::timeout("deadline passed");
  EXPECT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), StatusCode::kTimeout);
  EXPECT_EQ(r.status().message(), "deadline passed");
}

TEST(Result, MovesOutMoveOnlyValues) {
  Result<std::unique_ptr<std::string>> r = std::make_unique<std::string>("owned");
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(r->get()->size(), 5u);
  std::unique_ptr<std::string> taken = std::move(r).value();
  EXPECT_EQ(*taken, "owned");
}

TEST(Result, OptionalInsideMeansAbsenceIsNotAnError) {
  Result<std::optional<std::string>> missing = std::optional<std::string>();
  ASSERT_TRUE(missing.is_ok());
  EXPECT_FALSE(missing->has_value());
}

TEST(ResultDeathTest, ValueOfAnErrorIsAContractViolation) {
  Result<int> r = Status::internal("boom");
  EXPECT_DEATH((void)r.value(), "value\\(\\) of a failed Result");
}

TEST(ResultDeathTest, ResultFromOkStatusIsAContractViolation) {
  EXPECT_DEATH({ Result<int> r = Status::ok(); }, "needs an error");
}

// Helpers for the macros: each returns early on error and otherwise continues.
Result<int> parse_digit(char c) {
  if (c < '0' || c > '9') return Status::invalid_argument(std::string("not a digit: ") + c);
  return c - '0';
}

Result<int> sum_two_digits(const char* text, int* steps) {
  TESSERA_ASSIGN_OR_RETURN(int first, parse_digit(text[0]));
  ++*steps;
  int second = 0;
  TESSERA_ASSIGN_OR_RETURN(second, parse_digit(text[1]));  // into an existing variable
  ++*steps;
  return first + second;
}

Result<std::unique_ptr<int>> make_boxed(bool fail) {
  if (fail) return Status::unavailable("no box");
  return std::make_unique<int>(5);
}

Result<int> unbox(bool fail) {
  TESSERA_ASSIGN_OR_RETURN(auto box, make_boxed(fail));  // moves a move-only value
  return *box;
}

Status check_both(bool first_ok, bool second_ok, int* reached) {
  TESSERA_RETURN_IF_ERROR(first_ok ? Status::ok() : Status::busy("first"));
  ++*reached;
  TESSERA_RETURN_IF_ERROR(second_ok ? Status::ok() : Status::busy("second"));
  ++*reached;
  return Status::ok();
}

TEST(StatusMacros, AssignOrReturn) {
  int steps = 0;
  Result<int> sum = sum_two_digits("34", &steps);
  ASSERT_TRUE(sum.is_ok());
  EXPECT_EQ(*sum, 7);
  EXPECT_EQ(steps, 2);

  steps = 0;
  Result<int> bad_first = sum_two_digits("x4", &steps);
  EXPECT_EQ(bad_first.status().message(), "not a digit: x");
  EXPECT_EQ(steps, 0) << "returned at the first error";

  steps = 0;
  Result<int> bad_second = sum_two_digits("3y", &steps);
  EXPECT_EQ(bad_second.status().message(), "not a digit: y");
  EXPECT_EQ(steps, 1);

  EXPECT_EQ(*unbox(false), 5);
  EXPECT_EQ(unbox(true).status().code(), StatusCode::kUnavailable);
}

TEST(StatusMacros, ReturnIfError) {
  int reached = 0;
  EXPECT_TRUE(check_both(true, true, &reached).is_ok());
  EXPECT_EQ(reached, 2);
  reached = 0;
  EXPECT_EQ(check_both(false, true, &reached).message(), "first");
  EXPECT_EQ(reached, 0);
  reached = 0;
  EXPECT_EQ(check_both(true, false, &reached).message(), "second");
  EXPECT_EQ(reached, 1);
}

}  // namespace
}  // namespace tessera
