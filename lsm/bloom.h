// Bloom filter over the user keys of one table (lsm/FORMAT.md, "Filter block").
//
// Each key is hashed once with XXH3-64; probe i sets bit (h1 + i * h2) mod
// bit_count, where h1/h2 are the low/high 32 bits (double hashing, Kirsch and
// Mitzenmacher). k = round(bits_per_key * ln 2), clamped to [1, 30]: with 10
// bits per key that is 7 probes and about 0.8% false positives.
//
// Threading: a BloomBuilder has one user; a filter view is immutable.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace strata::lsm {

inline constexpr int kBloomProbesMax = 30;
// Filters are at least this many bits so that tiny tables are not all ones.
inline constexpr size_t kBloomBitsMin = 64;

uint64_t BloomHash(std::string_view user_key);

class BloomBuilder {
 public:
  explicit BloomBuilder(int bits_per_key);
  // Adds a key hash (BloomHash); callers dedupe consecutive equal user keys.
  void AddHash(uint64_t hash) { hashes_.push_back(hash); }
  size_t key_count() const { return hashes_.size(); }
  // Filter bytes: bit array | probe count (1 byte).
  std::string Finish();

 private:
  int bits_per_key_;
  int probe_count_;
  std::vector<uint64_t> hashes_;
};

// False only if the key was certainly not added. A malformed filter (wrong
// probe count) answers true: it must never hide a key.
bool BloomMayMatch(std::string_view filter, uint64_t hash);
// Whether `filter` is well-formed (checked once at table open).
bool BloomValid(std::string_view filter);

}  // namespace strata::lsm
