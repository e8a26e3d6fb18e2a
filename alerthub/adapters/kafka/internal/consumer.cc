#include "alerthub/adapters/kafka/internal/consumer.h"

#include <algorithm>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "alerthub/common/log.h"

namespace alerthub::kafka_internal {
namespace {

constexpr absl::Duration kFirstRetry = absl::Milliseconds(100);
constexpr absl::Duration kMaxRetry = absl::Seconds(10);
constexpr absl::Duration kMaxPoll = absl::Milliseconds(100);
// Messages handed to the handler in one call, at most.
constexpr size_t kMaxBatch = 256;

struct PartitionListDeleter {
  void operator()(rd_kafka_topic_partition_list_t* l) const {
    rd_kafka_topic_partition_list_destroy(l);
  }
};
using PartitionList = std::unique_ptr<rd_kafka_topic_partition_list_t, PartitionListDeleter>;

PartitionList OnePartition(const std::string& topic, int32_t partition, int64_t offset) {
  PartitionList l(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(l.get(), topic.c_str(), partition)->offset = offset;
  return l;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Consumer>> Consumer::Start(const Properties& properties,
                                                          absl::Duration fetch_wait,
                                                          absl::Duration session_timeout,
                                                          std::string topic, std::string group,
                                                          EventLog::BatchHandler handler) {
  Properties props = properties;
  props.insert(
      props.end(),
      {
          {"group.id", group},
          // Offsets are stored by Handle() after the handler
          // succeeded; only stored offsets are auto-committed.
          {"enable.auto.commit", "true"},
          {"enable.auto.offset.store", "false"},
          {"auto.commit.interval.ms", "1000"},
          // A new group must not skip what was published before it
          // joined.
          {"auto.offset.reset", "earliest"},
          {"fetch.wait.max.ms", absl::StrCat(absl::ToInt64Milliseconds(fetch_wait))},
          {"session.timeout.ms", absl::StrCat(absl::ToInt64Milliseconds(session_timeout))},
          {"heartbeat.interval.ms",
           absl::StrCat(std::max<int64_t>(100, absl::ToInt64Milliseconds(session_timeout) / 5))},
      });
  absl::StatusOr<ConfPtr> conf = NewConf(props);
  if (!conf.ok()) return conf.status();
  std::unique_ptr<Consumer> c(new Consumer(std::move(topic), std::move(handler)));
  rd_kafka_conf_set_opaque(conf->get(), c.get());
  rd_kafka_conf_set_rebalance_cb(conf->get(), &Consumer::Rebalance);
  absl::StatusOr<KafkaPtr> rk = NewClient(RD_KAFKA_CONSUMER, *std::move(conf));
  if (!rk.ok()) return rk.status();
  c->rk_ = *std::move(rk);
  rd_kafka_poll_set_consumer(c->rk_.get());
  PartitionList subscription(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(subscription.get(), c->topic_.c_str(), RD_KAFKA_PARTITION_UA);
  if (rd_kafka_resp_err_t err = rd_kafka_subscribe(c->rk_.get(), subscription.get()); err) {
    return KafkaError(err, absl::StrCat("subscribing to ", c->topic_));
  }
  c->thread_ = std::thread([raw = c.get()] { raw->Run(); });
  // Members started together settle before messages flow, so fewer are
  // handled twice by a rebalance.
  {
    absl::MutexLock lock(&c->mu_);
    if (!c->mu_.AwaitWithTimeout(absl::Condition(&c->assigned_),
                                 session_timeout + absl::Seconds(10))) {
      Log(LogLevel::kWarning, "kafka consumer has no partitions yet; joining in the background",
          {{"topic", c->topic_}, {"group", group}});
    }
  }
  return c;
}

Consumer::~Consumer() {
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
  if (rk_ != nullptr) {
    // Commits the stored offsets (through the revoke callback) and leaves
    // the group, so the partitions move to the other members at once.
    rd_kafka_consumer_close(rk_.get());
  }
}

void Consumer::Run() {
  std::vector<rd_kafka_message_t*> batch;
  while (!stop_.load()) {
    ResumeDue();
    absl::Duration wait = kMaxPoll;
    const absl::Time now = absl::Now();
    for (const auto& [partition, r] : retries_) {
      if (r.paused) wait = std::min(wait, std::max(absl::ZeroDuration(), r.resume_at - now));
    }
    // The first message may wait; the rest of the batch is what is ready.
    batch.clear();
    int timeout_ms = static_cast<int>(absl::ToInt64Milliseconds(wait));
    while (batch.size() < kMaxBatch) {
      rd_kafka_message_t* m = rd_kafka_consumer_poll(rk_.get(), timeout_ms);
      if (m == nullptr) break;
      timeout_ms = 0;
      if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        batch.push_back(m);
        continue;
      }
      if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        Log(LogLevel::kWarning, "kafka consumer error",
            {{"topic", topic_}, {"error", rd_kafka_message_errstr(m)}});
      }
      rd_kafka_message_destroy(m);
    }
    if (!batch.empty()) Handle(batch);
    for (rd_kafka_message_t* m : batch) rd_kafka_message_destroy(m);
  }
}

void Consumer::Handle(const std::vector<rd_kafka_message_t*>& batch) {
  std::vector<const rd_kafka_message_t*> fetched;
  std::vector<EventMessage> messages;
  fetched.reserve(batch.size());
  messages.reserve(batch.size());
  absl::flat_hash_set<int32_t> resumed;  // rewound partitions whose message came again
  for (const rd_kafka_message_t* m : batch) {
    auto retry = retries_.find(m->partition);
    if (retry != retries_.end() && !resumed.contains(m->partition)) {
      // Fetched before its partition was rewound: it comes again, in order.
      if (m->offset != retry->second.offset) continue;
      resumed.insert(m->partition);
    }
    EventMessage& message = messages.emplace_back();
    message.topic = topic_;
    if (m->key != nullptr) message.key.assign(static_cast<const char*>(m->key), m->key_len);
    if (m->payload != nullptr) {
      message.payload.assign(static_cast<const char*>(m->payload), m->len);
    }
    rd_kafka_headers_t* headers = nullptr;
    if (rd_kafka_message_headers(m, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR) {
      const char* name;
      const void* value;
      size_t size;
      for (size_t i = 0;
           rd_kafka_header_get_all(headers, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR;
           ++i) {
        message.headers.emplace_back(
            name, value != nullptr ? std::string(static_cast<const char*>(value), size) : "");
      }
    }
    fetched.push_back(m);
  }
  if (messages.empty()) return;

  std::vector<absl::Status> statuses = handler_(messages);
  if (statuses.size() != messages.size()) {
    statuses.assign(messages.size(),
                    absl::InternalError("the handler returned the wrong number of statuses"));
  }
  // Per partition, offsets advance only up to the first failure; that
  // message and everything after it in the partition come again.
  absl::flat_hash_map<int32_t, bool> rewound;
  for (size_t i = 0; i < fetched.size(); ++i) {
    const rd_kafka_message_t& m = *fetched[i];
    if (rewound[m.partition]) continue;
    if (!statuses[i].ok()) {
      rewound[m.partition] = true;
      Rewind(m, statuses[i]);
      continue;
    }
    retries_.erase(m.partition);
    // Committed with the next auto-commit (or on revoke/close).
    if (rd_kafka_resp_err_t err = rd_kafka_offset_store(m.rkt, m.partition, m.offset); err) {
      Log(LogLevel::kWarning, "kafka offset store failed",
          {{"topic", topic_}, {"partition", m.partition}, {"error", rd_kafka_err2str(err)}});
    }
  }
}

void Consumer::Rewind(const rd_kafka_message_t& m, const absl::Status& status) {
  // Rewind the partition to this message and pause it for the backoff; the
  // rest of the assignment keeps flowing.
  Retry& r = retries_[m.partition];
  r.offset = m.offset;
  r.backoff = r.backoff == absl::ZeroDuration() ? kFirstRetry : std::min(kMaxRetry, r.backoff * 2);
  r.resume_at = absl::Now() + r.backoff;
  r.paused = true;
  Log(LogLevel::kWarning, "event handler failed; redelivering",
      {{"topic", topic_},
       {"partition", m.partition},
       {"offset", m.offset},
       {"retry_in_ms", absl::ToInt64Milliseconds(r.backoff)},
       {"error", std::string(status.message())}});
  PartitionList at = OnePartition(topic_, m.partition, m.offset);
  if (rd_kafka_error_t* e = rd_kafka_seek_partitions(rk_.get(), at.get(), 5000); e != nullptr) {
    Log(LogLevel::kWarning, "kafka seek failed",
        {{"topic", topic_}, {"partition", m.partition}, {"error", rd_kafka_error_string(e)}});
    rd_kafka_error_destroy(e);
  }
  rd_kafka_pause_partitions(rk_.get(), at.get());
}

void Consumer::ResumeDue() {
  const absl::Time now = absl::Now();
  for (auto& [partition, r] : retries_) {
    if (!r.paused || now < r.resume_at) continue;
    PartitionList p = OnePartition(topic_, partition, r.offset);
    rd_kafka_resume_partitions(rk_.get(), p.get());
    r.paused = false;
  }
}

void Consumer::Rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t* partitions, void* opaque) {
  auto* self = static_cast<Consumer*>(opaque);
  self->retries_.clear();  // a new assignment starts from committed offsets
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    rd_kafka_assign(rk, partitions);
    absl::MutexLock lock(&self->mu_);
    self->assigned_ = true;
    return;
  }
  // Revoked (or an error): commit what was handled before the partitions
  // move, so the next owner does not handle it again.
  rd_kafka_commit(rk, nullptr, /*async=*/0);
  rd_kafka_assign(rk, nullptr);
}

}  // namespace alerthub::kafka_internal
