#include "alerthub/adapters/sqlite/sqlite_store.h"

#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "alerthub/adapters/sqlite/internal/connection.h"
#include "alerthub/adapters/sqlite/internal/schema.h"
#include "alerthub/common/status.h"
#include "alerthub/common/uuid.h"
#include "alerthub/model/event.h"
#include "alerthub/testing/simulated_clock.h"
#include "alerthub/testing/status_matchers.h"
#include "alerthub/testing/store_contract.h"
#include "alerthub/testing/task_queue_contract.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace alerthub {
namespace {

using ::absl::StatusCode;
using ::alerthub::sqlite_internal::Connection;
using ::alerthub::sqlite_internal::Migration;
using ::alerthub::sqlite_internal::Statement;
using ::alerthub::testing::StatusIs;
using ::alerthub::testing::StoreContractTest;
using ::alerthub::testing::StoreFactory;
using ::alerthub::testing::TaskQueueContractTest;
using ::alerthub::testing::TaskQueueFactory;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::SizeIs;

// A new file path under the test's temporary directory.
std::string TempDbPath(absl::string_view name) {
  static std::atomic<int> counter{0};
  const char* dir = std::getenv("TEST_TMPDIR");
  return absl::StrCat(dir != nullptr ? dir : "/tmp", "/", name, "-", getpid(), "-",
                      counter++, ".db");
}

SqliteStoreOptions Options(const std::string& path, Clock* clock) {
  SqliteStoreOptions options;
  options.path = path;
  options.clock = clock;
  return options;
}

absl::StatusOr<std::unique_ptr<Store>> OpenMemoryStore(SimulatedClock* clock) {
  return OpenSqliteStore(Options(":memory:", clock));
}

absl::StatusOr<std::unique_ptr<Store>> OpenFileStore(SimulatedClock* clock) {
  return OpenSqliteStore(Options(TempDbPath("store"), clock));
}

absl::StatusOr<std::unique_ptr<TaskQueue>> QueueOf(
    absl::StatusOr<std::unique_ptr<SqliteStore>> store) {
  if (!store.ok()) return store.status();
  // The queue shares the database; the store may go.
  return (*store)->OpenTaskQueue();
}

INSTANTIATE_TEST_SUITE_P(Sqlite, StoreContractTest,
                         ::testing::Values(StoreFactory{"memory", OpenMemoryStore},
                                           StoreFactory{"file", OpenFileStore}),
                         testing::StoreFactoryName);

INSTANTIATE_TEST_SUITE_P(
    Sqlite, TaskQueueContractTest,
    ::testing::Values(TaskQueueFactory{"memory",
                                       [](SimulatedClock* clock) {
                                         return QueueOf(OpenSqliteStore(
                                             Options(":memory:", clock)));
                                       }},
                      TaskQueueFactory{"file",
                                       [](SimulatedClock* clock) {
                                         return QueueOf(OpenSqliteStore(
                                             Options(TempDbPath("queue"), clock)));
                                       }}),
    testing::TaskQueueFactoryName);

// --- URLs ----------------------------------------------------------------------------

TEST(SqliteStoreOptionsFromUrlTest, AcceptsTheDocumentedForms) {
  struct Case {
    std::string url;
    std::string path;
    bool synchronous_full;
    int read_connections;
    absl::Duration busy_timeout;
  };
  const Case cases[] = {
      {"sqlite:///var/lib/alerthub/alerthub.db", "/var/lib/alerthub/alerthub.db", true, 4,
       absl::Seconds(5)},
      {"sqlite://data/alerthub.db", "data/alerthub.db", true, 4, absl::Seconds(5)},
      {"sqlite://alerthub.db", "alerthub.db", true, 4, absl::Seconds(5)},
      {"sqlite://:memory:", ":memory:", true, 4, absl::Seconds(5)},
      {"SQLite:///x.db", "/x.db", true, 4, absl::Seconds(5)},
      {"sqlite:///tmp/my%20db.db", "/tmp/my db.db", true, 4, absl::Seconds(5)},
      {"sqlite:///x.db?synchronous=normal", "/x.db", false, 4, absl::Seconds(5)},
      {"sqlite:///x.db?synchronous=FULL", "/x.db", true, 4, absl::Seconds(5)},
      {"sqlite:///x.db?read_connections=0&busy_timeout_ms=250", "/x.db", true, 0,
       absl::Milliseconds(250)},
      {"sqlite:///x.db?", "/x.db", true, 4, absl::Seconds(5)},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.url);
    ASSERT_OK_AND_ASSIGN(SqliteStoreOptions o, SqliteStoreOptionsFromUrl(c.url));
    EXPECT_EQ(o.path, c.path);
    EXPECT_EQ(o.synchronous_full, c.synchronous_full);
    EXPECT_EQ(o.read_connections, c.read_connections);
    EXPECT_EQ(o.busy_timeout, c.busy_timeout);
    EXPECT_EQ(o.clock, nullptr);
  }
}

TEST(SqliteStoreOptionsFromUrlTest, RejectsEverythingElseNamingTheProblem) {
  struct Case {
    std::string url;
    std::string message;
  };
  const Case cases[] = {
      {"", "not a sqlite:// URL"},
      {"postgres://u@h/db", "not a sqlite:// URL"},
      {"sqlite:/x.db", "not a sqlite:// URL"},
      {"sqlite:x.db", "not a sqlite:// URL"},
      {"sqlite://", "has no path"},
      {"sqlite://?synchronous=full", "has no path"},
      {"sqlite:///var/lib/", "names a directory"},
      {"sqlite:///x.db#frag", "fragment"},
      {"sqlite:///x%2.db", "percent-escape"},
      {"sqlite:///x%zz.db", "percent-escape"},
      {"sqlite:///x%00.db", "NUL"},
      {"sqlite:///x.db?synchronous=off", "synchronous must be full or normal"},
      {"sqlite:///x.db?synchronous", "synchronous must be full or normal"},
      {"sqlite:///x.db?read_connections=-1", "read_connections"},
      {"sqlite:///x.db?read_connections=65", "read_connections"},
      {"sqlite:///x.db?read_connections=two", "read_connections"},
      {"sqlite:///x.db?busy_timeout_ms=-5", "busy_timeout_ms"},
      {"sqlite:///x.db?journal=wal", "unknown parameter \"journal\""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.url);
    EXPECT_THAT(SqliteStoreOptionsFromUrl(c.url),
                StatusIs(StatusCode::kInvalidArgument, HasSubstr(c.message)));
  }
}

TEST(SqliteStoreOptionsFromUrlTest, ParsedOptionsOpenAStore) {
  ASSERT_OK_AND_ASSIGN(
      SqliteStoreOptions o,
      SqliteStoreOptionsFromUrl(absl::StrCat("sqlite://", TempDbPath("url"),
                                             "?synchronous=normal&read_connections=1")));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Store> store, OpenSqliteStore(o));
  EXPECT_OK(store->Ping());
}

// --- Opening -------------------------------------------------------------------------------

TEST(OpenSqliteStoreTest, RejectsBadOptions) {
  SqliteStoreOptions o;
  EXPECT_THAT(OpenSqliteStore(o), StatusIs(StatusCode::kInvalidArgument, HasSubstr("path")));
  o.path = ":memory:";
  o.read_connections = -1;
  EXPECT_THAT(OpenSqliteStore(o),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("read_connections")));
  o.read_connections = 4;
  o.busy_timeout = -absl::Seconds(1);
  EXPECT_THAT(OpenSqliteStore(o),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("busy_timeout")));
}

TEST(OpenSqliteStoreTest, MissingDirectoryIsUnavailable) {
  EXPECT_THAT(OpenSqliteStore(Options("/nonexistent-alerthub-dir/x.db", nullptr)),
              StatusIs(StatusCode::kUnavailable));
}

TEST(OpenSqliteStoreTest, AFileThatIsNotADatabaseIsDataLoss) {
  const std::string path = TempDbPath("garbage");
  {
    std::ofstream out(path, std::ios::binary);
    out << std::string(8192, 'x');
  }
  EXPECT_THAT(OpenSqliteStore(Options(path, nullptr)), StatusIs(StatusCode::kDataLoss));
}

TEST(OpenSqliteStoreTest, FileStoreUsesWalAnd8KiBPages) {
  const std::string path = TempDbPath("wal");
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<SqliteStore> store,
                       OpenSqliteStore(Options(path, nullptr)));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Connection> raw,
                       Connection::Open(path, Connection::Mode::kReadOnly, absl::Seconds(1)));
  ASSERT_OK_AND_ASSIGN(Statement s, raw->Prepare("PRAGMA journal_mode"));
  ASSERT_OK_AND_ASSIGN(bool row, s.Step());
  ASSERT_TRUE(row);
  EXPECT_EQ(s.ColumnText(0), "wal");
  ASSERT_OK_AND_ASSIGN(Statement page, raw->Prepare("PRAGMA page_size"));
  ASSERT_OK_AND_ASSIGN(row, page.Step());
  ASSERT_TRUE(row);
  EXPECT_EQ(page.ColumnInt64(0), 16384);
}

// --- Migrations -------------------------------------------------------------------------

int64_t CountRows(Connection& c, const std::string& table) {
  absl::StatusOr<Statement> s = c.Prepare(absl::StrCat("SELECT count(*) FROM ", table));
  EXPECT_OK(s);
  if (!s.ok()) return -1;
  absl::StatusOr<bool> row = s->Step();
  EXPECT_OK(row);
  return row.ok() && *row ? s->ColumnInt64(0) : -1;
}

class MigrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(conn_, Connection::Open(TempDbPath("migrations"),
                                                 Connection::Mode::kReadWrite,
                                                 absl::Seconds(1)));
  }
  // Re-running #1 would fail (the table exists) and re-running #2 would
  // insert a second row, so both show when a migration runs twice.
  static constexpr Migration kV1 = {1, "create a", "CREATE TABLE a (x INTEGER)"};
  static constexpr Migration kV2 = {2, "insert 1", "INSERT INTO a VALUES (1)"};
  static constexpr Migration kV3 = {3, "insert 3", "INSERT INTO a VALUES (3)"};
  absl::Time now_ = absl::FromUnixSeconds(1'800'000'000);
  std::unique_ptr<Connection> conn_;
};

TEST_F(MigrationTest, ANewDatabaseIsVersionZero) {
  ASSERT_OK_AND_ASSIGN(int v, sqlite_internal::SchemaVersion(*conn_));
  EXPECT_EQ(v, 0);
}

TEST_F(MigrationTest, ReapplyingRunsOnlyNewMigrations) {
  const Migration two[] = {kV1, kV2};
  ASSERT_OK_AND_ASSIGN(int v, sqlite_internal::ApplyMigrations(*conn_, two, now_));
  EXPECT_EQ(v, 2);
  ASSERT_OK_AND_ASSIGN(v, sqlite_internal::ApplyMigrations(*conn_, two, now_));
  EXPECT_EQ(v, 2);
  EXPECT_EQ(CountRows(*conn_, "a"), 1);

  const Migration three[] = {kV1, kV2, kV3};
  ASSERT_OK_AND_ASSIGN(v, sqlite_internal::ApplyMigrations(*conn_, three, now_));
  EXPECT_EQ(v, 3);
  EXPECT_EQ(CountRows(*conn_, "a"), 2);
  EXPECT_EQ(CountRows(*conn_, "schema_migrations"), 3);
  ASSERT_OK_AND_ASSIGN(v, sqlite_internal::SchemaVersion(*conn_));
  EXPECT_EQ(v, 3);

  ASSERT_OK_AND_ASSIGN(Statement s, conn_->Prepare("SELECT name, applied_at FROM "
                                                   "schema_migrations WHERE version = 3"));
  ASSERT_OK_AND_ASSIGN(bool row, s.Step());
  ASSERT_TRUE(row);
  EXPECT_EQ(s.ColumnText(0), "insert 3");
  EXPECT_EQ(s.ColumnInt64(1), absl::ToUnixMicros(now_));
}

TEST_F(MigrationTest, AFailingMigrationAppliesNothingOfItsBatch) {
  const Migration two[] = {kV1, kV2};
  ASSERT_OK(sqlite_internal::ApplyMigrations(*conn_, two, now_));
  const Migration four[] = {kV1, kV2, kV3, {4, "broken", "CREATE TABLE broken ("}};
  EXPECT_THAT(sqlite_internal::ApplyMigrations(*conn_, four, now_),
              StatusIs(StatusCode::kInternal));
  ASSERT_OK_AND_ASSIGN(int v, sqlite_internal::SchemaVersion(*conn_));
  EXPECT_EQ(v, 2);
  EXPECT_EQ(CountRows(*conn_, "a"), 1);  // #3 was rolled back with #4
  EXPECT_TRUE(conn_->InAutocommit());
}

TEST_F(MigrationTest, ANewerDatabaseIsFailedPrecondition) {
  const Migration three[] = {kV1, kV2, kV3};
  ASSERT_OK(sqlite_internal::ApplyMigrations(*conn_, three, now_));
  const Migration two[] = {kV1, kV2};
  EXPECT_THAT(sqlite_internal::ApplyMigrations(*conn_, two, now_),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("newer")));
}

TEST_F(MigrationTest, MisnumberedMigrationsAreRejected) {
  const Migration gap[] = {kV1, kV3};
  EXPECT_THAT(sqlite_internal::ApplyMigrations(*conn_, gap, now_),
              StatusIs(StatusCode::kInternal, HasSubstr("1, 2, 3")));
  ASSERT_OK_AND_ASSIGN(int v, sqlite_internal::SchemaVersion(*conn_));
  EXPECT_EQ(v, 0);
}

TEST(StoreSchemaTest, OpeningAppliesEveryMigrationOnceAndReopeningNone) {
  const std::string path = TempDbPath("schema");
  const int latest = static_cast<int>(sqlite_internal::StoreMigrations().size());
  for (int open = 0; open < 2; ++open) {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<SqliteStore> store,
                         OpenSqliteStore(Options(path, nullptr)));
    EXPECT_EQ(store->SchemaVersion(), latest);
  }
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Connection> raw,
                       Connection::Open(path, Connection::Mode::kReadOnly, absl::Seconds(1)));
  EXPECT_EQ(CountRows(*raw, "schema_migrations"), latest);
}

TEST(StoreSchemaTest, ADatabaseFromANewerBinaryIsRefused) {
  const std::string path = TempDbPath("newer");
  { ASSERT_OK(OpenSqliteStore(Options(path, nullptr))); }
  {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<Connection> raw,
                         Connection::Open(path, Connection::Mode::kReadWrite, absl::Seconds(1)));
    ASSERT_OK(raw->Exec("INSERT INTO schema_migrations VALUES (999, 'future', 0)"));
  }
  EXPECT_THAT(OpenSqliteStore(Options(path, nullptr)),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("999")));
}

// --- Query plans ---------------------------------------------------------------------------

// EXPLAIN QUERY PLAN of `sql` on a store's schema, one detail per line.
std::string QueryPlan(Connection& c, const std::string& sql) {
  absl::StatusOr<Statement> s = c.Prepare(absl::StrCat("EXPLAIN QUERY PLAN ", sql));
  EXPECT_OK(s);
  if (!s.ok()) return "";
  std::string plan;
  while (true) {
    absl::StatusOr<bool> row = s->Step();
    EXPECT_OK(row);
    if (!row.ok() || !*row) return plan;
    absl::StrAppend(&plan, s->ColumnText(3), "\n");
  }
}

TEST(StoreSchemaTest, ListingUsesAnIndexInIdOrderForEveryFilter) {
  const std::string path = TempDbPath("plans");
  { ASSERT_OK(OpenSqliteStore(Options(path, nullptr))); }
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Connection> raw,
                       Connection::Open(path, Connection::Mode::kReadOnly, absl::Seconds(1)));
  for (int status = 0; status <= 8; ++status) {  // 0: no status filter
    for (int mask = 0; mask < 8; ++mask) {
      NotificationFilter f;
      if (status > 0) f.status = static_cast<NotificationStatus>(status);
      if (mask & 1) f.type = "deploy.finished";
      if (mask & 2) f.since = absl::FromUnixSeconds(1);
      if (mask & 4) f.before_id = "0193";
      const std::string sql = sqlite_internal::ListNotificationsSql(f);
      const std::string plan = QueryPlan(*raw, sql);
      SCOPED_TRACE(absl::StrCat(sql, "\n", plan));
      // Never a sort of the tenant's rows: LIMIT stops the index walk early.
      EXPECT_THAT(plan, Not(HasSubstr("TEMP B-TREE")));
      if (status > 1) {
        EXPECT_THAT(plan, HasSubstr("INDEX notifications_by_status (tenant_id=? AND status=?"));
      } else {
        EXPECT_THAT(plan, HasSubstr("INDEX notifications_by_tenant (tenant_id=?"));
      }
    }
  }
}

// --- Durability and sharing -----------------------------------------------------------------

SubmissionWrite MakeSubmission(const std::string& tenant_id, absl::Time now,
                               const std::string& dedup_key = "") {
  SubmissionWrite w;
  w.notification.id = NewUuidV7(now);
  w.notification.tenant_id = tenant_id;
  w.notification.created_at = now;
  w.notification.updated_at = now;
  w.notification.type = "deploy.finished";
  w.notification.title = "v2";
  w.notification.dedup_key = dedup_key;
  w.accepted_event = MakeNotificationEvent(w.notification, kEventAccepted,
                                           "/alerthub/pipeline", now, {});
  w.outbox_topic = std::string(kTopicCreated);
  w.outbox_payload = CloudEventToJson(w.accepted_event).dump();
  return w;
}

TEST(SqliteFileStoreTest, ReopeningFindsEverything) {
  const std::string path = TempDbPath("reopen");
  SimulatedClock clock;
  Tenant tenant;
  tenant.id = NewUuidV7(clock.Now());
  tenant.name = "acme";
  tenant.created_at = clock.Now();
  ApiKey key;
  key.id = NewUuidV7(clock.Now());
  key.tenant_id = tenant.id;
  key.name = "ci";
  key.prefix = "ahk_ci";
  key.key_hash = std::string(64, 'a');
  key.created_at = clock.Now();
  SubmissionWrite w1 = MakeSubmission(tenant.id, clock.Now(), "k1");
  SubmissionWrite w2 = MakeSubmission(tenant.id, clock.Now());
  {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<SqliteStore> store,
                         OpenSqliteStore(Options(path, &clock)));
    ASSERT_OK(store->CreateTenant(tenant));
    ASSERT_OK(store->CreateApiKey(key));
    ASSERT_OK(store->CommitSubmissions({w1, w2}));
    ASSERT_OK_AND_ASSIGN(std::vector<OutboxRecord> claimed,
                         store->ClaimOutbox(1, absl::Seconds(30)));
    ASSERT_THAT(claimed, SizeIs(1));
    ASSERT_OK(store->MarkOutboxSent({claimed[0].seq}));
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<TaskQueue> q, store->OpenTaskQueue());
    ASSERT_OK(q->Enqueue("integration.webhook.delivery", "d1", "payload", clock.Now()));
  }
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<SqliteStore> store,
                       OpenSqliteStore(Options(path, &clock)));
  ASSERT_OK_AND_ASSIGN(Tenant t, store->GetTenantByName("acme"));
  EXPECT_EQ(t.id, tenant.id);
  ASSERT_OK_AND_ASSIGN(ApiKey k, store->FindApiKeyByHash(key.key_hash));
  EXPECT_EQ(k.id, key.id);
  ASSERT_OK_AND_ASSIGN(Notification n, store->GetNotification(tenant.id, w2.notification.id));
  EXPECT_EQ(NotificationToJson(n), NotificationToJson(w2.notification));
  ASSERT_OK_AND_ASSIGN(std::vector<CloudEvent> events,
                       store->ListEvents(tenant.id, w1.notification.id));
  EXPECT_THAT(events, SizeIs(1));
  ASSERT_OK_AND_ASSIGN(int64_t pending, store->CountOutboxPending());
  EXPECT_EQ(pending, 1);
  // The dedup key survived too.
  ASSERT_OK_AND_ASSIGN(std::vector<SubmissionOutcome> out,
                       store->CommitSubmissions({MakeSubmission(tenant.id, clock.Now(), "k1")}));
  EXPECT_EQ(out[0].id, w1.notification.id);
  EXPECT_TRUE(out[0].duplicate);
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<TaskQueue> q, store->OpenTaskQueue());
  ASSERT_OK_AND_ASSIGN(int64_t depth, q->Depth("integration.webhook.delivery"));
  EXPECT_EQ(depth, 1);
}

TEST(SqliteFileStoreTest, AWriteLockHeldElsewhereIsUnavailableAndReadsGoOn) {
  const std::string path = TempDbPath("locked");
  SimulatedClock clock;
  SqliteStoreOptions options = Options(path, &clock);
  options.busy_timeout = absl::Milliseconds(50);
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<SqliteStore> store, OpenSqliteStore(options));
  Tenant tenant;
  tenant.id = NewUuidV7(clock.Now());
  tenant.name = "acme";
  ASSERT_OK(store->CreateTenant(tenant));

  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Connection> other,
                       Connection::Open(path, Connection::Mode::kReadWrite, absl::Seconds(1)));
  ASSERT_OK(other->Exec("BEGIN IMMEDIATE"));
  Tenant second = tenant;
  second.id = NewUuidV7(clock.Now());
  second.name = "globex";
  EXPECT_THAT(store->CreateTenant(second), StatusIs(StatusCode::kUnavailable));
  EXPECT_THAT(store->CommitSubmissions({MakeSubmission(tenant.id, clock.Now())}),
              StatusIs(StatusCode::kUnavailable));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<TaskQueue> q, store->OpenTaskQueue());
  EXPECT_THAT(q->Enqueue("q", "t1", "p", clock.Now()), StatusIs(StatusCode::kUnavailable));
  // WAL readers are not blocked by a writer.
  ASSERT_OK_AND_ASSIGN(Tenant got, store->GetTenant(tenant.id));
  EXPECT_EQ(got.name, "acme");
  ASSERT_OK(other->Exec("COMMIT"));

  EXPECT_OK(store->CreateTenant(second));
  EXPECT_OK(store->CommitSubmissions({MakeSubmission(tenant.id, clock.Now())}));
}

TEST(SqliteFileStoreTest, TwoStoresOnOneFileShareDedupAndLeaseExclusively) {
  // Two stores on one file behave like two processes: separate connections,
  // coordinated only by SQLite's file locks.
  const std::string path = TempDbPath("shared");
  SimulatedClock clock;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<SqliteStore> a, OpenSqliteStore(Options(path, &clock)));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<SqliteStore> b, OpenSqliteStore(Options(path, &clock)));

  ASSERT_OK_AND_ASSIGN(std::vector<SubmissionOutcome> first,
                       a->CommitSubmissions({MakeSubmission("t", clock.Now(), "k")}));
  ASSERT_OK_AND_ASSIGN(std::vector<SubmissionOutcome> second,
                       b->CommitSubmissions({MakeSubmission("t", clock.Now(), "k")}));
  EXPECT_EQ(second[0].id, first[0].id);
  EXPECT_TRUE(second[0].duplicate);

  ASSERT_OK_AND_ASSIGN(std::unique_ptr<TaskQueue> qa, a->OpenTaskQueue());
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<TaskQueue> qb, b->OpenTaskQueue());
  constexpr int kTasks = 300;
  for (int i = 0; i < kTasks; ++i) {
    ASSERT_OK((i % 2 ? qa : qb)->Enqueue("work", absl::StrCat("t", i), "p", clock.Now()));
  }
  absl::Mutex mu;
  std::vector<std::string> seen;
  absl::Status error;
  std::vector<std::thread> consumers;
  for (int c = 0; c < 4; ++c) {
    TaskQueue* q = (c % 2 ? qa : qb).get();
    consumers.emplace_back([&, q] {
      while (true) {
        absl::StatusOr<std::vector<Task>> tasks = q->Lease("work", 3, absl::Hours(1));
        absl::MutexLock lock(&mu);
        if (!tasks.ok()) {
          error = tasks.status();
          return;
        }
        if (tasks->empty()) return;
        for (const Task& t : *tasks) seen.push_back(t.id);
      }
    });
  }
  for (std::thread& th : consumers) th.join();
  EXPECT_OK(error);
  EXPECT_EQ(seen.size(), static_cast<size_t>(kTasks));
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()).size(),
            static_cast<size_t>(kTasks));
}

TEST(SqliteStoreTest, AQueueOutlivesItsStore) {
  SimulatedClock clock;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<SqliteStore> store,
                       OpenSqliteStore(Options(":memory:", &clock)));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<TaskQueue> q, store->OpenTaskQueue());
  store.reset();
  ASSERT_OK(q->Enqueue("q", "t1", "p", clock.Now()));
  ASSERT_OK_AND_ASSIGN(std::vector<Task> tasks, q->Lease("q", 1, absl::Seconds(10)));
  EXPECT_THAT(tasks, SizeIs(1));
}

TEST(SqliteStoreTest, PurgeSentOutboxDeletesOldSentMessagesButTheNewest) {
  SimulatedClock clock;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<SqliteStore> store,
                       OpenSqliteStore(Options(":memory:", &clock)));
  std::vector<SubmissionWrite> writes;
  for (int i = 0; i < 4; ++i) writes.push_back(MakeSubmission("t", clock.Now()));
  ASSERT_OK(store->CommitSubmissions(writes));
  ASSERT_OK_AND_ASSIGN(std::vector<OutboxRecord> claimed,
                       store->ClaimOutbox(10, absl::Seconds(30)));
  ASSERT_THAT(claimed, SizeIs(4));
  // Sent: #0 and #1 an hour ago, #3 (the newest) too; #2 stays unsent.
  ASSERT_OK(store->MarkOutboxSent({claimed[0].seq, claimed[1].seq, claimed[3].seq}));
  clock.Advance(absl::Hours(1));
  ASSERT_OK_AND_ASSIGN(int64_t deleted, store->PurgeSentOutbox(clock.Now()));
  EXPECT_EQ(deleted, 2);
  ASSERT_OK_AND_ASSIGN(deleted, store->PurgeSentOutbox(clock.Now()));
  EXPECT_EQ(deleted, 0);
  ASSERT_OK_AND_ASSIGN(int64_t pending, store->CountOutboxPending());
  EXPECT_EQ(pending, 1);

  // New messages continue the sequence.
  ASSERT_OK(store->CommitSubmissions({MakeSubmission("t", clock.Now())}));
  clock.Advance(absl::Minutes(1));
  ASSERT_OK_AND_ASSIGN(std::vector<OutboxRecord> next,
                       store->ClaimOutbox(10, absl::Seconds(30)));
  ASSERT_THAT(next, SizeIs(2));
  EXPECT_EQ(next[0].seq, claimed[2].seq);
  EXPECT_GT(next[1].seq, claimed[3].seq);
}

TEST(SqliteStoreTest, AckReportsWhetherTheTaskIsGoneOrHeldElsewhere) {
  SimulatedClock clock;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<SqliteStore> store,
                       OpenSqliteStore(Options(":memory:", &clock)));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<TaskQueue> q, store->OpenTaskQueue());
  ASSERT_OK(q->Enqueue("q", "t1", "p", clock.Now()));
  ASSERT_OK_AND_ASSIGN(std::vector<Task> mine, q->Lease("q", 1, absl::Seconds(10)));
  ASSERT_THAT(mine, SizeIs(1));
  EXPECT_FALSE(mine[0].receipt.empty());

  // Expired but not taken over: the holder may still finish.
  clock.Advance(absl::Seconds(11));
  Task stale = mine[0];
  ASSERT_OK_AND_ASSIGN(std::vector<Task> theirs, q->Lease("q", 1, absl::Seconds(10)));
  ASSERT_THAT(theirs, SizeIs(1));
  EXPECT_NE(theirs[0].receipt, stale.receipt);
  EXPECT_THAT(q->Ack(stale), StatusIs(StatusCode::kFailedPrecondition));
  ASSERT_OK(q->Ack(theirs[0]));
  EXPECT_THAT(q->Ack(theirs[0]), StatusIs(StatusCode::kNotFound));

  ASSERT_OK(q->Enqueue("q", "t2", "p", clock.Now()));
  ASSERT_OK_AND_ASSIGN(std::vector<Task> late, q->Lease("q", 1, absl::Seconds(10)));
  clock.Advance(absl::Seconds(60));
  EXPECT_OK(q->Ack(late[0]));  // lease expired, nobody else took it
}

// Specific to sql://: EnqueueMany adds nothing when one task is bad, and a
// batch whose transaction cannot run reports that in every slot.
TEST(SqliteStoreTest, TaskBatchesAreAllOrNothing) {
  const std::string path = TempDbPath("task-batches");
  SimulatedClock clock;
  SqliteStoreOptions o = Options(path, &clock);
  o.busy_timeout = absl::Milliseconds(50);
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<SqliteStore> store, OpenSqliteStore(o));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<TaskQueue> q, store->OpenTaskQueue());
  const absl::Time now = clock.Now();
  EXPECT_THAT(q->EnqueueMany(std::vector<NewTask>{{"q", "a", "p", now}, {"q", "", "p", now}}),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("tasks[1].id")));
  ASSERT_OK_AND_ASSIGN(int64_t depth, q->Depth("q"));
  EXPECT_EQ(depth, 0);

  ASSERT_OK(q->EnqueueMany(std::vector<NewTask>{{"q", "a", "p", now}, {"q", "b", "p", now}}));
  ASSERT_OK_AND_ASSIGN(std::vector<Task> tasks, q->Lease("q", 10, absl::Seconds(60)));
  ASSERT_THAT(tasks, SizeIs(2));

  // Another process holds the write lock: nothing can commit.
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  TaskSettlement ack;
  ack.task = &tasks[0];
  TaskSettlement dead;
  dead.task = &tasks[1];
  dead.kind = TaskSettlement::Kind::kDeadLetter;
  dead.error = "gone";
  EXPECT_THAT(q->Settle(std::vector<TaskSettlement>{ack, dead}),
              ElementsAre(StatusIs(StatusCode::kUnavailable), StatusIs(StatusCode::kUnavailable)));
  EXPECT_THAT(q->EnqueueMany(std::vector<NewTask>{{"q", "c", "p", now}}),
              StatusIs(StatusCode::kUnavailable));
  ASSERT_EQ(sqlite3_exec(other, "COMMIT", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(other);

  // Then both settle; a settlement without a task fails only its slot.
  TaskSettlement no_task;
  std::vector<absl::Status> settled = q->Settle(std::vector<TaskSettlement>{ack, no_task, dead});
  ASSERT_THAT(settled, SizeIs(3));
  EXPECT_OK(settled[0]);
  EXPECT_THAT(settled[1], StatusIs(StatusCode::kInvalidArgument));
  EXPECT_OK(settled[2]);
  ASSERT_OK_AND_ASSIGN(depth, q->Depth("q"));
  EXPECT_EQ(depth, 0);
  ASSERT_OK_AND_ASSIGN(std::vector<Task> dead_tasks, q->ListDead("q", 10));
  ASSERT_THAT(dead_tasks, SizeIs(1));
  EXPECT_EQ(dead_tasks[0].last_error, "gone");
}

TEST(SqliteStoreTest, BadArgumentsAreInvalidArgument) {
  SimulatedClock clock;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<SqliteStore> store,
                       OpenSqliteStore(Options(":memory:", &clock)));
  EXPECT_THAT(store->ClaimOutbox(0, absl::Seconds(1)), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(store->ClaimOutbox(1, absl::ZeroDuration()),
              StatusIs(StatusCode::kInvalidArgument));
  SubmissionWrite bad_utf8 = MakeSubmission("t", clock.Now());
  bad_utf8.notification.title = "\xff\xfe";
  EXPECT_THAT(store->CommitSubmissions({bad_utf8}),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("submissions[0]")));
  SubmissionWrite no_id = MakeSubmission("t", clock.Now());
  no_id.notification.id.clear();
  EXPECT_THAT(store->CommitSubmissions({no_id}),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("submissions[0]")));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<TaskQueue> q, store->OpenTaskQueue());
  EXPECT_THAT(q->Lease("q", 0, absl::Seconds(1)), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(q->Lease("q", 1, absl::ZeroDuration()), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(q->ListDead("q", 0), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(q->Enqueue("", "t", "p", clock.Now()), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(q->Enqueue("q", "", "p", clock.Now()), StatusIs(StatusCode::kInvalidArgument));
}

TEST(StatusFromSqliteTest, MapsResultCodes) {
  constexpr int kBusy = SQLITE_BUSY, kLocked = SQLITE_LOCKED, kIoErr = SQLITE_IOERR_FSYNC,
                kCorrupt = SQLITE_CORRUPT, kFull = SQLITE_FULL, kNotADb = SQLITE_NOTADB,
                kConstraintUnique = SQLITE_CONSTRAINT_UNIQUE,
                kConstraintPrimaryKey = SQLITE_CONSTRAINT_PRIMARYKEY,
                kConstraintForeignKey = SQLITE_CONSTRAINT_FOREIGNKEY,
                kConstraintNotNull = SQLITE_CONSTRAINT_NOTNULL,
                kBusySnapshot = SQLITE_BUSY_SNAPSHOT;
  using sqlite_internal::StatusFromSqlite;
  EXPECT_THAT(StatusFromSqlite(kBusy, "m", "ctx"), StatusIs(StatusCode::kUnavailable));
  EXPECT_THAT(StatusFromSqlite(kBusySnapshot, "m", "ctx"), StatusIs(StatusCode::kUnavailable));
  EXPECT_THAT(StatusFromSqlite(kLocked, "m", "ctx"), StatusIs(StatusCode::kUnavailable));
  EXPECT_THAT(StatusFromSqlite(kIoErr, "m", "ctx"), StatusIs(StatusCode::kUnavailable));
  EXPECT_THAT(StatusFromSqlite(kFull, "m", "ctx"), StatusIs(StatusCode::kUnavailable));
  EXPECT_THAT(StatusFromSqlite(kCorrupt, "m", "ctx"), StatusIs(StatusCode::kDataLoss));
  EXPECT_THAT(StatusFromSqlite(kNotADb, "m", "ctx"), StatusIs(StatusCode::kDataLoss));
  EXPECT_THAT(StatusFromSqlite(kConstraintUnique, "m", "ctx"),
              StatusIs(StatusCode::kAlreadyExists));
  EXPECT_THAT(StatusFromSqlite(kConstraintPrimaryKey, "m", "ctx"),
              StatusIs(StatusCode::kAlreadyExists));
  EXPECT_THAT(StatusFromSqlite(kConstraintForeignKey, "m", "ctx"),
              StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_THAT(StatusFromSqlite(kConstraintNotNull, "m", "ctx"),
              StatusIs(StatusCode::kInternal));
  EXPECT_THAT(StatusFromSqlite(kBusy, "database is locked", "writing tenants"),
              StatusIs(StatusCode::kUnavailable,
                       HasSubstr("writing tenants: database is locked")));
}

}  // namespace
}  // namespace alerthub
