// Internal to the PostgreSQL adapter: tenant administration (schema
// migration 6, "tenant_admin": tenants.deleted_at). PostgresStore forwards
// the Store methods of the same names here; their contracts are in
// alerthub/ports/store.h ("Tenant administration").
#ifndef ALERTHUB_ADAPTERS_POSTGRES_POSTGRES_STORE_TENANTS_H_
#define ALERTHUB_ADAPTERS_POSTGRES_POSTGRES_STORE_TENANTS_H_

#include <memory>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "alerthub/adapters/postgres/internal/connection.h"
#include "alerthub/adapters/postgres/internal/database.h"
#include "alerthub/ports/store.h"

namespace alerthub::postgres_internal {

class PostgresTenantTables {
 public:
  // Decodes row `row` of a result whose first columns are
  // "id, name, settings, created_at" (the store's own decoder).
  using TenantDecoder = absl::StatusOr<Tenant> (*)(const Result& r, int row);

  PostgresTenantTables(std::shared_ptr<Database> db, TenantDecoder tenant_from_row)
      : db_(std::move(db)), tenant_from_row_(tenant_from_row) {}

  absl::StatusOr<Page<Tenant>> ListTenants(const PageRequest& page);
  // `settings` is tenant.settings as the store's JSON document.
  absl::Status UpdateTenant(const Tenant& tenant, absl::string_view settings);
  absl::Status DeleteTenant(absl::string_view id, absl::Time at);

 private:
  const std::shared_ptr<Database> db_;
  const TenantDecoder tenant_from_row_;
};

}  // namespace alerthub::postgres_internal

#endif  // ALERTHUB_ADAPTERS_POSTGRES_POSTGRES_STORE_TENANTS_H_
