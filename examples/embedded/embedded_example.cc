// Embeds AlertHub in-process: submits a notification to a SQLite-backed
// engine, reads it back with its events, lists recent notifications and
// watches status updates.
//
//   tools/bazel.sh run //examples/embedded:embedded_example -- --store=sqlite:///tmp/example.db
#include <iostream>
#include <memory>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/synchronization/notification.h"
#include "alerthub/client.h"
#include "alerthub/common/time.h"

ABSL_FLAG(std::string, store, "sqlite://alerthub-example.db", "store URL");

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);

  alerthub::ClientOptions options;
  options.store = absl::GetFlag(FLAGS_store);
  absl::StatusOr<std::unique_ptr<alerthub::Client>> client = alerthub::Client::Open(options);
  if (!client.ok()) {
    std::cerr << "open failed: " << client.status() << "\n";
    return 1;
  }

  // Watch before submitting so the "accepted" update is seen.
  absl::Notification seen;
  auto watch = (*client)->Watch({}, [&seen](const alerthub::StatusUpdate& u) {
    std::cout << "watch: " << u.id << " is " << alerthub::NotificationStatusName(u.status)
              << "\n";
    if (!seen.HasBeenNotified()) seen.Notify();
  });
  if (!watch.ok()) {
    std::cerr << "watch failed: " << watch.status() << "\n";
    return 1;
  }

  alerthub::Notification n;
  n.type = "deploy.finished";
  n.title = "checkout v2.3.1 is live";
  n.body = "Rolled out to 12/12 hosts in 4m10s.";
  n.priority = alerthub::Priority::kHigh;
  n.tags = {{"env", "prod"}, {"service", "checkout"}};
  absl::StatusOr<alerthub::SubmitResult> r = (*client)->Submit(n);
  if (!r.ok()) {
    std::cerr << "submit failed: " << r.status() << "\n";
    for (const alerthub::FieldError& e : alerthub::FieldErrorsOf(r.status())) {
      std::cerr << "  " << e.field << ": " << e.message << "\n";
    }
    return 1;
  }
  std::cout << "submitted: " << r->id << (r->duplicate ? " (duplicate)" : "") << "\n";

  absl::StatusOr<alerthub::Notification> got = (*client)->Get(r->id);
  if (!got.ok()) {
    std::cerr << "get failed: " << got.status() << "\n";
    return 1;
  }
  std::cout << "read back: " << alerthub::NotificationToJson(*got).dump() << "\n";

  absl::StatusOr<std::vector<alerthub::CloudEvent>> events = (*client)->ListEvents(r->id);
  if (!events.ok()) return 1;
  for (const alerthub::CloudEvent& e : *events) {
    std::cout << "event: " << e.type << " at " << alerthub::FormatRfc3339(e.time) << "\n";
  }

  alerthub::ListOptions recent;
  recent.limit = 5;
  absl::StatusOr<alerthub::NotificationList> list = (*client)->List(recent);
  if (!list.ok()) return 1;
  std::cout << "recent notifications: " << list->items.size() << "\n";

  // A bad notification gets a clear, field-level error.
  alerthub::Notification bad;
  bad.type = "Deploy Finished!";
  absl::StatusOr<alerthub::SubmitResult> rejected = (*client)->Submit(bad);
  std::cout << "bad input: " << rejected.status().message() << "\n";

  if (!seen.WaitForNotificationWithTimeout(absl::Seconds(5))) {
    std::cerr << "no watch update arrived\n";
    return 1;
  }
  return 0;
}
