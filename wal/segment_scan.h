// ScanSegment: walks the records of one segment held in memory, verifying
// every checksum, and classifies how the valid prefix ends. Recovery, Replay
// and `strata wal dump|verify` share it. Pure function; any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <string_view>

#include "strata/status.h"
#include "wal/format.h"

namespace strata::wal {

struct SegmentScan {
  uint64_t record_count = 0;
  uint64_t first_lsn = 0;  // 0 when the segment holds no valid record
  uint64_t last_lsn = 0;
  // First offset that does not hold the next valid record.
  uint64_t end_offset = kSegmentHeaderBytes;
  RecordCheck end_check = RecordCheck::kEndOfData;
  // The record at end_offset carries this segment's seq but is incomplete or
  // damaged (torn write or corruption), or its lsn breaks the sequence.
  bool damaged = false;
  uint64_t damaged_bytes = 0;  // bytes of that record, clamped to the data
  // A valid record of this segment with a higher lsn lies after end_offset:
  // the bad spot is corruption, not a torn tail.
  bool valid_after = false;
  uint64_t valid_after_offset = 0;
  // The valid prefix ends with a seal record (FORMAT.md): the writer moved
  // on to the next segment, whose first record has lsn seal_lsn. end_offset
  // is then just past the seal.
  bool sealed = false;
  uint64_t seal_lsn = 0;
  // The largest file size a grow record in the valid prefix declares (0:
  // none). Recovery compares the file's size with it and the header's.
  uint64_t allocated_bytes = 0;
  uint64_t grow_count = 0;
  // Past the last byte after end_offset that may hold this segment's record
  // headers or payloads; [end_offset, dirty_end) is zeroed when truncating.
  uint64_t dirty_end = kSegmentHeaderBytes;
};

// Called for each valid record in order; a non-ok Status stops the scan and
// is returned by ScanSegment.
using RecordFn = std::function<Status(uint64_t lsn, uint64_t offset, std::string_view payload)>;

// Called for each valid record that is not data (a grow or seal record, its
// type byte as RecordType) in order among the data records; for the tools.
using ControlRecordFn =
    std::function<void(uint8_t type, uint64_t lsn, uint64_t offset, std::string_view payload)>;

// `data` is the segment from offset 0 to the end of what the file holds.
// `expected_lsn` is the lsn the first record must carry (0: any).
Status ScanSegment(std::string_view data, uint64_t seq, uint64_t expected_lsn,
                   const RecordFn& fn, SegmentScan* scan,
                   const ControlRecordFn& on_control = nullptr);

// Supplies a segment's bytes as they arrive: waits until at least `want`
// bytes from offset 0 are readable or all of them are (*complete), then sets
// *data to the readable prefix. Earlier views stay valid.
using MoreDataFn = std::function<Status(uint64_t want, std::string_view* data, bool* complete)>;

// ScanSegment over a segment still being read (SegmentLoader): records are
// verified and handed to fn as soon as their bytes are there; the same result.
Status ScanArrivingSegment(uint64_t seq, uint64_t expected_lsn, const MoreDataFn& more,
                           const RecordFn& fn, SegmentScan* scan,
                           const ControlRecordFn& on_control = nullptr);

}  // namespace strata::wal
