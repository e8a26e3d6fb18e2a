// Audit records: who changed what, when, in the same transaction as the
// change (ARCHITECTURE §4, Auth).
//
// A request that mutates something opens an AuditScope on its thread before
// it calls into the catalogs; the code that knows the objects describes the
// change; the first write transaction the Store commits on that thread
// appends the record inside that transaction, so a change is never
// committed without its record, nor a record without its change.
//
//   AuditScope audit(store, clock, {.tenant_id = who.tenant_id,
//                                   .actor = who.subject,
//                                   .request_id = req.request_id},
//                    "rule.update", id);
//   absl::StatusOr<Rule> r = routing.PatchRule(who.tenant_id, id, patch);
//   //   ... inside PatchRule: AuditScope::Describe(id, Summary(old), Summary(new));
//   //   ... store->UpdateRule(...): its transaction also inserts the record.
//   ALERTHUB_RETURN_IF_ERROR(audit.Finish(r.status()));
//
// An operation that writes nothing (a GDPR export) gets its record from
// Finish(), which appends it alone when the operation succeeded and no
// transaction carried it. A failed operation leaves no record.
#ifndef ALERTHUB_PORTS_AUDIT_H_
#define ALERTHUB_PORTS_AUDIT_H_

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"

namespace alerthub {

class Clock;
class Store;

struct AuditRecord {
  std::string id;          // UUIDv7, from the scope's opening time
  std::string tenant_id;   // the tenant the change was made in
  std::string actor;       // Principal::subject: "apikey:<id>", "user:<id>"
  std::string action;      // "<object>.<verb>": "rule.create", "user.erase"
  std::string target;      // the object's id ("" when there is none)
  absl::Time time;         // when the scope opened
  std::string request_id;  // the HTTP X-Request-Id or gRPC x-request-id
  // Redacted summaries of the object (no secrets, no personal data beyond
  // ids): null before a create and after a delete.
  nlohmann::json before;
  nlohmann::json after;

  bool operator==(const AuditRecord& other) const = default;
};

nlohmann::json AuditRecordToJson(const AuditRecord& record);
// The inverse, for stored documents; kDataLoss when malformed.
absl::StatusOr<AuditRecord> AuditRecordFromJson(const nlohmann::json& j);

// Which records Store::ListAuditRecords returns; empty fields match all.
struct AuditFilter {
  std::string actor;   // exact
  std::string action;  // exact, or a prefix ending in "." ("rule.")
  std::string target;  // exact
  std::optional<absl::Time> since;  // time >= since
  std::optional<absl::Time> until;  // time < until
};

// Who acts, for an AuditScope.
struct AuditActor {
  std::string tenant_id;
  std::string actor;  // Principal::subject
  std::string request_id;
};

// The record of the operation running on this thread (see the top of this
// file). Scopes nest: one opened while another is current becomes current
// until it closes, then the outer one is current again (a user created
// with a password records "user.create" and, in the password's own
// transaction, "user.set_password"). Not thread-safe: it belongs to the
// thread that opened it, and closes there in reverse order of opening.
class AuditScope {
 public:
  // Opens the scope on the calling thread. `store` and `clock` must
  // outlive it.
  AuditScope(Store* store, Clock* clock, const AuditActor& who, absl::string_view action,
             absl::string_view target = "");
  AuditScope(const AuditScope&) = delete;
  AuditScope& operator=(const AuditScope&) = delete;
  ~AuditScope();

  // The scope open on this thread, or null.
  static AuditScope* Current();

  // Sets the open scope's target (when not empty) and summaries; does
  // nothing when no scope is open. Called by the code that knows the
  // objects (catalogs), before its store write.
  static void Describe(absl::string_view target, nlohmann::json before, nlohmann::json after);

  // For stores, inside a write transaction about to commit: the record to
  // insert in it, or null when it was written already.
  const AuditRecord* Unwritten() const { return written_ ? nullptr : &record_; }
  // For stores, after that transaction committed.
  void MarkWritten() { written_ = true; }

  // Ends the operation whose outcome is `result`: when it is OK and no
  // transaction carried the record, appends the record alone. Returns
  // `result`, or the append's error when that failed.
  absl::Status Finish(absl::Status result);

  const AuditRecord& record() const { return record_; }

 private:
  Store* const store_;
  AuditScope* const outer_;  // current when this one opened
  AuditRecord record_;
  bool written_ = false;
};

namespace audit_internal {
inline const absl::Status& StatusOf(const absl::Status& s) { return s; }
template <typename T>
const absl::Status& StatusOf(const absl::StatusOr<T>& s) {
  return s.status();
}
}  // namespace audit_internal

// Runs `change` (returning absl::Status or absl::StatusOr<T>) inside an
// AuditScope for `action` on `target`, and returns its result, or the
// error of recording it (AuditScope::Finish).
//
//   return RunAudited(store, clock, who, "rule.delete", id,
//                     [&] { return routing.DeleteRule(tenant_id, id); });
template <typename Change>
auto RunAudited(Store* store, Clock* clock, const AuditActor& who, absl::string_view action,
                absl::string_view target, Change change) -> decltype(change()) {
  AuditScope audit(store, clock, who, action, target);
  auto result = change();
  absl::Status recorded = audit.Finish(audit_internal::StatusOf(result));
  if (!recorded.ok()) return recorded;
  return result;
}

}  // namespace alerthub

#endif  // ALERTHUB_PORTS_AUDIT_H_
