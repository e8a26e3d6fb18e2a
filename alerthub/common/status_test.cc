#include "alerthub/common/status.h"

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace alerthub {

void PrintTo(const FieldError& e, std::ostream* os) {
  *os << "{\"" << e.field << "\", \"" << e.message << "\"}";
}

namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

TEST(InvalidArgumentWithFieldsTest, MessageListsEveryField) {
  absl::Status s = InvalidArgumentWithFields(
      "invalid notification",
      {{"type", "is required"}, {"title", "must not be empty"}});
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(),
            "invalid notification: type: is required; title: must not be "
            "empty");
}

TEST(InvalidArgumentWithFieldsTest, FieldErrorsRoundTripInOrder) {
  std::vector<FieldError> errors = {{"type", "is required"},
                                    {"tags.env", "must be a string"},
                                    {"recipients[3]", "must not be empty"},
                                    {"", "must be a JSON object"}};
  absl::Status s = InvalidArgumentWithFields("invalid notification", errors);
  EXPECT_EQ(FieldErrorsOf(s), errors);
}

TEST(InvalidArgumentWithFieldsTest, KeepsQuotesAndUnicode) {
  std::vector<FieldError> errors = {
      {"tags.na\xc3\xafve \"key\"", "must be \"1.0\"; not \\ or \n"}};
  EXPECT_EQ(FieldErrorsOf(InvalidArgumentWithFields("bad", errors)), errors);
}

TEST(InvalidArgumentWithFieldsTest, NoErrorsKeepsTheMessage) {
  absl::Status s = InvalidArgumentWithFields("invalid thing", {});
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "invalid thing");
  EXPECT_THAT(FieldErrorsOf(s), IsEmpty());
}

TEST(FieldErrorsOfTest, EmptyForOtherStatuses) {
  EXPECT_THAT(FieldErrorsOf(absl::OkStatus()), IsEmpty());
  EXPECT_THAT(FieldErrorsOf(absl::InvalidArgumentError("type: is required")),
              IsEmpty());
  EXPECT_THAT(FieldErrorsOf(absl::NotFoundError("x")), IsEmpty());
}

TEST(PrefixFieldErrorsTest, PrefixesEveryFieldAndKeepsTheSentence) {
  absl::Status s = InvalidArgumentWithFields(
      "invalid notification",
      {{"type", "is required"}, {"tags.env", "must be a string"}});
  absl::Status prefixed = PrefixFieldErrors(s, "items[2].");
  EXPECT_EQ(prefixed.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(FieldErrorsOf(prefixed),
              ElementsAre(FieldError{"items[2].type", "is required"},
                          FieldError{"items[2].tags.env", "must be a string"}));
  EXPECT_EQ(prefixed.message(),
            "invalid notification: items[2].type: is required; "
            "items[2].tags.env: must be a string");
}

TEST(PrefixFieldErrorsTest, StatusWithoutFieldErrorsIsUnchanged) {
  absl::Status not_found = absl::NotFoundError("no such notification");
  EXPECT_EQ(PrefixFieldErrors(not_found, "items[0]."), not_found);
  EXPECT_EQ(PrefixFieldErrors(absl::OkStatus(), "items[0]."), absl::OkStatus());
}

TEST(RateLimitedErrorTest, CarriesTheInfo) {
  RateLimitInfo info;
  info.limit = 100;
  info.remaining = 0;
  info.reset_after = absl::Milliseconds(2500);
  info.retry_after = absl::Milliseconds(40);
  absl::Status s = RateLimitedError("rate limit exceeded", info);
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(s.message(), "rate limit exceeded");
  std::optional<RateLimitInfo> back = RateLimitInfoOf(s);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->limit, 100);
  EXPECT_EQ(back->remaining, 0);
  EXPECT_EQ(back->reset_after, absl::Milliseconds(2500));
  EXPECT_EQ(back->retry_after, absl::Milliseconds(40));
}

TEST(RateLimitedErrorTest, MillisecondPrecision) {
  RateLimitInfo info;
  info.retry_after = absl::Microseconds(1999);
  std::optional<RateLimitInfo> back =
      RateLimitInfoOf(RateLimitedError("slow down", info));
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->retry_after, absl::Milliseconds(1));
}

TEST(RateLimitInfoOfTest, NulloptForOtherStatuses) {
  EXPECT_FALSE(RateLimitInfoOf(absl::OkStatus()).has_value());
  EXPECT_FALSE(
      RateLimitInfoOf(absl::ResourceExhaustedError("quota")).has_value());
  EXPECT_FALSE(RateLimitInfoOf(InvalidArgumentWithFields("x", {{"a", "b"}}))
                   .has_value());
}

absl::Status Step(bool fail, int* reached) {
  ALERTHUB_RETURN_IF_ERROR(fail ? absl::UnavailableError("down")
                                : absl::OkStatus());
  ++*reached;
  return absl::OkStatus();
}

TEST(MacrosTest, ReturnIfError) {
  int reached = 0;
  EXPECT_EQ(Step(true, &reached), absl::UnavailableError("down"));
  EXPECT_EQ(reached, 0);
  EXPECT_EQ(Step(false, &reached), absl::OkStatus());
  EXPECT_EQ(reached, 1);
}

absl::StatusOr<std::unique_ptr<int>> MakeInt(bool fail, int v) {
  if (fail) return absl::NotFoundError("none");
  return std::make_unique<int>(v);
}

absl::StatusOr<int> Sum(bool fail_second) {
  ALERTHUB_ASSIGN_OR_RETURN(std::unique_ptr<int> a, MakeInt(false, 1));
  std::unique_ptr<int> b;
  ALERTHUB_ASSIGN_OR_RETURN(b, MakeInt(fail_second, 2));  // assignment form
  return *a + *b;
}

TEST(MacrosTest, AssignOrReturnMovesTheValue) {
  absl::StatusOr<int> ok = Sum(false);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, 3);
  EXPECT_EQ(Sum(true).status(), absl::NotFoundError("none"));
}

}  // namespace
}  // namespace alerthub
