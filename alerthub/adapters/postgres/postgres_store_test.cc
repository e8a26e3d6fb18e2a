// Hermetic tests of the postgres:// store: URL parsing and validation, and
// what callers see when no PostgreSQL answers. The store's behaviour against
// a server is postgres_store_live_test.
#include "alerthub/adapters/postgres/postgres_store.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "alerthub/adapters/postgres/internal/connection.h"
#include "alerthub/adapters/registry.h"
#include "alerthub/testing/refusing_port.h"
#include "alerthub/testing/simulated_clock.h"
#include "alerthub/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace alerthub {
namespace {

using ::absl::StatusCode;
using ::alerthub::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

TEST(PostgresStoreOptionsFromUrlTest, DefaultsAndLibpqParametersPassThrough) {
  ASSERT_OK_AND_ASSIGN(
      PostgresStoreOptions o,
      PostgresStoreOptionsFromUrl("postgres://alerthub@db.internal:6543/notify?sslmode=disable"));
  EXPECT_EQ(o.pool_size, 4);
  EXPECT_EQ(o.acquire_timeout, absl::Seconds(5));
  EXPECT_EQ(o.conninfo,
            "postgres://alerthub@db.internal:6543/notify?sslmode=disable&connect_timeout=5&"
            "fallback_application_name=alerthub");
}

TEST(PostgresStoreOptionsFromUrlTest, AlertHubParametersAreTakenOut) {
  ASSERT_OK_AND_ASSIGN(
      PostgresStoreOptions o,
      PostgresStoreOptionsFromUrl("postgresql://u@h/db?pool_size=12&connect_timeout=2&"
                                  "acquire_timeout_ms=250&application_name=router"));
  EXPECT_EQ(o.pool_size, 12);
  EXPECT_EQ(o.acquire_timeout, absl::Milliseconds(250));
  EXPECT_EQ(o.conninfo,
            "postgresql://u@h/db?connect_timeout=2&application_name=router&"
            "fallback_application_name=alerthub");
}

TEST(PostgresStoreOptionsFromUrlTest, RejectsOtherSchemesAndBadParameters) {
  EXPECT_THAT(PostgresStoreOptionsFromUrl("sqlite:///tmp/x.db"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("postgres://")));
  EXPECT_THAT(PostgresStoreOptionsFromUrl("postgres://h/db?pool_size=0"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("pool_size")));
  EXPECT_THAT(PostgresStoreOptionsFromUrl("postgres://h/db?pool_size=65"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("pool_size")));
  EXPECT_THAT(PostgresStoreOptionsFromUrl("postgres://h/db?pool_size=many"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("pool_size")));
  EXPECT_THAT(PostgresStoreOptionsFromUrl("postgres://h/db?acquire_timeout_ms=-1"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("acquire_timeout_ms")));
  EXPECT_THAT(PostgresStoreOptionsFromUrl("postgres://h/db#frag"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("fragment")));
  // libpq's own checks: unknown parameters, bad ports, bad escapes.
  EXPECT_THAT(PostgresStoreOptionsFromUrl("postgres://h/db?no_such_param=1"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("no_such_param")));
  EXPECT_THAT(PostgresStoreOptionsFromUrl("postgres://h/db%zz"),
              StatusIs(StatusCode::kInvalidArgument));
}

TEST(PostgresStoreOptionsFromUrlTest, ErrorsNeverShowThePassword) {
  absl::StatusOr<PostgresStoreOptions> o =
      PostgresStoreOptionsFromUrl("postgres://admin:hunter2@h/db?pool_size=0");
  EXPECT_THAT(o, StatusIs(StatusCode::kInvalidArgument,
                          AllOf(HasSubstr("admin:***@h"), Not(HasSubstr("hunter2")))));
  o = PostgresStoreOptionsFromUrl("postgres://h/db?password=hunter2&bogus=1");
  EXPECT_THAT(o, StatusIs(StatusCode::kInvalidArgument, Not(HasSubstr("hunter2"))));
  ASSERT_OK_AND_ASSIGN(PostgresStoreOptions ok,
                       PostgresStoreOptionsFromUrl("postgres://admin:hunter2@h/db"));
  EXPECT_THAT(ok.redacted_url, Not(HasSubstr("hunter2")));
}

TEST(RedactUrlTest, MasksPasswordsOnly) {
  using postgres_internal::RedactUrl;
  EXPECT_EQ(RedactUrl("postgres://u:p@h:1/db"), "postgres://u:***@h:1/db");
  EXPECT_EQ(RedactUrl("postgres://u@h/db"), "postgres://u@h/db");
  EXPECT_EQ(RedactUrl("postgres://h/db?password=x&sslmode=require"),
            "postgres://h/db?password=***&sslmode=require");
}

TEST(SqlStateTest, MapsToStatusCodes) {
  using postgres_internal::CodeForSqlState;
  EXPECT_EQ(CodeForSqlState("23505"), StatusCode::kAlreadyExists);
  EXPECT_EQ(CodeForSqlState("23503"), StatusCode::kFailedPrecondition);
  EXPECT_EQ(CodeForSqlState("40001"), StatusCode::kAborted);
  EXPECT_EQ(CodeForSqlState("40P01"), StatusCode::kAborted);
  EXPECT_EQ(CodeForSqlState("57P01"), StatusCode::kUnavailable);
  EXPECT_EQ(CodeForSqlState("08006"), StatusCode::kUnavailable);
  EXPECT_EQ(CodeForSqlState("53300"), StatusCode::kUnavailable);
  EXPECT_EQ(CodeForSqlState("57014"), StatusCode::kUnavailable);
  EXPECT_EQ(CodeForSqlState("55P03"), StatusCode::kUnavailable);
  EXPECT_EQ(CodeForSqlState("22P02"), StatusCode::kInvalidArgument);
  EXPECT_EQ(CodeForSqlState("42P01"), StatusCode::kInternal);
}

TEST(OpenPostgresStoreTest, RefusedPortIsUnavailableQuickly) {
  const int port = testing::RefusingPort();
  SimulatedClock clock;
  const absl::Time start = absl::Now();
  absl::StatusOr<PostgresStoreOptions> o = PostgresStoreOptionsFromUrl(
      absl::StrCat("postgres://alerthub:secret@127.0.0.1:", port, "/alerthub"));
  ASSERT_OK(o);
  o->clock = &clock;
  absl::StatusOr<std::unique_ptr<PostgresStore>> store = OpenPostgresStore(*o);
  EXPECT_THAT(store, StatusIs(StatusCode::kUnavailable,
                              AllOf(HasSubstr(absl::StrCat(port)), Not(HasSubstr("secret")))));
  EXPECT_LT(absl::Now() - start, absl::Seconds(3));
}

TEST(OpenPostgresStoreTest, RegistryOpensBothSchemes) {
  const int port = testing::RefusingPort();
  for (const char* scheme : {"postgres", "postgresql"}) {
    EXPECT_THAT(OpenStore(absl::StrCat(scheme, "://127.0.0.1:", port, "/x"), nullptr),
                StatusIs(StatusCode::kUnavailable))
        << scheme;
  }
  EXPECT_THAT(OpenStore("postgres://127.0.0.1/x?pool_size=0", nullptr),
              StatusIs(StatusCode::kInvalidArgument));
}

TEST(OpenPostgresStoreTest, BadOptionsAreInvalidArgument) {
  PostgresStoreOptions o;
  EXPECT_THAT(OpenPostgresStore(o), StatusIs(StatusCode::kInvalidArgument));
  o.conninfo = "postgres://127.0.0.1/x";
  o.pool_size = 0;
  EXPECT_THAT(OpenPostgresStore(o), StatusIs(StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace alerthub
