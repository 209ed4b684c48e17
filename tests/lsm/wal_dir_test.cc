// Options::wal_dir (issue 13): the WAL in a directory of its own, for every
// engine kind. The WAL's directory is recorded in <db>/WALDIR; opens without
// wal_dir find it there; a different wal_dir is refused; a checkpoint opens
// on its own; a lost WALDIR after a flush is Corruption, not an empty WAL.
#include <fmt/core.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "io/file_system.h"
#include "strata/engine.h"
#include "tests/lsm/lsm_test_util.h"
#include "tests/testing/test_util.h"
#include "wal/wal_dir.h"

namespace strata::lsm {
namespace {

namespace fs = std::filesystem;

size_t Segments(const std::string& dir) {
  size_t n = 0;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) n += e.path().extension() == ".wal";
  return n;
}

class WalDirTest : public ::testing::TestWithParam<std::string> {
 protected:
  Options KindOptions() const {
    Options o = testing::TinyOptions();
    o.engine = GetParam();
    return o;
  }
};

void PutRange(Engine* db, int begin, int end) {
  for (int i = begin; i < end; ++i) {
    ASSERT_TRUE(db->Put({}, fmt::format("k{:05}", i), fmt::format("v{}", i)).ok());
  }
}

void ExpectRange(Engine* db, int begin, int end) {
  for (int i = begin; i < end; ++i) {
    ASSERT_EQ(testing::GetOrStatus(db, fmt::format("k{:05}", i)), fmt::format("v{}", i)) << i;
  }
}

TEST_P(WalDirTest, WalLivesInItsDirectoryAndIsFoundWithoutTheOption) {
  strata::testing::ScratchDir dir;
  const std::string db_dir = dir.Join("db");
  Options o = KindOptions();
  o.wal_dir = dir.Join("wal-disk");
  std::unique_ptr<Engine> db;
  ASSERT_TRUE(Open(o, db_dir, &db).ok());
  ASSERT_NO_FATAL_FAILURE(PutRange(db.get(), 0, 500));
  ASSERT_TRUE(db->Close().ok());
  db.reset();
  EXPECT_GT(Segments(o.wal_dir), 0u);
  EXPECT_EQ(Segments(db_dir + "/wal"), 0u);
  EXPECT_TRUE(fs::exists(db_dir + "/LOCK"));
  std::string recorded;
  ASSERT_TRUE(io::ReadFileToString(io::DefaultFileSystem().get(), db_dir + "/WALDIR", &recorded)
                  .ok());
  EXPECT_EQ(recorded, fs::absolute(o.wal_dir).lexically_normal().string() + "\n");

  // Without wal_dir (a tool's open): the recorded directory is used.
  Options plain = KindOptions();
  Status s = Open(plain, db_dir, &db);
  ASSERT_TRUE(s.ok()) << s.ToString();
  ASSERT_NO_FATAL_FAILURE(ExpectRange(db.get(), 0, 500));
  ASSERT_NO_FATAL_FAILURE(PutRange(db.get(), 500, 600));
  ASSERT_TRUE(db->Close().ok());
  db.reset();
  EXPECT_EQ(Segments(db_dir + "/wal"), 0u);

  // Another wal_dir would leave the WAL behind: refused.
  Options other = KindOptions();
  other.wal_dir = dir.Join("elsewhere");
  s = Open(other, db_dir, &db);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_NE(s.ToString().find("wal-disk"), std::string::npos) << s.ToString();

  ASSERT_TRUE(Open(o, db_dir, &db).ok());
  ASSERT_NO_FATAL_FAILURE(ExpectRange(db.get(), 0, 600));
  // A checkpoint holds no WAL of the source: it opens without wal_dir, and
  // keeps its WAL in its own directory.
  s = db->Checkpoint(dir.Join("ckpt"));
  ASSERT_TRUE(s.ok()) << s.ToString();
  ASSERT_TRUE(db->Close().ok());
  db.reset();
  EXPECT_FALSE(fs::exists(dir.Join("ckpt/WALDIR")));
  ASSERT_TRUE(Open(KindOptions(), dir.Join("ckpt"), &db).ok());
  ASSERT_NO_FATAL_FAILURE(ExpectRange(db.get(), 0, 600));
  ASSERT_NO_FATAL_FAILURE(PutRange(db.get(), 600, 650));
  ASSERT_TRUE(db->Close().ok());
  db.reset();
  EXPECT_FALSE(fs::exists(dir.Join("ckpt/WALDIR")));
  EXPECT_GT(Segments(dir.Join("ckpt/wal")), 0u);
}

TEST_P(WalDirTest, ExistingDefaultWalIsNotMoved) {
  strata::testing::ScratchDir dir;
  const std::string db_dir = dir.Join("db");
  std::unique_ptr<Engine> db;
  ASSERT_TRUE(Open(KindOptions(), db_dir, &db).ok());
  ASSERT_NO_FATAL_FAILURE(PutRange(db.get(), 0, 100));
  ASSERT_TRUE(db->Close().ok());
  db.reset();
  Options o = KindOptions();
  o.wal_dir = dir.Join("wal-disk");
  const Status s = Open(o, db_dir, &db);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_FALSE(fs::exists(db_dir + "/WALDIR"));
  // Naming the default directory explicitly is fine.
  o.wal_dir = db_dir + "/wal";
  ASSERT_TRUE(Open(o, db_dir, &db).ok());
  ASSERT_NO_FATAL_FAILURE(ExpectRange(db.get(), 0, 100));
  ASSERT_TRUE(db->Close().ok());
}

// WALDIR lost (or the database copied without it): the engine looks in
// <db>/wal, finds no segment, and the WAL position the manifest (lsm) or the
// checkpoint meta (btree) records after a flush makes that Corruption.
TEST_P(WalDirTest, LostWalDirRecordIsCorruptionNotAnEmptyWal) {
  strata::testing::ScratchDir dir;
  const std::string db_dir = dir.Join("db");
  Options o = KindOptions();
  o.wal_dir = dir.Join("wal-disk");
  std::unique_ptr<Engine> db;
  ASSERT_TRUE(Open(o, db_dir, &db).ok());
  ASSERT_NO_FATAL_FAILURE(PutRange(db.get(), 0, 300));
  ASSERT_TRUE(db->Flush().ok());
  ASSERT_NO_FATAL_FAILURE(PutRange(db.get(), 300, 400));
  ASSERT_TRUE(db->Close().ok());
  db.reset();
  std::string record;
  ASSERT_TRUE(io::ReadFileToString(io::DefaultFileSystem().get(), db_dir + "/WALDIR", &record).ok());
  fs::remove(db_dir + "/WALDIR");
  Status s = Open(KindOptions(), db_dir, &db);
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  // Nor does the option alone adopt segments that no record vouches for.
  s = Open(o, db_dir, &db);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  // Nothing was lost: with the record restored, everything is there.
  ASSERT_TRUE(
      io::WriteFileAtomically(io::DefaultFileSystem().get(), db_dir + "/WALDIR", record).ok());
  ASSERT_TRUE(Open(o, db_dir, &db).ok());
  ASSERT_NO_FATAL_FAILURE(ExpectRange(db.get(), 0, 400));
  ASSERT_TRUE(db->Close().ok());
}

// A WAL directory holding another database's segments (or those of the
// state a snapshot install replaced) is refused, never replayed.
TEST_P(WalDirTest, ForeignSegmentsInWalDirAreRefused) {
  strata::testing::ScratchDir dir;
  Options o = KindOptions();
  o.wal_dir = dir.Join("wal-disk");
  std::unique_ptr<Engine> db;
  ASSERT_TRUE(Open(o, dir.Join("a"), &db).ok());
  ASSERT_NO_FATAL_FAILURE(PutRange(db.get(), 0, 100));
  ASSERT_TRUE(db->Close().ok());
  db.reset();
  const Status s = Open(o, dir.Join("b"), &db);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_FALSE(fs::exists(dir.Join("b/WALDIR")));
}

// Only free segments of another database (released, kept for reuse): a new
// log would recycle them, so they are refused too and stay as they are.
TEST_P(WalDirTest, ForeignFreeSegmentsInWalDirAreRefused) {
  strata::testing::ScratchDir dir;
  fs::create_directories(dir.Join("wal-disk"));
  for (const char* name : {"000000000007.free", "000000000009.wal.tmp"}) {
    SCOPED_TRACE(name);
    {
      std::ofstream(dir.Join(std::string("wal-disk/") + name)) << "another database's";
    }
    Options o = KindOptions();
    o.wal_dir = dir.Join("wal-disk");
    std::unique_ptr<Engine> db;
    const Status s = Open(o, dir.Join("b"), &db);
    EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
    EXPECT_TRUE(fs::exists(dir.Join(std::string("wal-disk/") + name)));
    fs::remove(dir.Join(std::string("wal-disk/") + name));
  }
}

TEST(WalDirRecordTest, DamagedRecordIsCorruption) {
  strata::testing::ScratchDir dir;
  auto fs = io::DefaultFileSystem();
  ASSERT_TRUE(io::WriteFileAtomically(fs.get(), dir.Join("WALDIR"), "relative/path\n").ok());
  std::string wal_dir;
  wal::WalHandover handover;
  EXPECT_TRUE(wal::ResolveWalDir(fs.get(), dir.path(), "", &wal_dir, &handover).IsCorruption());
  ASSERT_TRUE(io::WriteFileAtomically(fs.get(), dir.Join("WALDIR"), "/no/newline").ok());
  EXPECT_TRUE(wal::ResolveWalDir(fs.get(), dir.path(), "", &wal_dir, &handover).IsCorruption());
  ASSERT_TRUE(io::WriteFileAtomically(fs.get(), dir.Join("WALDIR"), "/two\n/lines\n").ok());
  EXPECT_TRUE(wal::ResolveWalDir(fs.get(), dir.path(), "", &wal_dir, &handover).IsCorruption());
}

// WALDIR.install (a snapshot install's pending WAL handover): a path, then
// "replaces" or "new"; anything else is Corruption, never a guess.
TEST(WalDirRecordTest, DamagedHandoverRecordIsCorruption) {
  strata::testing::ScratchDir dir;
  auto fs = io::DefaultFileSystem();
  std::string wal_dir;
  wal::WalHandover handover;
  for (const char* bad : {"relative\nreplaces\n", "/x\n", "/x\nmaybe\n", "/x\nnew",
                          "/x\nreplaces\nmore\n", ""}) {
    SCOPED_TRACE(bad);
    ASSERT_TRUE(io::WriteFileAtomically(fs.get(), dir.Join("WALDIR.install"), bad).ok());
    EXPECT_TRUE(wal::ResolveWalDir(fs.get(), dir.path(), "", &wal_dir, &handover).IsCorruption());
  }
  ASSERT_TRUE(
      io::WriteFileAtomically(fs.get(), dir.Join("WALDIR.install"), "/x/wal\nreplaces\n").ok());
  ASSERT_TRUE(wal::ResolveWalDir(fs.get(), dir.path(), "", &wal_dir, &handover).ok());
  EXPECT_EQ(wal_dir, "/x/wal");
  EXPECT_TRUE(handover.pending);
  EXPECT_TRUE(handover.replaces);
  // Another directory than the pending one is refused.
  EXPECT_TRUE(
      wal::ResolveWalDir(fs.get(), dir.path(), "/y/wal", &wal_dir, &handover).IsInvalidArgument());
}

INSTANTIATE_TEST_SUITE_P(Kinds, WalDirTest, ::testing::ValuesIn(strata::RegisteredEngineKinds()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace strata::lsm
