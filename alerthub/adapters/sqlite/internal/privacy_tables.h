// Internal to the SQLite adapter: export and erasure of one user's personal
// data (no schema of its own: it reads and edits the users, refresh_tokens,
// notifications, deliveries, events, outbox and tasks tables). SqliteStore
// forwards the Store methods of the same names here; their contracts are in
// alerthub/ports/store.h ("Privacy (GDPR)"), the document edits in
// alerthub/ports/user_erasure.h.
#ifndef ALERTHUB_ADAPTERS_SQLITE_INTERNAL_PRIVACY_TABLES_H_
#define ALERTHUB_ADAPTERS_SQLITE_INTERNAL_PRIVACY_TABLES_H_

#include <memory>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "alerthub/adapters/sqlite/internal/database.h"
#include "alerthub/ports/store.h"

namespace alerthub::sqlite_internal {

class PrivacyTables {
 public:
  explicit PrivacyTables(std::shared_ptr<Database> db) : db_(std::move(db)) {}

  // Reads in one read transaction, so the export is one snapshot.
  absl::StatusOr<UserDataExport> ExportUserData(absl::string_view tenant_id,
                                                absl::string_view user_id);
  absl::StatusOr<UserErasure> EraseUser(absl::string_view tenant_id, absl::string_view user_id,
                                        absl::Time at);

 private:
  const std::shared_ptr<Database> db_;
};

}  // namespace alerthub::sqlite_internal

#endif  // ALERTHUB_ADAPTERS_SQLITE_INTERNAL_PRIVACY_TABLES_H_
