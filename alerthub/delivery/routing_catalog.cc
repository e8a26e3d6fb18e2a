#include "alerthub/delivery/routing_catalog.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "alerthub/common/status.h"
#include "alerthub/common/uuid.h"
#include "alerthub/delivery/catalog.h"
#include "alerthub/ports/audit.h"

namespace alerthub {
namespace {

// Members of a record that AlertHub assigns; never part of a request.
constexpr const char* kRuleAssigned[] = {"id", "tenant_id", "created_at", "updated_at"};
constexpr const char* kUserAssigned[] = {"id", "tenant_id", "created_at"};

absl::Status NotAnObject(absl::string_view what) {
  return InvalidArgumentWithFields(absl::StrCat("invalid ", what),
                                   {{"", "must be a JSON object"}});
}

}  // namespace

nlohmann::json RuleRequestJson(const Rule& rule) {
  nlohmann::json j = RuleToJson(rule);
  for (const char* field : kRuleAssigned) j.erase(field);
  return j;
}

nlohmann::json UserRequestJson(const User& user) {
  nlohmann::json j = UserToJson(user);
  for (const char* field : kUserAssigned) j.erase(field);
  return j;
}

RuleSource StoreRuleSource(Store* store) {
  return [store](absl::string_view tenant_id) { return store->ListRules(tenant_id); };
}

nlohmann::json UserAuditSummary(const User& u) {
  // Personal data is named, not shown: a change of e-mail is visible as
  // a change, and erasing the user leaves nothing personal in the log.
  auto mark = [](bool present) -> nlohmann::json {
    return present ? nlohmann::json(kRedactedPersonalData) : nlohmann::json();
  };
  nlohmann::json addresses = nlohmann::json::object();
  if (!u.addresses.email.empty()) addresses["email"] = kRedactedPersonalData;
  if (!u.addresses.fcm_tokens.empty()) addresses["fcm_tokens"] = u.addresses.fcm_tokens.size();
  if (!u.addresses.slack_user_id.empty()) addresses["slack_user_id"] = kRedactedPersonalData;
  if (!u.addresses.discord_user_id.empty()) addresses["discord_user_id"] = kRedactedPersonalData;
  return {{"id", u.id},
          {"role", std::string(RoleName(u.role))},
          {"email", mark(!u.email.empty())},
          {"name", mark(!u.name.empty())},
          {"addresses", std::move(addresses)}};
}

// --- Rules ---------------------------------------------------------------------------

absl::StatusOr<Rule> RoutingCatalog::CreateRule(absl::string_view tenant_id,
                                                const nlohmann::json& request) {
  ALERTHUB_ASSIGN_OR_RETURN(Rule rule, RuleFromRequestJson(request));
  absl::MutexLock lock(&create_mu_);
  ALERTHUB_ASSIGN_OR_RETURN(std::vector<Rule> existing, store_->ListRules(tenant_id));
  if (existing.size() >= options_.max_rules_per_tenant) {
    return InvalidArgumentWithFields(
        "too many rules",
        {{"", absl::StrCat("the tenant has ", existing.size(), " rules, the most allowed (",
                           options_.max_rules_per_tenant, "); delete one first")}});
  }
  const absl::Time now = clock_->Now();
  rule.id = NewUuidV7(now);
  rule.tenant_id = std::string(tenant_id);
  rule.created_at = now;
  rule.updated_at = now;
  AuditScope::Describe(rule.id, nullptr, RuleToJson(rule));
  ALERTHUB_RETURN_IF_ERROR(store_->CreateRule(rule));
  resolver_->Invalidate(tenant_id);
  return rule;
}

absl::StatusOr<Rule> RoutingCatalog::GetRule(absl::string_view tenant_id,
                                             absl::string_view id) {
  return store_->GetRule(tenant_id, id);
}

absl::StatusOr<std::vector<Rule>> RoutingCatalog::ListRules(absl::string_view tenant_id) {
  return store_->ListRules(tenant_id);
}

absl::StatusOr<Rule> RoutingCatalog::StoreReplacement(const Rule& current, Rule rule) {
  rule.id = current.id;
  rule.tenant_id = current.tenant_id;
  rule.created_at = current.created_at;
  rule.updated_at = clock_->Now();
  AuditScope::Describe(rule.id, RuleToJson(current), RuleToJson(rule));
  ALERTHUB_RETURN_IF_ERROR(store_->UpdateRule(rule));
  resolver_->Invalidate(rule.tenant_id);
  return rule;
}

absl::StatusOr<Rule> RoutingCatalog::ReplaceRule(absl::string_view tenant_id,
                                                 absl::string_view id,
                                                 const nlohmann::json& request) {
  ALERTHUB_ASSIGN_OR_RETURN(Rule current, store_->GetRule(tenant_id, id));
  ALERTHUB_ASSIGN_OR_RETURN(Rule rule, RuleFromRequestJson(request));
  return StoreReplacement(current, std::move(rule));
}

absl::StatusOr<Rule> RoutingCatalog::PatchRule(absl::string_view tenant_id,
                                               absl::string_view id,
                                               const nlohmann::json& patch) {
  if (!patch.is_object()) return NotAnObject("rule patch");
  ALERTHUB_ASSIGN_OR_RETURN(Rule current, store_->GetRule(tenant_id, id));
  nlohmann::json merged = RuleRequestJson(current);
  ApplyMergePatch(merged, patch);
  ALERTHUB_ASSIGN_OR_RETURN(Rule rule, RuleFromRequestJson(merged));
  return StoreReplacement(current, std::move(rule));
}

absl::Status RoutingCatalog::DeleteRule(absl::string_view tenant_id, absl::string_view id) {
  ALERTHUB_ASSIGN_OR_RETURN(Rule current, store_->GetRule(tenant_id, id));
  AuditScope::Describe(id, RuleToJson(current), nullptr);
  ALERTHUB_RETURN_IF_ERROR(store_->DeleteRule(tenant_id, id));
  resolver_->Invalidate(tenant_id);
  return absl::OkStatus();
}

absl::StatusOr<RoutingPlan> RoutingCatalog::Evaluate(absl::string_view tenant_id,
                                                     Notification n) {
  const absl::Time now = clock_->Now();
  ALERTHUB_RETURN_IF_ERROR(ValidateNotification(n, now));
  // As the pipeline would accept it now.
  n.tenant_id = std::string(tenant_id);
  n.status = NotificationStatus::kAccepted;
  n.created_at = now;
  n.updated_at = now;
  return resolver_->DryRun(n);
}

// --- Users and preferences -------------------------------------------------------------

absl::StatusOr<User> RoutingCatalog::CreateUser(absl::string_view tenant_id,
                                                const nlohmann::json& request) {
  ALERTHUB_ASSIGN_OR_RETURN(User user, UserFromRequestJson(request));
  const absl::Time now = clock_->Now();
  user.id = NewUuidV7(now);
  user.tenant_id = std::string(tenant_id);
  user.created_at = now;
  AuditScope::Describe(user.id, nullptr, UserAuditSummary(user));
  ALERTHUB_RETURN_IF_ERROR(store_->CreateUser(user));
  return user;
}

absl::StatusOr<User> RoutingCatalog::GetUser(absl::string_view tenant_id,
                                             absl::string_view id) {
  return store_->GetUser(tenant_id, id);
}

absl::StatusOr<Page<User>> RoutingCatalog::ListUsers(absl::string_view tenant_id,
                                                     const PageRequest& page) {
  if (page.limit < 1 || page.limit > 500) {
    return InvalidArgumentWithFields("invalid list request",
                                     {{"limit", "must be an integer between 1 and 500"}});
  }
  return store_->ListUsers(tenant_id, page);
}

absl::StatusOr<User> RoutingCatalog::ReplaceUser(absl::string_view tenant_id,
                                                 absl::string_view id,
                                                 const nlohmann::json& request) {
  ALERTHUB_ASSIGN_OR_RETURN(User current, store_->GetUser(tenant_id, id));
  ALERTHUB_ASSIGN_OR_RETURN(User user, UserFromRequestJson(request));
  user.id = current.id;
  user.tenant_id = current.tenant_id;
  user.created_at = current.created_at;
  AuditScope::Describe(user.id, UserAuditSummary(current), UserAuditSummary(user));
  ALERTHUB_RETURN_IF_ERROR(store_->UpdateUser(user));
  return user;
}

absl::Status RoutingCatalog::DeleteUser(absl::string_view tenant_id, absl::string_view id) {
  ALERTHUB_ASSIGN_OR_RETURN(User current, store_->GetUser(tenant_id, id));
  AuditScope::Describe(id, UserAuditSummary(current), nullptr);
  return store_->DeleteUser(tenant_id, id);
}

absl::StatusOr<Preferences> RoutingCatalog::GetPreferences(absl::string_view tenant_id,
                                                           absl::string_view user_id) {
  return store_->GetPreferences(tenant_id, user_id);
}

absl::StatusOr<Preferences> RoutingCatalog::SetPreferences(absl::string_view tenant_id,
                                                           absl::string_view user_id,
                                                           const nlohmann::json& request) {
  ALERTHUB_ASSIGN_OR_RETURN(Preferences preferences, PreferencesFromRequestJson(request));
  ALERTHUB_ASSIGN_OR_RETURN(Preferences current, store_->GetPreferences(tenant_id, user_id));
  AuditScope::Describe(user_id, PreferencesToJson(current), PreferencesToJson(preferences));
  ALERTHUB_RETURN_IF_ERROR(store_->SetPreferences(tenant_id, user_id, preferences));
  return preferences;
}

}  // namespace alerthub
