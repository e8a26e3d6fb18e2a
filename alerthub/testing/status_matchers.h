// GoogleTest matchers for absl::Status and absl::StatusOr (the Abseil release
// AlertHub builds against predates absl/status/status_matchers.h).
//
//   EXPECT_THAT(store->GetTenant("x"), StatusIs(absl::StatusCode::kNotFound));
//   EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("type")));
//   ASSERT_OK(status);  ASSERT_OK_AND_ASSIGN(Tenant t, store->GetTenant(id));
#ifndef ALERTHUB_TESTING_STATUS_MATCHERS_H_
#define ALERTHUB_TESTING_STATUS_MATCHERS_H_

#include <ostream>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace alerthub::testing {

inline const absl::Status& GetStatus(const absl::Status& s) { return s; }
template <typename T>
const absl::Status& GetStatus(const absl::StatusOr<T>& s) {
  return s.status();
}

MATCHER_P(StatusIs, code,
          std::string("has status code ") +
              absl::StatusCodeToString(static_cast<absl::StatusCode>(code))) {
  const absl::Status& s = ::alerthub::testing::GetStatus(arg);
  *result_listener << "whose status is " << s;
  return s.code() == code;
}

MATCHER_P2(StatusIs, code, message_matcher,
           std::string("has status code ") +
               absl::StatusCodeToString(static_cast<absl::StatusCode>(code))) {
  const absl::Status& s = ::alerthub::testing::GetStatus(arg);
  *result_listener << "whose status is " << s;
  return s.code() == code &&
         ::testing::Matches(message_matcher)(std::string(s.message()));
}

MATCHER(IsOk, "is OK") {
  const absl::Status& s = ::alerthub::testing::GetStatus(arg);
  *result_listener << "whose status is " << s;
  return s.ok();
}

}  // namespace alerthub::testing

#define ALERTHUB_TESTING_CONCAT_INNER_(a, b) a##b
#define ALERTHUB_TESTING_CONCAT_(a, b) ALERTHUB_TESTING_CONCAT_INNER_(a, b)

#define ASSERT_OK(expr) ASSERT_THAT((expr), ::alerthub::testing::IsOk())
#define EXPECT_OK(expr) EXPECT_THAT((expr), ::alerthub::testing::IsOk())

// ASSERT_OK_AND_ASSIGN(T x, StatusOrExpr): fails the test when not OK.
#define ASSERT_OK_AND_ASSIGN(lhs, rexpr)                                     \
  auto ALERTHUB_TESTING_CONCAT_(statusor_, __LINE__) = (rexpr);              \
  ASSERT_TRUE(ALERTHUB_TESTING_CONCAT_(statusor_, __LINE__).ok())            \
      << ALERTHUB_TESTING_CONCAT_(statusor_, __LINE__).status();             \
  lhs = std::move(ALERTHUB_TESTING_CONCAT_(statusor_, __LINE__)).value()

#endif  // ALERTHUB_TESTING_STATUS_MATCHERS_H_
