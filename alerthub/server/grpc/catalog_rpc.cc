#include "alerthub/server/grpc/catalog_rpc.h"

#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <string>

#include "absl/strings/str_cat.h"
#include "alerthub/common/status.h"
#include "alerthub/common/uuid.h"

namespace alerthub::server::catalog_rpc {

absl::Status JsonToMessage(const nlohmann::json& j, google::protobuf::Message* out) {
  out->Clear();
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  const auto s = google::protobuf::util::JsonStringToMessage(j.dump(), out, options);
  if (!s.ok()) {
    return absl::InternalError(absl::StrCat("cannot convert JSON to ", out->GetTypeName(), ": ",
                                            s.ToString()));
  }
  return absl::OkStatus();
}

nlohmann::json MessageToJson(const google::protobuf::Message& m) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  std::string text;
  // Messages without Any fields always print.
  if (!google::protobuf::util::MessageToJsonString(m, &text, options).ok()) {
    return nlohmann::json::object();
  }
  return nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
}

absl::StatusOr<std::string> RequestObjectId(absl::string_view id, absl::string_view field,
                                            absl::string_view what) {
  if (id.empty()) {
    return InvalidArgumentWithFields("invalid request", {{std::string(field), "is required"}});
  }
  std::string lower = absl::AsciiStrToLower(id);
  if (!IsUuid(lower)) return absl::NotFoundError(absl::StrCat("no ", what, " ", id));
  return lower;
}

absl::StatusOr<RoutingCatalog*> LoadCatalog(const std::atomic<RoutingCatalog*>& catalog) {
  RoutingCatalog* loaded = catalog.load();
  if (loaded == nullptr) return absl::UnavailableError("the admin API is starting; retry");
  return loaded;
}

namespace {

absl::Status BadMaskPath(absl::string_view path, absl::string_view why) {
  std::string what = absl::StrCat("\"", path, "\" ", why);
  return InvalidArgumentWithFields(absl::StrCat("invalid update_mask: ", what),
                                   {{"update_mask.paths", what}});
}

bool Contains(const std::vector<absl::string_view>& paths, absl::string_view path) {
  return std::find(paths.begin(), paths.end(), path) != paths.end();
}

}  // namespace

absl::Status ApplyUpdateMask(const google::protobuf::FieldMask& mask, const MaskedFields& fields,
                             const nlohmann::json& given, nlohmann::json* body) {
  std::vector<absl::string_view> paths(mask.paths().begin(), mask.paths().end());
  if (paths.empty()) paths = fields.replaceable;
  for (absl::string_view path : paths) {
    if (Contains(fields.immutable, path)) return BadMaskPath(path, "cannot be changed");
    if (!Contains(fields.replaceable, path)) {
      return BadMaskPath(path, absl::StrCat("is not a field of ", fields.message,
                                            " that can be updated"));
    }
    const std::string key(path);
    if (given.contains(key)) {
      (*body)[key] = given[key];
    } else {
      body->erase(key);
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<Principal> Admit(const RequestAuthenticator& authenticator,
                                const grpc::ServerContext& context, Permission permission) {
  ALERTHUB_ASSIGN_OR_RETURN(Principal who, AuthenticateCall(authenticator, context));
  ALERTHUB_RETURN_IF_ERROR(Authorize(who, permission));
  return who;
}

}  // namespace alerthub::server::catalog_rpc
