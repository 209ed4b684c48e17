#include "lsm/bloom.h"

#include <algorithm>
#include <cmath>

#include "core/assert.h"
#include "core/checksum.h"

namespace strata::lsm {

uint64_t BloomHash(std::string_view user_key) { return Checksum64(user_key); }

BloomBuilder::BloomBuilder(int bits_per_key) : bits_per_key_(bits_per_key) {
  STRATA_ASSERT(bits_per_key_ >= 1);
  const int k = static_cast<int>(std::lround(bits_per_key_ * std::log(2.0)));
  probe_count_ = std::clamp(k, 1, kBloomProbesMax);
}

std::string BloomBuilder::Finish() {
  size_t bit_count = std::max(kBloomBitsMin, hashes_.size() * bits_per_key_);
  const size_t byte_count = (bit_count + 7) / 8;
  bit_count = byte_count * 8;
  std::string filter(byte_count + 1, '\0');
  for (uint64_t hash : hashes_) {
    const uint32_t h1 = static_cast<uint32_t>(hash);
    const uint32_t h2 = static_cast<uint32_t>(hash >> 32);
    for (int i = 0; i < probe_count_; ++i) {
      const uint64_t bit = (h1 + uint64_t{h2} * i) % bit_count;
      filter[bit / 8] = static_cast<char>(filter[bit / 8] | (1 << (bit % 8)));
    }
  }
  filter[byte_count] = static_cast<char>(probe_count_);
  hashes_.clear();
  return filter;
}

bool BloomValid(std::string_view filter) {
  if (filter.size() < 2) return false;
  const int k = static_cast<uint8_t>(filter.back());
  return k >= 1 && k <= kBloomProbesMax;
}

bool BloomMayMatch(std::string_view filter, uint64_t hash) {
  if (!BloomValid(filter)) return true;
  const int k = static_cast<uint8_t>(filter.back());
  const uint64_t bit_count = (filter.size() - 1) * 8;
  // (h1 + i * h2) mod bit_count, as the builder sets it, stepped without a
  // division per probe: both terms are reduced once, so each step adds less
  // than 2 * bit_count and one subtraction brings it back into range.
  const uint64_t step = (hash >> 32) % bit_count;
  uint64_t bit = static_cast<uint32_t>(hash) % bit_count;
  for (int i = 0; i < k; ++i) {
    if ((static_cast<uint8_t>(filter[bit / 8]) & (1 << (bit % 8))) == 0) return false;
    bit += step;
    if (bit >= bit_count) bit -= bit_count;
  }
  return true;
}

}  // namespace strata::lsm
