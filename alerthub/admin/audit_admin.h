// The admin API's audit log (AuditService), transport-free: the gRPC
// service and the REST route both call it with the caller's Principal.
// Records are written by the Store in the transaction of each change
// (ports/audit.h); this only reads them.
//
//   AuditAdmin audit(store);
//   ALERTHUB_ASSIGN_OR_RETURN(Page<AuditRecord> page,
//                             audit.List(who, filter, {.cursor = "", .limit = 50}));
//
// Needs Permission::kReadAudit (admins and owners); a caller sees only
// their own tenant's records.
//
// Thread-safe.
#ifndef ALERTHUB_ADMIN_AUDIT_ADMIN_H_
#define ALERTHUB_ADMIN_AUDIT_ADMIN_H_

#include "absl/status/statusor.h"
#include "alerthub/auth/principal.h"
#include "alerthub/ports/audit.h"
#include "alerthub/ports/store.h"

namespace alerthub {

class AuditAdmin {
 public:
  // `store` must outlive this.
  explicit AuditAdmin(Store* store) : store_(store) {}

  // The caller's tenant's records matching `filter`, newest first; the page
  // cursor is the last id seen. kInvalidArgument with field errors
  // ("range" when since is not before until, "page_size" outside 1-500,
  // "action" ending in ".." or holding spaces); kPermissionDenied.
  absl::StatusOr<Page<AuditRecord>> List(const Principal& who, const AuditFilter& filter,
                                         const PageRequest& page);

 private:
  Store* const store_;
};

}  // namespace alerthub

#endif  // ALERTHUB_ADMIN_AUDIT_ADMIN_H_
