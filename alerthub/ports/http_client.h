// Outbound transports of the delivery engine: HTTP requests to webhook
// receivers and providers (Slack, Discord, FCM), and SMTP submissions. The
// channel senders (alerthub/delivery/channels) speak each provider's contract
// over these; adapters (alerthub/adapters/curl) implement them.
//
//   std::unique_ptr<HttpClient> http = NewCurlHttpClient(CurlOptions{});
//   HttpRequest request;
//   request.url = "https://example.com/hook";
//   request.headers = {{"Content-Type", "application/json"}};
//   request.body = R"({"ok": true})";
//   absl::StatusOr<HttpResponse> response = http->Send(request);
//   if (!response.ok()) {
//     outcome = ClassifyTransportError(response.status());  // no answer
//   } else {
//     outcome = ClassifyHttpStatus(response->status);
//     retry_after = ParseRetryAfter(response->Header("Retry-After"), now);
//   }
//
// Implementations are safe for concurrent use from multiple threads.
#ifndef ALERTHUB_PORTS_HTTP_CLIENT_H_
#define ALERTHUB_PORTS_HTTP_CLIENT_H_

#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace alerthub {

// HTTP header fields in the order they are sent or received. Names keep the
// case they were given or received in; readers compare them without regard
// to case.
using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

// The most of a response body an HttpClient keeps; the rest is read and
// dropped (so the connection stays reusable), and HttpResponse::body_truncated
// says so. Providers' answers that matter (errors, tokens) are far smaller.
inline constexpr size_t kMaxHttpResponseBodyBytes = size_t{64} << 10;

struct HttpRequest {
  // "POST", "GET", "PUT", ... (upper case).
  std::string method = "POST";
  // An absolute http:// or https:// URL. May carry secrets (Slack and Discord
  // webhook URLs do), so implementations never put more than its scheme,
  // host and port in error messages or logs.
  std::string url;
  // Sent as given, in order. Names and values must not contain CR or LF.
  // Content-Type is the caller's to set.
  HttpHeaders headers;
  // The exact bytes sent (signatures cover them); empty sends no body.
  std::string body;
  // For the whole exchange: connecting, sending and reading the answer.
  absl::Duration timeout = absl::Seconds(15);
};

struct HttpResponse {
  // The final status code (never a 1xx interim answer).
  int status = 0;
  // The final response's header fields, values without surrounding spaces.
  HttpHeaders headers;
  // At most kMaxHttpResponseBodyBytes of the body.
  std::string body;
  // Whether the body was longer than kMaxHttpResponseBodyBytes.
  bool body_truncated = false;

  // The value of the first header field named `name` (compared without
  // regard to case), or "" when there is none.
  std::string Header(absl::string_view name) const;
};

// Sends HTTP requests. Implementations are thread-safe, reuse connections
// (keep-alive) and enforce the deployment's outbound policy (the SSRF
// guard, alerthub/delivery/ssrf_guard.h).
class HttpClient {
 public:
  virtual ~HttpClient() = default;

  // Sends `request` and waits for the answer. Redirects are never followed:
  // a 3xx is returned like any other status.
  //   OK                 an HTTP answer arrived, whatever its status
  //   kDeadlineExceeded  no complete answer within request.timeout
  //   kUnavailable       DNS, connect, TLS or the connection failed
  //                      (reset, closed early, malformed answer)
  //   kPermissionDenied  the destination is refused by the SSRF guard (the
  //                      message names the address and why)
  //   kInvalidArgument   the URL is malformed or not http(s), or a header
  //                      holds CR/LF
  //   kResourceExhausted too many requests to the same host are in flight
  //                      and none finished within request.timeout
  //   kInternal          the HTTP library failed in some other way
  // These are the codes ClassifyTransportError (delivery/retry_policy.h)
  // expects: the first three and the last two are retried, the others not.
  virtual absl::StatusOr<HttpResponse> Send(const HttpRequest& request) = 0;
};

// One e-mail submission over SMTP.
struct MailEnvelope {
  // smtp://host[:port] (port 25 by default; STARTTLS is used when the server
  // offers it) or smtps://host[:port] (TLS from the start, port 465 by
  // default). No credentials in the URL.
  std::string smtp_url;
  // AUTH is used when `username` is not empty.
  std::string username;
  std::string password;
  // The envelope sender (MAIL FROM) and recipients (RCPT TO): bare
  // addresses, "ops@example.com", without angle brackets.
  std::string from;
  std::vector<std::string> to;
  // The full RFC 5322 message (headers, blank line, body) with CRLF line
  // ends. Dot-stuffing is the transport's job.
  std::string message;
  // For the whole session.
  absl::Duration timeout = absl::Seconds(15);
};

struct MailReply {
  // The server's last reply code, 250 when the message was accepted.
  int code = 0;
  // That reply's text, without the code ("2.0.0 Ok: queued as 4BF1C").
  std::string text;
};

// Submits e-mail over SMTP. Implementations are thread-safe and enforce the
// deployment's outbound policy (the SSRF guard) on the SMTP server's address.
class MailTransport {
 public:
  virtual ~MailTransport() = default;

  // Submits `mail`; every recipient must be accepted for the message to be
  // sent.
  //   OK                   the server accepted the message; its final reply
  //   kFailedPrecondition  the server refused permanently (a 5xx reply to
  //                        AUTH, MAIL, RCPT or DATA)
  //   kUnavailable         the server refused for now (4xx), or DNS,
  //                        connect, TLS or the connection failed
  //   kDeadlineExceeded    the session did not finish within mail.timeout
  //   kPermissionDenied    the server's address is refused by the SSRF guard
  //   kInvalidArgument     the URL is malformed or not smtp(s), or an
  //                        address is empty or holds CR, LF, '<' or '>'
  // When the server replied, the message reads "SMTP <code> <text>" and
  // SmtpReplyCode(status) is that code.
  virtual absl::StatusOr<MailReply> Send(const MailEnvelope& mail) = 0;
};

// Attaches an SMTP reply code to a failed status (for MailTransport
// implementations), so callers need not parse the message.
void SetSmtpReplyCode(absl::Status& status, int code);
// The SMTP reply code SetSmtpReplyCode attached, or nullopt when the server
// did not answer (or `status` is OK).
std::optional<int> SmtpReplyCode(const absl::Status& status);

}  // namespace alerthub

#endif  // ALERTHUB_PORTS_HTTP_CLIENT_H_
