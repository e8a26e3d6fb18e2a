#include "alerthub/adapters/registry.h"

#include "alerthub/testing/status_matchers.h"
#include "gtest/gtest.h"

namespace alerthub {
namespace {

using ::alerthub::testing::StatusIs;
using ::testing::HasSubstr;

TEST(RegistryTest, OpensEmbeddedDefaults) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Store> store, OpenStore("sqlite://:memory:", nullptr));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Kv> kv, OpenKv("memory://", nullptr));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<EventLog> log, OpenEventLog("inproc://"));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<TaskQueue> queue,
                       OpenTaskQueue("sql://", store.get(), nullptr));
  EXPECT_OK(store->Ping());
  EXPECT_OK(kv->Ping());
  EXPECT_OK(log->Ping());
  EXPECT_OK(queue->Ping());
}

TEST(RegistryTest, UnknownSchemeNamesTheAcceptedOnes) {
  EXPECT_THAT(OpenStore("mongodb://localhost", nullptr),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("unsupported store URL \"mongodb://localhost\": "
                                 "expected one of postgres://, postgresql://, sqlite://")));
  EXPECT_THAT(OpenKv("memcached://x", nullptr),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("memory://")));
  EXPECT_THAT(OpenEventLog("nats://x"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("inproc://")));
  EXPECT_THAT(OpenTaskQueue("sqs://x", nullptr, nullptr),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("sql://")));
}

TEST(RegistryTest, MalformedUrls) {
  EXPECT_THAT(UrlScheme("no-scheme"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(UrlScheme("://x"), StatusIs(absl::StatusCode::kInvalidArgument));
  ASSERT_OK_AND_ASSIGN(std::string scheme, UrlScheme("sqlite:///a.db"));
  EXPECT_EQ(scheme, "sqlite");
  EXPECT_THAT(OpenKv("memory://host", nullptr),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("memory:// takes no host or path")));
  EXPECT_THAT(OpenTaskQueue("sql://", nullptr, nullptr),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST(RegistryTest, RegisteredSchemeIsUsed) {
  RegisterKv("test-kv", [](absl::string_view, Clock*) -> absl::StatusOr<std::unique_ptr<Kv>> {
    return absl::UnavailableError("test-kv is down");
  });
  EXPECT_THAT(OpenKv("test-kv://x", nullptr),
              StatusIs(absl::StatusCode::kUnavailable, "test-kv is down"));
}

}  // namespace
}  // namespace alerthub
