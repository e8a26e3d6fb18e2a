// Test support for the channel senders: an attempt's borrowed objects kept
// together, and the transports the tests send through (the curl adapter,
// allowed to reach loopback where the fake providers listen).
#ifndef ALERTHUB_DELIVERY_CHANNELS_TESTING_CHANNEL_FIXTURE_H_
#define ALERTHUB_DELIVERY_CHANNELS_TESTING_CHANNEL_FIXTURE_H_

#include <memory>
#include <string>
#include <utility>

#include "absl/time/time.h"
#include "alerthub/adapters/curl/curl_transport.h"
#include "alerthub/delivery/channels/channel_sender.h"
#include "nlohmann/json.hpp"

namespace alerthub::testing {

// What one SendAttempt points to.
struct AttemptFixture {
  Integration integration;
  Delivery delivery;
  Notification notification;
  RenderedMessage message;

  SendAttempt Attempt(int attempt = 1, std::string traceparent = "") const {
    SendAttempt a;
    a.integration = &integration;
    a.delivery = &delivery;
    a.notification = &notification;
    a.message = &message;
    a.attempt = attempt;
    a.traceparent = std::move(traceparent);
    return a;
  }
};

inline AttemptFixture MakeFixture(Channel channel, nlohmann::json config, RenderedMessage message) {
  AttemptFixture f;
  f.integration.id = "01900000-0000-7000-8000-00000000000a";
  f.integration.tenant_id = "01900000-0000-7000-8000-0000000000aa";
  f.integration.name = "test integration";
  f.integration.channel = channel;
  f.integration.config = std::move(config);
  f.notification.id = "01900000-0000-7000-8000-000000000001";
  f.notification.tenant_id = f.integration.tenant_id;
  f.notification.type = "deploy.finished";
  f.notification.title = "v2 is live";
  f.notification.body = "All green.";
  f.notification.priority = Priority::kHigh;
  f.delivery.id = "01900000-0000-7000-8000-0000000000d1";
  f.delivery.tenant_id = f.integration.tenant_id;
  f.delivery.notification_id = f.notification.id;
  f.delivery.integration_id = f.integration.id;
  f.delivery.channel = channel;
  f.message = std::move(message);
  return f;
}

// The curl transports with loopback allowed: the fake providers are local.
inline CurlOptions LoopbackAllowed() {
  CurlOptions options;
  options.ssrf.allow_private_networks = true;
  return options;
}

}  // namespace alerthub::testing

#endif  // ALERTHUB_DELIVERY_CHANNELS_TESTING_CHANNEL_FIXTURE_H_
