// A real SMTP server for tests: smtp_sink.py (aiosmtpd, Debian's
// python3-aiosmtpd) run as a child process on a free port of 127.0.0.1. It
// accepts mail, answers scripted refusals by recipient (reject-permanent*
// 550, reject-temporary* 451, slow* after 5 s), optionally requires AUTH, and
// hands back what it received parsed by Python's e-mail package, an
// independent MIME parser. See smtp_sink.py for the record's fields.
//
//   ASSERT_OK_AND_ASSIGN(std::unique_ptr<SmtpSink> sink, SmtpSink::Start());
//   envelope.smtp_url = sink->Url();
//   ... send ...
//   std::vector<nlohmann::json> got = sink->Messages();
//   EXPECT_EQ(got[0]["rcpt_tos"], nlohmann::json({"ops@example.com"}));
//
// Start fails (never skips) when /usr/bin/python3 or aiosmtpd is missing,
// saying to run tools/bootstrap.sh.
#ifndef ALERTHUB_ADAPTERS_CURL_TESTING_SMTP_SINK_H_
#define ALERTHUB_ADAPTERS_CURL_TESTING_SMTP_SINK_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace alerthub::testing {

class SmtpSink {
 public:
  struct Options {
    // When set, AUTH is required and only these credentials pass.
    std::string username;
    std::string password;
  };

  // Starts the server and waits until it listens.
  //   kFailedPrecondition  python3 or aiosmtpd is missing, or the script
  //                        exited before listening (its stderr is in the
  //                        test log)
  static absl::StatusOr<std::unique_ptr<SmtpSink>> Start(const Options& options);
  static absl::StatusOr<std::unique_ptr<SmtpSink>> Start() { return Start(Options{}); }

  // Kills the server and waits for it.
  ~SmtpSink();

  SmtpSink(const SmtpSink&) = delete;
  SmtpSink& operator=(const SmtpSink&) = delete;

  int port() const { return port_; }
  // "smtp://127.0.0.1:<port>".
  std::string Url() const;

  // The messages accepted so far, in order.
  std::vector<nlohmann::json> Messages() const;

 private:
  SmtpSink(pid_t pid, int port, std::string out_dir)
      : pid_(pid), port_(port), out_dir_(std::move(out_dir)) {}

  pid_t pid_;
  int port_;
  std::string out_dir_;
};

}  // namespace alerthub::testing

#endif  // ALERTHUB_ADAPTERS_CURL_TESTING_SMTP_SINK_H_
