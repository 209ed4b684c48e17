// `strata btree check|dump|stats` and `strata kv` on btree directories, and
// the worked hex dump in btree/FORMAT.md (rebuilt and compared here).
#include <fmt/core.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "btree/inspect.h"
#include "tests/btree/btree_test_util.h"
#include "tests/testing/test_util.h"

namespace strata::btree {
namespace {

struct CliRun {
  int exit_code = -1;
  std::string out;
};

CliRun Strata(const std::string& args) {
  CliRun run;
  const std::string cmd = fmt::format("{} {} 2>&1", STRATA_CLI_PATH, args);
  FILE* pipe = ::popen(cmd.c_str(), "r");
  if (pipe == nullptr) return run;
  char buf[4096];
  size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof(buf), pipe)) > 0) run.out.append(buf, n);
  const int status = ::pclose(pipe);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return run;
}

std::string ReadText(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The tiny database FORMAT.md dumps: 512-byte pages, one batch (a put, a
// versioned put, a value that overflows), then a clean close.
void BuildGoldenDatabase(const std::string& dir) {
  Options o = testing::TinyOptions(512);
  std::unique_ptr<Engine> db;
  ASSERT_TRUE(strata::Open(o, dir, &db).ok());
  WriteBatch batch;
  ASSERT_TRUE(batch.Put("apple", "red").ok());
  ASSERT_TRUE(batch.PutVersioned("kiwi", 7, "green").ok());
  ASSERT_TRUE(batch.Put("plum", std::string(130, 'p')).ok());
  ASSERT_TRUE(db->Write(WriteOptions{true}, batch).ok());
}

std::string DumpAll(const std::string& file) {
  auto fs = io::DefaultFileSystem();
  std::unique_ptr<io::RandomAccessFile> in;
  EXPECT_TRUE(fs->NewRandomAccessFile(file, io::FileOptions{}, &in).ok());
  size_t page_bytes = 0;
  Meta meta;
  EXPECT_TRUE(LoadNewestMeta(*in, &page_bytes, &meta).ok());
  std::string all;
  for (uint64_t no = 0; no < meta.page_count; ++no) {
    std::string out;
    EXPECT_TRUE(DescribePage(*in, page_bytes, no, true, &out).ok());
    all += out;
  }
  return all;
}

TEST(BtreeFormat, GoldenHexDumpInFormatMd) {
  strata::testing::ScratchDir dir;
  BuildGoldenDatabase(dir.path());
  const std::string dump = DumpAll(dir.Join(kDataFileName));
  const std::string doc = ReadText(std::string(STRATA_SOURCE_DIR) + "/btree/FORMAT.md");
  const std::string begin = "<!-- golden dump begin -->\n```\n";
  const std::string end = "```\n<!-- golden dump end -->";
  const size_t b = doc.find(begin);
  const size_t e = doc.find(end);
  ASSERT_NE(b, std::string::npos);
  ASSERT_NE(e, std::string::npos);
  const std::string golden = doc.substr(b + begin.size(), e - b - begin.size());
  if (std::getenv("STRATA_REGENERATE_GOLDEN")) {
    std::ofstream(dir.Join("golden.txt")) << dump;
    fmt::print("regenerated dump at {}\n", dir.Join("golden.txt"));
  }
  EXPECT_EQ(dump, golden) << "format changed? update btree/FORMAT.md\n" << dump;
}

TEST(BtreeTool, CheckDumpStatsAndKv) {
  strata::testing::ScratchDir dir;
  {
    auto db_dir = dir.Join("db");
    std::unique_ptr<Engine> db;
    ASSERT_TRUE(strata::Open(testing::TinyOptions(512), db_dir, &db).ok());
    for (int i = 0; i < 400; ++i) {
      ASSERT_TRUE(db->Put(WriteOptions{}, fmt::format("k{:04}", i), std::string(i % 200, 'v')).ok());
    }
  }
  const std::string db = dir.Join("db");
  CliRun check = Strata("btree check " + db);
  EXPECT_EQ(check.exit_code, 0) << check.out;
  EXPECT_NE(check.out.find("ok"), std::string::npos);
  CliRun stats = Strata("btree stats " + db);
  EXPECT_EQ(stats.exit_code, 0) << stats.out;
  EXPECT_NE(stats.out.find("entries 400"), std::string::npos) << stats.out;
  EXPECT_NE(stats.out.find("height 3"), std::string::npos) << stats.out;
  CliRun dump = Strata("btree dump " + db + " --page 2 --hex");
  EXPECT_EQ(dump.exit_code, 0) << dump.out;
  EXPECT_NE(dump.out.find("page 2 @ 1024"), std::string::npos) << dump.out;
  CliRun get = Strata("kv " + db + " get k0005");
  EXPECT_EQ(get.exit_code, 0) << get.out;
  EXPECT_EQ(get.out, std::string(5, 'v') + "\n");
  CliRun kvstats = Strata("kv " + db + " stats");
  EXPECT_NE(kvstats.out.find("kind btree"), std::string::npos) << kvstats.out;

  // A flipped bit in a tree page: exit 1 naming the page and its offset.
  CheckReport report;
  ASSERT_TRUE(testing::CheckDir(db, &report).ok());
  const uint64_t root = report.meta.root;
  std::string bytes = ReadText(db + "/" + kDataFileName);
  bytes[root * 512 + 100] ^= 0x10;
  std::ofstream(db + "/" + kDataFileName, std::ios::binary) << bytes;
  check = Strata("btree check " + db);
  EXPECT_EQ(check.exit_code, 1) << check.out;
  EXPECT_NE(check.out.find(fmt::format("page {} @ {}", root, root * 512 + 504)), std::string::npos)
      << check.out;
  // Repaired: clean again.
  bytes[root * 512 + 100] ^= 0x10;
  std::ofstream(db + "/" + kDataFileName, std::ios::binary) << bytes;
  EXPECT_EQ(Strata("btree check " + db).exit_code, 0);

  // A leaked page: the meta counts one more page that neither the tree nor
  // the free list reaches.
  Meta grown = report.meta;
  const uint64_t leaked = grown.page_count++;
  std::string meta_page(512, '\0');
  BuildMeta(meta_page.data(), 512, grown);
  bytes.replace((grown.checkpoint % 2) * 512, 512, meta_page);
  bytes.append(512, '\0');
  std::ofstream(db + "/" + kDataFileName, std::ios::binary) << bytes;
  check = Strata("btree check " + db);
  EXPECT_EQ(check.exit_code, 1) << check.out;
  EXPECT_NE(check.out.find(fmt::format("page {} @ {}: page is neither reachable nor free", leaked,
                                       leaked * 512)),
            std::string::npos)
      << check.out;

  // A checksum-valid meta whose page count times the page size wraps around
  // 2^64 (found by the btree fuzz target: the checker allocated 2^56 bytes,
  // and Open's size check was fooled the same way). Both call it corruption.
  Meta huge = report.meta;
  huge.page_count = uint64_t{1} << 56;
  BuildMeta(meta_page.data(), 512, huge);
  bytes.replace((huge.checkpoint % 2) * 512, 512, meta_page);
  std::ofstream(db + "/" + kDataFileName, std::ios::binary) << bytes;
  check = Strata("btree check " + db);
  EXPECT_EQ(check.exit_code, 1) << check.out;
  EXPECT_NE(check.out.find("the meta says 72057594037927936 pages"), std::string::npos)
      << check.out;
  Options options;
  options.engine = "btree";
  std::unique_ptr<Engine> engine;
  const Status opened = strata::Open(options, db, &engine);
  EXPECT_TRUE(opened.IsCorruption()) << opened.ToString();
}

}  // namespace
}  // namespace strata::btree
