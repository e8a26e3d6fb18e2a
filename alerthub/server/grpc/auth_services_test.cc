// AuthService over a real gRPC channel: the canonical codes and the
// BadRequest details clients see.
#include "alerthub/server/grpc/auth_services.h"

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "alerthub/auth/jwt.h"
#include "alerthub/common/uuid.h"
#include "alerthub/proto/google/rpc/status.pb.h"
#include "alerthub/server/grpc/admin_services.h"
#include "alerthub/testing/simulated_clock.h"
#include "alerthub/testing/sqlite_fixture.h"
#include "alerthub/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace alerthub::server {
namespace {

namespace pb = ::alerthub::admin::v1;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr char kPassword[] = "correct horse battery staple";

class AuthGrpcTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(std::string pem, GenerateRsaPrivateKeyPem(2048));
    ASSERT_OK_AND_ASSIGN(signer_, JwtSigner::FromPem(pem, "kid"));
    sessions_ = std::make_unique<AuthSessions>(db_.store(), signer_.get(), &clock_,
                                               AuthSessionsOptions{});
    no_signer_ = std::make_unique<AuthSessions>(db_.store(), nullptr, &clock_,
                                                AuthSessionsOptions{});
    operations_ = std::make_unique<AuthOperations>(sessions_.get());
    no_signer_operations_ = std::make_unique<AuthOperations>(no_signer_.get());
    service_ = std::make_unique<AuthGrpcService>(operations_.get());
    no_signer_service_ = std::make_unique<AuthGrpcService>(no_signer_operations_.get());
    ASSERT_OK_AND_ASSIGN(server_, GrpcServer::Start("127.0.0.1", 0, {service_.get()}));
    ASSERT_OK_AND_ASSIGN(no_signer_server_,
                         GrpcServer::Start("127.0.0.1", 0, {no_signer_service_.get()}));
    stub_ = Stub(server_->port());
    no_signer_stub_ = Stub(no_signer_server_->port());

    User u;
    u.id = NewUuidV7(clock_.Now());
    u.tenant_id = db_.tenant_id();
    u.email = "ada@example.com";
    u.role = Role::kMember;
    u.created_at = clock_.Now();
    ASSERT_OK(db_.store()->CreateUser(u));
    Principal owner{.tenant_id = db_.tenant_id(), .key_id = "k", .role = Role::kOwner,
                    .subject = "apikey:k", .platform_operator = false};
    ASSERT_OK(sessions_->SetPassword(owner, u.id, kPassword));
  }

  static std::unique_ptr<pb::AuthService::Stub> Stub(int port) {
    return pb::AuthService::NewStub(grpc::CreateChannel("127.0.0.1:" + std::to_string(port),
                                                        grpc::InsecureChannelCredentials()));
  }

  pb::LoginRequest Ada() const {
    pb::LoginRequest r;
    r.set_tenant("acme");
    r.set_email("ada@example.com");
    r.set_password(kPassword);
    return r;
  }

  SimulatedClock clock_;
  ::alerthub::testing::SqliteFixture db_{&clock_};
  std::unique_ptr<JwtSigner> signer_;
  std::unique_ptr<AuthSessions> sessions_, no_signer_;
  std::unique_ptr<AuthOperations> operations_, no_signer_operations_;
  std::unique_ptr<AuthGrpcService> service_, no_signer_service_;
  std::unique_ptr<GrpcServer> server_, no_signer_server_;
  std::unique_ptr<pb::AuthService::Stub> stub_, no_signer_stub_;
};

TEST_F(AuthGrpcTest, LoginRefreshLogout) {
  grpc::ClientContext login_ctx;
  pb::TokenResponse tokens;
  ASSERT_TRUE(stub_->Login(&login_ctx, Ada(), &tokens).ok());
  EXPECT_EQ(tokens.token_type(), "Bearer");
  EXPECT_EQ(tokens.expires_in(), 900);
  EXPECT_THAT(tokens.refresh_token(), StartsWith("ahr_"));
  EXPECT_FALSE(tokens.access_token().empty());

  pb::RefreshRequest refresh;
  refresh.set_refresh_token(tokens.refresh_token());
  grpc::ClientContext refresh_ctx;
  pb::TokenResponse rotated;
  ASSERT_TRUE(stub_->Refresh(&refresh_ctx, refresh, &rotated).ok());
  EXPECT_NE(rotated.refresh_token(), tokens.refresh_token());

  grpc::ClientContext reuse_ctx;
  pb::TokenResponse ignored;
  grpc::Status reuse = stub_->Refresh(&reuse_ctx, refresh, &ignored);
  EXPECT_EQ(reuse.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(reuse.error_message(), "invalid refresh token");

  pb::LogoutRequest logout;
  logout.set_refresh_token(rotated.refresh_token());
  grpc::ClientContext logout_ctx;
  google::protobuf::Empty empty;
  EXPECT_TRUE(stub_->Logout(&logout_ctx, logout, &empty).ok());
}

TEST_F(AuthGrpcTest, BadCredentialsAreUnauthenticated) {
  pb::LoginRequest wrong = Ada();
  wrong.set_password("not the password");
  grpc::ClientContext ctx;
  pb::TokenResponse out;
  grpc::Status s = stub_->Login(&ctx, wrong, &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(s.error_message(), "invalid e-mail or password");
}

TEST_F(AuthGrpcTest, MissingFieldsAreFieldViolations) {
  grpc::ClientContext ctx;
  pb::TokenResponse out;
  grpc::Status s = stub_->Login(&ctx, pb::LoginRequest(), &out);
  ASSERT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  google::rpc::Status details;
  ASSERT_TRUE(details.ParseFromString(s.error_details()));
  google::rpc::BadRequest bad;
  ASSERT_EQ(details.details_size(), 1);
  ASSERT_TRUE(details.details(0).UnpackTo(&bad));
  std::vector<std::string> fields;
  for (const auto& v : bad.field_violations()) fields.push_back(v.field());
  EXPECT_THAT(fields, ElementsAre("email", "password"));
}

TEST_F(AuthGrpcTest, WithoutASigningKeyLoginIsAFailedPrecondition) {
  grpc::ClientContext ctx;
  pb::TokenResponse out;
  grpc::Status s = no_signer_stub_->Login(&ctx, Ada(), &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(s.error_message(), HasSubstr("no JWT signing key"));
}

}  // namespace
}  // namespace alerthub::server
