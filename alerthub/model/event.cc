#include "alerthub/model/event.h"

#include <string>
#include <utility>

#include "alerthub/common/status.h"
#include "alerthub/common/uuid.h"
#include "alerthub/model/internal/validation.h"
#include "alerthub/model/notification.h"

namespace alerthub {
namespace {

// A required, non-empty string attribute; false when it was not read.
bool ReadRequired(model_internal::RecordReader& r, const char* key,
                  std::string* out) {
  const nlohmann::json* v = r.Find(key, /*required=*/true);
  if (v == nullptr) return false;
  if (!v->is_string()) {
    r.Fail(key, model_internal::kMustBeString);
    return false;
  }
  if (v->get_ref<const std::string&>().empty()) {
    r.Fail(key, model_internal::kMustNotBeEmpty);
    return false;
  }
  *out = v->get<std::string>();
  return true;
}

}  // namespace

nlohmann::json CloudEventToJson(const CloudEvent& e) {
  nlohmann::json j = nlohmann::json::object();
  j["specversion"] = e.specversion;
  j["id"] = e.id;
  j["source"] = e.source;
  j["type"] = e.type;
  if (!e.subject.empty()) j["subject"] = e.subject;
  model_internal::PutTime(j, "time", e.time);
  if (!e.datacontenttype.empty()) j["datacontenttype"] = e.datacontenttype;
  if (!e.data.is_null()) j["data"] = e.data;
  if (!e.tenantid.empty()) j["tenantid"] = e.tenantid;
  if (!e.traceparent.empty()) j["traceparent"] = e.traceparent;
  return j;
}

absl::StatusOr<CloudEvent> CloudEventFromJson(const nlohmann::json& j) {
  model_internal::FieldErrorList errors;
  model_internal::RecordReader r(j, "", &errors);
  CloudEvent e;
  if (ReadRequired(r, "specversion", &e.specversion) &&
      e.specversion != "1.0") {
    r.Fail("specversion", "must be \"1.0\"");
  }
  ReadRequired(r, "id", &e.id);
  ReadRequired(r, "source", &e.source);
  ReadRequired(r, "type", &e.type);
  r.String("subject", &e.subject);
  r.Time("time", &e.time);
  // Absent means "not stated" (CloudEvents consumers then assume JSON).
  e.datacontenttype.clear();
  r.String("datacontenttype", &e.datacontenttype);
  const nlohmann::json* data = r.Find("data");
  e.data = data != nullptr ? *data : nlohmann::json();  // null: no data
  r.String("tenantid", &e.tenantid);
  r.String("traceparent", &e.traceparent);
  ALERTHUB_RETURN_IF_ERROR(std::move(errors).ToStatus("invalid CloudEvent"));
  return e;
}

CloudEvent MakeNotificationEvent(const Notification& n, absl::string_view type,
                                 absl::string_view source, absl::Time now,
                                 nlohmann::json data,
                                 absl::string_view traceparent) {
  CloudEvent e;
  e.id = NewUuidV7(now);
  e.source = std::string(source);
  e.type = std::string(type);
  e.subject = n.id;
  // Microseconds, what the wire form carries, so a decoded copy is equal.
  e.time = absl::FromUnixMicros(absl::ToUnixMicros(now));
  e.data = std::move(data);
  e.tenantid = n.tenant_id;
  e.traceparent = std::string(traceparent);
  return e;
}

}  // namespace alerthub
