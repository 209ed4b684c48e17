// libFuzzer target: a WAL segment (wal/FORMAT.md) through ScanSegment, then
// through recovery: the segment is written into a WAL directory and opened
// with wal::Log::Open (strict or point-in-time, mode bit 1), replayed, and
// appended to. Fixup mode rewrites the segment header checksum and the
// checksum of every record header that carries the segment's seq, so the
// scan's sequence, seal and torn-tail logic see the mutations.
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/checksum.h"
#include "core/coding.h"
#include "fuzz/fuzz_util.h"
#include "wal/format.h"
#include "wal/limits.h"
#include "wal/log.h"
#include "wal/segment_scan.h"

namespace strata::fuzz {
namespace {

constexpr uint64_t kSegmentBytes = wal::kSegmentBytesMin;

void Fixup(std::string* s) {
  if (s->size() < wal::kSegmentHeaderUsedBytes) return;
  // Version 3 headers carry the checksum at 40 (over [0, 40)), older ones at 32.
  const size_t checksum_at = DecodeFixed32(s->data() + 8) >= 3 ? 40 : 32;
  EncodeFixed64(s->data() + checksum_at, Checksum64(s->data(), checksum_at));
  const uint64_t seq = DecodeFixed64(s->data() + 16);
  uint64_t offset = wal::kSegmentHeaderBytes;
  while (offset < s->size() && s->size() - offset >= wal::kRecordHeaderBytes) {
    char* p = s->data() + offset;
    if (DecodeFixed64(p + 16) != seq) break;  // not this segment's: the scan stops here
    const uint64_t room = s->size() - offset - wal::kRecordHeaderBytes;
    uint32_t payload = DecodeFixed32(p + 8);
    if (payload > room) {
      payload = static_cast<uint32_t>(room);
      EncodeFixed32(p + 8, payload);
    }
    EncodeFixed64(p, Checksum64(p + 8, wal::kRecordHeaderBytes - 8 + payload));
    offset += wal::RecordBytes(payload);
  }
}

}  // namespace
}  // namespace strata::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace strata;
  static fuzz::ScratchDir scratch;  // removed at exit
  fuzz::ScratchDir* dir = &scratch;
  fuzz::Input in;
  if (!fuzz::SplitInput(data, size, &in)) return 0;
  if (in.bytes.size() > fuzz::kSegmentBytes) return 0;
  if (in.fixup()) fuzz::Fixup(&in.bytes);
  uint64_t seq = in.bytes.size() >= 24 ? DecodeFixed64(in.bytes.data() + 16) : 1;
  wal::SegmentScan scan;
  (void)wal::ScanSegment(
      in.bytes, seq, 0, [](uint64_t, uint64_t, std::string_view) { return Status::Ok(); }, &scan);

  // Recovery: a full-size segment (segments are full size from birth), named
  // by its seq when that fits a file name.
  if (seq == 0 || seq > 999999) seq = 1;
  std::string segment = in.bytes;
  if (segment.size() < fuzz::kSegmentBytes) segment.resize(fuzz::kSegmentBytes, '\0');
  dir->Reset();
  dir->Write(wal::SegmentFileName(seq), segment);
  wal::LogOptions options;
  options.file_system = std::shared_ptr<io::FileSystem>(fuzz::PosixFs(), [](io::FileSystem*) {});
  options.segment_bytes = fuzz::kSegmentBytes;
  options.recovery =
      (in.mode & 2) != 0 ? WalRecoveryMode::kPointInTime : WalRecoveryMode::kStrict;
  options.preparation = wal::SegmentPreparation::kZeroFill;
  std::unique_ptr<wal::Log> log;
  wal::RecoveryReport report;
  if (!wal::Log::Open(options, dir->path(), &log, &report).ok()) return 0;
  uint64_t records = 0;
  (void)log->Replay(1, [&](uint64_t, std::string_view) {
    ++records;
    return Status::Ok();
  });
  (void)log->Append("fuzz", (in.mode & 4) != 0);
  return 0;
}
