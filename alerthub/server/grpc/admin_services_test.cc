#include "alerthub/server/grpc/admin_services.h"

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "alerthub/auth/api_keys.h"
#include "alerthub/proto/google/rpc/status.pb.h"
#include "alerthub/testing/simulated_clock.h"
#include "alerthub/testing/sqlite_fixture.h"
#include "alerthub/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace alerthub::server {
namespace {

namespace pb = ::alerthub::admin::v1;
using ::testing::HasSubstr;
using ::testing::StartsWith;

class AdminGrpcTest : public ::testing::Test {
 protected:
  void SetUp() override {
    owner_key_ = db_.AddApiKey(Role::kOwner);
    member_key_ = db_.AddApiKey(Role::kMember);

    auth_ = std::make_unique<ApiKeyAuthenticator>(db_.store());
    credentials_ = std::make_unique<RequestAuthenticator>(auth_.get(), nullptr);
    admin_ = std::make_unique<ApiKeysAdmin>(db_.store(), auth_.get(), &clock_);
    operations_ = std::make_unique<ApiKeyOperations>(admin_.get());
    service_ = std::make_unique<ApiKeyGrpcService>(credentials_.get(), operations_.get());
    ASSERT_OK_AND_ASSIGN(server_, GrpcServer::Start("127.0.0.1", 0, {service_.get()}));
    stub_ = pb::ApiKeyService::NewStub(grpc::CreateChannel(
        "127.0.0.1:" + std::to_string(server_->port()), grpc::InsecureChannelCredentials()));
  }

  std::unique_ptr<grpc::ClientContext> As(const std::string& key, bool bearer = false) {
    auto ctx = std::make_unique<grpc::ClientContext>();
    if (bearer) {
      ctx->AddMetadata("authorization", "Bearer " + key);
    } else if (!key.empty()) {
      ctx->AddMetadata("x-api-key", key);
    }
    return ctx;
  }

  SimulatedClock clock_;
  ::alerthub::testing::SqliteFixture db_{&clock_};
  std::string owner_key_, member_key_;
  std::unique_ptr<ApiKeyAuthenticator> auth_;
  std::unique_ptr<RequestAuthenticator> credentials_;
  std::unique_ptr<ApiKeysAdmin> admin_;
  std::unique_ptr<ApiKeyOperations> operations_;
  std::unique_ptr<ApiKeyGrpcService> service_;
  std::unique_ptr<GrpcServer> server_;
  std::unique_ptr<pb::ApiKeyService::Stub> stub_;
};

TEST_F(AdminGrpcTest, CreateListRevokeOverGrpc) {
  pb::CreateApiKeyRequest create;
  create.set_name("ci");
  create.set_role(pb::ROLE_MEMBER);
  pb::CreateApiKeyResponse created;
  grpc::Status s = stub_->CreateApiKey(As(owner_key_, /*bearer=*/true).get(), create, &created);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_THAT(created.plaintext(), StartsWith("ahk_"));
  EXPECT_EQ(created.api_key().role(), pb::ROLE_MEMBER);
  EXPECT_GT(created.api_key().create_time().seconds(), 0);

  pb::ListApiKeysRequest list;
  list.set_page_size(2);
  pb::ListApiKeysResponse page;
  ASSERT_TRUE(stub_->ListApiKeys(As(owner_key_).get(), list, &page).ok());
  EXPECT_EQ(page.api_keys_size(), 2);
  EXPECT_FALSE(page.next_page_token().empty());
  list.set_page_token(page.next_page_token());
  pb::ListApiKeysResponse rest;
  ASSERT_TRUE(stub_->ListApiKeys(As(owner_key_).get(), list, &rest).ok());
  EXPECT_EQ(rest.api_keys_size(), 1);
  EXPECT_TRUE(rest.next_page_token().empty());

  // The new key works until revoked, then at once no more.
  ASSERT_TRUE(stub_->ListApiKeys(As(created.plaintext()).get(), pb::ListApiKeysRequest(), &page)
                  .error_code() == grpc::StatusCode::PERMISSION_DENIED);
  pb::RevokeApiKeyRequest revoke;
  revoke.set_id(created.api_key().id());
  pb::ApiKey revoked;
  ASSERT_TRUE(stub_->RevokeApiKey(As(owner_key_).get(), revoke, &revoked).ok());
  EXPECT_TRUE(revoked.has_revoke_time());
  s = stub_->ListApiKeys(As(created.plaintext()).get(), pb::ListApiKeysRequest(), &page);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(AdminGrpcTest, ErrorsUseCanonicalCodesAndFieldViolations) {
  pb::CreateApiKeyRequest create;
  create.set_role(pb::ROLE_MEMBER);  // no name
  pb::CreateApiKeyResponse created;
  grpc::Status s = stub_->CreateApiKey(As(owner_key_).get(), create, &created);
  ASSERT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  google::rpc::Status details;
  ASSERT_TRUE(details.ParseFromString(s.error_details()));
  ASSERT_EQ(details.details_size(), 1);
  google::rpc::BadRequest bad;
  ASSERT_TRUE(details.details(0).UnpackTo(&bad));
  ASSERT_EQ(bad.field_violations_size(), 1);
  EXPECT_EQ(bad.field_violations(0).field(), "name");

  create.set_name("x");
  create.set_role(pb::ROLE_UNSPECIFIED);
  s = stub_->CreateApiKey(As(owner_key_).get(), create, &created);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("role"));

  create.set_role(pb::ROLE_VIEWER);
  s = stub_->CreateApiKey(As(member_key_).get(), create, &created);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  s = stub_->CreateApiKey(As("").get(), create, &created);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  s = stub_->CreateApiKey(As("ahk_not_a_real_key").get(), create, &created);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);

  pb::RevokeApiKeyRequest revoke;
  revoke.set_id("0193a000-0000-7000-8000-000000000001");
  pb::ApiKey out;
  EXPECT_EQ(stub_->RevokeApiKey(As(owner_key_).get(), revoke, &out).error_code(),
            grpc::StatusCode::NOT_FOUND);
  pb::ListApiKeysRequest list;
  list.set_page_token("garbage!");
  pb::ListApiKeysResponse page;
  EXPECT_EQ(stub_->ListApiKeys(As(owner_key_).get(), list, &page).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

}  // namespace
}  // namespace alerthub::server
