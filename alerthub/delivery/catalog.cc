#include "alerthub/delivery/catalog.h"

#include <map>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "alerthub/common/status.h"
#include "alerthub/common/uuid.h"
#include "alerthub/delivery/retry_policy.h"
#include "alerthub/delivery/signing.h"
#include "alerthub/delivery/templates.h"
#include "alerthub/ports/audit.h"

namespace alerthub {
namespace {

absl::Status NotAnObject(absl::string_view what) {
  return InvalidArgumentWithFields(absl::StrCat("invalid ", what),
                                   {{"", "must be a JSON object"}});
}

// A notification every template is test-rendered over when it is saved.
Notification SampleNotification() {
  Notification n;
  n.id = "0190b2a4-0000-7000-8000-000000000000";
  n.type = "sample.event";
  n.title = "Sample title";
  n.body = "Sample body";
  n.data = {{"sample", true}};
  n.tags = {{"env", "test"}};
  n.created_at = absl::UnixEpoch();
  return n;
}

absl::Status CheckRenders(const Template& t) {
  const Notification sample = SampleNotification();
  absl::StatusOr<RenderedMessage> rendered = RenderForChannel(t.channel, &t, sample);
  if (rendered.ok()) return absl::OkStatus();
  if (rendered.status().code() == absl::StatusCode::kInvalidArgument) {
    return InvalidArgumentWithFields("invalid template", FieldErrorsOf(rendered.status()));
  }
  return rendered.status();
}

nlohmann::json IntegrationRequestForm(const Integration& i) {
  nlohmann::json j = {{"name", i.name},
                      {"channel", std::string(ChannelName(i.channel))},
                      {"config", i.config},
                      {"enabled", i.enabled},
                      {"default", i.is_default}};
  if (!i.retry.is_null()) j["retry"] = i.retry;
  return j;
}

// The retry override must be a schedule RetryPolicyFromJson accepts.
absl::Status CheckRetry(const Integration& i) {
  if (i.retry.is_null()) return absl::OkStatus();
  absl::StatusOr<RetryPolicy> policy = RetryPolicyFromJson(i.retry);
  if (policy.ok()) return absl::OkStatus();
  return PrefixFieldErrors(policy.status(), "retry.");
}

}  // namespace

void ApplyMergePatch(nlohmann::json& target, const nlohmann::json& patch) {
  if (!patch.is_object()) {
    target = patch;
    return;
  }
  if (!target.is_object()) target = nlohmann::json::object();
  for (auto it = patch.begin(); it != patch.end(); ++it) {
    if (it->is_null()) {
      target.erase(it.key());
    } else {
      ApplyMergePatch(target[it.key()], *it);
    }
  }
}

// --- Integrations --------------------------------------------------------------------

absl::StatusOr<CreatedIntegration> Catalog::CreateIntegration(absl::string_view tenant_id,
                                                              const nlohmann::json& request) {
  if (!request.is_object()) return NotAnObject("integration");
  ALERTHUB_ASSIGN_OR_RETURN(Integration i, IntegrationFromRequestJson(request));
  ALERTHUB_RETURN_IF_ERROR(CheckRetry(i));
  CreatedIntegration out;
  if (i.channel == Channel::kWebhook && !i.config.contains("secret")) {
    out.generated_secret = GenerateWebhookSecret();
    i.config["secret"] = out.generated_secret;
  }
  const absl::Time now = clock_->Now();
  i.id = NewUuidV7(now);
  i.tenant_id = std::string(tenant_id);
  i.created_at = now;
  i.updated_at = now;
  ALERTHUB_RETURN_IF_ERROR(secrets_->Seal(&i));
  AuditScope::Describe(i.id, nullptr, IntegrationToJson(i, SecretHandling::kRedact));
  ALERTHUB_RETURN_IF_ERROR(store_->CreateIntegration(i));
  out.integration = std::move(i);
  return out;
}

absl::StatusOr<Integration> Catalog::GetIntegration(absl::string_view tenant_id,
                                                    absl::string_view id) {
  return store_->GetIntegration(tenant_id, id);
}

absl::StatusOr<Page<Integration>> Catalog::ListIntegrations(absl::string_view tenant_id,
                                                            const IntegrationFilter& filter,
                                                            const PageRequest& page) {
  return store_->ListIntegrations(tenant_id, filter, page);
}

absl::StatusOr<Integration> Catalog::PatchIntegration(absl::string_view tenant_id,
                                                      absl::string_view id,
                                                      const nlohmann::json& patch) {
  if (!patch.is_object()) return NotAnObject("integration patch");
  ALERTHUB_ASSIGN_OR_RETURN(Integration stored, store_->GetIntegration(tenant_id, id));
  ALERTHUB_ASSIGN_OR_RETURN(Integration current, OpenIntegration(stored));
  if (auto ch = patch.find("channel"); ch != patch.end()) {
    if (!ch->is_string() || ch->get_ref<const std::string&>() != ChannelName(current.channel)) {
      return InvalidArgumentWithFields(
          "invalid integration patch",
          {{"channel", "cannot be changed; create a new integration instead"}});
    }
  }
  nlohmann::json effective = patch;
  if (auto config = effective.find("config"); config != effective.end() && config->is_object()) {
    // "[redacted]" keeps the current secret.
    std::map<std::string, nlohmann::json> secrets;
    ForEachConfigSecret(current.channel, current.config,
                        [&](absl::string_view path, nlohmann::json& value) {
                          secrets.emplace(std::string(path), value);
                        });
    ForEachConfigSecret(current.channel, *config,
                        [&](absl::string_view path, nlohmann::json& value) {
                          if (!value.is_string() || value.get_ref<const std::string&>() != kRedactedSecret) return;
                          auto it = secrets.find(std::string(path));
                          if (it != secrets.end()) value = it->second;
                        });
  }
  nlohmann::json merged = IntegrationRequestForm(current);
  ApplyMergePatch(merged, effective);
  ALERTHUB_ASSIGN_OR_RETURN(Integration updated, IntegrationFromRequestJson(merged));
  ALERTHUB_RETURN_IF_ERROR(CheckRetry(updated));
  updated.id = current.id;
  updated.tenant_id = current.tenant_id;
  updated.created_at = current.created_at;
  updated.updated_at = clock_->Now();
  ALERTHUB_RETURN_IF_ERROR(secrets_->Seal(&updated));
  AuditScope::Describe(updated.id, IntegrationToJson(stored, SecretHandling::kRedact),
                       IntegrationToJson(updated, SecretHandling::kRedact));
  ALERTHUB_RETURN_IF_ERROR(store_->UpdateIntegration(updated));
  return updated;
}

absl::Status Catalog::DeleteIntegration(absl::string_view tenant_id, absl::string_view id) {
  ALERTHUB_ASSIGN_OR_RETURN(Integration stored, store_->GetIntegration(tenant_id, id));
  AuditScope::Describe(id, IntegrationToJson(stored, SecretHandling::kRedact), nullptr);
  return store_->DeleteIntegration(tenant_id, id);
}

absl::StatusOr<Integration> Catalog::OpenIntegration(Integration sealed) const {
  ALERTHUB_RETURN_IF_ERROR(secrets_->Open(&sealed));
  return sealed;
}

absl::Status Catalog::DisableIntegration(absl::string_view tenant_id, absl::string_view id) {
  ALERTHUB_ASSIGN_OR_RETURN(Integration i, store_->GetIntegration(tenant_id, id));
  if (!i.enabled) return absl::OkStatus();
  i.enabled = false;
  i.updated_at = clock_->Now();
  return store_->UpdateIntegration(i);
}

// --- Templates -----------------------------------------------------------------------

absl::StatusOr<Template> Catalog::CreateTemplate(absl::string_view tenant_id,
                                                 const nlohmann::json& request) {
  if (!request.is_object()) return NotAnObject("template");
  ALERTHUB_ASSIGN_OR_RETURN(Template t, TemplateFromRequestJson(request));
  ALERTHUB_RETURN_IF_ERROR(CheckRenders(t));
  const absl::Time now = clock_->Now();
  t.id = NewUuidV7(now);
  t.tenant_id = std::string(tenant_id);
  t.created_at = now;
  t.updated_at = now;
  AuditScope::Describe(t.id, nullptr, TemplateToJson(t));
  ALERTHUB_RETURN_IF_ERROR(store_->CreateTemplate(t));
  return t;
}

absl::StatusOr<Template> Catalog::GetTemplate(absl::string_view tenant_id,
                                              absl::string_view id) {
  return store_->GetTemplate(tenant_id, id);
}

absl::StatusOr<Page<Template>> Catalog::ListTemplates(absl::string_view tenant_id,
                                                      const PageRequest& page) {
  return store_->ListTemplates(tenant_id, page);
}

absl::StatusOr<Template> Catalog::PatchTemplate(absl::string_view tenant_id,
                                                absl::string_view id,
                                                const nlohmann::json& patch) {
  if (!patch.is_object()) return NotAnObject("template patch");
  ALERTHUB_ASSIGN_OR_RETURN(Template current, store_->GetTemplate(tenant_id, id));
  if (auto ch = patch.find("channel"); ch != patch.end()) {
    if (!ch->is_string() || ch->get_ref<const std::string&>() != ChannelName(current.channel)) {
      return InvalidArgumentWithFields(
          "invalid template patch",
          {{"channel", "cannot be changed; create a new template instead"}});
    }
  }
  nlohmann::json merged = {{"name", current.name},
                           {"channel", std::string(ChannelName(current.channel))},
                           {"fields", current.fields}};
  ApplyMergePatch(merged, patch);
  ALERTHUB_ASSIGN_OR_RETURN(Template updated, TemplateFromRequestJson(merged));
  ALERTHUB_RETURN_IF_ERROR(CheckRenders(updated));
  updated.id = current.id;
  updated.tenant_id = current.tenant_id;
  updated.created_at = current.created_at;
  updated.updated_at = clock_->Now();
  AuditScope::Describe(updated.id, TemplateToJson(current), TemplateToJson(updated));
  ALERTHUB_RETURN_IF_ERROR(store_->UpdateTemplate(updated));
  return updated;
}

absl::Status Catalog::DeleteTemplate(absl::string_view tenant_id, absl::string_view id) {
  ALERTHUB_ASSIGN_OR_RETURN(Template current, store_->GetTemplate(tenant_id, id));
  AuditScope::Describe(id, TemplateToJson(current), nullptr);
  return store_->DeleteTemplate(tenant_id, id);
}

}  // namespace alerthub
