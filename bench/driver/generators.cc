#include "bench/driver/generators.h"

#include <algorithm>
#include <bit>

#include "core/assert.h"

namespace strata::bench {

uint64_t SplitMix64(uint64_t* state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

uint64_t MixSeed(uint64_t seed, uint64_t salt) {
  uint64_t state = seed ^ (salt * 0xd1342543de82ef95ull);
  return SplitMix64(&state);
}

Random::Random(uint64_t seed) {
  uint64_t state = seed;
  for (uint64_t& s : s_) s = SplitMix64(&state);
}

uint64_t Random::Next() {
  const uint64_t result = std::rotl(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = std::rotl(s_[3], 45);
  return result;
}

uint64_t Random::Uniform(uint64_t n) {
  STRATA_ASSERT(n > 0);
  // Lemire's multiply-shift; the bias for n << 2^64 is far below what any
  // statistical check here could see.
  return static_cast<uint64_t>((static_cast<unsigned __int128>(Next()) * n) >> 64);
}

void FormatKey(uint64_t n, uint32_t key_size, std::string* key) {
  constexpr uint32_t kNumberBytes = 8;
  STRATA_ASSERT(key_size >= kNumberBytes);
  key->assign(key_size, '0');
  for (uint32_t i = 0; i < kNumberBytes; ++i) {
    (*key)[i] = static_cast<char>((n >> (8 * (kNumberBytes - 1 - i))) & 0xff);
  }
}

Permutation::Permutation(uint64_t n, uint64_t seed) : n_(n) {
  STRATA_ASSERT(n > 0);
  int bits = 2;
  while (bits < 64 && (1ull << bits) < n) bits += 2;
  half_bits_ = bits / 2;
  half_mask_ = (1ull << half_bits_) - 1;
  uint64_t state = seed;
  for (uint64_t& k : keys_) k = SplitMix64(&state);
}

uint64_t Permutation::operator()(uint64_t index) const {
  STRATA_ASSERT(index < n_);
  uint64_t x = index;
  // Cycle-walking: the Feistel network permutes [0, 4^half_bits); values
  // outside [0, n) are encrypted again until they land inside. At most
  // 4x the range, so the expected number of rounds is below 4.
  do {
    uint64_t left = x >> half_bits_;
    uint64_t right = x & half_mask_;
    for (uint64_t k : keys_) {
      uint64_t state = right ^ k;
      const uint64_t f = SplitMix64(&state) & half_mask_;
      const uint64_t next_right = left ^ f;
      left = right;
      right = next_right;
    }
    x = (left << half_bits_) | right;
  } while (x >= n_);
  return x;
}

ValueGenerator::ValueGenerator(uint64_t seed, double compressibility, uint32_t value_size)
    : value_size_(value_size) {
  constexpr size_t kPoolBytes = 1 << 20;
  constexpr size_t kChunkBytes = 100;
  Random rng(seed);
  const size_t pool_bytes = std::max<size_t>(kPoolBytes, 2 * static_cast<size_t>(value_size));
  pool_.reserve(pool_bytes + kChunkBytes);
  const size_t raw_bytes =
      std::max<size_t>(1, static_cast<size_t>(kChunkBytes * (1.0 - compressibility) + 0.5));
  std::string raw;
  while (pool_.size() < pool_bytes) {
    raw.clear();
    // Printable bytes, as db_bench uses: ' ' .. '~'.
    for (size_t i = 0; i < raw_bytes; ++i) raw.push_back(static_cast<char>(' ' + rng.Uniform(95)));
    for (size_t i = 0; i < kChunkBytes; ++i) pool_.push_back(raw[i % raw_bytes]);
  }
}

std::string_view ValueGenerator::Next() {
  if (offset_ + value_size_ > pool_.size()) offset_ = 0;
  std::string_view v(pool_.data() + offset_, value_size_);
  // An odd stride keeps consecutive values from sharing alignment with the
  // chunk pattern.
  offset_ += value_size_ + 7;
  return v;
}

double Zipfian::Zeta(uint64_t from, uint64_t to, double theta, double initial) {
  double sum = initial;
  for (uint64_t i = from; i < to; ++i) sum += 1.0 / std::pow(static_cast<double>(i + 1), theta);
  return sum;
}

Zipfian::Zipfian(uint64_t items, double theta) : items_(items), theta_(theta) {
  STRATA_ASSERT(items > 0);
  alpha_ = 1.0 / (1.0 - theta_);
  zeta2_ = Zeta(0, 2, theta_, 0);
  zetan_ = Zeta(0, items_, theta_, 0);
  Recompute();
}

void Zipfian::Recompute() {
  eta_ = (1 - std::pow(2.0 / static_cast<double>(items_), 1 - theta_)) / (1 - zeta2_ / zetan_);
}

void Zipfian::SetItems(uint64_t items) {
  STRATA_ASSERT(items >= items_);
  if (items == items_) return;
  zetan_ = Zeta(items_, items, theta_, zetan_);
  items_ = items;
  Recompute();
}

uint64_t Zipfian::Next(Random* rng) {
  const double u = rng->NextDouble();
  const double uz = u * zetan_;
  if (uz < 1.0) return 0;
  if (uz < 1.0 + std::pow(0.5, theta_)) return items_ > 1 ? 1 : 0;
  const uint64_t v =
      static_cast<uint64_t>(static_cast<double>(items_) * std::pow(eta_ * u - eta_ + 1, alpha_));
  return std::min(v, items_ - 1);
}

uint64_t Fnv1a64(uint64_t value) {
  constexpr uint64_t kOffsetBasis = 0xcbf29ce484222325ull;
  constexpr uint64_t kPrime = 1099511628211ull;
  uint64_t hash = kOffsetBasis;
  for (int i = 0; i < 8; ++i) {
    hash ^= (value >> (8 * i)) & 0xff;
    hash *= kPrime;
  }
  return hash;
}

uint64_t ScrambledZipfian::Next(Random* rng) {
  return Fnv1a64(zipf_.Next(rng)) % zipf_.items();
}

uint64_t SkewedLatest::Next(Random* rng, uint64_t records) {
  STRATA_ASSERT(records > 0);
  if (records > zipf_.items()) zipf_.SetItems(records);
  const uint64_t last = records - 1;
  // The zipfian may cover more items than records after a shrink never
  // happens (items only grow), so clamp to the newest record's distance.
  const uint64_t back = std::min(zipf_.Next(rng), last);
  return last - back;
}

}  // namespace strata::bench
