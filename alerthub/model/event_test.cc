#include "alerthub/model/event.h"

#include <string>

#include "absl/time/time.h"
#include "alerthub/common/uuid.h"
#include "alerthub/model/internal/test_util.h"
#include "alerthub/model/notification.h"
#include "alerthub/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace alerthub {
namespace {

using ::alerthub::model_test::HasFieldErrors;
using ::alerthub::testing::StatusIs;
using ::testing::HasSubstr;
using Json = nlohmann::json;

CloudEvent Full() {
  CloudEvent e;
  e.id = "01936f0e-7a3c-7b21-9d4e-000000000009";
  e.source = "/alerthub/pipeline";
  e.type = std::string(kEventAccepted);
  e.subject = "01936f0e-7a3c-7b21-9d4e-000000000001";
  e.time = absl::FromUnixMicros(1'800'000'000'123'456);
  e.data = Json{{"status", "accepted"}};
  e.tenantid = "01936f0e-7a3c-7b21-9d4e-000000000002";
  e.traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  return e;
}

void ExpectEqual(const CloudEvent& a, const CloudEvent& b) {
  EXPECT_EQ(a.specversion, b.specversion);
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.source, b.source);
  EXPECT_EQ(a.type, b.type);
  EXPECT_EQ(a.subject, b.subject);
  EXPECT_EQ(a.time, b.time);
  EXPECT_EQ(a.datacontenttype, b.datacontenttype);
  EXPECT_EQ(a.data, b.data);
  EXPECT_EQ(a.tenantid, b.tenantid);
  EXPECT_EQ(a.traceparent, b.traceparent);
}

TEST(CloudEventJsonTest, StructuredMode) {
  EXPECT_EQ(CloudEventToJson(Full()), Json::parse(R"({
    "specversion": "1.0",
    "id": "01936f0e-7a3c-7b21-9d4e-000000000009",
    "source": "/alerthub/pipeline",
    "type": "alerthub.notification.accepted",
    "subject": "01936f0e-7a3c-7b21-9d4e-000000000001",
    "time": "2027-01-15T08:00:00.123456Z",
    "datacontenttype": "application/json",
    "data": {"status": "accepted"},
    "tenantid": "01936f0e-7a3c-7b21-9d4e-000000000002",
    "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
  })"));
}

TEST(CloudEventJsonTest, OmitsEmptySubjectAndExtensions) {
  CloudEvent e = Full();
  e.subject.clear();
  e.tenantid.clear();
  e.traceparent.clear();
  EXPECT_EQ(CloudEventToJson(e), Json::parse(R"({
    "specversion": "1.0",
    "id": "01936f0e-7a3c-7b21-9d4e-000000000009",
    "source": "/alerthub/pipeline",
    "type": "alerthub.notification.accepted",
    "time": "2027-01-15T08:00:00.123456Z",
    "datacontenttype": "application/json",
    "data": {"status": "accepted"}
  })"));
}

TEST(CloudEventJsonTest, RoundTrips) {
  ASSERT_OK_AND_ASSIGN(CloudEvent back,
                       CloudEventFromJson(CloudEventToJson(Full())));
  ExpectEqual(back, Full());

  CloudEvent bare = Full();
  bare.subject.clear();
  bare.tenantid.clear();
  bare.traceparent.clear();
  bare.data = Json::object();
  ASSERT_OK_AND_ASSIGN(
      CloudEvent bare_back,
      CloudEventFromJson(Json::parse(CloudEventToJson(bare).dump())));
  ExpectEqual(bare_back, bare);
}

TEST(CloudEventJsonTest, AcceptsMinimalEventsAndIgnoresOtherExtensions) {
  ASSERT_OK_AND_ASSIGN(CloudEvent e, CloudEventFromJson(Json::parse(R"({
    "specversion": "1.0", "id": "e1", "source": "/x", "type": "t",
    "time": "2026-01-02T15:04:05+01:00", "someextension": "v"
  })")));
  EXPECT_EQ(e.id, "e1");
  EXPECT_EQ(e.time, absl::FromUnixSeconds(1767362645));
  EXPECT_EQ(e.datacontenttype, "");
  EXPECT_TRUE(e.data.is_null());
  EXPECT_EQ(e.subject, "");
  EXPECT_EQ(e.tenantid, "");
  // Absent data stays absent when written again.
  EXPECT_FALSE(CloudEventToJson(e).contains("data"));
  EXPECT_FALSE(CloudEventToJson(e).contains("datacontenttype"));
}

TEST(CloudEventJsonTest, NamesTheBadAttribute) {
  EXPECT_THAT(CloudEventFromJson(Json::array()),
              HasFieldErrors({{"", "must be a JSON object"}}));
  EXPECT_THAT(CloudEventFromJson(Json::object()),
              HasFieldErrors({{"specversion", "is required"},
                              {"id", "is required"},
                              {"source", "is required"},
                              {"type", "is required"}}));
  Json j = CloudEventToJson(Full());
  j["specversion"] = "0.3";
  j["id"] = 5;
  j["source"] = "";
  j["time"] = "yesterday";
  j["tenantid"] = 1;
  EXPECT_THAT(CloudEventFromJson(j),
              HasFieldErrors({{"specversion", "must be \"1.0\""},
                              {"id", "must be a string"},
                              {"source", "must not be empty"},
                              {"time",
                               "must be an RFC 3339 date-time such as "
                               "2026-01-02T15:04:05Z"},
                              {"tenantid", "must be a string"}}));
  EXPECT_THAT(
      CloudEventFromJson(j),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("specversion")));
}

TEST(MakeNotificationEventTest, FillsTheEnvelope) {
  Notification n;
  n.id = "01936f0e-7a3c-7b21-9d4e-000000000001";
  n.tenant_id = "01936f0e-7a3c-7b21-9d4e-000000000002";
  absl::Time now = absl::FromUnixNanos(1'800'000'000'123'456'789);
  CloudEvent e = MakeNotificationEvent(n, kEventRouted, "/alerthub/router", now,
                                       {{"deliveries", 2}}, "00-trace");
  EXPECT_EQ(e.specversion, "1.0");
  EXPECT_TRUE(IsUuid(e.id));
  EXPECT_EQ(UuidV7Time(e.id), absl::FromUnixMillis(1'800'000'000'123));
  EXPECT_EQ(e.source, "/alerthub/router");
  EXPECT_EQ(e.type, "alerthub.notification.routed");
  EXPECT_EQ(e.subject, n.id);
  EXPECT_EQ(e.tenantid, n.tenant_id);
  EXPECT_EQ(e.traceparent, "00-trace");
  EXPECT_EQ(e.datacontenttype, "application/json");
  EXPECT_EQ(e.data, (Json{{"deliveries", 2}}));
  // Truncated to the microseconds the wire carries.
  EXPECT_EQ(e.time, absl::FromUnixMicros(1'800'000'000'123'456));
  ASSERT_OK_AND_ASSIGN(CloudEvent back,
                       CloudEventFromJson(CloudEventToJson(e)));
  ExpectEqual(back, e);
}

TEST(MakeNotificationEventTest, FreshIncreasingIds) {
  Notification n;
  absl::Time now = absl::FromUnixSeconds(1'800'000'000);
  CloudEvent a = MakeNotificationEvent(n, kEventDelivered, "/s", now, {});
  CloudEvent b = MakeNotificationEvent(n, kEventDelivered, "/s", now, {});
  EXPECT_LT(a.id, b.id);
  EXPECT_EQ(a.traceparent, "");
  EXPECT_FALSE(CloudEventToJson(a).contains("traceparent"));
}

}  // namespace
}  // namespace alerthub
