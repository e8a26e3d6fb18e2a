#include "alerthub/adapters/postgres/postgres_store_tenants.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "alerthub/common/status.h"

namespace alerthub::postgres_internal {

namespace {

int64_t Micros(absl::Time t) { return absl::ToUnixMicros(t); }

absl::Status NoTenant(absl::string_view id) {
  return absl::NotFoundError(absl::StrCat("no tenant with id \"", id, "\""));
}

}  // namespace

absl::StatusOr<Page<Tenant>> PostgresTenantTables::ListTenants(const PageRequest& page) {
  if (page.limit < 1 || page.limit > 500) {
    return absl::InvalidArgumentError(absl::StrCat("limit must be 1-500, got ", page.limit));
  }
  Page<Tenant> out;
  ALERTHUB_RETURN_IF_ERROR(db_->Read([&](Connection& c) -> absl::Status {
    ALERTHUB_ASSIGN_OR_RETURN(
        Result r, c.Query("SELECT id, name, settings, created_at FROM tenants "
                          "WHERE deleted_at IS NULL AND id > $1 ORDER BY id LIMIT $2",
                          Params().Text(page.cursor).Int(page.limit + 1)));
    for (int row = 0; row < r.rows(); ++row) {
      if (row == page.limit) {
        out.has_more = true;
        break;
      }
      ALERTHUB_ASSIGN_OR_RETURN(Tenant t, tenant_from_row_(r, row));
      out.items.push_back(std::move(t));
    }
    return absl::OkStatus();
  }));
  return out;
}

absl::Status PostgresTenantTables::UpdateTenant(const Tenant& tenant,
                                                absl::string_view settings) {
  absl::Status s = db_->Write([&](Connection& c) -> absl::Status {
    ALERTHUB_ASSIGN_OR_RETURN(
        Result r, c.Query("UPDATE tenants SET name = $2, settings = $3 "
                          "WHERE id = $1 AND deleted_at IS NULL",
                          Params().Text(tenant.id).Text(tenant.name).Text(settings)));
    if (r.Affected() == 0) return NoTenant(tenant.id);
    return absl::OkStatus();
  });
  if (absl::IsAlreadyExists(s)) {
    return absl::AlreadyExistsError(
        absl::StrCat("a tenant named \"", tenant.name, "\" already exists"));
  }
  return s;
}

absl::Status PostgresTenantTables::DeleteTenant(absl::string_view id, absl::Time at) {
  return db_->Write([&](Connection& c) -> absl::Status {
    ALERTHUB_ASSIGN_OR_RETURN(
        Result r, c.Query("UPDATE tenants SET deleted_at = $2 "
                          "WHERE id = $1 AND deleted_at IS NULL",
                          Params().Text(id).Int(Micros(at))));
    if (r.Affected() == 0) return NoTenant(id);
    // Its credentials stop working now, not when a cache notices.
    for (const char* sql :
         {"UPDATE api_keys SET revoked_at = $2 WHERE tenant_id = $1 AND revoked_at IS NULL",
          "UPDATE refresh_tokens SET revoked_at = $2 "
          "WHERE tenant_id = $1 AND revoked_at IS NULL"}) {
      ALERTHUB_RETURN_IF_ERROR(c.Query(sql, Params().Text(id).Int(Micros(at))).status());
    }
    return absl::OkStatus();
  });
}

}  // namespace alerthub::postgres_internal
