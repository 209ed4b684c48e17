// WAL record payloads: batches of 4 KiB or more are logged zstd-compressed
// and replay exactly; small or incompressible ones stay plain; a damaged
// compressed payload is Corruption naming the record, never a crash.
#include <fmt/core.h>
#include <gtest/gtest.h>

#include <random>

#include "lsm/wal_payload.h"
#include "strata/engine.h"
#include "strata/write_batch.h"
#include "tests/lsm/lsm_test_util.h"
#include "tests/testing/test_util.h"

namespace strata::lsm {
namespace {

WriteBatch CompressibleBatch(int entries, SequenceNumber seq) {
  WriteBatch batch;
  for (int i = 0; i < entries; ++i) {
    EXPECT_TRUE(batch.Put(fmt::format("key{:06}", i), std::string(100, 'a' + i % 26)).ok());
  }
  batch.set_sequence(seq);
  return batch;
}

TEST(WalPayloadTest, LargeBatchesRoundTripCompressed) {
  WalPayloadCodec codec(/*compress=*/true);
  const WriteBatch batch = CompressibleBatch(200, (uint64_t{1} << 56) - 2);
  const std::string payload(codec.Encode(batch.rep()));
  EXPECT_LT(payload.size(), batch.rep().size() / 4);
  EXPECT_EQ(static_cast<uint8_t>(payload[7]), kWalPayloadZstd);
  std::string rep;
  ASSERT_TRUE(DecodeWalPayload(payload, "rec", &rep).ok());
  EXPECT_EQ(rep, batch.rep());
}

TEST(WalPayloadTest, CompressionOffLogsEveryRepPlain) {
  WalPayloadCodec codec(/*compress=*/false);
  const WriteBatch batch = CompressibleBatch(200, 9);
  EXPECT_EQ(codec.Encode(batch.rep()), batch.rep());
}

TEST(WalPayloadTest, SmallAndIncompressibleBatchesStayPlain) {
  WalPayloadCodec codec(/*compress=*/true);
  const WriteBatch small = CompressibleBatch(3, 5);
  EXPECT_EQ(codec.Encode(small.rep()), small.rep());
  const uint64_t seed = strata::testing::TestSeed(11);
  SCOPED_TRACE(fmt::format("seed={}", seed));
  std::mt19937_64 rng(seed);
  WriteBatch random;
  for (int i = 0; i < 100; ++i) {
    std::string value(100, '\0');
    for (char& c : value) c = static_cast<char>(rng());
    ASSERT_TRUE(random.Put(fmt::format("k{}", i), value).ok());
  }
  EXPECT_EQ(codec.Encode(random.rep()), random.rep());
  std::string rep;
  ASSERT_TRUE(DecodeWalPayload(random.rep(), "rec", &rep).ok());
  EXPECT_EQ(rep, random.rep());
}

TEST(WalPayloadTest, DamagedPayloadsAreCorruption) {
  WalPayloadCodec codec(/*compress=*/true);
  const WriteBatch batch = CompressibleBatch(200, 9);
  const std::string good(codec.Encode(batch.rep()));
  std::string rep;
  Status s = DecodeWalPayload(good.substr(0, 11), "000001.wal @ 4096", &rep);
  EXPECT_TRUE(s.IsCorruption());
  EXPECT_NE(s.ToString().find("000001.wal @ 4096"), std::string::npos) << s.ToString();
  std::string bad_format = good;
  bad_format[7] = 2;
  EXPECT_TRUE(DecodeWalPayload(bad_format, "rec", &rep).IsCorruption());
  EXPECT_TRUE(DecodeWalPayload(good.substr(0, good.size() - 5), "rec", &rep).IsCorruption());
  // (A flipped bit inside the frame is the WAL record checksum's to catch.)
  std::string bad_size = good;
  bad_size[12] = static_cast<char>(static_cast<uint8_t>(bad_size[12]) ^ 1);
  EXPECT_TRUE(DecodeWalPayload(bad_size, "rec", &rep).IsCorruption());
  std::string huge_size = good.substr(0, 12) + std::string(9, '\xff') + '\x01';
  EXPECT_TRUE(DecodeWalPayload(huge_size, "rec", &rep).IsCorruption());
}

// Unsynced writes gathered past 4 KiB are logged compressed; a reopen
// replays them from the WAL (nothing was flushed).
TEST(WalPayloadTest, EngineReplaysCompressedRecords) {
  strata::testing::ScratchDir dir;
  Options o = testing::TinyOptions();
  o.memtable_bytes = 4 << 20;  // nothing flushes: every key comes back from the WAL
  // Groups of unsynced writes gathered into records big enough to compress
  // (one writer's own records are too small).
  o.wal_buffer_bytes = 64 << 10;
  {
    std::unique_ptr<Engine> db;
    ASSERT_TRUE(strata::Open(o, dir.path(), &db).ok());
    for (int i = 0; i < 3000; ++i) {
      ASSERT_TRUE(db->Put(WriteOptions{}, fmt::format("k{:05}", i), std::string(100, 'x')).ok());
    }
    const EngineStats st = db->Stats();
    EXPECT_EQ(testing::Property(st, "lsm.flushes"), 0u);
    EXPECT_LT(st.wal_bytes_written, st.user_bytes_written / 4);
  }
  std::unique_ptr<Engine> db;
  ASSERT_TRUE(strata::Open(o, dir.path(), &db).ok());
  for (int i = 0; i < 3000; i += 7) {
    EXPECT_EQ(testing::GetOrStatus(db.get(), fmt::format("k{:05}", i)), std::string(100, 'x'));
  }
}

}  // namespace
}  // namespace strata::lsm
