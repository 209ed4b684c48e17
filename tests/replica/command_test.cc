// Command encoding: self-delimiting, zero-padded to 8 bytes (the libraft 0.15
// wire bug), and every length and the padding validated on decode.
#include "replica/command.h"

#include <gtest/gtest.h>

#include <string>

namespace strata::replica {
namespace {

WriteBatch BatchWithValue(size_t value_bytes) {
  WriteBatch batch;
  EXPECT_TRUE(batch.Put("k", std::string(value_bytes, 'v')).ok());
  return batch;
}

TEST(CommandTest, EveryLengthIsPaddedToEightAndRoundTrips) {
  for (size_t n = 0; n < 64; ++n) {
    const std::string entry = EncodeCommand(7, 100 + n, BatchWithValue(n));
    ASSERT_EQ(entry.size() % kCommandAlignment, 0u) << n;
    Result<Command> cmd = DecodeCommand(entry);
    ASSERT_TRUE(cmd.ok()) << n << ": " << cmd.status().ToString();
    EXPECT_EQ(cmd->client_id, 7u);
    EXPECT_EQ(cmd->request_id, 100 + n);
    EXPECT_EQ(cmd->batch.rep(), BatchWithValue(n).rep());
  }
}

TEST(CommandTest, BadBytesAreCorruption) {
  const std::string good = EncodeCommand(1, 2, BatchWithValue(3));
  ASSERT_TRUE(DecodeCommand(good).ok());
  // Truncated, extended, not a multiple of 8.
  EXPECT_TRUE(DecodeCommand(good.substr(0, good.size() - 8)).status().IsCorruption());
  EXPECT_TRUE(DecodeCommand(good + std::string(8, '\0')).status().IsCorruption());
  EXPECT_TRUE(DecodeCommand(good.substr(0, good.size() - 1)).status().IsCorruption());
  EXPECT_TRUE(DecodeCommand("").status().IsCorruption());
  // Bad magic, a length beyond the entry, non-zero padding, a flipped batch byte.
  std::string bad = good;
  bad[0] ^= 1;
  EXPECT_TRUE(DecodeCommand(bad).status().IsCorruption());
  bad = good;
  bad[4] = static_cast<char>(0x7f);
  EXPECT_TRUE(DecodeCommand(bad).status().IsCorruption());
  bad = good;
  ASSERT_EQ(bad.back(), '\0');  // 3-byte value: the encoding has padding
  bad.back() = 'x';
  EXPECT_TRUE(DecodeCommand(bad).status().IsCorruption());
  bad = good;
  bad[kCommandHeaderBytes + 13] ^= 0x20;
  EXPECT_TRUE(DecodeCommand(bad).status().IsCorruption());
}

}  // namespace
}  // namespace strata::replica
