// The WAL's on-disk encoding: segment header, record header, file names.
// FORMAT.md beside this file describes every byte; the two change together.
//
// Everything here is pure encoding with bounds checks; it does no I/O and
// keeps no state, so it may be used from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "strata/status.h"
#include "wal/limits.h"

namespace strata::wal {

// "STRATWAL" read as a little-endian u64.
inline constexpr uint64_t kSegmentMagic = 0x4c41575441525453ull;
inline constexpr uint32_t kFormatVersion = 3;
// Oldest version still read: version 1 segments have no seal records,
// version 2 segments are allocated to their full size from birth.
inline constexpr uint32_t kFormatVersionMin = 1;
// Bytes of the segment header block that carry fields (the rest is zero):
// 48 in version 3, 40 in versions 1 and 2.
inline constexpr size_t kSegmentHeaderUsedBytes = 48;
inline constexpr size_t kSegmentHeaderUsedBytesV2 = 40;

// On-disk record types. 0 is never valid so that zeroed space cannot parse.
enum class RecordType : uint8_t {
  kData = 1,  // one Append() payload
  // Ends a segment the writer moved on from (version 2): no payload, lsn =
  // the LSN of the next record, which is in the next segment. Written and
  // synced only once the next segment is durable, so a sealed newest
  // segment means newer segments were lost.
  kSeal = 2,
  // The segment file grew (version 3): payload = u64 LE, the file size the
  // writer allocated and made durable before writing this record; lsn = the
  // LSN of the next record (it consumes none and is never replayed). A
  // segment file shorter than the largest size its header or one of its
  // grow records declares was truncated.
  kGrow = 3,
};
inline constexpr uint8_t kRecordTypeMax = 3;
// Payload of a grow record: the allocated size.
inline constexpr uint32_t kGrowPayloadBytes = 8;

struct SegmentHeader {
  uint64_t seq = 0;
  uint64_t segment_bytes = 0;  // the most the segment may grow to
  // File size allocated (and durable) before the segment got its name;
  // equal to segment_bytes in versions 1 and 2.
  uint64_t allocated_bytes = 0;
  uint32_t version = kFormatVersion;  // set by DecodeSegmentHeader
};

// Fills kSegmentHeaderBytes at dst (the rest of the block is zero).
void EncodeSegmentHeader(const SegmentHeader& header, char* dst);
// Checks magic, version, checksum; `what` names the file in the message.
Status DecodeSegmentHeader(std::string_view block, std::string_view what, SegmentHeader* header);

// A decoded record header. Offsets of the fields are in FORMAT.md.
struct RecordHeader {
  uint64_t checksum = 0;
  uint32_t payload_bytes = 0;
  uint8_t type = 0;
  uint64_t segment_seq = 0;
  uint64_t lsn = 0;
};

// Writes header + payload + zero padding at dst, which has room for
// RecordBytes(payload.size()). Returns the bytes written.
uint64_t EncodeRecord(uint64_t segment_seq, uint64_t lsn, std::string_view payload, char* dst);
// Writes a seal record (kSealRecordBytes) at dst; `next_lsn` is the LSN of
// the first record of the next segment.
uint64_t EncodeSealRecord(uint64_t segment_seq, uint64_t next_lsn, char* dst);
// Writes a grow record (kGrowRecordBytes) at dst declaring `allocated_bytes`;
// `next_lsn` is the LSN of the next record.
uint64_t EncodeGrowRecord(uint64_t segment_seq, uint64_t next_lsn, uint64_t allocated_bytes,
                          char* dst);
// The size a valid grow record declares. REQUIRES: payload of a kGrow record.
uint64_t DecodeGrowPayload(std::string_view payload);

// Why a position in a segment does not hold a valid record.
enum class RecordCheck : uint8_t {
  kOk,
  kEndOfData,    // fewer than kRecordHeaderBytes left
  kZero,         // an all-zero header: never written
  kStale,        // a header from another segment (recycled file), or garbage
  kBadHeader,    // this segment's seq but an impossible type/length/reserved
  kTruncated,    // payload runs past the end of the data
  kBadChecksum,  // checksum does not match header and payload
};
std::string_view RecordCheckName(RecordCheck check);

// Parses the record at the front of `data` (which runs to the end of the
// segment's data) for segment `seq`. On kOk fills header and payload.
RecordCheck CheckRecord(std::string_view data, uint64_t seq, RecordHeader* header,
                        std::string_view* payload);

// Reads just the header fields without any validation (for tools).
RecordHeader PeekRecordHeader(std::string_view data);

// "000000000042.wal"; temporary and free (recyclable) files use other suffixes.
std::string SegmentFileName(uint64_t seq);
std::string TempSegmentFileName(uint64_t seq);
std::string FreeSegmentFileName(uint64_t seq);
enum class FileKind : uint8_t { kSegment, kTemp, kFree, kOther };
// Parses a file name in a WAL directory; seq is set for the three WAL kinds.
FileKind ParseFileName(std::string_view name, uint64_t* seq);

}  // namespace strata::wal
