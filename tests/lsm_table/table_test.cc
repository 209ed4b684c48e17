// Table builder + reader round trips against a std::map model.
#include <fmt/core.h>
#include <gtest/gtest.h>

#include <random>

#include "lsm/merging_iterator.h"
#include "tests/lsm_table/table_test_util.h"
#include "tests/testing/test_util.h"

namespace strata::lsm {
namespace {

using testing::IKey;
using testing::Model;

TableOptions SmallBlocks(Compression compression) {
  TableOptions options;
  options.block_bytes = 512;
  options.block_restart_interval = 4;
  options.compression = compression;
  return options;
}

void CheckIterationMatches(const Table& table, const Model& model) {
  auto it = table.NewIterator(ReadOptions{});
  auto expected = model.begin();
  for (it->SeekToFirst(); it->Valid(); it->Next(), ++expected) {
    ASSERT_NE(expected, model.end());
    ASSERT_EQ(it->key(), expected->first);
    ASSERT_EQ(it->value(), expected->second);
  }
  ASSERT_TRUE(it->status().ok()) << it->status().ToString();
  ASSERT_EQ(expected, model.end());
}

void CheckSeeksMatch(const Table& table, const Model& model, uint64_t seed) {
  std::mt19937_64 rng(seed);
  auto it = table.NewIterator(ReadOptions{});
  std::vector<std::string> keys;
  for (const auto& [k, v] : model) keys.push_back(k);
  for (int i = 0; i < 500; ++i) {
    // Existing keys, and keys between them (other sequence numbers).
    const std::string& base = keys[rng() % keys.size()];
    std::string target = base;
    if (rng() % 2 == 0) {
      target = IKey(ExtractUserKey(base), rng() % 5000, ValueType::kVersionedValue);
    }
    it->Seek(target);
    auto expected = model.lower_bound(target);
    for (int step = 0; step < 3; ++step, ++expected) {
      if (expected == model.end()) {
        ASSERT_FALSE(it->Valid());
        break;
      }
      ASSERT_TRUE(it->Valid()) << it->status().ToString();
      ASSERT_EQ(it->key(), expected->first);
      ASSERT_EQ(it->value(), expected->second);
      it->Next();
    }
  }
  it->Seek(IKey("zzzzzzzzzzzzzzzzzzzzzzzzzz", 1));
  ASSERT_FALSE(it->Valid());
  ASSERT_TRUE(it->status().ok());
}

void CheckGetsMatch(const Table& table, const Model& model, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<std::string> keys;
  for (const auto& [k, v] : model) keys.push_back(k);
  for (int i = 0; i < 500; ++i) {
    const std::string& base = keys[rng() % keys.size()];
    // Read as of a random sequence, or a user key that is absent.
    std::string user_key(ExtractUserKey(base));
    if (rng() % 4 == 0) user_key += "#absent";
    const std::string lookup = LookupKey(user_key, rng() % 5000);
    bool found = false;
    std::string ikey, value;
    ASSERT_TRUE(table.Get(ReadOptions{}, lookup, &found, &ikey, &value, nullptr).ok());
    auto expected = model.lower_bound(lookup);
    const bool expect_found =
        expected != model.end() && ExtractUserKey(expected->first) == user_key;
    ASSERT_EQ(found, expect_found) << user_key;
    if (found) {
      ASSERT_EQ(ikey, expected->first);
      ASSERT_EQ(value, expected->second);
    }
  }
}

class TableRoundTrip : public ::testing::TestWithParam<Compression> {};

TEST_P(TableRoundTrip, RandomKeysMatchModel) {
  strata::testing::ScratchDir dir;
  for (uint64_t seed : {1, 2, 3}) {
    seed = strata::testing::TestSeed(seed);
    SCOPED_TRACE(fmt::format("seed={}", seed));
    const Model model = testing::RandomEntries(seed, 2000);
    const std::string path = dir.Join(fmt::format("{:06}.sst", seed));
    TableProperties built;
    ASSERT_TRUE(testing::BuildTable(path, SmallBlocks(GetParam()), model, &built).ok());
    std::unique_ptr<Table> table;
    Status s = testing::OpenTable(path, SmallBlocks(GetParam()), seed, nullptr, &table);
    ASSERT_TRUE(s.ok()) << s.ToString();

    const TableProperties& props = table->properties();
    EXPECT_EQ(props.entry_count, model.size());
    EXPECT_EQ(props.smallest_key, model.begin()->first);
    EXPECT_EQ(props.largest_key, model.rbegin()->first);
    EXPECT_GT(props.data_block_count, 10u);
    EXPECT_EQ(props.data_bytes, built.data_bytes);
    EXPECT_EQ(props.index_bytes, built.index_bytes);
    uint64_t deletions = 0;
    for (const auto& [k, v] : model) {
      ParsedInternalKey p;
      ASSERT_TRUE(ParseInternalKey(k, &p));
      deletions += p.type == ValueType::kDeletion;
    }
    EXPECT_EQ(props.deletion_count, deletions);
    EXPECT_EQ(props.smallest_seq, 1u);
    EXPECT_EQ(props.largest_seq, model.size());

    CheckIterationMatches(*table, model);
    CheckSeeksMatch(*table, model, seed);
    CheckGetsMatch(*table, model, seed);
    EXPECT_TRUE(table->VerifyChecksums().ok());
    EXPECT_EQ(props.compression, GetParam());
    // (LZ4 has no entropy coder: these random values do not shrink enough.)
    if (GetParam() == Compression::kZstd) {
      EXPECT_GT(props.compressed_block_count, 0u);
      EXPECT_LT(props.data_bytes, props.raw_data_bytes);
    } else if (GetParam() == Compression::kNone) {
      EXPECT_EQ(props.compressed_block_count, 0u);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Compression, TableRoundTrip,
                         ::testing::Values(Compression::kNone, Compression::kZstd,
                                           Compression::kLz4));

TEST(Table, EmptyTable) {
  strata::testing::ScratchDir dir;
  const std::string path = dir.Join("000001.sst");
  ASSERT_TRUE(testing::BuildTable(path, TableOptions{}, Model{}).ok());
  std::unique_ptr<Table> table;
  ASSERT_TRUE(testing::OpenTable(path, TableOptions{}, 1, nullptr, &table).ok());
  auto it = table->NewIterator(ReadOptions{});
  it->SeekToFirst();
  EXPECT_FALSE(it->Valid());
  EXPECT_TRUE(it->status().ok());
  bool found = true;
  std::string k, v;
  ASSERT_TRUE(table->Get(ReadOptions{}, LookupKey("a", 9), &found, &k, &v, nullptr).ok());
  EXPECT_FALSE(found);
  EXPECT_EQ(table->properties().entry_count, 0u);
  EXPECT_TRUE(table->VerifyChecksums().ok());
}

TEST(Table, WithoutBloomFilter) {
  strata::testing::ScratchDir dir;
  const Model model = testing::RandomEntries(strata::testing::TestSeed(5), 300);
  const std::string path = dir.Join("000013.sst");
  TableOptions options;
  options.bloom_bits_per_key = 0;
  ASSERT_TRUE(testing::BuildTable(path, options, model).ok());
  std::unique_ptr<Table> table;
  ASSERT_TRUE(testing::OpenTable(path, options, 13, nullptr, &table).ok());
  EXPECT_TRUE(table->footer().filter.empty());
  EXPECT_EQ(table->properties().filter_bytes, 0u);
  EXPECT_TRUE(table->KeyMayMatch("surely-absent"));
  CheckIterationMatches(*table, model);
  CheckGetsMatch(*table, model, 5);
  EXPECT_TRUE(table->VerifyChecksums().ok());
}

TEST(Table, LargeValuesMakeOwnBlocks) {
  strata::testing::ScratchDir dir;
  Model model;
  for (int i = 0; i < 20; ++i) {
    model[IKey(fmt::format("key{:03}", i), 100 + i)] = std::string(10000 + i, 'a' + i % 26);
  }
  const std::string path = dir.Join("000002.sst");
  TableOptions options;
  options.compression = Compression::kNone;
  ASSERT_TRUE(testing::BuildTable(path, options, model).ok());
  std::unique_ptr<Table> table;
  ASSERT_TRUE(testing::OpenTable(path, options, 2, nullptr, &table).ok());
  EXPECT_EQ(table->properties().data_block_count, 20u);
  CheckIterationMatches(*table, model);
}

TEST(Table, BloomNegativeSkipsRead) {
  strata::testing::ScratchDir dir;
  Model model;
  for (int i = 0; i < 1000; ++i) model[IKey(fmt::format("user{:05}", i), i + 1)] = "v";
  const std::string path = dir.Join("000003.sst");
  ASSERT_TRUE(testing::BuildTable(path, TableOptions{}, model).ok());
  BlockCache cache(1 << 20);
  std::unique_ptr<Table> table;
  ASSERT_TRUE(testing::OpenTable(path, TableOptions{}, 3, &cache, &table).ok());
  int negatives = 0;
  for (int i = 0; i < 1000; ++i) {
    bool found = false, negative = false;
    std::string k, v;
    ASSERT_TRUE(table->Get(ReadOptions{}, LookupKey(fmt::format("absent{:05}", i), 5000),
                           &found, &k, &v, &negative)
                    .ok());
    EXPECT_FALSE(found);
    negatives += negative;
  }
  EXPECT_GT(negatives, 950);
  // A bloom negative never touches the cache.
  EXPECT_EQ(cache.hits() + cache.misses(), static_cast<uint64_t>(1000 - negatives));
}

TEST(Table, ApproximateOffsetsIncrease) {
  strata::testing::ScratchDir dir;
  Model model;
  for (int i = 0; i < 2000; ++i) model[IKey(fmt::format("k{:06}", i), i + 1)] = "value-value";
  const std::string path = dir.Join("000004.sst");
  TableOptions options;
  options.compression = Compression::kNone;
  ASSERT_TRUE(testing::BuildTable(path, options, model).ok());
  std::unique_ptr<Table> table;
  ASSERT_TRUE(testing::OpenTable(path, options, 4, nullptr, &table).ok());
  EXPECT_EQ(table->ApproximateOffsetOf(IKey("a", 1)), 0u);
  const uint64_t mid = table->ApproximateOffsetOf(IKey("k001000", 1001));
  const uint64_t end = table->ApproximateOffsetOf(IKey("z", 1));
  EXPECT_GT(mid, end / 3);
  EXPECT_LT(mid, 2 * end / 3);
  EXPECT_EQ(end, table->properties().data_bytes);
}

TEST(MergingIterator, MatchesModel) {
  for (uint64_t seed : {11, 12}) {
    seed = strata::testing::TestSeed(seed);
    SCOPED_TRACE(fmt::format("seed={}", seed));
    strata::testing::ScratchDir dir;
    // Split one model across several tables (and an empty one).
    const Model model = testing::RandomEntries(seed, 1500);
    std::mt19937_64 rng(seed);
    constexpr int kTables = 5;
    std::vector<Model> parts(kTables);
    for (const auto& [k, v] : model) parts[rng() % (kTables - 1)][k] = v;
    std::vector<std::unique_ptr<Table>> tables;
    for (int i = 0; i < kTables; ++i) {
      const std::string path = dir.Join(fmt::format("{:06}.sst", i + 1));
      ASSERT_TRUE(testing::BuildTable(path, SmallBlocks(Compression::kNone), parts[i]).ok());
      tables.emplace_back();
      ASSERT_TRUE(testing::OpenTable(path, TableOptions{}, i + 1, nullptr, &tables.back()).ok());
    }
    auto make = [&] {
      std::vector<std::unique_ptr<InternalIterator>> children;
      for (auto& t : tables) children.push_back(t->NewIterator(ReadOptions{}));
      return NewMergingIterator(std::move(children));
    };
    auto it = make();
    auto expected = model.begin();
    for (it->SeekToFirst(); it->Valid(); it->Next(), ++expected) {
      ASSERT_NE(expected, model.end());
      ASSERT_EQ(it->key(), expected->first);
      ASSERT_EQ(it->value(), expected->second);
    }
    ASSERT_EQ(expected, model.end());
    std::vector<std::string> keys;
    for (const auto& [k, v] : model) keys.push_back(k);
    for (int i = 0; i < 300; ++i) {
      const std::string target = IKey(ExtractUserKey(keys[rng() % keys.size()]), rng() % 4000,
                                      ValueType::kVersionedValue);
      it->Seek(target);
      auto e = model.lower_bound(target);
      for (int step = 0; step < 4 && e != model.end(); ++step, ++e, it->Next()) {
        ASSERT_TRUE(it->Valid());
        ASSERT_EQ(it->key(), e->first);
      }
    }
    auto empty = NewMergingIterator({});
    empty->SeekToFirst();
    EXPECT_FALSE(empty->Valid());
  }
}

}  // namespace
}  // namespace strata::lsm

namespace strata::lsm {
namespace {

TableProperties BuildWith(const std::string& path, TableOptions options, const Model& model) {
  TableProperties props;
  EXPECT_TRUE(testing::BuildTable(path, options, model, &props).ok());
  std::unique_ptr<Table> table;
  EXPECT_TRUE(testing::OpenTable(path, options, 9, nullptr, &table).ok());
  CheckIterationMatches(*table, model);
  EXPECT_EQ(table->properties().compressed_block_count, props.compressed_block_count);
  return props;
}

// A failed write is sticky: every later call reports it, and nothing claims success.
TEST(TableBuilder, WriteErrorIsSticky) {
  strata::testing::ScratchDir dir;
  auto fs = io::DefaultFileSystem();
  std::unique_ptr<io::WritableFile> file;
  ASSERT_TRUE(fs->NewWritableFile(dir.Join("000010.sst"), io::FileOptions{}, &file).ok());
  ASSERT_TRUE(file->Close().ok());  // every write now fails
  TableOptions options;
  options.compression = Compression::kNone;  // so that the bytes reach the file
  TableBuilder builder(options, file.get());
  Status first;
  for (int i = 0; i < 100 && first.ok(); ++i) {
    first = builder.Add(IKey(fmt::format("key{:04}", i), i + 1), std::string(4000, 'v'));
  }
  ASSERT_FALSE(first.ok());
  EXPECT_FALSE(builder.Add(IKey("zzz", 1), "v").ok());
  EXPECT_FALSE(builder.Finish().ok());
}

TEST(TableBuilder, AbandonWritesNoFooter) {
  strata::testing::ScratchDir dir;
  const std::string path = dir.Join("000011.sst");
  auto fs = io::DefaultFileSystem();
  std::unique_ptr<io::WritableFile> file;
  ASSERT_TRUE(fs->NewWritableFile(path, io::FileOptions{}, &file).ok());
  TableBuilder builder(TableOptions{}, file.get());
  ASSERT_TRUE(builder.Add(IKey("a", 1), "v").ok());
  EXPECT_EQ(builder.entry_count(), 1u);
  EXPECT_GT(builder.file_bytes(), 0u);
  builder.Abandon();
  ASSERT_TRUE(file->Close().ok());
  std::unique_ptr<Table> table;
  EXPECT_TRUE(testing::OpenTable(path, TableOptions{}, 11, nullptr, &table).IsCorruption());
}

TEST(TableCompression, SkippedWhenItDoesNotSave) {
  strata::testing::ScratchDir dir;
  std::mt19937_64 rng(strata::testing::TestSeed(41));
  Model compressible, random;
  for (int i = 0; i < 500; ++i) {
    compressible[IKey(fmt::format("key{:05}", i), i + 1)] = std::string(100, 'a' + i % 3);
    std::string noise(100, '\0');
    for (char& c : noise) c = static_cast<char>(rng());
    random[IKey(fmt::format("key{:05}", i), i + 1)] = noise;
  }
  TableOptions zstd;
  zstd.compression = Compression::kZstd;
  TableOptions off = zstd;
  off.compression = Compression::kNone;

  const TableProperties c = BuildWith(dir.Join("1.sst"), zstd, compressible);
  EXPECT_EQ(c.compressed_block_count, c.data_block_count);
  EXPECT_LT(c.data_bytes * 4, c.raw_data_bytes);
  const TableProperties c_off = BuildWith(dir.Join("2.sst"), off, compressible);
  EXPECT_EQ(c_off.compressed_block_count, 0u);
  EXPECT_EQ(c_off.data_bytes, c_off.raw_data_bytes + c_off.data_block_count * kBlockTrailerBytes);

  // Random values: zstd cannot save 12.5%, so every block is stored raw.
  const TableProperties r = BuildWith(dir.Join("3.sst"), zstd, random);
  EXPECT_EQ(r.compressed_block_count, 0u);
  EXPECT_EQ(r.data_bytes, r.raw_data_bytes + r.data_block_count * kBlockTrailerBytes);

  // Demanding 99% savings keeps even compressible blocks raw.
  TableOptions strict = zstd;
  strict.compression_min_savings = 0.99;
  EXPECT_EQ(BuildWith(dir.Join("4.sst"), strict, compressible).compressed_block_count, 0u);
}

// Incompressible blocks back off: after a run of failures most blocks are
// stored raw without an attempt, and compressible data that follows is
// found again within 64 blocks.
TEST(TableCompression, BacksOffOnIncompressibleRunsAndRecovers) {
  strata::testing::ScratchDir dir;
  std::mt19937_64 rng(strata::testing::TestSeed(43));
  auto fs = io::DefaultFileSystem();
  std::unique_ptr<io::WritableFile> file;
  ASSERT_TRUE(fs->NewWritableFile(dir.Join("000012.sst"), io::FileOptions{}, &file).ok());
  TableOptions options = SmallBlocks(Compression::kZstd);
  TableBuilder builder(options, file.get());
  Model model;
  int i = 0;
  // 2000 entries of noise (about 400 blocks of 512 bytes), then 2000 of text.
  for (; i < 2000; ++i) {
    std::string noise(100, '\0');
    for (char& c : noise) c = static_cast<char>(rng());
    model[IKey(fmt::format("key{:05}", i), i + 1)] = noise;
  }
  for (; i < 4000; ++i) model[IKey(fmt::format("key{:05}", i), i + 1)] = std::string(100, 'a');
  for (const auto& [k, v] : model) ASSERT_TRUE(builder.Add(k, v).ok());
  ASSERT_TRUE(builder.Finish().ok());
  ASSERT_TRUE(file->Close().ok());
  const TableProperties& p = builder.properties();
  // About half the blocks hold noise; attempts on them are a small share.
  EXPECT_LT(builder.compression_attempts(), p.data_block_count / 2 + 64);
  EXPECT_GT(p.compressed_block_count + 64, p.data_block_count - p.data_block_count / 2 - 8);
  EXPECT_GT(p.compressed_block_count, 0u);
  std::unique_ptr<Table> table;
  ASSERT_TRUE(testing::OpenTable(dir.Join("000012.sst"), options, 12, nullptr, &table).ok());
  CheckIterationMatches(*table, model);
}

}  // namespace
}  // namespace strata::lsm

namespace strata::lsm {
namespace {

// Counts reads (and, if asked, bytes) on a real file, to see what the table
// asks of the disk.
class CountingFile final : public io::RandomAccessFile {
 public:
  CountingFile(std::unique_ptr<io::RandomAccessFile> base, int* reads,
               uint64_t* bytes = nullptr)
      : base_(std::move(base)), reads_(reads), bytes_(bytes) {}
  Status Read(uint64_t offset, size_t n, char* buf, size_t* bytes_read) const override {
    ++*reads_;
    if (bytes_ != nullptr) *bytes_ += n;
    return base_->Read(offset, n, buf, bytes_read);
  }
  Result<uint64_t> Size() const override { return base_->Size(); }
  const std::string& path() const override { return base_->path(); }

 private:
  std::unique_ptr<io::RandomAccessFile> base_;
  int* reads_;
  uint64_t* bytes_;
};

// A table of `keys` entries in 1 KiB uncompressed blocks, opened on a
// CountingFile.
void OpenCountedTable(const strata::testing::ScratchDir& dir, int keys, Model* model, int* reads,
                      uint64_t* bytes, std::unique_ptr<Table>* table) {
  for (int i = 0; i < keys; ++i) (*model)[IKey(fmt::format("key{:06}", i), i + 1)] = "some value";
  const std::string path = dir.Join("000012.sst");
  TableOptions options;
  options.compression = Compression::kNone;
  options.block_bytes = 1024;
  ASSERT_TRUE(testing::BuildTable(path, options, *model).ok());
  std::unique_ptr<io::RandomAccessFile> base;
  ASSERT_TRUE(io::DefaultFileSystem()->NewRandomAccessFile(path, io::FileOptions{}, &base).ok());
  const uint64_t size = base->Size().value();
  ASSERT_TRUE(Table::Open(options, std::make_unique<CountingFile>(std::move(base), reads, bytes),
                          size, 12, nullptr, table)
                  .ok());
}

TEST(TableReadahead, SequentialScanReadsFewerTimesThanBlocks) {
  strata::testing::ScratchDir dir;
  Model model;
  int reads = 0;
  std::unique_ptr<Table> table;
  ASSERT_NO_FATAL_FAILURE(OpenCountedTable(dir, 5000, &model, &reads, nullptr, &table));
  const uint64_t blocks = table->properties().data_block_count;
  ASSERT_GT(blocks, 40u);
  reads = 0;
  CheckIterationMatches(*table, model);
  // Two single-block reads start the sequential run; then 16, 32, 64 KiB ...
  EXPECT_LT(reads, 7) << blocks << " blocks";
  // Point reads never read ahead: one read per Get.
  reads = 0;
  bool found = false;
  std::string k, v;
  ASSERT_TRUE(table->Get(ReadOptions{}, IKey("key002500", 2501), &found, &k, &v, nullptr).ok());
  EXPECT_TRUE(found);
  EXPECT_EQ(reads, 1);
}

// A short range scan (a seek and a few blocks' worth of entries) reads only a
// little past what it uses; readahead grows only for a long scan.
TEST(TableReadahead, ShortScanReadsLittleAhead) {
  strata::testing::ScratchDir dir;
  Model model;
  int reads = 0;
  uint64_t bytes = 0;
  std::unique_ptr<Table> table;
  ASSERT_NO_FATAL_FAILURE(OpenCountedTable(dir, 20000, &model, &reads, &bytes, &table));
  bytes = 0;
  // About five blocks of entries from the middle of the table.
  auto it = table->NewIterator(ReadOptions{});
  auto e = model.find(IKey("key010000", 10001));
  it->Seek(e->first);
  for (int n = 0; n < 150; ++n, ++e, it->Next()) {
    ASSERT_TRUE(it->Valid());
    ASSERT_EQ(it->key(), e->first);
  }
  EXPECT_LE(bytes, 2 * 1024 + 2 * ReadaheadBuffer::kReadaheadBytesMin);
  // A long scan from there on reaches the largest read size.
  bytes = 0;
  reads = 0;
  for (; it->Valid(); it->Next(), ++e) ASSERT_EQ(it->key(), e->first);
  ASSERT_TRUE(it->status().ok());
  EXPECT_EQ(e, model.end());
  EXPECT_LT(reads, 12);
}

}  // namespace
}  // namespace strata::lsm
