// Test helpers for alerthub/rules: rules written as their request JSON (so
// tests read like the API) and notifications built in one expression.
#ifndef ALERTHUB_RULES_INTERNAL_TEST_UTIL_H_
#define ALERTHUB_RULES_INTERNAL_TEST_UTIL_H_

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "alerthub/model/notification.h"
#include "alerthub/model/rule.h"
#include "alerthub/ports/kv.h"
#include "alerthub/testing/unavailable_kv.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace alerthub::rules_internal {

// Parses `request` (a Rule request body, "name" added when absent) as the
// API would, then sets the server-assigned fields. Fails the test when the
// model rejects it.
inline Rule RuleForTest(absl::string_view id, nlohmann::json request,
                        absl::string_view tenant_id = "tenant-1",
                        absl::Time updated_at = absl::FromUnixSeconds(1'700'000'000)) {
  if (!request.contains("name")) request["name"] = absl::StrCat("rule ", id);
  absl::StatusOr<Rule> r = RuleFromRequestJson(request);
  EXPECT_TRUE(r.ok()) << r.status() << " for " << request.dump();
  if (!r.ok()) return Rule();
  r->id = std::string(id);
  r->tenant_id = std::string(tenant_id);
  r->created_at = updated_at;
  r->updated_at = updated_at;
  return *std::move(r);
}

inline Notification NotificationForTest(absl::string_view type,
                                        Priority priority = Priority::kNormal,
                                        std::map<std::string, std::string> tags = {},
                                        std::vector<std::string> recipients = {}) {
  Notification n;
  n.id = "n-1";
  n.tenant_id = "tenant-1";
  n.type = std::string(type);
  n.title = "title";
  n.priority = priority;
  n.tags = std::move(tags);
  n.recipients = std::move(recipients);
  return n;
}

// A Kv whose server is down (alerthub/testing/unavailable_kv.h).
using ::alerthub::testing::UnavailableKv;

}  // namespace alerthub::rules_internal

#endif  // ALERTHUB_RULES_INTERNAL_TEST_UTIL_H_
