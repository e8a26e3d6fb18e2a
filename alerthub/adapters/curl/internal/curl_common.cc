#include "alerthub/adapters/curl/internal/curl_common.h"

#include <sys/socket.h>

#include <algorithm>
#include <memory>
#include <utility>

#include "absl/base/call_once.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace alerthub::curl_internal {

void GlobalInit() {
  static absl::once_flag once;
  absl::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

EasyPool::EasyPool(int max_in_flight_per_origin, size_t max_idle)
    : max_in_flight_(std::max(1, max_in_flight_per_origin)), max_idle_(max_idle) {
  GlobalInit();
}

EasyPool::~EasyPool() {
  absl::MutexLock lock(&mu_);
  for (auto& [origin, state] : origins_) {
    for (CURL* handle : state.idle) curl_easy_cleanup(handle);
  }
}

bool EasyPool::HasFreeSlot(const SlotFree* args) {
  auto it = args->pool->origins_.find(*args->origin);
  return it == args->pool->origins_.end() || it->second.in_flight < args->pool->max_in_flight_;
}

absl::StatusOr<CURL*> EasyPool::Acquire(const std::string& origin, absl::Time deadline) {
  CURL* handle = nullptr;
  {
    absl::MutexLock lock(&mu_);
    const SlotFree args{this, &origin};
    if (!mu_.AwaitWithDeadline(absl::Condition(&EasyPool::HasFreeSlot, &args), deadline)) {
      return absl::ResourceExhaustedError(absl::StrCat(max_in_flight_, " requests to ", origin,
                                                       " are in flight and none finished in time"));
    }
    Origin& state = origins_[origin];
    ++state.in_flight;
    if (!state.idle.empty()) {
      handle = state.idle.back();
      state.idle.pop_back();
      --idle_count_;
      return handle;
    }
  }
  handle = curl_easy_init();
  if (handle == nullptr) {
    Release(origin, nullptr, false);
    return absl::InternalError("curl_easy_init failed");
  }
  return handle;
}

void EasyPool::Release(const std::string& origin, CURL* handle, bool reusable) {
  {
    absl::MutexLock lock(&mu_);
    auto it = origins_.find(origin);
    if (it != origins_.end()) {
      Origin& state = it->second;
      --state.in_flight;
      if (handle != nullptr && reusable && idle_count_ < max_idle_) {
        state.idle.push_back(handle);
        ++idle_count_;
        return;
      }
      if (state.in_flight == 0 && state.idle.empty()) origins_.erase(it);
    }
  }
  if (handle != nullptr) curl_easy_cleanup(handle);
}

bool SList::Append(const std::string& line) {
  curl_slist* grown = curl_slist_append(list_, line.c_str());
  if (grown == nullptr) return false;
  list_ = grown;
  return true;
}

curl_socket_t VettedOpenSocket(void* clientp, curlsocktype purpose, struct curl_sockaddr* address) {
  auto* guard = static_cast<SocketGuard*>(clientp);
  absl::Status vetted = VetSockaddr(&address->addr, *guard->policy);
  if (!vetted.ok()) {
    if (guard->refused.ok()) guard->refused = std::move(vetted);
    return CURL_SOCKET_BAD;
  }
  return socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
}

PinnedDestination Pin(absl::string_view scheme, const std::vector<ResolvedAddress>& addrs) {
  PinnedDestination pinned;
  const ResolvedAddress& first = addrs.front();
  const bool v6_literal = first.host == first.ip && first.family == AF_INET6;
  pinned.origin =
      absl::StrCat(absl::AsciiStrToLower(scheme), "://",
                   v6_literal ? absl::StrCat("[", first.host, "]") : first.host, ":", first.port);
  std::string entry = CurlResolveEntry(addrs);
  if (!entry.empty()) {
    // A handle's DNS cache outlives its transfers; drop what an earlier
    // transfer pinned before pinning again.
    pinned.resolve.push_back(absl::StrCat("-", first.host, ":", first.port));
    pinned.resolve.push_back(std::move(entry));
  }
  return pinned;
}

absl::StatusOr<PinnedDestination> VetDestination(absl::string_view scheme, absl::string_view host,
                                                 int port, const SsrfPolicy& policy) {
  // The guard reads http(s) URLs; the destination is what matters, so it
  // vets an equivalent one with the port spelt out.
  absl::StatusOr<std::vector<ResolvedAddress>> addrs =
      ResolveAndVet(absl::StrCat("http://", host, ":", port, "/"), policy);
  if (!addrs.ok()) return addrs.status();
  return Pin(scheme, *addrs);
}

absl::StatusOr<UrlParts> ParseUrl(const std::string& url,
                                  std::initializer_list<absl::string_view> schemes) {
  std::unique_ptr<CURLU, decltype(&curl_url_cleanup)> u(curl_url(), &curl_url_cleanup);
  if (u == nullptr) return absl::ResourceExhaustedError("curl_url failed");
  if (CURLUcode rc = curl_url_set(u.get(), CURLUPART_URL, url.c_str(), 0); rc != CURLUE_OK) {
    return absl::InvalidArgumentError(absl::StrCat("malformed URL: ", curl_url_strerror(rc)));
  }
  auto get = [&u](CURLUPart part, unsigned flags, std::string* out) {
    char* value = nullptr;
    if (curl_url_get(u.get(), part, &value, flags) != CURLUE_OK) return false;
    *out = value;
    curl_free(value);
    return true;
  };
  UrlParts parts;
  std::string port;
  if (!get(CURLUPART_SCHEME, 0, &parts.scheme) || !get(CURLUPART_HOST, 0, &parts.host) ||
      !get(CURLUPART_PORT, CURLU_DEFAULT_PORT, &port) || !absl::SimpleAtoi(port, &parts.port)) {
    return absl::InvalidArgumentError("malformed URL: no scheme, host or port");
  }
  absl::AsciiStrToLower(&parts.scheme);
  if (std::find(schemes.begin(), schemes.end(), parts.scheme) == schemes.end()) {
    return absl::InvalidArgumentError(
        absl::StrCat("unsupported URL scheme \"", parts.scheme, "\""));
  }
  std::string ignored;
  parts.has_user_info = get(CURLUPART_USER, 0, &ignored) || get(CURLUPART_PASSWORD, 0, &ignored);
  return parts;
}

absl::Status StatusFromCurl(CURLcode code, absl::string_view what, const char* detail,
                            absl::Duration timeout) {
  const absl::string_view text = detail != nullptr && detail[0] != '\0'
                                     ? absl::string_view(detail)
                                     : absl::string_view(curl_easy_strerror(code));
  switch (code) {
    case CURLE_OK:
      return absl::OkStatus();
    case CURLE_OPERATION_TIMEDOUT:
      return absl::DeadlineExceededError(absl::StrCat(
          what, ": no complete answer within ", absl::FormatDuration(timeout), " (", text, ")"));
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
      return absl::InvalidArgumentError(absl::StrCat(what, ": ", text));
    case CURLE_OUT_OF_MEMORY:
      return absl::ResourceExhaustedError(absl::StrCat(what, ": ", text));
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_HTTP3:
    case CURLE_QUIC_CONNECT_ERROR:
    case CURLE_BAD_CONTENT_ENCODING:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_USE_SSL_FAILED:
    case CURLE_LOGIN_DENIED:
    case CURLE_REMOTE_ACCESS_DENIED:
    case CURLE_UPLOAD_FAILED:
    case CURLE_READ_ERROR:
      return absl::UnavailableError(absl::StrCat(what, ": ", text));
    default:
      return absl::InternalError(
          absl::StrCat(what, ": curl error ", static_cast<int>(code), ": ", text));
  }
}

long MillisUntil(absl::Time deadline) {
  return std::max<long>(1, static_cast<long>(absl::ToInt64Milliseconds(deadline - absl::Now())));
}

}  // namespace alerthub::curl_internal
