#include "alerthub/common/files.h"

#include <sys/stat.h>

#include <cstdlib>
#include <string>

#include "alerthub/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace alerthub {
namespace {

using ::absl::StatusCode;
using ::alerthub::testing::StatusIs;

std::string TempPath(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return std::string(dir != nullptr ? dir : "/tmp") + "/" + name;
}

TEST(FilesTest, PrivateFilesAreOwnerOnlyAndReplacedWhole) {
  const std::string path = TempPath("key.pem");
  ASSERT_OK(WritePrivateFile(path, "first"));
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  ASSERT_OK(WritePrivateFile(path, std::string(100000, 'x')));
  ASSERT_OK_AND_ASSIGN(std::string back, ReadSmallFile(path));
  EXPECT_EQ(back, std::string(100000, 'x'));
  EXPECT_FALSE(FileExists(path + ".tmp"));
  EXPECT_TRUE(FileExists(path));
}

TEST(FilesTest, ErrorsNameThePath) {
  EXPECT_THAT(ReadSmallFile(TempPath("absent")), StatusIs(StatusCode::kNotFound));
  EXPECT_FALSE(FileExists(TempPath("absent")));
  EXPECT_THAT(WritePrivateFile(TempPath("no/such/dir/key"), "x"),
              StatusIs(StatusCode::kNotFound, ::testing::HasSubstr("no/such/dir")));
  const std::string big = TempPath("big");
  ASSERT_OK(WritePrivateFile(big, std::string(20, 'x')));
  EXPECT_THAT(ReadSmallFile(big, 10), StatusIs(StatusCode::kFailedPrecondition));
}

}  // namespace
}  // namespace alerthub
