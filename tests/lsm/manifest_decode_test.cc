// Manifests whose records are intact (checksums written by ManifestWriter)
// but whose edits are not: Open is Corruption naming the manifest, never a
// crash or a database built on a wrong file list.
#include <fmt/core.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <map>

#include "lsm/manifest.h"
#include "lsm/version_edit.h"
#include "strata/engine.h"
#include "tests/lsm/lsm_test_util.h"
#include "tests/testing/test_util.h"

namespace strata::lsm {
namespace {

namespace fs = std::filesystem;
using testing::TinyOptions;

// The state the live manifest describes.
struct ManifestState {
  std::map<uint64_t, std::pair<int, FileMetaData>> files;
  uint64_t next_file_number = 0;
};

ManifestState ReadState(const std::string& dir) {
  ManifestState state;
  std::string name;
  EXPECT_TRUE(ReadCurrentFile(io::DefaultFileSystem().get(), dir, &name).ok());
  ManifestReadReport report;
  Status s = ReadManifest(
      io::DefaultFileSystem().get(), dir + "/" + name,
      [&](uint64_t, std::string_view payload) {
        VersionEdit edit;
        STRATA_RETURN_IF_ERROR(edit.DecodeFrom(payload, "test"));
        for (const auto& [level, number] : edit.removed_files()) state.files.erase(number);
        for (const auto& [level, f] : edit.added_files()) state.files[f.number] = {level, f};
        if (edit.next_file_number()) state.next_file_number = *edit.next_file_number();
        return Status::Ok();
      },
      &report);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return state;
}

class ManifestDecodeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::unique_ptr<Engine> db;
    ASSERT_TRUE(strata::Open(TinyOptions(), dir_.path(), &db).ok());
    for (int i = 0; i < 400; ++i) {
      ASSERT_TRUE(db->Put(WriteOptions{}, fmt::format("key{:04}", i), "value").ok());
    }
    ASSERT_TRUE(db->CompactAll().ok());
    db.reset();
    state_ = ReadState(dir_.path());
    ASSERT_FALSE(state_.files.empty());
  }

  // Writes a new manifest of `payloads` (each one record), points CURRENT at it.
  std::string WriteManifest(const std::vector<std::string>& payloads) {
    const std::string name = ManifestFileName(state_.next_file_number + 100);
    std::unique_ptr<ManifestWriter> writer;
    EXPECT_TRUE(
        ManifestWriter::Create(io::DefaultFileSystem().get(), dir_.Join(name), &writer).ok());
    for (const auto& p : payloads) EXPECT_TRUE(writer->AddRecord(p).ok());
    EXPECT_TRUE(writer->Close().ok());
    EXPECT_TRUE(SetCurrentFile(io::DefaultFileSystem().get(), dir_.path(), name).ok());
    return name;
  }

  // The real state as one edit, with `change` applied to it.
  std::string StateEdit(
      const std::function<void(VersionEdit*, std::vector<std::pair<int, FileMetaData>>*)>& change =
          nullptr) {
    std::vector<std::pair<int, FileMetaData>> files;
    for (const auto& [number, entry] : state_.files) files.push_back(entry);
    VersionEdit edit;
    edit.SetNextFileNumber(state_.next_file_number);
    edit.SetLastSequence(1000);
    edit.SetWalLsn(0);
    if (change) change(&edit, &files);
    for (const auto& [level, f] : files) edit.AddFile(level, f);
    std::string out;
    edit.EncodeTo(&out);
    return out;
  }

  void ExpectCorruption(const std::vector<std::string>& payloads, std::string_view what) {
    const std::string name = WriteManifest(payloads);
    std::unique_ptr<Engine> db;
    Status s = strata::Open(TinyOptions(), dir_.path(), &db);
    ASSERT_TRUE(s.IsCorruption()) << s.ToString();
    EXPECT_NE(s.message().find(name), std::string::npos) << s.ToString();
    EXPECT_NE(s.message().find(what), std::string::npos) << s.ToString();
  }

  FileMetaData& First(std::vector<std::pair<int, FileMetaData>>* files) {
    return files->front().second;
  }

  strata::testing::ScratchDir dir_;
  ManifestState state_;
};

TEST_F(ManifestDecodeTest, TheRealStateOpens) {
  WriteManifest({StateEdit()});
  std::unique_ptr<Engine> db;
  Status s = strata::Open(TinyOptions(), dir_.path(), &db);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(testing::GetOrStatus(db.get(), "key0123"), "value");
}

TEST_F(ManifestDecodeTest, LevelOutOfRange) {
  ExpectCorruption(
      {StateEdit([](VersionEdit*, auto* files) { files->front().first = kLevelCount; })},
      "added file");
}

TEST_F(ManifestDecodeTest, FileNumberZero) {
  ExpectCorruption({StateEdit([&](VersionEdit*, auto* files) { First(files).number = 0; })},
                   "numbered 0");
}

TEST_F(ManifestDecodeTest, KeyShorterThanTrailer) {
  ExpectCorruption({StateEdit([&](VersionEdit*, auto* files) { First(files).smallest = "abc"; })},
                   "bad key range");
}

TEST_F(ManifestDecodeTest, SmallestAboveLargest) {
  ExpectCorruption({StateEdit([&](VersionEdit*, auto* files) {
                     std::swap(First(files).smallest, First(files).largest);
                   })},
                   "bad key range");
}

TEST_F(ManifestDecodeTest, SequenceRangeInverted) {
  ExpectCorruption({StateEdit([&](VersionEdit*, auto* files) {
                     First(files).smallest_seq = First(files).largest_seq + 1;
                   })},
                   "bad sequence range");
}

TEST_F(ManifestDecodeTest, FileAddedTwice) {
  VersionEdit again;
  const auto& [level, f] = state_.files.begin()->second;
  again.AddFile(level, f);
  std::string second;
  again.EncodeTo(&second);
  ExpectCorruption({StateEdit(), second}, "already holds");
}

TEST_F(ManifestDecodeTest, RemovesAnUnknownFile) {
  VersionEdit remove;
  remove.RemoveFile(1, state_.next_file_number + 7);
  std::string second;
  remove.EncodeTo(&second);
  ExpectCorruption({StateEdit(), second}, "removes unknown file");
}

TEST_F(ManifestDecodeTest, KeptFileNumberedZero) {
  ExpectCorruption({StateEdit() + std::string("\x06\x00", 2)}, "bad kept file");
}

TEST_F(ManifestDecodeTest, UnknownFieldTag) {
  ExpectCorruption({StateEdit() + "\x63"}, "unknown field tag");
}

// Two tables of one level below L0 whose key ranges overlap: lookups
// binary-search such a level, so it is refused at open.
TEST_F(ManifestDecodeTest, OverlappingFilesInOneLevel) {
  const FileMetaData original = state_.files.begin()->second.second;
  const uint64_t copy_number = state_.next_file_number + 50;
  fs::copy_file(dir_.Join(TableFileName(original.number)), dir_.Join(TableFileName(copy_number)));
  ExpectCorruption({StateEdit([&](VersionEdit*, auto* files) {
                     files->clear();
                     FileMetaData copy = original;
                     copy.number = copy_number;
                     files->emplace_back(1, original);
                     files->emplace_back(1, copy);
                   })},
                   "overlap");
}

}  // namespace
}  // namespace strata::lsm
