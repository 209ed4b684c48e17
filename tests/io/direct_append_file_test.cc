#include "io/direct_append_file.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "io/file_system.h"
#include "tests/testing/test_util.h"

namespace strata::io {
namespace {

// The flags of this process's open descriptor of `path`, from
// /proc/self/fdinfo; -1 when no descriptor names it.
long OpenFlags(const std::string& path) {
  const std::string want = std::filesystem::canonical(path).string();
  for (const auto& fd : std::filesystem::directory_iterator("/proc/self/fd")) {
    std::error_code ec;
    if (std::filesystem::read_symlink(fd.path(), ec).string() != want) continue;
    std::ifstream info("/proc/self/fdinfo/" + fd.path().filename().string());
    std::string key;
    while (info >> key) {
      std::string value;
      info >> value;
      if (key == "flags:") return std::stol(value, nullptr, 8);
    }
  }
  return -1;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Random append sizes and sync points (fixed seed): the file holds exactly
// the appended bytes after every sync and at close, and is O_DIRECT.
TEST(DirectAppendFileTest, HoldsExactlyTheAppendedBytes) {
  const uint64_t seed = testing::TestSeed(13);
  SCOPED_TRACE("STRATA_SEED=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  testing::ScratchDir dir;
  auto fs = DefaultFileSystem();
  for (int round = 0; round < 20; ++round) {
    const std::string path = dir.Join("t" + std::to_string(round) + ".sst");
    std::unique_ptr<WritableFile> file;
    bool direct = false;
    // A tiny buffer, so that buffer flushes and tail rewrites happen often.
    ASSERT_TRUE(NewDirectAppendFile(fs.get(), path, 8192, &file, &direct).ok());
    if (!direct) GTEST_SKIP() << "O_DIRECT refused here (tmpfs?)";
    EXPECT_NE(OpenFlags(path) & O_DIRECT, 0) << path;
    std::string expected;
    const int appends = 1 + static_cast<int>(rng() % 40);
    for (int i = 0; i < appends; ++i) {
      std::string data(rng() % 9000, '\0');
      for (char& c : data) c = static_cast<char>(rng());
      ASSERT_TRUE(file->Append(data).ok());
      expected += data;
      ASSERT_EQ(file->size(), expected.size());
      if (rng() % 4 == 0) {
        ASSERT_TRUE(file->Sync().ok());
        ASSERT_EQ(ReadAll(path), expected) << "after sync " << i;
      }
    }
    ASSERT_TRUE(file->Sync().ok());
    ASSERT_TRUE(file->Close().ok());
    EXPECT_EQ(ReadAll(path), expected);
    EXPECT_TRUE(file->WriteAt(0, "x").IsNotSupported());
  }
}


// The buffered variant: exact bytes after every sync and at close, the file
// is not O_DIRECT, and appends reach the base file only a buffer at a time.
TEST(BufferedAppendFileTest, HoldsExactlyTheAppendedBytesInBufferSizedWrites) {
  const uint64_t seed = testing::TestSeed(17);
  SCOPED_TRACE("STRATA_SEED=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  testing::ScratchDir dir;
  auto fs = DefaultFileSystem();
  constexpr size_t kBuffer = 64 << 10;
  for (int round = 0; round < 10; ++round) {
    const std::string path = dir.Join("b" + std::to_string(round) + ".sst");
    std::unique_ptr<WritableFile> file;
    ASSERT_TRUE(NewBufferedAppendFile(fs.get(), path, kBuffer, &file).ok());
    ASSERT_EQ(OpenFlags(path) & O_DIRECT, 0);
    std::string expected;
    for (int i = 0; i < 50; ++i) {
      std::string data(rng() % 9000 + 1, static_cast<char>('a' + rng() % 26));
      ASSERT_TRUE(file->Append(data).ok());
      expected += data;
      ASSERT_EQ(file->size(), expected.size());
      // Nothing below the last whole buffer is missing, nothing past it written.
      const uint64_t on_disk = std::filesystem::file_size(path);
      ASSERT_EQ(on_disk % kBuffer, 0u) << "round " << round << " append " << i;
      ASSERT_LE(on_disk, expected.size());
      if (rng() % 10 == 0) {
        ASSERT_TRUE(file->Sync().ok());
        ASSERT_EQ(ReadAll(path), expected);
        // After a sync the buffer restarts at any offset: flush boundaries
        // are no longer multiples of the buffer; the content stays exact.
        ASSERT_TRUE(file->Close().ok());
        ASSERT_TRUE(NewBufferedAppendFile(fs.get(), path + ".2", kBuffer, &file).ok());
        expected.clear();
        ASSERT_TRUE(file->Append(std::string(3, 'z')).ok());
        expected = "zzz";
        ASSERT_TRUE(file->Close().ok());
        ASSERT_EQ(ReadAll(path + ".2"), expected);
        break;
      }
    }
  }
}

}  // namespace
}  // namespace strata::io
