#include <gtest/gtest.h>

#include "io/file_system.h"
#include "strata/engine.h"
#include "tests/testing/test_util.h"

namespace strata {
namespace {

TEST(OpenTest, UnknownKindIsInvalidArgument) {
  testing::ScratchDir dir;
  Options options;
  options.engine = "no-such-engine";
  std::unique_ptr<Engine> engine;
  Status s = Open(options, dir.Join("db"), &engine);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_NE(s.message().find("no-such-engine"), std::string::npos);
  EXPECT_EQ(engine, nullptr);
  // Nothing was created for an unknown kind.
  EXPECT_FALSE(io::DefaultFileSystem()->FileExists(dir.Join("db/KIND")));
}

TEST(OpenTest, MissingDatabaseWithoutCreateIsNotFound) {
  testing::ScratchDir dir;
  Options options;
  options.create_if_missing = false;
  std::unique_ptr<Engine> engine;
  EXPECT_TRUE(Open(options, dir.Join("db"), &engine).IsNotFound());
}

TEST(OpenTest, ExistingKindWinsAndMismatchIsRejected) {
  testing::ScratchDir dir;
  auto fs = io::DefaultFileSystem();
  ASSERT_TRUE(fs->CreateDir(dir.Join("db")).ok());
  ASSERT_TRUE(io::WriteFileAtomically(fs.get(), dir.Join("db/KIND"), "btree\n").ok());
  Options options;
  options.engine = "lsm";
  std::unique_ptr<Engine> engine;
  Status s = Open(options, dir.Join("db"), &engine);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_NE(s.message().find("btree"), std::string::npos);
}

TEST(OpenTest, MalformedKindFileIsCorruption) {
  testing::ScratchDir dir;
  auto fs = io::DefaultFileSystem();
  ASSERT_TRUE(fs->CreateDir(dir.Join("db")).ok());
  ASSERT_TRUE(io::WriteFileAtomically(fs.get(), dir.Join("db/KIND"), "lsm").ok());
  Options options;
  options.engine = "";
  std::unique_ptr<Engine> engine;
  EXPECT_TRUE(Open(options, dir.Join("db"), &engine).IsCorruption());
}

}  // namespace
}  // namespace strata
