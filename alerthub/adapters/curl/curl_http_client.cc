// HttpClient over libcurl's easy interface (see curl_transport.h).
#include <curl/curl.h>

#include <memory>
#include <string>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "alerthub/adapters/curl/curl_transport.h"
#include "alerthub/adapters/curl/internal/curl_common.h"

namespace alerthub {
namespace {

using curl_internal::EasyLease;
using curl_internal::EasyPool;
using curl_internal::PinnedDestination;
using curl_internal::SList;
using curl_internal::SocketGuard;

// Where the callbacks put the answer.
struct Answer {
  HttpResponse response;
};

size_t OnBody(char* data, size_t size, size_t n, void* user) {
  auto* answer = static_cast<Answer*>(user);
  const size_t bytes = size * n;
  std::string& body = answer->response.body;
  const size_t room = kMaxHttpResponseBodyBytes - std::min(body.size(), kMaxHttpResponseBodyBytes);
  if (bytes > room) answer->response.body_truncated = true;
  body.append(data, std::min(bytes, room));
  // The rest is read and dropped, so the connection stays usable.
  return bytes;
}

size_t OnHeader(char* data, size_t size, size_t n, void* user) {
  auto* answer = static_cast<Answer*>(user);
  const size_t bytes = size * n;
  absl::string_view line(data, bytes);
  HttpHeaders& headers = answer->response.headers;
  if (absl::StartsWith(line, "HTTP/")) {
    headers.clear();  // a new response (after a 1xx interim one)
    return bytes;
  }
  if (!line.empty() && (line[0] == ' ' || line[0] == '\t')) {
    // An obsolete folded continuation of the previous field.
    if (!headers.empty()) {
      absl::StrAppend(&headers.back().second, " ", absl::StripAsciiWhitespace(line));
    }
    return bytes;
  }
  const size_t colon = line.find(':');
  if (colon == absl::string_view::npos) return bytes;  // the blank line ending them
  headers.emplace_back(std::string(absl::StripAsciiWhitespace(line.substr(0, colon))),
                       std::string(absl::StripAsciiWhitespace(line.substr(colon + 1))));
  return bytes;
}

bool HasLineBreak(absl::string_view s) { return s.find_first_of("\r\n") != s.npos; }

bool IsToken(absl::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) &&
        !absl::StrContains("!#$%&'*+-.^_`|~", c)) {
      return false;
    }
  }
  return true;
}

class CurlHttpClient final : public HttpClient {
 public:
  explicit CurlHttpClient(const CurlOptions& options)
      : policy_(options.ssrf),
        pool_(options.max_connections_per_host, options.max_idle_connections) {}

  absl::StatusOr<HttpResponse> Send(const HttpRequest& request) override {
    const absl::Time deadline = absl::Now() + request.timeout;
    if (!IsToken(request.method)) {
      return absl::InvalidArgumentError(
          absl::StrCat("HTTP method \"", request.method, "\" is not a token"));
    }
    absl::StatusOr<std::vector<ResolvedAddress>> addrs = ResolveAndVet(request.url, policy_);
    if (!addrs.ok()) return addrs.status();
    // The guard accepted only http:// and https:// URLs, in any case.
    const absl::string_view scheme =
        absl::string_view(request.url).substr(0, request.url.find(':'));
    const PinnedDestination pinned = curl_internal::Pin(scheme, *addrs);
    const std::string what = absl::StrCat(request.method, " ", pinned.origin);

    SList headers;
    bool has_content_type = false;
    bool ok = true;
    for (const auto& [name, value] : request.headers) {
      if (!IsToken(name) || HasLineBreak(value)) {
        return absl::InvalidArgumentError(absl::StrCat(what, ": header \"", absl::CEscape(name),
                                                       "\" has a bad name or a line break"));
      }
      if (absl::EqualsIgnoreCase(name, "Content-Type")) has_content_type = true;
      // "Name;" is curl's way to send a header with an empty value.
      ok &= value.empty() ? headers.Append(absl::StrCat(name, ";"))
                          : headers.Append(absl::StrCat(name, ": ", value));
    }
    // No "Expect: 100-continue" round trip before larger bodies, and no
    // Content-Type of curl's choosing.
    ok &= headers.Append("Expect:");
    if (!has_content_type) ok &= headers.Append("Content-Type:");
    SList resolve;
    for (const std::string& entry : pinned.resolve) ok &= resolve.Append(entry);
    if (!ok) return absl::ResourceExhaustedError(absl::StrCat(what, ": out of memory"));

    absl::StatusOr<CURL*> handle = pool_.Acquire(pinned.origin, deadline);
    if (!handle.ok()) return handle.status();
    EasyLease lease(&pool_, pinned.origin, *handle);
    CURL* curl = lease.get();
    // Reset keeps the handle's open connection, the point of pooling.
    curl_easy_reset(curl);

    Answer answer;
    SocketGuard guard{&policy_, absl::OkStatus()};
    char error[CURL_ERROR_SIZE] = {0};
    curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, curl_internal::MillisUntil(deadline));
    curl_easy_setopt(curl, CURLOPT_MAXCONNECTS, 1L);
    curl_easy_setopt(curl, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
    if (resolve.get() != nullptr) curl_easy_setopt(curl, CURLOPT_RESOLVE, resolve.get());
    curl_easy_setopt(curl, CURLOPT_OPENSOCKETFUNCTION, &curl_internal::VettedOpenSocket);
    curl_easy_setopt(curl, CURLOPT_OPENSOCKETDATA, &guard);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers.get());
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &OnBody);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &answer);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, &OnHeader);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &answer);
    if (request.method == "GET" && request.body.empty()) {
      curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
    } else if (request.method == "HEAD" && request.body.empty()) {
      curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
    } else {
      if (request.method != "POST") {
        curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
      }
      if (request.method == "POST" || !request.body.empty()) {
        // Sent from the request's own buffer, without a copy.
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                         static_cast<curl_off_t>(request.body.size()));
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.data());
      }
    }

    const CURLcode code = curl_easy_perform(curl);
    if (!guard.refused.ok()) {
      lease.MarkBroken();
      return guard.refused;
    }
    if (code != CURLE_OK) {
      lease.MarkBroken();
      return curl_internal::StatusFromCurl(code, what, error, request.timeout);
    }
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    answer.response.status = static_cast<int>(status);
    return std::move(answer.response);
  }

 private:
  const SsrfPolicy policy_;
  EasyPool pool_;
};

}  // namespace

std::unique_ptr<HttpClient> NewCurlHttpClient(const CurlOptions& options) {
  return std::make_unique<CurlHttpClient>(options);
}

}  // namespace alerthub
