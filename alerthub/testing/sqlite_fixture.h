// A private in-memory SQLite store with one tenant and its keys, for tests
// of components above the Store (auth, admin, transports).
//
//   SimulatedClock clock;
//   SqliteFixture db(&clock);         // tenant "acme" exists
//   std::string key = db.AddApiKey(Role::kMember);
#ifndef ALERTHUB_TESTING_SQLITE_FIXTURE_H_
#define ALERTHUB_TESTING_SQLITE_FIXTURE_H_

#include <memory>
#include <string>

#include "alerthub/adapters/sqlite/sqlite_store.h"
#include "alerthub/auth/api_keys.h"
#include "alerthub/common/uuid.h"
#include "alerthub/model/tenant.h"
#include "alerthub/testing/simulated_clock.h"
#include "gtest/gtest.h"

namespace alerthub::testing {

class SqliteFixture {
 public:
  // `clock` must outlive the fixture. Creates tenant "acme".
  explicit SqliteFixture(SimulatedClock* clock) : clock_(clock) {
    SqliteStoreOptions options;
    options.path = ":memory:";
    options.clock = clock;
    absl::StatusOr<std::unique_ptr<SqliteStore>> store = OpenSqliteStore(options);
    EXPECT_TRUE(store.ok()) << store.status();
    if (store.ok()) store_ = *std::move(store);
    tenant_id_ = AddTenant("acme");
  }

  Store* store() const { return store_.get(); }
  const std::string& tenant_id() const { return tenant_id_; }

  // A new tenant called `name`; returns its id.
  std::string AddTenant(const std::string& name) {
    Tenant t;
    t.id = NewUuidV7(clock_->Now());
    t.name = name;
    t.created_at = clock_->Now();
    absl::Status s = store_->CreateTenant(t);
    EXPECT_TRUE(s.ok()) << s;
    return t.id;
  }

  // A new API key of `tenant_id` (default: "acme") with `role`; returns the
  // plaintext token.
  std::string AddApiKey(Role role, const std::string& tenant_id = "") {
    NewApiKey k = GenerateApiKey(tenant_id.empty() ? tenant_id_ : tenant_id, "test", role,
                                 clock_->Now());
    absl::Status s = store_->CreateApiKey(k.record);
    EXPECT_TRUE(s.ok()) << s;
    return k.plaintext;
  }

 private:
  SimulatedClock* const clock_;
  std::unique_ptr<SqliteStore> store_;
  std::string tenant_id_;
};

}  // namespace alerthub::testing

#endif  // ALERTHUB_TESTING_SQLITE_FIXTURE_H_
