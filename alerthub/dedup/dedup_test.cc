#include "alerthub/dedup/dedup.h"

#include "alerthub/adapters/memory/memory_kv.h"
#include "alerthub/adapters/sqlite/sqlite_store.h"
#include "alerthub/common/uuid.h"
#include "alerthub/model/event.h"
#include "alerthub/testing/simulated_clock.h"
#include "alerthub/testing/status_matchers.h"
#include "gtest/gtest.h"

namespace alerthub {
namespace {

Notification Base() {
  Notification n;
  n.type = "deploy.finished";
  n.title = "v2";
  n.body = "done";
  n.priority = Priority::kHigh;
  n.data = nlohmann::json::parse(R"({"b": 2, "a": {"y": 1, "x": [1, 2]}})");
  n.tags = {{"env", "prod"}, {"region", "eu"}};
  n.recipients = {"u1", "u2"};
  n.channels = {Channel::kSlack};
  return n;
}

TEST(ContentHashTest, EqualContentEqualHashWhateverKeyOrder) {
  Notification a = Base();
  Notification b = Base();
  b.data = nlohmann::json::parse(R"({"a": {"x": [1, 2], "y": 1}, "b": 2})");
  // Server-assigned fields do not count.
  b.id = "other";
  b.created_at = absl::Now();
  EXPECT_EQ(ContentHash(a), ContentHash(b));
  EXPECT_EQ(ContentHash(a).size(), 64u);
}

TEST(ContentHashTest, EveryContentFieldCounts) {
  const std::string base = ContentHash(Base());
  std::vector<std::function<void(Notification&)>> changes = {
      [](Notification& n) { n.type = "deploy.started"; },
      [](Notification& n) { n.title = "v3"; },
      [](Notification& n) { n.body = "failed"; },
      [](Notification& n) { n.priority = Priority::kLow; },
      [](Notification& n) { n.data["b"] = 3; },
      [](Notification& n) { n.tags["env"] = "dev"; },
      [](Notification& n) { n.recipients.push_back("u3"); },
      [](Notification& n) { n.channels = {Channel::kEmail}; },
      [](Notification& n) { n.integration_ids = {"0192a0b0-0000-7000-8000-000000000001"}; },
      [](Notification& n) { n.template_name = "t"; },
      [](Notification& n) { n.scheduled_at = absl::FromUnixSeconds(1'900'000'000); },
  };
  for (size_t i = 0; i < changes.size(); ++i) {
    Notification n = Base();
    changes[i](n);
    EXPECT_NE(ContentHash(n), base) << "change " << i;
  }
}

TEST(ContentHashTest, FieldBoundariesAreUnambiguous) {
  Notification a = Base();
  Notification b = Base();
  a.title = "ab";
  a.body = "c";
  b.title = "a";
  b.body = "bc";
  EXPECT_NE(ContentHash(a), ContentHash(b));
}

TEST(ExplicitDedupKeyTest, BodyKeyWinsOverHeader) {
  Notification n = Base();
  EXPECT_EQ(ExplicitDedupKey(n, "header"), "header");
  n.dedup_key = "body";
  EXPECT_EQ(ExplicitDedupKey(n, "header"), "body");
  n.dedup_key.clear();
  EXPECT_EQ(ExplicitDedupKey(n, ""), "");
}

class ContentDeduplicatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SqliteStoreOptions o;
    o.path = ":memory:";
    o.clock = &clock_;
    auto s = OpenSqliteStore(o);
    ASSERT_OK(s.status());
    store_ = std::move(*s);
    kv_ = NewMemoryKv({.clock = &clock_});
    tenant_.id = NewUuidV7(clock_.Now());
    tenant_.name = "t";
    ASSERT_OK(store_->CreateTenant(tenant_));
  }

  std::string Commit(Notification n) {
    SubmissionWrite w;
    n.id = NewUuidV7(clock_.Now());
    n.tenant_id = tenant_.id;
    n.created_at = n.updated_at = clock_.Now();
    w.accepted_event = MakeNotificationEvent(n, kEventAccepted, "/test", clock_.Now(), {});
    w.outbox_topic = std::string(kTopicCreated);
    w.outbox_payload = "{}";
    w.notification = n;
    auto r = store_->CommitSubmissions({w});
    EXPECT_TRUE(r.ok()) << r.status();
    return n.id;
  }

  SimulatedClock clock_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<Kv> kv_;
  Tenant tenant_;
};

TEST_F(ContentDeduplicatorTest, FindsWithinWindowOnly) {
  ContentDeduplicator dedup(kv_.get(), store_.get());
  const std::string id = Commit(Base());
  const std::string hash = ContentHash(Base());
  ASSERT_OK_AND_ASSIGN(std::optional<std::string> hit, dedup.Find(tenant_.id, hash));
  EXPECT_EQ(hit, std::nullopt);
  dedup.Remember(tenant_.id, hash, id, absl::Seconds(300));
  ASSERT_OK_AND_ASSIGN(hit, dedup.Find(tenant_.id, hash));
  EXPECT_EQ(hit, id);
  // Other tenants do not share the window.
  ASSERT_OK_AND_ASSIGN(hit, dedup.Find("another-tenant", hash));
  EXPECT_EQ(hit, std::nullopt);
  clock_.Advance(absl::Seconds(301));
  ASSERT_OK_AND_ASSIGN(hit, dedup.Find(tenant_.id, hash));
  EXPECT_EQ(hit, std::nullopt);
}

TEST_F(ContentDeduplicatorTest, HitWhoseNotificationNeverCommittedIsIgnored) {
  ContentDeduplicator dedup(kv_.get(), store_.get());
  const std::string hash = ContentHash(Base());
  // As if the process crashed between remembering and committing.
  dedup.Remember(tenant_.id, hash, NewUuidV7(clock_.Now()), absl::Seconds(300));
  ASSERT_OK_AND_ASSIGN(std::optional<std::string> hit, dedup.Find(tenant_.id, hash));
  EXPECT_EQ(hit, std::nullopt);
}

TEST_F(ContentDeduplicatorTest, ZeroWindowRemembersNothing) {
  ContentDeduplicator dedup(kv_.get(), store_.get());
  const std::string id = Commit(Base());
  dedup.Remember(tenant_.id, "h", id, absl::ZeroDuration());
  ASSERT_OK_AND_ASSIGN(std::optional<std::string> hit, dedup.Find(tenant_.id, "h"));
  EXPECT_EQ(hit, std::nullopt);
}

}  // namespace
}  // namespace alerthub
