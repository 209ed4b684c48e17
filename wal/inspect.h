// Read-only inspection of WAL segments for `strata wal dump|verify`: walks a
// segment file or a WAL directory like recovery does, but changes nothing and
// takes no lock, so it can look at a log another process has open.
// Pure function over a FileSystem; any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "io/file_system.h"
#include "strata/status.h"
#include "wal/segment_scan.h"

namespace strata::wal {

struct InspectedSegment {
  std::string path;
  uint64_t seq = 0;
  uint64_t file_bytes = 0;
  uint64_t segment_bytes = 0;  // as the header declares (0 when it is bad)
  // The largest size the header or a grow record of the valid prefix
  // declares (0 when the header is bad): a shorter file was truncated.
  uint64_t allocated_bytes = 0;
  Status header_status;
  std::string_view header_bytes;  // the used part of the header block
  SegmentScan scan;  // filled before on_segment_end
};

// A data record, or (on_control_record) a grow or seal record.
struct InspectedRecord {
  uint64_t segment_seq = 0;
  uint64_t offset = 0;
  uint64_t lsn = 0;
  uint8_t type = 0;
  uint32_t payload_bytes = 0;
  std::string_view payload;
  std::string_view bytes;  // header, payload and padding as stored
};

struct InspectResult {
  uint64_t segment_count = 0;
  uint64_t record_count = 0;
  bool torn_tail = false;  // a crash-cut last record: normal, dropped on next open
  std::string torn_file;
  uint64_t torn_offset = 0;
  bool corrupt = false;  // what Open would refuse in strict mode
  std::string corrupt_file;
  uint64_t corrupt_offset = 0;
  std::string corrupt_reason;
};

struct InspectCallbacks {
  std::function<void(const InspectedSegment&)> on_segment_begin;
  std::function<void(const InspectedRecord&)> on_record;
  // Grow and seal records (they carry no payload of the log's user).
  std::function<void(const InspectedRecord&)> on_control_record;
  std::function<void(const InspectedSegment&)> on_segment_end;
};

// `path` is a segment file or a WAL directory. Errors reading files are
// returned; what the bytes say is in *result.
Status InspectPath(io::FileSystem* fs, const std::string& path, const InspectCallbacks& callbacks,
                   InspectResult* result);

}  // namespace strata::wal
