// RegisterStore: ABD local reads and writes over PutIfNewer/GetVersioned,
// versioned tombstones, and what plain Put/Delete do to a register.
#include "replica/register_store.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "tests/replica/replica_test_util.h"
#include "tests/testing/test_util.h"

namespace strata::replica {
namespace {

class RegisterStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(strata::Open(testing::TestEngineOptions(), dir_.Join("db"), &engine_).ok());
    store_ = std::make_unique<RegisterStore>(engine_.get());
  }
  void Reopen() {
    store_.reset();
    engine_.reset();
    ASSERT_TRUE(strata::Open(testing::TestEngineOptions(), dir_.Join("db"), &engine_).ok());
    store_ = std::make_unique<RegisterStore>(engine_.get());
  }
  bool Write(const std::string& key, const std::string& value, uint64_t ts) {
    bool applied = false;
    EXPECT_TRUE(store_->LocalWrite(key, value, ts, &applied).ok());
    return applied;
  }
  bool Delete(const std::string& key, uint64_t ts) {
    bool applied = false;
    EXPECT_TRUE(store_->LocalDelete(key, ts, &applied).ok());
    return applied;
  }

  strata::testing::ScratchDir dir_;
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<RegisterStore> store_;
};

TEST_F(RegisterStoreTest, NewerWritesWinOlderAreRejected) {
  RegisterValue v;
  EXPECT_TRUE(store_->LocalRead("r", &v).IsNotFound());
  EXPECT_TRUE(Write("r", "a", 10));
  EXPECT_FALSE(Write("r", "stale", 9));
  EXPECT_FALSE(Write("r", "same ts", 10));
  ASSERT_TRUE(store_->LocalRead("r", &v).ok());
  EXPECT_EQ(v.value, "a");
  EXPECT_EQ(v.timestamp, 10u);
  EXPECT_FALSE(v.deleted);
  EXPECT_TRUE(Write("r", "", 11));  // an empty value is a value, not a delete
  ASSERT_TRUE(store_->LocalRead("r", &v).ok());
  EXPECT_EQ(v.value, "");
  EXPECT_FALSE(v.deleted);
  bool applied = true;
  EXPECT_TRUE(store_->LocalWrite("r", "x", 0, &applied).IsInvalidArgument());
  EXPECT_FALSE(applied);
}

TEST_F(RegisterStoreTest, StaleWriteNeverResurrectsADeletedRegister) {
  EXPECT_TRUE(Write("r", "a", 5));
  EXPECT_TRUE(Delete("r", 7));
  EXPECT_FALSE(Write("r", "stale", 6));  // arrives after the delete
  RegisterValue v;
  ASSERT_TRUE(store_->LocalRead("r", &v).ok());
  EXPECT_TRUE(v.deleted);
  EXPECT_EQ(v.timestamp, 7u);
  EXPECT_FALSE(Delete("r", 6));  // an older delete changes nothing
  // Also across a restart (tombstones are durable like any value).
  Reopen();
  EXPECT_FALSE(Write("r", "stale", 6));
  ASSERT_TRUE(store_->LocalRead("r", &v).ok());
  EXPECT_TRUE(v.deleted);
  // A newer write brings it back.
  EXPECT_TRUE(Write("r", "b", 8));
  ASSERT_TRUE(store_->LocalRead("r", &v).ok());
  EXPECT_FALSE(v.deleted);
  EXPECT_EQ(v.value, "b");
  // A delete of a register never written still records its timestamp.
  EXPECT_TRUE(Delete("never", 3));
  EXPECT_FALSE(Write("never", "stale", 2));
}

// Documented behaviour: plain Put and Delete reset a register's version.
TEST_F(RegisterStoreTest, PlainPutAndDeleteResetTheVersion) {
  EXPECT_TRUE(Write("r", "a", 100));
  ASSERT_TRUE(engine_->Put(WriteOptions(), "r", "plain").ok());
  RegisterValue v;
  EXPECT_TRUE(store_->LocalRead("r", &v).IsCorruption());  // untagged, version 0
  EXPECT_TRUE(Write("r", "b", 1));                         // version 0 accepts any timestamp
  ASSERT_TRUE(engine_->Delete(WriteOptions(), "r").ok());
  EXPECT_TRUE(store_->LocalRead("r", &v).IsNotFound());
  EXPECT_TRUE(Write("r", "c", 1));  // the delete kept no version
}

// Random interleavings of writes and deletes delivered out of order: the
// final state is always the operation with the highest timestamp.
TEST_F(RegisterStoreTest, OutOfOrderDeliveryConvergesOnTheHighestTimestamp) {
  const uint64_t seed = strata::testing::TestSeed(12);
  SCOPED_TRACE(::testing::Message() << "STRATA_SEED=" << seed);
  std::mt19937_64 rng(seed);
  for (int reg = 0; reg < 50; ++reg) {
    const std::string key = "reg" + std::to_string(reg);
    std::vector<std::pair<uint64_t, bool>> ops;  // (timestamp, is delete)
    for (uint64_t ts = 1; ts <= 20; ++ts) ops.emplace_back(ts, rng() % 3 == 0);
    std::shuffle(ops.begin(), ops.end(), rng);
    for (const auto& [ts, del] : ops) {
      if (del) {
        Delete(key, ts);
      } else {
        Write(key, "v" + std::to_string(ts), ts);
      }
    }
    const bool last_is_delete =
        std::find(ops.begin(), ops.end(), std::make_pair(uint64_t{20}, true)) != ops.end();
    RegisterValue v;
    ASSERT_TRUE(store_->LocalRead(key, &v).ok());
    EXPECT_EQ(v.timestamp, 20u);
    EXPECT_EQ(v.deleted, last_is_delete);
    if (!last_is_delete) {
      EXPECT_EQ(v.value, "v20");
    }
  }
}

}  // namespace
}  // namespace strata::replica
