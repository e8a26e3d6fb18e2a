// Internal to the SQLite adapter: tenant administration (schema migration
// 6, "tenant_admin": tenants.deleted_at). SqliteStore forwards the Store
// methods of the same names here; their contracts are in
// alerthub/ports/store.h ("Tenant administration").
#ifndef ALERTHUB_ADAPTERS_SQLITE_INTERNAL_TENANT_TABLES_H_
#define ALERTHUB_ADAPTERS_SQLITE_INTERNAL_TENANT_TABLES_H_

#include <memory>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "alerthub/adapters/sqlite/internal/database.h"
#include "alerthub/ports/store.h"

namespace alerthub::sqlite_internal {

// The SQL of migration 6, "tenant_admin" (schema.cc lists it).
extern const char kTenantAdminMigrationSql[];

// Columns of a tenant, in TenantFromRow()'s order.
extern const char kTenantColumns[];

// The tenant in the current row of `st` (selected with kTenantColumns
// first); kInternal for corrupt settings.
absl::StatusOr<Tenant> TenantFromRow(const Statement& st);

class TenantTables {
 public:
  explicit TenantTables(std::shared_ptr<Database> db) : db_(std::move(db)) {}

  absl::StatusOr<Page<Tenant>> ListTenants(const PageRequest& page);
  absl::Status UpdateTenant(const Tenant& tenant);
  absl::Status DeleteTenant(absl::string_view id, absl::Time at);

 private:
  const std::shared_ptr<Database> db_;
};

}  // namespace alerthub::sqlite_internal

#endif  // ALERTHUB_ADAPTERS_SQLITE_INTERNAL_TENANT_TABLES_H_
