// Small files AlertHub keeps beside its data: keys and the bootstrap API key.
//
//   ALERTHUB_RETURN_IF_ERROR(WritePrivateFile(path, pem));  // 0600, durable
//   ALERTHUB_ASSIGN_OR_RETURN(std::string pem, ReadSmallFile(path));
#ifndef ALERTHUB_COMMON_FILES_H_
#define ALERTHUB_COMMON_FILES_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace alerthub {

// Writes `content` to `path` readable by the owner only (0600 from the
// start: no window where others can read it), durably: a temporary file is
// fsynced and renamed over `path`, so a crash leaves the old file or the new
// one, never a torn one. kPermissionDenied / kInternal naming the path.
absl::Status WritePrivateFile(const std::string& path, absl::string_view content);

// The whole of `path` (at most `max_bytes`). kNotFound when it does not
// exist, kFailedPrecondition when it is larger, kPermissionDenied otherwise.
absl::StatusOr<std::string> ReadSmallFile(const std::string& path, size_t max_bytes = 1 << 20);

// True when `path` exists (any type).
bool FileExists(const std::string& path);

}  // namespace alerthub

#endif  // ALERTHUB_COMMON_FILES_H_
