// The `alerthub._alerthub` extension module: the C++ alerthub::Client for
// Python. Applications import the `alerthub` package, whose Client wraps
// NativeClient with keyword arguments, typed results and iterators; this
// module stays small and private (see src/alerthub/_alerthub.pyi).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "alerthub/client.h"
#include "alerthub/common/status.h"
#include "alerthub/model/notification.h"
#include "bindings/python/native/client.h"
#include "bindings/python/native/convert.h"
#include "bindings/python/native/errors.h"
#include "bindings/python/native/watch.h"
#include "pybind11/pybind11.h"
#include "pybind11/stl.h"

namespace alerthub::python {
namespace {
namespace py = pybind11;

std::unique_ptr<NativeClient> OpenClient(
    const std::string& endpoint, const std::string& api_key, double timeout_s,
    const std::optional<std::string>& store, const std::optional<std::string>& bus,
    const std::optional<std::string>& queue, const std::optional<std::string>& kv,
    const std::optional<std::string>& tenant, std::optional<bool> rate_limit_enabled,
    std::optional<double> rate_limit_per_second, std::optional<double> rate_limit_burst,
    std::optional<double> dedup_window_s) {
  ClientOptions options;
  options.endpoint = endpoint;
  options.api_key = api_key;
  options.timeout = absl::Seconds(timeout_s);
  if (store.has_value()) options.store = *store;
  if (bus.has_value()) options.bus = *bus;
  if (queue.has_value()) options.queue = *queue;
  if (kv.has_value()) options.kv = *kv;
  if (tenant.has_value()) options.tenant = *tenant;
  RateLimitOptions& limits = options.pipeline.rate_limit;
  if (rate_limit_enabled.has_value()) limits.enabled = *rate_limit_enabled;
  // One bucket shape for the tenant and each endpoint, as the daemons'
  // --rate_limit_per_second and --rate_limit_burst set it.
  if (rate_limit_per_second.has_value()) {
    limits.tenant.rate_per_second = *rate_limit_per_second;
    limits.endpoint.rate_per_second = *rate_limit_per_second;
  }
  if (rate_limit_burst.has_value()) {
    limits.tenant.burst = *rate_limit_burst;
    limits.endpoint.burst = *rate_limit_burst;
  }
  if (dedup_window_s.has_value()) {
    options.pipeline.default_dedup_window = absl::Seconds(*dedup_window_s);
  }
  return NativeClient::Open(options);
}

// Builds the status the arguments describe, with the payloads the library
// attaches, and returns the alerthub.Error the bindings raise for it. Lets
// the tests check the mapping for every code, including codes no live call
// can provoke.
py::object ErrorFromStatusForTest(int code, const std::string& message,
                                  const std::vector<std::pair<std::string, std::string>>& fields,
                                  std::optional<std::pair<double, double>> retry_and_reset) {
  absl::Status status(static_cast<absl::StatusCode>(code), message);
  if (!fields.empty()) {
    std::vector<FieldError> errors;
    for (const auto& [field, text] : fields) errors.push_back({field, text});
    status = InvalidArgumentWithFields(message, std::move(errors));
  } else if (retry_and_reset.has_value()) {
    RateLimitInfo info;
    info.limit = 10;
    info.remaining = 0;
    info.retry_after = absl::Seconds(retry_and_reset->first);
    info.reset_after = absl::Seconds(retry_and_reset->second);
    status = RateLimitedError(message, info);
  }
  if (status.ok()) throw py::value_error("code 0 (OK) is not an error");
  return ErrorFromStatus(status);
}

// The names an enum's values have on the wire, in numeric order (1, 2, ...),
// read from the library so the Python enums can be checked against it.
template <typename Enum>
py::tuple WireNames(absl::string_view (*name)(Enum)) {
  py::list out;
  for (int i = 1;; ++i) {
    const absl::string_view n = name(static_cast<Enum>(i));
    if (n == "unknown") break;
    out.append(Str(n));
  }
  return py::tuple(out);
}

}  // namespace

PYBIND11_MODULE(_alerthub, m) {
  m.doc() =
      "Native core of the alerthub package: alerthub::Client through pybind11.\n"
      "Use the `alerthub` package; this module is private.";

  py::class_<NativeWatch>(m, "NativeWatch",
                          "A running Client.watch(); see alerthub.Watch for the public API.")
      .def("next", &NativeWatch::Next, py::arg("timeout_s") = py::none(),
           "The next update (a dict), None after timeout_s seconds, StopIteration once "
           "closed. Interruptible by Ctrl-C.")
      .def("wait", &NativeWatch::Wait, py::arg("timeout_s") = py::none(),
           "Waits until the watch is closed; False when timeout_s passed first.")
      .def("close", &NativeWatch::Close, "Ends the watch; idempotent.")
      .def_property_readonly("closed", &NativeWatch::closed)
      .def_property_readonly("dropped", &NativeWatch::dropped)
      .def_property_readonly("has_callback", &NativeWatch::has_callback);

  py::class_<NativeClient>(m, "NativeClient",
                           "alerthub::Client; see alerthub.Client for the public API.")
      .def(py::init(&OpenClient), py::arg("endpoint"), py::arg("api_key"), py::arg("timeout_s"),
           py::arg("store") = py::none(), py::arg("bus") = py::none(),
           py::arg("queue") = py::none(), py::arg("kv") = py::none(),
           py::arg("tenant") = py::none(), py::arg("rate_limit_enabled") = py::none(),
           py::arg("rate_limit_per_second") = py::none(),
           py::arg("rate_limit_burst") = py::none(), py::arg("dedup_window_s") = py::none(),
           "Client::Open: remote mode when endpoint is not empty, else embedded.")
      .def_property_readonly("mode", &NativeClient::mode)
      .def_property_readonly("closed", &NativeClient::closed)
      .def("close", &NativeClient::Close)
      .def("submit", &NativeClient::Submit, py::arg("notification"),
           py::arg("idempotency_key") = "")
      .def("submit_batch", &NativeClient::SubmitBatch, py::arg("notifications"),
           py::arg("idempotency_key") = "")
      .def("get", &NativeClient::Get, py::arg("id"))
      .def("events", &NativeClient::Events, py::arg("id"))
      .def("list_page", &NativeClient::ListPage, py::arg("status"), py::arg("type"),
           py::arg("since_us"), py::arg("limit"), py::arg("cursor"))
      .def("watch", &NativeClient::Watch, py::arg("types"), py::arg("min_priority"),
           py::arg("max_queue"), py::arg("callback"));

  m.def("_error_from_status_for_test", &ErrorFromStatusForTest, py::arg("code"),
        py::arg("message"), py::arg("field_errors") = std::vector<std::pair<std::string, std::string>>(),
        py::arg("retry_and_reset") = py::none());
  m.attr("SIGNAL_CHECK_INTERVAL_S") = absl::ToDoubleSeconds(kSignalCheckInterval);
  m.attr("STATUS_NAMES") = WireNames<NotificationStatus>(&NotificationStatusName);
  m.attr("PRIORITY_NAMES") = WireNames<Priority>(&PriorityName);
  m.attr("CHANNEL_NAMES") = WireNames<Channel>(&ChannelName);
}

}  // namespace alerthub::python
