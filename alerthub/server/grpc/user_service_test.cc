#include "alerthub/server/grpc/user_service.h"

#include <google/protobuf/util/json_util.h>
#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "alerthub/admin/auth_sessions.h"
#include "alerthub/admin/user_privacy.h"
#include "alerthub/server/grpc/catalog_rpc_testing.h"
#include "alerthub/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace alerthub::server {
namespace {

namespace pb = ::alerthub::admin::v1;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

nlohmann::json Json(const google::protobuf::Message& m) {
  std::string out;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  EXPECT_TRUE(google::protobuf::util::MessageToJsonString(m, &out, options).ok());
  return nlohmann::json::parse(out);
}

pb::User Person(const std::string& email, pb::Role role = pb::ROLE_MEMBER) {
  pb::User u;
  u.set_email(email);
  u.set_name("Ada");
  u.set_role(role);
  u.mutable_addresses()->set_slack_user_id("U024BE7LH");
  u.mutable_addresses()->add_fcm_tokens("fcm-1");
  return u;
}

class UserServiceTest : public testing::CatalogRpcTest {
 protected:
  void SetUp() override {
    sessions_ = std::make_unique<AuthSessions>(db_.store(), nullptr, &clock_,
                                               AuthSessionsOptions{});
    privacy_ = std::make_unique<UserPrivacy>(db_.store(), &clock_);
    service_ = std::make_unique<UserGrpcService>(authenticator_.get(), catalog_.get(),
                                                 sessions_.get(), privacy_.get(), db_.store(),
                                                 &clock_);
    stub_ = pb::UserService::NewStub(Serve(service_.get()));
  }

  grpc::Status Create(const pb::User& user, pb::User* out, Role as = Role::kAdmin,
                      const std::string& password = "") {
    pb::CreateUserRequest req;
    *req.mutable_user() = user;
    req.set_password(password);
    return stub_->CreateUser(As(as).get(), req, out);
  }

  pb::User MustCreate(const pb::User& user, Role as = Role::kAdmin) {
    pb::User out;
    grpc::Status s = Create(user, &out, as);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return out;
  }

  grpc::Status Update(const pb::User& user, std::vector<std::string> paths, pb::User* out,
                      Role as = Role::kAdmin) {
    pb::UpdateUserRequest req;
    *req.mutable_user() = user;
    for (const std::string& p : paths) req.mutable_update_mask()->add_paths(p);
    return stub_->UpdateUser(As(as).get(), req, out);
  }

  grpc::Status SetPreferences(const std::string& user_id, const pb::UserPreferences& p,
                              std::vector<std::string> paths, pb::UserPreferences* out,
                              const std::string& key) {
    pb::UpdatePreferencesRequest req;
    req.set_user_id(user_id);
    *req.mutable_preferences() = p;
    for (const std::string& path : paths) req.mutable_update_mask()->add_paths(path);
    return stub_->UpdatePreferences(As(key).get(), req, out);
  }

  std::unique_ptr<AuthSessions> sessions_;
  std::unique_ptr<UserPrivacy> privacy_;
  std::unique_ptr<UserGrpcService> service_;
  std::unique_ptr<pb::UserService::Stub> stub_;
};

TEST_F(UserServiceTest, CreateGetListAndDelete) {
  pb::User created = MustCreate(Person("ada@example.com"));
  EXPECT_EQ(created.id().size(), 36u);
  EXPECT_EQ(created.tenant_id(), db_.tenant_id());
  EXPECT_EQ(created.email(), "ada@example.com");
  EXPECT_EQ(created.name(), "Ada");
  EXPECT_EQ(created.role(), pb::ROLE_MEMBER);
  EXPECT_EQ(created.addresses().slack_user_id(), "U024BE7LH");
  EXPECT_THAT(created.addresses().fcm_tokens(), ElementsAre("fcm-1"));
  EXPECT_GT(created.create_time().seconds(), 0);

  // No role: a member, as over REST.
  pb::User plain;
  plain.set_email("bob@example.com");
  pb::User bob = MustCreate(plain);
  EXPECT_EQ(bob.role(), pb::ROLE_MEMBER);
  EXPECT_EQ(bob.name(), "");

  pb::GetUserRequest get;
  get.set_id(created.id());
  pb::User got;
  ASSERT_TRUE(stub_->GetUser(As(Role::kViewer).get(), get, &got).ok());
  EXPECT_EQ(got.SerializeAsString(), created.SerializeAsString());
  // Ids are read case-insensitively, as in REST paths.
  get.set_id(absl::AsciiStrToUpper(created.id()));
  ASSERT_TRUE(stub_->GetUser(As(Role::kViewer).get(), get, &got).ok());

  pb::ListUsersRequest list;
  list.set_page_size(1);
  pb::ListUsersResponse page;
  ASSERT_TRUE(stub_->ListUsers(As(Role::kViewer).get(), list, &page).ok());
  ASSERT_EQ(page.users_size(), 1);
  EXPECT_EQ(page.users(0).id(), created.id());
  ASSERT_FALSE(page.next_page_token().empty());
  list.set_page_token(page.next_page_token());
  pb::ListUsersResponse rest;
  ASSERT_TRUE(stub_->ListUsers(As(Role::kViewer).get(), list, &rest).ok());
  ASSERT_EQ(rest.users_size(), 1);
  EXPECT_EQ(rest.users(0).id(), bob.id());
  EXPECT_TRUE(rest.next_page_token().empty());
  list.set_page_size(501);
  grpc::Status s = stub_->ListUsers(As(Role::kViewer).get(), list, &rest);
  ASSERT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(Violations(s), ElementsAre("page_size"));
  list.set_page_size(0);
  list.set_page_token("nonsense");
  s = stub_->ListUsers(As(Role::kViewer).get(), list, &rest);
  ASSERT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(Violations(s), ElementsAre("page_token"));

  pb::DeleteUserRequest del;
  del.set_id(created.id());
  google::protobuf::Empty empty;
  ASSERT_TRUE(stub_->DeleteUser(As(Role::kAdmin).get(), del, &empty).ok());
  EXPECT_EQ(stub_->GetUser(As(Role::kViewer).get(), get, &got).error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(stub_->DeleteUser(As(Role::kAdmin).get(), del, &empty).error_code(),
            grpc::StatusCode::NOT_FOUND);

  const std::string admin = Subject(Role::kAdmin);
  EXPECT_THAT(AuditTrail("user."), ElementsAre("user.delete " + created.id() + " " + admin,
                                               "user.create " + bob.id() + " " + admin,
                                               "user.create " + created.id() + " " + admin));
}

TEST_F(UserServiceTest, BadUsersNameTheirFields) {
  pb::User bad = Person("not an email");
  bad.mutable_addresses()->set_slack_user_id("has spaces");
  pb::User out;
  grpc::Status s = Create(bad, &out);
  ASSERT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(Violations(s), UnorderedElementsAre("email", "addresses.slack_user_id"));

  // A password is checked with the user, before anything is written.
  s = Create(bad, &out, Role::kAdmin, "short");
  ASSERT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(Violations(s), UnorderedElementsAre("email", "addresses.slack_user_id", "password"));
  s = Create(Person("ok@example.com"), &out, Role::kAdmin, "short");
  ASSERT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(Violations(s), ElementsAre("password"));
  pb::ListUsersResponse none;
  ASSERT_TRUE(stub_->ListUsers(As(Role::kViewer).get(), pb::ListUsersRequest(), &none).ok());
  EXPECT_THAT(none.users(), IsEmpty());

  pb::User unknown_role = Person("x@example.com");
  unknown_role.set_role(static_cast<pb::Role>(9));
  s = Create(unknown_role, &out);
  ASSERT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(Violations(s), ElementsAre("role"));

  pb::User first = MustCreate(Person("dup@example.com"));
  EXPECT_EQ(Create(Person("DUP@example.com"), &out).error_code(),
            grpc::StatusCode::ALREADY_EXISTS);
}

TEST_F(UserServiceTest, CreateSetsTheOptionalPassword) {
  pb::User out;
  grpc::Status s = Create(Person("pw@example.com"), &out, Role::kAdmin, "correct horse battery");
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_OK_AND_ASSIGN(Principal owner, api_keys_->Authenticate(keys_[Role::kOwner]));
  ASSERT_OK_AND_ASSIGN(nlohmann::json exported, privacy_->Export(owner, out.id()));
  EXPECT_EQ(exported["has_password"], true);
  ASSERT_TRUE(Create(Person("nopw@example.com"), &out).ok());
  ASSERT_OK_AND_ASSIGN(exported, privacy_->Export(owner, out.id()));
  EXPECT_EQ(exported["has_password"], false);
}

TEST_F(UserServiceTest, UpdateReplacesOnlyTheMaskedFields) {
  pb::User created = MustCreate(Person("ada@example.com"));
  pb::User change;
  change.set_id(created.id());
  change.set_name("Ada Lovelace");
  change.set_email("ignored@example.com");  // not in the mask
  pb::User out;
  grpc::Status s = Update(change, {"name"}, &out);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(out.name(), "Ada Lovelace");
  EXPECT_EQ(out.email(), "ada@example.com");
  EXPECT_EQ(out.addresses().slack_user_id(), "U024BE7LH");

  // A masked message is replaced whole: unset, the addresses are cleared.
  EXPECT_EQ(Update(change, {"addresses", "role"}, &out).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);  // role unspecified but named
  ASSERT_TRUE(Update(change, {"addresses"}, &out).ok());
  EXPECT_EQ(out.addresses().slack_user_id(), "");
  EXPECT_THAT(out.addresses().fcm_tokens(), IsEmpty());

  // No mask: all four, the unspecified role kept.
  pb::User whole = Person("lovelace@example.com");
  whole.set_id(created.id());
  whole.set_role(pb::ROLE_UNSPECIFIED);
  whole.clear_name();
  ASSERT_TRUE(Update(whole, {}, &out).ok());
  EXPECT_EQ(out.email(), "lovelace@example.com");
  EXPECT_EQ(out.name(), "");
  EXPECT_EQ(out.role(), pb::ROLE_MEMBER);
  EXPECT_EQ(out.addresses().slack_user_id(), "U024BE7LH");
  EXPECT_EQ(out.create_time().seconds(), created.create_time().seconds());
  ASSERT_OK_AND_ASSIGN(User stored, catalog_->GetUser(db_.tenant_id(), created.id()));
  EXPECT_EQ(stored.email, "lovelace@example.com");

  s = Update(change, {"name", "colour"}, &out);
  ASSERT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(Violations(s), ElementsAre("update_mask.paths"));
  EXPECT_THAT(s.error_message(), HasSubstr("\"colour\""));
  s = Update(change, {"create_time"}, &out);
  EXPECT_THAT(s.error_message(), HasSubstr("cannot be changed"));
  s = Update(change, {"role"}, &out);
  ASSERT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(Violations(s), ElementsAre("role"));
  s = Update(change, {"email"}, &out);  // masked, so "ignored@example.com": fine
  ASSERT_TRUE(s.ok()) << s.error_message();
  change.clear_email();
  s = Update(change, {"email"}, &out);
  ASSERT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(Violations(s), ElementsAre("email"));
  change.clear_id();
  s = Update(change, {"name"}, &out);
  ASSERT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(Violations(s), ElementsAre("user.id"));

  EXPECT_EQ(AuditTrail("user.update").size(), 4u);
}

TEST_F(UserServiceTest, RolesObeyGrants) {
  pb::User out;
  // Nobody creates a user above themselves; only owners grant owner.
  EXPECT_EQ(Create(Person("o@example.com", pb::ROLE_OWNER), &out).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  pb::User owner = MustCreate(Person("o@example.com", pb::ROLE_OWNER), Role::kOwner);
  pb::User member = MustCreate(Person("m@example.com"));

  pb::User promote;
  promote.set_id(member.id());
  promote.set_role(pb::ROLE_OWNER);
  EXPECT_EQ(Update(promote, {"role"}, &out).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  promote.set_role(pb::ROLE_ADMIN);
  ASSERT_TRUE(Update(promote, {"role"}, &out).ok());
  EXPECT_EQ(out.role(), pb::ROLE_ADMIN);

  // An owner's record is the owners' to change.
  pb::User rename;
  rename.set_id(owner.id());
  rename.set_name("x");
  EXPECT_EQ(Update(rename, {"name"}, &out).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  pb::DeleteUserRequest del;
  del.set_id(owner.id());
  google::protobuf::Empty empty;
  EXPECT_EQ(stub_->DeleteUser(As(Role::kAdmin).get(), del, &empty).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  ASSERT_TRUE(Update(rename, {"name"}, &out, Role::kOwner).ok());
  ASSERT_TRUE(stub_->DeleteUser(As(Role::kOwner).get(), del, &empty).ok());
  // Refusals leave no audit record.
  EXPECT_THAT(AuditTrail("user.delete"), ElementsAre("user.delete " + owner.id() + " " +
                                                     Subject(Role::kOwner)));
}

TEST_F(UserServiceTest, PermissionsFollowTheRestRoutes) {
  pb::User created = MustCreate(Person("p@example.com"));
  pb::User out;
  google::protobuf::Empty empty;
  pb::UserPreferences prefs;
  for (Role r : {Role::kMember, Role::kViewer}) {
    EXPECT_EQ(Create(Person("q@example.com"), &out, r).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
    EXPECT_EQ(Update(created, {}, &out, r).error_code(), grpc::StatusCode::PERMISSION_DENIED);
    pb::DeleteUserRequest del;
    del.set_id(created.id());
    EXPECT_EQ(stub_->DeleteUser(As(r).get(), del, &empty).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
    EXPECT_EQ(SetPreferences(created.id(), prefs, {}, &prefs, keys_[r]).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
    pb::GetUserRequest get;
    get.set_id(created.id());
    EXPECT_TRUE(stub_->GetUser(As(r).get(), get, &out).ok());
  }
  // GDPR is the owners'.
  pb::ExportUserRequest exp;
  exp.set_id(created.id());
  pb::ExportUserResponse exported;
  pb::EraseUserRequest erase;
  erase.set_id(created.id());
  EXPECT_EQ(stub_->ExportUser(As(Role::kAdmin).get(), exp, &exported).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(stub_->EraseUser(As(Role::kAdmin).get(), erase, &empty).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(stub_->GetUser(As("").get(), pb::GetUserRequest(), &out).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(UserServiceTest, OtherTenantsUsersAreNotFound) {
  pb::User created = MustCreate(Person("mine@example.com"));
  const std::string other = other_owner_key_;
  pb::User out;
  google::protobuf::Empty empty;
  pb::GetUserRequest get;
  get.set_id(created.id());
  EXPECT_EQ(stub_->GetUser(As(other).get(), get, &out).error_code(), grpc::StatusCode::NOT_FOUND);
  pb::UpdateUserRequest update;
  *update.mutable_user() = created;
  update.mutable_user()->set_name("stolen");
  EXPECT_EQ(stub_->UpdateUser(As(other).get(), update, &out).error_code(),
            grpc::StatusCode::NOT_FOUND);
  pb::DeleteUserRequest del;
  del.set_id(created.id());
  EXPECT_EQ(stub_->DeleteUser(As(other).get(), del, &empty).error_code(),
            grpc::StatusCode::NOT_FOUND);
  pb::UserPreferences prefs;
  EXPECT_EQ(SetPreferences(created.id(), prefs, {}, &prefs, other).error_code(),
            grpc::StatusCode::NOT_FOUND);
  pb::ExportUserRequest exp;
  exp.set_id(created.id());
  pb::ExportUserResponse exported;
  EXPECT_EQ(stub_->ExportUser(As(other).get(), exp, &exported).error_code(),
            grpc::StatusCode::NOT_FOUND);
  pb::EraseUserRequest erase;
  erase.set_id(created.id());
  EXPECT_EQ(stub_->EraseUser(As(other).get(), erase, &empty).error_code(),
            grpc::StatusCode::NOT_FOUND);
  pb::ListUsersResponse list;
  ASSERT_TRUE(stub_->ListUsers(As(other).get(), pb::ListUsersRequest(), &list).ok());
  EXPECT_THAT(list.users(), IsEmpty());

  ASSERT_TRUE(stub_->GetUser(As(Role::kViewer).get(), get, &out).ok());
  EXPECT_EQ(out.name(), "Ada");
  get.set_id("../etc/passwd");
  EXPECT_EQ(stub_->GetUser(As(Role::kViewer).get(), get, &out).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(UserServiceTest, UpdatePreferencesReplacesTheMaskedFields) {
  pb::User created = MustCreate(Person("prefs@example.com"));
  pb::UserPreferences p;
  p.add_opt_out_channels("email");
  p.add_opt_out_types("marketing.*");
  p.set_min_priority("high");
  p.set_time_zone("Europe/Berlin");
  pb::QuietHours* q = p.add_quiet_hours();
  q->add_days("mon");
  q->set_start("22:00");
  q->set_end("07:00");
  pb::UserPreferences out;
  const std::string admin = keys_[Role::kAdmin];
  grpc::Status s = SetPreferences(created.id(), p, {}, &out, admin);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(Json(out), Json(p));
  ASSERT_OK_AND_ASSIGN(Preferences stored, catalog_->GetPreferences(db_.tenant_id(), created.id()));
  EXPECT_EQ(stored.time_zone, "Europe/Berlin");

  // Only the time zone; a masked field left empty takes its default.
  pb::UserPreferences change;
  change.set_time_zone("Asia/Tokyo");
  ASSERT_TRUE(SetPreferences(created.id(), change, {"time_zone", "opt_out_types"}, &out, admin)
                  .ok());
  EXPECT_EQ(out.time_zone(), "Asia/Tokyo");
  EXPECT_THAT(out.opt_out_types(), IsEmpty());
  EXPECT_THAT(out.opt_out_channels(), ElementsAre("email"));
  EXPECT_EQ(out.min_priority(), "high");
  EXPECT_EQ(out.quiet_hours_size(), 1);

  // No mask: everything, so what is unset goes back to the defaults.
  ASSERT_TRUE(SetPreferences(created.id(), change, {}, &out, admin).ok());
  EXPECT_THAT(out.opt_out_channels(), IsEmpty());
  EXPECT_EQ(out.min_priority(), "min");
  EXPECT_EQ(out.quiet_hours_size(), 0);

  change.set_time_zone("Mars/Olympus");
  change.add_opt_out_channels("pigeon");
  s = SetPreferences(created.id(), change, {}, &out, admin);
  ASSERT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(Violations(s), UnorderedElementsAre("time_zone", "opt_out_channels[0]"));
  s = SetPreferences(created.id(), change, {"timezone"}, &out, admin);
  ASSERT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(Violations(s), ElementsAre("update_mask.paths"));
  s = SetPreferences("", change, {}, &out, admin);
  ASSERT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(Violations(s), ElementsAre("user_id"));

  EXPECT_THAT(AuditTrail("preferences."),
              ElementsAre("preferences.update " + created.id() + " " + Subject(Role::kAdmin),
                          "preferences.update " + created.id() + " " + Subject(Role::kAdmin),
                          "preferences.update " + created.id() + " " + Subject(Role::kAdmin)));
}

TEST_F(UserServiceTest, OwnersExportAndEraseUsers) {
  pb::User created = MustCreate(Person("gdpr@example.com"));
  pb::ExportUserRequest exp;
  exp.set_id(created.id());
  pb::ExportUserResponse exported;
  grpc::Status s = stub_->ExportUser(As(Role::kOwner).get(), exp, &exported);
  ASSERT_TRUE(s.ok()) << s.error_message();
  nlohmann::json data = Json(exported.data());
  EXPECT_EQ(data["user"]["email"], "gdpr@example.com");
  EXPECT_EQ(data["user"]["id"], created.id());

  pb::EraseUserRequest erase;
  erase.set_id(created.id());
  google::protobuf::Empty empty;
  s = stub_->EraseUser(As(Role::kOwner).get(), erase, &empty);
  ASSERT_TRUE(s.ok()) << s.error_message();
  pb::GetUserRequest get;
  get.set_id(created.id());
  pb::User out;
  EXPECT_EQ(stub_->GetUser(As(Role::kViewer).get(), get, &out).error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(stub_->ExportUser(As(Role::kOwner).get(), exp, &exported).error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(stub_->EraseUser(As(Role::kOwner).get(), erase, &empty).error_code(),
            grpc::StatusCode::NOT_FOUND);

  const std::string owner = Subject(Role::kOwner);
  EXPECT_THAT(AuditTrail("user.e"), ElementsAre());  // "user.e" is no prefix: exact
  EXPECT_THAT(AuditTrail("user.erase"), ElementsAre("user.erase " + created.id() + " " + owner));
  EXPECT_THAT(AuditTrail("user.export"),
              ElementsAre("user.export " + created.id() + " " + owner));
}

}  // namespace
}  // namespace alerthub::server
