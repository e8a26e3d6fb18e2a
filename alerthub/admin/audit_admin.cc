#include "alerthub/admin/audit_admin.h"

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "alerthub/auth/rbac.h"
#include "alerthub/common/status.h"

namespace alerthub {

absl::StatusOr<Page<AuditRecord>> AuditAdmin::List(const Principal& who,
                                                   const AuditFilter& filter,
                                                   const PageRequest& page) {
  ALERTHUB_RETURN_IF_ERROR(Authorize(who, Permission::kReadAudit));
  std::vector<FieldError> errors;
  if (filter.since.has_value() && filter.until.has_value() && *filter.since >= *filter.until) {
    errors.push_back({"range", "start must be before end"});
  }
  if (page.limit < 1 || page.limit > 500) {
    errors.push_back({"page_size", absl::StrCat("must be 1-500, got ", page.limit)});
  }
  if (absl::StrContains(filter.action, "..") || absl::StrContains(filter.action, " ")) {
    errors.push_back({"action", "must be an action (\"rule.update\") or a prefix (\"rule.\")"});
  }
  if (!errors.empty()) return InvalidArgumentWithFields("invalid audit query", std::move(errors));
  return store_->ListAuditRecords(who.tenant_id, filter, page);
}

}  // namespace alerthub
