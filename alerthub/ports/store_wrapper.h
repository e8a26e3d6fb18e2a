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
  absl::Status CreateTenantWithKey(const Tenant& t, const ApiKey& first_key) override {
    return target_->CreateTenantWithKey(t, first_key);
  }
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
  absl::StatusOr<std::unique_ptr<OutboxBatch>> TakeOutbox(int max, absl::Duration lease,
                                                         int64_t after_seq) override {
    return target_->TakeOutbox(max, lease, after_seq);
  }
  absl::StatusOr<int64_t> CountOutboxPending() override {
    return target_->CountOutboxPending();
  }
  absl::StatusOr<std::unique_ptr<TaskQueue>> OpenTaskQueue() override {
    return target_->OpenTaskQueue();
  }
  absl::Status CreateIntegration(const Integration& integration) override {
    return target_->CreateIntegration(integration);
  }
  absl::StatusOr<Integration> GetIntegration(absl::string_view tenant_id, absl::string_view id) override {
    return target_->GetIntegration(tenant_id, id);
  }
  absl::StatusOr<Page<Integration>> ListIntegrations(absl::string_view tenant_id, const IntegrationFilter& filter, const PageRequest& page) override {
    return target_->ListIntegrations(tenant_id, filter, page);
  }
  absl::Status UpdateIntegration(const Integration& integration) override {
    return target_->UpdateIntegration(integration);
  }
  absl::Status DeleteIntegration(absl::string_view tenant_id, absl::string_view id) override {
    return target_->DeleteIntegration(tenant_id, id);
  }
  absl::Status CreateTemplate(const Template& tmpl) override {
    return target_->CreateTemplate(tmpl);
  }
  absl::StatusOr<Template> GetTemplate(absl::string_view tenant_id, absl::string_view id) override {
    return target_->GetTemplate(tenant_id, id);
  }
  absl::StatusOr<Template> FindTemplate(absl::string_view tenant_id, absl::string_view name, Channel channel) override {
    return target_->FindTemplate(tenant_id, name, channel);
  }
  absl::StatusOr<Page<Template>> ListTemplates(absl::string_view tenant_id, const PageRequest& page) override {
    return target_->ListTemplates(tenant_id, page);
  }
  absl::Status UpdateTemplate(const Template& tmpl) override {
    return target_->UpdateTemplate(tmpl);
  }
  absl::Status DeleteTemplate(absl::string_view tenant_id, absl::string_view id) override {
    return target_->DeleteTemplate(tenant_id, id);
  }
  absl::StatusOr<std::vector<absl::StatusOr<RoutingOutcome>>> RecordRoutings(
      absl::Span<const RoutingWrite> writes) override {
    return target_->RecordRoutings(writes);
  }
  absl::StatusOr<std::vector<absl::StatusOr<DeliveryClaim>>> ClaimDeliveries(
      absl::Span<const DeliveryRef> refs, absl::Duration lease) override {
    return target_->ClaimDeliveries(refs, lease);
  }
  absl::StatusOr<std::vector<absl::StatusOr<AttemptOutcomeRecord>>> RecordAttempts(
      absl::Span<const AttemptWrite> writes) override {
    return target_->RecordAttempts(writes);
  }
  absl::StatusOr<AttemptOutcomeRecord> ReplayDelivery(absl::string_view tenant_id, absl::string_view id, const CloudEvent& event) override {
    return target_->ReplayDelivery(tenant_id, id, event);
  }
  absl::StatusOr<Delivery> GetDelivery(absl::string_view tenant_id, absl::string_view id) override {
    return target_->GetDelivery(tenant_id, id);
  }
  absl::StatusOr<Page<Delivery>> ListUnfinishedDeliveries(const PageRequest& page) override {
    return target_->ListUnfinishedDeliveries(page);
  }
  absl::StatusOr<Page<Delivery>> ListDeliveries(absl::string_view tenant_id, const DeliveryFilter& filter, const PageRequest& page) override {
    return target_->ListDeliveries(tenant_id, filter, page);
  }
  absl::StatusOr<CancelOutcome> CancelNotification(absl::string_view tenant_id,
                                                   absl::string_view id,
                                                   const CloudEvent& event) override {
    return target_->CancelNotification(tenant_id, id, event);
  }
  absl::Status CreateRule(const Rule& rule) override { return target_->CreateRule(rule); }
  absl::StatusOr<Rule> GetRule(absl::string_view tenant_id, absl::string_view id) override {
    return target_->GetRule(tenant_id, id);
  }
  absl::StatusOr<std::vector<Rule>> ListRules(absl::string_view tenant_id) override {
    return target_->ListRules(tenant_id);
  }
  absl::Status UpdateRule(const Rule& rule) override { return target_->UpdateRule(rule); }
  absl::Status DeleteRule(absl::string_view tenant_id, absl::string_view id) override {
    return target_->DeleteRule(tenant_id, id);
  }
  absl::Status CreateUser(const User& user) override { return target_->CreateUser(user); }
  absl::StatusOr<User> GetUser(absl::string_view tenant_id, absl::string_view id) override {
    return target_->GetUser(tenant_id, id);
  }
  absl::StatusOr<Page<User>> ListUsers(absl::string_view tenant_id,
                                       const PageRequest& page) override {
    return target_->ListUsers(tenant_id, page);
  }
  absl::Status UpdateUser(const User& user) override { return target_->UpdateUser(user); }
  absl::Status DeleteUser(absl::string_view tenant_id, absl::string_view id) override {
    return target_->DeleteUser(tenant_id, id);
  }
  absl::StatusOr<Preferences> GetPreferences(absl::string_view tenant_id,
                                             absl::string_view user_id) override {
    return target_->GetPreferences(tenant_id, user_id);
  }
  absl::Status SetPreferences(absl::string_view tenant_id, absl::string_view user_id,
                              const Preferences& preferences) override {
    return target_->SetPreferences(tenant_id, user_id, preferences);
  }
  absl::StatusOr<std::vector<Recipient>> GetRecipients(
      absl::string_view tenant_id, absl::Span<const std::string> user_ids) override {
    return target_->GetRecipients(tenant_id, user_ids);
  }
  // --- Auth sessions ---
  absl::Status SetUserPassword(absl::string_view tenant_id, absl::string_view user_id,
                               absl::string_view password_hash, absl::Time at) override {
    return target_->SetUserPassword(tenant_id, user_id, password_hash, at);
  }
  absl::StatusOr<LoginRecord> FindLoginUser(absl::string_view tenant_id,
                                            absl::string_view email) override {
    return target_->FindLoginUser(tenant_id, email);
  }
  absl::Status CreateRefreshToken(const RefreshToken& token) override {
    return target_->CreateRefreshToken(token);
  }
  absl::StatusOr<RefreshRotation> RotateRefreshToken(absl::string_view presented_hash,
                                                     absl::string_view successor_hash,
                                                     absl::Time successor_expires_at,
                                                     absl::Time now) override {
    return target_->RotateRefreshToken(presented_hash, successor_hash, successor_expires_at, now);
  }
  absl::StatusOr<RefreshToken> RevokeRefreshFamily(absl::string_view token_hash,
                                                   absl::Time at) override {
    return target_->RevokeRefreshFamily(token_hash, at);
  }
  absl::StatusOr<RefreshToken> FindRefreshToken(absl::string_view token_hash) override {
    return target_->FindRefreshToken(token_hash);
  }
  // --- Digests ---
  absl::StatusOr<DigestClaim> ClaimDigest(absl::string_view tenant_id,
                                          absl::string_view delivery_id,
                                          absl::Duration lease) override {
    return target_->ClaimDigest(tenant_id, delivery_id, lease);
  }
  absl::StatusOr<absl::Time> PeekDigestFlush(const DigestGroup& group, const DigestWindow& window,
                                             absl::Time earliest) override {
    return target_->PeekDigestFlush(group, window, earliest);
  }
  // --- Tenant administration ---
  absl::StatusOr<Page<Tenant>> ListTenants(const PageRequest& page) override {
    return target_->ListTenants(page);
  }
  absl::Status UpdateTenant(const Tenant& tenant) override { return target_->UpdateTenant(tenant); }
  absl::Status DeleteTenant(absl::string_view id, absl::Time at) override {
    return target_->DeleteTenant(id, at);
  }
  // --- Analytics ---
  absl::StatusOr<std::vector<NotificationCountRow>> CountNotifications(
      absl::string_view tenant_id, const AnalyticsWindow& window,
      absl::string_view type) override {
    return target_->CountNotifications(tenant_id, window, type);
  }
  absl::StatusOr<std::vector<DeliveryCountRow>> CountDeliveries(
      absl::string_view tenant_id, const AnalyticsWindow& window,
      std::optional<Channel> channel) override {
    return target_->CountDeliveries(tenant_id, window, channel);
  }
  absl::StatusOr<std::vector<LatencyHistogramRow>> DeliveryLatencyHistogram(
      absl::string_view tenant_id, const AnalyticsWindow& window,
      std::optional<Channel> channel) override {
    return target_->DeliveryLatencyHistogram(tenant_id, window, channel);
  }
  int ConcurrentCommitLimit() const override { return target_->ConcurrentCommitLimit(); }
  // --- Audit ---
  absl::Status AppendAuditRecord(const AuditRecord& record) override {
    return target_->AppendAuditRecord(record);
  }
  absl::StatusOr<Page<AuditRecord>> ListAuditRecords(absl::string_view tenant_id,
                                                     const AuditFilter& filter,
                                                     const PageRequest& page) override {
    return target_->ListAuditRecords(tenant_id, filter, page);
  }
  // --- Privacy (GDPR) ---
  absl::StatusOr<UserDataExport> ExportUserData(absl::string_view tenant_id,
                                                absl::string_view user_id) override {
    return target_->ExportUserData(tenant_id, user_id);
  }
  absl::StatusOr<UserErasure> EraseUser(absl::string_view tenant_id, absl::string_view user_id,
                                        absl::Time at) override {
    return target_->EraseUser(tenant_id, user_id, at);
  }
  absl::Status Ping() override { return target_->Ping(); }

 private:
  Store* const target_;
};

}  // namespace alerthub

#endif  // ALERTHUB_PORTS_STORE_WRAPPER_H_
