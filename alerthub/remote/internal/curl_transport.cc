#include "alerthub/remote/internal/curl_transport.h"

#include <curl/curl.h>

#include <algorithm>
#include <cstdint>

#include "absl/base/call_once.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace alerthub::remote_internal {
namespace {

constexpr char kUserAgent[] = "alerthub-cpp-client/1";

// curl_global_init is not thread-safe in every libcurl build; run it once.
void GlobalInit() {
  static absl::once_flag once;
  absl::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct Collected {
  HttpResponse response;
  size_t max_bytes = 0;
  bool too_large = false;
};

size_t OnBody(char* data, size_t size, size_t n, void* user) {
  auto* c = static_cast<Collected*>(user);
  const size_t bytes = size * n;
  if (c->response.body.size() + bytes > c->max_bytes) {
    c->too_large = true;
    return 0;  // aborts the transfer (CURLE_WRITE_ERROR)
  }
  c->response.body.append(data, bytes);
  return bytes;
}

size_t OnHeader(char* data, size_t size, size_t n, void* user) {
  auto* c = static_cast<Collected*>(user);
  absl::string_view line(data, size * n);
  if (absl::StartsWith(line, "HTTP/")) {
    c->response.headers.clear();  // an interim (1xx) answer came first
    return line.size();
  }
  const size_t colon = line.find(':');
  if (colon != absl::string_view::npos) {
    std::string name = absl::AsciiStrToLower(absl::StripAsciiWhitespace(line.substr(0, colon)));
    c->response.headers[name] = std::string(absl::StripAsciiWhitespace(line.substr(colon + 1)));
  }
  return line.size();
}

// The connection was never made: nothing reached the server.
bool NeverConnected(CURLcode code) {
  return code == CURLE_COULDNT_CONNECT || code == CURLE_COULDNT_RESOLVE_HOST ||
         code == CURLE_COULDNT_RESOLVE_PROXY;
}

int64_t Millis(absl::Duration d) { return std::max<int64_t>(1, absl::ToInt64Milliseconds(d)); }

}  // namespace

CurlTransport::CurlTransport(CurlTransportOptions options) : options_(std::move(options)) {
  GlobalInit();
}

CurlTransport::~CurlTransport() {
  absl::MutexLock lock(&mu_);
  for (void* h : idle_) curl_easy_cleanup(static_cast<CURL*>(h));
}

void* CurlTransport::Acquire() {
  {
    absl::MutexLock lock(&mu_);
    if (!idle_.empty()) {
      void* h = idle_.back();
      idle_.pop_back();
      return h;
    }
  }
  return curl_easy_init();
}

void CurlTransport::Release(void* handle) {
  {
    absl::MutexLock lock(&mu_);
    if (idle_.size() < options_.max_idle_handles) {
      idle_.push_back(handle);
      return;
    }
  }
  curl_easy_cleanup(static_cast<CURL*>(handle));
}

absl::StatusOr<HttpResponse> CurlTransport::Send(const HttpRequest& request, bool* maybe_sent) {
  *maybe_sent = false;
  CURL* curl = static_cast<CURL*>(Acquire());
  if (curl == nullptr) return absl::InternalError("curl_easy_init failed");

  // Reset keeps the handle's open connections, which is the point of pooling.
  curl_easy_reset(curl);
  Collected collected;
  collected.max_bytes = options_.max_response_bytes;
  char error[CURL_ERROR_SIZE] = {0};
  const std::string url = absl::StrCat(options_.base_url, request.target);

  curl_slist* headers = nullptr;
  const std::string key_header = absl::StrCat("X-API-Key: ", options_.api_key);
  headers = curl_slist_append(headers, key_header.c_str());
  headers = curl_slist_append(headers, "Accept: application/json");
  // No "Expect: 100-continue" round trip before a larger body.
  headers = curl_slist_append(headers, "Expect:");
  std::vector<std::string> extra;
  extra.reserve(request.headers.size());
  for (const auto& [name, value] : request.headers) {
    extra.push_back(absl::StrCat(name, ": ", value));
    headers = curl_slist_append(headers, extra.back().c_str());
  }
  // POST and PUT carry the JSON body; GET and DELETE none.
  const bool with_body = request.method == "POST" || request.method == "PUT";
  if (with_body) headers = curl_slist_append(headers, "Content-Type: application/json");

  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);  // we run on caller threads
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(Millis(options_.timeout)));
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(Millis(std::min(options_.connect_timeout, options_.timeout))));
  curl_easy_setopt(curl, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(curl, CURLOPT_USERAGENT, kUserAgent);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &OnBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &collected);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, &OnHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &collected);
  if (with_body) {
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(request.body.size()));
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.data());
  } else {
    curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
  }
  // PUT and DELETE: the POST or GET above, under their own name.
  const bool custom = request.method != "GET" && request.method != "POST";
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, custom ? request.method.c_str() : nullptr);

  const CURLcode code = curl_easy_perform(curl);
  long http_status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &http_status);
  // The pooled handle must not point at `error` or `headers` once they are gone.
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, static_cast<char*>(nullptr));
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, static_cast<curl_slist*>(nullptr));
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, static_cast<char*>(nullptr));
  curl_slist_free_all(headers);
  Release(curl);

  if (code != CURLE_OK) {
    *maybe_sent = !NeverConnected(code);
    if (collected.too_large) {
      return absl::InternalError(absl::StrCat(request.method, " ", request.target,
                                              ": the answer is larger than ",
                                              options_.max_response_bytes, " bytes"));
    }
    return absl::UnavailableError(
        absl::StrCat(request.method, " ", options_.base_url, request.target, ": ",
                     error[0] != '\0' ? error : curl_easy_strerror(code)));
  }
  *maybe_sent = true;
  collected.response.status = static_cast<int>(http_status);
  return std::move(collected.response);
}

}  // namespace alerthub::remote_internal
