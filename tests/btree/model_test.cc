// Model test: random Put/Delete/Write/PutIfNewer/snapshots/iterators (both
// directions, seeks, upper bounds) against a std::map, across checkpoints
// and reopens, with the structural checker after every sequence. Tiny pages
// make splits, merges, redistributions and overflow chains constant; a tiny
// cache makes eviction constant. Replay with STRATA_SEED=<seed>.
#include <fmt/core.h>
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "tests/btree/btree_test_util.h"
#include "tests/testing/test_util.h"

namespace strata::btree {
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

struct ModelParams {
  size_t page_bytes;
  uint64_t seed;
  int key_space;
};

class ModelRun {
 public:
  ModelRun(const ModelParams& p, const std::string& dir)
      : p_(p), rng_(strata::testing::TestSeed(p.seed)), dir_(dir) {}

  void Run(int sequences, int ops_per_sequence) {
    Reopen();
    for (int s = 0; s < sequences && !::testing::Test::HasFatalFailure(); ++s) {
      for (int i = 0; i < ops_per_sequence && !::testing::Test::HasFatalFailure(); ++i) {
        SCOPED_TRACE(fmt::format("sequence {} op {}", s, i));
        Step();
      }
      if (::testing::Test::HasFatalFailure()) return;
      SCOPED_TRACE(fmt::format("end of sequence {}", s));
      CheckAll();
      ASSERT_TRUE(db_->Flush().ok());
      CheckReport report;
      const Status c = testing::CheckDir(dir_, &report);
      ASSERT_TRUE(c.ok()) << c.ToString();
      EXPECT_EQ(report.entries, model_.size());
      if (rng_() % 3 == 0) Reopen();
    }
  }

  int max_height = 0;

 private:
  std::string RandomKey() {
    const uint64_t k = rng_() % static_cast<uint64_t>(p_.key_space);
    return fmt::format("k{:05}{}", k, std::string(k % 11, 'p'));
  }
  std::string RandomValue() {
    const uint64_t d = rng_() % 20;
    const size_t len = d == 0 ? rng_() % 3000 : d < 3 ? rng_() % 400 : rng_() % 40;
    std::string v(len, '\0');
    for (auto& c : v) c = static_cast<char>('a' + rng_() % 26);
    return v;
  }
  WriteOptions RandomWriteOptions() { return WriteOptions{rng_() % 200 == 0}; }

  void Reopen() {
    snapshots_.clear();
    db_.reset();
    const Status s = strata::Open(testing::TinyOptions(p_.page_bytes), dir_, &db_);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  void Step() {
    const uint64_t dice = rng_() % 1000;
    if (dice < 380) {
      const std::string k = RandomKey(), v = RandomValue();
      ASSERT_TRUE(db_->Put(RandomWriteOptions(), k, v).ok());
      model_[k] = Entry{v, 0};
    } else if (dice < 560) {
      const std::string k = RandomKey();
      ASSERT_TRUE(db_->Delete(RandomWriteOptions(), k).ok());
      model_.erase(k);
    } else if (dice < 650) {
      WriteBatch batch;
      Model next = model_;
      const int n = 1 + static_cast<int>(rng_() % 30);
      for (int i = 0; i < n; ++i) {
        const std::string k = RandomKey();
        const uint64_t kind = rng_() % 3;
        if (kind == 0) {
          ASSERT_TRUE(batch.Delete(k).ok());
          next.erase(k);
        } else if (kind == 1) {
          const std::string v = RandomValue();
          ASSERT_TRUE(batch.Put(k, v).ok());
          next[k] = Entry{v, 0};
        } else {
          const std::string v = RandomValue();
          const uint64_t ver = rng_() % 100;
          ASSERT_TRUE(batch.PutVersioned(k, ver, v).ok());
          next[k] = Entry{v, ver};
        }
      }
      ASSERT_TRUE(db_->Write(RandomWriteOptions(), batch).ok());
      model_ = std::move(next);
    } else if (dice < 720) {
      const std::string k = RandomKey(), v = RandomValue();
      const uint64_t ver = rng_() % 50;
      bool applied = false;
      ASSERT_TRUE(db_->PutIfNewer(RandomWriteOptions(), k, ver, v, &applied).ok());
      auto it = model_.find(k);
      const bool expect = it == model_.end() || ver > it->second.version;
      ASSERT_EQ(applied, expect) << k;
      if (expect) model_[k] = Entry{v, ver};
    } else if (dice < 800) {
      const std::string k = RandomKey();
      std::string v;
      uint64_t ver = 0;
      const Status s = db_->GetVersioned(ReadOptions{}, k, &v, &ver);
      auto it = model_.find(k);
      if (it == model_.end()) {
        ASSERT_TRUE(s.IsNotFound()) << s.ToString();
      } else {
        ASSERT_TRUE(s.ok()) << s.ToString();
        ASSERT_EQ(v, it->second.value);
        ASSERT_EQ(ver, it->second.version);
      }
    } else if (dice < 830) {
      if (snapshots_.size() >= 4) snapshots_.erase(snapshots_.begin());
      snapshots_.push_back(SavedSnapshot{db_->GetSnapshot(), model_});
    } else if (dice < 900) {
      // A seek (with an optional upper bound), then a few steps each way.
      const Snapshot* snap = nullptr;
      const Model* m = &model_;
      if (!snapshots_.empty() && rng_() % 2 == 0) {
        const auto& s = snapshots_[rng_() % snapshots_.size()];
        snap = s.snapshot.get();
        m = &s.model;
      }
      std::optional<std::string> bound;
      if (rng_() % 3 == 0) bound = RandomKey();
      CheckSeek(snap, *m, RandomKey(), bound);
    } else if (dice < 905) {
      CheckAll();
    } else if (dice < 915) {
      ASSERT_TRUE(db_->Flush().ok());
    } else if (dice < 918) {
      Reopen();
    } else {
      const std::string k = RandomKey();
      std::string v;
      const Status s = db_->Get(ReadOptions{}, k, &v);
      auto it = model_.find(k);
      ASSERT_EQ(s.ok(), it != model_.end()) << s.ToString();
      if (s.ok()) {
        ASSERT_EQ(v, it->second.value);
      }
    }
    const EngineStats st = db_->Stats();
    for (const auto& [name, value] : st.properties) {
      if (name == "btree.height") max_height = std::max(max_height, static_cast<int>(value));
    }
  }

  void CheckSeek(const Snapshot* snap, const Model& m, const std::string& target,
                 const std::optional<std::string>& bound) {
    ReadOptions ro;
    ro.snapshot = snap;
    ro.upper_bound = bound;
    auto it = testing::AsBtree(db_.get())->NewBtreeIterator(ro);
    it->Seek(target);
    auto mit = m.lower_bound(target);
    auto in_bound = [&](Model::const_iterator x) {
      return x != m.end() && (!bound || x->first < *bound);
    };
    for (int step = 0; step < 8; ++step) {
      ASSERT_EQ(it->Valid(), in_bound(mit)) << "seek " << target << " step " << step;
      if (!it->Valid()) break;
      ASSERT_EQ(it->key(), mit->first);
      ASSERT_EQ(it->value(), mit->second.value);
      ASSERT_EQ(it->version(), mit->second.version);
      it->Next();
      ++mit;
    }
    // Backwards from a fresh seek.
    it->Seek(target);
    mit = m.lower_bound(target);
    if (!in_bound(mit)) return;
    for (int step = 0; step < 8; ++step) {
      ASSERT_TRUE(it->Valid());
      ASSERT_EQ(it->key(), mit->first);
      it->Prev();
      if (mit == m.begin()) {
        ASSERT_FALSE(it->Valid());
        break;
      }
      --mit;
    }
    ASSERT_TRUE(it->status().ok()) << it->status().ToString();
  }

  void CheckScan(const Snapshot* snap, const Model& m, const std::optional<std::string>& bound) {
    ReadOptions ro;
    ro.snapshot = snap;
    ro.upper_bound = bound;
    auto it = testing::AsBtree(db_.get())->NewBtreeIterator(ro);
    auto mit = m.begin();
    for (it->SeekToFirst(); it->Valid(); it->Next(), ++mit) {
      ASSERT_TRUE(mit != m.end() && (!bound || mit->first < *bound)) << it->key();
      ASSERT_EQ(it->key(), mit->first);
      ASSERT_EQ(it->value(), mit->second.value);
    }
    ASSERT_TRUE(it->status().ok()) << it->status().ToString();
    ASSERT_TRUE(mit == m.end() || (bound && mit->first >= *bound));
    // Backwards.
    auto rit = m.rbegin();
    if (bound) {
      while (rit != m.rend() && rit->first >= *bound) ++rit;
    }
    for (it->SeekToLast(); it->Valid(); it->Prev(), ++rit) {
      ASSERT_TRUE(rit != m.rend()) << it->key();
      ASSERT_EQ(it->key(), rit->first);
      ASSERT_EQ(it->value(), rit->second.value);
    }
    ASSERT_TRUE(rit == m.rend());
    ASSERT_TRUE(it->status().ok()) << it->status().ToString();
  }

  void CheckAll() {
    CheckScan(nullptr, model_, std::nullopt);
    const std::string bound = RandomKey();
    CheckScan(nullptr, model_, bound);
    for (auto& s : snapshots_) CheckScan(s.snapshot.get(), s.model, std::nullopt);
  }

  const ModelParams p_;
  std::mt19937_64 rng_;
  const std::string dir_;
  std::unique_ptr<Engine> db_;
  Model model_;
  std::vector<SavedSnapshot> snapshots_;
};

class BtreeModelTest : public ::testing::TestWithParam<ModelParams> {};

TEST_P(BtreeModelTest, MatchesStdMap) {
  strata::testing::ScratchDir dir;
  ModelRun run(GetParam(), dir.path());
  SCOPED_TRACE(fmt::format("seed {}", strata::testing::TestSeed(GetParam().seed)));
  run.Run(20, 300);
  // The run must have built a real tree.
  EXPECT_GE(run.max_height, GetParam().key_space >= 600 ? 3 : 2);
}

INSTANTIATE_TEST_SUITE_P(Seeds, BtreeModelTest,
                         ::testing::Values(ModelParams{512, 1, 600}, ModelParams{512, 2, 2000},
                                           ModelParams{1024, 3, 1500},
                                           ModelParams{512, 4, 150}),
                         [](const auto& info) {
                           return fmt::format("page{}_seed{}", info.param.page_bytes,
                                              info.param.seed);
                         });

}  // namespace
}  // namespace strata::btree
