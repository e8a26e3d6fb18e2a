// absl::Status -> alerthub.Error for the `alerthub._alerthub` extension.
//
// Every failure of the C++ Client reaches Python as an instance of the
// alerthub.Error subclass for its code (src/alerthub/_errors.py has the
// table): InvalidArgument carries FieldErrorsOf(status) as `field_errors`,
// RateLimited carries RateLimitInfoOf(status) as `rate_limit` and
// `retry_after`.
//
//   absl::StatusOr<Notification> n = client->Get(id);
//   if (!n.ok()) ThrowStatus(n.status());      // raises alerthub.NotFound, ...
//   Notification value = ValueOrThrow(client->Get(id));
//
// REQUIRES: the GIL is held.
#ifndef BINDINGS_PYTHON_NATIVE_ERRORS_H_
#define BINDINGS_PYTHON_NATIVE_ERRORS_H_

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "pybind11/pybind11.h"

namespace alerthub::python {

// The alerthub.Error instance (not raised) describing `status`.
// REQUIRES: !status.ok().
pybind11::object ErrorFromStatus(const absl::Status& status);

// Raises ErrorFromStatus(status): sets the Python error and throws
// pybind11::error_already_set. REQUIRES: !status.ok().
[[noreturn]] void ThrowStatus(const absl::Status& status);

template <typename T>
T ValueOrThrow(absl::StatusOr<T> result) {
  if (!result.ok()) ThrowStatus(result.status());
  return *std::move(result);
}

inline void OkOrThrow(const absl::Status& status) {
  if (!status.ok()) ThrowStatus(status);
}

}  // namespace alerthub::python

#endif  // BINDINGS_PYTHON_NATIVE_ERRORS_H_
