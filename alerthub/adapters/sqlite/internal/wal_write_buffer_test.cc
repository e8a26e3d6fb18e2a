#include "alerthub/adapters/sqlite/internal/wal_write_buffer.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "alerthub/adapters/sqlite/internal/connection.h"
#include "alerthub/common/status.h"
#include "alerthub/testing/status_matchers.h"
#include "gtest/gtest.h"

namespace alerthub::sqlite_internal {
namespace {

// write(2)-family calls this process has made (/proc/self/io "syscw").
int64_t WriteCalls() {
  std::ifstream io("/proc/self/io");
  std::string key;
  int64_t value = 0;
  while (io >> key >> value) {
    if (key == "syscw:") return value;
  }
  return -1;
}

class WalWriteBufferTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = absl::StrCat(::testing::TempDir(), "/walbuf-",
                         ::testing::UnitTest::GetInstance()->current_test_info()->name(), ".db");
    for (const char* suffix : {"", "-wal", "-shm"}) {
      std::remove(absl::StrCat(path_, suffix).c_str());
    }
    writer_ = Open(Connection::Mode::kReadWrite);
    ASSERT_OK(writer_->Exec(
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
        "CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB NOT NULL);"));
  }

  std::unique_ptr<Connection> Open(Connection::Mode mode) {
    absl::StatusOr<std::unique_ptr<Connection>> c =
        Connection::Open(path_, mode, absl::Seconds(5));
    EXPECT_OK(c.status());
    return c.ok() ? *std::move(c) : nullptr;
  }

  // Inserts `rows` rows of `bytes` random bytes each in one transaction,
  // with buffering on or off.
  absl::Status InsertRows(Connection& c, int rows, int bytes, bool buffered) {
    if (buffered) ALERTHUB_RETURN_IF_ERROR(SetWalWriteBuffering(c.raw(), true));
    absl::Status s = c.Exec(absl::StrCat(
        "BEGIN IMMEDIATE; WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ",
        rows, ") INSERT INTO t (v) SELECT randomblob(", bytes, ") FROM n; COMMIT;"));
    if (!s.ok() && !c.InAutocommit()) c.Exec("ROLLBACK").IgnoreError();
    if (buffered) {
      absl::Status off = SetWalWriteBuffering(c.raw(), false);
      if (s.ok()) s = off;
    }
    return s;
  }

  int64_t Count(Connection& c) {
    absl::StatusOr<Statement> s = c.Prepare("SELECT count(*) FROM t");
    EXPECT_OK(s.status());
    if (!s.ok()) return -1;
    absl::StatusOr<bool> row = s->Step();
    EXPECT_OK(row.status());
    return row.ok() && *row ? s->ColumnInt64(0) : -1;
  }

  std::string IntegrityCheck(Connection& c) {
    absl::StatusOr<Statement> s = c.Prepare("PRAGMA integrity_check");
    EXPECT_OK(s.status());
    if (!s.ok()) return "no statement";
    absl::StatusOr<bool> row = s->Step();
    return row.ok() && *row ? std::string(s->ColumnText(0)) : "no row";
  }

  std::string path_;
  std::unique_ptr<Connection> writer_;
};

TEST_F(WalWriteBufferTest, BufferedCommitIsSeenByReadersAndAfterReopening) {
  std::unique_ptr<Connection> reader = Open(Connection::Mode::kReadOnly);
  ASSERT_NE(reader, nullptr);
  EXPECT_EQ(Count(*reader), 0);
  ASSERT_OK(InsertRows(*writer_, 200, 1000, /*buffered=*/true));
  EXPECT_EQ(Count(*reader), 200);  // another connection reads the WAL file
  ASSERT_OK(InsertRows(*writer_, 50, 1000, /*buffered=*/false));
  ASSERT_OK(InsertRows(*writer_, 50, 1000, /*buffered=*/true));
  EXPECT_EQ(Count(*reader), 300);
  reader.reset();
  writer_.reset();
  writer_ = Open(Connection::Mode::kReadWrite);
  EXPECT_EQ(Count(*writer_), 300);
  EXPECT_EQ(IntegrityCheck(*writer_), "ok");
}

TEST_F(WalWriteBufferTest, ABufferedCommitMakesFewWriteCalls) {
  // Warm up: the first commit creates the WAL.
  ASSERT_OK(InsertRows(*writer_, 1, 10, false));
  const int64_t before_plain = WriteCalls();
  ASSERT_GE(before_plain, 0) << "/proc/self/io is not readable";
  ASSERT_OK(InsertRows(*writer_, 40, 2000, /*buffered=*/false));
  const int64_t plain = WriteCalls() - before_plain;
  const int64_t before_buffered = WriteCalls();
  ASSERT_OK(InsertRows(*writer_, 40, 2000, /*buffered=*/true));
  const int64_t buffered = WriteCalls() - before_buffered;
  // 80 KB of rows: some 20+ frames, each two writes unbuffered; buffered,
  // one write per 124 KiB.
  EXPECT_GE(plain, 40);
  EXPECT_LE(buffered, 4);
  EXPECT_EQ(Count(*writer_), 81);
}

TEST_F(WalWriteBufferTest, CommitsWithoutAnFsyncReachTheFileBeforeReadersSeeThem) {
  // synchronous=NORMAL: no sync at commit, so SQLite publishes the commit to
  // readers right after writing its frames; they must be in the file by then.
  ASSERT_OK(writer_->Exec("PRAGMA synchronous=NORMAL"));
  ASSERT_OK(SetWalWriteBuffering(writer_->raw(), true));
  std::unique_ptr<Connection> reader = Open(Connection::Mode::kReadOnly);
  ASSERT_OK(InsertRows(*writer_, 1, 10, false));  // creates the WAL
  const int64_t before = WriteCalls();
  for (int i = 1; i <= 20; ++i) {
    ASSERT_OK(writer_->Exec(
        "INSERT INTO t (v) SELECT randomblob(3000) FROM (SELECT 1 UNION ALL SELECT 2)"));
    ASSERT_EQ(Count(*reader), 1 + 2 * i) << i;
    ASSERT_EQ(IntegrityCheck(*reader), "ok") << i;
  }
  const int64_t calls = WriteCalls() - before;
  EXPECT_LE(calls, 20 * 2);  // one or two writes per commit, not two per page
  ASSERT_OK(SetWalWriteBuffering(writer_->raw(), false));
}

TEST_F(WalWriteBufferTest, RolledBackTransactionLeavesNothingBehind) {
  ASSERT_OK(InsertRows(*writer_, 10, 100, true));
  ASSERT_OK(SetWalWriteBuffering(writer_->raw(), true));
  ASSERT_OK(writer_->Exec(
      "BEGIN IMMEDIATE; INSERT INTO t (v) SELECT randomblob(50000) FROM t; ROLLBACK;"));
  ASSERT_OK(SetWalWriteBuffering(writer_->raw(), false));
  EXPECT_EQ(Count(*writer_), 10);
  ASSERT_OK(InsertRows(*writer_, 5, 100, true));
  EXPECT_EQ(Count(*writer_), 15);
  std::unique_ptr<Connection> reader = Open(Connection::Mode::kReadOnly);
  EXPECT_EQ(Count(*reader), 15);
  EXPECT_EQ(IntegrityCheck(*writer_), "ok");
}

TEST_F(WalWriteBufferTest, TransactionLargerThanTheBufferAndTheCacheCommits) {
  // A small page cache makes the transaction spill frames before COMMIT, and
  // 12 MB is more than the 4 MiB buffer.
  ASSERT_OK(writer_->Exec("PRAGMA cache_size=50"));
  ASSERT_OK(InsertRows(*writer_, 3000, 4000, /*buffered=*/true));
  std::unique_ptr<Connection> reader = Open(Connection::Mode::kReadOnly);
  EXPECT_EQ(Count(*reader), 3000);
  EXPECT_EQ(IntegrityCheck(*writer_), "ok");
}

TEST_F(WalWriteBufferTest, CheckpointsAndWalRestartsKeepEveryRow) {
  ASSERT_OK(writer_->Exec("PRAGMA wal_autocheckpoint=10"));  // pages
  std::unique_ptr<Connection> reader = Open(Connection::Mode::kReadOnly);
  for (int i = 0; i < 30; ++i) {
    ASSERT_OK(InsertRows(*writer_, 20, 3000, /*buffered=*/true)) << i;
    ASSERT_EQ(Count(*reader), 20 * (i + 1)) << i;
  }
  ASSERT_OK(writer_->Exec("PRAGMA wal_checkpoint(TRUNCATE)"));
  ASSERT_OK(InsertRows(*writer_, 20, 3000, /*buffered=*/true));
  EXPECT_EQ(Count(*reader), 620);
  EXPECT_EQ(IntegrityCheck(*writer_), "ok");
}

TEST_F(WalWriteBufferTest, CommittedRowsSurviveTheProcessDyingWithoutClosing) {
  writer_.reset();
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    absl::StatusOr<std::unique_ptr<Connection>> c =
        Connection::Open(path_, Connection::Mode::kReadWrite, absl::Seconds(5));
    if (!c.ok()) _exit(2);
    if (!InsertRows(**c, 77, 500, /*buffered=*/true).ok()) _exit(3);
    // Dies with buffering switched on again and the connection open.
    if (!SetWalWriteBuffering((*c)->raw(), true).ok()) _exit(4);
    _exit(0);
  }
  int wstatus = 0;
  ASSERT_EQ(waitpid(child, &wstatus, 0), child);
  ASSERT_TRUE(WIFEXITED(wstatus));
  ASSERT_EQ(WEXITSTATUS(wstatus), 0);
  writer_ = Open(Connection::Mode::kReadWrite);
  EXPECT_EQ(Count(*writer_), 77);
  EXPECT_EQ(IntegrityCheck(*writer_), "ok");
}

TEST(WalWriteBufferMemoryTest, InMemoryDatabasesHaveNoWalToBuffer) {
  absl::StatusOr<std::unique_ptr<Connection>> c =
      Connection::Open(":memory:", Connection::Mode::kReadWrite, absl::Seconds(1));
  ASSERT_OK(c.status());
  EXPECT_FALSE(SetWalWriteBuffering((*c)->raw(), true).ok());
}

}  // namespace
}  // namespace alerthub::sqlite_internal
