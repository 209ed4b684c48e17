// Model test: random Put/Delete/Write/PutIfNewer/GetSnapshot/Get/scan
// sequences against a std::map (plus saved copies for snapshots), across
// forced flushes, compactions of both styles and reopens. Tiny limits make
// flushes and compactions happen all the time. Replay one case with
// STRATA_SEED=<seed> --gtest_filter=...
#include <fmt/core.h>
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "strata/engine.h"
#include "tests/lsm/lsm_test_util.h"
#include "tests/testing/test_util.h"

namespace strata::lsm {
namespace {

struct Entry {
  std::string value;
  uint64_t version = 0;
  bool operator==(const Entry&) const = default;
};
using Model = std::map<std::string, Entry>;

struct SavedSnapshot {
  std::unique_ptr<Snapshot> snapshot;
  Model model;
};

class ModelRun {
 public:
  ModelRun(CompactionStyle style, uint64_t seed, const std::string& dir)
      : style_(style), rng_(seed), dir_(dir) {}

  void Run(int op_count) {
    Reopen();
    for (int i = 0; i < op_count && !::testing::Test::HasFatalFailure(); ++i) {
      SCOPED_TRACE(fmt::format("op {}", i));
      Step();
    }
    CheckScan(nullptr, model_, "", std::nullopt);
    for (auto& s : snapshots_) CheckScan(s.snapshot.get(), s.model, "", std::nullopt);
  }

 private:
  std::string RandomKey() {
    // A small key space gives many overwrites and deletes of the same keys.
    const uint64_t k = rng_() % 300;
    return fmt::format("k{:04}{}", k, std::string(k % 7, 'p'));
  }
  std::string RandomValue() {
    const size_t len = rng_() % 10 == 0 ? rng_() % 2000 : rng_() % 120;
    std::string v(len, '\0');
    for (auto& c : v) c = static_cast<char>('a' + rng_() % 26);
    return v;
  }
  WriteOptions RandomWriteOptions() { return WriteOptions{rng_() % 50 == 0}; }

  void Reopen() {
    snapshots_.clear();  // the engine must outlive its snapshots
    db_.reset();
    ASSERT_TRUE(strata::Open(testing::TinyOptions(style_), dir_, &db_).ok());
  }

  void Step() {
    const uint64_t dice = rng_() % 1000;
    if (dice < 350) {
      const std::string k = RandomKey(), v = RandomValue();
      ASSERT_TRUE(db_->Put(RandomWriteOptions(), k, v).ok());
      model_[k] = Entry{v, 0};
    } else if (dice < 480) {
      const std::string k = RandomKey();
      ASSERT_TRUE(db_->Delete(RandomWriteOptions(), k).ok());
      model_.erase(k);
    } else if (dice < 560) {
      WriteBatch batch;
      Model next = model_;
      const int n = 1 + static_cast<int>(rng_() % 8);
      for (int i = 0; i < n; ++i) {
        const std::string k = RandomKey();
        if (rng_() % 3 == 0) {
          ASSERT_TRUE(batch.Delete(k).ok());
          next.erase(k);
        } else {
          const std::string v = RandomValue();
          ASSERT_TRUE(batch.Put(k, v).ok());
          next[k] = Entry{v, 0};
        }
      }
      ASSERT_TRUE(db_->Write(RandomWriteOptions(), batch).ok());
      model_ = std::move(next);
    } else if (dice < 600) {
      const std::string k = RandomKey(), v = RandomValue();
      const uint64_t version = rng_() % 50;
      bool applied = false;
      ASSERT_TRUE(db_->PutIfNewer(RandomWriteOptions(), k, version, v, &applied).ok());
      auto it = model_.find(k);
      const bool expect = it == model_.end() || version > it->second.version;
      ASSERT_EQ(applied, expect) << k << " v" << version;
      if (expect) model_[k] = Entry{v, version};
    } else if (dice < 780) {
      CheckGet(nullptr, model_, RandomKey());
    } else if (dice < 820) {
      if (snapshots_.size() < 4) snapshots_.push_back({db_->GetSnapshot(), model_});
    } else if (dice < 840) {
      if (!snapshots_.empty()) snapshots_.erase(snapshots_.begin() + rng_() % snapshots_.size());
    } else if (dice < 900) {
      if (!snapshots_.empty()) {
        auto& s = snapshots_[rng_() % snapshots_.size()];
        CheckGet(s.snapshot.get(), s.model, RandomKey());
      }
    } else if (dice < 950) {
      std::optional<std::string> upper;
      if (rng_() % 2) upper = RandomKey();
      if (!snapshots_.empty() && rng_() % 2) {
        auto& s = snapshots_[rng_() % snapshots_.size()];
        CheckScan(s.snapshot.get(), s.model, RandomKey(), upper);
      } else {
        CheckScan(nullptr, model_, RandomKey(), upper);
      }
    } else if (dice < 975) {
      Status s = db_->Flush();
      ASSERT_TRUE(s.ok()) << s.ToString();
    } else if (dice < 990) {
      Status s = db_->CompactAll();
      ASSERT_TRUE(s.ok()) << s.ToString();
    } else {
      Reopen();
    }
  }

  void CheckGet(const Snapshot* snap, const Model& model, const std::string& key) {
    ReadOptions ro;
    ro.snapshot = snap;
    std::string value;
    uint64_t version = 0;
    Status s = db_->GetVersioned(ro, key, &value, &version);
    auto it = model.find(key);
    if (it == model.end()) {
      ASSERT_TRUE(s.IsNotFound()) << key << ": " << s.ToString();
      return;
    }
    ASSERT_TRUE(s.ok()) << key << ": " << s.ToString();
    ASSERT_EQ(value, it->second.value) << key;
    ASSERT_EQ(version, it->second.version) << key;
  }

  void CheckScan(const Snapshot* snap, const Model& model, const std::string& start,
                 const std::optional<std::string>& upper) {
    ReadOptions ro;
    ro.snapshot = snap;
    ro.upper_bound = upper;
    auto it = db_->NewIterator(ro);
    auto m = model.lower_bound(start);
    for (it->Seek(start); it->Valid(); it->Next(), ++m) {
      ASSERT_TRUE(m != model.end() && (!upper || m->first < *upper))
          << "extra key " << it->key();
      ASSERT_EQ(it->key(), m->first);
      ASSERT_EQ(it->value(), m->second.value) << m->first;
    }
    ASSERT_TRUE(it->status().ok()) << it->status().ToString();
    ASSERT_TRUE(m == model.end() || (upper && m->first >= *upper)) << "missing key " << m->first;
  }

  const CompactionStyle style_;
  std::mt19937_64 rng_;
  const std::string dir_;
  std::unique_ptr<Engine> db_;
  Model model_;
  std::vector<SavedSnapshot> snapshots_;
};

struct ModelCase {
  CompactionStyle style;
  uint64_t seed;
};

class LsmModelTest : public ::testing::TestWithParam<ModelCase> {};

TEST_P(LsmModelTest, MatchesStdMap) {
  const uint64_t seed = strata::testing::TestSeed(GetParam().seed);
  SCOPED_TRACE(fmt::format("seed={}", seed));
  strata::testing::ScratchDir dir;
  ModelRun run(GetParam().style, seed, dir.path());
  run.Run(1500);
}

std::vector<ModelCase> Cases() {
  std::vector<ModelCase> cases;
  for (uint64_t seed = 1; seed <= 8; ++seed) {
    cases.push_back({CompactionStyle::kLeveled, seed});
    cases.push_back({CompactionStyle::kSizeTiered, 100 + seed});
  }
  return cases;
}

INSTANTIATE_TEST_SUITE_P(Seeds, LsmModelTest, ::testing::ValuesIn(Cases()),
                         [](const auto& info) {
                           return fmt::format(
                               "{}_seed{}",
                               info.param.style == CompactionStyle::kLeveled ? "Leveled"
                                                                             : "SizeTiered",
                               info.param.seed);
                         });

}  // namespace
}  // namespace strata::lsm
