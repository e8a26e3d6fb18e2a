#include "bindings/python/native/client.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "alerthub/common/status.h"
#include "alerthub/model/notification.h"
#include "alerthub/pipeline/pipeline.h"
#include "bindings/python/native/convert.h"
#include "bindings/python/native/errors.h"

namespace alerthub::python {
namespace py = pybind11;
namespace {

// Deletes the C++ Client without holding the GIL: shutting an embedded engine
// down joins its threads, and other Python threads should run meanwhile.
void DeleteClient(Client* client) {
  if (PyGILState_Check()) {
    py::gil_scoped_release release;
    delete client;
  } else {
    delete client;
  }
}

}  // namespace

std::unique_ptr<NativeClient> NativeClient::Open(const ClientOptions& options) {
  absl::StatusOr<std::unique_ptr<Client>> client;
  {
    py::gil_scoped_release release;
    client = Client::Open(options);
  }
  std::unique_ptr<Client> opened = ValueOrThrow(std::move(client));
  return std::unique_ptr<NativeClient>(
      new NativeClient(std::shared_ptr<Client>(opened.release(), &DeleteClient),
                       options.endpoint.empty() ? "embedded" : "remote"));
}

NativeClient::NativeClient(std::shared_ptr<Client> client, std::string mode)
    : mode_(std::move(mode)), client_(std::move(client)) {}

NativeClient::~NativeClient() { Close(); }

std::shared_ptr<Client> NativeClient::Acquire() const {
  absl::MutexLock lock(&mu_);
  if (client_ == nullptr) throw py::value_error("the alerthub.Client is closed");
  return client_;
}

void NativeClient::Close() {
  std::shared_ptr<Client> client;
  {
    absl::MutexLock lock(&mu_);
    client = std::move(client_);
  }
  // The last reference deletes the Client through DeleteClient.
}

bool NativeClient::closed() const {
  absl::MutexLock lock(&mu_);
  return client_ == nullptr;
}

py::dict NativeClient::Submit(py::handle notification, const std::string& idempotency_key) {
  Notification n = ValueOrThrow(NotificationFromPython(notification, ""));
  std::shared_ptr<Client> client = Acquire();
  SubmitOptions options;
  options.idempotency_key = idempotency_key;
  absl::StatusOr<SubmitResult> result;
  {
    py::gil_scoped_release release;
    result = client->Submit(n, options);
  }
  return SubmitResultToPython(ValueOrThrow(std::move(result)));
}

py::list NativeClient::SubmitBatch(py::handle notifications,
                                   const std::string& idempotency_key) {
  if (!PyList_Check(notifications.ptr())) throw py::type_error("notifications must be a list");
  const py::list items = py::reinterpret_borrow<py::list>(notifications);
  const size_t size = items.size();
  std::shared_ptr<Client> client = Acquire();
  SubmitOptions options;
  options.idempotency_key = idempotency_key;
  // As the router checks its Idempotency-Key header: before any item.
  if (!idempotency_key.empty()) OkOrThrow(ValidateIdempotencyKey(idempotency_key));

  absl::StatusOr<std::vector<absl::StatusOr<SubmitResult>>> results;
  if (size == 0 || size > Pipeline::kMaxBatch) {
    // The library owns the size rule and its message: ask it with a batch of
    // the same size, which it rejects before looking at any item.
    std::vector<Notification> whole(size);
    {
      py::gil_scoped_release release;
      results = client->SubmitBatch(whole, options);
    }
    OkOrThrow(results.status());
    ThrowStatus(absl::InternalError(
        absl::StrCat("the library accepted a batch of ", size, " notifications")));
  }

  // Each item is parsed here, as the router parses each item of a batch: a
  // bad one gets its own error and is left out of the C++ call.
  std::vector<absl::Status> errors(size);
  std::vector<Notification> valid;
  std::vector<size_t> index_of_valid;
  for (size_t i = 0; i < size; ++i) {
    absl::StatusOr<Notification> n =
        NotificationFromPython(items[i], absl::StrCat("notifications[", i, "]"));
    if (n.ok()) {
      valid.push_back(*std::move(n));
      index_of_valid.push_back(i);
    } else {
      errors[i] = n.status();
    }
  }
  if (!valid.empty()) {
    if (valid.size() < size && !idempotency_key.empty()) {
      // Item i is keyed "<key>#<i>" by its position in the caller's list,
      // which differs from its position among the valid items.
      for (size_t j = 0; j < valid.size(); ++j) {
        if (valid[j].dedup_key.empty()) {
          valid[j].dedup_key = BatchItemDedupKey(idempotency_key, index_of_valid[j]);
        }
      }
      options.idempotency_key.clear();
    }
    {
      py::gil_scoped_release release;
      results = client->SubmitBatch(valid, options);
    }
    OkOrThrow(results.status());
    if (results->size() != valid.size()) {
      ThrowStatus(absl::InternalError(absl::StrCat(
          "expected ", valid.size(), " batch results, got ", results->size())));
    }
  }

  // Back in the caller's order: valid item j is item index_of_valid[j].
  std::vector<const SubmitResult*> accepted(size, nullptr);
  for (size_t j = 0; j < index_of_valid.size(); ++j) {
    const absl::StatusOr<SubmitResult>& r = (*results)[j];
    if (r.ok()) {
      accepted[index_of_valid[j]] = &*r;
    } else {
      errors[index_of_valid[j]] = r.status();
    }
  }
  py::list out;
  for (size_t i = 0; i < size; ++i) {
    out.append(accepted[i] != nullptr ? py::object(SubmitResultToPython(*accepted[i]))
                                      : ErrorFromStatus(errors[i]));
  }
  return out;
}

py::dict NativeClient::Get(const std::string& id) {
  std::shared_ptr<Client> client = Acquire();
  absl::StatusOr<Notification> n;
  {
    py::gil_scoped_release release;
    n = client->Get(id);
  }
  return NotificationToPython(ValueOrThrow(std::move(n)));
}

py::list NativeClient::Events(const std::string& id) {
  std::shared_ptr<Client> client = Acquire();
  absl::StatusOr<std::vector<CloudEvent>> events;
  {
    py::gil_scoped_release release;
    events = client->ListEvents(id);
  }
  py::list out;
  for (const CloudEvent& e : ValueOrThrow(std::move(events))) out.append(CloudEventToPython(e));
  return out;
}

py::tuple NativeClient::ListPage(const std::optional<std::string>& status,
                                 const std::string& type, std::optional<int64_t> since_us,
                                 int limit, const std::string& cursor) {
  ListOptions options;
  if (status.has_value()) {
    absl::StatusOr<NotificationStatus> s = ParseNotificationStatus(*status);
    if (!s.ok()) {
      ThrowStatus(InvalidArgumentWithFields("invalid list request",
                                            {{"status", std::string(s.status().message())}}));
    }
    options.status = *s;
  }
  options.type = type;
  if (since_us.has_value()) options.since = absl::FromUnixMicros(*since_us);
  options.limit = limit;
  options.cursor = cursor;
  std::shared_ptr<Client> client = Acquire();
  absl::StatusOr<NotificationList> page;
  {
    py::gil_scoped_release release;
    page = client->List(options);
  }
  NotificationList list = ValueOrThrow(std::move(page));
  py::list items;
  for (const Notification& n : list.items) items.append(NotificationToPython(n));
  return py::make_tuple(items, Str(list.next_cursor));
}

std::unique_ptr<NativeWatch> NativeClient::Watch(const std::vector<std::string>& types,
                                                 py::handle min_priority, int64_t max_queue,
                                                 py::object callback) {
  WatchOptions options;
  options.types = types;
  if (!min_priority.is_none()) {
    absl::StatusOr<Priority> p = ParsePriority(JsonFromPython(min_priority, "min_priority"));
    if (!p.ok()) {
      // ParsePriority words it "priority must be ..."; the field is named.
      const std::string message(absl::StripPrefix(p.status().message(), "priority "));
      ThrowStatus(InvalidArgumentWithFields("invalid watch request", {{"min_priority", message}}));
    }
    options.min_priority = *p;
  }
  if (max_queue < 1) {
    ThrowStatus(InvalidArgumentWithFields("invalid watch request",
                                          {{"max_queue", "must be at least 1"}}));
  }
  options.max_queue = static_cast<size_t>(max_queue);
  if (!callback.is_none() && !PyCallable_Check(callback.ptr())) {
    throw py::type_error("callback must be callable");
  }
  return NativeWatch::Start(Acquire(), options, std::move(callback));
}

}  // namespace alerthub::python
