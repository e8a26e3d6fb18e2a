#include "alerthub/server/grpc/rule_service.h"

#include <google/protobuf/util/json_util.h>
#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

#include "alerthub/model/notification.h"
#include "alerthub/model/rule.h"
#include "alerthub/rules/rules_resolver.h"
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

// A Struct from JSON text.
google::protobuf::Struct Struct(const std::string& json) {
  google::protobuf::Struct s;
  const auto status = google::protobuf::util::JsonStringToMessage(json, &s);
  EXPECT_TRUE(status.ok()) << status.ToString();
  return s;
}

std::string Json(const google::protobuf::Struct& s) {
  std::string out;
  EXPECT_TRUE(google::protobuf::util::MessageToJsonString(s, &out).ok());
  return nlohmann::json::parse(out).dump();
}

pb::NotificationRule Deploys(const std::string& name, int position) {
  pb::NotificationRule r;
  r.set_name(name);
  r.set_enabled(true);
  r.set_position(position);
  *r.mutable_match() = Struct(R"({"type": "deploy.*"})");
  *r.mutable_actions() = Struct(R"({"route": {"channels": ["slack"]}})");
  return r;
}

class RuleServiceTest : public testing::CatalogRpcTest {
 protected:
  void SetUp() override {
    service_ = std::make_unique<RuleGrpcService>(authenticator_.get(), catalog_.get(),
                                                 db_.store(), &clock_);
    stub_ = pb::RuleService::NewStub(Serve(service_.get()));
  }

  pb::NotificationRule Create(const pb::NotificationRule& rule, Role as = Role::kAdmin) {
    pb::CreateRuleRequest req;
    *req.mutable_rule() = rule;
    pb::NotificationRule created;
    grpc::Status s = stub_->CreateRule(As(as).get(), req, &created);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return created;
  }

  grpc::Status Update(const pb::NotificationRule& rule, std::vector<std::string> paths,
                      pb::NotificationRule* out, Role as = Role::kAdmin) {
    pb::UpdateRuleRequest req;
    *req.mutable_rule() = rule;
    for (const std::string& p : paths) req.mutable_update_mask()->add_paths(p);
    return stub_->UpdateRule(As(as).get(), req, out);
  }

  std::unique_ptr<RuleGrpcService> service_;
  std::unique_ptr<pb::RuleService::Stub> stub_;
};

TEST_F(RuleServiceTest, CreateGetAndDeleteKeepTheRestShape) {
  pb::NotificationRule created = Create(Deploys("deploys to slack", 10));
  EXPECT_EQ(created.id().size(), 36u);
  EXPECT_EQ(created.name(), "deploys to slack");
  EXPECT_TRUE(created.enabled());
  EXPECT_EQ(created.position(), 10);
  EXPECT_FALSE(created.continue_());
  EXPECT_EQ(Json(created.match()), R"({"type":"deploy.*"})");
  EXPECT_EQ(Json(created.actions()), R"({"route":{"channels":["slack"]}})");
  EXPECT_GT(created.create_time().seconds(), 0);
  EXPECT_EQ(created.update_time().seconds(), created.create_time().seconds());

  // The catalog (and so the REST routes) hold the same rule.
  ASSERT_OK_AND_ASSIGN(Rule stored, catalog_->GetRule(db_.tenant_id(), created.id()));
  EXPECT_EQ(RuleToJson(stored)["match"], nlohmann::json::parse(R"({"type":"deploy.*"})"));

  pb::GetRuleRequest get;
  get.set_id(created.id());
  pb::NotificationRule got;
  ASSERT_TRUE(stub_->GetRule(As(Role::kViewer).get(), get, &got).ok());
  EXPECT_EQ(got.SerializeAsString(), created.SerializeAsString());

  pb::DeleteRuleRequest del;
  del.set_id(created.id());
  google::protobuf::Empty empty;
  ASSERT_TRUE(stub_->DeleteRule(As(Role::kAdmin).get(), del, &empty).ok());
  EXPECT_EQ(stub_->GetRule(As(Role::kViewer).get(), get, &got).error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(stub_->DeleteRule(As(Role::kAdmin).get(), del, &empty).error_code(),
            grpc::StatusCode::NOT_FOUND);

  // Each change has its record; the failed delete and the reads have none.
  const std::string admin = Subject(Role::kAdmin);
  EXPECT_THAT(AuditTrail("rule."), ElementsAre("rule.delete " + created.id() + " " + admin,
                                               "rule.create " + created.id() + " " + admin));
}

TEST_F(RuleServiceTest, UpdateReplacesOnlyTheMaskedFields) {
  pb::NotificationRule created = Create(Deploys("deploys", 10));
  pb::NotificationRule change;
  change.set_id(created.id());
  change.set_name("renamed");
  change.set_position(99);  // not in the mask: ignored
  pb::NotificationRule updated;
  grpc::Status s = Update(change, {"name"}, &updated);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(updated.name(), "renamed");
  EXPECT_EQ(updated.position(), 10);
  EXPECT_TRUE(updated.enabled());
  EXPECT_EQ(Json(updated.match()), R"({"type":"deploy.*"})");

  // A masked Struct is replaced whole; unset, it is emptied.
  *change.mutable_actions() = Struct(R"({"suppress": true})");
  ASSERT_TRUE(Update(change, {"actions", "match", "continue"}, &updated).ok());
  EXPECT_EQ(Json(updated.actions()), R"({"suppress":true})");
  EXPECT_EQ(Json(updated.match()), "{}");
  EXPECT_FALSE(updated.continue_());
  EXPECT_EQ(updated.name(), "renamed");

  // No mask: every field, so enabled=false disables it.
  pb::NotificationRule whole = Deploys("whole", 5);
  whole.set_id(created.id());
  whole.set_enabled(false);
  ASSERT_TRUE(Update(whole, {}, &updated).ok());
  EXPECT_EQ(updated.name(), "whole");
  EXPECT_EQ(updated.position(), 5);
  EXPECT_FALSE(updated.enabled());
  EXPECT_EQ(Json(updated.match()), R"({"type":"deploy.*"})");
  EXPECT_EQ(updated.create_time().seconds(), created.create_time().seconds());
  EXPECT_EQ(AuditTrail("rule.update").size(), 3u);
}

TEST_F(RuleServiceTest, BadRequestsNameTheirFields) {
  pb::CreateRuleRequest create;
  pb::NotificationRule out;
  *create.mutable_rule() = Deploys("", 0);  // no name
  *create.mutable_rule()->mutable_match() =
      Struct(R"({"tags": [{"key": "env", "op": "~", "value": "x"}]})");
  grpc::Status s = stub_->CreateRule(As(Role::kAdmin).get(), create, &out);
  ASSERT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(Violations(s), UnorderedElementsAre("name", "match.tags[0].op"));

  *create.mutable_rule() = Deploys("x", 0);
  *create.mutable_rule()->mutable_actions() = Struct(R"({"colour": "red"})");
  s = stub_->CreateRule(As(Role::kAdmin).get(), create, &out);
  ASSERT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(Violations(s), ElementsAre("actions.colour"));

  pb::NotificationRule created = Create(Deploys("ok", 0));
  pb::NotificationRule change;
  change.set_id(created.id());
  s = Update(change, {"name", "colour"}, &out);
  ASSERT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(Violations(s), ElementsAre("update_mask.paths"));
  EXPECT_THAT(s.error_message(), HasSubstr("\"colour\""));
  s = Update(change, {"create_time"}, &out);
  EXPECT_THAT(s.error_message(), HasSubstr("cannot be changed"));
  // The masked name is empty: the rule's own validation says so.
  s = Update(change, {"name"}, &out);
  ASSERT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(Violations(s), ElementsAre("name"));

  change.clear_id();
  s = Update(change, {"name"}, &out);
  ASSERT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(Violations(s), ElementsAre("rule.id"));
}

TEST_F(RuleServiceTest, OtherTenantsRulesAreNotFound) {
  pb::NotificationRule created = Create(Deploys("acme's", 0));
  const std::string other = other_owner_key_;
  pb::GetRuleRequest get;
  get.set_id(created.id());
  pb::NotificationRule out;
  EXPECT_EQ(stub_->GetRule(As(other).get(), get, &out).error_code(), grpc::StatusCode::NOT_FOUND);
  pb::NotificationRule change = created;
  change.set_name("stolen");
  pb::UpdateRuleRequest update;
  *update.mutable_rule() = change;
  EXPECT_EQ(stub_->UpdateRule(As(other).get(), update, &out).error_code(),
            grpc::StatusCode::NOT_FOUND);
  pb::DeleteRuleRequest del;
  del.set_id(created.id());
  google::protobuf::Empty empty;
  EXPECT_EQ(stub_->DeleteRule(As(other).get(), del, &empty).error_code(),
            grpc::StatusCode::NOT_FOUND);
  pb::ListRulesResponse list;
  ASSERT_TRUE(stub_->ListRules(As(other).get(), pb::ListRulesRequest(), &list).ok());
  EXPECT_THAT(list.rules(), IsEmpty());
  // Still acme's, unchanged by the other tenant.
  ASSERT_TRUE(stub_->GetRule(As(Role::kViewer).get(), get, &out).ok());
  EXPECT_EQ(out.name(), "acme's");

  // What cannot be an id is absent too; no id at all is a bad request.
  get.set_id("not-an-id");
  EXPECT_EQ(stub_->GetRule(As(Role::kViewer).get(), get, &out).error_code(),
            grpc::StatusCode::NOT_FOUND);
  get.clear_id();
  grpc::Status s = stub_->GetRule(As(Role::kViewer).get(), get, &out);
  ASSERT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(Violations(s), ElementsAre("id"));
}

TEST_F(RuleServiceTest, PermissionsFollowTheRestRoutes) {
  pb::NotificationRule created = Create(Deploys("r", 0));
  pb::CreateRuleRequest create;
  *create.mutable_rule() = Deploys("x", 0);
  pb::NotificationRule out;
  google::protobuf::Empty empty;
  pb::DeleteRuleRequest del;
  del.set_id(created.id());
  for (Role r : {Role::kMember, Role::kViewer}) {
    EXPECT_EQ(stub_->CreateRule(As(r).get(), create, &out).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
    EXPECT_EQ(Update(created, {}, &out, r).error_code(), grpc::StatusCode::PERMISSION_DENIED);
    EXPECT_EQ(stub_->DeleteRule(As(r).get(), del, &empty).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
    pb::ListRulesResponse list;
    EXPECT_TRUE(stub_->ListRules(As(r).get(), pb::ListRulesRequest(), &list).ok());
    pb::EvaluateRuleRequest eval;
    *eval.mutable_notification() = Struct(R"({"type": "deploy.x", "title": "t"})");
    pb::EvaluateRuleResponse plan;
    EXPECT_TRUE(stub_->EvaluateRule(As(r).get(), eval, &plan).ok());
  }
  EXPECT_EQ(stub_->CreateRule(As("").get(), create, &out).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(stub_->CreateRule(As("ahk_nonsense").get(), create, &out).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(stub_->CreateRule(As(Role::kOwner).get(), create, &out).ok());
}

TEST_F(RuleServiceTest, ListPagesInEvaluationOrder) {
  std::vector<std::string> ids;
  for (int position : {30, 10, 20}) ids.push_back(Create(Deploys("p", position)).id());
  pb::ListRulesRequest req;
  req.set_page_size(2);
  pb::ListRulesResponse page;
  ASSERT_TRUE(stub_->ListRules(As(Role::kViewer).get(), req, &page).ok());
  ASSERT_EQ(page.rules_size(), 2);
  EXPECT_EQ(page.rules(0).id(), ids[1]);
  EXPECT_EQ(page.rules(1).id(), ids[2]);
  ASSERT_FALSE(page.next_page_token().empty());

  // The token resumes after the last rule listed even when it is gone.
  ASSERT_OK(catalog_->DeleteRule(db_.tenant_id(), ids[2]));
  req.set_page_token(page.next_page_token());
  pb::ListRulesResponse rest;
  ASSERT_TRUE(stub_->ListRules(As(Role::kViewer).get(), req, &rest).ok());
  ASSERT_EQ(rest.rules_size(), 1);
  EXPECT_EQ(rest.rules(0).id(), ids[0]);
  EXPECT_TRUE(rest.next_page_token().empty());

  pb::ListRulesResponse all;
  ASSERT_TRUE(stub_->ListRules(As(Role::kViewer).get(), pb::ListRulesRequest(), &all).ok());
  EXPECT_EQ(all.rules_size(), 2);
  EXPECT_TRUE(all.next_page_token().empty());

  req.set_page_token("garbage");
  grpc::Status s = stub_->ListRules(As(Role::kViewer).get(), req, &rest);
  ASSERT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(Violations(s), ElementsAre("page_token"));
  req.clear_page_token();
  req.set_page_size(501);
  s = stub_->ListRules(As(Role::kViewer).get(), req, &rest);
  ASSERT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(Violations(s), ElementsAre("page_size"));
}

TEST_F(RuleServiceTest, EvaluateIsTheRestDryRun) {
  pb::NotificationRule quiet = Deploys("quiet deploys", 1);
  *quiet.mutable_actions() = Struct(R"({"suppress": true})");
  pb::NotificationRule created = Create(quiet);

  pb::EvaluateRuleRequest eval;
  *eval.mutable_notification() = Struct(R"({"type": "deploy.prod", "title": "v2"})");
  pb::EvaluateRuleResponse plan;
  grpc::Status s = stub_->EvaluateRule(As(Role::kViewer).get(), eval, &plan);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_THAT(plan.matched_rule_ids(), ElementsAre(created.id()));
  // The same JSON as POST /api/v1/rules/evaluate.
  ASSERT_OK_AND_ASSIGN(Notification n,
                       NotificationFromRequestJson(
                           nlohmann::json{{"type", "deploy.prod"}, {"title", "v2"}}, clock_.Now()));
  ASSERT_OK_AND_ASSIGN(RoutingPlan expected, catalog_->Evaluate(db_.tenant_id(), n));
  EXPECT_EQ(nlohmann::json::parse(Json(plan.plan())), RoutingPlanToJson(expected));
  EXPECT_EQ(nlohmann::json::parse(Json(plan.plan()))["suppressed"], true);

  *eval.mutable_notification() = Struct(R"({"type": "billing.due", "title": "pay"})");
  ASSERT_TRUE(stub_->EvaluateRule(As(Role::kViewer).get(), eval, &plan).ok());
  EXPECT_THAT(plan.matched_rule_ids(), IsEmpty());

  // Another tenant's rules do not route this one's notifications.
  *eval.mutable_notification() = Struct(R"({"type": "deploy.prod", "title": "v2"})");
  ASSERT_TRUE(stub_->EvaluateRule(As(other_owner_key_).get(), eval, &plan).ok());
  EXPECT_THAT(plan.matched_rule_ids(), IsEmpty());

  *eval.mutable_notification() = Struct(R"({"title": "no type", "colour": 1})");
  s = stub_->EvaluateRule(As(Role::kViewer).get(), eval, &plan);
  ASSERT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(Violations(s), UnorderedElementsAre("type", "colour"));
}

}  // namespace
}  // namespace alerthub::server
