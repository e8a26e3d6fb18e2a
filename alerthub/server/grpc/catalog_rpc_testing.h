// Test fixture for the UserService and RuleService tests: an in-memory
// SQLite store with two tenants ("acme", "globex"), a RoutingCatalog over it,
// API keys of every role and the authenticator the services use.
#ifndef ALERTHUB_SERVER_GRPC_CATALOG_RPC_TESTING_H_
#define ALERTHUB_SERVER_GRPC_CATALOG_RPC_TESTING_H_

#include <grpcpp/grpcpp.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "alerthub/adapters/memory/memory_kv.h"
#include "alerthub/auth/api_keys.h"
#include "alerthub/auth/credentials.h"
#include "alerthub/delivery/routing_catalog.h"
#include "alerthub/proto/google/rpc/status.pb.h"
#include "alerthub/rules/rules_resolver.h"
#include "alerthub/server/grpc/admin_services.h"
#include "alerthub/testing/simulated_clock.h"
#include "alerthub/testing/sqlite_fixture.h"
#include "gtest/gtest.h"

namespace alerthub::server::testing {

class CatalogRpcTest : public ::testing::Test {
 protected:
  CatalogRpcTest() {
    kv_ = NewMemoryKv({.clock = &clock_});
    RulesTargetResolverOptions ro;
    ro.clock = &clock_;
    // Only Invalidate() reloads: every change must reach routing at once.
    ro.max_staleness = absl::InfiniteDuration();
    resolver_ = std::make_unique<RulesTargetResolver>(db_.store(), kv_.get(),
                                                      StoreRuleSource(db_.store()), ro);
    catalog_ = std::make_unique<RoutingCatalog>(db_.store(), resolver_.get(), &clock_);
    for (Role r : {Role::kOwner, Role::kAdmin, Role::kMember, Role::kViewer}) {
      keys_[r] = db_.AddApiKey(r);
    }
    other_tenant_id_ = db_.AddTenant("globex");
    other_owner_key_ = db_.AddApiKey(Role::kOwner, other_tenant_id_);
    api_keys_ = std::make_unique<ApiKeyAuthenticator>(db_.store());
    authenticator_ = std::make_unique<RequestAuthenticator>(api_keys_.get(), nullptr);
  }

  // The server stops before the derived fixture's services go.
  void TearDown() override { server_.reset(); }

  // Serves `service` in process; the channel to it.
  std::shared_ptr<grpc::Channel> Serve(grpc::Service* service) {
    absl::StatusOr<std::unique_ptr<GrpcServer>> server = GrpcServer::Start("127.0.0.1", 0, {service});
    EXPECT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    return grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->port()),
                               grpc::InsecureChannelCredentials());
  }

  // A call context with `key` in x-api-key (none when empty).
  static std::unique_ptr<grpc::ClientContext> As(const std::string& key) {
    auto ctx = std::make_unique<grpc::ClientContext>();
    if (!key.empty()) ctx->AddMetadata("x-api-key", key);
    return ctx;
  }
  std::unique_ptr<grpc::ClientContext> As(Role role) { return As(keys_[role]); }

  // The fields of the google.rpc.BadRequest in `s`'s details.
  static std::vector<std::string> Violations(const grpc::Status& s) {
    google::rpc::Status details;
    google::rpc::BadRequest bad;
    std::vector<std::string> fields;
    if (!details.ParseFromString(s.error_details()) || details.details_size() != 1 ||
        !details.details(0).UnpackTo(&bad)) {
      return fields;
    }
    for (const auto& v : bad.field_violations()) fields.push_back(v.field());
    return fields;
  }

  // The tenant's audit records whose action starts with `prefix`, newest
  // first, as "<action> <target> <actor>".
  std::vector<std::string> AuditTrail(const std::string& prefix) {
    AuditFilter filter;
    filter.action = prefix;
    absl::StatusOr<Page<AuditRecord>> page =
        db_.store()->ListAuditRecords(db_.tenant_id(), filter, PageRequest{.cursor = "", .limit = 100});
    EXPECT_TRUE(page.ok()) << page.status();
    std::vector<std::string> out;
    if (!page.ok()) return out;
    for (const AuditRecord& r : page->items) {
      out.push_back(r.action + " " + r.target + " " + r.actor);
    }
    return out;
  }

  // The subject of the acme key of `role`: "apikey:<id>".
  std::string Subject(Role role) {
    absl::StatusOr<Principal> who = api_keys_->Authenticate(keys_[role]);
    EXPECT_TRUE(who.ok()) << who.status();
    return who.ok() ? who->subject : "";
  }

  SimulatedClock clock_;
  ::alerthub::testing::SqliteFixture db_{&clock_};
  std::unique_ptr<Kv> kv_;
  std::unique_ptr<RulesTargetResolver> resolver_;
  std::unique_ptr<RoutingCatalog> catalog_;
  std::map<Role, std::string> keys_;
  std::string other_tenant_id_;
  std::string other_owner_key_;
  std::unique_ptr<ApiKeyAuthenticator> api_keys_;
  std::unique_ptr<RequestAuthenticator> authenticator_;
  std::unique_ptr<GrpcServer> server_;
};

}  // namespace alerthub::server::testing

#endif  // ALERTHUB_SERVER_GRPC_CATALOG_RPC_TESTING_H_
