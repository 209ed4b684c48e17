// XXH3-64 checksums (xxHash). Every byte strata puts on disk is covered by one.
#pragma once

#include <xxhash.h>

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace strata {

inline uint64_t Checksum64(const void* data, size_t bytes) { return XXH3_64bits(data, bytes); }
inline uint64_t Checksum64(std::string_view data) { return Checksum64(data.data(), data.size()); }
// Seeded variant, e.g. to bind a record to its segment.
inline uint64_t Checksum64(std::string_view data, uint64_t seed) {
  return XXH3_64bits_withSeed(data.data(), data.size(), seed);
}

// Streaming checksum over several pieces; equals Checksum64 of their concatenation.
class Checksummer {
 public:
  Checksummer() : state_(XXH3_createState()) { XXH3_64bits_reset(state_); }
  ~Checksummer() { XXH3_freeState(state_); }
  Checksummer(const Checksummer&) = delete;
  Checksummer& operator=(const Checksummer&) = delete;
  void Update(std::string_view data) { XXH3_64bits_update(state_, data.data(), data.size()); }
  uint64_t Digest() const { return XXH3_64bits_digest(state_); }

 private:
  XXH3_state_t* state_;
};

}  // namespace strata
