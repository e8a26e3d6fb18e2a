// StoreContractTest cases for the audit log (ports/store.h "Audit",
// ports/audit.h): a change and its record commit together, a failed change
// leaves none, and listing filters and pages. Registered with the rest of
// the suite.
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "alerthub/ports/audit.h"
#include "alerthub/testing/status_matchers.h"
#include "alerthub/testing/store_contract.h"
#include "gmock/gmock.h"

namespace alerthub::testing {
namespace {

using ::absl::StatusCode;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

AuditActor Actor(const Tenant& t, absl::string_view who = "apikey:k1") {
  return {.tenant_id = t.id, .actor = std::string(who), .request_id = "req-1"};
}

std::vector<std::string> Actions(const Page<AuditRecord>& page) {
  std::vector<std::string> out;
  for (const AuditRecord& r : page.items) out.push_back(r.action);
  return out;
}

AuditFilter By(absl::string_view actor, absl::string_view action, absl::string_view target) {
  AuditFilter f;
  f.actor = std::string(actor);
  f.action = std::string(action);
  f.target = std::string(target);
  return f;
}

absl::StatusOr<Page<AuditRecord>> All(Store& store, const Tenant& t,
                                      const AuditFilter& filter = {}) {
  return store.ListAuditRecords(t.id, filter, {.cursor = "", .limit = 500});
}

TEST_P(StoreContractTest, AuditRecordCommitsWithTheChange) {
  Tenant t = AddTenant("acme");
  const absl::Time opened = clock_.Now();
  Tenant renamed = t;
  renamed.name = "acme-2";
  {
    AuditScope audit(store_.get(), &clock_, Actor(t), "tenant.update", t.id);
    AuditScope::Describe("", {{"name", "acme"}}, {{"name", "acme-2"}});
    clock_.Advance(absl::Seconds(1));
    ASSERT_OK(store_->UpdateTenant(renamed));
    EXPECT_EQ(audit.Unwritten(), nullptr) << "the update's transaction carried the record";
    ASSERT_OK(audit.Finish(absl::OkStatus()));
  }
  ASSERT_OK_AND_ASSIGN(Page<AuditRecord> page, All(*store_, t));
  ASSERT_EQ(page.items.size(), 1u);
  const AuditRecord& r = page.items[0];
  EXPECT_FALSE(r.id.empty());
  EXPECT_EQ(r.tenant_id, t.id);
  EXPECT_EQ(r.actor, "apikey:k1");
  EXPECT_EQ(r.action, "tenant.update");
  EXPECT_EQ(r.target, t.id);
  EXPECT_EQ(r.request_id, "req-1");
  EXPECT_EQ(r.time, opened);
  EXPECT_EQ(r.before, nlohmann::json({{"name", "acme"}}));
  EXPECT_EQ(r.after, nlohmann::json({{"name", "acme-2"}}));
}

TEST_P(StoreContractTest, FailedChangeLeavesNoAuditRecord) {
  Tenant t = AddTenant("acme");
  Tenant ghost = t;
  ghost.id = "no-such-tenant";
  {
    AuditScope audit(store_.get(), &clock_, Actor(t), "tenant.update", ghost.id);
    absl::Status s = store_->UpdateTenant(ghost);  // rolled back: kNotFound
    EXPECT_THAT(s, StatusIs(StatusCode::kNotFound));
    EXPECT_NE(audit.Unwritten(), nullptr);
    EXPECT_THAT(audit.Finish(s), StatusIs(StatusCode::kNotFound));
  }
  ASSERT_OK_AND_ASSIGN(Page<AuditRecord> page, All(*store_, t));
  EXPECT_THAT(page.items, IsEmpty());
}

TEST_P(StoreContractTest, OneRecordPerScopeAndFinishAppendsWhenNothingWrote) {
  Tenant t = AddTenant("acme");
  {
    // Two writes: the first transaction carries the record, the second
    // adds none.
    AuditScope audit(store_.get(), &clock_, Actor(t), "tenant.update", t.id);
    Tenant a = t;
    a.name = "one";
    ASSERT_OK(store_->UpdateTenant(a));
    a.name = "two";
    ASSERT_OK(store_->UpdateTenant(a));
    ASSERT_OK(audit.Finish(absl::OkStatus()));
    ASSERT_OK(audit.Finish(absl::OkStatus()));
  }
  clock_.Advance(absl::Milliseconds(5));
  {
    // A read-only operation (an export) is recorded by Finish alone, once.
    AuditScope audit(store_.get(), &clock_, Actor(t), "user.export", "u1");
    ASSERT_OK(store_->GetTenant(t.id).status());
    ASSERT_OK(audit.Finish(absl::OkStatus()));
    ASSERT_OK(audit.Finish(absl::OkStatus()));
  }
  // Writes outside any scope record nothing.
  Tenant b = t;
  b.name = "three";
  ASSERT_OK(store_->UpdateTenant(b));
  ASSERT_OK_AND_ASSIGN(Page<AuditRecord> page, All(*store_, t));
  EXPECT_THAT(Actions(page), ElementsAre("user.export", "tenant.update"));
}

TEST_P(StoreContractTest, AuditRecordsFilterAndPageNewestFirstWithinTheTenant) {
  Tenant t = AddTenant("acme");
  Tenant other = AddTenant("other");
  const absl::Time start = clock_.Now();
  auto append = [&](const Tenant& in, absl::string_view actor, absl::string_view action,
                    absl::string_view target) {
    clock_.Advance(absl::Seconds(10));
    AuditScope audit(store_.get(), &clock_, Actor(in, actor), action, target);
    ASSERT_OK(audit.Finish(absl::OkStatus()));
  };
  append(t, "apikey:a", "rule.create", "r1");
  append(t, "user:u", "rule.update", "r1");
  append(t, "apikey:a", "user.create", "u1");
  append(other, "apikey:z", "rule.create", "r9");
  append(t, "user:u", "rule.delete", "r1");
  append(t, "apikey:a", "rules.reorder", "");

  ASSERT_OK_AND_ASSIGN(Page<AuditRecord> all, All(*store_, t));
  EXPECT_THAT(Actions(all), ElementsAre("rules.reorder", "rule.delete", "user.create",
                                        "rule.update", "rule.create"));
  EXPECT_THAT(Actions(*All(*store_, t, By("user:u", "", ""))),
              ElementsAre("rule.delete", "rule.update"));
  EXPECT_THAT(Actions(*All(*store_, t, By("", "rule.", ""))),
              ElementsAre("rule.delete", "rule.update", "rule.create"));
  EXPECT_THAT(Actions(*All(*store_, t, By("", "rule.create", ""))), ElementsAre("rule.create"));
  // Not a prefix without the dot.
  EXPECT_THAT(Actions(*All(*store_, t, By("", "rule", ""))), IsEmpty());
  EXPECT_THAT(Actions(*All(*store_, t, By("", "", "u1"))), ElementsAre("user.create"));
  AuditFilter window;
  window.since = start + absl::Seconds(20);
  window.until = start + absl::Seconds(50);
  EXPECT_THAT(Actions(*All(*store_, t, window)),
              ElementsAre("user.create", "rule.update"));
  EXPECT_THAT(Actions(*All(*store_, other)), ElementsAre("rule.create"));

  ASSERT_OK_AND_ASSIGN(Page<AuditRecord> first,
                       store_->ListAuditRecords(t.id, {}, {.cursor = "", .limit = 2}));
  EXPECT_THAT(Actions(first), ElementsAre("rules.reorder", "rule.delete"));
  EXPECT_TRUE(first.has_more);
  ASSERT_OK_AND_ASSIGN(
      Page<AuditRecord> second,
      store_->ListAuditRecords(t.id, {}, {.cursor = first.items[1].id, .limit = 2}));
  EXPECT_THAT(Actions(second), ElementsAre("user.create", "rule.update"));
  ASSERT_OK_AND_ASSIGN(
      Page<AuditRecord> last,
      store_->ListAuditRecords(t.id, {}, {.cursor = second.items[1].id, .limit = 2}));
  EXPECT_THAT(Actions(last), ElementsAre("rule.create"));
  EXPECT_FALSE(last.has_more);

  EXPECT_THAT(store_->ListAuditRecords(t.id, {}, {.cursor = "", .limit = 0}),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(store_->ListAuditRecords(t.id, {}, {.cursor = "", .limit = 501}),
              StatusIs(StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace alerthub::testing
