// Model test of iteration in both directions: random Put/Delete/Write/
// PutIfNewer sequences, snapshots, flushes, compactions of both styles and
// reopens, with tiny memtables and blocks; every so often a random walk
// mixing Seek/SeekToFirst/SeekToLast/Next/Prev, with and without an upper
// bound, at the current state or a snapshot, checked step by step against a
// std::map (full backward scans against its reverse_iterator). Some
// iterators stay open while more writes, flushes and compactions happen.
// Replay one case with STRATA_SEED=<seed> --gtest_filter=...
#include <fmt/core.h>
#include <gtest/gtest.h>

#include <iterator>
#include <map>
#include <memory>
#include <optional>
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
};
using Model = std::map<std::string, Entry>;

struct SavedSnapshot {
  std::unique_ptr<Snapshot> snapshot;
  Model model;
};

// Walks an engine iterator and a std::map side by side. The map's view is
// [begin, end_) where end_ is the upper bound's position; end_ also stands
// for "not valid".
class Walk {
 public:
  Walk(Iterator* it, const Model* model, const std::optional<std::string>& upper)
      : it_(it), model_(model),
        end_(upper ? model->lower_bound(*upper) : model->end()), m_(end_) {}

  void SeekToFirst() {
    it_->SeekToFirst();
    m_ = model_->begin();
    Check("SeekToFirst");
  }
  void SeekToLast() {
    it_->SeekToLast();
    m_ = end_ == model_->begin() ? end_ : std::prev(end_);
    Check("SeekToLast");
  }
  void Seek(const std::string& target) {
    it_->Seek(target);
    m_ = model_->lower_bound(target);
    if (end_ != model_->end() && (m_ == model_->end() || m_->first >= end_->first)) m_ = end_;
    Check("Seek " + target);
  }
  void Next() {
    it_->Next();
    ++m_;
    Check("Next");
  }
  void Prev() {
    it_->Prev();
    m_ = m_ == model_->begin() ? end_ : std::prev(m_);
    Check("Prev");
  }
  bool valid() const { return m_ != end_; }

  // SeekToLast then Prev to the front, against the map's reverse_iterator.
  void ReverseScan() {
    it_->SeekToLast();
    auto r = std::make_reverse_iterator(end_);
    for (; r != model_->rend(); ++r) {
      ASSERT_TRUE(it_->Valid()) << "missing key " << r->first << ": " << it_->status().ToString();
      ASSERT_EQ(it_->key(), r->first);
      ASSERT_EQ(it_->value(), r->second.value) << r->first;
      it_->Prev();
    }
    ASSERT_FALSE(it_->Valid()) << "extra key " << it_->key();
    ASSERT_TRUE(it_->status().ok()) << it_->status().ToString();
    m_ = end_;
  }

 private:
  void Check(const std::string& op) {
    ASSERT_TRUE(it_->status().ok()) << op << ": " << it_->status().ToString();
    if (m_ == end_) {
      ASSERT_FALSE(it_->Valid()) << op << ": extra key " << it_->key();
      return;
    }
    ASSERT_TRUE(it_->Valid()) << op << ": missing key " << m_->first;
    ASSERT_EQ(it_->key(), m_->first) << op;
    ASSERT_EQ(it_->value(), m_->second.value) << op << " " << m_->first;
  }

  Iterator* it_;
  const Model* model_;
  const Model::const_iterator end_;
  Model::const_iterator m_;
};

class ReverseModelRun {
 public:
  ReverseModelRun(CompactionStyle style, uint64_t seed, const std::string& dir)
      : style_(style), rng_(seed), dir_(dir) {}

  void Run(int op_count) {
    Reopen();
    for (int i = 0; i < op_count && !::testing::Test::HasFatalFailure(); ++i) {
      SCOPED_TRACE(fmt::format("op {}", i));
      Step();
    }
    CheckWalk(nullptr, model_, std::nullopt, 200);
    for (auto& s : snapshots_) CheckWalk(s.snapshot.get(), s.model, std::nullopt, 200);
  }

 private:
  std::string RandomKey() {
    // A small key space: many versions and tombstones per key.
    const uint64_t k = rng_() % 200;
    return fmt::format("k{:03}{}", k, std::string(k % 5, 'q'));
  }
  // Seek targets and bounds: existing keys, keys between them, and keys
  // before and after every key.
  std::string RandomTarget() {
    const uint64_t dice = rng_() % 10;
    if (dice == 0) return "";
    if (dice == 1) return "l";
    std::string k = RandomKey();
    if (dice < 4) k.push_back('a');
    return k;
  }
  std::string RandomValue() {
    const size_t len = rng_() % 10 == 0 ? rng_() % 1500 : rng_() % 80;
    std::string v(len, '\0');
    for (auto& c : v) c = static_cast<char>('a' + rng_() % 26);
    return v;
  }
  WriteOptions RandomWriteOptions() { return WriteOptions{rng_() % 200 == 0}; }

  void Reopen() {
    snapshots_.clear();  // the engine must outlive its snapshots
    db_.reset();
    Options options = testing::TinyOptions(style_);
    options.memtable_bytes = 16 * 1024;
    options.block_bytes = 256;
    Status s = strata::Open(options, dir_, &db_);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  void Step() {
    const uint64_t dice = rng_() % 1000;
    if (dice < 720) {
      Mutate();
    } else if (dice < 760) {
      if (snapshots_.size() < 4) snapshots_.push_back({db_->GetSnapshot(), model_});
    } else if (dice < 775) {
      if (!snapshots_.empty()) snapshots_.erase(snapshots_.begin() + rng_() % snapshots_.size());
    } else if (dice < 935) {
      RandomCheck();
    } else if (dice < 960) {
      CheckOpenIteratorAcrossWrites();
    } else if (dice < 980) {
      Status s = db_->Flush();
      ASSERT_TRUE(s.ok()) << s.ToString();
    } else if (dice < 997) {
      Status s = db_->CompactAll();
      ASSERT_TRUE(s.ok()) << s.ToString();
    } else {
      Reopen();
    }
  }

  // One write: put, delete, batch or PutIfNewer, applied to model_ too.
  void Mutate() {
    const uint64_t dice = rng_() % 100;
    if (dice < 50) {
      const std::string k = RandomKey(), v = RandomValue();
      ASSERT_TRUE(db_->Put(RandomWriteOptions(), k, v).ok());
      model_[k] = Entry{v, 0};
    } else if (dice < 75) {
      const std::string k = RandomKey();
      ASSERT_TRUE(db_->Delete(RandomWriteOptions(), k).ok());
      model_.erase(k);
    } else if (dice < 90) {
      WriteBatch batch;
      Model next = model_;
      const int n = 1 + static_cast<int>(rng_() % 10);
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
    } else {
      const std::string k = RandomKey(), v = RandomValue();
      const uint64_t version = rng_() % 40;
      bool applied = false;
      ASSERT_TRUE(db_->PutIfNewer(RandomWriteOptions(), k, version, v, &applied).ok());
      auto it = model_.find(k);
      const bool expect = it == model_.end() || version > it->second.version;
      ASSERT_EQ(applied, expect) << k << " v" << version;
      if (expect) model_[k] = Entry{v, version};
    }
  }

  // A walk at the current state or a snapshot, with an upper bound half the time.
  void RandomCheck() {
    std::optional<std::string> upper;
    if (rng_() % 2) upper = RandomTarget();
    if (!snapshots_.empty() && rng_() % 2) {
      auto& s = snapshots_[rng_() % snapshots_.size()];
      CheckWalk(s.snapshot.get(), s.model, upper, 60);
    } else {
      CheckWalk(nullptr, model_, upper, 60);
    }
  }

  void CheckWalk(const Snapshot* snap, const Model& model, const std::optional<std::string>& upper,
                 int steps) {
    SCOPED_TRACE(fmt::format("upper={} snapshot={}", upper.value_or("(none)"), snap != nullptr));
    ReadOptions ro;
    ro.snapshot = snap;
    ro.upper_bound = upper;
    auto it = db_->NewIterator(ro);
    Walk walk(it.get(), &model, upper);
    if (rng_() % 4 == 0) {
      walk.ReverseScan();
      if (::testing::Test::HasFatalFailure()) return;
    }
    RandomSteps(&walk, steps);
  }

  // Moves in runs of 1..6 steps in one direction, reseeking now and then and
  // whenever the walk falls off either end.
  void RandomSteps(Walk* walk, int steps) {
    for (int i = 0; i < steps && !::testing::Test::HasFatalFailure(); ++i) {
      SCOPED_TRACE(fmt::format("step {}", i));
      const uint64_t dice = rng_() % 100;
      if (!walk->valid() || dice < 12) {
        const uint64_t how = rng_() % 3;
        if (how == 0) {
          walk->SeekToFirst();
        } else if (how == 1) {
          walk->SeekToLast();
        } else {
          walk->Seek(RandomTarget());
        }
        continue;
      }
      const bool forward = dice < 56;
      const int run = 1 + static_cast<int>(rng_() % 6);
      for (int r = 0; r < run && walk->valid() && !::testing::Test::HasFatalFailure(); ++r) {
        if (forward) {
          walk->Next();
        } else {
          walk->Prev();
        }
      }
    }
  }

  // An iterator opened before more writes, flushes and compactions keeps
  // reading the state it was opened at.
  void CheckOpenIteratorAcrossWrites() {
    std::optional<std::string> upper;
    if (rng_() % 3 == 0) upper = RandomTarget();
    ReadOptions ro;
    ro.upper_bound = upper;
    auto it = db_->NewIterator(ro);
    const Model frozen = model_;
    Walk walk(it.get(), &frozen, upper);
    RandomSteps(&walk, 10);
    const int writes = 1 + static_cast<int>(rng_() % 100);
    for (int i = 0; i < writes && !::testing::Test::HasFatalFailure(); ++i) Mutate();
    if (rng_() % 2) {
      ASSERT_TRUE(db_->Flush().ok());
    }
    if (rng_() % 4 == 0) {
      ASSERT_TRUE(db_->CompactAll().ok());
    }
    RandomSteps(&walk, 40);
    walk.ReverseScan();
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

class LsmReverseModelTest : public ::testing::TestWithParam<ModelCase> {};

TEST_P(LsmReverseModelTest, BothDirectionsMatchStdMap) {
  const uint64_t seed = strata::testing::TestSeed(GetParam().seed);
  SCOPED_TRACE(fmt::format("seed={}", seed));
  strata::testing::ScratchDir dir;
  ReverseModelRun run(GetParam().style, seed, dir.path());
  run.Run(1500);
}

std::vector<ModelCase> Cases() {
  std::vector<ModelCase> cases;
  for (uint64_t seed = 1; seed <= 4; ++seed) {
    cases.push_back({CompactionStyle::kLeveled, 200 + seed});
    cases.push_back({CompactionStyle::kSizeTiered, 300 + seed});
  }
  return cases;
}

INSTANTIATE_TEST_SUITE_P(Seeds, LsmReverseModelTest, ::testing::ValuesIn(Cases()),
                         [](const auto& info) {
                           return fmt::format(
                               "{}_seed{}",
                               info.param.style == CompactionStyle::kLeveled ? "Leveled"
                                                                             : "SizeTiered",
                               info.param.seed);
                         });

}  // namespace
}  // namespace strata::lsm
