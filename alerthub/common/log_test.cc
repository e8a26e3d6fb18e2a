#include "alerthub/common/log.h"

#include "gtest/gtest.h"

namespace alerthub {
namespace {

TEST(LogTest, LineIsOneJsonObjectWithFields) {
  nlohmann::json j = nlohmann::json::parse(
      FormatLogLine(LogLevel::kWarning, "slow", {{"ms", 12}, {"msg", "ignored"}}));
  EXPECT_EQ(j["level"], "warning");
  EXPECT_EQ(j["msg"], "slow");
  EXPECT_EQ(j["ms"], 12);
  EXPECT_TRUE(j["ts"].is_string());
}

TEST(LogTest, InvalidUtf8DoesNotThrow) {
  EXPECT_NO_THROW(FormatLogLine(LogLevel::kInfo, "bad \xff byte", nullptr));
}

TEST(LogTest, MaskEmail) {
  EXPECT_EQ(MaskEmail("jane@example.com"), "j***@example.com");
  EXPECT_EQ(MaskEmail("not-an-address"), "not-an-address");
}

}  // namespace
}  // namespace alerthub
