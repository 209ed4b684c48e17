#include "wal/log_store.h"

#include <fmt/core.h>

#include <algorithm>

#include "core/assert.h"
#include "wal/format.h"

namespace strata {

Status OpenLogStoreHost(const LogStoreHostOptions& options, const std::string& dir,
                        std::unique_ptr<LogStoreHost>* host) {
  return wal::LogStoreHostImpl::Open(options, dir, host);
}

}  // namespace strata

namespace strata::wal {

namespace {

// Placeholders one replayed record may add. They stand for entries whose
// records were overwritten and then released, and later records must
// replace or compact each of them; a checksum-valid but wrong record could
// otherwise ask for 2^40 of them (a hang and memory without bound, found by
// fuzz/log_store_fuzzer). 4M placeholders is about 160 MB.
constexpr uint64_t kReplayGapMax = uint64_t{1} << 22;

// Bytes counted per live entry besides its data when sizing a group
// (rewrite_lag_segments): its term, length and type in a record.
constexpr uint64_t kEntryFramingBytes = 16;

std::string Where(const RecordLocation& where) {
  return fmt::format("{} @ {} (lsn {})", SegmentFileName(where.segment_seq), where.offset,
                     where.lsn);
}

}  // namespace

// ---------------------------------------------------------------- GroupLog

// Replay meets records whose predecessors were in released segments (their
// entries were overwritten or compacted later, or the group was reset).
// Entries known to exist but not yet seen are held as placeholders (lsn 0);
// later records in the log must overwrite or compact every one of them, and
// CheckReplayed() reports Corruption for any left over. At run time none of these
// cases arise: Append validates the index first.
void GroupLog::ApplyEntries(const RecordLocation& where, const StoreRecord& record) {
  if (record.entries.empty()) return;
  const uint64_t first = record.index;
  if (first < first_index_ || (first > LastIndexLocked() + 1 && entries_.empty())) {
    entries_.clear();  // replay only: the prefix lies in released segments
    first_index_ = first;
  } else {
    while (LastIndexLocked() + 1 < first) entries_.push_back(EntryRef{});  // replay only
    entries_.resize(first - first_index_);
  }
  for (const EntryView& e : record.entries) {
    entries_.push_back(
        EntryRef{e.term, where, e.data_offset, static_cast<uint32_t>(e.data.size()), e.type});
  }
}

// A rewrite record says: at this LSN the group held these entries, with
// these terms; their data is now (also) here. It never drops an entry. At run
// time the entries were checked against the index just before the record
// was appended, so it only moves locations. Replay may not have seen the
// entries yet, because a rewrite exists precisely so that their older
// records can be released: entries outside what replay holds are taken as
// entries whose earlier records were released, with placeholders for any
// index between them and what replay holds (later records must fill those,
// as for ApplyEntries). An index replay holds with a different term (only a
// crafted or damaged log has one) keeps what replay holds.
void GroupLog::ApplyRewrite(const RecordLocation& where, const StoreRecord& record) {
  if (record.entries.empty()) return;
  sorted_ = false;
  const uint64_t first = record.index;
  const uint64_t last = first + record.entries.size() - 1;
  if (entries_.empty()) {
    first_index_ = first;  // replay only
  } else if (first < first_index_) {
    entries_.insert(entries_.begin(), first_index_ - first, EntryRef{});  // replay only
    first_index_ = first;
  }
  if (last > LastIndexLocked()) entries_.resize(last - first_index_ + 1);  // replay only
  for (const EntryView& e : record.entries) {
    EntryRef& ref = entries_[e.index - first_index_];
    if (ref.where.lsn != 0 && ref.term != e.term) continue;
    ref = EntryRef{e.term, where, e.data_offset, static_cast<uint32_t>(e.data.size()), e.type};
  }
}

void GroupLog::ResortLocked() {
  if (sorted_) return;
  for (size_t k = 1; k < entries_.size(); ++k) {
    if (entries_[k].where.lsn < entries_[k - 1].where.lsn) return;
  }
  sorted_ = true;
}

void GroupLog::ApplyTruncate(uint64_t index) {
  if (index < first_index_) {
    entries_.clear();
    first_index_ = index;  // replay only: the prefix lies in released segments
  } else if (index <= LastIndexLocked()) {
    entries_.resize(index - first_index_);
  }
  ResortLocked();
}

void GroupLog::ApplyMeta(const GroupMeta& meta, uint64_t lsn) {
  hard_ = meta.hard;
  configuration_ = meta.configuration;
  meta_lsn_ = lsn;
  if (meta.reset || meta.first_index > LastIndexLocked() + 1) {
    entries_.clear();
  } else if (meta.first_index >= first_index_) {
    entries_.erase(entries_.begin(), entries_.begin() + (meta.first_index - first_index_));
  } else if (!entries_.empty()) {
    // Replay only: entries between the compaction point and what we hold
    // were in released segments; later records must replace them.
    entries_.insert(entries_.begin(), first_index_ - meta.first_index, EntryRef{});
  }
  // A compaction may have dropped the entries a rewrite moved ahead (not on
  // every hard state: the scan is linear).
  const bool dropped = meta.reset || meta.first_index != first_index_;
  first_index_ = meta.first_index;
  prev_term_ = meta.prev_term;
  if (dropped) ResortLocked();
}

uint64_t GroupLog::ReplayGapLocked(const StoreRecord& record) const {
  if (record.kind == StoreRecordKind::kEntries) {
    const uint64_t first = record.index;
    if (record.entries.empty() || entries_.empty() || first < first_index_) return 0;
    return first > LastIndexLocked() + 1 ? first - (LastIndexLocked() + 1) : 0;
  }
  if (record.kind == StoreRecordKind::kRewrite) {
    // ApplyRewrite's placeholders: the indexes between the record's entries
    // and the ones replay holds, on either side.
    if (record.entries.empty() || entries_.empty()) return 0;
    const uint64_t first = record.index;
    const uint64_t last = first + record.entries.size() - 1;
    uint64_t gap = 0;
    if (last + 1 < first_index_) gap += first_index_ - 1 - last;
    if (first > LastIndexLocked() + 1) gap += first - 1 - LastIndexLocked();
    return gap;
  }
  if (record.kind == StoreRecordKind::kMeta) {
    const GroupMeta& meta = record.meta;
    if (meta.reset || meta.first_index > LastIndexLocked() + 1 || entries_.empty()) return 0;
    return meta.first_index < first_index_ ? first_index_ - meta.first_index : 0;
  }
  return 0;
}

Status GroupLog::CheckReplayedLocked() const {
  for (size_t k = 0; k < entries_.size(); ++k) {
    if (entries_[k].where.lsn == 0) {
      return Status::Corruption(fmt::format(
          "log store: group {} entry {} is missing (its record was in a released segment)",
          group_, first_index_ + k));
    }
  }
  return Status::Ok();
}

GroupMeta GroupLog::MetaLocked() const {
  GroupMeta meta;
  meta.group = group_;
  meta.first_index = first_index_;
  meta.prev_term = prev_term_;
  meta.hard = hard_;
  meta.configuration = configuration_;
  return meta;
}

const GroupLog::EntryRef* GroupLog::OldestEntryLocked() const {
  if (entries_.empty()) return nullptr;
  if (sorted_) return &entries_.front();
  const EntryRef* oldest = &entries_.front();
  for (const EntryRef& ref : entries_) {
    if (ref.where.lsn < oldest->where.lsn) oldest = &ref;
  }
  return oldest;
}

uint64_t GroupLog::LiveBytesLocked() const {
  uint64_t bytes = 0;
  for (const EntryRef& ref : entries_) bytes += ref.data_bytes + kEntryFramingBytes;
  return bytes;
}

// Reads the entries `refs` locate (indexes lo, lo+1, ...), each record once
// for the entries it holds; appends them to *entries.
Status GroupLog::ReadRefs(uint64_t lo, const std::vector<EntryRef>& refs,
                          std::vector<LogEntry>* entries) const {
  std::string payload;
  uint64_t payload_lsn = 0;
  for (size_t k = 0; k < refs.size(); ++k) {
    const EntryRef& ref = refs[k];
    if (ref.where.lsn != payload_lsn) {
      STRATA_RETURN_IF_ERROR(host_->log_->ReadRecord(ref.where, &payload));
      payload_lsn = ref.where.lsn;
    }
    std::string_view data;
    STRATA_RETURN_IF_ERROR(
        SliceEntryData(payload, ref.data_offset, ref.data_bytes, Where(ref.where), &data));
    entries->push_back(LogEntry{lo + k, ref.term, std::string(data), ref.type});
  }
  return Status::Ok();
}

Status GroupLog::RewriteBelow(uint64_t below_seq, uint64_t chunk_bytes, uint64_t* budget,
                              RewriteCounts* counts) {
  uint64_t next = 0;  // indexes below it are done
  Status s;
  while (*budget > 0 && s.ok()) {
    // 1. The next run of consecutive entries in old segments (at most
    // chunk_bytes of data, at least one entry), its locations copied and
    // its lowest LSN pinned, as a read does.
    uint64_t lo = 0;
    std::vector<EntryRef> refs;
    uint64_t pinned = 0;
    {
      std::shared_lock<std::shared_mutex> lock(state_mu_);
      const uint64_t last = LastIndexLocked();
      uint64_t index = std::max(next, first_index_);
      while (index <= last && entries_[index - first_index_].where.segment_seq >= below_seq) {
        ++index;
      }
      if (index > last) break;
      lo = index;
      const uint64_t limit = std::min(chunk_bytes, *budget);
      uint64_t bytes = 0;
      for (; index <= last; ++index) {
        const EntryRef& ref = entries_[index - first_index_];
        if (ref.where.segment_seq >= below_seq) break;
        if (!refs.empty() && bytes + ref.data_bytes + kEntryFramingBytes > limit) break;
        refs.push_back(ref);
        bytes += ref.data_bytes + kEntryFramingBytes;
        pinned = pinned == 0 ? ref.where.lsn : std::min(pinned, ref.where.lsn);
      }
      std::lock_guard<std::mutex> pins(host_->pins_mu_);
      host_->read_pins_.insert(pinned);
    }
    // 2. The data, read without the group's locks.
    std::vector<LogEntry> copies;
    s = ReadRefs(lo, refs, &copies);
    // 3. Under the write mutex, the entries still where they were read (the
    // group may have compacted, truncated or overwritten since): the first
    // run of them goes into one record.
    if (s.ok()) {
      std::lock_guard<std::mutex> write_lock(write_mu_);
      size_t begin = refs.size(), end = refs.size();
      {
        std::shared_lock<std::shared_mutex> lock(state_mu_);
        const auto unchanged = [&](size_t k) {
          const uint64_t index = lo + k;
          if (index < first_index_ || index > LastIndexLocked()) return false;
          const EntryRef& now = entries_[index - first_index_];
          return now.where.lsn == refs[k].where.lsn && now.data_offset == refs[k].data_offset;
        };
        for (size_t k = 0; k < refs.size(); ++k) {
          if (unchanged(k)) {
            begin = k;
            break;
          }
        }
        for (end = begin; end < refs.size() && unchanged(end);) ++end;
      }
      next = lo + (begin < end ? end : refs.size());
      if (begin < end) {
        const std::span<const LogEntry> run(copies.data() + begin, end - begin);
        std::string payload;
        std::vector<uint32_t> offsets;
        EncodeRewrite(group_, run, &payload, &offsets);
        Result<RecordLocation> where = host_->log()->AppendWithLocation(payload, /*sync=*/false);
        if (!where.ok()) {
          s = where.status();
        } else {
          StoreRecord record;
          record.kind = StoreRecordKind::kRewrite;
          record.index = run.front().index;
          for (size_t k = 0; k < run.size(); ++k) {
            record.entries.push_back(EntryView{run[k].index, run[k].term, run[k].type, offsets[k],
                                               std::string_view(run[k].data)});
          }
          std::unique_lock<std::shared_mutex> lock(state_mu_);
          ApplyRewrite(*where, record);
          counts->records++;
          counts->entries += run.size();
          counts->bytes += payload.size();
          *budget -= std::min<uint64_t>(*budget, payload.size());
        }
      }
    }
    std::lock_guard<std::mutex> pins(host_->pins_mu_);
    host_->read_pins_.erase(host_->read_pins_.find(pinned));
  }
  std::unique_lock<std::shared_mutex> lock(state_mu_);
  ResortLocked();
  return s;
}

Status GroupLog::WriteMeta(const GroupMeta& meta, bool sync) {
  std::string payload;
  EncodeMeta(meta, &payload);
  STRATA_ASSIGN_OR_RETURN(uint64_t lsn, host_->log()->Append(payload, sync));
  std::unique_lock<std::shared_mutex> lock(state_mu_);
  ApplyMeta(meta, lsn);
  return Status::Ok();
}

Status GroupLog::Append(std::span<const LogEntry> entries, bool sync) {
  return AppendAt(entries, sync).status();
}

Result<uint64_t> GroupLog::AppendAsync(std::span<const LogEntry> entries) {
  if (entries.empty()) return host_->log()->next_lsn() - 1;
  STRATA_ASSIGN_OR_RETURN(RecordLocation where, AppendAt(entries, /*sync=*/false));
  return where.lsn;
}

Status GroupLog::WaitDurable(uint64_t ticket) { return host_->log()->SyncThrough(ticket); }

Result<RecordLocation> GroupLog::AppendAt(std::span<const LogEntry> entries, bool sync) {
  if (entries.empty()) return RecordLocation{};
  const uint64_t first = entries.front().index;
  if (first == 0 || first >= kLogIndexMax) {
    return Status::InvalidArgument(
        fmt::format("log {}: entry index {} out of range", group_, first));
  }
  for (size_t k = 0; k < entries.size(); ++k) {
    if (!IsLogEntryType(entries[k].type)) {
      return Status::InvalidArgument(fmt::format("log {}: entry {} has unknown type {}", group_,
                                                 entries[k].index,
                                                 static_cast<uint8_t>(entries[k].type)));
    }
  }
  for (size_t k = 1; k < entries.size(); ++k) {
    if (entries[k].index != first + k) {
      return Status::InvalidArgument(fmt::format(
          "log {}: entries not consecutive ({} follows {})", group_, entries[k].index,
          entries[k - 1].index));
    }
  }
  std::lock_guard<std::mutex> write_lock(write_mu_);
  {
    std::shared_lock<std::shared_mutex> lock(state_mu_);
    if (first < first_index_) {
      return Status::InvalidArgument(fmt::format(
          "log {}: append at index {} below first index {} (compacted)", group_, first,
          first_index_));
    }
    if (first > LastIndexLocked() + 1) {
      return Status::InvalidArgument(fmt::format(
          "log {}: append at index {} leaves a gap after last index {}", group_, first,
          LastIndexLocked()));
    }
  }
  std::string payload;
  std::vector<uint32_t> offsets;
  EncodeEntries(group_, entries, &payload, &offsets);
  STRATA_ASSIGN_OR_RETURN(RecordLocation where, host_->log()->AppendWithLocation(payload, sync));
  StoreRecord record;
  record.index = first;
  for (size_t k = 0; k < entries.size(); ++k) {
    record.entries.push_back(EntryView{first + k, entries[k].term, entries[k].type, offsets[k],
                                       std::string_view(entries[k].data)});
  }
  std::unique_lock<std::shared_mutex> lock(state_mu_);
  ApplyEntries(where, record);
  return where;
}

Status GroupLog::Entry(uint64_t index, LogEntry* entry) const {
  std::vector<LogEntry> one;
  STRATA_RETURN_IF_ERROR(Entries(index, index + 1, 0, &one));
  *entry = std::move(one.front());
  return Status::Ok();
}

Status GroupLog::Entries(uint64_t lo, uint64_t hi, uint64_t max_bytes,
                         std::vector<LogEntry>* entries) const {
  entries->clear();
  // Under the lock, only the locations of what to read (and a pin on the
  // lowest LSN, so that its segment stays); the disk reads come after.
  std::vector<EntryRef> refs;
  uint64_t pinned = 0;
  {
    std::shared_lock<std::shared_mutex> lock(state_mu_);
    const uint64_t last = LastIndexLocked();
    if (lo < first_index_ || hi > last + 1 || lo > hi) {
      return Status::InvalidArgument(fmt::format("log {}: entries [{}, {}) outside [{}, {}]",
                                                 group_, lo, hi, first_index_, last));
    }
    uint64_t total_bytes = 0;
    for (uint64_t index = lo; index < hi; ++index) {
      const EntryRef& ref = entries_[index - first_index_];
      if (!refs.empty() && total_bytes + ref.data_bytes > max_bytes) break;
      refs.push_back(ref);
      pinned = pinned == 0 ? ref.where.lsn : std::min(pinned, ref.where.lsn);
      total_bytes += ref.data_bytes;
    }
    if (pinned != 0) {
      std::lock_guard<std::mutex> pins(host_->pins_mu_);
      host_->read_pins_.insert(pinned);
    }
  }
  const auto unpin = [&] {
    if (pinned == 0) return;
    std::lock_guard<std::mutex> pins(host_->pins_mu_);
    host_->read_pins_.erase(host_->read_pins_.find(pinned));
  };
  const Status s = ReadRefs(lo, refs, entries);
  unpin();
  if (!s.ok()) entries->clear();
  return s;
}

uint64_t GroupLog::FirstIndex() const {
  std::shared_lock<std::shared_mutex> lock(state_mu_);
  return first_index_;
}

uint64_t GroupLog::LastIndex() const {
  std::shared_lock<std::shared_mutex> lock(state_mu_);
  return LastIndexLocked();
}

Result<uint64_t> GroupLog::Term(uint64_t index) const {
  std::shared_lock<std::shared_mutex> lock(state_mu_);
  if (index + 1 == first_index_) return prev_term_;
  if (index < first_index_ || index > LastIndexLocked()) {
    return Status::InvalidArgument(fmt::format("log {}: term of index {} outside [{}, {}]", group_,
                                               index, first_index_ - 1, LastIndexLocked()));
  }
  return entries_[index - first_index_].term;
}

Status GroupLog::TruncateSuffix(uint64_t index) {
  std::lock_guard<std::mutex> write_lock(write_mu_);
  {
    std::shared_lock<std::shared_mutex> lock(state_mu_);
    if (index < first_index_ || index > LastIndexLocked() + 1) {
      return Status::InvalidArgument(fmt::format(
          "log {}: truncation at {} outside [{}, {}] (first index, last index + 1)", group_, index,
          first_index_, LastIndexLocked() + 1));
    }
    if (index == LastIndexLocked() + 1) return Status::Ok();
  }
  std::string payload;
  EncodeTruncate(group_, index, &payload);
  STRATA_RETURN_IF_ERROR(host_->log()->Append(payload, /*sync=*/true).status());
  std::unique_lock<std::shared_mutex> lock(state_mu_);
  ApplyTruncate(index);
  return Status::Ok();
}

Status GroupLog::CompactPrefix(uint64_t index) { return CompactPrefixWith(index, nullptr); }

Status GroupLog::CompactPrefix(uint64_t index, const LogConfiguration& configuration) {
  return CompactPrefixWith(index, &configuration);
}

Status GroupLog::CompactPrefixWith(uint64_t index, const LogConfiguration* configuration) {
  {
    std::lock_guard<std::mutex> write_lock(write_mu_);
    GroupMeta meta;
    {
      std::shared_lock<std::shared_mutex> lock(state_mu_);
      if (index < first_index_) return Status::Ok();  // already compacted
      if (index > LastIndexLocked()) {
        return Status::InvalidArgument(fmt::format(
            "log {}: compaction to {} beyond last index {} (install a snapshot with Reset)",
            group_, index, LastIndexLocked()));
      }
      meta = MetaLocked();
      meta.prev_term = entries_[index - first_index_].term;
      meta.first_index = index + 1;
      if (configuration != nullptr) meta.configuration = *configuration;
    }
    // Not synced: if a crash loses it, the entries simply come back.
    STRATA_RETURN_IF_ERROR(WriteMeta(meta, /*sync=*/false));
  }
  return host_->MaybeRelease();
}

Status GroupLog::Reset(uint64_t last_index, uint64_t last_term) {
  return ResetWith(last_index, last_term, nullptr);
}

Status GroupLog::Reset(uint64_t last_index, uint64_t last_term,
                       const LogConfiguration& configuration) {
  return ResetWith(last_index, last_term, &configuration);
}

SnapshotMeta GroupLog::GetSnapshotMeta() const {
  std::shared_lock<std::shared_mutex> lock(state_mu_);
  return SnapshotMeta{first_index_ - 1, prev_term_, configuration_};
}

Status GroupLog::ResetWith(uint64_t last_index, uint64_t last_term,
                           const LogConfiguration* configuration) {
  if (last_index >= kLogIndexMax) {
    return Status::InvalidArgument(fmt::format("log {}: reset index {} too large", group_,
                                               last_index));
  }
  {
    std::lock_guard<std::mutex> write_lock(write_mu_);
    GroupMeta meta;
    {
      std::shared_lock<std::shared_mutex> lock(state_mu_);
      meta = MetaLocked();
    }
    meta.reset = true;
    meta.first_index = last_index + 1;
    meta.prev_term = last_term;
    if (configuration != nullptr) meta.configuration = *configuration;
    STRATA_RETURN_IF_ERROR(WriteMeta(meta, /*sync=*/true));
  }
  return host_->MaybeRelease();
}

Status GroupLog::SetHardState(const HardState& state) {
  std::lock_guard<std::mutex> write_lock(write_mu_);
  GroupMeta meta;
  {
    std::shared_lock<std::shared_mutex> lock(state_mu_);
    meta = MetaLocked();
  }
  meta.hard = state;
  return WriteMeta(meta, /*sync=*/true);
}

HardState GroupLog::GetHardState() const {
  std::shared_lock<std::shared_mutex> lock(state_mu_);
  return hard_;
}

// -------------------------------------------------------- LogStoreHostImpl

Status LogStoreHostImpl::Open(const LogStoreHostOptions& options, const std::string& dir,
                              std::unique_ptr<LogStoreHost>* host) {
  LogOptions log_options;
  log_options.file_system = options.file_system;
  log_options.segment_bytes = options.segment_bytes;
  log_options.direct_io = options.direct_io;
  log_options.recovery = options.recovery;
  auto impl = std::make_unique<LogStoreHostImpl>();
  impl->options_ = options;
  // One pass over the disk: the WAL's recovery scan feeds the index.
  StoreRecord record;
  LogStoreHostImpl* self = impl.get();
  STRATA_RETURN_IF_ERROR(Log::OpenAndReplayWithLocation(
      log_options, dir, 1,
      [&](const RecordLocation& where, std::string_view payload) {
        return self->ApplyReplayed(where, payload, &record);
      },
      &impl->log_));
  STRATA_RETURN_IF_ERROR(impl->CheckReplayed());
  *host = std::move(impl);
  return Status::Ok();
}

Status LogStoreHostImpl::ApplyReplayed(const RecordLocation& where, std::string_view payload,
                                       StoreRecord* scratch) {
  StoreRecord& record = *scratch;
  {
    STRATA_RETURN_IF_ERROR(DecodeStoreRecord(payload, Where(where), &record));
    GroupLog* group = GroupLocked(record.group);
    std::unique_lock<std::shared_mutex> lock(group->state_mu_);
    const uint64_t gap = group->ReplayGapLocked(record);
    if (gap > kReplayGapMax) {
      return Status::Corruption(fmt::format(
          "{}: log store group {} record would leave {} missing entries before it (at most {})",
          Where(where), record.group, gap, kReplayGapMax));
    }
    switch (record.kind) {
      case StoreRecordKind::kEntries:
      case StoreRecordKind::kTypedEntries:  // decoded as kEntries
        group->ApplyEntries(where, record);
        break;
      case StoreRecordKind::kRewrite:
      case StoreRecordKind::kTypedRewrite:  // decoded as kRewrite
        group->ApplyRewrite(where, record);
        break;
      case StoreRecordKind::kTruncate: group->ApplyTruncate(record.index); break;
      case StoreRecordKind::kMeta:
      case StoreRecordKind::kConfiguredMeta:  // decoded as kMeta
        group->ApplyMeta(record.meta, where.lsn);
        break;
    }
  }
  return Status::Ok();
}

Status LogStoreHostImpl::CheckReplayed() {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [id, group] : groups_) {
    std::unique_lock<std::shared_mutex> state(group->state_mu_);
    STRATA_RETURN_IF_ERROR(group->CheckReplayedLocked());
    group->ResortLocked();
  }
  return Status::Ok();
}

GroupLog* LogStoreHostImpl::GroupLocked(uint64_t group_id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& slot = groups_[group_id];
  if (!slot) slot = std::make_unique<GroupLog>(this, group_id);
  return slot.get();
}

LogStore* LogStoreHostImpl::Group(uint64_t group_id) { return GroupLocked(group_id); }

std::vector<uint64_t> LogStoreHostImpl::GroupIds() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<uint64_t> ids;
  for (const auto& [id, group] : groups_) {
    std::shared_lock<std::shared_mutex> state(group->state_mu_);
    if (group->HasStateLocked()) ids.push_back(id);
  }
  return ids;
}

Status LogStoreHostImpl::Sync() { return log_->Sync(); }

LogStoreHostStats LogStoreHostImpl::Stats() const {
  LogStoreHostStats stats;
  std::vector<std::pair<uint64_t, GroupLog*>> groups;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [id, group] : groups_) groups.emplace_back(id, group.get());
  }
  const uint64_t head = log_->head_segment_seq();
  uint64_t oldest_lsn = UINT64_MAX;
  for (const auto& [id, g] : groups) {
    std::shared_lock<std::shared_mutex> lock(g->state_mu_);
    const GroupLog::EntryRef* oldest = g->OldestEntryLocked();
    if (oldest == nullptr || oldest->where.lsn >= oldest_lsn) continue;
    oldest_lsn = oldest->where.lsn;
    stats.has_pinning_group = true;
    stats.pinning_group = id;
    stats.pinning_lag_segments = head - std::min(head, oldest->where.segment_seq);
  }
  stats.segments = log_->segment_count();
  stats.rewrite_records = rewrite_records_.load();
  stats.rewritten_entries = rewritten_entries_.load();
  stats.rewritten_bytes = rewritten_bytes_.load();
  return stats;
}

uint64_t LogStoreHostImpl::LowestReadPin() {
  std::lock_guard<std::mutex> pins(pins_mu_);
  return read_pins_.empty() ? 0 : *read_pins_.begin();
}

Status LogStoreHostImpl::RewriteColdGroups(const std::vector<GroupLog*>& groups) {
  const uint64_t lag = options_.rewrite_lag_segments;
  const uint64_t head = log_->head_segment_seq();
  if (lag == 0 || head <= lag) return Status::Ok();
  // Candidates: groups whose oldest entry lags `lag` segments or more and
  // whose live entries are small enough to copy. The oldest entry no
  // rewrite moves (another group's, a read's) bounds what a release can
  // free: copying a group whose entries are all newer than it frees nothing.
  const uint64_t size_max = lag * options_.segment_bytes / 4;
  std::vector<std::pair<uint64_t, GroupLog*>> candidates;  // (oldest lsn, group)
  uint64_t fixed = UINT64_MAX;
  for (GroupLog* g : groups) {
    std::shared_lock<std::shared_mutex> lock(g->state_mu_);
    const GroupLog::EntryRef* oldest = g->OldestEntryLocked();
    if (oldest == nullptr) continue;
    if (head - std::min(head, oldest->where.segment_seq) >= lag &&
        g->LiveBytesLocked() <= size_max) {
      candidates.emplace_back(oldest->where.lsn, g);
    } else {
      fixed = std::min(fixed, oldest->where.lsn);
    }
  }
  if (const uint64_t pin = LowestReadPin(); pin != 0) fixed = std::min(fixed, pin);
  std::sort(candidates.begin(), candidates.end());
  // Entries at least half the lag behind move, so a group that still writes
  // now and then leaves its recent entries where they are.
  const uint64_t below_seq = head + 1 - std::max<uint64_t>(1, lag / 2);
  const uint64_t chunk_bytes = std::max<uint64_t>(1, options_.segment_bytes / 4);
  uint64_t budget = options_.segment_bytes;
  GroupLog::RewriteCounts counts;
  Status s;
  for (const auto& [lsn, g] : candidates) {
    if (lsn >= fixed || budget == 0) break;
    s = g->RewriteBelow(below_seq, chunk_bytes, &budget, &counts);
    if (!s.ok()) break;
  }
  rewrite_records_ += counts.records;
  rewritten_entries_ += counts.entries;
  rewritten_bytes_ += counts.bytes;
  return s;
}

Status LogStoreHostImpl::MaybeRelease() {
  std::lock_guard<std::mutex> release_lock(release_mu_);
  std::vector<GroupLog*> groups;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [id, group] : groups_) groups.push_back(group.get());
  }
  STRATA_RETURN_IF_ERROR(RewriteColdGroups(groups));
  // Everything below the oldest live entry may go.
  uint64_t bound = log_->next_lsn();
  for (GroupLog* g : groups) {
    std::shared_lock<std::shared_mutex> lock(g->state_mu_);
    const GroupLog::EntryRef* oldest = g->OldestEntryLocked();
    if (oldest != nullptr) bound = std::min(bound, oldest->where.lsn);
  }
  // After the groups: a reader pins before it leaves its group's lock, so a
  // read of entries compacted away (or rewritten) meanwhile is seen here.
  if (const uint64_t pin = LowestReadPin(); pin != 0) bound = std::min(bound, pin);
  const uint64_t boundary = log_->ReleaseBoundary(bound);
  if (boundary == log_->ReleaseBoundary(0)) return Status::Ok();  // no whole segment to drop
  // Metadata still below the boundary moves to the head of the log first.
  for (GroupLog* g : groups) {
    std::lock_guard<std::mutex> write_lock(g->write_mu_);
    GroupMeta meta;
    {
      std::shared_lock<std::shared_mutex> lock(g->state_mu_);
      if (g->meta_lsn_ == 0 || g->meta_lsn_ >= boundary) continue;
      meta = g->MetaLocked();
    }
    STRATA_RETURN_IF_ERROR(g->WriteMeta(meta, /*sync=*/false));
  }
  // The segments about to go may hold the only durable copy of a state that
  // newer, unsynced records replace (a hard state superseded by an unsynced
  // compaction's meta record, entries an unsynced overwrite replaced): make
  // every record durable first, so that whatever a power cut keeps of the
  // log afterwards, replaying it from the boundary rebuilds every group.
  STRATA_RETURN_IF_ERROR(log_->Sync());
  return log_->ReleaseBefore(boundary);
}

}  // namespace strata::wal
