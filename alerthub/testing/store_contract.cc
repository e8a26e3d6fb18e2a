#include "alerthub/testing/store_contract.h"

#include <algorithm>
#include <cstdint>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "alerthub/common/uuid.h"
#include "alerthub/model/event.h"
#include "alerthub/testing/status_matchers.h"
#include "gmock/gmock.h"

namespace alerthub::testing {

std::string StoreFactoryName(const ::testing::TestParamInfo<StoreFactory>& info) {
  return info.param.name;
}

void StoreContractTest::SetUp() {
  absl::StatusOr<std::unique_ptr<Store>> store = GetParam().open(&clock_);
  ASSERT_TRUE(store.ok()) << store.status();
  store_ = *std::move(store);
}

void StoreContractTest::TearDown() { store_.reset(); }

Tenant StoreContractTest::AddTenant(absl::string_view name) {
  Tenant t;
  t.id = NewUuidV7(clock_.Now());
  t.name = std::string(name);
  t.created_at = clock_.Now();
  EXPECT_OK(store_->CreateTenant(t));
  return t;
}

SubmissionWrite StoreContractTest::NewSubmission(absl::string_view tenant_id,
                                                 absl::string_view type,
                                                 absl::string_view dedup_key) {
  const absl::Time now = clock_.Now();
  SubmissionWrite w;
  Notification& n = w.notification;
  n.id = NewUuidV7(now);
  n.tenant_id = std::string(tenant_id);
  n.status = NotificationStatus::kAccepted;
  n.created_at = now;
  n.updated_at = now;
  n.type = std::string(type);
  n.title = "v2 is live";
  n.body = "deployed to prod";
  n.priority = Priority::kHigh;
  n.data = {{"build", 42}, {"ok", true}};
  n.tags = {{"env", "prod"}, {"team", "core"}};
  n.recipients = {"user-1"};
  n.dedup_key = std::string(dedup_key);
  w.accepted_event = MakeNotificationEvent(n, kEventAccepted, "/alerthub/pipeline", now,
                                           {{"status", "accepted"}});
  w.outbox_topic = std::string(kTopicCreated);
  w.outbox_payload = CloudEventToJson(w.accepted_event).dump();
  return w;
}

std::vector<std::string> StoreContractTest::CommitAll(
    const std::vector<SubmissionWrite>& writes) {
  absl::StatusOr<std::vector<SubmissionOutcome>> out = store_->CommitSubmissions(writes);
  EXPECT_TRUE(out.ok()) << out.status();
  std::vector<std::string> ids;
  if (!out.ok()) return ids;
  EXPECT_EQ(out->size(), writes.size());
  for (const SubmissionOutcome& o : *out) ids.push_back(o.id);
  return ids;
}

namespace {

using ::absl::StatusCode;
using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::IsEmpty;
using ::testing::SizeIs;

std::vector<std::string> IdsOf(const std::vector<Notification>& ns) {
  std::vector<std::string> ids;
  for (const Notification& n : ns) ids.push_back(n.id);
  return ids;
}

std::vector<std::string> KeysOf(const std::vector<OutboxRecord>& rs) {
  std::vector<std::string> keys;
  for (const OutboxRecord& r : rs) keys.push_back(r.key);
  return keys;
}

std::vector<int64_t> SeqsOf(const std::vector<OutboxRecord>& rs) {
  std::vector<int64_t> seqs;
  for (const OutboxRecord& r : rs) seqs.push_back(r.seq);
  return seqs;
}

std::vector<std::string> KeyIdsOf(const std::vector<ApiKey>& keys) {
  std::vector<std::string> ids;
  for (const ApiKey& k : keys) ids.push_back(k.id);
  return ids;
}

void ExpectSameKey(const ApiKey& got, const ApiKey& want) {
  EXPECT_EQ(got.id, want.id);
  EXPECT_EQ(got.tenant_id, want.tenant_id);
  EXPECT_EQ(got.name, want.name);
  EXPECT_EQ(got.prefix, want.prefix);
  EXPECT_EQ(got.key_hash, want.key_hash);
  EXPECT_EQ(got.role, want.role);
  EXPECT_EQ(got.created_at, want.created_at);
  EXPECT_EQ(got.revoked_at, want.revoked_at);
}

// --- Basics ----------------------------------------------------------------------

TEST_P(StoreContractTest, PingSucceeds) { EXPECT_OK(store_->Ping()); }

TEST_P(StoreContractTest, OpenTaskQueueGivesAWorkingQueueOrUnimplemented) {
  absl::StatusOr<std::unique_ptr<TaskQueue>> q = store_->OpenTaskQueue();
  if (!q.ok()) {
    EXPECT_THAT(q, StatusIs(StatusCode::kUnimplemented));
    return;
  }
  ASSERT_NE(*q, nullptr);
  EXPECT_OK((*q)->Ping());
}

// --- Tenants ---------------------------------------------------------------------

TEST_P(StoreContractTest, CreateTenantThenGetByIdAndName) {
  Tenant t;
  t.id = NewUuidV7(clock_.Now());
  t.name = "acme";
  t.settings.rate_limit_per_second = 50;
  t.settings.rate_limit_burst = 100;
  t.settings.dedup_window = absl::Seconds(120);
  t.created_at = clock_.Now();
  ASSERT_OK(store_->CreateTenant(t));

  for (absl::StatusOr<Tenant> got : {store_->GetTenant(t.id), store_->GetTenantByName("acme")}) {
    ASSERT_OK(got);
    EXPECT_EQ(got->id, t.id);
    EXPECT_EQ(got->name, "acme");
    EXPECT_EQ(got->settings.rate_limit_per_second, 50);
    EXPECT_EQ(got->settings.rate_limit_burst, 100);
    EXPECT_EQ(got->settings.dedup_window, absl::Seconds(120));
    EXPECT_EQ(got->created_at, t.created_at);
  }
}

TEST_P(StoreContractTest, TenantDefaultSettingsRoundTrip) {
  Tenant t = AddTenant("defaults");
  ASSERT_OK_AND_ASSIGN(Tenant got, store_->GetTenant(t.id));
  EXPECT_EQ(got.settings.rate_limit_per_second, 0);
  EXPECT_EQ(got.settings.rate_limit_burst, 0);
  EXPECT_EQ(got.settings.dedup_window, std::nullopt);
}

TEST_P(StoreContractTest, CreateTenantWithTakenIdIsAlreadyExists) {
  Tenant t = AddTenant("acme");
  Tenant same_id = t;
  same_id.name = "other";
  EXPECT_THAT(store_->CreateTenant(same_id), StatusIs(StatusCode::kAlreadyExists));
  EXPECT_THAT(store_->GetTenantByName("other"), StatusIs(StatusCode::kNotFound));
}

TEST_P(StoreContractTest, CreateTenantWithTakenNameIsAlreadyExists) {
  AddTenant("acme");
  Tenant t;
  t.id = NewUuidV7(clock_.Now());
  t.name = "acme";
  t.created_at = clock_.Now();
  EXPECT_THAT(store_->CreateTenant(t), StatusIs(StatusCode::kAlreadyExists));
  EXPECT_THAT(store_->GetTenant(t.id), StatusIs(StatusCode::kNotFound));
}

TEST_P(StoreContractTest, UnknownTenantIsNotFound) {
  AddTenant("acme");
  EXPECT_THAT(store_->GetTenant(NewUuidV7(clock_.Now())), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(store_->GetTenantByName("nobody"), StatusIs(StatusCode::kNotFound));
}

// --- API keys ----------------------------------------------------------------------

ApiKey MakeKey(const Tenant& t, absl::Time now, absl::string_view hash_seed) {
  ApiKey k;
  k.id = NewUuidV7(now);
  k.tenant_id = t.id;
  k.name = absl::StrCat("key ", hash_seed);
  k.prefix = absl::StrCat("ahk_", hash_seed);
  // 64 lowercase hex characters, distinct per seed.
  std::string hash(64, '0');
  for (size_t i = 0; i < hash_seed.size() && i < 64; ++i) {
    hash[i] = "0123456789abcdef"[static_cast<unsigned char>(hash_seed[i]) % 16];
  }
  hash[63] = "0123456789abcdef"[hash_seed.size() % 16];
  k.key_hash = hash;
  k.role = Role::kAdmin;
  k.created_at = now;
  return k;
}

TEST_P(StoreContractTest, CreateApiKeyThenFindByHash) {
  Tenant t = AddTenant("acme");
  ApiKey k = MakeKey(t, clock_.Now(), "abc");
  ASSERT_OK(store_->CreateApiKey(k));
  ASSERT_OK_AND_ASSIGN(ApiKey got, store_->FindApiKeyByHash(k.key_hash));
  ExpectSameKey(got, k);
}

TEST_P(StoreContractTest, CreateApiKeyForUnknownTenantIsNotFound) {
  Tenant ghost;
  ghost.id = NewUuidV7(clock_.Now());
  ApiKey k = MakeKey(ghost, clock_.Now(), "abc");
  EXPECT_THAT(store_->CreateApiKey(k), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(store_->FindApiKeyByHash(k.key_hash), StatusIs(StatusCode::kNotFound));
}

TEST_P(StoreContractTest, CreateApiKeyWithTakenIdOrHashIsAlreadyExists) {
  Tenant t = AddTenant("acme");
  ApiKey k = MakeKey(t, clock_.Now(), "abc");
  ASSERT_OK(store_->CreateApiKey(k));

  ApiKey same_id = MakeKey(t, clock_.Now(), "def");
  same_id.id = k.id;
  EXPECT_THAT(store_->CreateApiKey(same_id), StatusIs(StatusCode::kAlreadyExists));
  EXPECT_THAT(store_->FindApiKeyByHash(same_id.key_hash), StatusIs(StatusCode::kNotFound));

  ApiKey same_hash = MakeKey(t, clock_.Now(), "ghi");
  same_hash.key_hash = k.key_hash;
  EXPECT_THAT(store_->CreateApiKey(same_hash), StatusIs(StatusCode::kAlreadyExists));

  ASSERT_OK_AND_ASSIGN(std::vector<ApiKey> keys, store_->ListApiKeys(t.id));
  EXPECT_THAT(KeyIdsOf(keys), ElementsAre(k.id));
}

TEST_P(StoreContractTest, FindApiKeyByUnknownHashIsNotFound) {
  Tenant t = AddTenant("acme");
  ASSERT_OK(store_->CreateApiKey(MakeKey(t, clock_.Now(), "abc")));
  EXPECT_THAT(store_->FindApiKeyByHash(std::string(64, 'f')),
              StatusIs(StatusCode::kNotFound));
}

TEST_P(StoreContractTest, ListApiKeysNewestFirstAndTenantScoped) {
  Tenant a = AddTenant("acme");
  Tenant b = AddTenant("globex");
  ApiKey k1 = MakeKey(a, clock_.Now(), "one");
  clock_.Advance(absl::Seconds(1));
  ApiKey k2 = MakeKey(a, clock_.Now(), "two");
  clock_.Advance(absl::Seconds(1));
  ApiKey other = MakeKey(b, clock_.Now(), "other");
  clock_.Advance(absl::Seconds(1));
  ApiKey k3 = MakeKey(a, clock_.Now(), "three");
  for (const ApiKey& k : {k1, k2, other, k3}) ASSERT_OK(store_->CreateApiKey(k));

  ASSERT_OK_AND_ASSIGN(std::vector<ApiKey> keys, store_->ListApiKeys(a.id));
  EXPECT_THAT(KeyIdsOf(keys), ElementsAre(k3.id, k2.id, k1.id));
  ASSERT_EQ(keys.size(), 3u);
  ExpectSameKey(keys[0], k3);

  ASSERT_OK_AND_ASSIGN(std::vector<ApiKey> b_keys, store_->ListApiKeys(b.id));
  EXPECT_THAT(KeyIdsOf(b_keys), ElementsAre(other.id));

  ASSERT_OK_AND_ASSIGN(std::vector<ApiKey> none,
                       store_->ListApiKeys(NewUuidV7(clock_.Now())));
  EXPECT_THAT(none, IsEmpty());
}

TEST_P(StoreContractTest, RevokeApiKeyIsIdempotentAndKeepsTheFirstTime) {
  Tenant t = AddTenant("acme");
  ApiKey k = MakeKey(t, clock_.Now(), "abc");
  ASSERT_OK(store_->CreateApiKey(k));
  const absl::Time first = clock_.Now() + absl::Minutes(1);
  ASSERT_OK(store_->RevokeApiKey(t.id, k.id, first));
  ASSERT_OK(store_->RevokeApiKey(t.id, k.id, first + absl::Hours(1)));

  // A revoked key is still found (so callers can tell "revoked" from "unknown").
  ASSERT_OK_AND_ASSIGN(ApiKey got, store_->FindApiKeyByHash(k.key_hash));
  EXPECT_EQ(got.revoked_at, first);
  ASSERT_OK_AND_ASSIGN(std::vector<ApiKey> keys, store_->ListApiKeys(t.id));
  ASSERT_THAT(keys, SizeIs(1));
  EXPECT_EQ(keys[0].revoked_at, first);
}

TEST_P(StoreContractTest, RevokeAnotherTenantsOrAnUnknownKeyIsNotFound) {
  Tenant a = AddTenant("acme");
  Tenant b = AddTenant("globex");
  ApiKey k = MakeKey(a, clock_.Now(), "abc");
  ASSERT_OK(store_->CreateApiKey(k));
  EXPECT_THAT(store_->RevokeApiKey(b.id, k.id, clock_.Now()),
              StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(store_->RevokeApiKey(a.id, NewUuidV7(clock_.Now()), clock_.Now()),
              StatusIs(StatusCode::kNotFound));
  ASSERT_OK_AND_ASSIGN(ApiKey got, store_->FindApiKeyByHash(k.key_hash));
  EXPECT_EQ(got.revoked_at, std::nullopt);
}

// --- Submissions -------------------------------------------------------------------

TEST_P(StoreContractTest, CommitSubmissionsReturnsIdsInOrderAndStoresEach) {
  Tenant t = AddTenant("acme");
  std::vector<SubmissionWrite> writes;
  for (int i = 0; i < 5; ++i) writes.push_back(NewSubmission(t.id));
  writes[2].notification.dedup_key = "deploy-2";

  ASSERT_OK_AND_ASSIGN(std::vector<SubmissionOutcome> out,
                       store_->CommitSubmissions(writes));
  ASSERT_THAT(out, SizeIs(5));
  for (size_t i = 0; i < writes.size(); ++i) {
    EXPECT_EQ(out[i].id, writes[i].notification.id) << i;
    EXPECT_FALSE(out[i].duplicate) << i;
    ASSERT_OK_AND_ASSIGN(Notification got, store_->GetNotification(t.id, out[i].id));
    EXPECT_EQ(NotificationToJson(got), NotificationToJson(writes[i].notification)) << i;
  }
}

TEST_P(StoreContractTest, CommitNothingIsOk) {
  ASSERT_OK_AND_ASSIGN(std::vector<SubmissionOutcome> out,
                       store_->CommitSubmissions({}));
  EXPECT_THAT(out, IsEmpty());
  ASSERT_OK_AND_ASSIGN(int64_t pending, store_->CountOutboxPending());
  EXPECT_EQ(pending, 0);
}

TEST_P(StoreContractTest, DuplicateDedupKeyInALaterCallReturnsTheOriginalAndWritesNothing) {
  Tenant t = AddTenant("acme");
  SubmissionWrite original = NewSubmission(t.id, "deploy.finished", "build-42");
  ASSERT_THAT(CommitAll({original}), ElementsAre(original.notification.id));

  SubmissionWrite dup = NewSubmission(t.id, "deploy.finished", "build-42");
  dup.notification.title = "a different title";
  SubmissionWrite fresh = NewSubmission(t.id);
  ASSERT_OK_AND_ASSIGN(std::vector<SubmissionOutcome> out,
                       store_->CommitSubmissions({dup, fresh}));
  ASSERT_THAT(out, SizeIs(2));
  EXPECT_EQ(out[0].id, original.notification.id);
  EXPECT_TRUE(out[0].duplicate);
  EXPECT_EQ(out[1].id, fresh.notification.id);
  EXPECT_FALSE(out[1].duplicate);

  // The duplicate left no notification, event or outbox message behind.
  EXPECT_THAT(store_->GetNotification(t.id, dup.notification.id),
              StatusIs(StatusCode::kNotFound));
  ASSERT_OK_AND_ASSIGN(Notification stored,
                       store_->GetNotification(t.id, original.notification.id));
  EXPECT_EQ(stored.title, original.notification.title);
  ASSERT_OK_AND_ASSIGN(std::vector<CloudEvent> events,
                       store_->ListEvents(t.id, original.notification.id));
  EXPECT_THAT(events, SizeIs(1));
  ASSERT_OK_AND_ASSIGN(int64_t pending, store_->CountOutboxPending());
  EXPECT_EQ(pending, 2);
}

TEST_P(StoreContractTest, DuplicateDedupKeyWithinOneCallReturnsTheFirst) {
  Tenant t = AddTenant("acme");
  SubmissionWrite a = NewSubmission(t.id, "deploy.finished", "k1");
  SubmissionWrite b = NewSubmission(t.id, "deploy.finished", "k2");
  SubmissionWrite a2 = NewSubmission(t.id, "deploy.finished", "k1");
  SubmissionWrite a3 = NewSubmission(t.id, "deploy.finished", "k1");
  ASSERT_OK_AND_ASSIGN(std::vector<SubmissionOutcome> out,
                       store_->CommitSubmissions({a, b, a2, a3}));
  ASSERT_THAT(out, SizeIs(4));
  EXPECT_EQ(out[0].id, a.notification.id);
  EXPECT_FALSE(out[0].duplicate);
  EXPECT_EQ(out[1].id, b.notification.id);
  EXPECT_FALSE(out[1].duplicate);
  EXPECT_EQ(out[2].id, a.notification.id);
  EXPECT_TRUE(out[2].duplicate);
  EXPECT_EQ(out[3].id, a.notification.id);
  EXPECT_TRUE(out[3].duplicate);

  EXPECT_THAT(store_->GetNotification(t.id, a2.notification.id),
              StatusIs(StatusCode::kNotFound));
  ASSERT_OK_AND_ASSIGN(int64_t pending, store_->CountOutboxPending());
  EXPECT_EQ(pending, 2);
  NotificationFilter all;
  ASSERT_OK_AND_ASSIGN(NotificationPage page, store_->ListNotifications(t.id, all));
  EXPECT_THAT(IdsOf(page.items), ElementsAre(b.notification.id, a.notification.id));
}

TEST_P(StoreContractTest, DedupKeysAreScopedToTheTenant) {
  Tenant a = AddTenant("acme");
  Tenant b = AddTenant("globex");
  SubmissionWrite wa = NewSubmission(a.id, "deploy.finished", "same-key");
  SubmissionWrite wb = NewSubmission(b.id, "deploy.finished", "same-key");
  ASSERT_OK_AND_ASSIGN(std::vector<SubmissionOutcome> out,
                       store_->CommitSubmissions({wa, wb}));
  ASSERT_THAT(out, SizeIs(2));
  EXPECT_EQ(out[0].id, wa.notification.id);
  EXPECT_FALSE(out[0].duplicate);
  EXPECT_EQ(out[1].id, wb.notification.id);
  EXPECT_FALSE(out[1].duplicate);
}

TEST_P(StoreContractTest, SubmissionsWithoutDedupKeyAreNeverDuplicates) {
  Tenant t = AddTenant("acme");
  SubmissionWrite w1 = NewSubmission(t.id);
  SubmissionWrite w2 = NewSubmission(t.id);
  ASSERT_OK_AND_ASSIGN(std::vector<SubmissionOutcome> out,
                       store_->CommitSubmissions({w1, w2}));
  ASSERT_THAT(out, SizeIs(2));
  EXPECT_FALSE(out[0].duplicate);
  EXPECT_FALSE(out[1].duplicate);
  ASSERT_OK_AND_ASSIGN(out, store_->CommitSubmissions({NewSubmission(t.id)}));
  EXPECT_FALSE(out[0].duplicate);
  ASSERT_OK_AND_ASSIGN(int64_t pending, store_->CountOutboxPending());
  EXPECT_EQ(pending, 3);
}

TEST_P(StoreContractTest, CommitWritesTheAcceptedEvent) {
  Tenant t = AddTenant("acme");
  SubmissionWrite w = NewSubmission(t.id);
  ASSERT_THAT(CommitAll({w}), ElementsAre(w.notification.id));
  ASSERT_OK_AND_ASSIGN(std::vector<CloudEvent> events,
                       store_->ListEvents(t.id, w.notification.id));
  ASSERT_THAT(events, SizeIs(1));
  EXPECT_EQ(CloudEventToJson(events[0]), CloudEventToJson(w.accepted_event));
  EXPECT_EQ(events[0].type, kEventAccepted);
  EXPECT_EQ(events[0].subject, w.notification.id);
}

TEST_P(StoreContractTest, CommitWritesAClaimableOutboxMessage) {
  Tenant t = AddTenant("acme");
  SubmissionWrite w = NewSubmission(t.id);
  ASSERT_THAT(CommitAll({w}), ElementsAre(w.notification.id));
  ASSERT_OK_AND_ASSIGN(std::vector<OutboxRecord> claimed,
                       store_->ClaimOutbox(10, absl::Seconds(30)));
  ASSERT_THAT(claimed, SizeIs(1));
  EXPECT_EQ(claimed[0].topic, kTopicCreated);
  EXPECT_EQ(claimed[0].key, w.notification.id);
  EXPECT_EQ(claimed[0].payload, w.outbox_payload);
}

TEST_P(StoreContractTest, CommitWithATakenIdFailsAndWritesNothing) {
  Tenant t = AddTenant("acme");
  SubmissionWrite first = NewSubmission(t.id);
  ASSERT_THAT(CommitAll({first}), ElementsAre(first.notification.id));

  SubmissionWrite fresh = NewSubmission(t.id, "deploy.started", "fresh-key");
  SubmissionWrite clash = NewSubmission(t.id);
  clash.notification.id = first.notification.id;
  EXPECT_THAT(store_->CommitSubmissions({fresh, clash}),
              StatusIs(StatusCode::kAlreadyExists));

  // All or nothing: `fresh` was rolled back with the call.
  EXPECT_THAT(store_->GetNotification(t.id, fresh.notification.id),
              StatusIs(StatusCode::kNotFound));
  ASSERT_OK_AND_ASSIGN(int64_t pending, store_->CountOutboxPending());
  EXPECT_EQ(pending, 1);
  // Its dedup key was not consumed either.
  ASSERT_OK_AND_ASSIGN(std::vector<SubmissionOutcome> out,
                       store_->CommitSubmissions({fresh}));
  EXPECT_FALSE(out[0].duplicate);
  EXPECT_EQ(out[0].id, fresh.notification.id);
}

// --- Reads and tenant isolation ------------------------------------------------------

TEST_P(StoreContractTest, AnotherTenantsNotificationAndEventsAreNotFound) {
  Tenant a = AddTenant("acme");
  Tenant b = AddTenant("globex");
  SubmissionWrite w = NewSubmission(a.id);
  ASSERT_THAT(CommitAll({w}), ElementsAre(w.notification.id));

  EXPECT_THAT(store_->GetNotification(b.id, w.notification.id),
              StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(store_->ListEvents(b.id, w.notification.id),
              StatusIs(StatusCode::kNotFound));
  ASSERT_OK_AND_ASSIGN(NotificationPage page,
                       store_->ListNotifications(b.id, NotificationFilter()));
  EXPECT_THAT(page.items, IsEmpty());
  EXPECT_FALSE(page.has_more);
}

TEST_P(StoreContractTest, UnknownNotificationIsNotFound) {
  Tenant t = AddTenant("acme");
  const std::string id = NewUuidV7(clock_.Now());
  EXPECT_THAT(store_->GetNotification(t.id, id), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(store_->ListEvents(t.id, id), StatusIs(StatusCode::kNotFound));
}

TEST_P(StoreContractTest, ListNotificationsIsNewestFirstAndTenantScoped) {
  Tenant a = AddTenant("acme");
  Tenant b = AddTenant("globex");
  std::vector<SubmissionWrite> writes;
  for (int i = 0; i < 4; ++i) {
    writes.push_back(NewSubmission(i == 2 ? b.id : a.id));
    clock_.Advance(absl::Milliseconds(10));
  }
  CommitAll(writes);
  ASSERT_OK_AND_ASSIGN(NotificationPage page,
                       store_->ListNotifications(a.id, NotificationFilter()));
  EXPECT_THAT(IdsOf(page.items),
              ElementsAre(writes[3].notification.id, writes[1].notification.id,
                          writes[0].notification.id));
  EXPECT_FALSE(page.has_more);
  ASSERT_EQ(page.items.size(), 3u);
  EXPECT_EQ(NotificationToJson(page.items[0]), NotificationToJson(writes[3].notification));
}

TEST_P(StoreContractTest, ListNotificationsFiltersByStatus) {
  Tenant t = AddTenant("acme");
  SubmissionWrite accepted1 = NewSubmission(t.id);
  SubmissionWrite suppressed = NewSubmission(t.id);
  suppressed.notification.status = NotificationStatus::kSuppressed;
  SubmissionWrite accepted2 = NewSubmission(t.id);
  CommitAll({accepted1, suppressed, accepted2});

  NotificationFilter f;
  f.status = NotificationStatus::kAccepted;
  ASSERT_OK_AND_ASSIGN(NotificationPage page, store_->ListNotifications(t.id, f));
  EXPECT_THAT(IdsOf(page.items),
              ElementsAre(accepted2.notification.id, accepted1.notification.id));
  f.status = NotificationStatus::kSuppressed;
  ASSERT_OK_AND_ASSIGN(page, store_->ListNotifications(t.id, f));
  EXPECT_THAT(IdsOf(page.items), ElementsAre(suppressed.notification.id));
  ASSERT_EQ(page.items.size(), 1u);
  EXPECT_EQ(page.items[0].status, NotificationStatus::kSuppressed);
  f.status = NotificationStatus::kDelivered;
  ASSERT_OK_AND_ASSIGN(page, store_->ListNotifications(t.id, f));
  EXPECT_THAT(page.items, IsEmpty());
}

TEST_P(StoreContractTest, ListNotificationsFiltersByType) {
  Tenant t = AddTenant("acme");
  SubmissionWrite d1 = NewSubmission(t.id, "deploy.finished");
  SubmissionWrite alert = NewSubmission(t.id, "alert.fired");
  SubmissionWrite d2 = NewSubmission(t.id, "deploy.finished");
  CommitAll({d1, alert, d2});

  NotificationFilter f;
  f.type = "deploy.finished";
  ASSERT_OK_AND_ASSIGN(NotificationPage page, store_->ListNotifications(t.id, f));
  EXPECT_THAT(IdsOf(page.items), ElementsAre(d2.notification.id, d1.notification.id));
  f.type = "alert.fired";
  ASSERT_OK_AND_ASSIGN(page, store_->ListNotifications(t.id, f));
  EXPECT_THAT(IdsOf(page.items), ElementsAre(alert.notification.id));
  f.type = "deploy";  // exact match, not a prefix
  ASSERT_OK_AND_ASSIGN(page, store_->ListNotifications(t.id, f));
  EXPECT_THAT(page.items, IsEmpty());
}

TEST_P(StoreContractTest, ListNotificationsFiltersBySince) {
  Tenant t = AddTenant("acme");
  SubmissionWrite old = NewSubmission(t.id);
  clock_.Advance(absl::Minutes(5));
  const absl::Time boundary = clock_.Now();
  SubmissionWrite at_boundary = NewSubmission(t.id);
  clock_.Advance(absl::Minutes(5));
  SubmissionWrite recent = NewSubmission(t.id);
  CommitAll({old, at_boundary, recent});

  NotificationFilter f;
  f.since = boundary;  // inclusive
  ASSERT_OK_AND_ASSIGN(NotificationPage page, store_->ListNotifications(t.id, f));
  EXPECT_THAT(IdsOf(page.items),
              ElementsAre(recent.notification.id, at_boundary.notification.id));
  f.since = boundary + absl::Microseconds(1);
  ASSERT_OK_AND_ASSIGN(page, store_->ListNotifications(t.id, f));
  EXPECT_THAT(IdsOf(page.items), ElementsAre(recent.notification.id));
}

TEST_P(StoreContractTest, ListNotificationsCombinesFilters) {
  Tenant t = AddTenant("acme");
  SubmissionWrite match = NewSubmission(t.id, "deploy.finished");
  SubmissionWrite wrong_type = NewSubmission(t.id, "alert.fired");
  SubmissionWrite wrong_status = NewSubmission(t.id, "deploy.finished");
  wrong_status.notification.status = NotificationStatus::kSuppressed;
  CommitAll({match, wrong_type, wrong_status});
  NotificationFilter f;
  f.type = "deploy.finished";
  f.status = NotificationStatus::kAccepted;
  f.since = clock_.Now();
  ASSERT_OK_AND_ASSIGN(NotificationPage page, store_->ListNotifications(t.id, f));
  EXPECT_THAT(IdsOf(page.items), ElementsAre(match.notification.id));
}

TEST_P(StoreContractTest, ListNotificationsPagesWithBeforeId) {
  Tenant t = AddTenant("acme");
  std::vector<SubmissionWrite> writes;
  for (int i = 0; i < 7; ++i) {
    writes.push_back(NewSubmission(t.id));
    clock_.Advance(absl::Milliseconds(1));
  }
  CommitAll(writes);
  auto id = [&](int i) { return writes[i].notification.id; };

  NotificationFilter f;
  f.limit = 3;
  ASSERT_OK_AND_ASSIGN(NotificationPage p1, store_->ListNotifications(t.id, f));
  EXPECT_THAT(IdsOf(p1.items), ElementsAre(id(6), id(5), id(4)));
  EXPECT_TRUE(p1.has_more);

  f.before_id = p1.items.back().id;
  ASSERT_OK_AND_ASSIGN(NotificationPage p2, store_->ListNotifications(t.id, f));
  EXPECT_THAT(IdsOf(p2.items), ElementsAre(id(3), id(2), id(1)));
  EXPECT_TRUE(p2.has_more);

  f.before_id = p2.items.back().id;
  ASSERT_OK_AND_ASSIGN(NotificationPage p3, store_->ListNotifications(t.id, f));
  EXPECT_THAT(IdsOf(p3.items), ElementsAre(id(0)));
  EXPECT_FALSE(p3.has_more);

  // A page that ends exactly at the last item has nothing more.
  f.before_id = id(3);
  ASSERT_OK_AND_ASSIGN(NotificationPage exact, store_->ListNotifications(t.id, f));
  EXPECT_THAT(IdsOf(exact.items), ElementsAre(id(2), id(1), id(0)));
  EXPECT_FALSE(exact.has_more);
}

TEST_P(StoreContractTest, ListNotificationsLimitMustBe1To500) {
  Tenant t = AddTenant("acme");
  CommitAll({NewSubmission(t.id), NewSubmission(t.id)});
  NotificationFilter f;
  for (int bad : {0, -1, 501}) {
    f.limit = bad;
    EXPECT_THAT(store_->ListNotifications(t.id, f),
                StatusIs(StatusCode::kInvalidArgument))
        << bad;
  }
  f.limit = 1;
  ASSERT_OK_AND_ASSIGN(NotificationPage one, store_->ListNotifications(t.id, f));
  EXPECT_THAT(one.items, SizeIs(1));
  EXPECT_TRUE(one.has_more);
  f.limit = 500;
  ASSERT_OK_AND_ASSIGN(NotificationPage all, store_->ListNotifications(t.id, f));
  EXPECT_THAT(all.items, SizeIs(2));
  EXPECT_FALSE(all.has_more);
}

// --- Outbox ----------------------------------------------------------------------------

TEST_P(StoreContractTest, ClaimOutboxLeaseHidesMessagesFromOtherClaims) {
  Tenant t = AddTenant("acme");
  std::vector<SubmissionWrite> writes = {NewSubmission(t.id), NewSubmission(t.id),
                                         NewSubmission(t.id)};
  std::vector<std::string> ids = CommitAll(writes);

  ASSERT_OK_AND_ASSIGN(std::vector<OutboxRecord> first,
                       store_->ClaimOutbox(2, absl::Seconds(30)));
  EXPECT_THAT(KeysOf(first), ElementsAre(ids[0], ids[1]));
  ASSERT_EQ(first.size(), 2u);
  EXPECT_LT(first[0].seq, first[1].seq);
  EXPECT_EQ(first[1].payload, writes[1].outbox_payload);

  ASSERT_OK_AND_ASSIGN(std::vector<OutboxRecord> second,
                       store_->ClaimOutbox(10, absl::Seconds(30)));
  EXPECT_THAT(KeysOf(second), ElementsAre(ids[2]));
  ASSERT_EQ(second.size(), 1u);
  EXPECT_GT(second[0].seq, first[1].seq);

  clock_.Advance(absl::Seconds(29));
  ASSERT_OK_AND_ASSIGN(std::vector<OutboxRecord> third,
                       store_->ClaimOutbox(10, absl::Seconds(30)));
  EXPECT_THAT(third, IsEmpty());
  // Claimed but unsent messages are still pending.
  ASSERT_OK_AND_ASSIGN(int64_t pending, store_->CountOutboxPending());
  EXPECT_EQ(pending, 3);
}

TEST_P(StoreContractTest, ClaimOutboxReclaimsExpiredLeases) {
  Tenant t = AddTenant("acme");
  std::vector<std::string> ids =
      CommitAll({NewSubmission(t.id), NewSubmission(t.id), NewSubmission(t.id)});
  ASSERT_OK_AND_ASSIGN(std::vector<OutboxRecord> first,
                       store_->ClaimOutbox(2, absl::Seconds(30)));
  ASSERT_THAT(first, SizeIs(2));
  clock_.Advance(absl::Seconds(10));
  ASSERT_OK_AND_ASSIGN(std::vector<OutboxRecord> second,
                       store_->ClaimOutbox(1, absl::Seconds(30)));
  ASSERT_THAT(KeysOf(second), ElementsAre(ids[2]));

  clock_.Advance(absl::Seconds(20));  // the first lease is over, the second is not
  ASSERT_OK_AND_ASSIGN(std::vector<OutboxRecord> again,
                       store_->ClaimOutbox(10, absl::Seconds(30)));
  EXPECT_THAT(SeqsOf(again), ElementsAreArray(SeqsOf(first)));
  EXPECT_THAT(KeysOf(again), ElementsAre(ids[0], ids[1]));

  clock_.Advance(absl::Seconds(30));
  ASSERT_OK_AND_ASSIGN(std::vector<OutboxRecord> all,
                       store_->ClaimOutbox(10, absl::Seconds(30)));
  EXPECT_THAT(KeysOf(all), ElementsAre(ids[0], ids[1], ids[2]));
}

TEST_P(StoreContractTest, MarkOutboxSentRemovesMessagesForGood) {
  Tenant t = AddTenant("acme");
  std::vector<std::string> ids =
      CommitAll({NewSubmission(t.id), NewSubmission(t.id), NewSubmission(t.id)});
  ASSERT_OK_AND_ASSIGN(std::vector<OutboxRecord> claimed,
                       store_->ClaimOutbox(10, absl::Seconds(30)));
  ASSERT_THAT(claimed, SizeIs(3));
  ASSERT_OK(store_->MarkOutboxSent({claimed[0].seq, claimed[1].seq}));
  ASSERT_OK_AND_ASSIGN(int64_t pending, store_->CountOutboxPending());
  EXPECT_EQ(pending, 1);

  clock_.Advance(absl::Minutes(5));
  ASSERT_OK_AND_ASSIGN(std::vector<OutboxRecord> again,
                       store_->ClaimOutbox(10, absl::Seconds(30)));
  EXPECT_THAT(KeysOf(again), ElementsAre(ids[2]));

  // Marking again, marking an unclaimed-but-expired message and unknown seqs
  // are all fine.
  ASSERT_OK(store_->MarkOutboxSent({claimed[0].seq, again[0].seq, 987654321}));
  ASSERT_OK(store_->MarkOutboxSent({}));
  ASSERT_OK_AND_ASSIGN(pending, store_->CountOutboxPending());
  EXPECT_EQ(pending, 0);
  clock_.Advance(absl::Minutes(5));
  ASSERT_OK_AND_ASSIGN(again, store_->ClaimOutbox(10, absl::Seconds(30)));
  EXPECT_THAT(again, IsEmpty());
}

TEST_P(StoreContractTest, TakeOutboxHidesABatchUntilItIsFinished) {
  Tenant t = AddTenant("acme");
  std::vector<SubmissionWrite> writes = {NewSubmission(t.id), NewSubmission(t.id),
                                         NewSubmission(t.id)};
  std::vector<std::string> ids = CommitAll(writes);

  ASSERT_OK_AND_ASSIGN(std::unique_ptr<OutboxBatch> first,
                       store_->TakeOutbox(2, absl::Seconds(30), 0));
  EXPECT_THAT(KeysOf(first->records()), ElementsAre(ids[0], ids[1]));
  EXPECT_EQ(first->records()[1].topic, kTopicCreated);
  EXPECT_EQ(first->records()[1].payload, writes[1].outbox_payload);
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<OutboxBatch> second,
                       store_->TakeOutbox(10, absl::Seconds(30), 0));
  EXPECT_THAT(KeysOf(second->records()), ElementsAre(ids[2]));
  // Neither takes nor claims see a taken message.
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<OutboxBatch> none,
                       store_->TakeOutbox(10, absl::Seconds(30), 0));
  EXPECT_THAT(none->records(), IsEmpty());
  ASSERT_OK(none->Finish({}));
  ASSERT_OK_AND_ASSIGN(std::vector<OutboxRecord> claimed,
                       store_->ClaimOutbox(10, absl::Seconds(30)));
  EXPECT_THAT(claimed, IsEmpty());

  // Finishing marks only the batch's own sent seqs: not the other batch's,
  // not unknown ones.
  const std::vector<int64_t> first_seqs = SeqsOf(first->records());
  ASSERT_OK(first->Finish({first_seqs[0], second->records()[0].seq, 987654321}));
  ASSERT_OK_AND_ASSIGN(int64_t pending, store_->CountOutboxPending());
  EXPECT_EQ(pending, 2);
  ASSERT_OK(second->Finish(SeqsOf(second->records())));
  ASSERT_OK_AND_ASSIGN(pending, store_->CountOutboxPending());
  EXPECT_EQ(pending, 1);

  // The unsent message comes back no later than when the lease passes.
  clock_.Advance(absl::Seconds(30));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<OutboxBatch> again,
                       store_->TakeOutbox(10, absl::Seconds(30), 0));
  EXPECT_THAT(KeysOf(again->records()), ElementsAre(ids[1]));
  EXPECT_EQ(again->records()[0].seq, first_seqs[1]);
  ASSERT_OK(again->Finish(SeqsOf(again->records())));
  ASSERT_OK_AND_ASSIGN(pending, store_->CountOutboxPending());
  EXPECT_EQ(pending, 0);
}

TEST_P(StoreContractTest, TakeOutboxGetsADroppedBatchBackAfterTheLease) {
  Tenant t = AddTenant("acme");
  std::vector<std::string> ids = CommitAll({NewSubmission(t.id), NewSubmission(t.id)});
  {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<OutboxBatch> dropped,
                         store_->TakeOutbox(10, absl::Seconds(30), 0));
    ASSERT_THAT(dropped->records(), SizeIs(2));
  }  // destroyed unfinished, as by a relay that fails mid-round
  clock_.Advance(absl::Seconds(30));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<OutboxBatch> again,
                       store_->TakeOutbox(10, absl::Seconds(30), 0));
  EXPECT_THAT(KeysOf(again->records()), ElementsAre(ids[0], ids[1]));
  // Finishing with nothing sent leaves both pending.
  ASSERT_OK(again->Finish({}));
  ASSERT_OK_AND_ASSIGN(int64_t pending, store_->CountOutboxPending());
  EXPECT_EQ(pending, 2);
}

TEST_P(StoreContractTest, TakeOutboxRefusesBadArguments) {
  EXPECT_THAT(store_->TakeOutbox(0, absl::Seconds(30), 0), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(store_->TakeOutbox(1, absl::ZeroDuration(), 0),
              StatusIs(StatusCode::kInvalidArgument));
}

TEST_P(StoreContractTest, CountOutboxPendingCountsUnsentMessages) {
  ASSERT_OK_AND_ASSIGN(int64_t pending, store_->CountOutboxPending());
  EXPECT_EQ(pending, 0);
  Tenant t = AddTenant("acme");
  std::vector<SubmissionWrite> writes;
  for (int i = 0; i < 10; ++i) writes.push_back(NewSubmission(t.id));
  CommitAll(writes);
  ASSERT_OK_AND_ASSIGN(pending, store_->CountOutboxPending());
  EXPECT_EQ(pending, 10);
  ASSERT_OK_AND_ASSIGN(std::vector<OutboxRecord> claimed,
                       store_->ClaimOutbox(4, absl::Seconds(30)));
  ASSERT_OK(store_->MarkOutboxSent(SeqsOf(claimed)));
  ASSERT_OK_AND_ASSIGN(pending, store_->CountOutboxPending());
  EXPECT_EQ(pending, 6);
}

TEST_P(StoreContractTest, OutboxSeqIncreasesAcrossCommits) {
  Tenant t = AddTenant("acme");
  std::vector<std::string> ids;
  for (int i = 0; i < 4; ++i) {
    std::vector<std::string> one = CommitAll({NewSubmission(t.id)});
    ids.insert(ids.end(), one.begin(), one.end());
  }
  ASSERT_OK_AND_ASSIGN(std::vector<OutboxRecord> claimed,
                       store_->ClaimOutbox(10, absl::Seconds(30)));
  EXPECT_THAT(KeysOf(claimed), ElementsAreArray(ids));
  for (size_t i = 1; i < claimed.size(); ++i) EXPECT_LT(claimed[i - 1].seq, claimed[i].seq);
}

// --- Concurrency -------------------------------------------------------------------------

TEST_P(StoreContractTest, ConcurrentCommitsAllLand) {
  Tenant t = AddTenant("acme");
  constexpr int kThreads = 8;
  constexpr int kPerThread = 500;
  constexpr int kPerCall = 10;
  std::vector<std::vector<SubmissionWrite>> work(kThreads);
  for (int i = 0; i < kThreads; ++i) {
    for (int j = 0; j < kPerThread; ++j) {
      // Every tenth carries a dedup key, unique across threads.
      work[i].push_back(NewSubmission(t.id, "load.test",
                                      j % 10 == 0 ? absl::StrCat("k-", i, "-", j) : ""));
    }
  }
  std::vector<std::vector<std::string>> ids(kThreads);
  std::vector<absl::Status> errors(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      for (int j = 0; j < kPerThread; j += kPerCall) {
        absl::Span<const SubmissionWrite> batch(work[i].data() + j, kPerCall);
        absl::StatusOr<std::vector<SubmissionOutcome>> out = store_->CommitSubmissions(batch);
        if (!out.ok()) {
          errors[i] = out.status();
          return;
        }
        for (const SubmissionOutcome& o : *out) {
          if (o.duplicate) errors[i] = absl::InternalError("unexpected duplicate");
          ids[i].push_back(o.id);
        }
      }
    });
  }
  for (std::thread& th : threads) th.join();
  std::set<std::string> expected;
  for (int i = 0; i < kThreads; ++i) {
    EXPECT_OK(errors[i]) << "thread " << i;
    ASSERT_THAT(ids[i], SizeIs(kPerThread));
    for (int j = 0; j < kPerThread; ++j) {
      EXPECT_EQ(ids[i][j], work[i][j].notification.id);
      expected.insert(ids[i][j]);
    }
  }
  ASSERT_EQ(expected.size(), static_cast<size_t>(kThreads * kPerThread));

  ASSERT_OK_AND_ASSIGN(int64_t pending, store_->CountOutboxPending());
  EXPECT_EQ(pending, kThreads * kPerThread);
  std::set<std::string> listed;
  NotificationFilter f;
  f.limit = 500;
  while (true) {
    ASSERT_OK_AND_ASSIGN(NotificationPage page, store_->ListNotifications(t.id, f));
    for (const Notification& n : page.items) listed.insert(n.id);
    if (!page.has_more) break;
    f.before_id = page.items.back().id;
  }
  EXPECT_EQ(listed, expected);
}

TEST_P(StoreContractTest, ConcurrentSubmissionsOfOneDedupKeyStoreOne) {
  Tenant t = AddTenant("acme");
  constexpr int kThreads = 8;
  std::vector<SubmissionWrite> writes;
  for (int i = 0; i < kThreads; ++i) {
    writes.push_back(NewSubmission(t.id, "deploy.finished", "the-one"));
  }
  std::vector<absl::StatusOr<std::vector<SubmissionOutcome>>> results(
      kThreads, absl::UnknownError("not run"));
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      results[i] = store_->CommitSubmissions(absl::MakeConstSpan(&writes[i], 1));
    });
  }
  for (std::thread& th : threads) th.join();
  std::string original;
  int originals = 0;
  for (int i = 0; i < kThreads; ++i) {
    ASSERT_OK(results[i]);
    ASSERT_THAT(*results[i], SizeIs(1));
    if (!(*results[i])[0].duplicate) {
      ++originals;
      original = (*results[i])[0].id;
      EXPECT_EQ(original, writes[i].notification.id);
    }
  }
  EXPECT_EQ(originals, 1);
  for (int i = 0; i < kThreads; ++i) EXPECT_EQ((*results[i])[0].id, original);
  ASSERT_OK_AND_ASSIGN(int64_t pending, store_->CountOutboxPending());
  EXPECT_EQ(pending, 1);
}

TEST_P(StoreContractTest, ConcurrentCallsSucceedOrFailIndependently) {
  Tenant t = AddTenant("acme");
  SubmissionWrite existing = NewSubmission(t.id);
  CommitAll({existing});

  constexpr int kThreads = 12;
  std::vector<std::vector<SubmissionWrite>> calls(kThreads);
  for (int i = 0; i < kThreads; ++i) {
    calls[i] = {NewSubmission(t.id, "load.test", absl::StrCat("key-", i)),
                NewSubmission(t.id)};
  }
  // Every third call reuses a stored id: it fails alone, whatever calls it is
  // committed with.
  for (int i = 0; i < kThreads; i += 3) calls[i][1].notification.id = existing.notification.id;

  std::vector<absl::StatusOr<std::vector<SubmissionOutcome>>> results(
      kThreads, absl::UnknownError("not run"));
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] { results[i] = store_->CommitSubmissions(calls[i]); });
  }
  for (std::thread& th : threads) th.join();

  int64_t written = 1;
  for (int i = 0; i < kThreads; ++i) {
    if (i % 3 == 0) {
      EXPECT_THAT(results[i], StatusIs(StatusCode::kAlreadyExists)) << i;
      EXPECT_THAT(store_->GetNotification(t.id, calls[i][0].notification.id),
                  StatusIs(StatusCode::kNotFound));
    } else {
      ASSERT_OK(results[i]);
      ASSERT_THAT(*results[i], SizeIs(2));
      EXPECT_EQ((*results[i])[0].id, calls[i][0].notification.id);
      EXPECT_EQ((*results[i])[1].id, calls[i][1].notification.id);
      written += 2;
    }
  }
  ASSERT_OK_AND_ASSIGN(int64_t pending, store_->CountOutboxPending());
  EXPECT_EQ(pending, written);
}

TEST_P(StoreContractTest, ConcurrentClaimsAreDisjoint) {
  Tenant t = AddTenant("acme");
  std::vector<SubmissionWrite> writes;
  for (int i = 0; i < 200; ++i) writes.push_back(NewSubmission(t.id));
  CommitAll(writes);

  constexpr int kThreads = 4;
  absl::Mutex mu;
  std::vector<int64_t> seqs;
  absl::Status error;
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&] {
      while (true) {
        absl::StatusOr<std::vector<OutboxRecord>> claimed =
            store_->ClaimOutbox(7, absl::Minutes(5));
        absl::MutexLock lock(&mu);
        if (!claimed.ok()) {
          error = claimed.status();
          return;
        }
        if (claimed->empty()) return;
        for (const OutboxRecord& r : *claimed) seqs.push_back(r.seq);
      }
    });
  }
  for (std::thread& th : threads) th.join();
  EXPECT_OK(error);
  std::set<int64_t> unique(seqs.begin(), seqs.end());
  EXPECT_EQ(seqs.size(), 200u);
  EXPECT_EQ(unique.size(), 200u);
}

}  // namespace

GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(StoreContractTest);

}  // namespace alerthub::testing
