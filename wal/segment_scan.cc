#include "wal/segment_scan.h"

#include <algorithm>

#include "core/coding.h"

namespace strata::wal {

namespace {

// Looks past `from` for anything carrying this segment's seq: a valid record
// with lsn > last_lsn (corruption evidence) and the extent of such bytes.
void ScanRemainder(std::string_view data, uint64_t seq, uint64_t from, SegmentScan* scan) {
  scan->dirty_end = from;
  for (uint64_t pos = AlignUp(from, kRecordAlignment); pos + kRecordHeaderBytes <= data.size();
       pos += kRecordAlignment) {
    // Cheap filter first: the seq field sits at byte 16 of a header.
    if (DecodeFixed64(data.data() + pos + 16) != seq) continue;
    const RecordHeader peek = PeekRecordHeader(data.substr(pos));
    const uint64_t claimed = peek.payload_bytes <= kRecordPayloadBytesMax
                                 ? RecordBytes(peek.payload_bytes)
                                 : kRecordHeaderBytes;
    scan->dirty_end = std::max(scan->dirty_end, std::min<uint64_t>(pos + claimed, data.size()));
    if (scan->valid_after) continue;
    RecordHeader header;
    std::string_view payload;
    if (CheckRecord(data.substr(pos), seq, &header, &payload) == RecordCheck::kOk &&
        header.lsn > scan->last_lsn) {
      scan->valid_after = true;
      scan->valid_after_offset = pos;
    }
  }
}

}  // namespace

Status ScanSegment(std::string_view data, uint64_t seq, uint64_t expected_lsn,
                   const RecordFn& fn, SegmentScan* scan, const ControlRecordFn& on_control) {
  return ScanArrivingSegment(
      seq, expected_lsn,
      [data](uint64_t, std::string_view* have, bool* complete) {
        *have = data;
        *complete = true;
        return Status::Ok();
      },
      fn, scan, on_control);
}

Status ScanArrivingSegment(uint64_t seq, uint64_t expected_lsn, const MoreDataFn& more,
                           const RecordFn& fn, SegmentScan* scan,
                           const ControlRecordFn& on_control) {
  *scan = SegmentScan{};
  std::string_view data;
  bool complete = false;
  uint64_t pos = kSegmentHeaderBytes;
  STRATA_RETURN_IF_ERROR(more(pos + kRecordHeaderBytes, &data, &complete));
  while (true) {
    RecordHeader header;
    std::string_view payload;
    const RecordCheck check =
        pos <= data.size() ? CheckRecord(data.substr(pos), seq, &header, &payload)
                           : RecordCheck::kEndOfData;
    if (!complete && (check == RecordCheck::kEndOfData || check == RecordCheck::kTruncated)) {
      // Not a verdict yet: the rest of the record has not been read.
      const uint64_t need = pos + kRecordHeaderBytes +
                            (check == RecordCheck::kTruncated ? header.payload_bytes : 0);
      STRATA_RETURN_IF_ERROR(more(need, &data, &complete));
      continue;
    }
    const bool lsn_ok = expected_lsn == 0 || header.lsn == expected_lsn;
    if (check != RecordCheck::kOk || !lsn_ok) {
      scan->end_offset = pos;
      scan->end_check = check;
      scan->damaged = check == RecordCheck::kBadHeader || check == RecordCheck::kTruncated ||
                      check == RecordCheck::kBadChecksum || check == RecordCheck::kOk;
      if (scan->damaged) {
        // Clamped to the data below, once all of it has arrived.
        scan->damaged_bytes = check == RecordCheck::kBadHeader
                                  ? kRecordHeaderBytes
                                  : RecordBytes(header.payload_bytes);
      }
      break;
    }
    if (on_control && header.type != static_cast<uint8_t>(RecordType::kData)) {
      on_control(header.type, header.lsn, pos, payload);
    }
    if (header.type == static_cast<uint8_t>(RecordType::kSeal)) {
      // Nothing of this segment follows a seal; the remainder scan below
      // still looks for records that would contradict it.
      scan->sealed = true;
      scan->seal_lsn = header.lsn;
      scan->end_offset = pos + kSealRecordBytes;
      scan->end_check = RecordCheck::kEndOfData;
      break;
    }
    if (header.type == static_cast<uint8_t>(RecordType::kGrow)) {
      // Declares the file's allocation; consumes no LSN (its lsn is the
      // next record's, which the check above verified).
      scan->allocated_bytes = std::max(scan->allocated_bytes, DecodeGrowPayload(payload));
      ++scan->grow_count;
      expected_lsn = header.lsn;
      pos += RecordBytes(header.payload_bytes);
      continue;
    }
    if (fn) STRATA_RETURN_IF_ERROR(fn(header.lsn, pos, payload));
    if (scan->record_count == 0) scan->first_lsn = header.lsn;
    scan->last_lsn = header.lsn;
    ++scan->record_count;
    expected_lsn = header.lsn + 1;
    pos += RecordBytes(header.payload_bytes);
  }
  // The remainder scan looks for this segment's records anywhere after the
  // end: it needs every byte.
  if (!complete) STRATA_RETURN_IF_ERROR(more(UINT64_MAX, &data, &complete));
  scan->damaged_bytes = std::min<uint64_t>(scan->damaged_bytes, data.size() - scan->end_offset);
  ScanRemainder(data, seq, scan->end_offset, scan);
  if (scan->damaged) {
    scan->dirty_end = std::max(scan->dirty_end, scan->end_offset + scan->damaged_bytes);
  }
  return Status::Ok();
}

}  // namespace strata::wal
