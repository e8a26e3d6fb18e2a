#include "alerthub/admin/api_keys_admin.h"

#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "alerthub/auth/rbac.h"
#include "alerthub/common/status.h"
#include "alerthub/ports/audit.h"

namespace alerthub {

ApiKeysAdmin::ApiKeysAdmin(Store* store, ApiKeyAuthenticator* authenticator, Clock* clock)
    : store_(store), authenticator_(authenticator), clock_(clock) {}

absl::StatusOr<ApiKeysAdmin::Created> ApiKeysAdmin::Create(const Principal& who,
                                                           absl::string_view name, Role role) {
  ALERTHUB_RETURN_IF_ERROR(Authorize(who, Permission::kManageApiKeys));
  std::vector<FieldError> errors;
  if (name.empty() || name.size() > kMaxNameLength) {
    errors.push_back({"name", absl::StrCat("must be 1-", kMaxNameLength, " characters")});
  }
  if (!errors.empty()) return InvalidArgumentWithFields("invalid API key", std::move(errors));
  ALERTHUB_RETURN_IF_ERROR(AuthorizeGrant(who, role));
  NewApiKey key = GenerateApiKey(who.tenant_id, name, role, clock_->Now());
  AuditScope audit(store_, clock_, AuditActorOf(who), "api_key.create", key.record.id);
  AuditScope::Describe("", nullptr, ApiKeyToJson(key.record));
  ALERTHUB_RETURN_IF_ERROR(audit.Finish(store_->CreateApiKey(key.record)));
  return Created{std::move(key.record), std::move(key.plaintext)};
}

absl::StatusOr<Page<ApiKey>> ApiKeysAdmin::List(const Principal& who, absl::string_view prefix,
                                                const PageRequest& page) {
  ALERTHUB_RETURN_IF_ERROR(Authorize(who, Permission::kManageApiKeys));
  if (page.limit < 1 || page.limit > 500) {
    return InvalidArgumentWithFields("invalid page", {{"page_size", "must be 1-500"}});
  }
  ALERTHUB_ASSIGN_OR_RETURN(std::vector<ApiKey> keys, store_->ListApiKeys(who.tenant_id));
  Page<ApiKey> out;
  // Newest first: after the cursor means after its position in this order.
  bool past_cursor = page.cursor.empty();
  for (ApiKey& k : keys) {
    if (!past_cursor) {
      past_cursor = k.id == page.cursor;
      continue;
    }
    if (!absl::StartsWith(k.prefix, prefix)) continue;
    if (out.items.size() == static_cast<size_t>(page.limit)) {
      out.has_more = true;
      break;
    }
    out.items.push_back(std::move(k));
  }
  return out;
}

absl::StatusOr<ApiKey> ApiKeysAdmin::Find(absl::string_view tenant_id, absl::string_view id) {
  ALERTHUB_ASSIGN_OR_RETURN(std::vector<ApiKey> keys, store_->ListApiKeys(tenant_id));
  for (ApiKey& k : keys) {
    if (k.id == id) return std::move(k);
  }
  return absl::NotFoundError(absl::StrCat("no API key ", id));
}

absl::StatusOr<ApiKey> ApiKeysAdmin::Revoke(const Principal& who, absl::string_view id) {
  ALERTHUB_RETURN_IF_ERROR(Authorize(who, Permission::kManageApiKeys));
  ALERTHUB_ASSIGN_OR_RETURN(ApiKey key, Find(who.tenant_id, id));
  // A key may not be revoked by someone it outranks.
  ALERTHUB_RETURN_IF_ERROR(AuthorizeGrant(who, key.role));
  const absl::Time now = clock_->Now();
  AuditScope audit(store_, clock_, AuditActorOf(who), "api_key.revoke", id);
  ApiKey revoked = key;
  if (!revoked.revoked_at.has_value()) revoked.revoked_at = now;
  AuditScope::Describe("", ApiKeyToJson(key), ApiKeyToJson(revoked));
  ALERTHUB_RETURN_IF_ERROR(audit.Finish(store_->RevokeApiKey(who.tenant_id, id, now)));
  if (authenticator_ != nullptr) authenticator_->Invalidate(key.key_hash);
  // The store keeps the first revocation time of a key revoked already.
  if (!key.revoked_at.has_value()) key.revoked_at = now;
  return key;
}

}  // namespace alerthub
