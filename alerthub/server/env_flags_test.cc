#include "alerthub/server/env_flags.h"

#include <cstdlib>

#include "absl/flags/flag.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

ABSL_FLAG(int, env_test_port, 1, "A flag for this test.");
ABSL_FLAG(std::string, env_test_url, "default", "A flag for this test.");

namespace alerthub::server {
namespace {

TEST(EnvFlagsTest, VariableNames) {
  EXPECT_EQ(EnvironmentVariableFor("http_port"), "ALERTHUB_HTTP_PORT");
}

TEST(EnvFlagsTest, SetsFlagsFromTheEnvironment) {
  setenv("ALERTHUB_ENV_TEST_PORT", "42", 1);
  setenv("ALERTHUB_ENV_TEST_URL", "sqlite:///x.db", 1);
  ASSERT_TRUE(ApplyEnvironmentToFlags().ok());
  EXPECT_EQ(absl::GetFlag(FLAGS_env_test_port), 42);
  EXPECT_EQ(absl::GetFlag(FLAGS_env_test_url), "sqlite:///x.db");
  unsetenv("ALERTHUB_ENV_TEST_PORT");
  unsetenv("ALERTHUB_ENV_TEST_URL");
}

TEST(EnvFlagsTest, BadValueNamesTheVariable) {
  setenv("ALERTHUB_ENV_TEST_PORT", "forty-two", 1);
  absl::Status s = ApplyEnvironmentToFlags();
  unsetenv("ALERTHUB_ENV_TEST_PORT");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), ::testing::HasSubstr("ALERTHUB_ENV_TEST_PORT=\"forty-two\""));
}

}  // namespace
}  // namespace alerthub::server
