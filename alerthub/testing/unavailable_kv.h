// A Kv whose server is down: every call is kUnavailable. An outage cannot be
// produced with the memory:// adapter; this is how tests of fail-open and
// fail-closed behaviour get one.
//
//   ::alerthub::testing::UnavailableKv down;
//   RateLimiter limiter(&down, {.fail_open = false});  // every Check: kUnavailable
#ifndef ALERTHUB_TESTING_UNAVAILABLE_KV_H_
#define ALERTHUB_TESTING_UNAVAILABLE_KV_H_

#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "alerthub/ports/kv.h"

namespace alerthub::testing {

class UnavailableKv final : public Kv {
 public:
  absl::StatusOr<TokenBucketDecision> TakeTokens(absl::string_view, const TokenBucketSpec&,
                                                 double) override {
    return Down();
  }
  absl::StatusOr<std::optional<std::string>> Get(absl::string_view) override { return Down(); }
  absl::Status Set(absl::string_view, absl::string_view, absl::Duration) override { return Down(); }
  absl::StatusOr<std::optional<std::string>> SetIfAbsent(absl::string_view, absl::string_view,
                                                         absl::Duration) override {
    return Down();
  }
  absl::Status Delete(absl::string_view) override { return Down(); }
  absl::Status Publish(absl::string_view, absl::string_view) override { return Down(); }
  absl::StatusOr<std::unique_ptr<Subscription>> Subscribe(absl::string_view,
                                                          MessageHandler) override {
    return Down();
  }
  absl::Status Ping() override { return Down(); }

 private:
  static absl::Status Down() { return absl::UnavailableError("kv: connection refused"); }
};

}  // namespace alerthub::testing

#endif  // ALERTHUB_TESTING_UNAVAILABLE_KV_H_
