// Untrusted bytes: every flipped bit, every truncation and a bad footer give
// Corruption naming the file and an offset, never a crash or a wrong value.
#include <fcntl.h>
#include <fmt/core.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "core/coding.h"
#include "lsm/format.h"
#include "tests/lsm_table/table_test_util.h"
#include "tests/testing/test_util.h"

namespace strata::lsm {
namespace {

using testing::IKey;
using testing::Model;

constexpr uint64_t kFileNumber = 123;

TableOptions TinyOptions(Compression compression) {
  TableOptions options;
  options.block_bytes = 160;
  options.block_restart_interval = 3;
  options.compression = compression;
  return options;
}

Model TinyModel() {
  Model model;
  for (int i = 0; i < 24; ++i) {
    const bool deletion = i % 7 == 3;
    model[IKey(fmt::format("key{:02}", i), 100 + i,
               deletion ? ValueType::kDeletion : ValueType::kValue)] =
        deletion ? "" : fmt::format("value-{:02}-{}", i, std::string(4 * (i % 5), 'x'));
  }
  return model;
}

void XorByte(const std::string& path, uint64_t offset, uint8_t mask) {
  const int fd = ::open(path.c_str(), O_RDWR);
  ASSERT_GE(fd, 0);
  char c = 0;
  ASSERT_EQ(::pread(fd, &c, 1, static_cast<off_t>(offset)), 1);
  c = static_cast<char>(c ^ mask);
  ASSERT_EQ(::pwrite(fd, &c, 1, static_cast<off_t>(offset)), 1);
  ::close(fd);
}

void ExpectTableCorruption(const Status& s) {
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_NE(s.message().find("000123.sst @ "), std::string::npos) << s.ToString();
}

// Reads everything through every path; each answer is either right or Corruption.
// Returns whether any path reported Corruption.
bool ReadAllNeverWrong(const Table& table, const Model& model) {
  bool corrupt = false;
  auto it = table.NewIterator(ReadOptions{});
  auto e = model.begin();
  for (it->SeekToFirst(); it->Valid(); it->Next(), ++e) {
    EXPECT_NE(e, model.end());
    if (e == model.end()) return true;
    EXPECT_EQ(it->key(), e->first);
    EXPECT_EQ(it->value(), e->second);
  }
  if (!it->status().ok()) {
    ExpectTableCorruption(it->status());
    corrupt = true;
  } else {
    EXPECT_EQ(e, model.end());
  }
  for (const auto& [k, v] : model) {
    bool found = false;
    std::string ikey, value;
    Status s = table.Get(ReadOptions{}, k, &found, &ikey, &value, nullptr);
    if (!s.ok()) {
      ExpectTableCorruption(s);
      corrupt = true;
      continue;
    }
    // A flipped filter bit could only hide a key if the checksum missed it.
    EXPECT_TRUE(found) << "lost key";
    if (found) {
      EXPECT_EQ(ikey, k);
      EXPECT_EQ(value, v);
    }
  }
  return corrupt;
}

class FlippedBits : public ::testing::TestWithParam<Compression> {};

TEST_P(FlippedBits, EveryBitIsDetected) {
  strata::testing::ScratchDir dir;
  const std::string path = dir.Join("000123.sst");
  const Model model = TinyModel();
  const TableOptions options = TinyOptions(GetParam());
  TableProperties props;
  ASSERT_TRUE(testing::BuildTable(path, options, model, &props).ok());
  if (GetParam() != Compression::kNone) {
    ASSERT_GT(props.compressed_block_count, 0u);
  }
  const uint64_t file_bytes = std::filesystem::file_size(path);
  ASSERT_LT(file_bytes, 2048u) << "keep the table tiny: the test flips every bit";
  for (uint64_t bit = 0; bit < file_bytes * 8; ++bit) {
    SCOPED_TRACE(fmt::format("bit {} (byte {})", bit, bit / 8));
    XorByte(path, bit / 8, static_cast<uint8_t>(1u << (bit % 8)));
    std::unique_ptr<Table> table;
    Status s = testing::OpenTable(path, options, kFileNumber, nullptr, &table);
    if (s.ok()) {
      ReadAllNeverWrong(*table, model);
      ExpectTableCorruption(table->VerifyChecksums());
    } else {
      ExpectTableCorruption(s);
    }
    XorByte(path, bit / 8, static_cast<uint8_t>(1u << (bit % 8)));
    if (HasFailure()) return;
  }
  std::unique_ptr<Table> table;
  ASSERT_TRUE(testing::OpenTable(path, options, kFileNumber, nullptr, &table).ok());
  EXPECT_FALSE(ReadAllNeverWrong(*table, model));
  EXPECT_TRUE(table->VerifyChecksums().ok());
}

// A scan long enough to read ahead takes its blocks from the read-ahead bytes;
// they are verified like any other read: a flipped byte in a later block stops
// the scan with Corruption at that block, after every entry before it.
TEST_P(FlippedBits, ReadaheadBlocksAreVerified) {
  strata::testing::ScratchDir dir;
  const std::string path = dir.Join("000123.sst");
  Model model;
  for (int i = 0; i < 3000; ++i) {
    model[IKey(fmt::format("key{:05}", i), i + 1)] = fmt::format("value-{}-{}", i, i * 7);
  }
  TableOptions options;
  options.block_bytes = 512;
  options.compression = GetParam();
  ASSERT_TRUE(testing::BuildTable(path, options, model).ok());
  std::unique_ptr<Table> table;
  ASSERT_TRUE(testing::OpenTable(path, options, kFileNumber, nullptr, &table).ok());
  // The 40th data block: far enough that the scan reads it ahead.
  auto index = table->NewIndexIterator();
  index->SeekToFirst();
  for (int i = 0; i < 40; ++i) index->Next();
  ASSERT_TRUE(index->Valid());
  BlockHandle handle;
  ASSERT_TRUE(table->DecodeDataHandle(index->value(), &handle).ok());
  const std::string last_good_key(index->key());
  table.reset();
  XorByte(path, handle.offset + handle.bytes / 2, 0x10);

  ASSERT_TRUE(testing::OpenTable(path, options, kFileNumber, nullptr, &table).ok());
  auto it = table->NewIterator(ReadOptions{});
  auto e = model.begin();
  for (it->SeekToFirst(); it->Valid(); it->Next(), ++e) {
    ASSERT_NE(e, model.end());
    ASSERT_EQ(it->key(), e->first);
  }
  ExpectTableCorruption(it->status());
  EXPECT_NE(it->status().message().find(fmt::format("@ {}:", handle.offset)), std::string::npos)
      << it->status().ToString();
  // Every entry before the damaged block came out.
  ASSERT_NE(e, model.begin());
  EXPECT_LT(std::prev(e)->first, last_good_key);
}

INSTANTIATE_TEST_SUITE_P(Compression, FlippedBits,
                         ::testing::Values(Compression::kNone, Compression::kZstd,
                                           Compression::kLz4));

TEST(TableCorruption, EveryTruncationIsCorruption) {
  strata::testing::ScratchDir dir;
  const std::string path = dir.Join("000123.sst");
  const TableOptions options = TinyOptions(Compression::kNone);
  ASSERT_TRUE(testing::BuildTable(path, options, TinyModel()).ok());
  std::string full;
  ASSERT_TRUE(io::ReadFileToString(io::DefaultFileSystem().get(), path, &full).ok());
  for (size_t keep = 0; keep < full.size(); ++keep) {
    SCOPED_TRACE(fmt::format("kept {} of {} bytes", keep, full.size()));
    ASSERT_EQ(::truncate(path.c_str(), static_cast<off_t>(keep)), 0);
    std::unique_ptr<Table> table;
    ExpectTableCorruption(testing::OpenTable(path, options, kFileNumber, nullptr, &table));
  }
}

// A reader told the file is longer than it is (e.g. a stale size) still fails cleanly.
TEST(TableCorruption, ShortReadIsCorruption) {
  strata::testing::ScratchDir dir;
  const std::string path = dir.Join("000123.sst");
  const TableOptions options = TinyOptions(Compression::kNone);
  ASSERT_TRUE(testing::BuildTable(path, options, TinyModel()).ok());
  auto fs = io::DefaultFileSystem();
  std::unique_ptr<io::RandomAccessFile> file;
  ASSERT_TRUE(fs->NewRandomAccessFile(path, io::FileOptions{}, &file).ok());
  const uint64_t size = file->Size().value();
  std::unique_ptr<Table> table;
  ExpectTableCorruption(Table::Open(options, std::move(file), size + 100, kFileNumber, nullptr,
                                    &table));
}

TEST(TableCorruption, ForeignFileAndBadFooter) {
  strata::testing::ScratchDir dir;
  const std::string path = dir.Join("000123.sst");
  auto fs = io::DefaultFileSystem();
  ASSERT_TRUE(io::WriteFileAtomically(fs.get(), path, std::string(4096, 'z')).ok());
  std::unique_ptr<Table> table;
  Status s = testing::OpenTable(path, TableOptions{}, kFileNumber, nullptr, &table);
  ExpectTableCorruption(s);
  EXPECT_NE(s.message().find("bad magic"), std::string::npos) << s.ToString();

  // A well-formed footer of an unknown version.
  ASSERT_TRUE(testing::BuildTable(path, TableOptions{}, TinyModel()).ok());
  std::string bytes;
  ASSERT_TRUE(io::ReadFileToString(fs.get(), path, &bytes).ok());
  Footer footer;
  ASSERT_TRUE(DecodeFooter(std::string_view(bytes).substr(bytes.size() - kFooterBytes),
                           bytes.size(), "x", &footer)
                  .ok());
  footer.format_version = kTableFormatVersionRangeDel + 1;
  bytes.resize(bytes.size() - kFooterBytes);
  EncodeFooter(footer, &bytes);
  ASSERT_TRUE(io::WriteFileAtomically(fs.get(), path, bytes).ok());
  s = testing::OpenTable(path, TableOptions{}, kFileNumber, nullptr, &table);
  ExpectTableCorruption(s);
  EXPECT_NE(s.message().find("unsupported format version"), std::string::npos) << s.ToString();

  // A footer whose index handle points past the file (checksum recomputed).
  footer.format_version = kTableFormatVersion;
  footer.index.offset = bytes.size() * 2;
  bytes.resize(bytes.size() - kFooterBytes);
  EncodeFooter(footer, &bytes);
  ASSERT_TRUE(io::WriteFileAtomically(fs.get(), path, bytes).ok());
  s = testing::OpenTable(path, TableOptions{}, kFileNumber, nullptr, &table);
  ExpectTableCorruption(s);
  EXPECT_NE(s.message().find("outside the file"), std::string::npos) << s.ToString();
}

}  // namespace
}  // namespace strata::lsm
