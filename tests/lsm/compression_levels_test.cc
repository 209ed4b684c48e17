// Per-level compression (issue 15, item 2): flushes and compactions that do
// not write the bottommost data use Options::upper_level_compression (LZ4 by
// default), the bottom keeps Options::compression; tables of every kind stay
// readable side by side.
#include <fmt/core.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <map>

#include "lsm/manifest.h"
#include "tests/lsm/lsm_test_util.h"
#include "tests/lsm_table/table_test_util.h"
#include "tests/testing/test_util.h"

namespace strata::lsm {
namespace {

std::string Key(int i) { return fmt::format("key{:06}", i); }
std::string Value(int i, int round) {
  return fmt::format("{}-{}-{}", i, round, std::string(80, static_cast<char>('a' + i % 5)));
}

// Compression of each table in the directory, by file name.
std::map<std::string, Compression> TableCompressions(const std::string& dir) {
  std::map<std::string, Compression> out;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    uint64_t number = 0;
    const std::string name = entry.path().filename().string();
    if (ParseDbFileName(name, &number) != DbFileKind::kTable) continue;
    std::unique_ptr<Table> table;
    Status s = lsm::testing::OpenTable(entry.path().string(), TableOptions{}, number, nullptr,
                                       &table);
    EXPECT_TRUE(s.ok()) << s.ToString();
    if (!s.ok()) continue;
    EXPECT_GT(table->properties().compressed_block_count + (table->properties().compression ==
                                                            Compression::kNone),
              0u)
        << name;
    out[name] = table->properties().compression;
  }
  return out;
}

void WriteRound(Engine* db, int round) {
  for (int i = 0; i < 600; ++i) ASSERT_TRUE(db->Put(WriteOptions{}, Key(i), Value(i, round)).ok());
}

void ExpectRound(Engine* db, int round) {
  for (int i = 0; i < 600; i += 7) EXPECT_EQ(testing::GetOrStatus(db, Key(i)), Value(i, round));
}

TEST(LsmCompressionLevels, FlushesUseUpperCompressionAndTheBottomKeepsZstd) {
  strata::testing::ScratchDir dir;
  Options options = testing::TinyOptions();
  options.memtable_bytes = 1 << 20;  // one flush per round
  {
    std::unique_ptr<Engine> engine;
    ASSERT_TRUE(strata::Open(options, dir.path(), &engine).ok());
    auto* db = static_cast<DBImpl*>(engine.get());
    WriteRound(db, 0);
    ASSERT_TRUE(db->Flush().ok());
    auto tables = TableCompressions(dir.path());
    ASSERT_FALSE(tables.empty());
    for (const auto& [name, c] : tables) EXPECT_EQ(c, Compression::kLz4) << name;
    ExpectRound(db, 0);
    // Everything into one bottom run: zstd.
    ASSERT_TRUE(db->CompactAll().ok());
    ASSERT_TRUE(db->WaitForCompactions().ok());
    tables = TableCompressions(dir.path());
    ASSERT_FALSE(tables.empty());
    for (const auto& [name, c] : tables) EXPECT_EQ(c, Compression::kZstd) << name;
    ExpectRound(db, 0);
    // A newer flush above the zstd bottom: lz4 again, both read.
    WriteRound(db, 1);
    ASSERT_TRUE(db->Flush().ok());
    tables = TableCompressions(dir.path());
    int lz4 = 0;
    int zstd = 0;
    for (const auto& [name, c] : tables) {
      lz4 += c == Compression::kLz4;
      zstd += c == Compression::kZstd;
    }
    EXPECT_GT(lz4, 0);
    EXPECT_GT(zstd, 0);
    ExpectRound(db, 1);
    ASSERT_TRUE(db->Close().ok());
  }
  // Reopened with uncompressed upper levels: the lz4 and zstd tables read
  // beside the new raw ones.
  options.upper_level_compression = Compression::kNone;
  std::unique_ptr<Engine> db;
  ASSERT_TRUE(strata::Open(options, dir.path(), &db).ok());
  ExpectRound(db.get(), 1);
  WriteRound(db.get(), 2);
  ASSERT_TRUE(db->Flush().ok());
  int raw = 0;
  for (const auto& [name, c] : TableCompressions(dir.path())) raw += c == Compression::kNone;
  EXPECT_GT(raw, 0);
  ExpectRound(db.get(), 2);
  ASSERT_TRUE(db->Close().ok());
}

TEST(LsmCompressionLevels, NoCompressionMeansNoneAnywhere) {
  strata::testing::ScratchDir dir;
  Options options = testing::TinyOptions();
  options.compression = Compression::kNone;  // upper_level_compression stays kLz4
  std::unique_ptr<Engine> db;
  ASSERT_TRUE(strata::Open(options, dir.path(), &db).ok());
  WriteRound(db.get(), 0);
  ASSERT_TRUE(db->Flush().ok());
  const auto tables = TableCompressions(dir.path());
  ASSERT_FALSE(tables.empty());
  for (const auto& [name, c] : tables) EXPECT_EQ(c, Compression::kNone) << name;
  ExpectRound(db.get(), 0);
  ASSERT_TRUE(db->Close().ok());
}

}  // namespace
}  // namespace strata::lsm
