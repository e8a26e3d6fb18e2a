// librdkafka plumbing shared by the producer and the consumers of the
// kafka:// EventLog.
#ifndef ALERTHUB_ADAPTERS_KAFKA_INTERNAL_CLIENT_H_
#define ALERTHUB_ADAPTERS_KAFKA_INTERNAL_CLIENT_H_

#include <librdkafka/rdkafka.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace alerthub::kafka_internal {

using Properties = std::vector<std::pair<std::string, std::string>>;

struct KafkaDeleter {
  void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
};
using KafkaPtr = std::unique_ptr<rd_kafka_t, KafkaDeleter>;

struct ConfDeleter {
  void operator()(rd_kafka_conf_t* c) const { rd_kafka_conf_destroy(c); }
};
using ConfPtr = std::unique_ptr<rd_kafka_conf_t, ConfDeleter>;

// A configuration with `properties` set and librdkafka's log routed to
// AlertHub's JSON log (warnings and worse). kInvalidArgument naming the
// property librdkafka rejects.
absl::StatusOr<ConfPtr> NewConf(const Properties& properties);

// Creates a client of `type` from `conf` (taken over on success).
absl::StatusOr<KafkaPtr> NewClient(rd_kafka_type_t type, ConfPtr conf);

// A broker error as a status: kInvalidArgument for what retrying cannot fix
// (unknown topic, oversized message, bad name), kPermissionDenied for
// authorization, kUnavailable for everything else. `what` says which call.
absl::Status KafkaError(rd_kafka_resp_err_t err, absl::string_view what);

}  // namespace alerthub::kafka_internal

#endif  // ALERTHUB_ADAPTERS_KAFKA_INTERNAL_CLIENT_H_
