// User-visible limits. Breaking one is InvalidArgument, never an assertion.
#pragma once

#include <cstddef>
#include <cstdint>

namespace strata {

inline constexpr size_t kKiB = 1024;
inline constexpr size_t kMiB = 1024 * kKiB;
inline constexpr size_t kGiB = 1024 * kMiB;

// Keys are compared bytewise; an empty key is allowed.
inline constexpr size_t kKeyBytesMax = 64 * kKiB;
// A single value. Larger blobs belong in a blob store, not an LSM block.
inline constexpr size_t kValueBytesMax = 16 * kMiB;
// A serialised WriteBatch (keys, values, framing). Must fit a WAL record.
inline constexpr size_t kWriteBatchBytesMax = 32 * kMiB;
// Entries in one WriteBatch.
inline constexpr uint32_t kWriteBatchCountMax = 1u << 24;
// A WriteBatch is logged as one WAL record, which must fit one WAL segment
// (a 4 KiB header, then records with a 32-byte header): segments of at least
// this size (Options::wal_segment_bytes; the default is 64 MiB) hold a batch
// of kWriteBatchBytesMax, hence a Put of kKeyBytesMax and kValueBytesMax.
// An engine with smaller segments (tests) refuses bigger batches with
// InvalidArgument.
inline constexpr uint64_t kWalSegmentBytesForMaxBatch = kWriteBatchBytesMax + 64 * kKiB;

static_assert(kKeyBytesMax + kValueBytesMax < kWriteBatchBytesMax,
              "one maximal Put must fit in a batch");

}  // namespace strata
