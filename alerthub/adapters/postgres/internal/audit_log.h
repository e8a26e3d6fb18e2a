// Internal to the PostgreSQL adapter: the audit log (schema migration 7,
// "audit_log"). Database::Write inserts the thread's AuditScope record with
// InsertAuditRecord before its COMMIT; PostgresStore forwards the Store's
// audit methods (alerthub/ports/store.h "Audit") to AuditLog.
#ifndef ALERTHUB_ADAPTERS_POSTGRES_INTERNAL_AUDIT_LOG_H_
#define ALERTHUB_ADAPTERS_POSTGRES_INTERNAL_AUDIT_LOG_H_

#include <memory>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "alerthub/ports/audit.h"
#include "alerthub/ports/store.h"

namespace alerthub::postgres_internal {

class Connection;
class Database;

// The SQL of migration 7, "audit_log" (schema.cc lists it).
extern const char kAuditLogMigrationSql[];

// Inserts `record` in the transaction open on `conn`. kAlreadyExists when
// its id is taken.
absl::Status InsertAuditRecord(Connection& conn, const AuditRecord& record);

class AuditLog {
 public:
  explicit AuditLog(std::shared_ptr<Database> db) : db_(std::move(db)) {}

  absl::Status AppendAuditRecord(const AuditRecord& record);
  absl::StatusOr<Page<AuditRecord>> ListAuditRecords(absl::string_view tenant_id,
                                                     const AuditFilter& filter,
                                                     const PageRequest& page);

 private:
  const std::shared_ptr<Database> db_;
};

}  // namespace alerthub::postgres_internal

#endif  // ALERTHUB_ADAPTERS_POSTGRES_INTERNAL_AUDIT_LOG_H_
