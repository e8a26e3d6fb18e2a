// Internal to the SQLite adapter: the integrations, templates and deliveries
// tables (schema migration 2). SqliteStore forwards the Store methods of the
// same names here; their contracts are in alerthub/ports/store.h.
#ifndef ALERTHUB_ADAPTERS_SQLITE_INTERNAL_DELIVERY_TABLES_H_
#define ALERTHUB_ADAPTERS_SQLITE_INTERNAL_DELIVERY_TABLES_H_

#include <memory>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "alerthub/adapters/sqlite/internal/connection.h"
#include "alerthub/adapters/sqlite/internal/database.h"
#include "alerthub/ports/store.h"

namespace alerthub::sqlite_internal {

// --- Privacy (GDPR) --- (privacy_tables.cc reads the user's deliveries)
// The columns of a delivery row, in DeliveryFromStatement()'s order.
extern const absl::string_view kDeliverySelectColumns;
// The delivery in the current row of `st`, selected with kDeliverySelectColumns.
Delivery DeliveryFromStatement(const Statement& st);

class DeliveryTables {
 public:
  explicit DeliveryTables(std::shared_ptr<Database> db) : db_(std::move(db)) {}

  absl::Status CreateIntegration(const Integration& integration);
  absl::StatusOr<Integration> GetIntegration(absl::string_view tenant_id,
                                             absl::string_view id);
  absl::StatusOr<Page<Integration>> ListIntegrations(absl::string_view tenant_id,
                                                     const IntegrationFilter& filter,
                                                     const PageRequest& page);
  absl::Status UpdateIntegration(const Integration& integration);
  absl::Status DeleteIntegration(absl::string_view tenant_id, absl::string_view id);

  absl::Status CreateTemplate(const Template& tmpl);
  absl::StatusOr<Template> GetTemplate(absl::string_view tenant_id, absl::string_view id);
  absl::StatusOr<Template> FindTemplate(absl::string_view tenant_id,
                                        absl::string_view name, Channel channel);
  absl::StatusOr<Page<Template>> ListTemplates(absl::string_view tenant_id,
                                               const PageRequest& page);
  absl::Status UpdateTemplate(const Template& tmpl);
  absl::Status DeleteTemplate(absl::string_view tenant_id, absl::string_view id);

  absl::StatusOr<std::vector<absl::StatusOr<RoutingOutcome>>> RecordRoutings(
      absl::Span<const RoutingWrite> writes);
  absl::StatusOr<std::vector<absl::StatusOr<DeliveryClaim>>> ClaimDeliveries(
      absl::Span<const DeliveryRef> refs, absl::Duration lease);
  absl::StatusOr<std::vector<absl::StatusOr<AttemptOutcomeRecord>>> RecordAttempts(
      absl::Span<const AttemptWrite> writes);
  absl::StatusOr<AttemptOutcomeRecord> ReplayDelivery(absl::string_view tenant_id,
                                                     absl::string_view id,
                                                     const CloudEvent& event);
  // Store::CancelNotification's transaction; returns how many deliveries it
  // suppressed.
  absl::StatusOr<int64_t> CancelNotification(absl::string_view tenant_id, absl::string_view id,
                                             const CloudEvent& event);
  absl::StatusOr<Delivery> GetDelivery(absl::string_view tenant_id, absl::string_view id);
  absl::StatusOr<Page<Delivery>> ListUnfinishedDeliveries(const PageRequest& page);
  absl::StatusOr<Page<Delivery>> ListDeliveries(absl::string_view tenant_id,
                                                const DeliveryFilter& filter,
                                                const PageRequest& page);

  // --- Digests ---
  absl::StatusOr<DigestClaim> ClaimDigest(absl::string_view tenant_id,
                                          absl::string_view delivery_id, absl::Duration lease);
  absl::StatusOr<absl::Time> PeekDigestFlush(const DigestGroup& group, const DigestWindow& window,
                                             absl::Time earliest);

 private:
  const std::shared_ptr<Database> db_;
};

}  // namespace alerthub::sqlite_internal

#endif  // ALERTHUB_ADAPTERS_SQLITE_INTERNAL_DELIVERY_TABLES_H_
