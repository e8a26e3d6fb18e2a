// Internal to the PostgreSQL adapter: export and erasure of one user's
// personal data (no schema of its own: it reads and edits the users,
// preferences, refresh_tokens, notifications, deliveries, events, outbox and
// tasks tables). PostgresStore forwards the Store methods of the same names
// here; their contracts are in alerthub/ports/store.h ("Privacy (GDPR)"),
// the document edits in alerthub/ports/user_erasure.h.
#ifndef ALERTHUB_ADAPTERS_POSTGRES_POSTGRES_STORE_PRIVACY_H_
#define ALERTHUB_ADAPTERS_POSTGRES_POSTGRES_STORE_PRIVACY_H_

#include <memory>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "alerthub/adapters/postgres/internal/connection.h"
#include "alerthub/adapters/postgres/internal/database.h"
#include "alerthub/ports/store.h"

namespace alerthub::postgres_internal {

class PostgresPrivacyTables {
 public:
  // The store's own row and document decoders.
  struct Decoders {
    absl::StatusOr<User> (*user)(absl::string_view doc);
    absl::StatusOr<Preferences> (*preferences)(absl::string_view doc);
    absl::StatusOr<CloudEvent> (*event)(absl::string_view doc);
    // Row `row` of a result selecting "status, updated_at, doc" first.
    absl::StatusOr<Notification> (*notification)(const Result& r, int row);
    // Row `row` of a result selecting `delivery_columns` first.
    absl::StatusOr<Delivery> (*delivery)(const Result& r, int row);
    absl::string_view delivery_columns;
  };

  PostgresPrivacyTables(std::shared_ptr<Database> db, Decoders decoders)
      : db_(std::move(db)), decode_(decoders) {}

  // Reads in one REPEATABLE READ transaction, so the export is one snapshot.
  absl::StatusOr<UserDataExport> ExportUserData(absl::string_view tenant_id,
                                                absl::string_view user_id);
  // Locks the user's notifications (FOR UPDATE, by id) before it changes
  // their deliveries, as every transaction changing deliveries does.
  absl::StatusOr<UserErasure> EraseUser(absl::string_view tenant_id, absl::string_view user_id,
                                        absl::Time at);

 private:
  const std::shared_ptr<Database> db_;
  const Decoders decode_;
};

}  // namespace alerthub::postgres_internal

#endif  // ALERTHUB_ADAPTERS_POSTGRES_POSTGRES_STORE_PRIVACY_H_
