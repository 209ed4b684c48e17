// snapshot/FORMAT.md's worked example: the hex dump it quotes is the stream
// this test writes, byte for byte.
#include <fmt/core.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "snapshot/stream_reader.h"
#include "snapshot/stream_writer.h"
#include "tests/snapshot/snapshot_test_util.h"
#include "tests/testing/test_util.h"

namespace strata::snapshot::testing {
namespace {

// 16 bytes per line: "00000010  xx xx ... xx  |ascii...|".
std::string HexDump(std::string_view bytes) {
  std::string out;
  for (size_t line = 0; line < bytes.size(); line += 16) {
    out += fmt::format("{:08x} ", line);
    std::string ascii;
    for (size_t i = line; i < line + 16; ++i) {
      if (i < bytes.size()) {
        const auto b = static_cast<uint8_t>(bytes[i]);
        out += fmt::format(" {:02x}", b);
        ascii += (b >= 0x20 && b < 0x7f) ? static_cast<char>(b) : '.';
      } else {
        out += "   ";
      }
    }
    out += fmt::format("  |{}|\n", ascii);
  }
  return out;
}

TEST(SnapshotFormatTest, FormatMdQuotesTheWorkedExample) {
  ::strata::testing::ScratchDir dir;
  Options o = SmallOptions("lsm");
  std::unique_ptr<Engine> db;
  ASSERT_TRUE(strata::Open(o, dir.Join("db"), &db).ok());
  ASSERT_TRUE(db->Put(WriteOptions{}, "a", "1").ok());
  bool applied = false;
  ASSERT_TRUE(db->PutIfNewer(WriteOptions{}, "b", 7, "22", &applied).ok());
  ASSERT_TRUE(applied);
  std::unique_ptr<Snapshot> snap = db->GetSnapshot();
  std::string stream;
  StreamOptions options;
  options.chunk_bytes = 4;  // one entry per chunk
  StreamInfo info;
  ASSERT_TRUE(WriteSnapshotStream(db.get(), *snap, options,
                                  [&](std::string_view b) {
                                    stream.append(b);
                                    return Status::Ok();
                                  },
                                  &info).ok());
  EXPECT_EQ(info.chunk_count, 2u);
  const std::string dump = HexDump(stream);
  std::ifstream in(std::string(STRATA_SOURCE_DIR) + "/snapshot/FORMAT.md");
  std::stringstream md;
  md << in.rdbuf();
  EXPECT_NE(md.str().find(dump), std::string::npos)
      << "snapshot/FORMAT.md must quote this dump verbatim:\n" << dump;
}

}  // namespace
}  // namespace strata::snapshot::testing
