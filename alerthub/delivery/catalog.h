// Catalog: the tenant-scoped management of integrations and templates behind
// `/api/v1/integrations` and `/api/v1/templates` (and alerthub::Client),
// transport-free. It validates requests with field-level errors, generates
// webhook signing secrets, seals secrets before they reach the store
// (SecretBox) and checks that templates render.
//
//   Catalog catalog(&store, &secret_box, clock);
//   ALERTHUB_ASSIGN_OR_RETURN(CreatedIntegration c,
//                             catalog.CreateIntegration(tenant_id, request_json));
//   // c.generated_secret is shown to the caller once, never again.
//   nlohmann::json shown = IntegrationToJson(c.integration, SecretHandling::kRedact);
//
// Thread-safe.
#ifndef ALERTHUB_DELIVERY_CATALOG_H_
#define ALERTHUB_DELIVERY_CATALOG_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "alerthub/delivery/secret_box.h"
#include "alerthub/model/integration.h"
#include "alerthub/model/template.h"
#include "alerthub/ports/clock.h"
#include "alerthub/ports/store.h"
#include "nlohmann/json.hpp"

namespace alerthub {

struct CreatedIntegration {
  Integration integration;  // as stored (secrets sealed)
  // The webhook signing secret generated because the request had none;
  // empty otherwise. Shown once.
  std::string generated_secret;
};

// Applies the JSON merge patch (RFC 7396) `patch` to `target`: members of an
// object patch are merged recursively, null members removed, anything else
// replaces. The PATCH routes' semantics.
void ApplyMergePatch(nlohmann::json& target, const nlohmann::json& patch);

class Catalog {
 public:
  // `store`, `secrets` and `clock` must outlive the catalog.
  Catalog(Store* store, const SecretBox* secrets, Clock* clock)
      : store_(store), secrets_(secrets), clock_(clock) {}

  // --- Integrations (results carry sealed secrets: redact them for output,
  // or Open them for sending) ---
  // kInvalidArgument with field errors for a bad request.
  absl::StatusOr<CreatedIntegration> CreateIntegration(absl::string_view tenant_id,
                                                       const nlohmann::json& request);
  absl::StatusOr<Integration> GetIntegration(absl::string_view tenant_id,
                                             absl::string_view id);
  absl::StatusOr<Page<Integration>> ListIntegrations(absl::string_view tenant_id,
                                                     const IntegrationFilter& filter,
                                                     const PageRequest& page);
  // A JSON merge patch (RFC 7396) of {"name", "config", "enabled",
  // "default", "retry"}; "config" is merged into the current config member by member
  // (null removes one), and a secret given as "[redacted]" keeps its current
  // value, so a GET body can be edited and sent back. The channel cannot
  // change. The result is validated like a create.
  absl::StatusOr<Integration> PatchIntegration(absl::string_view tenant_id,
                                               absl::string_view id,
                                               const nlohmann::json& patch);
  absl::Status DeleteIntegration(absl::string_view tenant_id, absl::string_view id);
  // The integration with its secrets decrypted, for a sender.
  absl::StatusOr<Integration> OpenIntegration(Integration sealed) const;
  // Turns an integration off (a 410 from its endpoint).
  absl::Status DisableIntegration(absl::string_view tenant_id, absl::string_view id);

  // --- Templates ---
  // kInvalidArgument with field errors, including "fields.<name>" when a
  // field does not render (malformed mustache, invalid JSON output).
  absl::StatusOr<Template> CreateTemplate(absl::string_view tenant_id,
                                          const nlohmann::json& request);
  absl::StatusOr<Template> GetTemplate(absl::string_view tenant_id, absl::string_view id);
  absl::StatusOr<Page<Template>> ListTemplates(absl::string_view tenant_id,
                                               const PageRequest& page);
  // A merge patch of {"name", "fields"} ("fields" merged field by field; null
  // removes one). The channel cannot change.
  absl::StatusOr<Template> PatchTemplate(absl::string_view tenant_id, absl::string_view id,
                                         const nlohmann::json& patch);
  absl::Status DeleteTemplate(absl::string_view tenant_id, absl::string_view id);

  Store& store() const { return *store_; }
  Clock& clock() const { return *clock_; }
  const SecretBox& secrets() const { return *secrets_; }

 private:
  Store* const store_;
  const SecretBox* const secrets_;
  Clock* const clock_;
};

}  // namespace alerthub

#endif  // ALERTHUB_DELIVERY_CATALOG_H_
