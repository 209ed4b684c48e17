// Checks an iterator (an InternalIterator, or a strata::Iterator with
// CompareBytewise) against the list of entries it must yield, in both
// directions: full scans, a turn at every entry, and seeded random walks
// mixing Seek/SeekToFirst/SeekToLast/Next/Prev. Shared by the per-layer
// reverse-iteration tests (block, table, merging, memtable, level, DB iterator).
#pragma once

#include <fmt/core.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "lsm/block.h"
#include "lsm/dbformat.h"

namespace strata::lsm::testing {

// Expected (key, value) pairs in iteration order (equal keys allowed: a
// merging iterator yields duplicates in child order).
using Entries = std::vector<std::pair<std::string, std::string>>;

template <typename Iter = InternalIterator>
class IteratorWalk {
 public:
  IteratorWalk(Iter* it, const Entries* expected, KeyComparator cmp = CompareInternalKeys)
      : it_(it), expected_(expected), cmp_(cmp), pos_(expected->size()) {}

  // Forward from SeekToFirst, then backward from SeekToLast.
  void FullScans() {
    SeekToFirst();
    while (!::testing::Test::HasFatalFailure() && pos_ != end()) Next();
    SeekToLast();
    while (!::testing::Test::HasFatalFailure() && pos_ != end()) Prev();
  }

  // At every entry, walking forward and then backward: turn around, come
  // back, and go on (Prev/Next then Next/Prev at each step).
  void TurnAtEveryEntry() {
    SeekToFirst();
    while (!::testing::Test::HasFatalFailure() && pos_ != end()) {
      Prev();
      if (pos_ == end()) {
        SeekToFirst();  // stepped off the front
      } else {
        Next();
      }
      Next();
      if (pos_ == end()) break;
      Prev();
      Next();
    }
    SeekToLast();
    while (!::testing::Test::HasFatalFailure() && pos_ != end()) {
      Next();
      if (pos_ == end()) {
        SeekToLast();  // stepped off the back
      } else {
        Prev();
      }
      Prev();
      if (pos_ == end()) break;
      Next();
      Prev();
    }
  }

  // `steps` random moves; runs in one direction are 1..8 moves long so walks
  // both cross block boundaries and turn often. Seek targets come from
  // `targets` (existing keys and keys between them).
  void RandomWalk(uint64_t seed, int steps, const std::vector<std::string>& targets) {
    std::mt19937_64 rng(seed);
    for (int i = 0; i < steps && !::testing::Test::HasFatalFailure(); ++i) {
      SCOPED_TRACE(fmt::format("step {}", i));
      const uint64_t dice = rng() % 100;
      if (pos_ == end() || dice < 10) {
        const uint64_t how = rng() % 4;
        if (how == 0) {
          SeekToFirst();
        } else if (how == 1) {
          SeekToLast();
        } else if (!targets.empty()) {
          SeekTarget(targets[rng() % targets.size()]);
        }
        continue;
      }
      const bool forward = dice < 55;
      const int run = 1 + static_cast<int>(rng() % 8);
      for (int r = 0; r < run && pos_ != end() && !::testing::Test::HasFatalFailure(); ++r) {
        if (forward) {
          Next();
        } else {
          Prev();
        }
      }
    }
  }

 private:
  size_t end() const { return expected_->size(); }

  void SeekToFirst() {
    it_->SeekToFirst();
    pos_ = 0;
    Check("SeekToFirst");
  }
  void SeekToLast() {
    it_->SeekToLast();
    pos_ = expected_->empty() ? end() : end() - 1;
    Check("SeekToLast");
  }
  void SeekTarget(const std::string& target) {
    it_->Seek(target);
    pos_ = std::partition_point(expected_->begin(), expected_->end(),
                                [&](const auto& e) { return cmp_(e.first, target) < 0; }) -
           expected_->begin();
    Check("Seek");
  }
  void Next() {
    it_->Next();
    ++pos_;
    Check("Next");
  }
  void Prev() {
    it_->Prev();
    pos_ = pos_ == 0 ? end() : pos_ - 1;
    Check("Prev");
  }

  void Check(const char* op) {
    ASSERT_TRUE(it_->status().ok()) << op << ": " << it_->status().ToString();
    if (pos_ == end()) {
      ASSERT_FALSE(it_->Valid()) << op << ": expected the end, at " << Printable(it_->key());
      return;
    }
    ASSERT_TRUE(it_->Valid()) << op << ": expected entry " << pos_ << " "
                              << Printable((*expected_)[pos_].first);
    ASSERT_EQ(Printable(it_->key()), Printable((*expected_)[pos_].first)) << op << " @" << pos_;
    ASSERT_EQ(it_->value(), (*expected_)[pos_].second) << op << " @" << pos_;
  }

  // Internal keys end in a binary trailer; show them as user key @ tag.
  std::string Printable(std::string_view key) const {
    if (cmp_ != CompareInternalKeys || key.size() < kInternalKeyTrailerBytes) {
      return std::string(key);
    }
    const uint64_t tag = DecodeFixed64(key.data() + key.size() - kInternalKeyTrailerBytes);
    return fmt::format("{}@{}/{}", ExtractUserKey(key), tag >> 8, tag & 0xff);
  }

  Iter* it_;
  const Entries* expected_;
  KeyComparator cmp_;
  size_t pos_;  // index into *expected_; end() when the iterator is invalid
};

// Seek targets for internal-key entries: every key, and for each a key just
// before and just after it (same user key, neighbouring sequences), plus
// user keys that sort before and after everything.
inline std::vector<std::string> SeekTargets(const Entries& entries) {
  std::vector<std::string> targets;
  for (const auto& [k, v] : entries) {
    targets.push_back(k);
    ParsedInternalKey p;
    if (!ParseInternalKey(k, &p)) continue;
    std::string before, after;
    AppendInternalKey(&before, p.user_key, p.sequence + 1, kValueTypeForSeek);
    AppendInternalKey(&after, p.user_key, p.sequence == 0 ? 0 : p.sequence - 1, kValueTypeForSeek);
    targets.push_back(std::move(before));
    targets.push_back(std::move(after));
  }
  std::string first, last;
  AppendInternalKey(&first, "", kMaxSequenceNumber, kValueTypeForSeek);
  AppendInternalKey(&last, "\xff\xff\xff", 0, ValueType::kDeletion);
  targets.push_back(first);
  targets.push_back(last);
  return targets;
}

}  // namespace strata::lsm::testing
