// One consumer-group member of the kafka:// EventLog: a librdkafka consumer
// and the thread that polls it and calls the handler with what one poll
// round has ready (up to kMaxBatch messages).
#ifndef ALERTHUB_ADAPTERS_KAFKA_INTERNAL_CONSUMER_H_
#define ALERTHUB_ADAPTERS_KAFKA_INTERNAL_CONSUMER_H_

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "alerthub/adapters/kafka/internal/client.h"
#include "alerthub/ports/event_log.h"
#include "alerthub/ports/subscription.h"

namespace alerthub::kafka_internal {

// Consumes `topic` as a member of `group` (see kafka_event_log.h for the
// offset rules). Start() returns once the member has its first partition
// assignment, or after session_timeout + 10 s (it then joins in the
// background). Destroying it stops the thread (waiting for a handler call in
// progress), commits what was handled and leaves the group.
class Consumer final : public Subscription {
 public:
  // `properties`: bootstrap servers, client id and the caller's extras.
  static absl::StatusOr<std::unique_ptr<Consumer>> Start(const Properties& properties,
                                                         absl::Duration fetch_wait,
                                                         absl::Duration session_timeout,
                                                         std::string topic, std::string group,
                                                         EventLog::BatchHandler handler);
  ~Consumer() override;

 private:
  // A partition rewound to a failed message and paused until `resume_at`.
  struct Retry {
    int64_t offset = 0;
    absl::Time resume_at;
    absl::Duration backoff;
    bool paused = false;
  };

  Consumer(std::string topic, EventLog::BatchHandler handler)
      : topic_(std::move(topic)), handler_(std::move(handler)) {}
  void Run();
  // Calls the handler with `batch` (fetched in order), stores the offsets
  // of what it handled, and rewinds each partition to its first failure.
  void Handle(const std::vector<rd_kafka_message_t*>& batch);
  void Rewind(const rd_kafka_message_t& m, const absl::Status& status);
  void ResumeDue();
  static void Rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                        rd_kafka_topic_partition_list_t* partitions, void* opaque);

  const std::string topic_;
  const EventLog::BatchHandler handler_;
  KafkaPtr rk_;
  absl::Mutex mu_;
  bool assigned_ ABSL_GUARDED_BY(mu_) = false;  // the first assignment arrived
  std::atomic<bool> stop_{false};
  // Touched only by the polling thread (rebalance callbacks run inside its
  // poll calls; the last one inside the destructor's close, after the join).
  absl::flat_hash_map<int32_t, Retry> retries_;
  std::thread thread_;
};

}  // namespace alerthub::kafka_internal

#endif  // ALERTHUB_ADAPTERS_KAFKA_INTERNAL_CONSUMER_H_
