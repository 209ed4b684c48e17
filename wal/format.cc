#include "wal/format.h"

#include <cstdio>
#include <cstring>

#include "core/assert.h"
#include "core/checksum.h"
#include "core/coding.h"

namespace strata::wal {

namespace {

// Version 3 checksums bytes [0, 40); versions 1 and 2 bytes [0, 32).
constexpr size_t kSegmentHeaderChecksumOffset = 40;
constexpr size_t kSegmentHeaderChecksumOffsetV2 = 32;
constexpr int kSeqDigits = 12;

// Checksum of a record: header bytes after the checksum field, then payload.
// They are contiguous, so one call (streaming XXH3 buffers small inputs).
// REQUIRES: the payload directly follows the header.
uint64_t RecordChecksum(const char* header, std::string_view payload) {
  STRATA_ASSERT(payload.data() == header + kRecordHeaderBytes);
  return Checksum64(header + 8, kRecordHeaderBytes - 8 + payload.size());
}

bool AllZero(const char* p, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    if (p[i] != 0) return false;
  }
  return true;
}

}  // namespace

void EncodeSegmentHeader(const SegmentHeader& header, char* dst) {
  std::memset(dst, 0, kSegmentHeaderBytes);
  EncodeFixed64(dst + 0, kSegmentMagic);
  EncodeFixed32(dst + 8, kFormatVersion);
  EncodeFixed32(dst + 12, static_cast<uint32_t>(kSegmentHeaderBytes));
  EncodeFixed64(dst + 16, header.seq);
  EncodeFixed64(dst + 24, header.segment_bytes);
  EncodeFixed64(dst + 32, header.allocated_bytes);
  EncodeFixed64(dst + kSegmentHeaderChecksumOffset,
                    Checksum64(dst, kSegmentHeaderChecksumOffset));
}

Status DecodeSegmentHeader(std::string_view block, std::string_view what, SegmentHeader* header) {
  auto bad = [&](std::string_view why) {
    return Status::Corruption(std::string(what) + " @ 0: segment header: " + std::string(why));
  };
  if (block.size() < kSegmentHeaderUsedBytesV2) return bad("file shorter than the header");
  const char* p = block.data();
  if (DecodeFixed64(p) != kSegmentMagic) return bad("bad magic (not a strata WAL segment)");
  // The version decides where the checksum is (a flipped version byte fails
  // the checksum at either place); a newer version's layout is not known.
  const uint32_t version = DecodeFixed32(p + 8);
  if (version < kFormatVersionMin || version > kFormatVersion) {
    return bad("unsupported version " + std::to_string(version));
  }
  const size_t checksum_offset =
      version >= 3 ? kSegmentHeaderChecksumOffset : kSegmentHeaderChecksumOffsetV2;
  if (block.size() < checksum_offset + 8) return bad("file shorter than the header");
  if (DecodeFixed64(p + checksum_offset) != Checksum64(p, checksum_offset)) {
    return bad("checksum mismatch");
  }
  if (DecodeFixed32(p + 12) != kSegmentHeaderBytes) return bad("unexpected header size");
  header->version = version;
  header->seq = DecodeFixed64(p + 16);
  header->segment_bytes = DecodeFixed64(p + 24);
  if (header->segment_bytes < kSegmentBytesMin || header->segment_bytes > kSegmentBytesMax) {
    return bad("segment size out of range");
  }
  header->allocated_bytes = version >= 3 ? DecodeFixed64(p + 32) : header->segment_bytes;
  if (header->allocated_bytes <= kSegmentHeaderBytes ||
      header->allocated_bytes > header->segment_bytes ||
      header->allocated_bytes % kDirectBlockBytes != 0) {
    return bad("allocated size out of range");
  }
  return Status::Ok();
}

namespace {

uint64_t EncodeTypedRecord(RecordType type, uint64_t segment_seq, uint64_t lsn,
                           std::string_view payload, char* dst) {
  EncodeFixed32(dst + 8, static_cast<uint32_t>(payload.size()));
  dst[12] = static_cast<char>(type);
  dst[13] = 0;
  EncodeFixed16(dst + 14, 0);
  EncodeFixed64(dst + 16, segment_seq);
  EncodeFixed64(dst + 24, lsn);
  if (!payload.empty()) std::memcpy(dst + kRecordHeaderBytes, payload.data(), payload.size());
  const uint64_t used = kRecordHeaderBytes + payload.size();
  const uint64_t total = RecordBytes(payload.size());
  std::memset(dst + used, 0, total - used);
  EncodeFixed64(dst, RecordChecksum(dst, std::string_view(dst + kRecordHeaderBytes, payload.size())));
  return total;
}

}  // namespace

uint64_t EncodeRecord(uint64_t segment_seq, uint64_t lsn, std::string_view payload, char* dst) {
  return EncodeTypedRecord(RecordType::kData, segment_seq, lsn, payload, dst);
}

uint64_t EncodeSealRecord(uint64_t segment_seq, uint64_t next_lsn, char* dst) {
  return EncodeTypedRecord(RecordType::kSeal, segment_seq, next_lsn, std::string_view(), dst);
}

uint64_t EncodeGrowRecord(uint64_t segment_seq, uint64_t next_lsn, uint64_t allocated_bytes,
                          char* dst) {
  char payload[kGrowPayloadBytes];
  EncodeFixed64(payload, allocated_bytes);
  return EncodeTypedRecord(RecordType::kGrow, segment_seq, next_lsn,
                           std::string_view(payload, sizeof(payload)), dst);
}

uint64_t DecodeGrowPayload(std::string_view payload) {
  STRATA_ASSERT(payload.size() == kGrowPayloadBytes);
  return DecodeFixed64(payload.data());
}

RecordHeader PeekRecordHeader(std::string_view data) {
  RecordHeader h;
  if (data.size() < kRecordHeaderBytes) return h;
  const char* p = data.data();
  h.checksum = DecodeFixed64(p);
  h.payload_bytes = DecodeFixed32(p + 8);
  h.type = static_cast<uint8_t>(p[12]);
  h.segment_seq = DecodeFixed64(p + 16);
  h.lsn = DecodeFixed64(p + 24);
  return h;
}

RecordCheck CheckRecord(std::string_view data, uint64_t seq, RecordHeader* header,
                        std::string_view* payload) {
  if (data.size() < kRecordHeaderBytes) return RecordCheck::kEndOfData;
  const char* p = data.data();
  if (AllZero(p, kRecordHeaderBytes)) return RecordCheck::kZero;
  *header = PeekRecordHeader(data);
  if (header->segment_seq != seq) return RecordCheck::kStale;
  if (header->type == 0 || header->type > kRecordTypeMax || p[13] != 0 ||
      DecodeFixed16(p + 14) != 0 || header->payload_bytes > kRecordPayloadBytesMax ||
      header->lsn == 0 ||
      (header->type == static_cast<uint8_t>(RecordType::kSeal) && header->payload_bytes != 0) ||
      (header->type == static_cast<uint8_t>(RecordType::kGrow) &&
       header->payload_bytes != kGrowPayloadBytes)) {
    return RecordCheck::kBadHeader;
  }
  if (kRecordHeaderBytes + header->payload_bytes > data.size()) return RecordCheck::kTruncated;
  *payload = data.substr(kRecordHeaderBytes, header->payload_bytes);
  if (RecordChecksum(p, *payload) != header->checksum) return RecordCheck::kBadChecksum;
  return RecordCheck::kOk;
}

std::string_view RecordCheckName(RecordCheck check) {
  switch (check) {
    case RecordCheck::kOk: return "ok";
    case RecordCheck::kEndOfData: return "end of data";
    case RecordCheck::kZero: return "zeroed header";
    case RecordCheck::kStale: return "stale or foreign header";
    case RecordCheck::kBadHeader: return "bad header";
    case RecordCheck::kTruncated: return "truncated payload";
    case RecordCheck::kBadChecksum: return "checksum mismatch";
  }
  return "?";
}

std::string SegmentFileName(uint64_t seq) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%0*llu.wal", kSeqDigits, static_cast<unsigned long long>(seq));
  return buf;
}
std::string TempSegmentFileName(uint64_t seq) { return SegmentFileName(seq) + ".tmp"; }
std::string FreeSegmentFileName(uint64_t seq) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%0*llu.free", kSeqDigits, static_cast<unsigned long long>(seq));
  return buf;
}

FileKind ParseFileName(std::string_view name, uint64_t* seq) {
  size_t digits = 0;
  uint64_t v = 0;
  while (digits < name.size() && name[digits] >= '0' && name[digits] <= '9') {
    if (digits >= 19) return FileKind::kOther;
    v = v * 10 + static_cast<uint64_t>(name[digits] - '0');
    ++digits;
  }
  if (digits == 0) return FileKind::kOther;
  const std::string_view rest = name.substr(digits);
  FileKind kind = FileKind::kOther;
  if (rest == ".wal") kind = FileKind::kSegment;
  if (rest == ".wal.tmp") kind = FileKind::kTemp;
  if (rest == ".free") kind = FileKind::kFree;
  if (kind != FileKind::kOther) *seq = v;
  return kind;
}

}  // namespace strata::wal
