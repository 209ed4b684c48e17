// The range-deletion block of an SSTable: round trip through the builder and
// the reader, the format version it implies, and crafted blocks whose
// checksum is valid but whose contents are not (Corruption naming the file
// and the offset at Open, never a crash or an ignored deletion).
#include <fmt/core.h>
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "core/coding.h"
#include "io/file_system.h"
#include "lsm/format.h"
#include "lsm/range_del.h"
#include "tests/lsm_table/table_test_util.h"
#include "tests/testing/test_util.h"

namespace strata::lsm {
namespace {

using testing::IKey;
using testing::Model;

constexpr uint64_t kFileNumber = 77;

TableOptions Options() {
  TableOptions options;
  options.block_bytes = 256;
  options.compression = Compression::kNone;
  return options;
}

Status BuildWithTombstones(const std::string& path, const std::vector<RangeTombstone>& ts) {
  auto fs = io::DefaultFileSystem();
  std::unique_ptr<io::WritableFile> file;
  STRATA_RETURN_IF_ERROR(fs->NewWritableFile(path, io::FileOptions{}, &file));
  TableBuilder builder(Options(), file.get());
  for (int i = 0; i < 30; ++i) {
    STRATA_RETURN_IF_ERROR(builder.Add(IKey(fmt::format("k{:03}", i), 100 + i), "v"));
  }
  for (const RangeTombstone& t : ts) builder.AddRangeTombstone(t);
  STRATA_RETURN_IF_ERROR(builder.Finish());
  STRATA_RETURN_IF_ERROR(file->Sync());
  return file->Close();
}

std::string ReadAll(const std::string& path) {
  std::string bytes;
  EXPECT_TRUE(io::ReadFileToString(io::DefaultFileSystem().get(), path, &bytes).ok());
  return bytes;
}

void WriteAll(const std::string& path, const std::string& bytes) {
  ASSERT_TRUE(io::WriteFileAtomically(io::DefaultFileSystem().get(), path, bytes).ok());
}

TEST(RangeDelBlockTest, RoundTripAndFormatVersion) {
  strata::testing::ScratchDir dir;
  const std::string with = dir.Join("with.sst"), without = dir.Join("without.sst");
  ASSERT_TRUE(
      BuildWithTombstones(with, {{"k010", "k020", 200}, {"a", "k005", 150}, {"k010", "k015", 300}})
          .ok());
  ASSERT_TRUE(BuildWithTombstones(without, {}).ok());
  std::unique_ptr<Table> t;
  ASSERT_TRUE(testing::OpenTable(with, Options(), kFileNumber, nullptr, &t).ok());
  EXPECT_EQ(t->footer().format_version, kTableFormatVersionRangeDel);
  ASSERT_NE(t->range_dels(), nullptr);
  EXPECT_EQ(t->properties().range_del_count, 3u);
  const RangeDelIndex& index = *t->range_dels();
  EXPECT_EQ(index.tombstones().front().begin, "a");  // sorted by begin
  EXPECT_EQ(index.MaxCoveringSeq("k012", kMaxSequenceNumber), 300u);
  EXPECT_EQ(index.MaxCoveringSeq("k012", 299), 200u);  // a snapshot older than 300
  EXPECT_EQ(index.MaxCoveringSeq("k012", 199), 0u);
  EXPECT_EQ(index.MaxCoveringSeq("k017", kMaxSequenceNumber), 200u);
  EXPECT_EQ(index.MaxCoveringSeq("k020", kMaxSequenceNumber), 0u);  // end is exclusive
  EXPECT_EQ(index.MaxCoveringSeq("k004", kMaxSequenceNumber), 150u);
  EXPECT_EQ(index.MaxCoveringSeq("k005", kMaxSequenceNumber), 0u);
  std::unique_ptr<Table> u;
  ASSERT_TRUE(testing::OpenTable(without, Options(), kFileNumber, nullptr, &u).ok());
  EXPECT_EQ(u->footer().format_version, kTableFormatVersion);  // unchanged without tombstones
  EXPECT_EQ(u->range_dels(), nullptr);
}

// Rewrites the block's contents with `edit` and recomputes its trailer, so
// only the decoder's own checks can catch it.
void CraftBlock(const std::string& path, const std::function<void(std::string*)>& edit) {
  std::unique_ptr<Table> t;
  ASSERT_TRUE(testing::OpenTable(path, Options(), kFileNumber, nullptr, &t).ok());
  const uint64_t offset = t->properties().range_del_offset;
  const uint64_t bytes = t->properties().range_del_bytes;
  t.reset();
  std::string file = ReadAll(path);
  std::string contents = file.substr(offset, bytes);
  edit(&contents);
  ASSERT_EQ(contents.size(), bytes) << "edits keep the size";
  std::string stored = contents;
  AppendBlockTrailer(contents, BlockType::kRaw, &stored);
  file.replace(offset, stored.size(), stored);
  WriteAll(path, file);
}

TEST(RangeDelBlockTest, CraftedBlocksAreCorruption) {
  strata::testing::ScratchDir dir;
  struct Case {
    const char* name;
    std::function<void(std::string*)> edit;
    const char* want;
  };
  // Block: fixed32 count | (varint begin | begin | varint end | end | fixed64 seq)*
  // Tombstones (sorted): ["a","k005")@150, ["k010","k015")@300, ["k010","k020")@200.
  const std::vector<Case> cases = {
      {"count too large", [](std::string* b) { EncodeFixed32(b->data(), 1000); }, "count"},
      {"count too small", [](std::string* b) { EncodeFixed32(b->data(), 2); }, "trailing"},
      {"count zero", [](std::string* b) { EncodeFixed32(b->data(), 0); }, "count"},
      {"inverted range",
       [](std::string* b) {
         // First tombstone: 01 'a' 04 'k005': make begin "z" > end.
         (*b)[5] = 'z';
       },
       "begin >= end"},
      {"sequence zero", [](std::string* b) { EncodeFixed64(b->data() + 4 + 2 + 5, 0); },
       "sequence 0"},
      {"out of order",
       [](std::string* b) {
         // Second tombstone's end k015 -> k025 sorts after the third's k020.
         const size_t second = 4 + 2 + 5 + 8;
         (*b)[second + 5 + 1 + 2] = '2';
       },
       "out of order"},
      {"length past the end", [](std::string* b) { (*b)[4] = 0x7f; }, "truncated"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const std::string path = dir.Join(fmt::format("{:06}.sst", kFileNumber));
    ASSERT_TRUE(BuildWithTombstones(
                    path, {{"k010", "k020", 200}, {"a", "k005", 150}, {"k010", "k015", 300}})
                    .ok());
    CraftBlock(path, c.edit);
    std::unique_ptr<Table> t;
    Status s = testing::OpenTable(path, Options(), kFileNumber, nullptr, &t);
    ASSERT_TRUE(s.IsCorruption()) << s.ToString();
    EXPECT_NE(s.ToString().find("000077.sst @ "), std::string::npos) << s.ToString();
    EXPECT_NE(s.ToString().find(c.want), std::string::npos) << s.ToString();
  }
}

TEST(RangeDelBlockTest, FlippedBitIsChecksumCorruption) {
  strata::testing::ScratchDir dir;
  const std::string path = dir.Join("t.sst");
  ASSERT_TRUE(BuildWithTombstones(path, {{"b", "c", 9}}).ok());
  std::unique_ptr<Table> t;
  ASSERT_TRUE(testing::OpenTable(path, Options(), kFileNumber, nullptr, &t).ok());
  const uint64_t offset = t->properties().range_del_offset;
  const uint64_t bytes = t->properties().range_del_bytes;
  t.reset();
  const std::string original = ReadAll(path);
  for (uint64_t i = 0; i < bytes + kBlockTrailerBytes; ++i) {
    std::string file = original;
    file[offset + i] ^= 0x10;
    WriteAll(path, file);
    Status s = testing::OpenTable(path, Options(), kFileNumber, nullptr, &t);
    ASSERT_TRUE(s.IsCorruption()) << "byte " << i << ": " << s.ToString();
  }
}

}  // namespace
}  // namespace strata::lsm
