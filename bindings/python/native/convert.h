// Conversions between Python values and AlertHub's C++ model for the
// `alerthub._alerthub` extension module.
//
// Inbound, a notification is a Python dict shaped like the REST request body
// (docs/library.md "The notification"); it is converted to JSON and parsed by
// NotificationFromRequestJson(), so Python callers get exactly the field
// errors the router gives. Outbound, results are plain dicts whose times are
// integer Unix microseconds (None when unset); the pure-Python layer
// (src/alerthub/_types.py) turns them into typed, timezone-aware objects.
//
//   nlohmann::json j = JsonFromPython(value, "data");   // TypeError/ValueError
//   absl::StatusOr<Notification> n = NotificationFromPython(dict);
//   pybind11::dict out = NotificationToPython(*n);
//
// REQUIRES: every function here is called with the GIL held.
#ifndef BINDINGS_PYTHON_NATIVE_CONVERT_H_
#define BINDINGS_PYTHON_NATIVE_CONVERT_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "alerthub/client.h"
#include "alerthub/common/status.h"
#include "alerthub/model/event.h"
#include "alerthub/model/notification.h"
#include "alerthub/pipeline/realtime.h"
#include "nlohmann/json.hpp"
#include "pybind11/pybind11.h"

namespace alerthub::python {

// A Python str from UTF-8 bytes; an invalid sequence becomes U+FFFD rather
// than an exception, so a status message can always be shown.
pybind11::str Str(absl::string_view utf8);

// JSON from a Python value made of None, bool, int, float, str (including
// str-valued enums), dict with str keys, list and tuple. Throws TypeError for
// any other type or a non-str key, ValueError for NaN or infinity and for
// nesting deeper than 64 levels (a guard against cycles; the model's own
// limit on `data` is smaller). `path` names the value in the message
// ("data.when", "notifications[2].tags").
nlohmann::json JsonFromPython(pybind11::handle value, const std::string& path);

// The Python value of `j`: dict, list, str, int, float, bool or None.
pybind11::object PythonFromJson(const nlohmann::json& j);

// A notification request (a dict, as the REST body) parsed and validated by
// NotificationFromRequestJson(): kInvalidArgument with field errors when it
// breaks a rule. Throws TypeError when `value` is not a dict or holds a value
// JSON cannot carry (see JsonFromPython).
absl::StatusOr<Notification> NotificationFromPython(pybind11::handle value,
                                                    const std::string& path);

// Microseconds since the Unix epoch, or None for absl::InfinitePast()
// (AlertHub's "unset").
pybind11::object MicrosOrNone(absl::Time t);

// Plain dicts with the field names of the REST API; see
// src/alerthub/_types.py for the typed classes built from them.
pybind11::dict NotificationToPython(const Notification& n);
pybind11::dict SubmitResultToPython(const SubmitResult& r);
pybind11::dict CloudEventToPython(const CloudEvent& e);
pybind11::dict StatusUpdateToPython(const StatusUpdate& u);
// Durations as float seconds.
pybind11::dict RateLimitToPython(const RateLimitInfo& info);

}  // namespace alerthub::python

#endif  // BINDINGS_PYTHON_NATIVE_CONVERT_H_
