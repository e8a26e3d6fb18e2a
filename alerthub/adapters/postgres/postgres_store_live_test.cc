// The postgres:// store against a live PostgreSQL (ALERTHUB_TEST_POSTGRES_URL,
// from tools/services.sh): the Store and TaskQueue contract suites, each case
// in a fresh schema of its own (search_path set through the URL's `options`),
// and what only a real server shows: several daemons migrating at once,
// backends killed under the pool, a pool that stays busy, a newer schema.
//
// The server is shared with other tests: everything happens in schemas named
// pgstore_test_<pid>_<n>, dropped when the test program ends. No password is
// needed (tools/services.sh runs the server with trust authentication).
#include <postgresql/libpq-fe.h>

#include <atomic>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "alerthub/adapters/postgres/internal/database.h"
#include "alerthub/adapters/postgres/internal/schema.h"
#include "alerthub/adapters/postgres/postgres_store.h"
#include "alerthub/adapters/registry.h"
#include "alerthub/common/status.h"
#include "alerthub/common/uuid.h"
#include "alerthub/model/event.h"
#include "alerthub/testing/simulated_clock.h"
#include "alerthub/testing/status_matchers.h"
#include "alerthub/testing/store_contract.h"
#include "alerthub/testing/task_queue_contract.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/live/live_env.h"
#include "tests/live/tcp_proxy.h"

namespace alerthub {
namespace {

// Every migration this binary knows is applied on open.
const int kLatestSchema = static_cast<int>(postgres_internal::StoreMigrations().size());

using ::absl::StatusCode;
using ::alerthub::testing::LiveServerUrl;
using ::alerthub::testing::StatusIs;
using ::alerthub::testing::StoreContractTest;
using ::alerthub::testing::TaskQueueContractTest;
using ::testing::HasSubstr;

// --- An administrative connection (plain libpq) -----------------------------------

// Runs `sql` on a new connection to the live server and returns the first
// column of the first row ("" when none).
absl::StatusOr<std::string> AdminQuery(const std::string& sql) {
  absl::StatusOr<std::string> url = LiveServerUrl("ALERTHUB_TEST_POSTGRES_URL");
  if (!url.ok()) return url.status();
  PGconn* conn = PQconnectdb(url->c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string msg = PQerrorMessage(conn);
    PQfinish(conn);
    return absl::UnavailableError(msg);
  }
  PQsetNoticeProcessor(conn, [](void*, const char*) {}, nullptr);  // DROP ... CASCADE chatter
  PGresult* res = PQexec(conn, sql.c_str());
  absl::StatusOr<std::string> out;
  const ExecStatusType st = PQresultStatus(res);
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
    out = absl::InternalError(absl::StrCat(sql, ": ", PQresultErrorMessage(res)));
  } else if (st == PGRES_TUPLES_OK && PQntuples(res) > 0) {
    out = std::string(PQgetvalue(res, 0, 0));
  } else {
    out = std::string();
  }
  PQclear(res);
  PQfinish(conn);
  return out;
}

// Schemas this program created, dropped at its end.
class SchemaJanitor : public ::testing::Environment {
 public:
  static SchemaJanitor* Get() {
    static SchemaJanitor* janitor = [] {
      auto* j = new SchemaJanitor();
      ::testing::AddGlobalTestEnvironment(j);  // gtest takes ownership
      return j;
    }();
    return janitor;
  }

  // A new empty schema; its name is [a-z0-9_] (safe to splice into SQL).
  absl::StatusOr<std::string> NewSchema() {
    std::string name;
    {
      absl::MutexLock lock(&mu_);
      name = absl::StrCat("pgstore_test_", getpid(), "_", schemas_.size());
      schemas_.push_back(name);
    }
    absl::StatusOr<std::string> r = AdminQuery(absl::StrCat("CREATE SCHEMA ", name));
    if (!r.ok()) return r.status();
    return name;
  }

  void TearDown() override {
    absl::MutexLock lock(&mu_);
    for (const std::string& s : schemas_) {
      AdminQuery(absl::StrCat("DROP SCHEMA IF EXISTS ", s, " CASCADE")).IgnoreError();
    }
    schemas_.clear();
  }

 private:
  absl::Mutex mu_;
  std::vector<std::string> schemas_ ABSL_GUARDED_BY(mu_);
};

// The live URL with `schema` first on the search_path and `extra` parameters
// (`extra_options`: further URL-encoded server settings, "%20-cname%3Dvalue").
absl::StatusOr<std::string> SchemaUrl(const std::string& schema, const std::string& extra = "",
                                      const std::string& extra_options = "") {
  absl::StatusOr<std::string> url = LiveServerUrl("ALERTHUB_TEST_POSTGRES_URL");
  if (!url.ok()) return url.status();
  std::string out = absl::StrCat(*url, url->find('?') == std::string::npos ? "?" : "&",
                                 "options=-csearch_path%3D", schema, extra_options);
  if (!extra.empty()) absl::StrAppend(&out, "&", extra);
  return out;
}

absl::StatusOr<std::unique_ptr<PostgresStore>> OpenInSchema(
    const std::string& schema, Clock* clock, const std::string& extra = "",
    const std::string& extra_options = "") {
  absl::StatusOr<std::string> url = SchemaUrl(schema, extra, extra_options);
  if (!url.ok()) return url.status();
  absl::StatusOr<PostgresStoreOptions> options = PostgresStoreOptionsFromUrl(*url);
  if (!options.ok()) return options.status();
  options->clock = clock;
  return OpenPostgresStore(*options);
}

absl::StatusOr<std::unique_ptr<PostgresStore>> OpenFresh(Clock* clock,
                                                         const std::string& extra = "") {
  absl::StatusOr<std::string> schema = SchemaJanitor::Get()->NewSchema();
  if (!schema.ok()) return schema.status();
  return OpenInSchema(*schema, clock, extra);
}

// --- The contract suites ------------------------------------------------------------------

INSTANTIATE_TEST_SUITE_P(
    Postgres, StoreContractTest,
    ::testing::Values(
        testing::StoreFactory{"postgres",
                              [](SimulatedClock* clock) -> absl::StatusOr<std::unique_ptr<Store>> {
                                return OpenFresh(clock);
                              }},
        // One connection: every concurrent caller waits for it.
        testing::StoreFactory{"postgres_one_connection",
                              [](SimulatedClock* clock) -> absl::StatusOr<std::unique_ptr<Store>> {
                                return OpenFresh(clock, "pool_size=1&acquire_timeout_ms=60000");
                              }}),
    testing::StoreFactoryName);

INSTANTIATE_TEST_SUITE_P(
    Postgres, TaskQueueContractTest,
    ::testing::Values(testing::TaskQueueFactory{
        "postgres",
        [](SimulatedClock* clock) -> absl::StatusOr<std::unique_ptr<TaskQueue>> {
          absl::StatusOr<std::unique_ptr<PostgresStore>> store = OpenFresh(clock);
          if (!store.ok()) return store.status();
          std::shared_ptr<Store> owner = *std::move(store);
          absl::StatusOr<std::unique_ptr<TaskQueue>> queue = owner->OpenTaskQueue();
          if (!queue.ok()) return queue.status();
          return testing::WithOwner(*std::move(queue), owner);
        }}),
    testing::TaskQueueFactoryName);

// --- PostgreSQL specifics ---------------------------------------------------------------

Tenant NewTenant(absl::string_view name, absl::Time now) {
  Tenant t;
  t.id = NewUuidV7(now);
  t.name = std::string(name);
  t.created_at = now;
  return t;
}

SubmissionWrite NewSubmission(const Tenant& t, absl::Time now) {
  SubmissionWrite w;
  Notification& n = w.notification;
  n.id = NewUuidV7(now);
  n.tenant_id = t.id;
  n.created_at = now;
  n.updated_at = now;
  n.type = "deploy.finished";
  n.title = "v2 is live";
  w.accepted_event = MakeNotificationEvent(n, kEventAccepted, "/alerthub/pipeline", now, {});
  w.outbox_topic = std::string(kTopicCreated);
  w.outbox_payload = CloudEventToJson(w.accepted_event).dump();
  return w;
}

TEST(PostgresStoreLiveTest, FourStoresMigratingAtOnceAllOpen) {
  ASSERT_OK_AND_ASSIGN(std::string schema, SchemaJanitor::Get()->NewSchema());
  SimulatedClock clock;
  constexpr int kStores = 4;
  std::vector<absl::StatusOr<std::unique_ptr<PostgresStore>>> stores;
  for (int i = 0; i < kStores; ++i) stores.push_back(absl::UnknownError("not run"));
  std::vector<std::thread> threads;
  for (int i = 0; i < kStores; ++i) {
    threads.emplace_back([&, i] { stores[i] = OpenInSchema(schema, &clock); });
  }
  for (std::thread& t : threads) t.join();
  for (int i = 0; i < kStores; ++i) {
    ASSERT_OK(stores[i].status()) << i;
    EXPECT_EQ((*stores[i])->SchemaVersion(), kLatestSchema) << i;
  }
  ASSERT_OK_AND_ASSIGN(std::string applied,
                       AdminQuery(absl::StrCat("SELECT count(*) FROM ", schema,
                                               ".schema_migrations")));
  EXPECT_EQ(applied, absl::StrCat(kLatestSchema));
  // They share the database.
  Tenant t = NewTenant("shared", clock.Now());
  ASSERT_OK((*stores[0])->CreateTenant(t));
  ASSERT_OK_AND_ASSIGN(Tenant got, (*stores[3])->GetTenant(t.id));
  EXPECT_EQ(got.name, "shared");
}

TEST(PostgresStoreLiveTest, ReopeningFindsTheDataAndTheVersion) {
  ASSERT_OK_AND_ASSIGN(std::string schema, SchemaJanitor::Get()->NewSchema());
  SimulatedClock clock;
  Tenant t = NewTenant("acme", clock.Now());
  {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<PostgresStore> store, OpenInSchema(schema, &clock));
    ASSERT_OK(store->CreateTenant(t));
  }
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<PostgresStore> again, OpenInSchema(schema, &clock));
  EXPECT_EQ(again->SchemaVersion(), kLatestSchema);
  EXPECT_OK(again->GetTenant(t.id).status());
}

TEST(PostgresStoreLiveTest, ANewerSchemaIsRefused) {
  ASSERT_OK_AND_ASSIGN(std::string schema, SchemaJanitor::Get()->NewSchema());
  SimulatedClock clock;
  { ASSERT_OK(OpenInSchema(schema, &clock).status()); }
  ASSERT_OK(AdminQuery(absl::StrCat("INSERT INTO ", schema,
                                    ".schema_migrations VALUES (99, 'future', 0)"))
                .status());
  EXPECT_THAT(OpenInSchema(schema, &clock),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("99")));
}

TEST(PostgresStoreLiveTest, KilledBackendsAreReplacedWithoutCallersNoticing) {
  SimulatedClock clock;
  const std::string app = absl::StrCat("pgstore_kill_", getpid());
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<PostgresStore> store,
                       OpenFresh(&clock, absl::StrCat("pool_size=3&application_name=", app)));
  Tenant t = NewTenant("acme", clock.Now());
  ASSERT_OK(store->CreateTenant(t));
  for (int round = 0; round < 3; ++round) {
    // Fill the pool: three callers at once.
    std::vector<std::thread> threads;
    for (int i = 0; i < 3; ++i) {
      threads.emplace_back([&] {
        for (int k = 0; k < 20; ++k) EXPECT_OK(store->Ping());
      });
    }
    for (std::thread& th : threads) th.join();

    ASSERT_OK_AND_ASSIGN(
        std::string killed,
        AdminQuery(absl::StrCat("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                "WHERE application_name = '",
                                app, "'")));
    EXPECT_NE(killed, "0") << "round " << round;
    // Every pooled connection is dead now; reads and writes go on.
    EXPECT_OK(store->Ping());
    EXPECT_OK(store->GetTenant(t.id).status());
    ASSERT_OK_AND_ASSIGN(std::vector<SubmissionOutcome> out,
                         store->CommitSubmissions({NewSubmission(t, clock.Now())}));
    EXPECT_FALSE(out[0].duplicate);
    ASSERT_OK_AND_ASSIGN(std::vector<OutboxRecord> claimed,
                         store->ClaimOutbox(10, absl::Seconds(30)));
    EXPECT_EQ(claimed.size(), 1u);
    std::vector<int64_t> seqs;
    for (const OutboxRecord& r : claimed) seqs.push_back(r.seq);
    EXPECT_OK(store->MarkOutboxSent(seqs));
  }
}

// A fresh store whose outbox holds `n` messages (one tenant's submissions).
absl::StatusOr<std::unique_ptr<PostgresStore>> OpenWithOutbox(SimulatedClock* clock, int n) {
  absl::StatusOr<std::unique_ptr<PostgresStore>> store = OpenFresh(clock);
  if (!store.ok()) return store.status();
  Tenant t = NewTenant("acme", clock->Now());
  ALERTHUB_RETURN_IF_ERROR((*store)->CreateTenant(t));
  for (int i = 0; i < n; ++i) {
    ALERTHUB_RETURN_IF_ERROR(
        (*store)->CommitSubmissions({NewSubmission(t, clock->Now())}).status());
  }
  return store;
}

// TakeOutbox holds its batch by row locks in a transaction: whatever is not
// marked sent is free for the next taker the moment the batch ends, with no
// lease to wait for.
TEST(PostgresStoreLiveTest, AnOutboxBatchReleasesItsUnsentMessagesWhenItEnds) {
  SimulatedClock clock;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<PostgresStore> store, OpenWithOutbox(&clock, 3));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<OutboxBatch> first,
                       store->TakeOutbox(10, absl::Seconds(30), 0));
  ASSERT_EQ(first->records().size(), 3u);
  const int64_t seq0 = first->records()[0].seq;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<OutboxBatch> busy,
                       store->TakeOutbox(10, absl::Seconds(30), 0));
  EXPECT_TRUE(busy->records().empty());

  ASSERT_OK(first->Finish({seq0}));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<OutboxBatch> second,
                       store->TakeOutbox(10, absl::Seconds(30), 0));
  ASSERT_EQ(second->records().size(), 2u);
  EXPECT_GT(second->records()[0].seq, seq0);
  second.reset();  // dropped unfinished
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<OutboxBatch> third,
                       store->TakeOutbox(10, absl::Seconds(30), 0));
  EXPECT_EQ(third->records().size(), 2u);
  ASSERT_OK(third->Finish({third->records()[0].seq, third->records()[1].seq}));
  ASSERT_OK_AND_ASSIGN(int64_t pending, store->CountOutboxPending());
  EXPECT_EQ(pending, 0);
}

// after_seq starts the scan past rows a taker has just taken.
TEST(PostgresStoreLiveTest, TakeOutboxStartsAfterTheGivenSeq) {
  SimulatedClock clock;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<PostgresStore> store, OpenWithOutbox(&clock, 3));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<OutboxBatch> all,
                       store->TakeOutbox(10, absl::Seconds(30), 0));
  ASSERT_EQ(all->records().size(), 3u);
  const int64_t seq0 = all->records()[0].seq;
  const int64_t seq1 = all->records()[1].seq;
  all.reset();
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<OutboxBatch> tail,
                       store->TakeOutbox(10, absl::Seconds(30), seq0));
  ASSERT_EQ(tail->records().size(), 2u);
  EXPECT_EQ(tail->records()[0].seq, seq1);
  // The rows left out are not taken: the next look from the start finds them.
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<OutboxBatch> head,
                       store->TakeOutbox(10, absl::Seconds(30), 0));
  ASSERT_EQ(head->records().size(), 1u);
  EXPECT_EQ(head->records()[0].seq, seq0);
}

// A taker that stalls longer than its lease loses the batch: the server ends
// its session, another taker gets the messages, and the late Finish fails
// without marking anything.
TEST(PostgresStoreLiveTest, AStalledOutboxBatchIsReleasedAfterItsLease) {
  SimulatedClock clock;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<PostgresStore> store, OpenWithOutbox(&clock, 1));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<OutboxBatch> stalled,
                       store->TakeOutbox(10, absl::Milliseconds(200), 0));
  ASSERT_EQ(stalled->records().size(), 1u);
  absl::SleepFor(absl::Seconds(1));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<OutboxBatch> next,
                       store->TakeOutbox(10, absl::Seconds(30), 0));
  ASSERT_EQ(next->records().size(), 1u);
  EXPECT_EQ(next->records()[0].seq, stalled->records()[0].seq);
  EXPECT_THAT(stalled->Finish({stalled->records()[0].seq}),
              StatusIs(StatusCode::kUnavailable));
  ASSERT_OK_AND_ASSIGN(int64_t pending, store->CountOutboxPending());
  EXPECT_EQ(pending, 1);
  ASSERT_OK(next->Finish({next->records()[0].seq}));
  ASSERT_OK_AND_ASSIGN(pending, store->CountOutboxPending());
  EXPECT_EQ(pending, 0);
}

// The server "going down" (every connection cut, new ones refused, through
// a TCP proxy: the shared server itself is not restarted) and coming back.
TEST(PostgresStoreLiveTest, AServerThatGoesAwayIsUnavailableThenServesAgain) {
  ASSERT_OK_AND_ASSIGN(std::string live, LiveServerUrl("ALERTHUB_TEST_POSTGRES_URL"));
  char* err = nullptr;
  PQconninfoOption* parsed = PQconninfoParse(live.c_str(), &err);
  ASSERT_NE(parsed, nullptr) << (err != nullptr ? err : "");
  std::string host = "127.0.0.1", port = "5432", user = "postgres", dbname = "postgres";
  for (PQconninfoOption* o = parsed; o->keyword != nullptr; ++o) {
    if (o->val == nullptr) continue;
    const std::string k = o->keyword;
    if (k == "host") host = o->val;
    if (k == "port") port = o->val;
    if (k == "user") user = o->val;
    if (k == "dbname") dbname = o->val;
  }
  PQconninfoFree(parsed);
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<testing::TcpProxy> proxy,
                       testing::TcpProxy::Start(host, std::stoi(port)));
  ASSERT_OK_AND_ASSIGN(std::string schema, SchemaJanitor::Get()->NewSchema());
  SimulatedClock clock;
  ASSERT_OK_AND_ASSIGN(PostgresStoreOptions options,
                       PostgresStoreOptionsFromUrl(absl::StrCat(
                           "postgres://", user, "@127.0.0.1:", proxy->port(), "/", dbname,
                           "?options=-csearch_path%3D", schema, "&pool_size=3")));
  options.clock = &clock;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<PostgresStore> store, OpenPostgresStore(options));
  Tenant t = NewTenant("acme", clock.Now());
  ASSERT_OK(store->CreateTenant(t));
  std::vector<std::thread> threads;
  for (int i = 0; i < 3; ++i) {
    threads.emplace_back([&] {
      for (int k = 0; k < 10; ++k) EXPECT_OK(store->Ping());
    });
  }
  for (std::thread& th : threads) th.join();

  ASSERT_OK(proxy->SetAccepting(false));
  proxy->SeverAll();
  const absl::Time start = absl::Now();
  EXPECT_THAT(store->Ping(), StatusIs(StatusCode::kUnavailable));
  EXPECT_THAT(store->GetTenant(t.id), StatusIs(StatusCode::kUnavailable));
  EXPECT_THAT(store->CommitSubmissions({NewSubmission(t, clock.Now())}),
              StatusIs(StatusCode::kUnavailable));
  EXPECT_LT(absl::Now() - start, absl::Seconds(3));

  ASSERT_OK(proxy->SetAccepting(true));
  EXPECT_OK(store->Ping());
  EXPECT_OK(store->GetTenant(t.id).status());
  ASSERT_OK_AND_ASSIGN(std::vector<SubmissionOutcome> out,
                       store->CommitSubmissions({NewSubmission(t, clock.Now())}));
  EXPECT_FALSE(out[0].duplicate);
  ASSERT_OK_AND_ASSIGN(int64_t pending, store->CountOutboxPending());
  EXPECT_EQ(pending, 1);  // the failed call wrote nothing
}

TEST(PostgresStoreLiveTest, ABusyPoolIsUnavailableAfterTheAcquireTimeout) {
  SimulatedClock clock;
  ASSERT_OK_AND_ASSIGN(std::string schema, SchemaJanitor::Get()->NewSchema());
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<PostgresStore> store,
                       OpenInSchema(schema, &clock, "pool_size=1&acquire_timeout_ms=200"));
  Tenant t = NewTenant("acme", clock.Now());
  ASSERT_OK(store->CreateTenant(t));

  // The only connection waits on a lock held by another session.
  ASSERT_OK_AND_ASSIGN(std::string url, SchemaUrl(schema));
  PGconn* admin = PQconnectdb(url.c_str());
  ASSERT_EQ(PQstatus(admin), CONNECTION_OK);
  PQclear(PQexec(admin, "BEGIN"));
  PGresult* locked = PQexec(admin, "LOCK TABLE tenants IN ACCESS EXCLUSIVE MODE");
  ASSERT_EQ(PQresultStatus(locked), PGRES_COMMAND_OK) << PQresultErrorMessage(locked);
  PQclear(locked);
  std::atomic<bool> done = false;
  absl::Status blocked_status;
  std::thread blocked([&] {
    blocked_status = store->GetTenant(t.id).status();
    done = true;
  });
  absl::SleepFor(absl::Milliseconds(300));
  EXPECT_FALSE(done.load());
  const absl::Time start = absl::Now();
  EXPECT_THAT(store->Ping(), StatusIs(StatusCode::kUnavailable, HasSubstr("busy")));
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(150));

  PQclear(PQexec(admin, "COMMIT"));
  PQfinish(admin);
  blocked.join();
  EXPECT_OK(blocked_status);
  EXPECT_OK(store->Ping());
}

// Four stores (as four worker processes) claim and record the deliveries of
// one notification at once, in batches given in different orders: each
// delivery is attempted once, and the notification ends delivered with one
// announcement.
TEST(PostgresStoreLiveTest, WorkersOfSeveralProcessesShareDeliveriesSafely) {
  ASSERT_OK_AND_ASSIGN(std::string schema, SchemaJanitor::Get()->NewSchema());
  SimulatedClock clock;
  constexpr int kWorkers = 4;
  constexpr int kDeliveries = 12;
  std::vector<std::unique_ptr<PostgresStore>> stores;
  for (int i = 0; i < kWorkers; ++i) {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<PostgresStore> s, OpenInSchema(schema, &clock));
    stores.push_back(std::move(s));
  }
  Tenant t = NewTenant("acme", clock.Now());
  ASSERT_OK(stores[0]->CreateTenant(t));
  SubmissionWrite sub = NewSubmission(t, clock.Now());
  ASSERT_OK(stores[0]->CommitSubmissions({sub}).status());
  RoutingWrite routing;
  routing.tenant_id = t.id;
  routing.notification_id = sub.notification.id;
  for (int k = 0; k < kDeliveries; ++k) {
    Delivery d;
    d.id = NewUuidV7(clock.Now());
    d.tenant_id = t.id;
    d.notification_id = sub.notification.id;
    d.integration_id = absl::StrCat("int-", k);
    d.created_at = d.updated_at = clock.Now();
    routing.deliveries.push_back(d);
  }
  routing.event = MakeNotificationEvent(sub.notification, kEventRouted, "/test", clock.Now(), {});
  ASSERT_OK(stores[0]->RecordRouting(routing).status());
  ASSERT_OK(stores[0]->MarkOutboxSent({1}));  // the created message; seq 1 in a fresh schema

  std::atomic<int> attempts = 0;
  std::vector<absl::Status> errors(kWorkers);
  std::vector<std::thread> threads;
  for (int w = 0; w < kWorkers; ++w) {
    threads.emplace_back([&, w] {
      std::vector<DeliveryRef> refs;
      for (int k = 0; k < kDeliveries; ++k) {
        // Worker w starts at a different delivery and goes the other way
        // every second worker.
        const int i = (w % 2 == 0 ? k + 3 * w : 3 * w - k + kDeliveries) % kDeliveries;
        refs.push_back({t.id, routing.deliveries[i].id});
      }
      for (int round = 0; round < 3; ++round) {
        absl::StatusOr<std::vector<absl::StatusOr<DeliveryClaim>>> claims =
            stores[w]->ClaimDeliveries(refs, absl::Minutes(5));
        if (!claims.ok()) {
          errors[w] = claims.status();
          return;
        }
        std::vector<AttemptWrite> writes;
        for (const absl::StatusOr<DeliveryClaim>& c : *claims) {
          if (!c.ok() || c->result != DeliveryClaim::Result::kClaimed) continue;
          AttemptWrite a;
          a.tenant_id = t.id;
          a.delivery_id = c->delivery.id;
          a.status = DeliveryStatus::kDelivered;
          a.attempt_event = MakeNotificationEvent(sub.notification, kEventDeliveryAttempt,
                                                  "/test", clock.Now(), {});
          writes.push_back(a);
        }
        absl::StatusOr<std::vector<absl::StatusOr<AttemptOutcomeRecord>>> records =
            stores[w]->RecordAttempts(writes);
        if (!records.ok()) {
          errors[w] = records.status();
          return;
        }
        for (const absl::StatusOr<AttemptOutcomeRecord>& r : *records) {
          if (r.ok()) ++attempts;
        }
      }
    });
  }
  for (std::thread& th : threads) th.join();
  for (int w = 0; w < kWorkers; ++w) EXPECT_OK(errors[w]) << "worker " << w;
  EXPECT_EQ(attempts.load(), kDeliveries);

  ASSERT_OK_AND_ASSIGN(Notification n, stores[1]->GetNotification(t.id, sub.notification.id));
  EXPECT_EQ(n.status, NotificationStatus::kDelivered);
  ASSERT_OK_AND_ASSIGN(std::vector<CloudEvent> events,
                       stores[2]->ListEvents(t.id, sub.notification.id));
  int delivered_events = 0;
  for (const CloudEvent& e : events) delivered_events += e.type == kEventDelivered ? 1 : 0;
  EXPECT_EQ(delivered_events, 1);
  EXPECT_EQ(events.size(), static_cast<size_t>(2 + kDeliveries + 1));
  ASSERT_OK_AND_ASSIGN(std::vector<OutboxRecord> announced,
                       stores[3]->ClaimOutbox(10, absl::Minutes(1)));
  ASSERT_EQ(announced.size(), 1u);
  EXPECT_EQ(announced[0].topic, kTopicDelivered);
  for (const Delivery& d : routing.deliveries) {
    ASSERT_OK_AND_ASSIGN(Delivery got, stores[0]->GetDelivery(t.id, d.id));
    EXPECT_EQ(got.attempts, 1);
    EXPECT_EQ(got.status, DeliveryStatus::kDelivered);
  }
}

TEST(PostgresStoreLiveTest, SynchronousCommitOffIsTurnedBackOn) {
  SimulatedClock clock;
  ASSERT_OK_AND_ASSIGN(std::string schema, SchemaJanitor::Get()->NewSchema());
  // A URL (as a server or role default would) turning it off.
  ASSERT_OK_AND_ASSIGN(std::string url, SchemaUrl(schema, "", "%20-csynchronous_commit%3Doff"));
  postgres_internal::DatabaseOptions options;
  options.conninfo = url;
  options.display = url;
  options.clock = &clock;
  ASSERT_OK_AND_ASSIGN(std::shared_ptr<postgres_internal::Database> db,
                       postgres_internal::Database::Open(options));
  std::string value;
  ASSERT_OK(db->Read([&](postgres_internal::Connection& c) -> absl::Status {
    absl::StatusOr<postgres_internal::Result> r = c.Query("SHOW synchronous_commit");
    if (!r.ok()) return r.status();
    value = std::string(r->Text(0, 0));
    return absl::OkStatus();
  }));
  EXPECT_EQ(value, "on");
}

TEST(PostgresStoreLiveTest, ALockTimeoutInTheUrlIsUnavailable) {
  SimulatedClock clock;
  ASSERT_OK_AND_ASSIGN(std::string schema, SchemaJanitor::Get()->NewSchema());
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<PostgresStore> store,
                       OpenInSchema(schema, &clock, "", "%20-clock_timeout%3D200"));
  Tenant t = NewTenant("acme", clock.Now());
  ASSERT_OK(store->CreateTenant(t));

  ASSERT_OK_AND_ASSIGN(std::string url, SchemaUrl(schema));
  PGconn* admin = PQconnectdb(url.c_str());
  ASSERT_EQ(PQstatus(admin), CONNECTION_OK);
  PQclear(PQexec(admin, "BEGIN"));
  PGresult* locked = PQexec(admin, "LOCK TABLE tenants IN ACCESS EXCLUSIVE MODE");
  ASSERT_EQ(PQresultStatus(locked), PGRES_COMMAND_OK) << PQresultErrorMessage(locked);
  PQclear(locked);
  EXPECT_THAT(store->GetTenant(t.id), StatusIs(StatusCode::kUnavailable, HasSubstr("lock")));
  PQclear(PQexec(admin, "COMMIT"));
  PQfinish(admin);
  EXPECT_OK(store->GetTenant(t.id).status());
}

TEST(PostgresStoreLiveTest, RegistryOpensPostgresUrls) {
  ASSERT_OK_AND_ASSIGN(std::string schema, SchemaJanitor::Get()->NewSchema());
  ASSERT_OK_AND_ASSIGN(std::string url, SchemaUrl(schema));
  SimulatedClock clock;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Store> store, OpenStore(url, &clock));
  EXPECT_OK(store->Ping());
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<TaskQueue> queue, OpenTaskQueue("sql://", store.get(),
                                                                       &clock));
  EXPECT_OK(queue->Ping());
  // postgresql:// is the same adapter.
  std::string alias = url;
  alias.replace(0, std::string("postgres://").size(), "postgresql://");
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Store> same, OpenStore(alias, &clock));
  EXPECT_OK(same->Ping());
}

}  // namespace
}  // namespace alerthub
