// Templates: how a notification is rendered for one channel. A notification
// names a template ("template": "deploy.v1"); at delivery the template of
// that name for the delivery's channel is rendered (mustache) over the
// notification.
//
//   absl::StatusOr<Template> t = TemplateFromRequestJson(nlohmann::json::parse(
//       R"({"name": "deploy.v1", "channel": "email",
//           "fields": {"subject": "{{title}}", "text": "{{body}}"}})"));
//
// Wire shape: {"name", "channel", "fields": {field: template text}}; id,
// tenant_id, created_at and updated_at are assigned by AlertHub. The fields
// each channel renders (TemplateFieldsFor):
//   webhook: body            slack: text, blocks       discord: content
//   email:   subject, text, html                       push:    title, body
#ifndef ALERTHUB_MODEL_TEMPLATE_H_
#define ALERTHUB_MODEL_TEMPLATE_H_

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "alerthub/model/notification.h"
#include "nlohmann/json.hpp"

namespace alerthub {

struct TemplateLimits {
  static constexpr size_t kMaxNameLength = 128;
  static constexpr size_t kMaxFieldLength = 64 * 1024;  // characters
};

struct Template {
  std::string id;         // UUIDv7
  std::string tenant_id;  // from the credential, never from the body
  std::string name;       // [a-z0-9._-]{1,128}; unique per (tenant, channel)
  Channel channel = Channel::kWebhook;
  // Field name (one of TemplateFieldsFor(channel)) -> template text; at
  // least one.
  std::map<std::string, std::string> fields;
  absl::Time created_at = absl::InfinitePast();
  absl::Time updated_at = absl::InfinitePast();
};

// The field names a template for `channel` may have; empty for an unknown
// channel.
absl::Span<const absl::string_view> TemplateFieldsFor(Channel channel);

// Parses a create/replace request body. kInvalidArgument with one FieldError
// per broken rule ("name", "fields.subject", ...).
absl::StatusOr<Template> TemplateFromRequestJson(const nlohmann::json& j);

// The full record.
nlohmann::json TemplateToJson(const Template& t);

// Reads what TemplateToJson() wrote; the request rules apply, server-assigned
// fields are read and unknown fields ignored.
absl::StatusOr<Template> TemplateFromJson(const nlohmann::json& j);

}  // namespace alerthub

#endif  // ALERTHUB_MODEL_TEMPLATE_H_
