#include "wal/inspect.h"

#include <fmt/core.h>

#include <algorithm>
#include <vector>

#include "wal/buffer.h"
#include "wal/format.h"

namespace strata::wal {

namespace {

Status ReadWhole(io::FileSystem* fs, const std::string& path, AlignedBytes* buf, uint64_t* bytes) {
  std::unique_ptr<io::RandomAccessFile> file;
  STRATA_RETURN_IF_ERROR(fs->NewRandomAccessFile(path, io::FileOptions{}, &file));
  STRATA_ASSIGN_OR_RETURN(uint64_t size, file->Size());
  size = std::min<uint64_t>(size, kSegmentBytesMax);
  buf->Reserve(size + 1);
  size_t got = 0;
  STRATA_RETURN_IF_ERROR(file->Read(0, size, buf->data(), &got));
  *bytes = got;
  return Status::Ok();
}

// Records the first problem as recovery would judge it.
void Judge(const std::vector<InspectedSegment>& segments, bool whole_log, InspectResult* result) {
  for (size_t i = 0; i < segments.size(); ++i) {
    const InspectedSegment& s = segments[i];
    const bool header_bad = !s.header_status.ok();
    if (!header_bad && !s.scan.damaged && !s.scan.valid_after) continue;
    bool later = s.scan.valid_after || (header_bad && s.scan.record_count > 0);
    for (size_t j = i + 1; j < segments.size(); ++j) {
      later |= segments[j].scan.record_count > 0 || segments[j].scan.valid_after ||
               (segments[j].scan.damaged && segments[j].scan.end_check == RecordCheck::kOk);
    }
    if (!later && !header_bad) {
      result->torn_tail = true;
      result->torn_file = s.path;
      result->torn_offset = s.scan.end_offset;
      return;
    }
    result->corrupt = true;
    result->corrupt_file = s.path;
    result->corrupt_offset = header_bad ? 0 : s.scan.end_offset;
    if (header_bad) {
      result->corrupt_reason = s.header_status.message();
    } else {
      result->corrupt_reason =
          s.scan.end_check == RecordCheck::kOk ? "record out of sequence (records missing)"
                                               : std::string(RecordCheckName(s.scan.end_check));
      if (s.scan.valid_after) {
        result->corrupt_reason +=
            fmt::format("; valid records follow at offset {}", s.scan.valid_after_offset);
      } else {
        result->corrupt_reason += "; valid records follow in later segments";
      }
    }
    return;
  }
  // Only a lost file or a cut file leaves these (recovery.cc refuses both).
  for (const InspectedSegment& s : segments) {
    if (s.header_status.ok() && s.file_bytes < s.allocated_bytes) {
      result->corrupt = true;
      result->corrupt_file = s.path;
      result->corrupt_offset = s.file_bytes;
      result->corrupt_reason = fmt::format(
          "segment file is {} bytes, its header and grow records declare {} (truncated)",
          s.file_bytes, s.allocated_bytes);
      return;
    }
  }
  if (whole_log && !segments.empty() && segments.back().scan.sealed) {
    const InspectedSegment& s = segments.back();
    result->corrupt = true;
    result->corrupt_file = s.path;
    result->corrupt_offset = s.scan.end_offset - kSealRecordBytes;
    result->corrupt_reason = fmt::format(
        "sealed (the log moved on to segment {} at lsn {}), but no later segment is here",
        s.seq + 1, s.scan.seal_lsn);
  }
}

InspectedRecord Inspected(std::string_view data, uint64_t seq, uint8_t type, uint64_t lsn,
                          uint64_t offset, std::string_view payload) {
  InspectedRecord r;
  r.segment_seq = seq;
  r.offset = offset;
  r.lsn = lsn;
  r.type = type;
  r.payload_bytes = static_cast<uint32_t>(payload.size());
  r.payload = payload;
  r.bytes = data.substr(offset, RecordBytes(payload.size()));
  return r;
}

}  // namespace

Status InspectPath(io::FileSystem* fs, const std::string& path, const InspectCallbacks& callbacks,
                   InspectResult* result) {
  *result = InspectResult{};
  std::vector<std::pair<uint64_t, std::string>> files;  // (seq, path)
  std::vector<std::string> names;
  const bool is_dir = fs->ListDir(path, &names).ok();
  if (is_dir) {
    for (const std::string& name : names) {
      uint64_t seq = 0;
      if (ParseFileName(name, &seq) == FileKind::kSegment) {
        files.emplace_back(seq, io::JoinPath(path, name));
      }
    }
    std::sort(files.begin(), files.end());
    if (files.empty()) return Status::NotFound(path + ": no WAL segments (*.wal) here");
  } else {
    if (!fs->FileExists(path)) return Status::NotFound(path + ": no such file or directory");
    const size_t slash = path.find_last_of('/');
    uint64_t seq = 0;
    if (ParseFileName(slash == std::string::npos ? path : path.substr(slash + 1), &seq) !=
        FileKind::kSegment) {
      seq = 0;  // taken from the header below
    }
    files.emplace_back(seq, path);
  }
  std::vector<InspectedSegment> segments;
  AlignedBytes buf;
  uint64_t expected_lsn = 0;
  for (const auto& [name_seq, file] : files) {
    InspectedSegment seg;
    seg.path = file;
    STRATA_RETURN_IF_ERROR(ReadWhole(fs, file, &buf, &seg.file_bytes));
    std::string_view data(buf.data(), seg.file_bytes);
    SegmentHeader header;
    seg.header_status = DecodeSegmentHeader(data, file, &header);
    if (seg.header_status.ok()) {
      seg.segment_bytes = header.segment_bytes;
      seg.allocated_bytes = header.allocated_bytes;
    }
    seg.seq = seg.header_status.ok() && name_seq == 0 ? header.seq : name_seq;
    if (seg.header_status.ok() && header.seq != seg.seq) {
      seg.header_status = Status::Corruption(
          fmt::format("{} @ 0: segment header names segment {}", file, header.seq));
    }
    if (seg.header_status.ok() && data.size() > header.segment_bytes) {
      data = data.substr(0, header.segment_bytes);
    }
    seg.header_bytes = data.substr(0, seg.header_status.ok() && header.version < 3
                                          ? kSegmentHeaderUsedBytesV2
                                          : kSegmentHeaderUsedBytes);
    if (callbacks.on_segment_begin) callbacks.on_segment_begin(seg);
    const uint64_t seq = seg.seq;
    STRATA_RETURN_IF_ERROR(ScanSegment(
        data, seq, expected_lsn,
        [&](uint64_t lsn, uint64_t offset, std::string_view payload) -> Status {
          if (callbacks.on_record) {
            callbacks.on_record(Inspected(data, seq, static_cast<uint8_t>(RecordType::kData), lsn,
                                          offset, payload));
          }
          return Status::Ok();
        },
        &seg.scan,
        [&](uint8_t type, uint64_t lsn, uint64_t offset, std::string_view payload) {
          if (callbacks.on_control_record) {
            callbacks.on_control_record(Inspected(data, seq, type, lsn, offset, payload));
          }
        }));
    if (seg.header_status.ok()) {
      seg.allocated_bytes = std::max(seg.allocated_bytes, seg.scan.allocated_bytes);
    }
    if (seg.scan.record_count > 0) expected_lsn = seg.scan.last_lsn + 1;
    if (seg.scan.sealed) expected_lsn = seg.scan.seal_lsn;
    result->segment_count++;
    result->record_count += seg.scan.record_count;
    if (callbacks.on_segment_end) callbacks.on_segment_end(seg);
    segments.push_back(std::move(seg));
  }
  Judge(segments, /*whole_log=*/is_dir, result);
  return Status::Ok();
}

}  // namespace strata::wal
