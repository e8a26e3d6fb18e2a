// Test-only helpers for the model tests (listed in model_test's srcs).
#ifndef ALERTHUB_MODEL_INTERNAL_TEST_UTIL_H_
#define ALERTHUB_MODEL_INTERNAL_TEST_UTIL_H_

#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "alerthub/common/status.h"
#include "alerthub/testing/status_matchers.h"
#include "gmock/gmock.h"

namespace alerthub {

// So failures print {"field", "message"} instead of bytes.
inline void PrintTo(const FieldError& e, std::ostream* os) {
  *os << "{\"" << e.field << "\", \"" << e.message << "\"}";
}

namespace model_test {

MATCHER_P(HasFieldErrorsMatcher, expected,
          "is kInvalidArgument with field errors " +
              ::testing::PrintToString(expected)) {
  const absl::Status& s = ::alerthub::testing::GetStatus(arg);
  std::vector<FieldError> actual = FieldErrorsOf(s);
  *result_listener << "whose status is " << s << " with field errors "
                   << ::testing::PrintToString(actual);
  return s.code() == absl::StatusCode::kInvalidArgument && actual == expected;
}

// Matches an absl::Status or absl::StatusOr<T> that is kInvalidArgument
// carrying exactly `expected` (in order).
inline auto HasFieldErrors(std::vector<FieldError> expected) {
  return HasFieldErrorsMatcher(std::move(expected));
}

// Matches an OK absl::StatusOr<T> whose value matches `matcher`.
MATCHER_P(IsOkAndHolds, matcher, "is OK and holds a matching value") {
  if (!arg.ok()) {
    *result_listener << "whose status is " << arg.status();
    return false;
  }
  return ::testing::ExplainMatchResult(matcher, *arg, result_listener);
}

}  // namespace model_test
}  // namespace alerthub

#endif  // ALERTHUB_MODEL_INTERNAL_TEST_UTIL_H_
