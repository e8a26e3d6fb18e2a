// kafka_mock: a Kafka-protocol broker for tests and local runs, built from
// librdkafka's mock cluster (rdkafka_mock.h). It speaks the real Kafka wire
// protocol — producers, consumer groups, offsets, idempotent producers — so
// the kafka:// EventLog and `kcat` work against it unchanged. Data lives in
// memory only: a restart starts from an empty cluster.
//
//   kafka_mock [--brokers=1] [--topics=name:partitions,...] [--bootstrap_file=PATH]
//
// Prints "bootstrap 127.0.0.1:PORT" on stdout once the cluster listens (and
// writes "127.0.0.1:PORT" to --bootstrap_file, atomically), then runs until
// SIGINT or SIGTERM. SIGUSR1 takes every broker down (open connections are
// dropped, new ones refused) and SIGUSR2 brings them back on the same port
// with their data: a broker restart as clients see it, for fault tests. The mock picks its own port: librdkafka 2.0 has no way
// to choose it. By default it creates AlertHub's topics with the partition
// counts of ARCHITECTURE §4; other topics are created on first use with the
// mock's default of 4 partitions.
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <pthread.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

ABSL_FLAG(int, brokers, 1, "number of mock brokers");
ABSL_FLAG(std::string, topics,
          "alerthub.notifications.created:6,alerthub.notifications.delivered:3,"
          "alerthub.notifications.failed:3,alerthub.integrations.events:3",
          "topics to create at start, as name:partitions,...");
ABSL_FLAG(std::string, bootstrap_file, "",
          "when set, the bootstrap address is also written to this file");

namespace {

int Fail(const std::string& message) {
  std::fprintf(stderr, "kafka_mock: %s\n", message.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "A Kafka-protocol broker (librdkafka mock cluster) for tests and local runs");
  absl::ParseCommandLine(argc, argv);

  std::vector<std::pair<std::string, int>> topics;
  for (absl::string_view spec :
       absl::StrSplit(absl::GetFlag(FLAGS_topics), ',', absl::SkipEmpty())) {
    std::pair<std::string, std::string> parts = absl::StrSplit(spec, ':');
    int partitions = 0;
    if (parts.first.empty() || !absl::SimpleAtoi(parts.second, &partitions) || partitions <= 0) {
      return Fail(absl::StrCat("--topics: \"", spec, "\" is not name:partitions"));
    }
    topics.emplace_back(parts.first, partitions);
  }
  const int brokers = absl::GetFlag(FLAGS_brokers);
  if (brokers < 1) return Fail("--brokers must be at least 1");

  // SIGINT/SIGTERM are blocked before librdkafka starts its threads (which
  // inherit the mask) and taken with sigwait() below.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGUSR1);
  sigaddset(&stop_signals, SIGUSR2);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  // The mock cluster runs on the threads of a client instance; this handle
  // never produces anything.
  char errstr[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof(errstr));
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
  if (rk == nullptr) return Fail(absl::StrCat("rd_kafka_new: ", errstr));
  rd_kafka_mock_cluster_t* cluster = rd_kafka_mock_cluster_new(rk, brokers);
  if (cluster == nullptr) return Fail("rd_kafka_mock_cluster_new failed");
  const int replication = brokers < 3 ? brokers : 3;
  for (const auto& [name, partitions] : topics) {
    rd_kafka_resp_err_t err =
        rd_kafka_mock_topic_create(cluster, name.c_str(), partitions, replication);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return Fail(absl::StrCat("creating topic ", name, ": ", rd_kafka_err2str(err)));
    }
  }

  const std::string bootstrap = rd_kafka_mock_cluster_bootstraps(cluster);
  const std::string file = absl::GetFlag(FLAGS_bootstrap_file);
  if (!file.empty()) {
    const std::string tmp = file + ".tmp";
    FILE* f = std::fopen(tmp.c_str(), "w");
    if (f == nullptr || std::fprintf(f, "%s\n", bootstrap.c_str()) < 0 || std::fclose(f) != 0 ||
        std::rename(tmp.c_str(), file.c_str()) != 0) {
      return Fail(absl::StrCat("cannot write ", file));
    }
  }
  std::printf("bootstrap %s\n", bootstrap.c_str());
  std::fflush(stdout);

  int signal = 0;
  while (sigwait(&stop_signals, &signal) == 0 && (signal == SIGUSR1 || signal == SIGUSR2)) {
    const bool up = signal == SIGUSR2;
    rd_kafka_resp_err_t err = up ? rd_kafka_mock_broker_set_up(cluster, -1)
                                 : rd_kafka_mock_broker_set_down(cluster, -1);
    std::printf("brokers %s%s\n", up ? "up" : "down",
                err == RD_KAFKA_RESP_ERR_NO_ERROR ? "" : " (failed)");
    std::fflush(stdout);
  }

  rd_kafka_mock_cluster_destroy(cluster);
  rd_kafka_destroy(rk);
  return 0;
}
