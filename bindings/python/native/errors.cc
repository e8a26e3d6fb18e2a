#include "bindings/python/native/errors.h"

#include <optional>

#include "alerthub/common/status.h"
#include "bindings/python/native/convert.h"

namespace alerthub::python {
namespace py = pybind11;

py::object ErrorFromStatus(const absl::Status& status) {
  py::list field_errors;
  for (const FieldError& e : FieldErrorsOf(status)) {
    field_errors.append(py::make_tuple(Str(e.field), Str(e.message)));
  }
  py::object rate_limit = py::none();
  if (std::optional<RateLimitInfo> info = RateLimitInfoOf(status)) {
    rate_limit = RateLimitToPython(*info);
  }
  // Imported on use: the package imports this module, and sys.modules makes
  // the lookup cheap.
  py::object from_status = py::module_::import("alerthub._errors").attr("_from_status");
  return from_status(static_cast<int>(status.code()), Str(status.message()), field_errors,
                     rate_limit);
}

void ThrowStatus(const absl::Status& status) {
  py::object error = ErrorFromStatus(status);
  PyErr_SetObject(reinterpret_cast<PyObject*>(Py_TYPE(error.ptr())), error.ptr());
  throw py::error_already_set();
}

}  // namespace alerthub::python
