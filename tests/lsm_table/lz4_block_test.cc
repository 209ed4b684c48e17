// LZ4 table blocks (block type 3, lsm/FORMAT.md): round trip, and every
// malformed stored form (the checksum only proves the bytes are as written)
// gives Corruption, never a wrong block.
#include <fmt/core.h>
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "core/coding.h"
#include "lsm/format.h"
#include "lsm/lz4_block.h"

namespace strata::lsm {
namespace {

std::string Compressible(size_t bytes, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s;
  while (s.size() < bytes) s += fmt::format("key{:06}value{}", rng() % 1000, std::string(rng() % 20, 'v'));
  s.resize(bytes);
  return s;
}

Status Decode(std::string_view stored, std::string* out) {
  size_t raw_bytes = 0;
  size_t data_offset = 0;
  STRATA_RETURN_IF_ERROR(
      Lz4BlockRawBytes(stored, "t.sst", 100, kBlockBytesMax, &raw_bytes, &data_offset));
  out->assign(raw_bytes, '\0');
  return Lz4DecompressBlock(stored, data_offset, "t.sst", 100, out->data(), raw_bytes);
}

TEST(Lz4Block, RoundTrip) {
  for (size_t bytes : {size_t{0}, size_t{1}, size_t{100}, size_t{4096}, size_t{70000}}) {
    const std::string raw = Compressible(bytes, static_cast<uint32_t>(bytes));
    std::string stored;
    ASSERT_TRUE(Lz4CompressBlock(raw, &stored));
    if (bytes >= 4096) {
      EXPECT_LT(stored.size(), raw.size());
    }
    std::string out;
    ASSERT_TRUE(Decode(stored, &out).ok());
    EXPECT_EQ(out, raw);
  }
}

TEST(Lz4Block, MalformedStoredFormsAreCorruption) {
  const std::string raw = Compressible(4096, 7);
  std::string stored;
  ASSERT_TRUE(Lz4CompressBlock(raw, &stored));
  std::string out;
  // No size at all, and a size varint that does not end.
  EXPECT_TRUE(Decode("", &out).IsCorruption());
  EXPECT_TRUE(Decode("\xff\xff", &out).IsCorruption());
  // A size above the block limit.
  std::string huge;
  PutVarint32(&huge, static_cast<uint32_t>(kBlockBytesMax + 1));
  huge += stored.substr(2);
  Status s = Decode(huge, &out);
  EXPECT_TRUE(s.IsCorruption());
  EXPECT_NE(s.ToString().find("t.sst"), std::string::npos) << s.ToString();
  // A size that differs from what the data decodes to, either way.
  for (int delta : {-1, 1}) {
    std::string wrong;
    PutVarint32(&wrong, static_cast<uint32_t>(4096 + delta));
    std::string_view rest = stored;
    uint32_t n = 0;
    ASSERT_TRUE(GetVarint32(&rest, &n));
    wrong.append(rest);
    EXPECT_TRUE(Decode(wrong, &out).IsCorruption()) << delta;
  }
  // Every truncation of the LZ4 data.
  for (size_t cut = 2; cut < stored.size(); ++cut) {
    EXPECT_TRUE(Decode(std::string_view(stored).substr(0, cut), &out).IsCorruption()) << cut;
  }
}

}  // namespace
}  // namespace strata::lsm
