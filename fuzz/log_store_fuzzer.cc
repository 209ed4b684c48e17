// libFuzzer target: LogStore records (wal/FORMAT.md, "Log store records").
// Raw mode: the bytes are one record payload for wal::DecodeStoreRecord and
// SliceEntryData. Fixup mode: the bytes are a list of payloads (each a fixed16
// length and that many bytes) that the target frames as checksummed records
// of a valid WAL segment; wal recovery then replays them into a
// LogStoreHost (OpenLogStoreHost), whose every group is read back entry by
// entry.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/coding.h"
#include "fuzz/fuzz_util.h"
#include "strata/log_store.h"
#include "wal/format.h"
#include "wal/limits.h"
#include "wal/log_store_record.h"

namespace strata::fuzz {
namespace {

constexpr uint64_t kSegmentBytes = wal::kSegmentBytesMin;

void DecodeOne(std::string_view payload) {
  wal::StoreRecord record;
  if (!wal::DecodeStoreRecord(payload, "fuzz", &record).ok()) return;
  for (const wal::EntryView& e : record.entries) {
    std::string_view data;
    if (!wal::SliceEntryData(payload, e.data_offset, static_cast<uint32_t>(e.data.size()),
                             "fuzz", &data)
             .ok() ||
        data != e.data) {
      __builtin_trap();  // an entry DecodeStoreRecord accepted must slice back the same
    }
  }
}

// Frames the payloads as records 1, 2, ... of segment 1; false if they do not fit.
bool BuildSegment(std::string_view bytes, std::string* segment) {
  segment->assign(kSegmentBytes, '\0');
  wal::EncodeSegmentHeader(wal::SegmentHeader{1, kSegmentBytes, kSegmentBytes}, segment->data());
  uint64_t offset = wal::kSegmentHeaderBytes;
  uint64_t lsn = 1;
  while (bytes.size() >= 2) {
    const size_t n = std::min<size_t>(DecodeFixed16(bytes.data()), bytes.size() - 2);
    const std::string_view payload = bytes.substr(2, n);
    bytes.remove_prefix(2 + n);
    if (offset + wal::RecordBytes(n) > kSegmentBytes) return false;
    offset += wal::EncodeRecord(1, lsn++, payload, segment->data() + offset);
  }
  return true;
}

void ReadBack(LogStoreHost* host) {
  for (uint64_t group : host->GroupIds()) {
    LogStore* store = host->Group(group);
    if (store == nullptr) continue;
    (void)store->GetHardState();
    const uint64_t first = store->FirstIndex();
    const uint64_t last = store->LastIndex();
    (void)store->Term(first - 1);
    if (last >= first && last - first < 100000) {
      std::vector<LogEntry> entries;
      (void)store->Entries(first, last + 1, 1 << 20, &entries);
      LogEntry e;
      (void)store->Entry(last, &e);
      (void)store->Term(last);
    }
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
  if (!in.fixup()) {
    fuzz::DecodeOne(in.bytes);
    return 0;
  }
  std::string segment;
  if (!fuzz::BuildSegment(in.bytes, &segment)) return 0;
  dir->Reset();
  dir->Write(wal::SegmentFileName(1), segment);
  LogStoreHostOptions options;
  options.file_system = std::shared_ptr<io::FileSystem>(fuzz::PosixFs(), [](io::FileSystem*) {});
  options.segment_bytes = fuzz::kSegmentBytes;
  std::unique_ptr<LogStoreHost> host;
  if (!OpenLogStoreHost(options, dir->path(), &host).ok()) return 0;
  fuzz::ReadBack(host.get());
  return 0;
}
