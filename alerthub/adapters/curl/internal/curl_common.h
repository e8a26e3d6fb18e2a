// Pieces the curl HTTP client and mail transport share: one-time global
// initialisation, the pool of easy handles, the socket vetting callback, the
// SSRF pinning and the mapping of curl's result codes to absl::Status.
// Private to //alerthub/adapters/curl.
#ifndef ALERTHUB_ADAPTERS_CURL_INTERNAL_CURL_COMMON_H_
#define ALERTHUB_ADAPTERS_CURL_INTERNAL_CURL_COMMON_H_

#include <curl/curl.h>

#include <cstddef>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "alerthub/delivery/ssrf_guard.h"

namespace alerthub::curl_internal {

// curl_global_init, once per process, before the first handle is made
// (it is not thread-safe in every libcurl build).
void GlobalInit();

// Easy handles for reuse, keyed by origin ("https://host:443"). A handle
// keeps its connection open after a transfer (and curl_easy_reset keeps
// it), so taking the handle that last talked to an origin reuses its
// connection. Also bounds the requests in flight per origin. Thread-safe.
class EasyPool {
 public:
  // REQUIRES: max_in_flight_per_origin >= 1.
  EasyPool(int max_in_flight_per_origin, size_t max_idle);
  ~EasyPool();

  EasyPool(const EasyPool&) = delete;
  EasyPool& operator=(const EasyPool&) = delete;

  // A handle for one transfer to `origin`, waiting while
  // max_in_flight_per_origin transfers to it are running.
  //   kResourceExhausted  still full at `deadline`
  //   kInternal           curl_easy_init failed
  // Every handle acquired must be given back with Release.
  absl::StatusOr<CURL*> Acquire(const std::string& origin, absl::Time deadline);

  // Returns a handle Acquire gave for `origin`; it is kept for the next
  // transfer there, or closed when `reusable` is false or the pool is full.
  void Release(const std::string& origin, CURL* handle, bool reusable);

 private:
  struct Origin {
    int in_flight = 0;
    std::vector<CURL*> idle;  // most recently used last
  };
  struct SlotFree {
    const EasyPool* pool;
    const std::string* origin;
  };
  static bool HasFreeSlot(const SlotFree* args) ABSL_EXCLUSIVE_LOCKS_REQUIRED(args->pool->mu_);

  const int max_in_flight_;
  const size_t max_idle_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, Origin> origins_ ABSL_GUARDED_BY(mu_);
  size_t idle_count_ ABSL_GUARDED_BY(mu_) = 0;
};

// A handle taken from an EasyPool for one transfer, given back when
// destroyed (reusable unless MarkBroken was called).
class EasyLease {
 public:
  EasyLease(EasyPool* pool, std::string origin, CURL* handle)
      : pool_(pool), origin_(std::move(origin)), handle_(handle) {}
  ~EasyLease() { pool_->Release(origin_, handle_, reusable_); }
  EasyLease(const EasyLease&) = delete;
  EasyLease& operator=(const EasyLease&) = delete;

  CURL* get() const { return handle_; }
  void MarkBroken() { reusable_ = false; }

 private:
  EasyPool* pool_;
  std::string origin_;
  CURL* handle_;
  bool reusable_ = true;
};

// A curl_slist freed when destroyed.
class SList {
 public:
  SList() = default;
  ~SList() { curl_slist_free_all(list_); }
  SList(const SList&) = delete;
  SList& operator=(const SList&) = delete;

  // Copies `line` (curl copies the string). False when out of memory.
  bool Append(const std::string& line);
  curl_slist* get() const { return list_; }

 private:
  curl_slist* list_ = nullptr;
};

// Per-transfer state of VettedOpenSocket (CURLOPT_OPENSOCKETDATA).
struct SocketGuard {
  const SsrfPolicy* policy = nullptr;
  // Why a socket was refused; OK while none was.
  absl::Status refused;
};

// CURLOPT_OPENSOCKETFUNCTION: vets the address curl is about to connect to
// (VetSockaddr) and opens the socket only when it is allowed; records the
// refusal in the SocketGuard otherwise.
curl_socket_t VettedOpenSocket(void* clientp, curlsocktype purpose, struct curl_sockaddr* address);

// What vetting a destination found: where it may be connected to.
struct PinnedDestination {
  // "scheme://host:port" (the scheme in lower case), the pool key and the
  // name of the destination in error messages.
  std::string origin;
  // CURLOPT_RESOLVE entries: drop any older pin for host:port, then pin it
  // to the vetted addresses. Empty for IP literals (nothing to resolve).
  std::vector<std::string> resolve;
};

// Pins a URL with `scheme` to `addrs`, as ResolveAndVet returned them for it.
// REQUIRES: `addrs` is not empty.
PinnedDestination Pin(absl::string_view scheme, const std::vector<ResolvedAddress>& addrs);

// Runs the SSRF guard on `scheme`://`host`:`port` (the host as curl's URL
// parser gives it, IPv6 in brackets) and pins it: kInvalidArgument,
// kPermissionDenied or kUnavailable as ResolveAndVet reports them.
absl::StatusOr<PinnedDestination> VetDestination(absl::string_view scheme, absl::string_view host,
                                                 int port, const SsrfPolicy& policy);

// The parts of `url` curl will use (curl's own URL parser, so what is vetted
// is what is connected to): scheme in lower case, host, port (the scheme's
// default when absent), and whether it has user info. kInvalidArgument when
// curl cannot parse it or its scheme is not in `schemes`.
struct UrlParts {
  std::string scheme;
  std::string host;
  int port = 0;
  bool has_user_info = false;
};
absl::StatusOr<UrlParts> ParseUrl(const std::string& url,
                                  std::initializer_list<absl::string_view> schemes);

// The status for a failed transfer: kDeadlineExceeded for timeouts,
// kUnavailable for DNS, connection, TLS and protocol failures,
// kInvalidArgument for URL errors, kResourceExhausted when out of memory,
// kInternal otherwise. `what` names the transfer ("POST
// https://example.com:443"); `detail` is curl's error buffer.
absl::Status StatusFromCurl(CURLcode code, absl::string_view what, const char* detail,
                            absl::Duration timeout);

// The milliseconds left until `deadline`, at least 1 (0 would mean "no
// timeout" to curl).
long MillisUntil(absl::Time deadline);

}  // namespace alerthub::curl_internal

#endif  // ALERTHUB_ADAPTERS_CURL_INTERNAL_CURL_COMMON_H_
