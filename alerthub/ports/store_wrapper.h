// StoreWrapper: a Store that forwards every call to another one, so a
// decorator (metrics, fault injection in tests) overrides only what it
// changes — as leveldb's EnvWrapper does for Env.
#ifndef ALERTHUB_PORTS_STORE_WRAPPER_H_
#define ALERTHUB_PORTS_STORE_WRAPPER_H_

#include "alerthub/ports/store.h"

namespace alerthub {

class StoreWrapper : public Store {
 public:
  // `target` must outlive the wrapper.
  explicit StoreWrapper(Store* target) : target_(target) {}
  Store* target() const { return target_; }

  absl::Status CreateTenant(const Tenant& t) override { return target_->CreateTenant(t); }
  absl::StatusOr<Tenant> GetTenant(absl::string_view id) override {
    return target_->GetTenant(id);
  }
  absl::StatusOr<Tenant> GetTenantByName(absl::string_view name) override {
    return target_->GetTenantByName(name);
  }
  absl::Status CreateApiKey(const ApiKey& k) override { return target_->CreateApiKey(k); }
  absl::StatusOr<ApiKey> FindApiKeyByHash(absl::string_view h) override {
    return target_->FindApiKeyByHash(h);
  }
  absl::StatusOr<std::vector<ApiKey>> ListApiKeys(absl::string_view tenant_id) override {
    return target_->ListApiKeys(tenant_id);
  }
  absl::Status RevokeApiKey(absl::string_view tenant_id, absl::string_view key_id,
                            absl::Time at) override {
    return target_->RevokeApiKey(tenant_id, key_id, at);
  }
  absl::StatusOr<std::vector<SubmissionOutcome>> CommitSubmissions(
      absl::Span<const SubmissionWrite> s) override {
    return target_->CommitSubmissions(s);
  }
  absl::StatusOr<Notification> GetNotification(absl::string_view tenant_id,
                                               absl::string_view id) override {
    return target_->GetNotification(tenant_id, id);
  }
  absl::StatusOr<NotificationPage> ListNotifications(absl::string_view tenant_id,
                                                     const NotificationFilter& f) override {
    return target_->ListNotifications(tenant_id, f);
  }
  absl::StatusOr<std::vector<CloudEvent>> ListEvents(absl::string_view tenant_id,
                                                     absl::string_view id) override {
    return target_->ListEvents(tenant_id, id);
  }
  absl::StatusOr<std::vector<OutboxRecord>> ClaimOutbox(int max, absl::Duration lease) override {
    return target_->ClaimOutbox(max, lease);
  }
  absl::Status MarkOutboxSent(absl::Span<const int64_t> seqs) override {
    return target_->MarkOutboxSent(seqs);
  }
  absl::StatusOr<int64_t> CountOutboxPending() override {
    return target_->CountOutboxPending();
  }
  absl::StatusOr<std::unique_ptr<TaskQueue>> OpenTaskQueue() override {
    return target_->OpenTaskQueue();
  }
  absl::Status Ping() override { return target_->Ping(); }

 private:
  Store* const target_;
};

}  // namespace alerthub

#endif  // ALERTHUB_PORTS_STORE_WRAPPER_H_
