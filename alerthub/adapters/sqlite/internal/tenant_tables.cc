#include "alerthub/adapters/sqlite/internal/tenant_tables.h"

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "alerthub/adapters/sqlite/internal/connection.h"
#include "alerthub/adapters/sqlite/internal/table_util.h"
#include "alerthub/common/status.h"

namespace alerthub::sqlite_internal {

// NULL while the tenant is live. Deleted tenants keep their row (and so
// their name): their notifications and deliveries still reference it.
const char kTenantAdminMigrationSql[] = R"sql(
ALTER TABLE tenants ADD COLUMN deleted_at INTEGER;
)sql";

const char kTenantColumns[] = "id, name, settings, created_at";

absl::StatusOr<Tenant> TenantFromRow(const Statement& st) {
  Tenant t;
  t.id = std::string(st.ColumnText(0));
  t.name = std::string(st.ColumnText(1));
  ALERTHUB_ASSIGN_OR_RETURN(t.settings,
                            DecodeJsonColumn(st.ColumnText(2), "tenants.settings",
                                             [](const nlohmann::json& j) {
                                               return TenantSettingsFromJson(j);
                                             }));
  t.created_at = FromMicros(st.ColumnInt64(3));
  return t;
}

namespace {

absl::Status NoTenant(absl::string_view id) {
  return absl::NotFoundError(absl::StrCat("no tenant with id \"", id, "\""));
}

}  // namespace

absl::StatusOr<Page<Tenant>> TenantTables::ListTenants(const PageRequest& page) {
  static const std::string sql =
      absl::StrCat("SELECT ", kTenantColumns,
                   " FROM tenants WHERE deleted_at IS NULL AND id > ?1 ORDER BY id LIMIT ?2");
  return ReadPage<Tenant>(
      *db_, sql, page,
      [&](Statement& st) {
        st.BindText(1, page.cursor);
        st.BindInt64(2, page.limit + 1);
      },
      TenantFromRow);
}

absl::Status TenantTables::UpdateTenant(const Tenant& tenant) {
  ALERTHUB_ASSIGN_OR_RETURN(std::string settings,
                            Dump(TenantSettingsToJson(tenant.settings), "tenant settings"));
  absl::Status s = db_->Write([&](Connection& c) -> absl::Status {
    ALERTHUB_ASSIGN_OR_RETURN(
        Statement st, c.Prepare("UPDATE tenants SET name = ?2, settings = ?3 "
                                "WHERE id = ?1 AND deleted_at IS NULL"));
    st.BindText(1, tenant.id);
    st.BindText(2, tenant.name);
    st.BindText(3, settings);
    ALERTHUB_RETURN_IF_ERROR(st.Run());
    if (st.Changes() == 0) return NoTenant(tenant.id);
    return absl::OkStatus();
  });
  if (absl::IsAlreadyExists(s)) {
    return absl::AlreadyExistsError(
        absl::StrCat("a tenant named \"", tenant.name, "\" already exists"));
  }
  return s;
}

absl::Status TenantTables::DeleteTenant(absl::string_view id, absl::Time at) {
  return db_->Write([&](Connection& c) -> absl::Status {
    ALERTHUB_ASSIGN_OR_RETURN(
        Statement mark,
        c.Prepare("UPDATE tenants SET deleted_at = ?2 WHERE id = ?1 AND deleted_at IS NULL"));
    mark.BindText(1, id);
    mark.BindInt64(2, Micros(at));
    ALERTHUB_RETURN_IF_ERROR(mark.Run());
    if (mark.Changes() == 0) return NoTenant(id);
    // Its credentials stop working now, not when a cache notices.
    for (const char* sql :
         {"UPDATE api_keys SET revoked_at = ?2 WHERE tenant_id = ?1 AND revoked_at IS NULL",
          "UPDATE refresh_tokens SET revoked_at = ?2 "
          "WHERE tenant_id = ?1 AND revoked_at IS NULL"}) {
      ALERTHUB_ASSIGN_OR_RETURN(Statement revoke, c.Prepare(sql));
      revoke.BindText(1, id);
      revoke.BindInt64(2, Micros(at));
      ALERTHUB_RETURN_IF_ERROR(revoke.Run());
    }
    return absl::OkStatus();
  });
}

}  // namespace alerthub::sqlite_internal
