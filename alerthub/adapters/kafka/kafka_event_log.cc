#include "alerthub/adapters/kafka/kafka_event_log.h"

#include <librdkafka/rdkafka.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "alerthub/adapters/kafka/internal/client.h"
#include "alerthub/adapters/kafka/internal/consumer.h"
#include "alerthub/common/log.h"

namespace alerthub {
namespace {

using kafka_internal::ConfPtr;
using kafka_internal::Consumer;
using kafka_internal::KafkaError;
using kafka_internal::KafkaPtr;
using kafka_internal::NewClient;
using kafka_internal::NewConf;
using kafka_internal::Properties;

constexpr char kContentType[] = "content-type";
constexpr char kCloudEventsJson[] = "application/cloudevents+json; charset=UTF-8";
// Limit on metadata and admin requests.
constexpr int kAdminTimeoutMs = 5000;

int Millis(absl::Duration d) { return static_cast<int>(absl::ToInt64Milliseconds(d)); }

// The producer's settings: idempotent (no duplicates or reordering from
// retries), acknowledged by all in-sync replicas, a small linger.
Properties ProducerProperties(const KafkaEventLogOptions& options, const Properties& base) {
  Properties p = base;
  p.insert(p.end(), {
                        {"enable.idempotence", "true"},
                        {"acks", "all"},
                        {"linger.ms", absl::StrCat(Millis(options.linger))},
                        {"message.timeout.ms", absl::StrCat(Millis(options.delivery_timeout))},
                    });
  return p;
}

// What one PublishReliable call waits for: a delivery report per message it
// handed to the producer. Shared with the reports, which may outlive the
// caller's wait by the time they unlock.
struct PublishWait {
  absl::Mutex mu;
  int outstanding ABSL_GUARDED_BY(mu) = 0;
  std::vector<absl::Status> statuses ABSL_GUARDED_BY(mu);
  bool fatal ABSL_GUARDED_BY(mu) = false;
};

// The per-message opaque of a produced message.
struct DeliverySlot {
  std::shared_ptr<PublishWait> wait;
  size_t index;
};

void OnDelivery(rd_kafka_t*, const rd_kafka_message_t* m, void*) {
  std::unique_ptr<DeliverySlot> slot(static_cast<DeliverySlot*>(m->_private));
  absl::Status status =
      m->err == RD_KAFKA_RESP_ERR_NO_ERROR
          ? absl::OkStatus()
          : KafkaError(m->err, absl::StrCat("delivering to ", rd_kafka_topic_name(m->rkt)));
  absl::MutexLock lock(&slot->wait->mu);
  slot->wait->statuses[slot->index] = std::move(status);
  if (m->err == RD_KAFKA_RESP_ERR__FATAL) slot->wait->fatal = true;
  --slot->wait->outstanding;
}

// An idempotent producer and the thread that serves its delivery reports.
class Producer {
 public:
  static absl::StatusOr<std::shared_ptr<Producer>> Create(Properties properties) {
    absl::StatusOr<ConfPtr> conf = NewConf(properties);
    if (!conf.ok()) return conf.status();
    rd_kafka_conf_set_dr_msg_cb(conf->get(), &OnDelivery);
    absl::StatusOr<KafkaPtr> rk = NewClient(RD_KAFKA_PRODUCER, *std::move(conf));
    if (!rk.ok()) return rk.status();
    return std::shared_ptr<Producer>(new Producer(*std::move(rk)));
  }

  ~Producer() {
    // Every queued message gets its report (delivered or failed) first.
    rd_kafka_flush(rk_.get(), 10'000);
    stop_.store(true);
    poller_.join();
  }

  rd_kafka_t* get() const { return rk_.get(); }

 private:
  explicit Producer(KafkaPtr rk) : rk_(std::move(rk)) {
    poller_ = std::thread([this] {
      while (!stop_.load()) rd_kafka_poll(rk_.get(), 100);
      rd_kafka_poll(rk_.get(), 0);
    });
  }

  KafkaPtr rk_;
  std::atomic<bool> stop_{false};
  std::thread poller_;
};

class KafkaEventLog;

// The handle StartPublish returns: done when the producer has reported on
// every message it was handed.
class KafkaPendingPublish final : public PendingPublish {
 public:
  KafkaPendingPublish(KafkaEventLog* log, std::shared_ptr<Producer> producer,
                      std::shared_ptr<PublishWait> wait, bool fatal)
      : log_(log), producer_(std::move(producer)), wait_(std::move(wait)), fatal_(fatal) {}

  bool Done() override {
    absl::MutexLock lock(&wait_->mu);
    return wait_->outstanding == 0;
  }

  std::vector<absl::Status> Wait() override;

 private:
  KafkaEventLog* const log_;
  const std::shared_ptr<Producer> producer_;
  const std::shared_ptr<PublishWait> wait_;
  const bool fatal_;  // producing failed fatally
};

class KafkaEventLog final : public EventLog {
 public:
  KafkaEventLog(const KafkaEventLogOptions& options, Properties base,
                std::shared_ptr<Producer> producer)
      : options_(options), base_(std::move(base)), producer_(std::move(producer)) {}

  std::vector<absl::Status> PublishReliable(absl::Span<const EventMessage> messages) override {
    return StartPublish(messages)->Wait();
  }

  std::unique_ptr<PendingPublish> StartPublish(absl::Span<const EventMessage> messages) override {
    std::shared_ptr<Producer> producer = CurrentProducer();
    auto wait = std::make_shared<PublishWait>();
    {
      absl::MutexLock lock(&wait->mu);
      wait->statuses.assign(messages.size(), absl::UnknownError("not published"));
    }
    bool fatal = false;
    // A topic that cannot be made ready fails all its messages of this call
    // without asking the broker again.
    absl::flat_hash_map<std::string, absl::Status> topic_status;
    for (size_t i = 0; i < messages.size(); ++i) {
      const EventMessage& m = messages[i];
      auto [it, first] = topic_status.try_emplace(m.topic);
      if (first) it->second = EnsureTopic(*producer, m.topic);
      absl::Status s = it->second;
      if (s.ok()) s = Produce(*producer, m, wait, i, &fatal);
      if (!s.ok()) {
        absl::MutexLock lock(&wait->mu);
        wait->statuses[i] = std::move(s);
      }
    }
    return std::make_unique<KafkaPendingPublish>(this, std::move(producer), std::move(wait),
                                                 fatal);
  }

  absl::StatusOr<std::unique_ptr<Subscription>> Subscribe(absl::string_view topic,
                                                          absl::string_view group,
                                                          Handler handler) override {
    if (!handler) return absl::InvalidArgumentError("EventLog::Subscribe: no handler");
    // After a failure the rest of the batch is not handled: it comes again
    // behind the failed message, in order.
    return SubscribeBatch(
        topic, group, [handler = std::move(handler)](absl::Span<const EventMessage> ms) {
          std::vector<absl::Status> out;
          out.reserve(ms.size());
          for (const EventMessage& m : ms) {
            if (!out.empty() && !out.back().ok()) {
              out.push_back(absl::UnavailableError("an earlier message failed"));
            } else {
              out.push_back(handler(m));
            }
          }
          return out;
        });
  }

  absl::StatusOr<std::unique_ptr<Subscription>> SubscribeBatch(absl::string_view topic,
                                                               absl::string_view group,
                                                               BatchHandler handler) override {
    if (topic.empty()) return absl::InvalidArgumentError("EventLog::Subscribe: empty topic");
    if (group.empty()) return absl::InvalidArgumentError("EventLog::Subscribe: empty group");
    if (!handler) return absl::InvalidArgumentError("EventLog::Subscribe: no handler");
    std::shared_ptr<Producer> producer = CurrentProducer();
    if (absl::Status s = EnsureTopic(*producer, std::string(topic)); !s.ok()) return s;
    absl::StatusOr<std::unique_ptr<Consumer>> consumer =
        Consumer::Start(base_, options_.fetch_wait, options_.session_timeout, std::string(topic),
                        std::string(group), std::move(handler));
    if (!consumer.ok()) return consumer.status();
    return std::unique_ptr<Subscription>(std::move(*consumer));
  }

  absl::Status Ping() override {
    std::shared_ptr<Producer> producer = CurrentProducer();
    const rd_kafka_metadata_t* md = nullptr;
    rd_kafka_resp_err_t err = rd_kafka_metadata(producer->get(), 0, nullptr, &md, 2000);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
      return absl::UnavailableError(KafkaError(err, "ping").message());
    rd_kafka_metadata_destroy(md);
    char errstr[256];
    if (rd_kafka_fatal_error(producer->get(), errstr, sizeof(errstr)) !=
        RD_KAFKA_RESP_ERR_NO_ERROR) {
      return absl::UnavailableError(absl::StrCat("kafka producer failed: ", errstr));
    }
    return absl::OkStatus();
  }

 private:
  friend class KafkaPendingPublish;

  std::shared_ptr<Producer> CurrentProducer() {
    absl::MutexLock lock(&producer_mu_);
    return producer_;
  }

  // After a fatal error (the idempotent producer lost its sequence, or was
  // fenced) librdkafka refuses every message: start a new producer. The old
  // one goes away with its last user.
  void ReplaceProducer(const std::shared_ptr<Producer>& failed) {
    absl::MutexLock lock(&producer_mu_);
    if (producer_ != failed) return;  // someone else did
    absl::StatusOr<std::shared_ptr<Producer>> fresh =
        Producer::Create(ProducerProperties(options_, base_));
    if (!fresh.ok()) return;
    char errstr[256] = "";
    rd_kafka_fatal_error(failed->get(), errstr, sizeof(errstr));
    Log(LogLevel::kWarning, "kafka producer restarted after a fatal error", {{"error", errstr}});
    producer_ = *std::move(fresh);
  }

  // Hands one message to the producer; its report completes `wait`.
  absl::Status Produce(Producer& producer, const EventMessage& m,
                       const std::shared_ptr<PublishWait>& wait, size_t index, bool* fatal) {
    rd_kafka_headers_t* headers = rd_kafka_headers_new(m.headers.size() + 1);
    bool has_content_type = false;
    for (const auto& [name, value] : m.headers) {
      has_content_type = has_content_type || absl::EqualsIgnoreCase(name, kContentType);
      rd_kafka_header_add(headers, name.data(), static_cast<ssize_t>(name.size()), value.data(),
                          static_cast<ssize_t>(value.size()));
    }
    if (!has_content_type) rd_kafka_header_add(headers, kContentType, -1, kCloudEventsJson, -1);
    auto slot = std::make_unique<DeliverySlot>(DeliverySlot{wait, index});
    {
      absl::MutexLock lock(&wait->mu);
      ++wait->outstanding;
    }
    rd_kafka_resp_err_t err = rd_kafka_producev(
        producer.get(), RD_KAFKA_V_TOPIC(m.topic.c_str()),
        RD_KAFKA_V_KEY(m.key.empty() ? nullptr : m.key.data(), m.key.size()),
        RD_KAFKA_V_VALUE(const_cast<char*>(m.payload.data()), m.payload.size()),
        // Copy (the caller's strings go away) and wait when the local queue
        // is full rather than fail.
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY | RD_KAFKA_MSG_F_BLOCK),
        RD_KAFKA_V_HEADERS(headers), RD_KAFKA_V_OPAQUE(slot.get()), RD_KAFKA_V_END);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      rd_kafka_headers_destroy(headers);  // not taken over on failure
      absl::MutexLock lock(&wait->mu);
      --wait->outstanding;
      if (err == RD_KAFKA_RESP_ERR__FATAL) *fatal = true;
      return KafkaError(err, absl::StrCat("producing to ", m.topic));
    }
    slot.release();  // OnDelivery owns it now
    return absl::OkStatus();
  }

  // Makes sure `topic` exists before its first use (see the header).
  absl::Status EnsureTopic(Producer& producer, const std::string& topic) {
    if (topic.empty()) return absl::InvalidArgumentError("event message has no topic");
    {
      absl::MutexLock lock(&topics_mu_);
      if (ensured_.contains(topic)) return absl::OkStatus();
    }
    absl::StatusOr<bool> exists = TopicExists(producer, topic);
    if (!exists.ok()) return exists.status();
    if (!*exists) {
      if (!options_.create_topics) {
        return absl::InvalidArgumentError(
            absl::StrCat("kafka topic ", topic, " does not exist and create_topics is off"));
      }
      absl::StatusOr<bool> created = CreateTopic(producer, topic);
      if (!created.ok()) return created.status();
      if (!*created) {
        // No controller to ask: a metadata request for the topic makes
        // brokers that allow it (and the mock cluster) create it.
        rd_kafka_topic_t* rkt = rd_kafka_topic_new(producer.get(), topic.c_str(), nullptr);
        const rd_kafka_metadata_t* md = nullptr;
        if (rd_kafka_metadata(producer.get(), 0, rkt, &md, kAdminTimeoutMs) ==
            RD_KAFKA_RESP_ERR_NO_ERROR) {
          rd_kafka_metadata_destroy(md);
        }
        rd_kafka_topic_destroy(rkt);
        absl::StatusOr<bool> now = TopicExists(producer, topic);
        if (!now.ok()) return now.status();
        if (!*now) {
          return absl::InvalidArgumentError(absl::StrCat(
              "kafka topic ", topic,
              " does not exist; the broker has no controller to create it and does not "
              "create topics automatically"));
        }
      }
    }
    absl::MutexLock lock(&topics_mu_);
    ensured_.insert(topic);
    return absl::OkStatus();
  }

  absl::StatusOr<bool> TopicExists(Producer& producer, const std::string& topic) {
    const rd_kafka_metadata_t* md = nullptr;
    // All topics: asking for one by name could make the broker auto-create
    // it with its default partition count.
    rd_kafka_resp_err_t err = rd_kafka_metadata(producer.get(), 1, nullptr, &md, kAdminTimeoutMs);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return KafkaError(err, "listing topics");
    bool found = false;
    for (int i = 0; i < md->topic_cnt; ++i) {
      if (topic == md->topics[i].topic && md->topics[i].err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        found = true;
      }
    }
    // Remember whether the cluster names a controller among its brokers.
    const int32_t controller = rd_kafka_controllerid(producer.get(), 0);
    bool has_controller = false;
    for (int i = 0; i < md->broker_cnt; ++i) has_controller |= md->brokers[i].id == controller;
    rd_kafka_metadata_destroy(md);
    has_controller_.store(has_controller);
    return found;
  }

  // true when created (or it appeared meanwhile); false when the cluster has
  // no controller to create it.
  absl::StatusOr<bool> CreateTopic(Producer& producer, const std::string& topic) {
    if (!has_controller_.load()) {
      if (!warned_no_controller_.exchange(true)) {
        Log(LogLevel::kWarning,
            "kafka cluster names no controller; relying on the broker to create topics",
            {{"bootstrap", options_.bootstrap_servers}});
      }
      return false;
    }
    int partitions = options_.default_partitions;
    for (const auto& [name, count] : kKafkaTopics) {
      if (name == topic) partitions = count;
    }
    char errstr[512];
    rd_kafka_NewTopic_t* new_topic = rd_kafka_NewTopic_new(
        topic.c_str(), partitions, options_.replication_factor, errstr, sizeof(errstr));
    if (new_topic == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("kafka topic ", topic, ": ", errstr));
    }
    rd_kafka_AdminOptions_t* admin =
        rd_kafka_AdminOptions_new(producer.get(), RD_KAFKA_ADMIN_OP_CREATETOPICS);
    rd_kafka_AdminOptions_set_request_timeout(admin, kAdminTimeoutMs, errstr, sizeof(errstr));
    rd_kafka_AdminOptions_set_operation_timeout(admin, kAdminTimeoutMs, errstr, sizeof(errstr));
    rd_kafka_queue_t* queue = rd_kafka_queue_new(producer.get());
    rd_kafka_CreateTopics(producer.get(), &new_topic, 1, admin, queue);
    rd_kafka_event_t* event = rd_kafka_queue_poll(queue, kAdminTimeoutMs + 1000);
    absl::Status status =
        absl::UnavailableError(absl::StrCat("kafka: creating topic ", topic, ": no answer"));
    if (event != nullptr) {
      if (rd_kafka_event_error(event) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        status = KafkaError(rd_kafka_event_error(event), absl::StrCat("creating topic ", topic));
      } else {
        size_t n = 0;
        const rd_kafka_topic_result_t** results =
            rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(event), &n);
        rd_kafka_resp_err_t err =
            n == 1 ? rd_kafka_topic_result_error(results[0]) : RD_KAFKA_RESP_ERR__FAIL;
        status = err == RD_KAFKA_RESP_ERR_NO_ERROR || err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS
                     ? absl::OkStatus()
                     : KafkaError(err, absl::StrCat("creating topic ", topic));
        if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
          Log(LogLevel::kInfo, "kafka topic created",
              {{"topic", topic}, {"partitions", partitions}});
        }
      }
      rd_kafka_event_destroy(event);
    }
    rd_kafka_queue_destroy(queue);
    rd_kafka_AdminOptions_destroy(admin);
    rd_kafka_NewTopic_destroy(new_topic);
    if (!status.ok()) return status;
    return true;
  }

  const KafkaEventLogOptions options_;
  // bootstrap.servers, client.id and the caller's librdkafka properties.
  const Properties base_;

  absl::Mutex producer_mu_;
  std::shared_ptr<Producer> producer_ ABSL_GUARDED_BY(producer_mu_);

  absl::Mutex topics_mu_;
  absl::flat_hash_set<std::string> ensured_ ABSL_GUARDED_BY(topics_mu_);
  std::atomic<bool> has_controller_{true};
  std::atomic<bool> warned_no_controller_{false};
};

std::vector<absl::Status> KafkaPendingPublish::Wait() {
  bool fatal = fatal_;
  std::vector<absl::Status> statuses;
  {
    absl::MutexLock lock(&wait_->mu);
    auto delivered = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(wait_->mu) {
      return wait_->outstanding == 0;
    };
    // librdkafka reports every message within message.timeout.ms.
    wait_->mu.Await(absl::Condition(&delivered));
    fatal = fatal || wait_->fatal;
    statuses = std::move(wait_->statuses);
  }
  if (fatal) log_->ReplaceProducer(producer_);
  return statuses;
}

absl::StatusOr<int> IntParam(absl::string_view url, absl::string_view name, absl::string_view value,
                             int min) {
  int v = 0;
  if (!absl::SimpleAtoi(value, &v) || v < min) {
    return absl::InvalidArgumentError(
        absl::StrCat("bus URL \"", url, "\": ", name, " must be an integer >= ", min));
  }
  return v;
}

}  // namespace

absl::StatusOr<KafkaEventLogOptions> KafkaEventLogOptionsFromUrl(absl::string_view url) {
  constexpr absl::string_view kScheme = "kafka://";
  constexpr absl::string_view kForm =
      "expected kafka://host:port[,host:port...][?linger_ms=N&delivery_timeout_ms=N&"
      "create_topics=true|false&partitions=N&replication_factor=N&client_id=S&"
      "session_timeout_ms=N&"
      "<librdkafka.property>=V]";
  if (!absl::StartsWithIgnoreCase(url, kScheme)) {
    return absl::InvalidArgumentError(absl::StrCat("bus URL \"", url, "\": ", kForm));
  }
  absl::string_view rest = url.substr(kScheme.size());
  absl::string_view query;
  if (size_t q = rest.find('?'); q != absl::string_view::npos) {
    query = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }
  if (absl::EndsWith(rest, "/")) rest.remove_suffix(1);
  KafkaEventLogOptions options;
  std::vector<std::string> brokers;
  for (absl::string_view broker : absl::StrSplit(rest, ',')) {
    size_t colon = broker.rfind(':');
    int port = 0;
    if (broker.empty() || broker.find_first_of("/@#") != absl::string_view::npos ||
        colon == absl::string_view::npos || colon == 0 ||
        !absl::SimpleAtoi(broker.substr(colon + 1), &port) || port < 1 || port > 65535) {
      return absl::InvalidArgumentError(
          absl::StrCat("bus URL \"", url, "\": \"", broker, "\" is not host:port; ", kForm));
    }
    brokers.emplace_back(broker);
  }
  options.bootstrap_servers = absl::StrJoin(brokers, ",");

  for (absl::string_view param : absl::StrSplit(query, '&', absl::SkipEmpty())) {
    std::pair<std::string, std::string> kv = absl::StrSplit(param, absl::MaxSplits('=', 1));
    const std::string& name = kv.first;
    const std::string& value = kv.second;
    if (name == "linger_ms") {
      absl::StatusOr<int> v = IntParam(url, name, value, 0);
      if (!v.ok()) return v.status();
      options.linger = absl::Milliseconds(*v);
    } else if (name == "delivery_timeout_ms") {
      absl::StatusOr<int> v = IntParam(url, name, value, 1);
      if (!v.ok()) return v.status();
      options.delivery_timeout = absl::Milliseconds(*v);
    } else if (name == "session_timeout_ms") {
      absl::StatusOr<int> v = IntParam(url, name, value, 1);
      if (!v.ok()) return v.status();
      options.session_timeout = absl::Milliseconds(*v);
    } else if (name == "partitions") {
      absl::StatusOr<int> v = IntParam(url, name, value, 1);
      if (!v.ok()) return v.status();
      options.default_partitions = *v;
    } else if (name == "replication_factor") {
      absl::StatusOr<int> v = IntParam(url, name, value, -1);
      if (!v.ok()) return v.status();
      if (*v == 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("bus URL \"", url, "\": replication_factor must be -1 or >= 1"));
      }
      options.replication_factor = *v;
    } else if (name == "create_topics") {
      if (value != "true" && value != "false") {
        return absl::InvalidArgumentError(
            absl::StrCat("bus URL \"", url, "\": create_topics must be true or false"));
      }
      options.create_topics = value == "true";
    } else if (name == "client_id") {
      if (value.empty()) {
        return absl::InvalidArgumentError(absl::StrCat("bus URL \"", url, "\": empty client_id"));
      }
      options.client_id = value;
    } else if (absl::StrContains(name, '.')) {
      options.librdkafka.emplace_back(name, value);
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("bus URL \"", url, "\": unknown parameter \"", name, "\"; ", kForm));
    }
  }
  return options;
}

absl::StatusOr<std::unique_ptr<EventLog>> OpenKafkaEventLog(const KafkaEventLogOptions& options) {
  if (options.bootstrap_servers.empty()) {
    return absl::InvalidArgumentError("kafka EventLog: bootstrap_servers is empty");
  }
  if (options.default_partitions < 1 || options.replication_factor == 0 ||
      options.replication_factor < -1) {
    return absl::InvalidArgumentError(
        "kafka EventLog: partitions must be >= 1 and replication_factor -1 or >= 1");
  }
  Properties base = {{"bootstrap.servers", options.bootstrap_servers},
                     {"client.id", options.client_id}};
  base.insert(base.end(), options.librdkafka.begin(), options.librdkafka.end());
  absl::StatusOr<std::shared_ptr<Producer>> p = Producer::Create(ProducerProperties(options, base));
  if (!p.ok()) return p.status();
  return std::unique_ptr<EventLog>(new KafkaEventLog(options, base, *std::move(p)));
}

}  // namespace alerthub
