// Model test of DeleteRange for every registered engine kind: random Put,
// Delete, DeleteRange and mixed batches against a std::map, with snapshots
// taken along the way and checked later (Get and scans both ways), reopens
// in the middle, and tiny memtables so that flushes and compactions of range
// tombstones happen all the time. Replay one case with STRATA_SEED=<seed>.
#include <fmt/core.h>
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "strata/engine.h"
#include "strata/write_batch.h"
#include "tests/lsm/lsm_test_util.h"
#include "tests/testing/test_util.h"

namespace strata {
namespace {

using Model = std::map<std::string, std::string>;

struct SavedSnapshot {
  std::unique_ptr<Snapshot> snapshot;
  Model model;
};

uint64_t PropertyOr0(const EngineStats& stats, std::string_view name) {
  for (const auto& [k, v] : stats.properties) {
    if (k == name) return v;
  }
  return 0;
}

// Counts of what a run did, so the test can check it reached the rare paths.
struct RunCounts {
  uint64_t range_deletes = 0;
  uint64_t snapshot_checks = 0;
  uint64_t reopens = 0;
  uint64_t flushes = 0;      // lsm only: summed over the engine's lives
  uint64_t compactions = 0;  // lsm only
};

class DeleteRangeModel {
 public:
  DeleteRangeModel(std::string kind, uint64_t seed, std::string dir)
      : kind_(std::move(kind)), rng_(seed), dir_(std::move(dir)) {}

  void Run(int op_count) {
    Reopen();
    for (int i = 0; i < op_count && !::testing::Test::HasFailure(); ++i) {
      SCOPED_TRACE(fmt::format("op {}", i));
      Step();
    }
    CheckAll(nullptr, model_);
    for (auto& s : snapshots_) CheckAll(s.snapshot.get(), s.model);
    Reopen();  // the last reopen also counts the engine's flushes
    CheckAll(nullptr, model_);
  }
  Engine* db() { return db_.get(); }
  const RunCounts& counts() const { return counts_; }

 private:
  static constexpr uint64_t kKeySpace = 400;

  std::string Key(uint64_t k) const { return fmt::format("k{:04}", k); }
  std::string RandomKey() { return Key(rng_() % kKeySpace); }
  std::string RandomValue() {
    std::string v(rng_() % 10 == 0 ? rng_() % 1500 : 20 + rng_() % 100, '\0');
    for (auto& c : v) c = static_cast<char>('a' + rng_() % 26);
    return v;
  }
  // Mostly short ranges, sometimes wide ones, sometimes bounds between keys.
  std::pair<std::string, std::string> RandomRange() {
    const uint64_t a = rng_() % kKeySpace;
    const uint64_t width = rng_() % 8 == 0 ? rng_() % kKeySpace : 1 + rng_() % 20;
    std::string begin = Key(a), end = Key(a + width);
    if (rng_() % 4 == 0) begin += "x";  // starts just after key a
    if (rng_() % 4 == 0) end += "x";    // ends just after key a + width
    if (begin >= end) end = begin + "z";
    return {begin, end};
  }

  Options EngineOptions() const {
    Options o = lsm::testing::TinyOptions(rng_seed_parity_ ? CompactionStyle::kSizeTiered
                                                           : CompactionStyle::kLeveled);
    o.engine = kind_;
    o.memtable_bytes = 16 * 1024;  // the smallest budget: a flush every ~60 writes
    o.l0_compaction_trigger = 2;
    return o;
  }

  void Reopen() {
    snapshots_.clear();  // the engine must outlive its snapshots
    if (db_ != nullptr) {
      const EngineStats stats = db_->Stats();
      counts_.flushes += PropertyOr0(stats, "lsm.flushes");
      counts_.compactions += PropertyOr0(stats, "lsm.compactions");
    }
    db_.reset();
    Status s = strata::Open(EngineOptions(), dir_, &db_);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  static void ModelDeleteRange(Model* m, const std::string& begin, const std::string& end) {
    m->erase(m->lower_bound(begin), m->lower_bound(end));
  }

  void Step() {
    const uint64_t dice = rng_() % 1000;
    const WriteOptions wo{rng_() % 50 == 0};
    if (dice < 330) {
      const std::string k = RandomKey(), v = RandomValue();
      ASSERT_TRUE(db_->Put(wo, k, v).ok());
      model_[k] = v;
    } else if (dice < 420) {
      const std::string k = RandomKey();
      ASSERT_TRUE(db_->Delete(wo, k).ok());
      model_.erase(k);
    } else if (dice < 500) {
      auto [begin, end] = RandomRange();
      WriteBatch batch;
      ASSERT_TRUE(batch.DeleteRange(begin, end).ok());
      ASSERT_TRUE(db_->Write(wo, batch).ok());
      ModelDeleteRange(&model_, begin, end);
      ++counts_.range_deletes;
    } else if (dice < 580) {
      MixedBatch(wo);
    } else if (dice < 600) {
      InvalidBatch();
    } else if (dice < 760) {
      const std::string k = RandomKey();
      std::string value;
      Status s = db_->Get(ReadOptions(), k, &value);
      auto it = model_.find(k);
      if (it == model_.end()) {
        ASSERT_TRUE(s.IsNotFound()) << k << ": " << s.ToString();
      } else {
        ASSERT_TRUE(s.ok()) << k << ": " << s.ToString();
        ASSERT_EQ(value, it->second) << k;
      }
    } else if (dice < 800) {
      CheckRandomScan(nullptr, model_);
    } else if (dice < 820) {
      if (snapshots_.size() >= 4) snapshots_.erase(snapshots_.begin() + rng_() % 4);
      snapshots_.push_back(SavedSnapshot{db_->GetSnapshot(), model_});
    } else if (dice < 860) {
      if (snapshots_.empty()) return;
      SavedSnapshot& s = snapshots_[rng_() % snapshots_.size()];
      CheckRandomScan(s.snapshot.get(), s.model);
      CheckGets(s.snapshot.get(), s.model, 5);
      ++counts_.snapshot_checks;
    } else if (dice < 900) {
      Status s = db_->Flush();
      ASSERT_TRUE(s.ok()) << s.ToString();
    } else if (dice < 905) {
      Status s = db_->CompactAll();
      ASSERT_TRUE(s.ok()) << s.ToString();
    } else if (dice < 908) {
      // Snapshots are checked before they go.
      for (auto& s : snapshots_) CheckAll(s.snapshot.get(), s.model);
      Reopen();
      ++counts_.reopens;
    }
  }

  void MixedBatch(const WriteOptions& wo) {
    WriteBatch batch;
    Model after = model_;
    const int n = 1 + static_cast<int>(rng_() % 8);
    for (int i = 0; i < n; ++i) {
      const uint64_t kind = rng_() % 3;
      if (kind == 0) {
        const std::string k = RandomKey(), v = RandomValue();
        ASSERT_TRUE(batch.Put(k, v).ok());
        after[k] = v;
      } else if (kind == 1) {
        const std::string k = RandomKey();
        ASSERT_TRUE(batch.Delete(k).ok());
        after.erase(k);
      } else {
        auto [begin, end] = RandomRange();
        ASSERT_TRUE(batch.DeleteRange(begin, end).ok());
        ModelDeleteRange(&after, begin, end);
        ++counts_.range_deletes;
      }
    }
    ASSERT_TRUE(db_->Write(wo, batch).ok());
    model_ = std::move(after);
  }

  // A batch whose DeleteRange was refused must write nothing at all.
  void InvalidBatch() {
    WriteBatch batch;
    ASSERT_TRUE(batch.Put(RandomKey(), "must-not-appear").ok());
    const std::string k = RandomKey();
    ASSERT_TRUE(batch.DeleteRange(k, k).IsInvalidArgument());
    ASSERT_TRUE(batch.Delete(RandomKey()).ok());
    Status s = db_->Write(WriteOptions(), batch);
    ASSERT_TRUE(s.IsInvalidArgument()) << s.ToString();
  }

  void CheckGets(const Snapshot* snap, const Model& m, int count) {
    for (int i = 0; i < count; ++i) {
      const std::string k = RandomKey();
      ReadOptions ro;
      ro.snapshot = snap;
      std::string value;
      Status s = db_->Get(ro, k, &value);
      auto it = m.find(k);
      if (it == m.end()) {
        ASSERT_TRUE(s.IsNotFound()) << k << ": " << s.ToString();
      } else {
        ASSERT_TRUE(s.ok()) << k << ": " << s.ToString();
        ASSERT_EQ(value, it->second) << k;
      }
    }
  }

  void CheckRandomScan(const Snapshot* snap, const Model& m) {
    std::optional<std::string> upper;
    if (rng_() % 2 == 0) upper = RandomKey();
    CheckScan(snap, m, RandomKey(), upper, 30);
  }

  void CheckAll(const Snapshot* snap, const Model& m) {
    CheckScan(snap, m, "", std::nullopt, m.size() + 1);
    for (uint64_t k = 0; k < kKeySpace; k += 7) CheckGets(snap, m, 1);
  }

  // Forward from Seek(lower) for up to `limit` entries, then back with Prev
  // over the same entries, and a full backward walk from SeekToLast.
  void CheckScan(const Snapshot* snap, const Model& m, const std::string& lower,
                 const std::optional<std::string>& upper, size_t limit) {
    ReadOptions ro;
    ro.snapshot = snap;
    ro.upper_bound = upper;
    std::unique_ptr<Iterator> it = db_->NewIterator(ro);
    auto end = upper ? m.lower_bound(*upper) : m.end();
    auto want = m.lower_bound(lower);
    if (upper && *upper < lower) want = end;  // an empty window
    std::vector<Model::const_iterator> seen;
    it->Seek(lower);
    for (; want != end && seen.size() < limit; ++want) {
      ASSERT_TRUE(it->Valid()) << "forward: missing " << want->first << " "
                               << it->status().ToString();
      ASSERT_EQ(it->key(), want->first);
      ASSERT_EQ(it->value(), want->second) << want->first;
      seen.push_back(want);
      it->Next();
    }
    if (want == end) {
      ASSERT_FALSE(it->Valid()) << "forward: extra " << it->key();
    }
    ASSERT_TRUE(it->status().ok()) << it->status().ToString();
    // Stopped by the limit: turn around and walk the seen entries back, to
    // the entry before the first one.
    if (it->Valid()) {
      it->Prev();
      for (auto r = seen.rbegin(); r != seen.rend(); ++r) {
        ASSERT_TRUE(it->Valid()) << "backward: missing " << (*r)->first;
        ASSERT_EQ(it->key(), (*r)->first);
        ASSERT_EQ(it->value(), (*r)->second);
        it->Prev();
      }
      auto first = m.lower_bound(lower);
      if (first == m.begin()) {
        ASSERT_FALSE(it->Valid()) << "backward: extra " << it->key();
      } else {
        ASSERT_TRUE(it->Valid()) << "backward: missing " << std::prev(first)->first;
        ASSERT_EQ(it->key(), std::prev(first)->first);
      }
    }
    // Full backward walk.
    it->SeekToLast();
    for (auto r = std::make_reverse_iterator(end); r != m.rend(); ++r) {
      ASSERT_TRUE(it->Valid()) << "reverse: missing " << r->first;
      ASSERT_EQ(it->key(), r->first);
      it->Prev();
    }
    ASSERT_FALSE(it->Valid()) << "reverse: extra " << it->key();
    ASSERT_TRUE(it->status().ok()) << it->status().ToString();
  }

 public:
  bool rng_seed_parity_ = false;

 private:
  const std::string kind_;
  std::mt19937_64 rng_;
  const std::string dir_;
  std::unique_ptr<Engine> db_;
  Model model_;
  std::vector<SavedSnapshot> snapshots_;
  RunCounts counts_;
};

class DeleteRangeModelTest : public ::testing::TestWithParam<std::tuple<std::string, uint64_t>> {};

TEST_P(DeleteRangeModelTest, MatchesStdMap) {
  const auto& [kind, default_seed] = GetParam();
  const uint64_t seed = testing::TestSeed(default_seed);
  SCOPED_TRACE(fmt::format("kind={} seed={}", kind, seed));
  testing::ScratchDir dir;
  DeleteRangeModel run(kind, seed, dir.path());
  run.rng_seed_parity_ = seed % 2 == 1;
  run.Run(6000);
  EXPECT_GT(run.counts().range_deletes, 500u);
  EXPECT_GT(run.counts().snapshot_checks, 50u);
  EXPECT_GT(run.counts().reopens, 5u);
  if (kind == "lsm") {
    fmt::print("lsm seed {}: {} range deletes, {} flushes, {} compactions, {} reopens\n", seed,
               run.counts().range_deletes, run.counts().flushes, run.counts().compactions,
               run.counts().reopens);
    EXPECT_GT(run.counts().flushes, 200u);
    EXPECT_GT(run.counts().compactions, 50u);
  }
}

std::string CaseName(const ::testing::TestParamInfo<std::tuple<std::string, uint64_t>>& info) {
  return std::get<0>(info.param) + "_seed" + std::to_string(std::get<1>(info.param));
}

INSTANTIATE_TEST_SUITE_P(KindsAndSeeds, DeleteRangeModelTest,
                         ::testing::Combine(::testing::ValuesIn(RegisteredEngineKinds()),
                                            ::testing::Values(uint64_t{1}, uint64_t{2},
                                                              uint64_t{3})),
                         CaseName);

}  // namespace
}  // namespace strata
