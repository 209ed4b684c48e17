// FaultFileSystem against an independent model: random creates, writes,
// truncates, syncs, renames, removes and directory syncs on a few names, with
// crashes in between. After each crash the directory must hold exactly the
// durably named files, each with its inode's synced contents.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "io/fault_file_system.h"
#include "io/posix_file_system.h"
#include "tests/testing/test_util.h"

namespace strata::io {
namespace {

// The POSIX rules, stated plainly: data is per inode and durable at its sync;
// names are durable at the directory's sync.
struct Model {
  struct Inode {
    std::string current;
    std::string synced;
  };
  std::vector<Inode> inodes;
  std::map<std::string, size_t> names;          // name -> inode
  std::map<std::string, size_t> durable_names;  // as of the last SyncDir

  Inode& At(const std::string& name) { return inodes[names.at(name)]; }
  void Crash() {
    std::vector<Inode> survivors;
    std::map<std::string, size_t> fresh;
    for (const auto& [name, inode] : durable_names) {
      fresh[name] = survivors.size();
      survivors.push_back(Inode{inodes[inode].synced, inodes[inode].synced});
    }
    inodes = std::move(survivors);
    names = fresh;
    durable_names = fresh;
  }
};

class FaultModelTest : public ::testing::TestWithParam<uint64_t> {
 protected:
  std::string Path(const std::string& name) const { return dir_.Join(name); }

  void Step(std::mt19937_64& rng) {
    static const std::vector<std::string> kNames = {"a", "b", "c", "d"};
    const std::string name = kNames[rng() % kNames.size()];
    const std::string other = kNames[rng() % kNames.size()];
    const bool exists = model_.names.contains(name);
    const std::string data(1 + rng() % 20, static_cast<char>('A' + rng() % 26));
    std::unique_ptr<WritableFile> file;
    switch (rng() % 8) {
      case 0:  // create or truncate
        ASSERT_TRUE(fs_->NewWritableFile(Path(name), FileOptions{}, &file).ok());
        if (exists) {
          model_.At(name).current.clear();
        } else {
          model_.names[name] = model_.inodes.size();
          model_.inodes.push_back(Model::Inode{});
        }
        break;
      case 1:  // append
        if (!exists) return;
        ASSERT_TRUE(fs_->ReopenWritableFile(Path(name), FileOptions{}, &file).ok());
        ASSERT_TRUE(file->Append(data).ok());
        model_.At(name).current += data;
        break;
      case 2: {  // overwrite, possibly past the end
        if (!exists) return;
        std::string& current = model_.At(name).current;
        const uint64_t offset = rng() % (current.size() + 4);
        ASSERT_TRUE(fs_->ReopenWritableFile(Path(name), FileOptions{}, &file).ok());
        ASSERT_TRUE(file->WriteAt(offset, data).ok());
        current.resize(std::max<size_t>(current.size(), offset + data.size()), '\0');
        current.replace(offset, data.size(), data);
        break;
      }
      case 3: {  // truncate, possibly growing
        if (!exists) return;
        std::string& current = model_.At(name).current;
        const uint64_t size = rng() % (current.size() + 4);
        ASSERT_TRUE(fs_->ReopenWritableFile(Path(name), FileOptions{}, &file).ok());
        ASSERT_TRUE(file->Truncate(size).ok());
        current.resize(size, '\0');
        break;
      }
      case 4:  // sync
        if (!exists) return;
        ASSERT_TRUE(fs_->ReopenWritableFile(Path(name), FileOptions{}, &file).ok());
        ASSERT_TRUE(file->Sync().ok());
        model_.At(name).synced = model_.At(name).current;
        break;
      case 5:  // rename, possibly over another file
        if (!exists || name == other) return;
        ASSERT_TRUE(fs_->Rename(Path(name), Path(other)).ok());
        model_.names[other] = model_.names.at(name);
        model_.names.erase(name);
        break;
      case 6:  // remove
        if (!exists) return;
        ASSERT_TRUE(fs_->RemoveFile(Path(name)).ok());
        model_.names.erase(name);
        break;
      case 7:
        ASSERT_TRUE(fs_->SyncDir(dir_.path()).ok());
        model_.durable_names = model_.names;
        break;
    }
    if (file) {
      ASSERT_TRUE(file->Close().ok());
    }
  }

  // The directory holds exactly the model's names with their contents.
  void ExpectDirectoryMatches(bool after_crash) {
    std::vector<std::string> listed;
    ASSERT_TRUE(posix_->ListDir(dir_.path(), &listed).ok());
    std::sort(listed.begin(), listed.end());
    std::vector<std::string> expected;
    for (const auto& [name, inode] : model_.names) expected.push_back(name);
    ASSERT_EQ(listed, expected) << (after_crash ? "after crash" : "before crash");
    for (const auto& [name, inode] : model_.names) {
      std::string data;
      ASSERT_TRUE(ReadFileToString(posix_.get(), Path(name), &data).ok());
      EXPECT_EQ(data, model_.inodes[inode].current) << name;
    }
  }

  testing::ScratchDir dir_;
  std::shared_ptr<PosixFileSystem> posix_ = std::make_shared<PosixFileSystem>();
  // Faults over the default (io_uring) backend; the checks read around it.
  std::shared_ptr<FaultFileSystem> fs_ = std::make_shared<FaultFileSystem>(DefaultFileSystem());
  Model model_;
};

TEST_P(FaultModelTest, CrashKeepsExactlyTheDurableState) {
  const uint64_t seed = testing::TestSeed(GetParam());
  SCOPED_TRACE(fmt::format("seed={}", seed));
  std::mt19937_64 rng(seed);
  constexpr int kCrashes = 8;
  constexpr int kStepsPerCrash = 40;
  for (int crash = 0; crash < kCrashes; crash++) {
    for (int step = 0; step < kStepsPerCrash; step++) {
      ASSERT_NO_FATAL_FAILURE(Step(rng));
    }
    ASSERT_NO_FATAL_FAILURE(ExpectDirectoryMatches(/*after_crash=*/false));
    Status s = fs_->DropUnsyncedData();
    ASSERT_TRUE(s.ok()) << s.ToString();
    model_.Crash();
    SCOPED_TRACE(fmt::format("crash {}", crash));
    ASSERT_NO_FATAL_FAILURE(ExpectDirectoryMatches(/*after_crash=*/true));
  }
}

INSTANTIATE_TEST_SUITE_P(Seeds, FaultModelTest, ::testing::Range<uint64_t>(1, 13));

}  // namespace
}  // namespace strata::io
