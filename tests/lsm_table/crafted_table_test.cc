// Tables whose checksums are all valid but whose contents are not: a
// writer's bug or a hostile file. The table is taken apart into its blocks,
// one thing is changed, and it is written back with every trailer checksum,
// handle and the footer checksum recomputed, so only the reader's checks of
// lengths, offsets, counts and key shapes stand between it and a crash (run
// these under the asan preset too). Each case is Corruption naming the file
// and an offset, at Open or at the read that reaches the bad block.
#include <fmt/core.h>
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "core/coding.h"
#include "io/file_system.h"
#include "lsm/block_builder.h"
#include "lsm/bloom.h"
#include "lsm/format.h"
#include "tests/lsm_table/table_test_util.h"
#include "tests/testing/test_util.h"

namespace strata::lsm {
namespace {

using testing::IKey;
using testing::Model;

constexpr uint64_t kFileNumber = 123;

// A table taken apart: block contents (uncompressed), the index entries and
// the properties as values.
struct TableParts {
  std::vector<std::string> data_blocks;
  std::vector<std::pair<std::string, std::string>> index;  // key, encoded handle
  std::string filter;                                      // empty: no filter
  TableProperties props;
};

// What a test changes while the parts are written back.
struct Edits {
  // After the data blocks are written: the index entries (handles filled in).
  std::function<void(std::vector<std::pair<std::string, std::string>>*)> index;
  // The index block's contents, once built.
  std::function<void(std::string*)> index_block;
  std::function<void(TableProperties*)> props;
  std::function<void(Footer*)> footer;
};

TableOptions Options() {
  TableOptions options;
  options.block_bytes = 200;
  options.block_restart_interval = 2;
  options.compression = Compression::kNone;
  return options;
}

Model Entries() {
  Model model;
  for (int i = 0; i < 40; ++i)
    model[IKey(fmt::format("key{:03}", i), 100 + i)] = fmt::format("v{}", i);
  return model;
}

Status Disassemble(const std::string& path, TableParts* parts) {
  std::unique_ptr<Table> table;
  STRATA_RETURN_IF_ERROR(testing::OpenTable(path, Options(), kFileNumber, nullptr, &table));
  std::unique_ptr<io::RandomAccessFile> file;
  STRATA_RETURN_IF_ERROR(
      io::DefaultFileSystem()->NewRandomAccessFile(path, io::FileOptions{}, &file));
  auto index = table->NewIndexIterator();
  for (index->SeekToFirst(); index->Valid(); index->Next()) {
    BlockHandle handle;
    STRATA_RETURN_IF_ERROR(table->DecodeDataHandle(index->value(), &handle));
    std::string contents;
    STRATA_RETURN_IF_ERROR(ReadBlock(*file, handle, table->name(), &contents));
    parts->data_blocks.push_back(std::move(contents));
    parts->index.emplace_back(std::string(index->key()), "");
  }
  STRATA_RETURN_IF_ERROR(index->status());
  if (!table->footer().filter.empty()) {
    STRATA_RETURN_IF_ERROR(ReadBlock(*file, table->footer().filter, table->name(), &parts->filter));
  }
  parts->props = table->properties();
  return Status::Ok();
}

void AppendBlock(std::string_view contents, std::string* file, BlockHandle* handle) {
  handle->offset = file->size();
  handle->bytes = contents.size();
  file->append(contents);
  AppendBlockTrailer(contents, BlockType::kRaw, file);
}

// Lays the parts out as the builder does (data | filter | index |
// properties | footer) with every handle and checksum computed afresh.
void Assemble(const std::string& path, TableParts parts, const Edits& edits) {
  std::string file;
  for (size_t i = 0; i < parts.data_blocks.size(); ++i) {
    BlockHandle handle;
    AppendBlock(parts.data_blocks[i], &file, &handle);
    parts.index[i].second.clear();
    EncodeBlockHandle(handle, &parts.index[i].second);
  }
  Footer footer;
  if (!parts.filter.empty()) AppendBlock(parts.filter, &file, &footer.filter);
  if (edits.index) edits.index(&parts.index);
  BlockBuilder index_builder(1);
  for (const auto& [key, handle] : parts.index) index_builder.Add(key, handle);
  std::string index_block(index_builder.Finish());
  if (edits.index_block) edits.index_block(&index_block);
  AppendBlock(index_block, &file, &footer.index);
  if (edits.props) edits.props(&parts.props);
  AppendBlock(EncodeTableProperties(parts.props), &file, &footer.properties);
  if (edits.footer) edits.footer(&footer);
  EncodeFooter(footer, &file);
  std::unique_ptr<io::WritableFile> out;
  ASSERT_TRUE(io::DefaultFileSystem()->NewWritableFile(path, io::FileOptions{}, &out).ok());
  ASSERT_TRUE(out->Append(file).ok());
  ASSERT_TRUE(out->Close().ok());
}

// Block contents from raw entries: every entry a restart unless
// `restart_interval` says otherwise (BlockBuilder takes any byte strings).
std::string RawBlock(const std::vector<std::pair<std::string, std::string>>& entries,
                     int restart_interval) {
  BlockBuilder builder(restart_interval);
  for (const auto& [k, v] : entries) builder.Add(k, v);
  return std::string(builder.Finish());
}

// The entries of data block `i` of the pristine table.
std::vector<std::pair<std::string, std::string>> BlockEntries(const TableParts& parts, size_t i) {
  std::shared_ptr<const Block> block;
  EXPECT_TRUE(Block::Parse(parts.data_blocks[i], "x", 0, &block).ok());
  std::vector<std::pair<std::string, std::string>> out;
  auto it = block->NewIterator();
  for (it->SeekToFirst(); it->Valid(); it->Next()) out.emplace_back(it->key(), it->value());
  return out;
}

void ExpectTableCorruption(const Status& s) {
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_NE(s.message().find("000123.sst @ "), std::string::npos) << s.ToString();
}

class CraftedTable : public ::testing::Test {
 protected:
  void SetUp() override {
    pristine_ = dir_.Join("pristine.sst");
    ASSERT_TRUE(testing::BuildTable(pristine_, Options(), Entries()).ok());
    ASSERT_TRUE(Disassemble(pristine_, &parts_).ok());
    ASSERT_GE(parts_.data_blocks.size(), 4u);
    ASSERT_FALSE(parts_.filter.empty());
  }

  // Writes the edited table and opens it.
  Status Open(const Edits& edits, std::unique_ptr<Table>* table) {
    const std::string path = dir_.Join("000123.sst");
    Assemble(path, parts_, edits);
    return testing::OpenTable(path, Options(), kFileNumber, nullptr, table);
  }

  // Open must fail with Corruption. If it does not (as before the checks),
  // the reads that crashed run first, so that asan shows what would happen.
  void ExpectOpenCorruption(const Edits& edits) {
    std::unique_ptr<Table> table;
    Status s = Open(edits, &table);
    if (s.ok()) {
      (void)table->ApproximateOffsetOf(IKey("key020", 200));
      bool found = false;
      std::string key, value;
      (void)table->Get(ReadOptions{}, IKey("key020", 200), &found, &key, &value, nullptr);
    }
    ExpectTableCorruption(s);
  }

  // Open succeeds (the damage is in a data block); a lookup of `user_key`
  // and a full scan both report Corruption, never a crash or a wrong value.
  void ExpectReadCorruption(const Edits& edits, std::string_view user_key) {
    std::unique_ptr<Table> table;
    Status s = Open(edits, &table);
    ASSERT_TRUE(s.ok()) << s.ToString();
    bool found = false;
    std::string key, value;
    SCOPED_TRACE("Get");
    ExpectTableCorruption(table->Get(ReadOptions{}, IKey(user_key, kMaxSequenceNumber), &found,
                                     &key, &value, nullptr));
    auto it = table->NewIterator(ReadOptions{});
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
    }
    SCOPED_TRACE("scan");
    ExpectTableCorruption(it->status());
    EXPECT_FALSE(table->VerifyChecksums().ok());
  }

  // Replaces data block i with `contents`.
  Edits ReplaceDataBlock(size_t i, std::string contents) {
    parts_.data_blocks[i] = std::move(contents);
    return Edits{};
  }

  strata::testing::ScratchDir dir_;
  std::string pristine_;
  TableParts parts_;
};

TEST_F(CraftedTable, UntouchedPartsReassembleIntoAGoodTable) {
  std::unique_ptr<Table> table;
  ASSERT_TRUE(Open(Edits{}, &table).ok());
  EXPECT_TRUE(table->VerifyChecksums().ok());
  bool found = false;
  std::string key, value;
  ASSERT_TRUE(table->Get(ReadOptions{}, IKey("key020", 200), &found, &key, &value, nullptr).ok());
  EXPECT_TRUE(found);
  EXPECT_EQ(value, "v20");
}

// --- The index block (checked whole at Open) -------------------------------

// The reported crash: Seek's binary search compared a 3-byte index key as an
// internal key (heap-buffer-overflow in CompareInternalKeys).
TEST_F(CraftedTable, IndexKeyShorterThanTrailer) {
  ExpectOpenCorruption({.index = [](auto* index) { (*index)[2].first = "abc"; }});
}

TEST_F(CraftedTable, IndexKeyWithBadType) {
  ExpectOpenCorruption({.index = [](auto* index) {
    std::string& key = (*index)[1].first;
    key[key.size() - kInternalKeyTrailerBytes] = 9;  // the type byte
  }});
}

TEST_F(CraftedTable, IndexKeysOutOfOrder) {
  ExpectOpenCorruption(
      {.index = [](auto* index) { std::swap((*index)[1].first, (*index)[2].first); }});
}

TEST_F(CraftedTable, IndexHandleOutsideTheDataArea) {
  ExpectOpenCorruption({.index = [](auto* index) {
    (*index)[1].second.clear();
    EncodeBlockHandle(BlockHandle{1 << 20, 100}, &(*index)[1].second);
  }});
}

TEST_F(CraftedTable, IndexHandleWithTrailingBytes) {
  ExpectOpenCorruption({.index = [](auto* index) { (*index)[0].second += "x"; }});
}

TEST_F(CraftedTable, IndexHandlesOverlap) {
  ExpectOpenCorruption({.index = [](auto* index) { (*index)[2].second = (*index)[1].second; }});
}

// Dropping an index entry silently hid a whole data block.
TEST_F(CraftedTable, IndexMissesADataBlock) {
  ExpectOpenCorruption({.index = [](auto* index) { index->pop_back(); }});
}

TEST_F(CraftedTable, IndexRestartEntrySharesAPrefix) {
  ExpectOpenCorruption({.index_block = [](std::string* block) {
    (*block)[0] = 1;  // entry 0: shared length 1, with no key before it
  }});
}

TEST_F(CraftedTable, IndexRestartCountTooLarge) {
  ExpectOpenCorruption({.index_block = [](std::string* block) {
    EncodeFixed32(block->data() + block->size() - 4, 1u << 30);
  }});
}

// --- Data blocks (checked when read) ---------------------------------------

TEST_F(CraftedTable, DataRestartKeyShorterThanTrailer) {
  auto entries = BlockEntries(parts_, 1);
  entries[0].first = "ab";
  const std::string user_key(ExtractUserKey(entries[1].first));
  ExpectReadCorruption(ReplaceDataBlock(1, RawBlock(entries, 1)), user_key);
}

TEST_F(CraftedTable, DataRestartKeysOutOfOrder) {
  auto entries = BlockEntries(parts_, 1);
  std::swap(entries[0], entries[entries.size() - 1]);
  const std::string user_key(ExtractUserKey(entries[1].first));
  ExpectReadCorruption(ReplaceDataBlock(1, RawBlock(entries, 1)), user_key);
}

// Entries between restarts are checked as they are decoded: a lookup that
// walks past one (entries[2] lies behind entries[1] in restart group 0).
TEST_F(CraftedTable, DataKeyBetweenRestartsShorterThanTrailer) {
  auto entries = BlockEntries(parts_, 1);
  const std::string user_key(ExtractUserKey(entries[2].first));
  entries[1].first = "k";  // a non-restart entry with restart interval 4
  ExpectReadCorruption(ReplaceDataBlock(1, RawBlock(entries, 4)), user_key);
}

TEST_F(CraftedTable, DataEntryRunsPastTheBlock) {
  auto entries = BlockEntries(parts_, 1);
  const std::string user_key(ExtractUserKey(entries[2].first));
  std::string block = RawBlock(entries, 1);
  // The last entry (the last restart): a value length past the entry area.
  const size_t last = DecodeFixed32(block.data() + block.size() - 8);
  block[last + 2] = 0x7f;
  ExpectReadCorruption(ReplaceDataBlock(1, block), user_key);
}

TEST_F(CraftedTable, DataEntrySharesMoreThanThePreviousKey) {
  auto entries = BlockEntries(parts_, 1);
  const std::string user_key(ExtractUserKey(entries[2].first));
  std::string block = RawBlock(entries, 4);
  // Entry 1 starts after entry 0's header (3 bytes), key and value.
  const size_t entry1 = 3 + entries[0].first.size() + entries[0].second.size();
  block[entry1] = 0x70;
  ExpectReadCorruption(ReplaceDataBlock(1, block), user_key);
}

TEST_F(CraftedTable, DataRestartArrayOutOfOrder) {
  auto entries = BlockEntries(parts_, 1);
  const std::string user_key(ExtractUserKey(entries.back().first));
  std::string block = RawBlock(entries, 1);
  const size_t restarts = block.size() - 4 - 4 * entries.size();
  EncodeFixed32(block.data() + restarts + 4, DecodeFixed32(block.data() + restarts + 8));
  ExpectReadCorruption(ReplaceDataBlock(1, block), user_key);
}

// --- Filter, footer, properties --------------------------------------------

TEST_F(CraftedTable, FilterWithZeroProbes) {
  parts_.filter.back() = 0;
  ExpectOpenCorruption({});
}

TEST_F(CraftedTable, FilterWithTooManyProbes) {
  parts_.filter.back() = static_cast<char>(kBloomProbesMax + 1);
  ExpectOpenCorruption({});
}

TEST_F(CraftedTable, FilterOfOneByte) {
  parts_.filter = std::string(1, 7);
  ExpectOpenCorruption({});
}

TEST_F(CraftedTable, FooterHandleOutsideTheFile) {
  ExpectOpenCorruption({.footer = [](Footer* f) { f->properties.bytes += 1 << 20; }});
}

TEST_F(CraftedTable, FooterIndexHandleEmpty) {
  ExpectOpenCorruption({.footer = [](Footer* f) { f->index.bytes = 0; }});
}

TEST_F(CraftedTable, FooterIndexHandleOnTheFilter) {
  ExpectOpenCorruption({.footer = [](Footer* f) { f->index = f->filter; }});
}

TEST_F(CraftedTable, PropertiesSmallestKeyShorterThanTrailer) {
  ExpectOpenCorruption({.props = [](TableProperties* p) { p->smallest_key = "abc"; }});
}

TEST_F(CraftedTable, PropertiesSmallestAboveLargest) {
  ExpectOpenCorruption(
      {.props = [](TableProperties* p) { std::swap(p->smallest_key, p->largest_key); }});
}

TEST_F(CraftedTable, PropertiesSequencesInverted) {
  ExpectOpenCorruption(
      {.props = [](TableProperties* p) { std::swap(p->smallest_seq, p->largest_seq); }});
}

TEST_F(CraftedTable, PropertiesCountMoreDataBlocksThanTheIndex) {
  ExpectOpenCorruption({.props = [](TableProperties* p) { ++p->data_block_count; }});
}

TEST_F(CraftedTable, PropertiesCountMoreDeletionsThanEntries) {
  ExpectOpenCorruption(
      {.props = [](TableProperties* p) { p->deletion_count = p->entry_count + 1; }});
}

}  // namespace
}  // namespace strata::lsm
