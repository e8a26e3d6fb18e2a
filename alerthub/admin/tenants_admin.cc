#include "alerthub/admin/tenants_admin.h"

#include <cmath>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "alerthub/auth/rbac.h"
#include "alerthub/common/uuid.h"
#include "alerthub/ports/audit.h"

namespace alerthub {
namespace {

absl::Status NoTenant(absl::string_view id) {
  return absl::NotFoundError(absl::StrCat("no tenant \"", id, "\""));
}

void CheckRate(absl::string_view field, double v, std::vector<FieldError>* errors) {
  if (!std::isfinite(v) || v < 0) {
    errors->push_back({std::string(field), "must be a finite number, 0 or more"});
  }
}

}  // namespace

void ValidateTenantSettings(const TenantSettings& settings, std::vector<FieldError>* errors) {
  CheckRate("settings.rate_limit_per_second", settings.rate_limit_per_second, errors);
  CheckRate("settings.rate_limit_burst", settings.rate_limit_burst, errors);
  if (settings.dedup_window.has_value() && *settings.dedup_window < absl::ZeroDuration()) {
    errors->push_back({"settings.dedup_window", "must not be negative"});
  }
}

TenantsAdmin::TenantsAdmin(Store* store, ApiKeyAuthenticator* authenticator, Clock* clock)
    : store_(store), authenticator_(authenticator), clock_(clock) {}

absl::StatusOr<std::string> TenantsAdmin::PlatformTenantId() {
  absl::StatusOr<Tenant> platform = store_->GetTenantByName(kPlatformTenantName);
  if (absl::IsNotFound(platform.status())) return std::string();
  ALERTHUB_RETURN_IF_ERROR(platform.status());
  return platform->id;
}

absl::StatusOr<bool> TenantsAdmin::IsPlatformOperator(const Principal& who) {
  if (who.platform_operator) return true;
  if (who.role != Role::kOwner) return false;
  ALERTHUB_ASSIGN_OR_RETURN(std::string platform_id, PlatformTenantId());
  return !platform_id.empty() && platform_id == who.tenant_id;
}

absl::StatusOr<Principal> TenantsAdmin::Resolve(const Principal& who) {
  Principal resolved = who;
  ALERTHUB_ASSIGN_OR_RETURN(resolved.platform_operator, IsPlatformOperator(who));
  return resolved;
}

absl::StatusOr<TenantsAdmin::Created> TenantsAdmin::Create(const Principal& who,
                                                           absl::string_view name,
                                                           const TenantSettings& settings) {
  ALERTHUB_ASSIGN_OR_RETURN(Principal op, Resolve(who));
  ALERTHUB_RETURN_IF_ERROR(Authorize(op, Permission::kManageTenants));
  std::vector<FieldError> errors;
  if (absl::Status s = ValidateTenantName(name); !s.ok()) {
    errors.push_back({"name", std::string(s.message())});
  }
  ValidateTenantSettings(settings, &errors);
  if (!errors.empty()) return InvalidArgumentWithFields("invalid tenant", std::move(errors));

  const absl::Time now = clock_->Now();
  Created out;
  out.tenant.id = NewUuidV7(now);
  out.tenant.name = std::string(name);
  out.tenant.settings = settings;
  out.tenant.created_at = now;
  // Recorded in the operator's tenant, with the new tenant as the target.
  AuditScope audit(store_, clock_, AuditActorOf(who), "tenant.create", out.tenant.id);
  AuditScope::Describe("", nullptr, TenantToJson(out.tenant));
  // The tenant and its first owner key commit together: no tenant without
  // an owner.
  NewApiKey key = GenerateApiKey(out.tenant.id, "first owner key", Role::kOwner, now);
  ALERTHUB_RETURN_IF_ERROR(store_->CreateTenantWithKey(out.tenant, key.record));
  ALERTHUB_RETURN_IF_ERROR(audit.Finish(absl::OkStatus()));
  out.owner_key = std::move(key.record);
  out.owner_key_plaintext = std::move(key.plaintext);
  return out;
}

absl::StatusOr<Tenant> TenantsAdmin::Get(const Principal& who, absl::string_view id) {
  ALERTHUB_ASSIGN_OR_RETURN(Principal op, Resolve(who));
  if (!op.platform_operator && id != who.tenant_id) return NoTenant(id);
  ALERTHUB_RETURN_IF_ERROR(Authorize(op, Permission::kReadConfiguration));
  absl::StatusOr<Tenant> tenant = store_->GetTenant(id);
  if (absl::IsNotFound(tenant.status())) return NoTenant(id);
  return tenant;
}

absl::StatusOr<Tenant> TenantsAdmin::Update(const Principal& who, absl::string_view id,
                                            const TenantUpdate& update) {
  ALERTHUB_ASSIGN_OR_RETURN(Principal op, Resolve(who));
  if (!op.platform_operator && id != who.tenant_id) return NoTenant(id);
  ALERTHUB_RETURN_IF_ERROR(Authorize(op, Permission::kManageTenant));
  absl::StatusOr<Tenant> stored = store_->GetTenant(id);
  if (absl::IsNotFound(stored.status())) return NoTenant(id);
  ALERTHUB_RETURN_IF_ERROR(stored.status());

  Tenant t = *stored;
  if (update.name.has_value()) t.name = *update.name;
  if (update.rate_limit_per_second.has_value()) {
    t.settings.rate_limit_per_second = *update.rate_limit_per_second;
  }
  if (update.rate_limit_burst.has_value()) t.settings.rate_limit_burst = *update.rate_limit_burst;
  if (update.dedup_window.has_value()) t.settings.dedup_window = *update.dedup_window;

  std::vector<FieldError> errors;
  if (update.name.has_value()) {
    if (absl::Status s = ValidateTenantName(t.name); !s.ok()) {
      errors.push_back({"name", std::string(s.message())});
    }
  }
  ValidateTenantSettings(t.settings, &errors);
  if (!errors.empty()) return InvalidArgumentWithFields("invalid tenant", std::move(errors));
  if (t.name != stored->name && stored->name == kPlatformTenantName) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the platform tenant \"", kPlatformTenantName,
        "\" cannot be renamed: the bootstrap finds it by that name"));
  }
  AuditScope audit(store_, clock_, AuditActorOf(who), "tenant.update", id);
  AuditScope::Describe("", TenantToJson(*stored), TenantToJson(t));
  absl::Status s = audit.Finish(store_->UpdateTenant(t));
  if (absl::IsNotFound(s)) return NoTenant(id);  // deleted meanwhile
  ALERTHUB_RETURN_IF_ERROR(s);
  return t;
}

absl::StatusOr<Page<Tenant>> TenantsAdmin::List(const Principal& who, const PageRequest& page) {
  ALERTHUB_ASSIGN_OR_RETURN(Principal op, Resolve(who));
  ALERTHUB_RETURN_IF_ERROR(Authorize(op, Permission::kManageTenants));
  if (page.limit < 1 || page.limit > 500) {
    return InvalidArgumentWithFields("invalid page", {{"page_size", "must be 1-500"}});
  }
  return store_->ListTenants(page);
}

absl::Status TenantsAdmin::Delete(const Principal& who, absl::string_view id) {
  ALERTHUB_ASSIGN_OR_RETURN(Principal op, Resolve(who));
  ALERTHUB_RETURN_IF_ERROR(Authorize(op, Permission::kManageTenants));
  absl::StatusOr<Tenant> stored = store_->GetTenant(id);
  if (absl::IsNotFound(stored.status())) return NoTenant(id);
  ALERTHUB_RETURN_IF_ERROR(stored.status());
  if (stored->name == kPlatformTenantName) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the platform tenant \"", kPlatformTenantName, "\" cannot be deleted"));
  }
  // Read before the delete revokes them: their cache entries go too.
  absl::StatusOr<std::vector<ApiKey>> keys = store_->ListApiKeys(id);
  AuditScope audit(store_, clock_, AuditActorOf(who), "tenant.delete", id);
  AuditScope::Describe("", TenantToJson(*stored), nullptr);
  absl::Status s = audit.Finish(store_->DeleteTenant(id, clock_->Now()));
  if (absl::IsNotFound(s)) return NoTenant(id);
  ALERTHUB_RETURN_IF_ERROR(s);
  if (authenticator_ != nullptr && keys.ok()) {
    for (const ApiKey& k : *keys) authenticator_->Invalidate(k.key_hash);
  }
  return absl::OkStatus();
}

}  // namespace alerthub
