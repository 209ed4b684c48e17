// Recovery and replay of LogImpl: reads every segment in order, verifies every
// checksum, tells a torn tail (dropped and zeroed) from corruption (a bad
// record followed by valid ones: Corruption, or a point-in-time cut).
#include <fmt/core.h>

#include <algorithm>

#include "core/assert.h"
#include "wal/format.h"
#include "wal/log_impl.h"
#include "wal/segment_loader.h"
#include "wal/segment_scan.h"

namespace strata::wal {


Status LogImpl::ZeroRange(uint64_t seq, uint64_t from, uint64_t to) {
  if (to <= from) return Status::Ok();
  std::unique_ptr<io::WritableFile> file;
  STRATA_RETURN_IF_ERROR(fs_->ReopenWritableFile(SegmentPath(seq), io::FileOptions{}, &file));
  const std::string zeros(to - from, '\0');
  STRATA_RETURN_IF_ERROR(file->WriteAt(from, zeros));
  STRATA_RETURN_IF_ERROR(file->Sync());
  return file->Close();
}

Status LogImpl::SyncSegmentFile(uint64_t seq) {
  std::unique_ptr<io::WritableFile> file;
  STRATA_RETURN_IF_ERROR(fs_->ReopenWritableFile(SegmentPath(seq), io::FileOptions{}, &file));
  STRATA_RETURN_IF_ERROR(file->Sync());
  return file->Close();
}

Status LogImpl::RemoveSegmentFile(uint64_t seq) {
  STRATA_RETURN_IF_ERROR(fs_->RemoveFile(SegmentPath(seq)));
  return fs_->SyncDir(dir_);
}

Status LogImpl::Recover(RecoveryReport* report, uint64_t from_lsn, const LocatedReplayFn& fn) {
  *report = RecoveryReport{};
  STRATA_RETURN_IF_ERROR(fs_->CreateDir(dir_));
  STRATA_RETURN_IF_ERROR(fs_->Lock(PathOf("LOCK"), &dir_lock_));
  std::vector<std::string> names;
  STRATA_RETURN_IF_ERROR(fs_->ListDir(dir_, &names));
  std::sort(names.begin(), names.end());
  std::vector<uint64_t> seqs;
  for (const std::string& name : names) {
    uint64_t seq = 0;
    switch (ParseFileName(name, &seq)) {
      case FileKind::kSegment: seqs.push_back(seq); break;
      case FileKind::kTemp: STRATA_RETURN_IF_ERROR(fs_->RemoveFile(PathOf(name))); break;
      case FileKind::kFree:
        if (free_files_.size() < options_.recycled_segments_max) {
          free_files_.push_back(name);
        } else {
          STRATA_RETURN_IF_ERROR(fs_->RemoveFile(PathOf(name)));
        }
        break;
      case FileKind::kOther: break;
    }
  }
  std::sort(seqs.begin(), seqs.end());
  for (size_t i = 1; i < seqs.size(); ++i) {
    if (seqs[i] != seqs[i - 1] + 1) {
      return Status::Corruption(fmt::format("{}: segment {} is missing (found {} and {})", dir_,
                                            SegmentFileName(seqs[i - 1] + 1),
                                            SegmentFileName(seqs[i - 1]),
                                            SegmentFileName(seqs[i])));
    }
  }

  // Scan every segment, verifying every record; hand records to fn until the
  // first bad spot (nothing after it may be kept or is kept only as a cut).
  std::vector<FoundSegment> found;
  found.reserve(seqs.size());
  std::vector<SegmentLoader::Item> items;
  for (uint64_t seq : seqs) items.push_back(SegmentLoader::Item{SegmentPath(seq), kSegmentBytesMax});
  SegmentLoader loader(fs_.get(), std::move(items));
  uint64_t expected_lsn = 0;
  bool delivering = static_cast<bool>(fn);
  for (size_t i = 0; i < seqs.size(); ++i) {
    const uint64_t seq = seqs[i];
    FoundSegment f;
    f.seq = seq;
    std::string_view data;
    bool complete = false;
    STRATA_RETURN_IF_ERROR(loader.Read(i, kSegmentHeaderBytes, &data, &complete));
    SegmentHeader header;
    f.header_status = DecodeSegmentHeader(data, SegmentPath(seq), &header);
    if (f.header_status.ok() && header.seq != seq) {
      f.header_status = Status::Corruption(
          fmt::format("{} @ 0: segment header names segment {}", SegmentPath(seq), header.seq));
    }
    f.segment_bytes = f.header_status.ok() ? header.segment_bytes : options_.segment_bytes;
    f.allocated_bytes = f.header_status.ok() ? header.allocated_bytes : f.segment_bytes;
    if (!f.header_status.ok()) delivering = false;
    // Bytes past the segment size the header declares are not part of it.
    auto more = [&loader, i, limit = f.segment_bytes](uint64_t want, std::string_view* have,
                                                       bool* done) -> Status {
      STRATA_RETURN_IF_ERROR(loader.Read(i, std::min(want, limit), have, done));
      if (have->size() >= limit) {
        *have = have->substr(0, limit);
        *done = true;
      }
      return Status::Ok();
    };
    RecordFn deliver;
    if (delivering) {
      deliver = [&](uint64_t lsn, uint64_t offset, std::string_view payload) -> Status {
        if (lsn < from_lsn) return Status::Ok();
        return fn(RecordLocation{lsn, seq, offset, static_cast<uint32_t>(payload.size())},
                  payload);
      };
    }
    STRATA_RETURN_IF_ERROR(ScanArrivingSegment(seq, expected_lsn, more, deliver, &f.scan));
    if (f.header_status.ok()) {
      // The header and every grow record in the valid prefix say how big
      // the file was made (durably) before records went past that size.
      f.allocated_bytes = std::max(f.allocated_bytes, f.scan.allocated_bytes);
      STRATA_RETURN_IF_ERROR(CheckSegmentFileSize(seq, f.allocated_bytes, report));
    }
    if (f.scan.damaged || f.scan.valid_after) delivering = false;
    if (f.scan.record_count > 0) expected_lsn = f.scan.last_lsn + 1;
    if (f.scan.sealed) expected_lsn = f.scan.seal_lsn;
    found.push_back(std::move(f));
  }
  STRATA_RETURN_IF_ERROR(ResolveProblems(&found, report));
  STRATA_RETURN_IF_ERROR(CheckNewestNotSealed(&found, report));
  return FinishRecovery(found, seqs, report);
}

// A segment's size is durable before it gets its name (PrepareSegment syncs
// the allocation or the zeros first), and each growth is durable before the
// grow record declaring it and any record past the old end are written, so
// no crash leaves a file shorter than its header or a surviving grow record
// declares: a shorter file was cut, and its missing end may have held synced
// records.
Status LogImpl::CheckSegmentFileSize(uint64_t seq, uint64_t declared_bytes,
                                     RecoveryReport* report) {
  STRATA_ASSIGN_OR_RETURN(uint64_t file_bytes, fs_->FileSize(SegmentPath(seq)));
  if (file_bytes >= declared_bytes) return Status::Ok();
  const std::string what = fmt::format(
      "{} @ {}: segment file is {} bytes, its header and grow records declare {}: the file was "
      "truncated and records may be missing",
      SegmentPath(seq), file_bytes, file_bytes, declared_bytes);
  if (options_.recovery == WalRecoveryMode::kStrict) {
    return Status::Corruption(
        what + " (WalRecoveryMode::kPointInTime keeps the records before the cut)");
  }
  // Point-in-time: the records before the cut stay; the file gets its size
  // back (reading as zeros: the end of data), so the next open is clean.
  report->point_in_time_cut = true;
  report->corruption = what;
  std::unique_ptr<io::WritableFile> file;
  STRATA_RETURN_IF_ERROR(fs_->ReopenWritableFile(SegmentPath(seq), io::FileOptions{}, &file));
  STRATA_RETURN_IF_ERROR(file->Allocate(file_bytes, declared_bytes - file_bytes));
  STRATA_RETURN_IF_ERROR(file->Sync());
  return file->Close();
}

// The newest segment ends with a seal: the writer had moved on to the next
// segment, which was durable before the seal was written. It is gone, so
// every record after the seal's lsn may be lost.
Status LogImpl::CheckNewestNotSealed(std::vector<FoundSegment>* found, RecoveryReport* report) {
  if (found->empty() || !found->back().scan.sealed) return Status::Ok();
  const FoundSegment& f = found->back();
  const std::string what = fmt::format(
      "{} @ {}: the segment is sealed (the log moved on to {} at lsn {}), but {} is missing: "
      "the newest segments were lost",
      SegmentPath(f.seq), f.scan.end_offset - kSealRecordBytes, SegmentFileName(f.seq + 1),
      f.scan.seal_lsn, SegmentFileName(f.seq + 1));
  if (options_.recovery == WalRecoveryMode::kStrict) {
    return Status::Corruption(what +
                              " (WalRecoveryMode::kPointInTime keeps the records before it)");
  }
  report->point_in_time_cut = true;
  report->corruption = what;
  return Status::Ok();
}

// After a torn tail in a segment that a (durable, empty) newer segment
// follows, the writer goes on in that newer one: seal the torn segment, as a
// switch would have, so that losing the newer segments later stays visible.
Status LogImpl::SealTornSegment(std::vector<FoundSegment>* found, size_t index) {
  FoundSegment& f = (*found)[index];
  if (index + 1 >= found->size() || f.scan.record_count == 0 ||
      f.scan.end_offset + kSealRecordBytes > f.segment_bytes) {
    return Status::Ok();
  }
  char record[kSealRecordBytes];
  EncodeSealRecord(f.seq, f.scan.last_lsn + 1, record);
  std::unique_ptr<io::WritableFile> file;
  STRATA_RETURN_IF_ERROR(fs_->ReopenWritableFile(SegmentPath(f.seq), io::FileOptions{}, &file));
  STRATA_RETURN_IF_ERROR(file->WriteAt(f.scan.end_offset, std::string_view(record, sizeof(record))));
  STRATA_RETURN_IF_ERROR(file->Sync());
  STRATA_RETURN_IF_ERROR(file->Close());
  f.scan.sealed = true;
  f.scan.seal_lsn = f.scan.last_lsn + 1;
  f.scan.end_offset += kSealRecordBytes;
  return Status::Ok();
}

Status LogImpl::ResolveProblems(std::vector<FoundSegment>* found, RecoveryReport* report) {
  for (size_t i = 0; i < found->size(); ++i) {
    const FoundSegment& f = (*found)[i];
    const bool header_bad = !f.header_status.ok();
    if (!header_bad && !f.scan.damaged && !f.scan.valid_after) continue;
    bool later = header_bad ? f.HasRecords() : f.scan.valid_after;
    for (size_t j = i + 1; j < found->size(); ++j) later |= (*found)[j].HasRecords();
    const std::string path = SegmentPath(f.seq);
    // Removes segments [from, end), newest first so a crash keeps the log contiguous.
    auto remove_from = [&](size_t from) -> Status {
      for (size_t j = found->size(); j > from; --j) {
        STRATA_RETURN_IF_ERROR(RemoveSegmentFile((*found)[j - 1].seq));
        report->segments_removed++;
      }
      found->resize(from);
      return Status::Ok();
    };
    if (!later && !header_bad) {
      // Nothing valid follows: a write cut short by a crash (a torn tail).
      report->torn_tail = true;
      report->torn_segment = f.seq;
      report->torn_offset = f.scan.end_offset;
      report->dropped_bytes = f.scan.damaged_bytes;
      STRATA_RETURN_IF_ERROR(ZeroRange(f.seq, f.scan.end_offset, f.scan.dirty_end));
      return SealTornSegment(found, i);
    }
    // A bad header is never a crash state (headers are durable before a
    // segment gets its name), so it is corruption even without records after.
    std::string what =
        header_bad ? f.header_status.message()
                   : fmt::format("{} @ {}: {}", path, f.scan.end_offset,
                                 f.scan.end_check == RecordCheck::kOk
                                     ? std::string_view("record out of sequence (records missing)")
                                     : RecordCheckName(f.scan.end_check));
    if (f.scan.valid_after) {
      what += fmt::format("; valid records follow at offset {}", f.scan.valid_after_offset);
    } else if (later) {
      what += "; valid records follow in later segments";
    }
    if (options_.recovery == WalRecoveryMode::kStrict) {
      return Status::Corruption(
          what + " (WalRecoveryMode::kPointInTime keeps the records before it)");
    }
    report->point_in_time_cut = true;
    report->corruption = what;
    if (header_bad) return remove_from(i);
    STRATA_RETURN_IF_ERROR(ZeroRange(f.seq, f.scan.end_offset, f.scan.dirty_end));
    return remove_from(i + 1);
  }
  return Status::Ok();
}

Status LogImpl::FinishRecovery(const std::vector<FoundSegment>& found,
                               const std::vector<uint64_t>& seqs, RecoveryReport* report) {
  for (const FoundSegment& f : found) {
    // A previous writer may have left its records unsynced (sync=false
    // writes, or a writer that failed before its sync): they were
    // acknowledged, and synced_lsn_ below says they are durable, so make them
    // so before any newer record can be (else a power cut could keep a newer
    // write and lose an older one, or lose them after a clean Close).
    if (f.scan.record_count > 0) STRATA_RETURN_IF_ERROR(SyncSegmentFile(f.seq));
    segments_.push_back(Segment{f.seq, f.segment_bytes, f.scan.first_lsn, f.scan.last_lsn,
                                f.scan.end_offset, f.allocated_bytes});
    report->segment_count++;
    report->record_count += f.scan.record_count;
    report->bytes += f.scan.end_offset - kSegmentHeaderBytes;
    if (f.scan.record_count > 0) next_lsn_ = f.scan.last_lsn + 1;
  }
  if (!found.empty() && found.back().scan.sealed) {
    // Point-in-time recovery of a log whose newest segments were lost: the
    // sealed segment takes no more records; continue in a fresh one.
    const uint64_t seq = found.back().seq + 1;
    STRATA_RETURN_IF_ERROR(PrepareSegment(seq, std::string()));
    segments_.push_back(
        Segment{seq, options_.segment_bytes, 0, 0, kSegmentHeaderBytes, InitialAllocation()});
  }
  if (segments_.empty()) {
    const uint64_t seq = seqs.empty() ? 1 : seqs.front();
    std::string free_name;
    if (Recycles(options_.preparation) && !free_files_.empty()) {
      free_name = free_files_.back();
      free_files_.pop_back();
    }
    STRATA_RETURN_IF_ERROR(PrepareSegment(seq, free_name));
    segments_.push_back(
        Segment{seq, options_.segment_bytes, 0, 0, kSegmentHeaderBytes, InitialAllocation()});
  }
  const Segment& active = segments_.back();
  STRATA_RETURN_IF_ERROR(OpenActiveFile(active.seq, active.end_offset));
  written_lsn_ = synced_lsn_ = next_lsn_ - 1;
  written_seq_ = active.seq;
  prep_want_ = active.seq + 1;
  return Status::Ok();
}

Status LogImpl::Replay(uint64_t from_lsn,
                       const std::function<Status(uint64_t, std::string_view)>& fn) {
  return ReplayWithLocation(from_lsn, [&](const RecordLocation& where, std::string_view payload) {
    return fn(where.lsn, payload);
  });
}

Status LogImpl::ReplayWithLocation(
    uint64_t from_lsn, const std::function<Status(const RecordLocation&, std::string_view)>& fn) {
  std::vector<Segment> segments;
  {
    std::lock_guard<std::mutex> lock(mu_);
    segments.assign(segments_.begin(), segments_.end());
  }
  std::vector<const Segment*> wanted;
  std::vector<SegmentLoader::Item> items;
  for (const Segment& seg : segments) {
    if (seg.first_lsn == 0 || seg.last_lsn < from_lsn) continue;
    wanted.push_back(&seg);
    items.push_back(SegmentLoader::Item{SegmentPath(seg.seq), seg.end_offset});
  }
  SegmentLoader loader(fs_.get(), std::move(items));
  for (size_t i = 0; i < wanted.size(); ++i) {
    const Segment& seg = *wanted[i];
    SegmentScan scan;
    const uint64_t seq = seg.seq;
    STRATA_RETURN_IF_ERROR(ScanArrivingSegment(
        seq, seg.first_lsn,
        [&loader, i](uint64_t want, std::string_view* have, bool* done) {
          return loader.Read(i, want, have, done);
        },
        [&](uint64_t lsn, uint64_t offset, std::string_view payload) -> Status {
          if (lsn < from_lsn) return Status::Ok();
          return fn(RecordLocation{lsn, seq, offset, static_cast<uint32_t>(payload.size())},
                    payload);
        },
        &scan));
    if (scan.last_lsn != seg.last_lsn) {
      return Status::Corruption(fmt::format("{} @ {}: {} (the segment changed since Open)",
                                            SegmentPath(seq), scan.end_offset,
                                            RecordCheckName(scan.end_check)));
    }
  }
  return Status::Ok();
}

}  // namespace strata::wal
