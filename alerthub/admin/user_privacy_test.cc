#include "alerthub/admin/user_privacy.h"

#include <string>
#include <vector>

#include "alerthub/common/uuid.h"
#include "alerthub/model/event.h"
#include "alerthub/ports/audit.h"
#include "alerthub/testing/simulated_clock.h"
#include "alerthub/testing/sqlite_fixture.h"
#include "alerthub/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace alerthub {
namespace {

using ::absl::StatusCode;
using ::alerthub::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using Json = nlohmann::json;

constexpr char kPasswordHash[] = "$argon2id$v=19$m=65536,t=2,p=1$c2FsdHNhbHQ$c2VjcmV0aGFzaA";
constexpr char kTokenHash[] = "feedfacefeedfacefeedfacefeedfacefeedfacefeedfacefeedfacefeedface";

class UserPrivacyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tenant_ = db_.tenant_id();
    other_ = db_.AddTenant("other");
    ada_ = AddUser("ada@example.com", "Ada");
    bob_ = AddUser("bob@example.com", "Bob");
  }

  Principal As(Role role, const std::string& tenant = "") const {
    Principal p;
    p.tenant_id = tenant.empty() ? tenant_ : tenant;
    p.role = role;
    p.subject = "apikey:test";
    return p;
  }

  User AddUser(const std::string& email, const std::string& name) {
    User u;
    u.id = NewUuidV7(clock_.Now());
    u.tenant_id = tenant_;
    u.email = email;
    u.name = name;
    u.addresses.slack_user_id = "U0" + name;
    u.created_at = clock_.Now();
    EXPECT_OK(store()->CreateUser(u));
    clock_.Advance(absl::Milliseconds(1));
    return u;
  }

  // A notification to `recipients`, routed to one webhook delivery each.
  Notification Send(const std::vector<std::string>& recipients) {
    const absl::Time now = clock_.Now();
    SubmissionWrite w;
    Notification& n = w.notification;
    n.id = NewUuidV7(now);
    n.tenant_id = tenant_;
    n.type = "deploy.finished";
    n.title = "v2 is live";
    n.recipients = recipients;
    n.created_at = now;
    n.updated_at = now;
    w.accepted_event = MakeNotificationEvent(n, kEventAccepted, "/test", now, {});
    w.outbox_topic = std::string(kTopicCreated);
    w.outbox_payload = CloudEventToJson(w.accepted_event).dump();
    EXPECT_OK(store()->CommitSubmissions({w}).status());
    RoutingWrite r;
    r.tenant_id = tenant_;
    r.notification_id = n.id;
    Json targets = Json::array();
    for (const std::string& who : recipients) {
      Delivery d;
      d.id = NewUuidV7(now);
      d.tenant_id = tenant_;
      d.notification_id = n.id;
      d.integration_id = "int-1";
      d.recipient = who;
      d.created_at = now;
      d.updated_at = now;
      r.deliveries.push_back(d);
      targets.push_back({{"delivery_id", d.id}, {"recipient", who}});
    }
    r.event = MakeNotificationEvent(n, kEventRouted, "/test", now, {{"deliveries", targets}});
    EXPECT_OK(store()->RecordRouting(r).status());
    for (const Delivery& d : r.deliveries) {
      EXPECT_OK(store()->ClaimDelivery(tenant_, d.id, absl::Minutes(1)).status());
      AttemptWrite a;
      a.tenant_id = tenant_;
      a.delivery_id = d.id;
      a.status = DeliveryStatus::kDelivered;
      a.attempt_event = MakeNotificationEvent(n, kEventDeliveryAttempt, "/test", now,
                                              {{"delivery_id", d.id}, {"outcome", "success"}});
      EXPECT_OK(store()->RecordAttempt(a).status());
    }
    clock_.Advance(absl::Milliseconds(1));
    return n;
  }

  Store* store() { return db_.store(); }

  SimulatedClock clock_;
  ::alerthub::testing::SqliteFixture db_{&clock_};
  std::string tenant_, other_;
  User ada_, bob_;
  UserPrivacy privacy_{db_.store(), &clock_};
};

TEST_F(UserPrivacyTest, OnlyOwnersMayExportOrErase) {
  for (Role role : {Role::kAdmin, Role::kMember, Role::kViewer}) {
    EXPECT_THAT(privacy_.Export(As(role), ada_.id), StatusIs(StatusCode::kPermissionDenied))
        << RoleName(role);
    EXPECT_THAT(privacy_.Erase(As(role), ada_.id), StatusIs(StatusCode::kPermissionDenied))
        << RoleName(role);
  }
  EXPECT_OK(store()->GetUser(tenant_, ada_.id).status());
}

TEST_F(UserPrivacyTest, AnotherTenantsUserIsNotFound) {
  EXPECT_THAT(privacy_.Export(As(Role::kOwner, other_), ada_.id),
              StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(privacy_.Erase(As(Role::kOwner, other_), ada_.id),
              StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(privacy_.Export(As(Role::kOwner), "no-such-user"),
              StatusIs(StatusCode::kNotFound));
  EXPECT_OK(store()->GetUser(tenant_, ada_.id).status());
}

TEST_F(UserPrivacyTest, ExportIsOneDocumentAboutTheUserOnly) {
  ASSERT_OK(store()->SetUserPassword(tenant_, ada_.id, kPasswordHash, clock_.Now()));
  ASSERT_OK(store()->CreateRefreshToken({.token_hash = kTokenHash,
                                         .family_id = "family-1",
                                         .tenant_id = tenant_,
                                         .user_id = ada_.id,
                                         .issued_at = clock_.Now(),
                                         .expires_at = clock_.Now() + absl::Hours(1),
                                         .used_at = std::nullopt,
                                         .revoked_at = std::nullopt}));
  Notification shared = Send({ada_.id, bob_.id});
  Send({bob_.id});  // not hers

  ASSERT_OK_AND_ASSIGN(Json e, privacy_.Export(As(Role::kOwner), ada_.id));
  std::vector<std::string> keys;
  for (const auto& [k, v] : e.items()) keys.push_back(k);
  EXPECT_THAT(keys, ElementsAre("audit_records", "deliveries", "events", "exported_at",
                                "has_password", "notifications", "preferences", "sessions",
                                "user"));
  EXPECT_EQ(e["user"]["email"], "ada@example.com");
  EXPECT_EQ(e["user"]["addresses"]["slack_user_id"], "U0Ada");
  EXPECT_EQ(e["preferences"]["time_zone"], "UTC");
  EXPECT_EQ(e["has_password"], true);
  ASSERT_EQ(e["sessions"].size(), 1u);
  EXPECT_EQ(e["sessions"][0]["id"], "family-1");
  EXPECT_FALSE(e["sessions"][0].contains("revoked_at"));

  // The shared notification names her and counts Bob.
  ASSERT_EQ(e["notifications"].size(), 1u);
  EXPECT_EQ(e["notifications"][0]["id"], shared.id);
  EXPECT_EQ(e["notifications"][0]["recipients"], Json::array({ada_.id}));
  EXPECT_EQ(e["notifications"][0]["other_recipients"], 1);
  ASSERT_EQ(e["deliveries"].size(), 1u);
  EXPECT_EQ(e["deliveries"][0]["recipient"], ada_.id);
  // Her attempt, not Bob's; the routing shows her target only.
  std::vector<std::string> types;
  for (const Json& ev : e["events"]) {
    types.push_back(ev["type"].get<std::string>());
    if (ev["type"] == std::string(kEventRouted)) {
      ASSERT_EQ(ev["data"]["deliveries"].size(), 1u);
      EXPECT_EQ(ev["data"]["deliveries"][0]["recipient"], ada_.id);
    }
  }
  EXPECT_THAT(types, ElementsAre(kEventAccepted, kEventRouted, kEventDeliveryAttempt,
                                 kEventDelivered));

  // No secrets, nothing about Bob.
  const std::string all = e.dump();
  EXPECT_THAT(all, Not(HasSubstr(kPasswordHash)));
  EXPECT_THAT(all, Not(HasSubstr(kTokenHash)));
  EXPECT_THAT(all, Not(HasSubstr("password_hash")));
  EXPECT_THAT(all, Not(HasSubstr(bob_.id)));
  EXPECT_THAT(all, Not(HasSubstr("bob@example.com")));
}

TEST_F(UserPrivacyTest, ExportListsTheAuditRecordsAboutTheUser) {
  AuditRecord r;
  r.id = NewUuidV7(clock_.Now());
  r.tenant_id = tenant_;
  r.actor = "apikey:k1";
  r.action = "user.update";
  r.target = ada_.id;
  r.time = clock_.Now();
  r.before = {{"id", ada_.id}, {"role", "member"}};
  r.after = {{"id", ada_.id}, {"role", "admin"}};
  ASSERT_OK(store()->AppendAuditRecord(r));
  AuditRecord about_bob = r;
  about_bob.id = NewUuidV7(clock_.Now() + absl::Milliseconds(1));
  about_bob.target = bob_.id;
  ASSERT_OK(store()->AppendAuditRecord(about_bob));

  ASSERT_OK_AND_ASSIGN(Json e, privacy_.Export(As(Role::kOwner), ada_.id));
  ASSERT_EQ(e["audit_records"].size(), 1u);
  EXPECT_EQ(e["audit_records"][0], AuditRecordToJson(r));
}

TEST_F(UserPrivacyTest, EraseRemovesTheUserAndIsAuditedWithoutPersonalData) {
  Notification mine = Send({ada_.id});
  AuditScope audit(store(), &clock_, {.tenant_id = tenant_, .actor = "apikey:owner",
                                      .request_id = "req-1"},
                   "user.erase", ada_.id);
  ASSERT_OK(audit.Finish(privacy_.Erase(As(Role::kOwner), ada_.id)));

  EXPECT_THAT(store()->GetUser(tenant_, ada_.id), StatusIs(StatusCode::kNotFound));
  ASSERT_OK_AND_ASSIGN(Notification n, store()->GetNotification(tenant_, mine.id));
  EXPECT_EQ(n.title, "");
  EXPECT_TRUE(n.recipients.empty());
  EXPECT_OK(store()->GetUser(tenant_, bob_.id).status());

  AuditFilter filter;
  filter.target = ada_.id;
  ASSERT_OK_AND_ASSIGN(Page<AuditRecord> records,
                       store()->ListAuditRecords(tenant_, filter, {.cursor = "", .limit = 10}));
  ASSERT_EQ(records.items.size(), 1u);
  const AuditRecord& r = records.items[0];
  EXPECT_EQ(r.action, "user.erase");
  EXPECT_EQ(r.actor, "apikey:owner");
  EXPECT_EQ(r.request_id, "req-1");
  EXPECT_EQ(r.before, Json({{"id", ada_.id}, {"role", "member"}}));
  EXPECT_TRUE(r.after.is_null());
  EXPECT_THAT(AuditRecordToJson(r).dump(), Not(HasSubstr("ada@example.com")));

  // Gone: a second erase and an export find nothing.
  EXPECT_THAT(privacy_.Erase(As(Role::kOwner), ada_.id), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(privacy_.Export(As(Role::kOwner), ada_.id), StatusIs(StatusCode::kNotFound));
}

}  // namespace
}  // namespace alerthub
