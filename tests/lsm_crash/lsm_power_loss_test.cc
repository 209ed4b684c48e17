// Power loss through io::FaultFileSystem: from a seeded I/O operation on,
// every operation fails (the machine died there), then the unsynced data is
// dropped (optionally keeping a random prefix of it) and the database is
// reopened. Every acknowledged sync write must be there, and what survives
// is a prefix of the write order: no holes, no half batch.
#include <fmt/core.h>
#include <gtest/gtest.h>

#include <random>

#include "io/fault_file_system.h"
#include "strata/engine.h"
#include "tests/lsm/lsm_test_util.h"
#include "tests/testing/test_util.h"

namespace strata::lsm {
namespace {

std::string WriteKey(uint64_t i) { return fmt::format("w{:08}", i); }
std::string WriteValue(uint64_t i) { return fmt::format("{}-{}", i, std::string(i % 150, 'q')); }

class PowerLossRun {
 public:
  PowerLossRun(CompactionStyle style, uint64_t seed, const std::string& dir)
      : style_(style), rng_(seed), dir_(dir),
        fault_(std::make_shared<io::FaultFileSystem>(io::DefaultFileSystem())) {}

  void Run(int crash_count) {
    for (int crash = 0; crash < crash_count && !::testing::Test::HasFatalFailure(); ++crash) {
      SCOPED_TRACE(fmt::format("crash {}", crash));
      OneCrash();
    }
  }

 private:
  Options MakeOptions() {
    Options o = testing::TinyOptions(style_);
    o.file_system = fault_;
    return o;
  }

  void OneCrash() {
    std::unique_ptr<Engine> db;
    Status s = strata::Open(MakeOptions(), dir_, &db);
    ASSERT_TRUE(s.ok()) << s.ToString();
    // From the nth I/O operation on, nothing reaches the disk any more.
    io::ErrorInjection death;
    death.ops = io::kFaultAllOps;
    death.path_contains = dir_;
    death.nth = 1 + rng_() % 1500;
    death.fail_count = io::kFailForever;
    fault_->InjectError(death);
    uint64_t last_synced = next_ == 0 ? 0 : next_ - 1;
    bool any_synced = next_ > 0;
    const uint64_t writes = 50 + rng_() % 1200;
    for (uint64_t n = 0; n < writes; ++n) {
      WriteBatch batch;
      ASSERT_TRUE(batch.Put(WriteKey(next_), WriteValue(next_)).ok());
      ASSERT_TRUE(batch.Put("last", std::to_string(next_)).ok());
      const bool sync = rng_() % 4 == 0;
      if (!db->Write(WriteOptions{sync}, batch).ok()) break;
      if (sync) {
        last_synced = next_;
        any_synced = true;
      }
      ++next_;
      if (rng_() % 150 == 0 && !db->Flush().ok()) break;
      if (rng_() % 400 == 0 && !db->CompactAll().ok()) break;
    }
    io::CrashOptions crash;
    crash.keep_random_unsynced_prefix = rng_() % 2 == 0;
    crash.seed = rng_();
    ASSERT_TRUE(fault_->DropUnsyncedData(crash).ok());
    db.reset();
    fault_->ClearFaults();

    s = strata::Open(MakeOptions(), dir_, &db);
    ASSERT_TRUE(s.ok()) << s.ToString();
    Verify(db.get(), any_synced, last_synced);
  }

  // The survivors are exactly writes 0..last, with last >= last_synced.
  void Verify(Engine* db, bool any_synced, uint64_t last_synced) {
    std::string last_str;
    Status s = db->Get(ReadOptions{}, "last", &last_str);
    uint64_t survivors = 0;
    if (s.ok()) {
      survivors = std::stoull(last_str) + 1;
    } else {
      ASSERT_TRUE(s.IsNotFound()) << s.ToString();
    }
    if (any_synced) {
      ASSERT_GE(survivors, last_synced + 1) << "acknowledged sync write lost";
    }
    auto it = db->NewIterator(ReadOptions{});
    uint64_t i = 0;
    for (it->Seek("w"); it->Valid(); it->Next(), ++i) {
      ASSERT_EQ(it->key(), WriteKey(i)) << "hole before write " << i;
      ASSERT_EQ(it->value(), WriteValue(i));
    }
    ASSERT_TRUE(it->status().ok()) << it->status().ToString();
    ASSERT_EQ(i, survivors) << "writes and 'last' disagree (half batch)";
    next_ = survivors;
  }

  const CompactionStyle style_;
  std::mt19937_64 rng_;
  const std::string dir_;
  std::shared_ptr<io::FaultFileSystem> fault_;
  uint64_t next_ = 0;  // index of the next write
};

TEST(LsmPowerLossTest, ManyCrashPointsLeveled) {
  const uint64_t seed = strata::testing::TestSeed(21);
  SCOPED_TRACE(fmt::format("seed={}", seed));
  strata::testing::ScratchDir dir;
  PowerLossRun(CompactionStyle::kLeveled, seed, dir.path()).Run(12);
}

TEST(LsmPowerLossTest, ManyCrashPointsSizeTiered) {
  const uint64_t seed = strata::testing::TestSeed(22);
  SCOPED_TRACE(fmt::format("seed={}", seed));
  strata::testing::ScratchDir dir;
  PowerLossRun(CompactionStyle::kSizeTiered, seed, dir.path()).Run(12);
}

}  // namespace
}  // namespace strata::lsm
