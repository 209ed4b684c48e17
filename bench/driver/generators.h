// Deterministic key, value and request generators for the workloads.
//
// Everything is a pure function of --seed (and the thread and workload
// index), so two runs with the same flags issue the same operations in the
// same order on every engine.
//
// Keys: a key number n < 2^64 becomes 8 bytes big-endian followed by '0'
// padding up to --key_size, so bytewise key order is numeric order and
// fillseq really is sequential.
//
// Thread safety: every generator here is owned by one thread.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>

namespace strata::bench {

// SplitMix64: seeds other generators and hashes seeds together.
uint64_t SplitMix64(uint64_t* state);
uint64_t MixSeed(uint64_t seed, uint64_t salt);

// xoshiro256**: fast, good-quality, deterministic per seed.
class Random {
 public:
  explicit Random(uint64_t seed);
  uint64_t Next();
  // Uniform in [0, n); REQUIRES n > 0.
  uint64_t Uniform(uint64_t n);
  // Uniform in [0, 1).
  double NextDouble() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }

 private:
  uint64_t s_[4];
};

// Writes the key for key number `n` into *key (resized to key_size).
void FormatKey(uint64_t n, uint32_t key_size, std::string* key);

// A bijection of [0, n): op index -> key number, so fillrandom writes every
// key exactly once in a seed-dependent order without an O(n) table. A small
// Feistel network over the next power of two, cycle-walking back into range.
class Permutation {
 public:
  Permutation(uint64_t n, uint64_t seed);
  uint64_t operator()(uint64_t index) const;

 private:
  uint64_t n_;
  int half_bits_;
  uint64_t half_mask_;
  uint64_t keys_[4];
};

// Values like db_bench's: a pool of pseudo-random bytes in which each chunk
// holds (1 - compressibility) random bytes repeated to fill it, so a general
// purpose compressor shrinks values by about `compressibility`. Values are
// slices of the pool at a rolling offset.
class ValueGenerator {
 public:
  ValueGenerator(uint64_t seed, double compressibility, uint32_t value_size);
  std::string_view Next();

 private:
  std::string pool_;
  uint32_t value_size_;
  size_t offset_ = 0;
};

// YCSB's ZipfianGenerator (Gray et al., "Quickly generating billion-record
// synthetic databases"): item i in [0, items) is drawn with probability
// proportional to 1/(i+1)^theta. The item count may grow (SetItems), as
// the "latest" distribution needs; zeta is then extended incrementally.
class Zipfian {
 public:
  static constexpr double kYcsbTheta = 0.99;
  Zipfian(uint64_t items, double theta = kYcsbTheta);
  uint64_t Next(Random* rng);
  void SetItems(uint64_t items);
  uint64_t items() const { return items_; }
  double zetan() const { return zetan_; }

  static double Zeta(uint64_t from, uint64_t to, double theta, double initial);

 private:
  void Recompute();
  uint64_t items_;
  double theta_;
  double alpha_;
  double zeta2_;
  double zetan_;
  double eta_;
};

// YCSB's "zipfian" request distribution: zipfian popularity, but the
// popular items are scattered over the key space by an FNV-1a hash.
class ScrambledZipfian {
 public:
  explicit ScrambledZipfian(uint64_t items) : zipf_(items) {}
  uint64_t Next(Random* rng);
  uint64_t items() const { return zipf_.items(); }

 private:
  Zipfian zipf_;
};

// YCSB's "latest": the most recently inserted records are the most popular.
// Returns last - zipfian(last + 1), where last is the newest record number.
class SkewedLatest {
 public:
  explicit SkewedLatest(uint64_t records) : zipf_(records == 0 ? 1 : records) {}
  uint64_t Next(Random* rng, uint64_t records);

 private:
  Zipfian zipf_;
};

uint64_t Fnv1a64(uint64_t value);

}  // namespace strata::bench
