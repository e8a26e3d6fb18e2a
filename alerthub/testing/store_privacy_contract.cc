// StoreContractTest cases for one user's export and erasure (ports/store.h,
// "Privacy (GDPR)"). Registered with the rest of the suite.
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "alerthub/common/uuid.h"
#include "alerthub/model/event.h"
#include "alerthub/model/user.h"
#include "alerthub/ports/task_queue.h"
#include "alerthub/ports/user_erasure.h"
#include "alerthub/testing/status_matchers.h"
#include "alerthub/testing/store_contract.h"
#include "gmock/gmock.h"

namespace alerthub::testing {
namespace {

using ::absl::StatusCode;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::HasSubstr;

constexpr char kHash[] = "$argon2id$v=19$m=65536,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g";
constexpr char kTokenHash[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
constexpr char kQueue[] = "deliveries.webhook";

// What the tests plant and then look for: the personal data of "Ada".
constexpr char kEmail[] = "ada.lovelace@example.com";
constexpr char kName[] = "Ada Lovelace";
constexpr char kSlackId[] = "U024BE7LH";

class PrivacyFixture {
 public:
  PrivacyFixture(Store& store, SimulatedClock& clock) : store_(store), clock_(clock) {}

  User AddUser(const Tenant& t, absl::string_view email, absl::string_view name) {
    User u;
    u.id = NewUuidV7(clock_.Now());
    u.tenant_id = t.id;
    u.email = std::string(email);
    u.name = std::string(name);
    u.role = Role::kMember;
    u.addresses.slack_user_id = kSlackId;
    u.created_at = clock_.Now();
    EXPECT_OK(store_.CreateUser(u));
    clock_.Advance(absl::Milliseconds(1));
    return u;
  }

  // A notification addressed to `recipients`, committed as the pipeline
  // does: its outbox message on kTopicCreated carries the notification.
  Notification Submit(const Tenant& t, std::vector<std::string> recipients,
                      absl::string_view body) {
    const absl::Time now = clock_.Now();
    SubmissionWrite w;
    Notification& n = w.notification;
    n.id = NewUuidV7(now);
    n.tenant_id = t.id;
    n.created_at = now;
    n.updated_at = now;
    n.type = "account.notice";
    n.title = "Hello";
    n.body = std::string(body);
    n.data = {{"contact", std::string(body)}};
    n.tags = {{"team", "core"}};
    n.recipients = std::move(recipients);
    w.accepted_event =
        MakeNotificationEvent(n, kEventAccepted, "/alerthub/pipeline", now, {{"status", "accepted"}});
    CloudEvent created = w.accepted_event;
    created.data = NotificationToJson(n);
    w.outbox_topic = std::string(kTopicCreated);
    w.outbox_payload = CloudEventToJson(created).dump();
    absl::StatusOr<std::vector<SubmissionOutcome>> out = store_.CommitSubmissions({w});
    EXPECT_TRUE(out.ok()) << out.status();
    clock_.Advance(absl::Milliseconds(1));
    return n;
  }

  // Routes `n` to one webhook delivery per recipient; `held` ones wait for
  // quiet hours.
  std::vector<Delivery> Route(const Notification& n, const std::vector<std::string>& recipients,
                              bool held = false) {
    const absl::Time now = clock_.Now();
    RoutingWrite w;
    w.tenant_id = n.tenant_id;
    w.notification_id = n.id;
    for (const std::string& r : recipients) {
      Delivery d;
      d.id = NewUuidV7(now);
      d.tenant_id = n.tenant_id;
      d.notification_id = n.id;
      d.integration_id = "int-hook";
      d.channel = Channel::kWebhook;
      d.recipient = r;
      d.status = held ? DeliveryStatus::kHeld : DeliveryStatus::kPending;
      if (held) d.next_attempt_at = now + absl::Hours(8);
      d.created_at = now;
      d.updated_at = now;
      w.deliveries.push_back(d);
    }
    w.status = NotificationStatus::kRouted;
    w.event = MakeNotificationEvent(n, kEventRouted, "/alerthub/delivery", now, {});
    absl::StatusOr<RoutingOutcome> out = store_.RecordRouting(w);
    EXPECT_TRUE(out.ok()) << out.status();
    clock_.Advance(absl::Milliseconds(1));
    return out.ok() ? out->deliveries : std::vector<Delivery>{};
  }

  // Claims `d` and fails it permanently with an answer naming `leak`; also
  // dead-letters its task in the store's own queue (`sql://`).
  void DeadLetter(const Notification& n, const Delivery& d, absl::string_view leak) {
    ASSERT_OK(store_.ClaimDelivery(n.tenant_id, d.id, absl::Minutes(1)).status());
    const std::string error = absl::StrCat("HTTP 400: unknown recipient ", leak);
    AttemptWrite w;
    w.tenant_id = n.tenant_id;
    w.delivery_id = d.id;
    w.status = DeliveryStatus::kFailed;
    w.last_error = error;
    w.attempt_event = MakeNotificationEvent(
        n, kEventDeliveryAttempt, "/alerthub/delivery", clock_.Now(),
        {{"delivery_id", d.id},
         {"attempt", 1},
         {"outcome", "permanent"},
         {"code", 400},
         {"error", error},
         {"response", absl::StrCat("{\"error\": \"no such user ", leak, "\"}")},
         {"reason", error},
         {"dead_lettered", true}});
    ASSERT_OK(store_.RecordAttempt(w).status());

    absl::StatusOr<std::unique_ptr<TaskQueue>> queue = store_.OpenTaskQueue();
    ASSERT_OK(queue.status());
    ASSERT_OK((*queue)->Enqueue(kQueue, d.id, "{}", clock_.Now()));
    absl::StatusOr<std::vector<Task>> leased = (*queue)->Lease(kQueue, 10, absl::Minutes(1));
    ASSERT_OK(leased.status());
    for (const Task& task : *leased) ASSERT_OK((*queue)->DeadLetter(task, error));
    clock_.Advance(absl::Milliseconds(1));
  }

  // Every stored text the API can read back for `tenant_id`'s notification
  // `n`: the notification, its events, its deliveries and its outbox
  // messages (claimed here).
  std::string Everything(const std::string& tenant_id, const std::vector<std::string>& ids) {
    std::string all;
    clock_.Advance(absl::Seconds(2));  // past earlier claims' leases
    for (const std::string& id : ids) {
      absl::StatusOr<Notification> n = store_.GetNotification(tenant_id, id);
      EXPECT_TRUE(n.ok()) << n.status();
      if (n.ok()) absl::StrAppend(&all, NotificationToJson(*n).dump());
      absl::StatusOr<std::vector<CloudEvent>> events = store_.ListEvents(tenant_id, id);
      EXPECT_TRUE(events.ok()) << events.status();
      if (events.ok()) {
        for (const CloudEvent& e : *events) absl::StrAppend(&all, CloudEventToJson(e).dump());
      }
      DeliveryFilter filter;
      filter.notification_id = id;
      absl::StatusOr<Page<Delivery>> ds = store_.ListDeliveries(tenant_id, filter, {});
      EXPECT_TRUE(ds.ok()) << ds.status();
      if (ds.ok()) {
        for (const Delivery& d : ds->items) absl::StrAppend(&all, DeliveryToJson(d).dump());
      }
    }
    absl::StatusOr<std::vector<OutboxRecord>> outbox = store_.ClaimOutbox(500, absl::Seconds(1));
    EXPECT_TRUE(outbox.ok()) << outbox.status();
    if (outbox.ok()) {
      for (const OutboxRecord& r : *outbox) absl::StrAppend(&all, r.payload);
    }
    absl::StatusOr<std::unique_ptr<TaskQueue>> queue = store_.OpenTaskQueue();
    EXPECT_TRUE(queue.ok()) << queue.status();
    if (queue.ok()) {
      absl::StatusOr<std::vector<Task>> dead = (*queue)->ListDead(kQueue, 100);
      EXPECT_TRUE(dead.ok()) << dead.status();
      if (dead.ok()) {
        for (const Task& t : *dead) absl::StrAppend(&all, t.last_error);
      }
    }
    return all;
  }

 private:
  Store& store_;
  SimulatedClock& clock_;
};

std::vector<std::string> NotificationIds(const UserDataExport& e) {
  std::vector<std::string> ids;
  for (const Notification& n : e.notifications) ids.push_back(n.id);
  return ids;
}

std::vector<std::string> DeliveryIdsOf(const std::vector<Delivery>& v) {
  std::vector<std::string> ids;
  for (const Delivery& d : v) ids.push_back(d.id);
  return ids;
}

TEST_P(StoreContractTest, ExportHoldsTheUsersDataAndNoSecrets) {
  PrivacyFixture f(*store_, clock_);
  Tenant t = AddTenant("acme");
  User ada = f.AddUser(t, kEmail, kName);
  User bob = f.AddUser(t, "bob@example.com", "Bob");
  Preferences prefs;
  prefs.time_zone = "Europe/Berlin";
  prefs.opt_out_types = {"marketing.*"};
  ASSERT_OK(store_->SetPreferences(t.id, ada.id, prefs));
  ASSERT_OK(store_->SetUserPassword(t.id, ada.id, kHash, clock_.Now()));
  const absl::Time login = clock_.Now();
  ASSERT_OK(store_->CreateRefreshToken({.token_hash = kTokenHash,
                                        .family_id = NewUuidV7(login),
                                        .tenant_id = t.id,
                                        .user_id = ada.id,
                                        .issued_at = login,
                                        .expires_at = login + absl::Hours(24),
                                        .used_at = std::nullopt,
                                        .revoked_at = std::nullopt}));
  clock_.Advance(absl::Minutes(5));
  ASSERT_OK(store_->RotateRefreshToken(kTokenHash, std::string(64, 'b'),
                                       clock_.Now() + absl::Hours(24), clock_.Now())
                .status());

  Notification mine = f.Submit(t, {ada.id}, "for Ada");
  Notification shared = f.Submit(t, {bob.id, ada.id}, "for both");
  Notification others = f.Submit(t, {bob.id}, "for Bob");
  std::vector<Delivery> d_mine = f.Route(mine, {ada.id});
  std::vector<Delivery> d_shared = f.Route(shared, {bob.id, ada.id});
  f.Route(others, {bob.id});
  f.DeadLetter(mine, d_mine[0], kEmail);

  ASSERT_OK_AND_ASSIGN(UserDataExport e, store_->ExportUserData(t.id, ada.id));
  EXPECT_EQ(e.user.id, ada.id);
  EXPECT_EQ(e.user.email, kEmail);
  EXPECT_EQ(e.user.name, kName);
  EXPECT_EQ(e.user.addresses.slack_user_id, kSlackId);
  EXPECT_EQ(e.preferences.time_zone, "Europe/Berlin");
  EXPECT_THAT(e.preferences.opt_out_types, ElementsAre("marketing.*"));
  EXPECT_TRUE(e.has_password);
  ASSERT_EQ(e.sessions.size(), 1u);  // one login, refreshed once
  EXPECT_EQ(e.sessions[0].started_at, login);
  EXPECT_EQ(e.sessions[0].last_refreshed_at, login + absl::Minutes(5));
  EXPECT_EQ(e.sessions[0].expires_at, login + absl::Minutes(5) + absl::Hours(24));
  EXPECT_EQ(e.sessions[0].revoked_at, std::nullopt);
  EXPECT_THAT(NotificationIds(e), ElementsAre(mine.id, shared.id));
  EXPECT_EQ(e.notifications[0].body, "for Ada");
  EXPECT_EQ(e.notifications[0].status, NotificationStatus::kFailed);
  // Only the deliveries addressed to Ada, oldest first.
  ASSERT_EQ(e.deliveries.size(), 2u);
  EXPECT_EQ(e.deliveries[0].id, d_mine[0].id);
  EXPECT_EQ(e.deliveries[0].status, DeliveryStatus::kFailed);
  EXPECT_THAT(e.deliveries[0].last_error, HasSubstr(kEmail));
  EXPECT_EQ(e.deliveries[1].recipient, ada.id);
  EXPECT_EQ(e.deliveries[1].notification_id, shared.id);
  // The events of both notifications, by notification, oldest first.
  std::vector<std::string> types;
  for (const CloudEvent& ev : e.events) types.push_back(ev.subject + " " + ev.type);
  EXPECT_THAT(types, ElementsAre(absl::StrCat(mine.id, " ", kEventAccepted),
                                 absl::StrCat(mine.id, " ", kEventRouted),
                                 absl::StrCat(mine.id, " ", kEventDeliveryAttempt),
                                 absl::StrCat(mine.id, " ", kEventFailed),
                                 absl::StrCat(shared.id, " ", kEventAccepted),
                                 absl::StrCat(shared.id, " ", kEventRouted)));

  // Another tenant's id, or an unknown one, exports nothing.
  Tenant other = AddTenant("other");
  EXPECT_THAT(store_->ExportUserData(other.id, ada.id), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(store_->ExportUserData(t.id, NewUuidV7(clock_.Now())),
              StatusIs(StatusCode::kNotFound));
}

TEST_P(StoreContractTest, EraseRemovesThePersonalDataFromEveryTable) {
  PrivacyFixture f(*store_, clock_);
  Tenant t = AddTenant("acme");
  User ada = f.AddUser(t, kEmail, kName);
  ASSERT_OK(store_->SetUserPassword(t.id, ada.id, kHash, clock_.Now()));
  ASSERT_OK(store_->SetPreferences(t.id, ada.id, Preferences{}));
  ASSERT_OK(store_->CreateRefreshToken({.token_hash = kTokenHash,
                                        .family_id = NewUuidV7(clock_.Now()),
                                        .tenant_id = t.id,
                                        .user_id = ada.id,
                                        .issued_at = clock_.Now(),
                                        .expires_at = clock_.Now() + absl::Hours(24),
                                        .used_at = std::nullopt,
                                        .revoked_at = std::nullopt}));
  // A dead letter whose answer names her, a delivery held by quiet hours
  // and one still pending, all with her e-mail address in the content.
  Notification failed = f.Submit(t, {ada.id}, kEmail);
  Notification held = f.Submit(t, {ada.id}, kEmail);
  Notification pending = f.Submit(t, {ada.id}, kEmail);
  std::vector<Delivery> d_failed = f.Route(failed, {ada.id});
  std::vector<Delivery> d_held = f.Route(held, {ada.id}, /*held=*/true);
  std::vector<Delivery> d_pending = f.Route(pending, {ada.id});
  f.DeadLetter(failed, d_failed[0], kEmail);
  const std::vector<std::string> ids = {failed.id, held.id, pending.id};
  ASSERT_THAT(f.Everything(t.id, ids), HasSubstr(kEmail));  // planted

  const absl::Time at = clock_.Now();
  ASSERT_OK_AND_ASSIGN(UserErasure out, store_->EraseUser(t.id, ada.id, at));
  EXPECT_EQ(out, (UserErasure{.sessions_deleted = 1,
                              .notifications_updated = 3,
                              .notifications_blanked = 3,
                              .deliveries_suppressed = 2,
                              .deliveries_scrubbed = 1,
                              .events_scrubbed = 1}));

  // The user, her password, preferences and sessions are gone.
  EXPECT_THAT(store_->GetUser(t.id, ada.id), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(store_->GetPreferences(t.id, ada.id), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(store_->FindLoginUser(t.id, kEmail), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(store_->FindRefreshToken(kTokenHash), StatusIs(StatusCode::kNotFound));
  ASSERT_OK_AND_ASSIGN(std::vector<Recipient> recipients,
                       store_->GetRecipients(t.id, {ada.id}));
  EXPECT_THAT(recipients, IsEmpty());

  // Held and pending deliveries will not be sent; the dead letter stays
  // dead but forgets the answer; nothing names her any more.
  ASSERT_OK_AND_ASSIGN(Delivery got, store_->GetDelivery(t.id, d_held[0].id));
  EXPECT_EQ(got.status, DeliveryStatus::kSuppressed);
  EXPECT_EQ(got.last_error, kRecipientErased);
  EXPECT_EQ(got.next_attempt_at, std::nullopt);
  ASSERT_OK_AND_ASSIGN(got, store_->GetDelivery(t.id, d_pending[0].id));
  EXPECT_EQ(got.status, DeliveryStatus::kSuppressed);
  ASSERT_OK_AND_ASSIGN(got, store_->GetDelivery(t.id, d_failed[0].id));
  EXPECT_EQ(got.status, DeliveryStatus::kFailed);
  EXPECT_EQ(got.last_error, "");
  EXPECT_EQ(got.attempts, 1);
  EXPECT_THAT(f.Everything(t.id, ids), Not(HasSubstr(kEmail)));

  // Notifications keep their ids, types and statuses, not their content.
  ASSERT_OK_AND_ASSIGN(Notification n, store_->GetNotification(t.id, failed.id));
  EXPECT_EQ(n.type, "account.notice");
  EXPECT_EQ(n.status, NotificationStatus::kFailed);
  EXPECT_THAT(n.recipients, IsEmpty());
  EXPECT_EQ(n.title, "");
  EXPECT_EQ(n.body, "");
  EXPECT_EQ(n.data, nlohmann::json::object());
  EXPECT_TRUE(n.tags.empty());
  ASSERT_OK_AND_ASSIGN(std::vector<CloudEvent> events, store_->ListEvents(t.id, failed.id));
  for (const CloudEvent& e : events) {
    if (e.type != kEventDeliveryAttempt) continue;
    EXPECT_EQ(e.data, nlohmann::json({{"delivery_id", d_failed[0].id},
                                      {"attempt", 1},
                                      {"outcome", "permanent"},
                                      {"code", 400},
                                      {"dead_lettered", true}}));
  }
}

TEST_P(StoreContractTest, EraseOfAnotherTenantsUserIsNotFoundAndChangesNothing) {
  PrivacyFixture f(*store_, clock_);
  Tenant t = AddTenant("acme");
  Tenant other = AddTenant("other");
  User ada = f.AddUser(t, kEmail, kName);
  Notification n = f.Submit(t, {ada.id}, kEmail);
  std::vector<Delivery> d = f.Route(n, {ada.id});
  ASSERT_OK_AND_ASSIGN(UserDataExport before, store_->ExportUserData(t.id, ada.id));

  EXPECT_THAT(store_->EraseUser(other.id, ada.id, clock_.Now()),
              StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(store_->EraseUser(t.id, NewUuidV7(clock_.Now()), clock_.Now()),
              StatusIs(StatusCode::kNotFound));

  ASSERT_OK_AND_ASSIGN(UserDataExport after, store_->ExportUserData(t.id, ada.id));
  EXPECT_EQ(after.user.email, kEmail);
  ASSERT_EQ(after.notifications.size(), 1u);
  EXPECT_EQ(NotificationToJson(after.notifications[0]), NotificationToJson(before.notifications[0]));
  EXPECT_THAT(after.notifications[0].recipients, ElementsAre(ada.id));
  EXPECT_THAT(DeliveryIdsOf(after.deliveries), ElementsAre(d[0].id));
  EXPECT_EQ(after.deliveries[0].status, DeliveryStatus::kPending);
}

TEST_P(StoreContractTest, EraseKeepsASharedNotificationsContentAndOtherRecipient) {
  PrivacyFixture f(*store_, clock_);
  Tenant t = AddTenant("acme");
  User ada = f.AddUser(t, kEmail, kName);
  User bob = f.AddUser(t, "bob@example.com", "Bob");
  Notification n = f.Submit(t, {ada.id, bob.id}, "release notes");
  std::vector<Delivery> d = f.Route(n, {ada.id, bob.id});

  ASSERT_OK_AND_ASSIGN(UserErasure out, store_->EraseUser(t.id, ada.id, clock_.Now()));
  EXPECT_EQ(out.notifications_updated, 1);
  EXPECT_EQ(out.notifications_blanked, 0);
  EXPECT_EQ(out.deliveries_suppressed, 1);

  ASSERT_OK_AND_ASSIGN(Notification got, store_->GetNotification(t.id, n.id));
  EXPECT_THAT(got.recipients, ElementsAre(bob.id));
  EXPECT_EQ(got.title, "Hello");
  EXPECT_EQ(got.body, "release notes");
  EXPECT_EQ(got.data, n.data);
  EXPECT_EQ(got.tags, n.tags);
  // Bob's delivery goes on; his data is untouched.
  for (const Delivery& x : d) {
    ASSERT_OK_AND_ASSIGN(Delivery stored, store_->GetDelivery(t.id, x.id));
    EXPECT_EQ(stored.status, x.recipient == bob.id ? DeliveryStatus::kPending
                                                   : DeliveryStatus::kSuppressed);
  }
  ASSERT_OK_AND_ASSIGN(UserDataExport bobs, store_->ExportUserData(t.id, bob.id));
  EXPECT_EQ(bobs.user.email, "bob@example.com");
  ASSERT_EQ(bobs.notifications.size(), 1u);
  EXPECT_EQ(bobs.notifications[0].body, "release notes");
  // The created message keeps the content for Bob, without Ada's id.
  ASSERT_OK_AND_ASSIGN(std::vector<OutboxRecord> outbox,
                       store_->ClaimOutbox(10, absl::Seconds(1)));
  ASSERT_EQ(outbox.size(), 1u);
  EXPECT_THAT(outbox[0].payload, HasSubstr("release notes"));
  EXPECT_THAT(outbox[0].payload, Not(HasSubstr(ada.id)));
  EXPECT_THAT(outbox[0].payload, HasSubstr(bob.id));
}

TEST_P(StoreContractTest, EraseIsAtomicAndHappensOnce) {
  PrivacyFixture f(*store_, clock_);
  Tenant t = AddTenant("acme");
  User ada = f.AddUser(t, kEmail, kName);
  Notification n = f.Submit(t, {ada.id}, kEmail);
  f.Route(n, {ada.id}, /*held=*/true);

  ASSERT_OK_AND_ASSIGN(UserErasure first, store_->EraseUser(t.id, ada.id, clock_.Now()));
  EXPECT_EQ(first.deliveries_suppressed, 1);
  // A second erase finds no user and changes nothing more.
  EXPECT_THAT(store_->EraseUser(t.id, ada.id, clock_.Now()), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(store_->ExportUserData(t.id, ada.id), StatusIs(StatusCode::kNotFound));
  // Her address is free again: a new user may take it.
  User again = f.AddUser(t, kEmail, "Ada again");
  ASSERT_OK_AND_ASSIGN(UserDataExport e, store_->ExportUserData(t.id, again.id));
  EXPECT_THAT(e.notifications, IsEmpty());
  EXPECT_THAT(e.deliveries, IsEmpty());
}

}  // namespace
}  // namespace alerthub::testing
