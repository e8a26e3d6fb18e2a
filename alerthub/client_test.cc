#include "alerthub/client.h"

#include <set>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "alerthub/testing/status_matchers.h"
#include "gtest/gtest.h"

namespace alerthub {
namespace {

using ::alerthub::testing::StatusIs;
using ::testing::HasSubstr;

Notification Make(absl::string_view type, absl::string_view title) {
  Notification n;
  n.type = std::string(type);
  n.title = std::string(title);
  return n;
}

std::string TempDb(absl::string_view name) {
  return absl::StrCat("sqlite://", ::testing::TempDir(), "/", name, "-",
                      absl::ToUnixNanos(absl::Now()), ".db");
}

TEST(ClientTest, SubmitGetEventsInMemory) {
  ClientOptions options;
  options.store = "sqlite://:memory:";
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Client> client, Client::Open(options));
  ASSERT_OK_AND_ASSIGN(SubmitResult r, client->Submit(Make("deploy.done", "v2")));
  ASSERT_OK_AND_ASSIGN(Notification n, client->Get(r.id));
  EXPECT_EQ(n.title, "v2");
  ASSERT_OK_AND_ASSIGN(std::vector<CloudEvent> events, client->ListEvents(r.id));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].type, kEventAccepted);
  EXPECT_THAT(client->Get("0192a0b0-0000-7000-8000-000000000001"),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST(ClientTest, DataSurvivesReopen) {
  ClientOptions options;
  options.store = TempDb("reopen");
  std::string id;
  {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<Client> client, Client::Open(options));
    ASSERT_OK_AND_ASSIGN(SubmitResult r, client->Submit(Make("a", "kept")));
    id = r.id;
  }
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Client> client, Client::Open(options));
  ASSERT_OK_AND_ASSIGN(Notification n, client->Get(id));
  EXPECT_EQ(n.title, "kept");
}

TEST(ClientTest, TenantsAreIsolated) {
  ClientOptions a;
  a.store = TempDb("tenants");
  ClientOptions b = a;
  b.tenant = "other";
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Client> ca, Client::Open(a));
  ASSERT_OK_AND_ASSIGN(SubmitResult r, ca->Submit(Make("a", "secret")));
  ca.reset();
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Client> cb, Client::Open(b));
  EXPECT_THAT(cb->Get(r.id), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(cb->ListEvents(r.id), StatusIs(absl::StatusCode::kNotFound));
  ASSERT_OK_AND_ASSIGN(NotificationList list, cb->List({}));
  EXPECT_TRUE(list.items.empty());
}

TEST(ClientTest, ListFollowsCursorsAndFilters) {
  ClientOptions options;
  options.store = "sqlite://:memory:";
  options.pipeline.default_dedup_window = absl::ZeroDuration();
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Client> client, Client::Open(options));
  std::vector<std::string> ids;
  for (int i = 0; i < 7; ++i) {
    ASSERT_OK_AND_ASSIGN(SubmitResult r,
                         client->Submit(Make(i % 2 == 0 ? "even" : "odd", absl::StrCat(i))));
    ids.push_back(r.id);
  }
  std::vector<std::string> seen;
  ListOptions lo;
  lo.limit = 3;
  int pages = 0;
  while (true) {
    ASSERT_OK_AND_ASSIGN(NotificationList page, client->List(lo));
    ++pages;
    for (const Notification& n : page.items) seen.push_back(n.id);
    if (page.next_cursor.empty()) break;
    lo.cursor = page.next_cursor;
  }
  EXPECT_EQ(pages, 3);
  std::vector<std::string> newest_first(ids.rbegin(), ids.rend());
  EXPECT_EQ(seen, newest_first);

  ListOptions even;
  even.type = "even";
  ASSERT_OK_AND_ASSIGN(NotificationList evens, client->List(even));
  EXPECT_EQ(evens.items.size(), 4u);

  ListOptions bad;
  bad.limit = 501;
  EXPECT_THAT(client->List(bad), StatusIs(absl::StatusCode::kInvalidArgument,
                                          HasSubstr("limit: must be an integer between 1 and 500")));
  bad.limit = 10;
  bad.cursor = "garbage!";
  EXPECT_THAT(client->List(bad),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("cursor: is malformed")));
}

TEST(ClientTest, WatchSeesAcceptedUpdatesFiltered) {
  ClientOptions options;
  options.store = "sqlite://:memory:";
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Client> client, Client::Open(options));
  absl::Mutex mu;
  std::vector<StatusUpdate> got;
  WatchOptions wo;
  wo.types = {"deploy.done"};
  wo.min_priority = Priority::kHigh;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<WatchHandle> watch,
                       client->Watch(wo, [&](const StatusUpdate& u) {
                         absl::MutexLock lock(&mu);
                         got.push_back(u);
                       }));
  Notification wanted = Make("deploy.done", "yes");
  wanted.priority = Priority::kCritical;
  Notification low = Make("deploy.done", "too low");
  Notification other = Make("other.type", "no");
  other.priority = Priority::kCritical;
  ASSERT_OK_AND_ASSIGN(SubmitResult r, client->Submit(wanted));
  ASSERT_OK(client->Submit(low).status());
  ASSERT_OK(client->Submit(other).status());
  {
    absl::MutexLock lock(&mu);
    auto one = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) { return !got.empty(); };
    ASSERT_TRUE(mu.AwaitWithTimeout(absl::Condition(&one), absl::Seconds(10)));
  }
  absl::SleepFor(absl::Milliseconds(100));
  watch.reset();
  ASSERT_OK(client->Submit(Make("deploy.done", "after")).status());
  absl::MutexLock lock(&mu);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].id, r.id);
  EXPECT_EQ(got[0].status, NotificationStatus::kAccepted);
}

TEST(ClientTest, ConcurrentUseFromThreads) {
  ClientOptions options;
  options.store = TempDb("threads");
  options.pipeline.rate_limit.enabled = false;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Client> client, Client::Open(options));
  absl::Mutex mu;
  std::set<std::string> ids;
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        auto r = client->Submit(Make("a", absl::StrCat(t, ":", i)));
        ASSERT_OK(r.status());
        ASSERT_OK(client->Get(r->id).status());
        absl::MutexLock lock(&mu);
        ids.insert(r->id);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ids.size(), 400u);
}

TEST(ClientTest, BadStoreUrlIsInvalidArgument) {
  ClientOptions options;
  options.store = "oracle://db";
  EXPECT_THAT(Client::Open(options),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("unsupported store URL")));
  options.store = "sqlite://:memory:";
  options.tenant = "Not A Valid Name";
  EXPECT_THAT(Client::Open(options), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(ClientTest, CursorRoundTrip) {
  std::string c = EncodeListCursor("0192a0b0-0000-7000-8000-000000000001");
  ASSERT_OK_AND_ASSIGN(std::string id, DecodeListCursor(c));
  EXPECT_EQ(id, "0192a0b0-0000-7000-8000-000000000001");
  EXPECT_THAT(DecodeListCursor(EncodeListCursor("not-a-uuid")),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace alerthub
