// The libcurl adapter of the outbound transports (ports/http_client.h):
// HTTP(S) for webhooks and providers, SMTP(S) for e-mail. Besides
// alerthub/remote, this is the only code that links libcurl.
//
//   CurlOptions options;
//   options.ssrf.allow_private_networks = flags.allow_private_networks;
//   std::unique_ptr<HttpClient> http = NewCurlHttpClient(options);
//   std::unique_ptr<MailTransport> mail = NewCurlMailTransport(options);
//   std::unique_ptr<ChannelSender> senders =
//       NewChannelSenders(ChannelOptions{}, http.get(), mail.get());
//
// Every destination passes the SSRF guard (delivery/ssrf_guard.h) before
// anything is sent: the URL's host is resolved once and vetted
// (ResolveAndVet), curl is pinned to the vetted addresses (CURLOPT_RESOLVE,
// so no second DNS answer can redirect the request), and every socket curl
// opens is vetted again (VetSockaddr from CURLOPT_OPENSOCKETFUNCTION).
// Redirects are never followed, only http/https (smtp/smtps for mail) are
// spoken, proxies from the environment are bypassed, and no signals are
// used (the transports are called from many threads).
//
// Connections are kept alive and reused: a finished request returns its
// curl handle, with the handle's open connection, to a pool keyed by origin
// (scheme, host, port), and the next request to that origin takes it.
#ifndef ALERTHUB_ADAPTERS_CURL_CURL_TRANSPORT_H_
#define ALERTHUB_ADAPTERS_CURL_CURL_TRANSPORT_H_

#include <cstddef>
#include <memory>

#include "alerthub/delivery/ssrf_guard.h"
#include "alerthub/ports/http_client.h"

namespace alerthub {

struct CurlOptions {
  // Which destinations may be reached. Deliveries to loopback and private
  // networks are refused unless ssrf.allow_private_networks (tests and the
  // daemons' --allow_private_networks set it).
  SsrfPolicy ssrf;
  // At most this many requests (and so connections) to one origin at once;
  // further requests wait for one to finish, up to their own timeout
  // (kResourceExhausted when it passes). Protects receivers from a burst of
  // retries. At least 1.
  int max_connections_per_host = 16;
  // Idle handles (each holding one kept-alive connection) kept for reuse,
  // over all origins; more are closed when they finish.
  size_t max_idle_connections = 64;
};

// An HttpClient over libcurl. Thread-safe. Returns the transport codes the
// port documents; error messages name the method and origin, never the
// URL's path or query (which may hold a secret).
std::unique_ptr<HttpClient> NewCurlHttpClient(const CurlOptions& options);

// A MailTransport over libcurl's SMTP: EHLO, STARTTLS when an smtp:// server
// offers it (CURLUSESSL_TRY; smtps:// is TLS from the start), AUTH when a
// username is given (over TLS when the server offers it), MAIL FROM, one RCPT
// TO per recipient, DATA with the message (dot-stuffed by curl). Thread-safe.
std::unique_ptr<MailTransport> NewCurlMailTransport(const CurlOptions& options);

}  // namespace alerthub

#endif  // ALERTHUB_ADAPTERS_CURL_CURL_TRANSPORT_H_
