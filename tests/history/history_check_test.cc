#include "history_check.h"

#include <gtest/gtest.h>

#include <sstream>

namespace tessera::history {
namespace {

Result<CheckReport> check(const std::string& lines) {
  std::istringstream in(lines);
  return check_history(in);
}

TEST(HistoryCheck, SequentialReadsOfTheLastWriteAreLinearizable) {
  Result<CheckReport> report = check(
      R"({"client":0,"op":"get","key":"a","result":null,"ok":true,"call":1,"return":2})" "\n"
      R"({"client":0,"op":"put","key":"a","value":"x","ok":true,"call":3,"return":4})" "\n"
      R"({"client":1,"op":"get","key":"a","result":"x","ok":true,"call":5,"return":6})" "\n"
      R"({"client":1,"op":"put","key":"b","value":"y","ok":true,"call":5,"return":9})" "\n");
  ASSERT_TRUE(report.is_ok()) << report.status().to_string();
  EXPECT_EQ(report.value().operations, 4u);
  EXPECT_EQ(report.value().keys, 2u);
  EXPECT_EQ(report.value().violations, 0u);
}

TEST(HistoryCheck, AStaleReadAfterAnAcknowledgedWriteIsAViolation) {
  Result<CheckReport> report = check(
      R"({"client":0,"op":"put","key":"a","value":"x","ok":true,"call":1,"return":2})" "\n"
      R"({"client":0,"op":"put","key":"a","value":"z","ok":true,"call":3,"return":4})" "\n"
      R"({"client":1,"op":"get","key":"a","result":"x","ok":true,"call":5,"return":6})" "\n");
  ASSERT_TRUE(report.is_ok());
  EXPECT_EQ(report.value().violations, 1u);
  EXPECT_NE(report.value().first_violation.find("key a"), std::string::npos);
}

TEST(HistoryCheck, AnUnknownPutMayTakeEffectLateOrNever) {
  const std::string unknown =
      R"({"client":0,"op":"put","key":"a","value":"x","ok":null,"call":1})" "\n";
  // Seen long after the client gave up on it...
  Result<CheckReport> late = check(
      unknown +
      R"({"client":1,"op":"get","key":"a","result":null,"ok":true,"call":5,"return":6})" "\n"
      R"({"client":1,"op":"get","key":"a","result":"x","ok":true,"call":7,"return":8})" "\n");
  ASSERT_TRUE(late.is_ok());
  EXPECT_EQ(late.value().violations, 0u);
  // ...or never; but it cannot disappear once read.
  Result<CheckReport> flicker = check(
      unknown +
      R"({"client":1,"op":"get","key":"a","result":"x","ok":true,"call":5,"return":6})" "\n"
      R"({"client":1,"op":"get","key":"a","result":null,"ok":true,"call":7,"return":8})" "\n");
  ASSERT_TRUE(flicker.is_ok());
  EXPECT_EQ(flicker.value().violations, 1u);
}

TEST(HistoryCheck, AFailedPutHasNoEffect) {
  Result<CheckReport> report = check(
      R"({"client":0,"op":"put","key":"a","value":"x","ok":false,"call":1,"return":2})" "\n"
      R"({"client":1,"op":"get","key":"a","result":"x","ok":true,"call":5,"return":6})" "\n");
  ASSERT_TRUE(report.is_ok());
  EXPECT_EQ(report.value().violations, 1u) << "a value no successful or unknown put wrote";
}

TEST(HistoryCheck, ConcurrentOperationsMayTakeEitherOrder) {
  Result<CheckReport> report = check(
      R"({"client":0,"op":"put","key":"a","value":"x","ok":true,"call":1,"return":10})" "\n"
      R"({"client":1,"op":"get","key":"a","result":null,"ok":true,"call":2,"return":3})" "\n"
      R"({"client":2,"op":"get","key":"a","result":"x","ok":true,"call":4,"return":5})" "\n"
      R"({"client":3,"op":"get","key":"a","result":"x","ok":true,"call":10,"return":11})" "\n");
  ASSERT_TRUE(report.is_ok());
  EXPECT_EQ(report.value().violations, 0u) << "a return and a call at 10 overlap";
}

TEST(HistoryCheck, MalformedLinesAreNamed) {
  Result<CheckReport> report = check(
      R"({"client":0,"op":"put","key":"a","value":"x","ok":true,"call":1,"return":2})" "\n"
      R"({"client":0,"op":"put","key":"a","ok":true,"call":3,"return":4})" "\n");
  EXPECT_EQ(report.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(report.status().message().find("line 2"), std::string::npos)
      << report.status().message();
  EXPECT_EQ(check("not json\n").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(check(R"({"op":"put","key":"a","value":"x","ok":true,"call":1})" "\n")
                .status()
                .code(),
            StatusCode::kInvalidArgument)
      << "an answered operation needs its return";
}

}  // namespace
}  // namespace tessera::history
