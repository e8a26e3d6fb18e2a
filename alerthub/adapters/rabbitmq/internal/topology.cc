#include "alerthub/adapters/rabbitmq/internal/topology.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace alerthub::rabbitmq_internal {

absl::Duration DelayOfLevel(int level) { return kDelayBase * (int64_t{1} << level); }

int DelayLevelFor(absl::Duration remaining) {
  if (remaining <= absl::ZeroDuration()) return -1;
  int level = 0;
  while (level + 1 < kDelayLevels && DelayOfLevel(level + 1) <= remaining) ++level;
  return level;
}

std::string DeadQueueName(absl::string_view queue) { return absl::StrCat(queue, ".dead"); }

std::string DelayQueueName(absl::string_view queue, int level) {
  return absl::StrCat(queue, ".delay.", absl::ToInt64Milliseconds(DelayOfLevel(level)));
}

absl::Status ValidateQueueName(absl::string_view queue) {
  if (queue.empty() || queue.size() > 200) {
    return absl::InvalidArgumentError(
        absl::StrCat("amqp queue name \"", queue, "\" must be 1-200 bytes"));
  }
  if (absl::StartsWith(queue, "amq.")) {
    return absl::InvalidArgumentError(
        absl::StrCat("amqp queue name \"", queue, "\": the amq. prefix is reserved"));
  }
  return absl::OkStatus();
}

}  // namespace alerthub::rabbitmq_internal
