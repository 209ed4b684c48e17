// The writer side of LogImpl: Append, group commit, Sync, ReadRecord.
#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <cstring>

#include "core/assert.h"
#include "wal/format.h"
#include "wal/log_impl.h"

namespace strata::wal {

std::string RecoveryReport::ToString() const {
  std::string out = fmt::format("{} segments, {} records, {} bytes", segment_count, record_count,
                                bytes);
  if (torn_tail) {
    out += fmt::format("; torn tail in {} @ {}: {} bytes dropped", SegmentFileName(torn_segment),
                       torn_offset, dropped_bytes);
  }
  if (point_in_time_cut) out += "; point-in-time cut: " + corruption;
  if (segments_removed > 0) out += fmt::format("; {} segment files removed", segments_removed);
  return out;
}

LogImpl::LogImpl(const LogOptions& options, std::string dir, std::shared_ptr<io::FileSystem> fs)
    : options_(options), dir_(std::move(dir)), fs_(std::move(fs)) {}

LogImpl::~LogImpl() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    STRATA_ASSERT(!leader_active_);
    stop_ = true;
  }
  prep_cv_.notify_all();
  if (preparer_.joinable()) preparer_.join();
  if (file_) (void)file_->Close();
}

Status Log::Open(const LogOptions& options, const std::string& dir, std::unique_ptr<Log>* log,
                 RecoveryReport* report) {
  return OpenAndReplayWithLocation(options, dir, 0, nullptr, log, report);
}

Status HasSegmentFile(io::FileSystem* fs, const std::string& dir, bool* any) {
  *any = false;
  if (!fs->FileExists(dir)) return Status::Ok();
  std::vector<std::string> names;
  STRATA_RETURN_IF_ERROR(fs->ListDir(dir, &names));
  for (const std::string& name : names) {
    uint64_t seq = 0;
    if (ParseFileName(name, &seq) == FileKind::kSegment) {
      *any = true;
      break;
    }
  }
  return Status::Ok();
}

Status Log::OpenAndReplay(const LogOptions& options, const std::string& dir, uint64_t from_lsn,
                          const ReplayFn& fn, std::unique_ptr<Log>* log, RecoveryReport* report) {
  return OpenAndReplayWithLocation(
      options, dir, from_lsn,
      [&fn](const RecordLocation& where, std::string_view payload) {
        return fn(where.lsn, payload);
      },
      log, report);
}

Status Log::OpenAndReplayWithLocation(const LogOptions& options, const std::string& dir,
                                      uint64_t from_lsn, const LocatedReplayFn& fn,
                                      std::unique_ptr<Log>* log, RecoveryReport* report) {
  if (options.segment_bytes < kSegmentBytesMin || options.segment_bytes > kSegmentBytesMax ||
      options.segment_bytes % kDirectBlockBytes != 0) {
    return Status::InvalidArgument(fmt::format(
        "wal: segment_bytes {} must be a multiple of {} in [{}, {}]", options.segment_bytes,
        kDirectBlockBytes, kSegmentBytesMin, kSegmentBytesMax));
  }
  if (options.segment_chunk_bytes < kDirectBlockBytes ||
      options.segment_chunk_bytes % kDirectBlockBytes != 0) {
    return Status::InvalidArgument(fmt::format(
        "wal: segment_chunk_bytes {} must be a nonzero multiple of {}",
        options.segment_chunk_bytes, kDirectBlockBytes));
  }
  if (options.segment_target_bytes > options.segment_bytes) {
    return Status::InvalidArgument(fmt::format(
        "wal: segment_target_bytes {} exceeds segment_bytes {}", options.segment_target_bytes,
        options.segment_bytes));
  }
  if (options.recycled_segments_max > kRecyclePoolMax) {
    return Status::InvalidArgument(fmt::format("wal: recycled_segments_max {} exceeds {}",
                                               options.recycled_segments_max, kRecyclePoolMax));
  }
  auto fs = options.file_system ? options.file_system : io::DefaultFileSystem();
  auto impl = std::make_unique<LogImpl>(options, dir, std::move(fs));
  RecoveryReport local;
  STRATA_RETURN_IF_ERROR(impl->Recover(report ? report : &local, from_lsn, fn));
  *log = std::move(impl);
  return Status::Ok();
}

Result<uint64_t> LogImpl::Append(std::string_view payload, bool sync) {
  RecordLocation where;
  STRATA_RETURN_IF_ERROR(AppendImpl(payload, sync, &where));
  return where.lsn;
}

Result<RecordLocation> LogImpl::AppendWithLocation(std::string_view payload, bool sync) {
  RecordLocation where;
  STRATA_RETURN_IF_ERROR(AppendImpl(payload, sync, &where));
  return where;
}

LogImpl::GroupPtr LogImpl::GroupForLocked(uint64_t seq, uint64_t offset) {
  if (!queue_.empty()) {
    Group& back = *queue_.back();
    if (back.seq == seq && back.offset + back.data.size() == offset) return queue_.back();
  }
  auto group = std::make_shared<Group>();
  group->seq = seq;
  group->offset = offset;
  queue_.push_back(group);
  return group;
}

Status LogImpl::AppendImpl(std::string_view payload, bool sync, RecordLocation* where) {
  const uint64_t record_bytes = RecordBytes(payload.size());
  const uint64_t capacity = SegmentRecordSpace(options_.segment_bytes);
  if (payload.size() > kRecordPayloadBytesMax || record_bytes > capacity) {
    return Status::InvalidArgument(fmt::format(
        "wal: record of {} bytes exceeds the limit ({} bytes payload, {} bytes segment space)",
        payload.size(), kRecordPayloadBytesMax, capacity));
  }
  std::unique_lock<std::mutex> lock(mu_);
  if (!failed_.ok()) return failed_;
  if (!preparer_started_) {
    // Started on the first append, not at Open, so that preparing a segment
    // does not compete with recovery and replay for the disk.
    preparer_started_ = true;
    StartPreparer();
  }
  Segment* seg = &segments_.back();
  // Where this record would end, with the room for the seal after it.
  uint64_t need = seg->end_offset + record_bytes + kSealRecordBytes;
  const uint64_t target =
      options_.segment_target_bytes == 0 ? seg->segment_bytes : options_.segment_target_bytes;
  const bool fits = need <= seg->allocated || need + kGrowRecordBytes <= seg->segment_bytes;
  if (!fits || (seg->first_lsn != 0 && need > target)) {
    segments_.push_back(Segment{seg->seq + 1, options_.segment_bytes, 0, 0, kSegmentHeaderBytes,
                                InitialAllocation()});
    seg = &segments_.back();
    need = seg->end_offset + record_bytes + kSealRecordBytes;
  }
  if (need > seg->allocated) GrowSegmentLocked(seg, need);
  const uint64_t lsn = next_lsn_++;
  GroupPtr group = GroupForLocked(seg->seq, seg->end_offset);
  group->allocated = seg->allocated;
  const size_t old_size = group->data.size();
  group->data.resize(old_size + record_bytes);
  EncodeRecord(seg->seq, lsn, payload, group->data.data() + old_size);
  if (sync) AddSyncWaiterLocked(group.get());
  *where = RecordLocation{lsn, seg->seq, seg->end_offset, static_cast<uint32_t>(payload.size())};
  seg->end_offset += record_bytes;
  if (seg->first_lsn == 0) seg->first_lsn = lsn;
  seg->last_lsn = lsn;
  stats_.records++;
  stats_.bytes_written += record_bytes;
  return WaitForGroup(group, lock);
}

uint64_t LogImpl::InitialAllocation() const {
  return std::min(options_.segment_bytes, kSegmentHeaderBytes + options_.segment_chunk_bytes);
}

// The grow record goes in before the record that needs the room, in the
// same group, so the leader extends the file (durably) before writing it.
void LogImpl::GrowSegmentLocked(Segment* seg, uint64_t need) {
  need += kGrowRecordBytes;
  STRATA_ASSERT(need <= seg->segment_bytes);
  const uint64_t allocated =
      std::min(seg->segment_bytes, AlignUp(need, options_.segment_chunk_bytes));
  GroupPtr group = GroupForLocked(seg->seq, seg->end_offset);
  const size_t old_size = group->data.size();
  group->data.resize(old_size + kGrowRecordBytes);
  EncodeGrowRecord(seg->seq, next_lsn_, allocated, group->data.data() + old_size);
  seg->end_offset += kGrowRecordBytes;
  seg->allocated = allocated;
  group->allocated = allocated;
  stats_.bytes_written += kGrowRecordBytes;
}

Status LogImpl::Sync() {
  std::unique_lock<std::mutex> lock(mu_);
  if (!failed_.ok()) return failed_;
  if (queue_.empty() && synced_lsn_ + 1 == next_lsn_) return Status::Ok();
  const Segment& seg = segments_.back();
  GroupPtr group = queue_.empty() ? GroupForLocked(seg.seq, seg.end_offset) : queue_.back();
  AddSyncWaiterLocked(group.get());
  return WaitForGroup(group, lock);
}

Status LogImpl::SyncThrough(uint64_t lsn) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!failed_.ok()) return failed_;
    if (synced_lsn_ >= lsn) return Status::Ok();
  }
  return Sync();
}

void LogImpl::AddSyncWaiterLocked(Group* group) {
  group->sync = true;
  group->sync_waiters++;
  queued_sync_waiters_++;
  if (leader_wait_target_ != 0 && queued_sync_waiters_ >= leader_wait_target_) {
    leader_cv_.notify_one();
  }
}

// Closed-loop appenders acknowledged by the last commit round come straight
// back with their next record, but on a busy machine their wake-ups trail the
// fdatasync by tens of microseconds. Without a wait the leader syncs whoever
// is queued, so N appenders settle into two alternating half-size groups; a
// short wait for the expected count lets one fdatasync carry all N. The wait
// is bounded by a fraction of the fdatasync latency, so it can at worst add
// that fraction to a commit, and the expectation follows the load: a round
// that times out lowers it to the appenders that did come.
void LogImpl::WaitForAppendersLocked(std::unique_lock<std::mutex>& lock) {
  const uint32_t target = expected_sync_waiters_;
  if (options_.group_wait_micros_max == 0 || target <= 1 || queued_sync_waiters_ >= target ||
      !failed_.ok()) {
    return;
  }
  const uint64_t wait_nanos = std::min(options_.group_wait_micros_max * 1000,
                                       sync_nanos_avg_ / kGroupWaitSyncFraction);
  if (wait_nanos == 0) return;
  const auto start = std::chrono::steady_clock::now();
  leader_wait_target_ = target;
  const bool reached =
      leader_cv_.wait_until(lock, start + std::chrono::nanoseconds(wait_nanos),
                            [&] { return queued_sync_waiters_ >= target || !failed_.ok(); });
  leader_wait_target_ = 0;
  stats_.group_waits++;
  if (!reached) stats_.group_wait_timeouts++;
  stats_.group_wait_micros += std::chrono::duration_cast<std::chrono::microseconds>(
                                  std::chrono::steady_clock::now() - start)
                                  .count();
}

Status LogImpl::WaitForGroup(const GroupPtr& group, std::unique_lock<std::mutex>& lock) {
  while (!group->done) {
    if (!leader_active_) {
      LeadLocked(lock);
      continue;
    }
    lock.unlock();
    uint32_t state;
    while ((state = group->state.load(std::memory_order_acquire)) == kPending) {
      group->state.wait(kPending, std::memory_order_acquire);
    }
    if (state == kDone) return group->status;  // written before kDone was stored
    lock.lock();
    // Handed the lead: take it if nobody else did, else wait again.
    uint32_t expected = kLead;
    group->state.compare_exchange_strong(expected, kPending, std::memory_order_acq_rel);
  }
  return group->status;
}

// Writes every formed group. While more groups formed during the write, the
// leader goes on (up to kLeaderRoundsMax rounds) instead of waking a follower
// to take over: a wake-up on the critical path costs a scheduling delay per
// group on a busy machine. Waiters are woken after the lock is dropped, so
// they do not wake into a held mutex.
void LogImpl::LeadLocked(std::unique_lock<std::mutex>& lock) {
  STRATA_ASSERT(!leader_active_);
  leader_active_ = true;
  for (size_t round = 1;; ++round) {
    if (queued_sync_waiters_ > 0) WaitForAppendersLocked(lock);
    std::vector<GroupPtr> taken(queue_.begin(), queue_.end());
    queue_.clear();
    const uint32_t taken_sync_waiters = queued_sync_waiters_;
    queued_sync_waiters_ = 0;
    bool sync = false;
    for (const GroupPtr& g : taken) sync |= g->sync;
    const uint64_t last_lsn = next_lsn_ - 1;
    Status status = failed_;
    uint64_t device_bytes = 0;
    uint64_t syncs = 0;
    if (status.ok()) {
      lock.unlock();
      const auto start = std::chrono::steady_clock::now();
      status = WriteGroups(taken, sync, &device_bytes, &syncs);
      const uint64_t nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(
                                 std::chrono::steady_clock::now() - start)
                                 .count();
      lock.lock();
      if (sync) {
        sync_nanos_avg_ = sync_nanos_avg_ == 0 ? nanos : (sync_nanos_avg_ * 7 + nanos) / 8;
        // Who took part plus who queued meanwhile: the appenders to expect.
        expected_sync_waiters_ = taken_sync_waiters + queued_sync_waiters_;
      }
    }
    stats_.groups++;
    stats_.syncs += syncs;
    stats_.device_bytes_written += device_bytes;
    if (status.ok()) {
      written_lsn_ = std::max(written_lsn_, last_lsn);
      if (sync) synced_lsn_ = std::max(synced_lsn_, last_lsn);
    } else if (failed_.ok()) {
      // The kernel may have dropped the data: nothing written after this may
      // be acknowledged, so the log stays failed.
      failed_ = status.WithContext("wal failed (reopen to recover)");
    }
    for (const GroupPtr& g : taken) {
      g->status = status.ok() ? Status::Ok() : failed_;
      g->done = true;
    }
    const bool more = !queue_.empty() && failed_.ok() && round < kLeaderRoundsMax;
    GroupPtr next_leader;
    if (!more) {
      leader_active_ = false;
      if (!queue_.empty()) next_leader = queue_.front();
    }
    lock.unlock();
    for (const GroupPtr& g : taken) {
      g->state.store(kDone, std::memory_order_release);
      g->state.notify_all();
    }
    if (next_leader) {
      uint32_t expected = kPending;
      if (next_leader->state.compare_exchange_strong(expected, kLead,
                                                     std::memory_order_acq_rel)) {
        next_leader->state.notify_all();  // hand the lead on
      }
    }
    lock.lock();
    if (!more) return;
  }
}

Status LogImpl::WriteGroups(const std::vector<GroupPtr>& groups, bool sync,
                            uint64_t* device_bytes, uint64_t* syncs) {
  size_t i = 0;
  std::vector<std::string_view> pieces;
  while (i < groups.size()) {
    const uint64_t seq = groups[i]->seq;
    const uint64_t offset = groups[i]->offset;
    pieces.clear();
    size_t j = i;
    uint64_t allocated = 0;
    for (; j < groups.size() && groups[j]->seq == seq; ++j) {
      if (!groups[j]->data.empty()) pieces.push_back(groups[j]->data);
      allocated = std::max(allocated, groups[j]->allocated);
    }
    if (seq != file_seq_) STRATA_RETURN_IF_ERROR(SwitchTo(seq, device_bytes, syncs));
    if (allocated > file_allocated_) STRATA_RETURN_IF_ERROR(GrowActiveFile(allocated, syncs));
    const bool sync_now = sync && j == groups.size();
    STRATA_RETURN_IF_ERROR(WriteRun(offset, pieces, sync_now, device_bytes));
    if (sync_now) ++*syncs;
    i = j;
  }
  return Status::Ok();
}

Status LogImpl::WriteRun(uint64_t offset, const std::vector<std::string_view>& pieces, bool sync,
                         uint64_t* device_bytes) {
  using Write = std::pair<uint64_t, std::string_view>;
  std::vector<Write> writes;
  if (!options_.direct_io) {
    uint64_t at = offset;
    for (std::string_view piece : pieces) {
      writes.emplace_back(at, piece);
      at += piece.size();
      *device_bytes += piece.size();
    }
  } else if (!pieces.empty()) {
    // O_DIRECT writes whole blocks: rewrite the partial last block together
    // with the new records, padded with zeros (which parse as end of data).
    const uint64_t start = AlignDown(offset, kDirectBlockBytes);
    STRATA_ASSERT(offset - start == tail_block_.size());
    uint64_t end = offset;
    for (std::string_view piece : pieces) end += piece.size();
    const uint64_t padded = AlignUp(end, kDirectBlockBytes) - start;
    staging_.Reserve(padded);
    char* p = staging_.data();
    std::memcpy(p, tail_block_.data(), tail_block_.size());
    uint64_t at = tail_block_.size();
    for (std::string_view piece : pieces) {
      std::memcpy(p + at, piece.data(), piece.size());
      at += piece.size();
    }
    std::memset(p + at, 0, padded - at);
    const uint64_t tail_start = AlignDown(end, kDirectBlockBytes) - start;
    tail_block_.assign(p + tail_start, end - start - tail_start);
    writes.emplace_back(start, std::string_view(p, padded));
    *device_bytes += padded;
  }
  if (sync) return file_->WriteAtAndSync(writes);
  for (const Write& w : writes) STRATA_RETURN_IF_ERROR(file_->WriteAt(w.first, w.second));
  return Status::Ok();
}

// Seals the current segment and makes `seq`, prepared by the background
// thread, the file the leader writes. The seal record (FORMAT.md) goes in
// only once `seq` is durable under its name, and is synced with the rest of
// the old segment before anything is written into `seq`: a durable seal
// always has a durable next segment, so recovery can tell a lost newest
// segment from a crash.
Status LogImpl::SwitchTo(uint64_t seq, uint64_t* device_bytes, uint64_t* syncs) {
  STRATA_ASSERT(seq == file_seq_ + 1);
  bool seal = false;
  uint64_t seal_offset = 0;
  uint64_t seal_lsn = 0;
  {
    std::unique_lock<std::mutex> lock(mu_);
    if (prepared_seq_ != seq) stats_.prepare_waits++;
    prep_cv_.wait(lock, [&] { return prepared_seq_ == seq || !prep_status_.ok(); });
    if (!prep_status_.ok()) return prep_status_;
    for (const Segment& s : segments_) {
      if (s.seq != file_seq_) continue;
      // A version 1 segment may lack the room; it then ends unsealed.
      seal = s.last_lsn != 0 && s.end_offset + kSealRecordBytes <= s.segment_bytes;
      seal_offset = s.end_offset;
      seal_lsn = s.last_lsn + 1;
    }
  }
  if (file_) {
    if (seal) {
      char record[kSealRecordBytes];
      EncodeSealRecord(file_seq_, seal_lsn, record);
      STRATA_RETURN_IF_ERROR(WriteRun(seal_offset, {std::string_view(record, sizeof(record))},
                                      /*sync=*/true, device_bytes));
    } else {
      STRATA_RETURN_IF_ERROR(file_->Sync());
    }
    ++*syncs;
    STRATA_RETURN_IF_ERROR(file_->Close());
    file_.reset();
  }
  {
    std::unique_lock<std::mutex> lock(mu_);
    prepared_seq_ = 0;
    prep_want_ = seq + 1;
    written_seq_ = seq;
  }
  prep_cv_.notify_all();
  return OpenActiveFile(seq, kSegmentHeaderBytes);
}

Status LogImpl::ReadRecord(const RecordLocation& where, std::string* payload) {
  std::shared_ptr<io::RandomAccessFile> file;
  {
    std::lock_guard<std::mutex> lock(read_mu_);
    auto it = readers_.find(where.segment_seq);
    if (it != readers_.end()) file = it->second;
  }
  const std::string path = SegmentPath(where.segment_seq);
  if (!file) {
    std::unique_ptr<io::RandomAccessFile> opened;
    STRATA_RETURN_IF_ERROR(fs_->NewRandomAccessFile(path, io::FileOptions{}, &opened));
    file = std::move(opened);
    std::lock_guard<std::mutex> lock(read_mu_);
    readers_[where.segment_seq] = file;
  }
  const uint64_t bytes = kRecordHeaderBytes + where.payload_bytes;
  std::string buf(bytes, '\0');
  size_t got = 0;
  STRATA_RETURN_IF_ERROR(file->Read(where.offset, bytes, buf.data(), &got));
  buf.resize(got);
  RecordHeader header;
  std::string_view data;
  const RecordCheck check = CheckRecord(buf, where.segment_seq, &header, &data);
  if (check != RecordCheck::kOk || header.lsn != where.lsn) {
    return Status::Corruption(fmt::format("{} @ {}: record lsn {}: {}", path, where.offset,
                                          where.lsn,
                                          check == RecordCheck::kOk ? "unexpected lsn"
                                                                    : RecordCheckName(check)));
  }
  payload->assign(data);
  return Status::Ok();
}

uint64_t LogImpl::next_lsn() const {
  std::lock_guard<std::mutex> lock(mu_);
  return next_lsn_;
}

LogStats LogImpl::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

uint64_t LogImpl::segment_count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return segments_.size();
}

uint64_t LogImpl::head_segment_seq() const {
  std::lock_guard<std::mutex> lock(mu_);
  return segments_.empty() ? 0 : segments_.back().seq;
}

}  // namespace strata::wal
