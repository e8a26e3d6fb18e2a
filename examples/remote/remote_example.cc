// Uses a running AlertHub daemon through alerthub::Client in remote mode --
// the same API as examples/embedded, with `endpoint` and `api_key` set:
// submits (idempotently), reads back, submits a batch, pages through the
// list, watches status updates and handles errors.
//
//   tools/run.sh                      # in another terminal: the daemon on :8080
//   KEY=$(cat alerthub-data/bootstrap-api-key)
//   tools/bazel.sh run //examples/remote:remote_example -- --endpoint=http://localhost:8080 --api_key="$KEY"
//
// Without flags it reads $ALERTHUB_URL and $ALERTHUB_API_KEY, then falls back
// to http://localhost:8080 and ./alerthub-data/bootstrap-api-key.
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "alerthub/client.h"
#include "alerthub/common/time.h"

ABSL_FLAG(std::string, endpoint, "",
          "AlertHub router URL; default $ALERTHUB_URL, else http://localhost:8080");
ABSL_FLAG(std::string, api_key, "",
          "tenant API key; default $ALERTHUB_API_KEY, else the contents of "
          "alerthub-data/bootstrap-api-key");

namespace {

std::string FromEnv(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? "" : v;
}

// `bazel run` starts programs in their runfiles tree; relative paths the user
// typed are relative to where they ran it.
std::string UserPath(const std::string& path) {
  const std::string dir = FromEnv("BUILD_WORKING_DIRECTORY");
  return dir.empty() || (!path.empty() && path[0] == '/') ? path : absl::StrCat(dir, "/", path);
}

std::string ReadKeyFile(const std::string& path) {
  std::ifstream in(UserPath(path));
  std::string key;
  std::getline(in, key);
  return std::string(absl::StripAsciiWhitespace(key));
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);

  alerthub::ClientOptions options;
  options.endpoint = absl::GetFlag(FLAGS_endpoint);
  if (options.endpoint.empty()) options.endpoint = FromEnv("ALERTHUB_URL");
  if (options.endpoint.empty()) options.endpoint = "http://localhost:8080";
  options.api_key = absl::GetFlag(FLAGS_api_key);
  if (options.api_key.empty()) options.api_key = FromEnv("ALERTHUB_API_KEY");
  if (options.api_key.empty()) options.api_key = ReadKeyFile("alerthub-data/bootstrap-api-key");

  // Open() checks the options but does not contact the router.
  absl::StatusOr<std::unique_ptr<alerthub::Client>> opened = alerthub::Client::Open(options);
  if (!opened.ok()) {
    std::cerr << "open failed: " << opened.status() << "\n";
    return 1;
  }
  alerthub::Client& client = **opened;

  // Watch first, so the updates of the submissions below are seen. Watch
  // returns once the router confirmed the subscription.
  absl::Notification seen;
  alerthub::WatchOptions deploys;
  deploys.types = {"deploy.finished"};
  absl::StatusOr<std::unique_ptr<alerthub::WatchHandle>> watch =
      client.Watch(deploys, [&seen](const alerthub::StatusUpdate& u) {
        std::cout << "watch: " << u.id << " is " << alerthub::NotificationStatusName(u.status)
                  << "\n";
        if (!seen.HasBeenNotified()) seen.Notify();
      });
  if (!watch.ok()) {
    // kUnauthenticated for a wrong key, kUnavailable when nothing listens.
    std::cerr << "watch failed: " << watch.status() << "\n";
    return 1;
  }

  alerthub::Notification n;
  n.type = "deploy.finished";
  n.title = "checkout v2.3.1 is live";
  n.priority = alerthub::Priority::kHigh;
  n.tags = {{"env", "prod"}, {"service", "checkout"}};
  // An idempotency key makes the submission safe to retry: the client
  // retries it on kUnavailable, and a repeat returns the original id.
  alerthub::SubmitOptions once;
  once.idempotency_key = absl::StrCat("deploy-checkout-", absl::ToUnixMicros(absl::Now()));
  const std::string& key = once.idempotency_key;
  absl::StatusOr<alerthub::SubmitResult> r = client.Submit(n, once);
  if (!r.ok()) {
    std::cerr << "submit failed: " << r.status() << "\n";
    return 1;
  }
  std::cout << "submitted: " << r->id << "\n";
  absl::StatusOr<alerthub::SubmitResult> again = client.Submit(n, once);
  if (!again.ok() || again->id != r->id || !again->duplicate) {
    std::cerr << "the repeat was not recognised as a duplicate\n";
    return 1;
  }
  std::cout << "repeated:  " << again->id << " (duplicate)\n";

  absl::StatusOr<alerthub::Notification> got = client.Get(r->id);
  if (!got.ok()) {
    std::cerr << "get failed: " << got.status() << "\n";
    return 1;
  }
  std::cout << "read back: " << alerthub::NotificationToJson(*got).dump() << "\n";

  absl::StatusOr<std::vector<alerthub::CloudEvent>> events = client.ListEvents(r->id);
  if (!events.ok()) {
    std::cerr << "events failed: " << events.status() << "\n";
    return 1;
  }
  for (const alerthub::CloudEvent& e : *events) {
    std::cout << "event: " << e.type << " at " << alerthub::FormatRfc3339(e.time) << "\n";
  }

  // A batch: each item gets its own result; the bad one does not sink the rest.
  std::vector<alerthub::Notification> batch(3);
  batch[0].type = "disk.almost_full";
  batch[0].title = absl::StrCat("db1 at 91% (", key, ")");
  batch[1].type = "Disk Full!";  // breaks the type rule
  batch[2].type = "disk.almost_full";
  batch[2].title = absl::StrCat("db2 at 93% (", key, ")");
  absl::StatusOr<std::vector<absl::StatusOr<alerthub::SubmitResult>>> results =
      client.SubmitBatch(batch);
  if (!results.ok()) {
    std::cerr << "batch failed: " << results.status() << "\n";
    return 1;
  }
  for (size_t i = 0; i < results->size(); ++i) {
    const absl::StatusOr<alerthub::SubmitResult>& item = (*results)[i];
    if (item.ok()) {
      std::cout << "batch[" << i << "]: " << item->id << "\n";
    } else {
      for (const alerthub::FieldError& e : alerthub::FieldErrorsOf(item.status())) {
        std::cout << "batch[" << i << "]: rejected, " << e.field << ": " << e.message << "\n";
      }
    }
  }

  // Page through the tenant's notifications, two at a time, newest first.
  alerthub::ListOptions list;
  list.limit = 2;
  for (int page = 1; page <= 2; ++page) {
    absl::StatusOr<alerthub::NotificationList> items = client.List(list);
    if (!items.ok()) {
      std::cerr << "list failed: " << items.status() << "\n";
      return 1;
    }
    for (const alerthub::Notification& item : items->items) {
      std::cout << "page " << page << ": " << item.id << " " << item.type << "\n";
    }
    if (items->next_cursor.empty()) break;
    list.cursor = items->next_cursor;
  }

  // Errors come back as the same absl::Status codes as in embedded mode.
  absl::StatusOr<alerthub::Notification> missing =
      client.Get("01890a5d-ac96-774b-bcce-b302099a8057");
  std::cout << "unknown id: " << absl::StatusCodeToString(missing.status().code()) << "\n";

  if (!seen.WaitForNotificationWithTimeout(absl::Seconds(10))) {
    std::cerr << "no watch update arrived\n";
    return 1;
  }
  return 0;
}
