// MailTransport over libcurl's SMTP (see curl_transport.h).
#include <curl/curl.h>

#include <algorithm>
#include <memory>
#include <string>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "alerthub/adapters/curl/curl_transport.h"
#include "alerthub/adapters/curl/internal/curl_common.h"

namespace alerthub {
namespace {

using curl_internal::EasyLease;
using curl_internal::EasyPool;
using curl_internal::PinnedDestination;
using curl_internal::SList;
using curl_internal::SocketGuard;

// A reply longer than this is cut: it only explains a failure to people.
constexpr size_t kMaxReplyTextBytes = 1024;

// The message, handed to curl in pieces (CURLOPT_READFUNCTION).
struct Upload {
  absl::string_view rest;
};

size_t OnRead(char* buffer, size_t size, size_t n, void* user) {
  auto* upload = static_cast<Upload*>(user);
  const size_t bytes = std::min(size * n, upload->rest.size());
  std::copy_n(upload->rest.data(), bytes, buffer);
  upload->rest.remove_prefix(bytes);
  return bytes;
}

// The server's replies, as curl hands every reply line to the header
// callback: "250-first line", ..., "250 last line".
struct Replies {
  std::string current;  // the lines of the reply being read
  int last_code = 0;
  std::string last_text;  // the last complete reply
  // The last refusal (4xx/5xx): after one, curl still sends QUIT, whose
  // "221" answer then is the last reply.
  int refusal_code = 0;
  std::string refusal_text;
};

size_t OnReplyLine(char* data, size_t size, size_t n, void* user) {
  auto* replies = static_cast<Replies*>(user);
  const size_t bytes = size * n;
  const absl::string_view line = absl::StripTrailingAsciiWhitespace(absl::string_view(data, bytes));
  int code = 0;
  if (line.size() < 3 || !absl::SimpleAtoi(line.substr(0, 3), &code)) return bytes;
  const absl::string_view text =
      line.size() > 4 ? absl::StripAsciiWhitespace(line.substr(4)) : absl::string_view();
  if (replies->current.size() < kMaxReplyTextBytes) {
    if (!replies->current.empty()) replies->current.push_back(' ');
    const absl::string_view kept = text.substr(0, kMaxReplyTextBytes - replies->current.size());
    replies->current.append(kept.data(), kept.size());
  }
  if (line.size() == 3 || line[3] == ' ') {  // the reply's last line
    replies->last_code = code;
    replies->last_text = std::move(replies->current);
    replies->current.clear();
    if (code >= 400) {
      replies->refusal_code = code;
      replies->refusal_text = replies->last_text;
    }
  }
  return bytes;
}

// An address for MAIL FROM / RCPT TO: no line breaks (command injection), no
// angle brackets (the transport adds them).
absl::Status CheckAddress(absl::string_view address, absl::string_view field) {
  if (address.empty()) return absl::InvalidArgumentError(absl::StrCat(field, " is empty"));
  if (address.find_first_of("\r\n<>") != absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, " must be a bare address without CR, LF, '<' or '>'"));
  }
  return absl::OkStatus();
}

class CurlMailTransport final : public MailTransport {
 public:
  explicit CurlMailTransport(const CurlOptions& options)
      : policy_(options.ssrf),
        pool_(options.max_connections_per_host, options.max_idle_connections) {}

  absl::StatusOr<MailReply> Send(const MailEnvelope& mail) override {
    const absl::Time deadline = absl::Now() + mail.timeout;
    if (absl::Status s = CheckAddress(mail.from, "sender"); !s.ok()) return s;
    if (mail.to.empty()) return absl::InvalidArgumentError("no recipients");
    for (const std::string& to : mail.to) {
      if (absl::Status s = CheckAddress(to, "recipient"); !s.ok()) return s;
    }
    absl::StatusOr<curl_internal::UrlParts> url =
        curl_internal::ParseUrl(mail.smtp_url, {"smtp", "smtps"});
    if (!url.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("SMTP URL: ", url.status().message()));
    }
    if (url->has_user_info) {
      return absl::InvalidArgumentError(
          "SMTP URL must not hold credentials; use the username and password");
    }
    absl::StatusOr<PinnedDestination> pinned =
        curl_internal::VetDestination(url->scheme, url->host, url->port, policy_);
    if (!pinned.ok()) return pinned.status();
    const std::string what = absl::StrCat("SMTP ", pinned->origin);

    bool ok = true;
    SList recipients;
    for (const std::string& to : mail.to) ok &= recipients.Append(absl::StrCat("<", to, ">"));
    SList resolve;
    for (const std::string& entry : pinned->resolve) ok &= resolve.Append(entry);
    if (!ok) return absl::ResourceExhaustedError(absl::StrCat(what, ": out of memory"));
    const std::string from = absl::StrCat("<", mail.from, ">");

    absl::StatusOr<CURL*> handle = pool_.Acquire(pinned->origin, deadline);
    if (!handle.ok()) return handle.status();
    EasyLease lease(&pool_, pinned->origin, *handle);
    CURL* curl = lease.get();
    curl_easy_reset(curl);

    Upload upload{mail.message};
    Replies replies;
    SocketGuard guard{&policy_, absl::OkStatus()};
    char error[CURL_ERROR_SIZE] = {0};
    curl_easy_setopt(curl, CURLOPT_URL, mail.smtp_url.c_str());
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, curl_internal::MillisUntil(deadline));
    curl_easy_setopt(curl, CURLOPT_MAXCONNECTS, 1L);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
    if (resolve.get() != nullptr) curl_easy_setopt(curl, CURLOPT_RESOLVE, resolve.get());
    curl_easy_setopt(curl, CURLOPT_OPENSOCKETFUNCTION, &curl_internal::VettedOpenSocket);
    curl_easy_setopt(curl, CURLOPT_OPENSOCKETDATA, &guard);
    // smtp://: STARTTLS when offered; smtps:// is TLS from the start anyway.
    curl_easy_setopt(curl, CURLOPT_USE_SSL,
                     static_cast<long>(url->scheme == "smtps" ? CURLUSESSL_ALL : CURLUSESSL_TRY));
    if (!mail.username.empty()) {
      curl_easy_setopt(curl, CURLOPT_USERNAME, mail.username.c_str());
      curl_easy_setopt(curl, CURLOPT_PASSWORD, mail.password.c_str());
    }
    curl_easy_setopt(curl, CURLOPT_MAIL_FROM, from.c_str());
    curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, recipients.get());
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, &OnRead);
    curl_easy_setopt(curl, CURLOPT_READDATA, &upload);
    curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(mail.message.size()));
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, &OnReplyLine);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &replies);

    const CURLcode code = curl_easy_perform(curl);
    if (!guard.refused.ok()) {
      lease.MarkBroken();
      return guard.refused;
    }
    long reply_code = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &reply_code);
    if (code == CURLE_OK) {
      return MailReply{static_cast<int>(reply_code), std::move(replies.last_text)};
    }
    lease.MarkBroken();
    // A refusal by the server decides; anything else is the transport's.
    if (reply_code >= 400 && reply_code <= 599) {
      const std::string text = replies.refusal_code == reply_code ? replies.refusal_text : error;
      const std::string message = absl::StrCat(what, ": SMTP ", reply_code, " ", text);
      absl::Status status = reply_code >= 500 ? absl::FailedPreconditionError(message)
                                              : absl::UnavailableError(message);
      SetSmtpReplyCode(status, static_cast<int>(reply_code));
      return status;
    }
    return curl_internal::StatusFromCurl(code, what, error, mail.timeout);
  }

 private:
  const SsrfPolicy policy_;
  EasyPool pool_;
};

}  // namespace

std::unique_ptr<MailTransport> NewCurlMailTransport(const CurlOptions& options) {
  return std::make_unique<CurlMailTransport>(options);
}

}  // namespace alerthub
