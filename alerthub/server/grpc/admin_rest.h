// The admin API's REST mapping (ARCHITECTURE §4): the same operations as the
// gRPC services (admin_services.h), with request and response bodies in
// protobuf's JSON mapping (field names as in the .proto, enums by name,
// Timestamps in RFC 3339), on the daemon's HTTP server beside the other
// REST routes, with the same credentials and problem+json errors.
//
//   POST   /api/v1/api-keys        CreateApiKeyRequest  -> 201 CreateApiKeyResponse
//   GET    /api/v1/api-keys        ?prefix=&page_size=&page_token= -> ListApiKeysResponse
//   DELETE /api/v1/api-keys/{id}   -> 200 ApiKey (revoked)
//   POST   /api/v1/auth/login      LoginRequest   -> 200 TokenResponse
//   POST   /api/v1/auth/refresh    RefreshRequest -> 200 TokenResponse
//   POST   /api/v1/auth/logout     LogoutRequest  -> 204
// The auth routes take no credential header (the body carries it); token
// responses are sent with Cache-Control: no-store, bad credentials are 401,
// and a daemon without a JWT signing key answers 503.
#ifndef ALERTHUB_SERVER_GRPC_ADMIN_REST_H_
#define ALERTHUB_SERVER_GRPC_ADMIN_REST_H_

#include "alerthub/auth/credentials.h"
#include "alerthub/server/grpc/admin_services.h"
#include "alerthub/server/grpc/auth_services.h"
#include "alerthub/server/http/router.h"

namespace alerthub::server {

class AdminRest {
 public:
  // Each must outlive this; `auth` may be null (no /api/v1/auth routes).
  AdminRest(const RequestAuthenticator* authenticator, ApiKeyOperations* api_keys,
            AuthOperations* auth = nullptr)
      : authenticator_(authenticator), api_keys_(api_keys), auth_(auth) {}

  void Register(http::Router& router);

 private:
  const RequestAuthenticator* const authenticator_;
  ApiKeyOperations* const api_keys_;
  AuthOperations* const auth_;
};

}  // namespace alerthub::server

#endif  // ALERTHUB_SERVER_GRPC_ADMIN_REST_H_
