#include "bindings/python/native/convert.h"

#include <cmath>
#include <cstdint>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace alerthub::python {
namespace py = pybind11;
namespace {

// Deeper than any valid notification (data nests at most 16 levels), shallow
// enough that a self-containing list cannot exhaust the stack.
constexpr int kMaxDepth = 64;

std::string ChildPath(const std::string& path, absl::string_view key) {
  return path.empty() ? std::string(key) : absl::StrCat(path, ".", key);
}

std::string Where(const std::string& path) {
  return path.empty() ? std::string("the notification") : path;
}

nlohmann::json ToJson(py::handle value, const std::string& path, int depth) {
  if (depth > kMaxDepth) {
    throw py::value_error(
        absl::StrCat(Where(path), ": nested more than ", kMaxDepth, " levels deep"));
  }
  PyObject* o = value.ptr();
  if (o == Py_None) return nullptr;
  if (PyBool_Check(o)) return o == Py_True;
  if (PyLong_Check(o)) {
    int overflow = 0;
    const long long v = PyLong_AsLongLongAndOverflow(o, &overflow);
    if (overflow == 0) {
      if (v == -1 && PyErr_Occurred()) throw py::error_already_set();
      return static_cast<int64_t>(v);
    }
    if (overflow > 0) {
      const unsigned long long u = PyLong_AsUnsignedLongLong(o);
      if (!PyErr_Occurred()) return static_cast<uint64_t>(u);
      PyErr_Clear();
    }
    throw py::value_error(absl::StrCat(Where(path), ": integer does not fit in 64 bits"));
  }
  if (PyFloat_Check(o)) {
    const double d = PyFloat_AS_DOUBLE(o);
    if (!std::isfinite(d)) {
      throw py::value_error(
          absl::StrCat(Where(path), ": ", d, " is not allowed in JSON (NaN or infinity)"));
    }
    return d;
  }
  if (PyUnicode_Check(o)) {
    Py_ssize_t size = 0;
    const char* utf8 = PyUnicode_AsUTF8AndSize(o, &size);
    if (utf8 == nullptr) throw py::error_already_set();  // lone surrogates
    return std::string(utf8, static_cast<size_t>(size));
  }
  if (PyDict_Check(o)) {
    nlohmann::json out = nlohmann::json::object();
    for (auto [key, item] : py::reinterpret_borrow<py::dict>(value)) {
      if (!PyUnicode_Check(key.ptr())) {
        throw py::type_error(absl::StrCat(Where(path), ": keys must be str, not ",
                                          Py_TYPE(key.ptr())->tp_name));
      }
      std::string k = key.cast<std::string>();
      std::string child = ChildPath(path, k);
      out[std::move(k)] = ToJson(item, child, depth + 1);
    }
    return out;
  }
  if (PyList_Check(o) || PyTuple_Check(o)) {
    nlohmann::json out = nlohmann::json::array();
    size_t i = 0;
    for (py::handle item : value) {
      out.push_back(ToJson(item, absl::StrCat(path, "[", i, "]"), depth + 1));
      ++i;
    }
    return out;
  }
  throw py::type_error(absl::StrCat(Where(path), ": object of type '", Py_TYPE(o)->tp_name,
                                    "' is not JSON serializable"));
}

py::list StringList(const std::vector<std::string>& values) {
  py::list out;
  for (const std::string& v : values) out.append(Str(v));
  return out;
}

}  // namespace

py::str Str(absl::string_view utf8) {
  PyObject* s = PyUnicode_DecodeUTF8(utf8.data(), static_cast<Py_ssize_t>(utf8.size()),
                                     "replace");
  if (s == nullptr) throw py::error_already_set();
  return py::reinterpret_steal<py::str>(s);
}

nlohmann::json JsonFromPython(py::handle value, const std::string& path) {
  return ToJson(value, path, 0);
}

py::object PythonFromJson(const nlohmann::json& j) {
  switch (j.type()) {
    case nlohmann::json::value_t::null:
    case nlohmann::json::value_t::discarded:
      return py::none();
    case nlohmann::json::value_t::boolean:
      return py::bool_(j.get<bool>());
    case nlohmann::json::value_t::number_integer:
      return py::int_(j.get<int64_t>());
    case nlohmann::json::value_t::number_unsigned:
      return py::int_(j.get<uint64_t>());
    case nlohmann::json::value_t::number_float:
      return py::float_(j.get<double>());
    case nlohmann::json::value_t::string:
      return Str(j.get_ref<const std::string&>());
    case nlohmann::json::value_t::array: {
      py::list out;
      for (const nlohmann::json& item : j) out.append(PythonFromJson(item));
      return out;
    }
    case nlohmann::json::value_t::object: {
      py::dict out;
      for (const auto& [key, item] : j.items()) out[Str(key)] = PythonFromJson(item);
      return out;
    }
    case nlohmann::json::value_t::binary:
      break;
  }
  throw py::type_error("unexpected binary JSON value");
}

absl::StatusOr<Notification> NotificationFromPython(py::handle value, const std::string& path) {
  if (!PyDict_Check(value.ptr())) {
    throw py::type_error(absl::StrCat(Where(path), ": a notification is a dict, not ",
                                      Py_TYPE(value.ptr())->tp_name));
  }
  return NotificationFromRequestJson(JsonFromPython(value, path), absl::Now());
}

py::object MicrosOrNone(absl::Time t) {
  if (t == absl::InfinitePast()) return py::none();
  return py::int_(absl::ToUnixMicros(t));
}

py::dict NotificationToPython(const Notification& n) {
  py::dict d;
  d["id"] = Str(n.id);
  d["tenant_id"] = Str(n.tenant_id);
  d["status"] = Str(NotificationStatusName(n.status));
  d["created_at"] = MicrosOrNone(n.created_at);
  d["updated_at"] = MicrosOrNone(n.updated_at);
  d["type"] = Str(n.type);
  d["title"] = Str(n.title);
  d["body"] = Str(n.body);
  d["priority"] = Str(PriorityName(n.priority));
  d["data"] = PythonFromJson(n.data.is_null() ? nlohmann::json::object() : n.data);
  py::dict tags;
  for (const auto& [k, v] : n.tags) tags[Str(k)] = Str(v);
  d["tags"] = std::move(tags);
  d["recipients"] = StringList(n.recipients);
  py::list channels;
  for (Channel c : n.channels) channels.append(Str(ChannelName(c)));
  d["channels"] = std::move(channels);
  d["integration_ids"] = StringList(n.integration_ids);
  d["template"] = Str(n.template_name);
  d["dedup_key"] = Str(n.dedup_key);
  d["scheduled_at"] =
      n.scheduled_at.has_value() ? MicrosOrNone(*n.scheduled_at) : py::object(py::none());
  return d;
}

py::dict RateLimitToPython(const RateLimitInfo& info) {
  py::dict d;
  d["limit"] = py::int_(info.limit);
  d["remaining"] = py::int_(info.remaining);
  d["reset_after"] = py::float_(absl::ToDoubleSeconds(info.reset_after));
  d["retry_after"] = py::float_(absl::ToDoubleSeconds(info.retry_after));
  return d;
}

py::dict SubmitResultToPython(const SubmitResult& r) {
  py::dict d;
  d["id"] = Str(r.id);
  d["status"] = Str(NotificationStatusName(r.status));
  d["duplicate"] = py::bool_(r.duplicate);
  d["rate_limit"] = RateLimitToPython(r.rate_limit);
  return d;
}

py::dict CloudEventToPython(const CloudEvent& e) {
  py::dict d;
  d["specversion"] = Str(e.specversion);
  d["id"] = Str(e.id);
  d["source"] = Str(e.source);
  d["type"] = Str(e.type);
  d["subject"] = Str(e.subject);
  d["time"] = MicrosOrNone(e.time);
  d["datacontenttype"] = Str(e.datacontenttype);
  d["data"] = PythonFromJson(e.data);
  d["tenantid"] = Str(e.tenantid);
  d["traceparent"] = Str(e.traceparent);
  return d;
}

py::dict StatusUpdateToPython(const StatusUpdate& u) {
  py::dict d;
  d["id"] = Str(u.id);
  d["status"] = Str(NotificationStatusName(u.status));
  d["at"] = MicrosOrNone(u.at);
  d["notification_type"] = Str(u.notification_type);
  d["priority"] = Str(PriorityName(u.priority));
  return d;
}

}  // namespace alerthub::python
