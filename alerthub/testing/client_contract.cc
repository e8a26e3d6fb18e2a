#include "alerthub/testing/client_contract.h"

#include <unistd.h>

#include <atomic>
#include <set>
#include <thread>
#include <utility>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "alerthub/common/status.h"
#include "alerthub/common/uuid.h"
#include "alerthub/model/event.h"
#include "alerthub/model/rule.h"
#include "nlohmann/json.hpp"
#include "alerthub/testing/status_matchers.h"
#include "gmock/gmock.h"

namespace alerthub::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::StartsWith;

Notification Make(absl::string_view type, absl::string_view title) {
  Notification n;
  n.type = std::string(type);
  n.title = std::string(title);
  return n;
}

std::vector<std::string> Fields(const absl::Status& s) {
  std::vector<std::string> out;
  for (const FieldError& e : FieldErrorsOf(s)) out.push_back(e.field);
  return out;
}

std::vector<std::string> Ids(const std::vector<Notification>& items) {
  std::vector<std::string> out;
  for (const Notification& n : items) out.push_back(n.id);
  return out;
}

// Stores are microsecond-precise; compare times at that precision.
absl::Time Micros(absl::Time t) { return absl::FromUnixMicros(absl::ToUnixMicros(t)); }

// Collects what a Watch callback receives.
class Recorder {
 public:
  Client::UpdateCallback Callback() {
    return [this](const StatusUpdate& u) {
      absl::MutexLock lock(&mu_);
      updates_.push_back(u);
    };
  }

  // The first update about `id`, waiting up to `timeout` for it.
  std::optional<StatusUpdate> WaitFor(const std::string& id,
                                      absl::Duration timeout = absl::Seconds(10)) {
    absl::MutexLock lock(&mu_);
    auto found = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return Find(id).has_value(); };
    mu_.AwaitWithTimeout(absl::Condition(&found), timeout);
    return Find(id);
  }

  std::set<std::string> Ids() {
    absl::MutexLock lock(&mu_);
    std::set<std::string> ids;
    for (const StatusUpdate& u : updates_) ids.insert(u.id);
    return ids;
  }

  size_t size() {
    absl::MutexLock lock(&mu_);
    return updates_.size();
  }

 private:
  std::optional<StatusUpdate> Find(const std::string& id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    for (const StatusUpdate& u : updates_) {
      if (u.id == id) return u;
    }
    return std::nullopt;
  }

  absl::Mutex mu_;
  std::vector<StatusUpdate> updates_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

std::string ClientFactoryName(const ::testing::TestParamInfo<ClientFactory>& info) {
  return info.param.name;
}

std::string UniqueName(absl::string_view what) {
  static std::atomic<int> counter{0};
  // Time and pid keep runs apart when a router outlives one test process.
  static const std::string run =
      absl::StrCat(getpid(), "-", absl::ToUnixMicros(absl::Now()) % 1000000000);
  return absl::StrCat("ct.", what, ".", run, ".", counter.fetch_add(1));
}

void ClientContractTest::SetUp() {
  absl::StatusOr<std::unique_ptr<Client>> client = GetParam().open();
  ASSERT_OK(client.status());
  client_ = *std::move(client);
}

// --- Submit and Get ---------------------------------------------------------

TEST_P(ClientContractTest, SubmitThenGetKeepsEveryField) {
  Notification n;
  n.type = UniqueName("roundtrip");
  n.title = "v2.3.1 is live \xe2\x9c\x93";  // UTF-8
  n.body = "line one\nline two";
  n.priority = Priority::kCritical;
  n.data = {{"build", 1234}, {"ok", true}, {"nested", {{"list", {1, "two", nullptr, 2.5}}}}};
  n.tags = {{"env", "prod"}, {"team.a-b_C", "infra & ops"}};
  n.recipients = {"user-1", "user-2"};
  n.channels = {Channel::kWebhook, Channel::kEmail};
  n.integration_ids = {"0192a0b0-0000-7000-8000-00000000000a"};
  n.template_name = "deploy-finished";
  n.dedup_key = UniqueName("roundtrip-key");
  // A scheduled notification stays accepted until it is due.
  n.scheduled_at = Micros(absl::Now() + absl::Hours(1));
  // Server-assigned fields of the argument are ignored.
  n.id = "0192a0b0-0000-7000-8000-000000000001";
  n.tenant_id = "someone-else";
  n.status = NotificationStatus::kFailed;
  n.created_at = absl::FromUnixSeconds(1000);
  n.updated_at = absl::FromUnixSeconds(1000);

  const absl::Time before = Micros(absl::Now()) - absl::Milliseconds(1);
  ASSERT_OK_AND_ASSIGN(SubmitResult r, client_->Submit(n));
  const absl::Time after = absl::Now() + absl::Milliseconds(1);
  EXPECT_TRUE(IsUuid(r.id)) << r.id;
  EXPECT_NE(r.id, n.id);
  EXPECT_EQ(r.status, NotificationStatus::kAccepted);
  EXPECT_FALSE(r.duplicate);
  EXPECT_GT(r.rate_limit.limit, 0);
  EXPECT_LT(r.rate_limit.remaining, r.rate_limit.limit);

  ASSERT_OK_AND_ASSIGN(Notification got, client_->Get(r.id));
  EXPECT_EQ(got.id, r.id);
  EXPECT_FALSE(got.tenant_id.empty());
  EXPECT_NE(got.tenant_id, n.tenant_id);
  EXPECT_EQ(got.status, NotificationStatus::kAccepted);
  EXPECT_GE(got.created_at, before);
  EXPECT_LE(got.created_at, after);
  EXPECT_EQ(got.updated_at, got.created_at);
  EXPECT_EQ(got.type, n.type);
  EXPECT_EQ(got.title, n.title);
  EXPECT_EQ(got.body, n.body);
  EXPECT_EQ(got.priority, n.priority);
  EXPECT_EQ(got.data, n.data);
  EXPECT_EQ(got.tags, n.tags);
  EXPECT_EQ(got.recipients, n.recipients);
  EXPECT_EQ(got.channels, n.channels);
  EXPECT_EQ(got.integration_ids, n.integration_ids);
  EXPECT_EQ(got.template_name, n.template_name);
  EXPECT_EQ(got.dedup_key, n.dedup_key);
  EXPECT_EQ(got.scheduled_at, n.scheduled_at);

  ASSERT_OK_AND_ASSIGN(std::vector<CloudEvent> events, client_->ListEvents(r.id));
  ASSERT_EQ(events.size(), 1u);
  const CloudEvent& e = events[0];
  EXPECT_EQ(e.specversion, "1.0");
  EXPECT_TRUE(IsUuid(e.id)) << e.id;
  EXPECT_FALSE(e.source.empty());
  EXPECT_EQ(e.type, kEventAccepted);
  EXPECT_EQ(e.subject, r.id);
  EXPECT_EQ(e.tenantid, got.tenant_id);
  EXPECT_EQ(e.time, got.created_at);
  EXPECT_EQ(e.data, nlohmann::json({{"status", "accepted"}}));
}

TEST_P(ClientContractTest, SubmitWithDefaultsKeepsThem) {
  Notification n;
  n.type = UniqueName("minimal");
  ASSERT_OK_AND_ASSIGN(SubmitResult r, client_->Submit(n));
  ASSERT_OK_AND_ASSIGN(Notification got, client_->Get(r.id));
  EXPECT_EQ(got.type, n.type);
  EXPECT_EQ(got.title, "");
  EXPECT_EQ(got.body, "");
  EXPECT_EQ(got.priority, Priority::kNormal);
  EXPECT_EQ(got.data, nlohmann::json::object());
  EXPECT_THAT(got.tags, IsEmpty());
  EXPECT_THAT(got.recipients, IsEmpty());
  EXPECT_THAT(got.channels, IsEmpty());
  EXPECT_EQ(got.dedup_key, "");
  EXPECT_FALSE(got.scheduled_at.has_value());
}

TEST_P(ClientContractTest, SubmitNamesEveryInvalidField) {
  Notification n;
  n.type = "";
  n.priority = static_cast<Priority>(9);
  n.tags = {{"bad key!", "v"}};
  n.recipients = {"ok", ""};
  n.channels = {Channel::kEmail, Channel::kEmail};
  n.integration_ids = {"not-a-uuid"};
  n.template_name = "Bad Template";
  n.dedup_key = "\x01";
  n.scheduled_at = absl::Now() + absl::Hours(24 * 40);
  absl::StatusOr<SubmitResult> r = client_->Submit(n);
  ASSERT_THAT(r,
              StatusIs(absl::StatusCode::kInvalidArgument, StartsWith("invalid notification: ")));
  EXPECT_EQ(FieldErrorsOf(r.status()),
            (std::vector<FieldError>{
                {"type", "is required"},
                {"priority", "must be one of min, low, normal, high, critical or 1-5"},
                {"tags.bad key!", "key must be 1-64 characters of A-Z, a-z, 0-9, '.', '_' or '-'"},
                {"recipients[1]", "must not be empty"},
                {"channels[1]", "is listed more than once"},
                {"integration_ids[0]", "must be a UUID"},
                {"template", "must be 1-128 characters of a-z, 0-9, '.', '_' or '-'"},
                {"dedup_key", "must be 1-256 printable characters"},
                {"scheduled_at", "must be at most 30 days ahead"},
            }));

  Notification bad_type = Make("Deploy Finished", "x");
  EXPECT_THAT(Fields(client_->Submit(bad_type).status()), ElementsAre("type"));
}

TEST_P(ClientContractTest, SubmitRejectsInvalidUtf8) {
  Notification n = Make(UniqueName("utf8"), "bad \xff byte");
  absl::StatusOr<SubmitResult> r = client_->Submit(n);
  ASSERT_THAT(r, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Fields(r.status()), ElementsAre("title"));
}

// --- Duplicates -------------------------------------------------------------

TEST_P(ClientContractTest, SameDedupKeyIsADuplicateOfTheFirst) {
  const std::string type = UniqueName("dedup");
  const std::string key = UniqueName("dedup-key");
  Notification first = Make(type, "first");
  first.dedup_key = key;
  ASSERT_OK_AND_ASSIGN(SubmitResult a, client_->Submit(first));
  EXPECT_FALSE(a.duplicate);

  Notification second = Make(type, "second, different content");
  second.dedup_key = key;
  ASSERT_OK_AND_ASSIGN(SubmitResult b, client_->Submit(second));
  EXPECT_TRUE(b.duplicate);
  EXPECT_EQ(b.id, a.id);
  EXPECT_EQ(b.status, NotificationStatus::kAccepted);
  ASSERT_OK_AND_ASSIGN(Notification stored, client_->Get(a.id));
  EXPECT_EQ(stored.title, "first");

  Notification other = Make(type, "first");
  other.dedup_key = UniqueName("dedup-key");
  ASSERT_OK_AND_ASSIGN(SubmitResult c, client_->Submit(other));
  EXPECT_FALSE(c.duplicate);
  EXPECT_NE(c.id, a.id);
}

TEST_P(ClientContractTest, SameIdempotencyKeyIsADuplicateOfTheFirst) {
  const std::string type = UniqueName("idem");
  SubmitOptions key{.idempotency_key = UniqueName("idem-key")};
  ASSERT_OK_AND_ASSIGN(SubmitResult a, client_->Submit(Make(type, "one"), key));
  EXPECT_FALSE(a.duplicate);
  ASSERT_OK_AND_ASSIGN(SubmitResult b, client_->Submit(Make(type, "two"), key));
  EXPECT_TRUE(b.duplicate);
  EXPECT_EQ(b.id, a.id);

  SubmitOptions other_key{.idempotency_key = UniqueName("idem-key")};
  ASSERT_OK_AND_ASSIGN(SubmitResult c, client_->Submit(Make(type, "two"), other_key));
  EXPECT_FALSE(c.duplicate);
  EXPECT_NE(c.id, a.id);
}

TEST_P(ClientContractTest, SameContentWithinTheWindowIsADuplicate) {
  Notification n = Make(UniqueName("content"), "same words");
  n.tags = {{"k", "v"}};
  ASSERT_OK_AND_ASSIGN(SubmitResult a, client_->Submit(n));
  ASSERT_OK_AND_ASSIGN(SubmitResult b, client_->Submit(n));
  EXPECT_FALSE(a.duplicate);
  EXPECT_TRUE(b.duplicate);
  EXPECT_EQ(b.id, a.id);
  n.title = "other words";
  ASSERT_OK_AND_ASSIGN(SubmitResult c, client_->Submit(n));
  EXPECT_FALSE(c.duplicate);
}

// --- Batches ----------------------------------------------------------------

TEST_P(ClientContractTest, BatchReportsEachItemAndABadOneDoesNotSinkTheOthers) {
  const std::string type = UniqueName("batch");
  Notification earlier = Make(type, "earlier");
  earlier.dedup_key = UniqueName("batch-key");
  ASSERT_OK_AND_ASSIGN(SubmitResult first, client_->Submit(earlier));

  Notification repeat = Make(type, "repeat of earlier");
  repeat.dedup_key = earlier.dedup_key;
  Notification bad = Make("Bad Type", "x");
  bad.recipients = {""};
  const std::vector<Notification> items = {Make(type, "one"), bad, repeat, Make(type, "three")};
  ASSERT_OK_AND_ASSIGN(std::vector<absl::StatusOr<SubmitResult>> results,
                       client_->SubmitBatch(items));
  ASSERT_EQ(results.size(), 4u);
  ASSERT_OK(results[0].status());
  EXPECT_FALSE(results[0]->duplicate);
  EXPECT_EQ(results[0]->status, NotificationStatus::kAccepted);
  EXPECT_THAT(results[1],
              StatusIs(absl::StatusCode::kInvalidArgument, StartsWith("invalid notification: ")));
  EXPECT_THAT(Fields(results[1].status()), ElementsAre("type", "recipients[0]"));
  ASSERT_OK(results[2].status());
  EXPECT_TRUE(results[2]->duplicate);
  EXPECT_EQ(results[2]->id, first.id);
  ASSERT_OK(results[3].status());
  EXPECT_FALSE(results[3]->duplicate);
  EXPECT_NE(results[0]->id, results[3]->id);

  ASSERT_OK_AND_ASSIGN(Notification one, client_->Get(results[0]->id));
  EXPECT_EQ(one.title, "one");
  ASSERT_OK_AND_ASSIGN(Notification three, client_->Get(results[3]->id));
  EXPECT_EQ(three.title, "three");
}

TEST_P(ClientContractTest, BatchWithIdempotencyKeyRepeatsAsDuplicates) {
  const std::string type = UniqueName("batch-idem");
  SubmitOptions key{.idempotency_key = UniqueName("batch-idem-key")};
  const std::vector<Notification> items = {Make(type, "a"), Make(type, "b")};
  ASSERT_OK_AND_ASSIGN(auto first, client_->SubmitBatch(items, key));
  ASSERT_OK_AND_ASSIGN(auto again, client_->SubmitBatch(items, key));
  ASSERT_EQ(first.size(), 2u);
  ASSERT_EQ(again.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    ASSERT_OK(first[i].status());
    ASSERT_OK(again[i].status());
    EXPECT_FALSE(first[i]->duplicate);
    EXPECT_TRUE(again[i]->duplicate);
    EXPECT_EQ(again[i]->id, first[i]->id);
  }
}

TEST_P(ClientContractTest, BatchKeysItemsByTheirPositionEvenWhenOneIsBad) {
  const std::string type = UniqueName("batch-pos");
  SubmitOptions key{.idempotency_key = UniqueName("batch-pos-key")};
  // Item 1 is not UTF-8: it fails alone, and items 0 and 2 keep <key>#0
  // and <key>#2.
  ASSERT_OK_AND_ASSIGN(
      auto first,
      client_->SubmitBatch({Make(type, "a"), Make(type, "bad \xff"), Make(type, "c")}, key));
  ASSERT_EQ(first.size(), 3u);
  ASSERT_OK(first[0].status());
  EXPECT_THAT(first[1], StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Fields(first[1].status()), ElementsAre("title"));
  ASSERT_OK(first[2].status());

  ASSERT_OK_AND_ASSIGN(
      auto again,
      client_->SubmitBatch({Make(type, "a again"), Make(type, "b"), Make(type, "c again")}, key));
  ASSERT_EQ(again.size(), 3u);
  for (const auto& r : again) ASSERT_OK(r.status());
  EXPECT_TRUE(again[0]->duplicate);
  EXPECT_EQ(again[0]->id, first[0]->id);
  EXPECT_FALSE(again[1]->duplicate);
  EXPECT_TRUE(again[2]->duplicate);
  EXPECT_EQ(again[2]->id, first[2]->id);
}

TEST_P(ClientContractTest, BatchSizeMustBeOneToHundred) {
  absl::StatusOr<std::vector<absl::StatusOr<SubmitResult>>> r = client_->SubmitBatch({});
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Fields(r.status()), ElementsAre("items"));
  const std::vector<Notification> too_many(101, Make(UniqueName("batch-size"), "x"));
  r = client_->SubmitBatch(too_many);
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Fields(r.status()), ElementsAre("items"));
}

// --- Get, ListEvents and List -----------------------------------------------

TEST_P(ClientContractTest, UnknownIdsAreNotFound) {
  // A well-formed id nobody was given (UUIDv7 of the Unix epoch).
  const std::string unknown = "00000000-0000-7000-8000-000000000000";
  EXPECT_THAT(client_->Get(unknown), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(client_->ListEvents(unknown), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(client_->Get("not-a-uuid"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(client_->ListEvents("not-a-uuid"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(client_->Get(""), StatusIs(absl::StatusCode::kNotFound));
}

TEST_P(ClientContractTest, ListPagesNewestFirstWithCursorsAndFilters) {
  const std::string type = UniqueName("list");
  const std::string other = UniqueName("list-other");
  std::vector<std::string> ids;
  absl::Time middle;
  for (int i = 0; i < 5; ++i) {
    if (i == 3) {
      absl::SleepFor(absl::Milliseconds(2));
      middle = absl::Now();
      absl::SleepFor(absl::Milliseconds(2));
    }
    ASSERT_OK_AND_ASSIGN(SubmitResult r, client_->Submit(Make(type, absl::StrCat("item ", i))));
    ids.push_back(r.id);
    ASSERT_OK(client_->Submit(Make(other, absl::StrCat("other ", i))).status());
  }

  ListOptions o;
  o.type = type;
  o.limit = 2;
  ASSERT_OK_AND_ASSIGN(NotificationList page1, client_->List(o));
  EXPECT_EQ(Ids(page1.items), (std::vector<std::string>{ids[4], ids[3]}));
  ASSERT_FALSE(page1.next_cursor.empty());
  o.cursor = page1.next_cursor;
  ASSERT_OK_AND_ASSIGN(NotificationList page2, client_->List(o));
  EXPECT_EQ(Ids(page2.items), (std::vector<std::string>{ids[2], ids[1]}));
  ASSERT_FALSE(page2.next_cursor.empty());
  o.cursor = page2.next_cursor;
  ASSERT_OK_AND_ASSIGN(NotificationList page3, client_->List(o));
  EXPECT_EQ(Ids(page3.items), (std::vector<std::string>{ids[0]}));
  EXPECT_EQ(page3.next_cursor, "");
  for (const Notification& n : page1.items) EXPECT_EQ(n.type, type);

  ListOptions since;
  since.type = type;
  since.since = middle;
  ASSERT_OK_AND_ASSIGN(NotificationList recent, client_->List(since));
  EXPECT_EQ(Ids(recent.items), (std::vector<std::string>{ids[4], ids[3]}));
  EXPECT_EQ(recent.next_cursor, "");
  since.since = absl::Now() + absl::Hours(1);
  ASSERT_OK_AND_ASSIGN(NotificationList none, client_->List(since));
  EXPECT_THAT(none.items, IsEmpty());

  ListOptions by_status;
  by_status.type = type;
  by_status.status = NotificationStatus::kAccepted;
  ASSERT_OK_AND_ASSIGN(NotificationList accepted, client_->List(by_status));
  EXPECT_EQ(accepted.items.size(), 5u);
  by_status.status = NotificationStatus::kCancelled;
  ASSERT_OK_AND_ASSIGN(NotificationList cancelled, client_->List(by_status));
  EXPECT_THAT(cancelled.items, IsEmpty());

  // Without a type filter the newest come first, whatever else the tenant has.
  ListOptions all;
  all.limit = 1;
  ASSERT_OK_AND_ASSIGN(NotificationList newest, client_->List(all));
  ASSERT_EQ(newest.items.size(), 1u);
  EXPECT_EQ(newest.items[0].type, other);
  EXPECT_FALSE(newest.next_cursor.empty());
}

TEST_P(ClientContractTest, ListRejectsBadLimitAndCursor) {
  for (int limit : {0, -1, 501}) {
    SCOPED_TRACE(limit);
    ListOptions o;
    o.limit = limit;
    absl::StatusOr<NotificationList> r = client_->List(o);
    EXPECT_THAT(r, StatusIs(absl::StatusCode::kInvalidArgument));
    EXPECT_THAT(Fields(r.status()), ElementsAre("limit"));
  }
  for (const char* cursor : {"garbage!", "bjE6bm90LWEtdXVpZA", "a b&c=d"}) {
    SCOPED_TRACE(cursor);
    ListOptions o;
    o.cursor = cursor;
    absl::StatusOr<NotificationList> r = client_->List(o);
    EXPECT_THAT(r, StatusIs(absl::StatusCode::kInvalidArgument));
    EXPECT_THAT(Fields(r.status()), ElementsAre("cursor"));
  }
  ListOptions edge;
  edge.limit = 500;
  EXPECT_OK(client_->List(edge).status());
}

TEST_P(ClientContractTest, ListEventsOfEachNotification) {
  const std::string type = UniqueName("events");
  ASSERT_OK_AND_ASSIGN(SubmitResult a, client_->Submit(Make(type, "a")));
  ASSERT_OK_AND_ASSIGN(SubmitResult b, client_->Submit(Make(type, "b")));
  ASSERT_OK_AND_ASSIGN(std::vector<CloudEvent> ea, client_->ListEvents(a.id));
  ASSERT_OK_AND_ASSIGN(std::vector<CloudEvent> eb, client_->ListEvents(b.id));
  ASSERT_EQ(ea.size(), 1u);
  ASSERT_EQ(eb.size(), 1u);
  EXPECT_EQ(ea[0].subject, a.id);
  EXPECT_EQ(eb[0].subject, b.id);
  EXPECT_NE(ea[0].id, eb[0].id);
  EXPECT_EQ(ea[0].type, kEventAccepted);
}

// --- Watch ------------------------------------------------------------------

TEST_P(ClientContractTest, WatchDeliversMatchingUpdatesOnly) {
  const std::string wanted_type = UniqueName("watch");
  const std::string other_type = UniqueName("watch-other");
  Recorder filtered;
  Recorder everything;
  WatchOptions wo;
  wo.types = {wanted_type};
  wo.min_priority = Priority::kHigh;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<WatchHandle> watch, client_->Watch(wo, filtered.Callback()));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<WatchHandle> watch_all,
                       client_->Watch({}, everything.Callback()));

  Notification low = Make(wanted_type, "too low");
  low.priority = Priority::kNormal;
  Notification other = Make(other_type, "other type");
  other.priority = Priority::kCritical;
  Notification wanted = Make(wanted_type, "wanted");
  wanted.priority = Priority::kHigh;
  // Updates arrive in commit order, so once `wanted` is seen the others
  // would have been too.
  ASSERT_OK_AND_ASSIGN(SubmitResult r_low, client_->Submit(low));
  ASSERT_OK_AND_ASSIGN(SubmitResult r_other, client_->Submit(other));
  ASSERT_OK_AND_ASSIGN(SubmitResult r_wanted, client_->Submit(wanted));

  std::optional<StatusUpdate> u = filtered.WaitFor(r_wanted.id);
  ASSERT_TRUE(u.has_value());
  EXPECT_EQ(u->status, NotificationStatus::kAccepted);
  EXPECT_EQ(u->notification_type, wanted_type);
  EXPECT_EQ(u->priority, Priority::kHigh);
  EXPECT_NE(u->at, absl::InfinitePast());
  EXPECT_EQ(filtered.Ids(), std::set<std::string>{r_wanted.id});
  EXPECT_EQ(watch->dropped(), 0);

  ASSERT_TRUE(everything.WaitFor(r_wanted.id).has_value());
  const std::set<std::string> all = everything.Ids();
  EXPECT_TRUE(all.count(r_low.id) == 1 && all.count(r_other.id) == 1) << "missed an update";

  // A destroyed handle's callback is not called again, and it goes promptly.
  const absl::Time start = absl::Now();
  watch.reset();
  EXPECT_LT(absl::Now() - start, absl::Seconds(1));
  const size_t seen = filtered.size();
  Notification later = Make(wanted_type, "after the watch ended");
  later.priority = Priority::kCritical;
  ASSERT_OK_AND_ASSIGN(SubmitResult r_later, client_->Submit(later));
  ASSERT_TRUE(everything.WaitFor(r_later.id).has_value());
  EXPECT_EQ(filtered.size(), seen);
}

TEST_P(ClientContractTest, WatchDropsTheOldestUpdatesForASlowCallback) {
  const std::string type = UniqueName("watch-slow");
  absl::Notification release;
  std::atomic<int> calls{0};
  WatchOptions wo;
  wo.types = {type};
  wo.max_queue = 1;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<WatchHandle> watch,
                       client_->Watch(wo, [&](const StatusUpdate&) {
                         calls.fetch_add(1);
                         release.WaitForNotification();
                       }));
  // Unblock the callback before `watch` is destroyed, whatever happens.
  absl::Cleanup unblock = [&] {
    if (!release.HasBeenNotified()) release.Notify();
  };
  for (int i = 0; i < 5; ++i) {
    ASSERT_OK(client_->Submit(Make(type, absl::StrCat("update ", i))).status());
  }
  // One update is in the blocked callback (or queued), one is queued, the
  // rest were dropped.
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (watch->dropped() < 3 && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(5));
  release.Notify();
  while (calls.load() + watch->dropped() < 5 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  EXPECT_GE(watch->dropped(), 3);
  EXPECT_LE(watch->dropped(), 4);
  EXPECT_EQ(calls.load() + watch->dropped(), 5);
}

TEST_P(ClientContractTest, WatchNeedsACallback) {
  EXPECT_THAT(client_->Watch({}, nullptr), StatusIs(absl::StatusCode::kInvalidArgument));
}

// --- Concurrency ------------------------------------------------------------

TEST_P(ClientContractTest, ConcurrentUseFromEightThreads) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 6;
  const std::string type = UniqueName("concurrent");
  absl::Mutex mu;
  std::vector<std::string> ids;
  std::vector<std::string> failures;
  auto fail = [&](absl::string_view what, const absl::Status& s) {
    absl::MutexLock lock(&mu);
    failures.push_back(absl::StrCat(what, ": ", s.ToString()));
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const std::string title = absl::StrCat("thread ", t, " item ", i);
        absl::StatusOr<SubmitResult> r = client_->Submit(Make(type, title));
        if (!r.ok()) return fail("Submit", r.status());
        absl::StatusOr<Notification> n = client_->Get(r->id);
        if (!n.ok()) return fail("Get", n.status());
        if (n->title != title) return fail("Get", absl::InternalError(n->title));
        ListOptions o;
        o.type = type;
        o.limit = 5;
        absl::StatusOr<NotificationList> page = client_->List(o);
        if (!page.ok()) return fail("List", page.status());
        absl::MutexLock lock(&mu);
        ids.push_back(r->id);
      }
      const std::vector<Notification> batch = {Make(type, absl::StrCat("thread ", t, " batch a")),
                                               Make(type, absl::StrCat("thread ", t, " batch b"))};
      absl::StatusOr<std::vector<absl::StatusOr<SubmitResult>>> r = client_->SubmitBatch(batch);
      if (!r.ok()) return fail("SubmitBatch", r.status());
      for (const auto& item : *r) {
        if (!item.ok()) return fail("SubmitBatch item", item.status());
        absl::MutexLock lock(&mu);
        ids.push_back(item->id);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_THAT(failures, IsEmpty());
  const std::set<std::string> unique(ids.begin(), ids.end());
  EXPECT_EQ(unique.size(), static_cast<size_t>(kThreads * (kPerThread + 2)));

  ListOptions o;
  o.type = type;
  o.limit = 500;
  ASSERT_OK_AND_ASSIGN(NotificationList all, client_->List(o));
  EXPECT_EQ(all.items.size(), unique.size());
}


// --- Routing rules -------------------------------------------------------------------
// The tenant may be shared: every rule here matches only a type no other case
// uses, and each case deletes the rules it made.

namespace {

// A rule from request JSON; `type` is its match's type.
Rule MakeRule(absl::string_view name, int position, absl::string_view type,
              const nlohmann::json& actions) {
  absl::StatusOr<Rule> r = RuleFromRequestJson({{"name", std::string(name)},
                                                {"position", position},
                                                {"match", {{"type", std::string(type)}}},
                                                {"actions", actions}});
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? *std::move(r) : Rule{};
}

// What a caller sets on a rule: everything RuleToJson shows but the fields
// AlertHub assigns.
nlohmann::json RequestFields(const Rule& r) {
  nlohmann::json j = RuleToJson(r);
  for (const char* assigned : {"id", "tenant_id", "created_at", "updated_at"}) j.erase(assigned);
  return j;
}

// The ids of `rules` that are in `mine`, in list order.
std::vector<std::string> IdsIn(const std::vector<Rule>& rules, const std::set<std::string>& mine) {
  std::vector<std::string> out;
  for (const Rule& r : rules) {
    if (mine.count(r.id) > 0) out.push_back(r.id);
  }
  return out;
}

}  // namespace

TEST_P(ClientContractTest, RuleCreateGetUpdateDelete) {
  const std::string type = UniqueName("rule.crud");
  const Rule rule = MakeRule("route crud", 100, type,
                             {{"route", {{"channels", {"slack", "webhook"}}}},
                              {"throttle", {{"limit", 5}, {"window_s", 60}}}});
  ASSERT_OK_AND_ASSIGN(Rule created, client_->CreateRule(rule));
  auto cleanup = absl::MakeCleanup([&] { client_->DeleteRule(created.id).IgnoreError(); });
  EXPECT_TRUE(IsUuid(created.id)) << created.id;
  EXPECT_FALSE(created.tenant_id.empty());
  EXPECT_EQ(RequestFields(created), RequestFields(rule));
  EXPECT_NE(created.created_at, absl::InfinitePast());
  EXPECT_EQ(created.updated_at, created.created_at);

  ASSERT_OK_AND_ASSIGN(Rule got, client_->GetRule(created.id));
  EXPECT_EQ(RuleToJson(got), RuleToJson(created));
  ASSERT_OK_AND_ASSIGN(std::vector<Rule> listed, client_->ListRules());
  EXPECT_THAT(IdsIn(listed, {created.id}), ElementsAre(created.id));

  Rule replacement = MakeRule("suppress crud", 7, type, {{"suppress", true}});
  replacement.id = created.id;
  replacement.enabled = false;
  ASSERT_OK_AND_ASSIGN(Rule updated, client_->UpdateRule(replacement));
  EXPECT_EQ(RequestFields(updated), RequestFields(replacement));
  EXPECT_EQ(updated.id, created.id);
  EXPECT_EQ(Micros(updated.created_at), Micros(created.created_at));
  EXPECT_GE(updated.updated_at, created.updated_at);
  ASSERT_OK_AND_ASSIGN(got, client_->GetRule(created.id));
  EXPECT_EQ(RequestFields(got), RequestFields(replacement));

  ASSERT_OK(client_->DeleteRule(created.id));
  EXPECT_THAT(client_->GetRule(created.id), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(client_->DeleteRule(created.id), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(client_->UpdateRule(replacement), StatusIs(absl::StatusCode::kNotFound));
}

TEST_P(ClientContractTest, ListRulesInEvaluationOrder) {
  const std::string type = UniqueName("rule.order");
  std::set<std::string> mine;
  std::vector<std::string> by_creation;
  auto cleanup = absl::MakeCleanup([&] {
    for (const std::string& id : mine) client_->DeleteRule(id).IgnoreError();
  });
  // Created at positions 30, 10, 20 (one disabled): listed 10, 20, 30.
  for (int position : {30, 10, 20}) {
    Rule r = MakeRule(absl::StrCat("order ", position), position, type, {{"suppress", true}});
    r.enabled = position != 20;
    ASSERT_OK_AND_ASSIGN(Rule created, client_->CreateRule(r));
    mine.insert(created.id);
    by_creation.push_back(created.id);
  }
  ASSERT_OK_AND_ASSIGN(std::vector<Rule> listed, client_->ListRules());
  EXPECT_THAT(IdsIn(listed, mine), ElementsAre(by_creation[1], by_creation[2], by_creation[0]));
}

TEST_P(ClientContractTest, CreateRuleNamesEveryInvalidField) {
  Rule bad;
  bad.name = "";
  bad.match.type = "Not A Glob!";
  bad.actions.suppress = true;
  bad.actions.delay = absl::Seconds(5);
  absl::Status s = client_->CreateRule(bad).status();
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Fields(s), ::testing::IsSupersetOf({"name", "match.type", "actions.suppress"}));
  Rule bad_update = bad;
  bad_update.id = "00000000-0000-7000-8000-000000000000";
  // An unknown rule is not found before its fields are looked at.
  EXPECT_THAT(client_->UpdateRule(bad_update), StatusIs(absl::StatusCode::kNotFound));
}

TEST_P(ClientContractTest, UnknownRuleIsNotFound) {
  const std::string unknown = "00000000-0000-7000-8000-000000000000";
  EXPECT_THAT(client_->GetRule(unknown), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(client_->DeleteRule(unknown), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(client_->GetRule("not-a-uuid"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(client_->GetRule(""), StatusIs(absl::StatusCode::kNotFound));
}

TEST_P(ClientContractTest, EvaluateRuleIsADryRunOfTheCurrentRules) {
  const std::string type = UniqueName("rule.evaluate");
  ASSERT_OK_AND_ASSIGN(Rule rule,
                       client_->CreateRule(MakeRule("mute", 0, type, {{"suppress", true}})));
  auto cleanup = absl::MakeCleanup([&] { client_->DeleteRule(rule.id).IgnoreError(); });

  Notification n = Make(type, "would be muted");
  n.priority = Priority::kHigh;
  ASSERT_OK_AND_ASSIGN(nlohmann::json plan, client_->EvaluateRule(n));
  EXPECT_EQ(plan["suppressed"], true) << plan.dump();
  EXPECT_EQ(plan["suppression"]["rule_id"], rule.id) << plan.dump();
  ASSERT_EQ(plan["evaluation"]["matched_rules"].size(), 1u) << plan.dump();
  EXPECT_EQ(plan["evaluation"]["matched_rules"][0]["id"], rule.id);
  EXPECT_EQ(plan["effective_priority"], "high");
  EXPECT_THAT(plan["deliveries"], IsEmpty());

  // A change applies to the next evaluation at once.
  Rule raise = MakeRule("raise", 0, type, {{"priority", {{"set", "critical"}}}});
  raise.id = rule.id;
  ASSERT_OK(client_->UpdateRule(raise).status());
  ASSERT_OK_AND_ASSIGN(plan, client_->EvaluateRule(n));
  EXPECT_EQ(plan["suppressed"], false) << plan.dump();
  EXPECT_EQ(plan["effective_priority"], "critical") << plan.dump();

  // Another type matches no rule of this case.
  ASSERT_OK_AND_ASSIGN(plan, client_->EvaluateRule(Make(UniqueName("rule.other"), "t")));
  EXPECT_EQ(plan["suppressed"], false) << plan.dump();
  for (const nlohmann::json& m : plan["evaluation"]["matched_rules"]) EXPECT_NE(m["id"], rule.id);

  // Validated as a submission: nothing is evaluated.
  absl::Status s = client_->EvaluateRule(Make("", "no type")).status();
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Fields(s), ::testing::Contains("type"));
}

}  // namespace alerthub::testing
