// Internal to the SQLite adapter: the audit log (schema migration 7,
// "audit_log"). Database::Write inserts the thread's AuditScope record with
// InsertAuditRecord before its COMMIT; SqliteStore forwards the Store's
// audit methods (alerthub/ports/store.h "Audit") to AuditTable.
#ifndef ALERTHUB_ADAPTERS_SQLITE_INTERNAL_AUDIT_TABLE_H_
#define ALERTHUB_ADAPTERS_SQLITE_INTERNAL_AUDIT_TABLE_H_

#include <memory>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "alerthub/ports/audit.h"
#include "alerthub/ports/store.h"

namespace alerthub::sqlite_internal {

class Connection;
class Database;

// The SQL of migration 7, "audit_log" (schema.cc lists it).
extern const char kAuditLogMigrationSql[];

// Inserts `record` in the transaction open on `conn`. kAlreadyExists when
// its id is taken.
absl::Status InsertAuditRecord(Connection& conn, const AuditRecord& record);

class AuditTable {
 public:
  explicit AuditTable(std::shared_ptr<Database> db) : db_(std::move(db)) {}

  absl::Status AppendAuditRecord(const AuditRecord& record);
  absl::StatusOr<Page<AuditRecord>> ListAuditRecords(absl::string_view tenant_id,
                                                     const AuditFilter& filter,
                                                     const PageRequest& page);

 private:
  const std::shared_ptr<Database> db_;
};

}  // namespace alerthub::sqlite_internal

#endif  // ALERTHUB_ADAPTERS_SQLITE_INTERNAL_AUDIT_TABLE_H_
