// Limits and fixed sizes of the WAL, tied together by static_asserts.
#pragma once

#include <cstddef>
#include <cstdint>

#include "strata/limits.h"

namespace strata::wal {

// Every segment starts with one block holding the segment header; records
// start at this offset so that O_DIRECT writes stay block aligned.
inline constexpr uint64_t kSegmentHeaderBytes = 4096;
// Fixed part of every record (see FORMAT.md).
inline constexpr uint64_t kRecordHeaderBytes = 32;
// Records start at multiples of this, so that recovery can scan for a record
// header after a bad one in 8-byte steps.
inline constexpr uint64_t kRecordAlignment = 8;
// Block size for O_DIRECT writes and for the tail-block rewrite.
inline constexpr uint64_t kDirectBlockBytes = 4096;

// A seal record (header only) ends every segment the writer moved on from;
// the writer keeps room for it at the end of each segment.
inline constexpr uint64_t kSealRecordBytes = kRecordHeaderBytes;
// A grow record (header and an 8-byte size) goes in before the first record
// that lies past a segment's declared allocation; the writer keeps room for
// one below the segment size.
inline constexpr uint64_t kGrowRecordBytes = kRecordHeaderBytes + 8;

// Segment size bounds (LogOptions::segment_bytes).
inline constexpr uint64_t kSegmentBytesMin = 64 * kKiB;
inline constexpr uint64_t kSegmentBytesMax = 4 * kGiB;
// One payload; a record must also fit in an empty segment.
inline constexpr uint64_t kRecordPayloadBytesMax = 256 * kMiB;

// Consecutive group writes one leader does before handing the lead on.
inline constexpr size_t kLeaderRoundsMax = 4;
// A leader waits for expected appenders at most 1/this of the average synced
// write's latency (LogOptions::group_wait_micros_max caps it too).
inline constexpr uint64_t kGroupWaitSyncFraction = 4;
// Released segments kept for reuse instead of being deleted.
// (LogOptions::recycled_segments_max is the default; this bounds it.)
inline constexpr size_t kRecyclePoolMax = 2;
// Recovery reads a segment in requests of this size, batched into windows;
// the scan may use a window's bytes as soon as the window is read.
inline constexpr size_t kRecoveryReadBytes = 1 * kMiB;
inline constexpr size_t kRecoveryWindowBytes = 8 * kMiB;

static_assert(kSegmentHeaderBytes % kDirectBlockBytes == 0);
static_assert(kRecordHeaderBytes % kRecordAlignment == 0);
static_assert(kSegmentBytesMin % kDirectBlockBytes == 0);
static_assert(kSegmentBytesMin >
              kSegmentHeaderBytes + kRecordHeaderBytes + kSealRecordBytes + kGrowRecordBytes);
static_assert(kRecordPayloadBytesMax < (uint64_t{1} << 32), "length is a u32");

constexpr uint64_t AlignUp(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }
constexpr uint64_t AlignDown(uint64_t v, uint64_t a) { return v / a * a; }

// Bytes a record with `payload_bytes` occupies in a segment, padding included.
constexpr uint64_t RecordBytes(uint64_t payload_bytes) {
  return AlignUp(kRecordHeaderBytes + payload_bytes, kRecordAlignment);
}

// Record bytes (header, payload, padding) one segment of `segment_bytes`
// holds: everything after the header but the room kept for the seal and
// for one grow record.
constexpr uint64_t SegmentRecordSpace(uint64_t segment_bytes) {
  return segment_bytes - kSegmentHeaderBytes - kSealRecordBytes - kGrowRecordBytes;
}
// The largest payload one record in such a segment may carry.
constexpr uint64_t SegmentPayloadBytesMax(uint64_t segment_bytes) {
  const uint64_t fit = AlignDown(SegmentRecordSpace(segment_bytes), kRecordAlignment) -
                       kRecordHeaderBytes;
  return fit < kRecordPayloadBytesMax ? fit : kRecordPayloadBytesMax;
}

}  // namespace strata::wal
