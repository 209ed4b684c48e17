// TableOptions: how a TableBuilder lays out an SSTable and how a Table reads it.
// A plain value; copy freely.
#pragma once

#include <cstddef>

#include "strata/options.h"

namespace strata::lsm {

struct TableOptions {
  // Target uncompressed bytes per data block; a block ends at the first entry
  // that reaches it, so one large entry makes one large block.
  size_t block_bytes = 4096;
  // Entries between full (unshared) keys in a data block.
  int block_restart_interval = 16;
  // 0 writes no bloom filter.
  int bloom_bits_per_key = 10;
  Compression compression = Compression::kZstd;
  int zstd_level = 3;
  // A compressed block is kept only if it is at most (1 - this) of the raw size.
  double compression_min_savings = 0.125;
};

}  // namespace strata::lsm
