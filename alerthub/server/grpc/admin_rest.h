// The admin API's REST mapping (ARCHITECTURE §4): the same operations as the
// gRPC services (admin_services.h), with request and response bodies in
// protobuf's JSON mapping (field names as in the .proto, enums by name,
// Timestamps in RFC 3339), on the daemon's HTTP server beside the other
// REST routes, with the same credentials and problem+json errors.
//
//   POST   /api/v1/api-keys        CreateApiKeyRequest  -> 201 CreateApiKeyResponse
//   GET    /api/v1/api-keys        ?prefix=&page_size=&page_token= -> ListApiKeysResponse
//   DELETE /api/v1/api-keys/{id}   -> 200 ApiKey (revoked)
#ifndef ALERTHUB_SERVER_GRPC_ADMIN_REST_H_
#define ALERTHUB_SERVER_GRPC_ADMIN_REST_H_

#include "alerthub/auth/credentials.h"
#include "alerthub/server/grpc/admin_services.h"
#include "alerthub/server/http/router.h"

namespace alerthub::server {

class AdminRest {
 public:
  // Both must outlive this.
  AdminRest(const RequestAuthenticator* authenticator, ApiKeyOperations* api_keys)
      : authenticator_(authenticator), api_keys_(api_keys) {}

  void Register(http::Router& router);

 private:
  const RequestAuthenticator* const authenticator_;
  ApiKeyOperations* const api_keys_;
};

}  // namespace alerthub::server

#endif  // ALERTHUB_SERVER_GRPC_ADMIN_REST_H_
