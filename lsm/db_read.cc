// DBImpl: reads, snapshots, PutIfNewer and stats (checkpoints: lsm/checkpoint.cc).
#include <fmt/core.h>

#include <functional>

#include "core/assert.h"
#include "lsm/db_impl.h"
#include "lsm/db_iter.h"
#include "lsm/merging_iterator.h"

namespace strata::lsm {

class DBImpl::SnapshotImpl final : public Snapshot {
 public:
  SnapshotImpl(DBImpl* db, std::multiset<SequenceNumber>::iterator it) : db_(db), it_(it) {
    db_->live_snapshots_.fetch_add(1, std::memory_order_relaxed);
  }
  ~SnapshotImpl() override {
    db_->ReleaseSnapshot(it_);
    db_->live_snapshots_.fetch_sub(1, std::memory_order_relaxed);
  }
  uint64_t sequence() const override { return *it_; }

 private:
  DBImpl* const db_;
  const std::multiset<SequenceNumber>::iterator it_;
};

// Counts itself in live_iterators_ (the engine asserts at destruction that
// none is left) and refuses to work on a closed engine.
class DBImpl::LiveIterator final : public Iterator {
 public:
  LiveIterator(DBImpl* db, std::unique_ptr<Iterator> base) : db_(db), base_(std::move(base)) {
    db_->live_iterators_.fetch_add(1, std::memory_order_relaxed);
  }
  ~LiveIterator() override {
    base_.reset();
    db_->live_iterators_.fetch_sub(1, std::memory_order_relaxed);
  }
  bool Valid() const override { return base_->Valid(); }
  void SeekToFirst() override { base_->SeekToFirst(); }
  void Seek(std::string_view target) override { base_->Seek(target); }
  void Next() override { base_->Next(); }
  void SeekToLast() override { base_->SeekToLast(); }
  void Prev() override { base_->Prev(); }
  std::string_view key() const override { return base_->key(); }
  std::string_view value() const override { return base_->value(); }
  std::optional<uint64_t> version() const override { return base_->version(); }
  Status status() const override { return base_->status(); }

 private:
  DBImpl* const db_;
  std::unique_ptr<Iterator> base_;
};

namespace {

// What NewIterator returns on a closed engine.
class ErrorIterator final : public Iterator {
 public:
  explicit ErrorIterator(Status status) : status_(std::move(status)) {}
  bool Valid() const override { return false; }
  void SeekToFirst() override {}
  void Seek(std::string_view) override {}
  void SeekToLast() override {}
  void Next() override { STRATA_ASSERT(false); }
  void Prev() override { STRATA_ASSERT(false); }
  std::string_view key() const override {
    STRATA_ASSERT(false);
    return {};
  }
  std::string_view value() const override {
    STRATA_ASSERT(false);
    return {};
  }
  Status status() const override { return status_; }

 private:
  Status status_;
};

}  // namespace

std::unique_ptr<Snapshot> DBImpl::GetSnapshot() {
  std::lock_guard lock(snapshots_mu_);
  auto it = snapshots_.insert(last_sequence_.load(std::memory_order_acquire));
  return std::make_unique<SnapshotImpl>(this, it);
}

void DBImpl::ReleaseSnapshot(std::multiset<SequenceNumber>::iterator it) {
  std::lock_guard lock(snapshots_mu_);
  snapshots_.erase(it);
}

std::vector<SequenceNumber> DBImpl::LiveSnapshots() const {
  std::lock_guard lock(snapshots_mu_);
  return std::vector<SequenceNumber>(snapshots_.begin(), snapshots_.end());
}

// Without mu_: readers never wait for writers or background work.
std::shared_ptr<const SuperVersion> DBImpl::GetSuperVersion() const {
  return super_version_.Get();
}

SequenceNumber DBImpl::ReadSequence(const ReadOptions& options) const {
  if (options.snapshot != nullptr) return options.snapshot->sequence();
  return last_sequence_.load(std::memory_order_acquire);
}

namespace {

// Whether a range tombstone visible at `seq` hides the version of user_key
// at found_seq. Without tombstones: a few pointer and flag tests.
bool RangeDeleted(const SuperVersion& sv, std::string_view user_key, SequenceNumber seq,
                  SequenceNumber found_seq) {
  SequenceNumber covering = 0;
  auto note = [&](const MemTable& m) {
    if (m.has_range_dels())
      covering = std::max(covering, m.RangeDels()->MaxCoveringSeq(user_key, seq));
  };
  note(*sv.mem);
  for (const auto& imm : sv.imms) note(*imm);
  if (sv.version->has_range_dels()) {
    covering = std::max(covering, sv.version->MaxCoveringTombstone(user_key, seq));
  }
  return found_seq < covering;
}

// The range-tombstone indexes an iterator over `sv` must honour (empty
// almost always).
std::vector<std::shared_ptr<const RangeDelIndex>> RangeDelsOf(const SuperVersion& sv) {
  std::vector<std::shared_ptr<const RangeDelIndex>> out;
  if (auto index = sv.mem->RangeDels()) out.push_back(std::move(index));
  for (const auto& imm : sv.imms) {
    if (auto index = imm->RangeDels()) out.push_back(std::move(index));
  }
  sv.version->AddRangeDels(&out);
  return out;
}

}  // namespace

Status DBImpl::GetInternal(const ReadOptions& options, std::string_view key, ValueType* type,
                           std::string* value) {
  if (key.size() > kKeyBytesMax) {
    return Status::InvalidArgument(fmt::format("key of {} bytes exceeds kKeyBytesMax", key.size()));
  }
  if (closed_.load(std::memory_order_acquire)) {
    return Status::InvalidArgument("the engine is closed");
  }
  // The SuperVersion first, then the sequence (as RocksDB does). The other
  // order races: between reading the sequence and pinning the SuperVersion, a
  // flush plus a compaction can install a Version that dropped the only entry
  // visible at that sequence (no snapshot protects it). This order is safe:
  // the pinned memtables and files stay readable, and any write newer than
  // them went to a later memtable with sequences above every one they hold,
  // so the read is a consistent state (as of the switch at the latest).
  std::shared_ptr<const SuperVersion> sv = GetSuperVersion();
  const SequenceNumber seq = ReadSequence(options);
  SequenceNumber found_seq = 0;
  bool found = sv->mem->Get(key, seq, type, value, &found_seq);
  for (size_t i = 0; !found && i < sv->imms.size(); ++i) {
    found = sv->imms[i]->Get(key, seq, type, value, &found_seq);
  }
  if (!found) {
    LookupStats stats;
    Status s = sv->version->Get(options, key, seq, &found, type, value, &stats, &found_seq);
    bloom_negatives_.fetch_add(stats.bloom_negatives, std::memory_order_relaxed);
    STRATA_RETURN_IF_ERROR(s);
  }
  if (!found || *type == ValueType::kDeletion) return Status::NotFound("key not found");
  if (RangeDeleted(*sv, key, seq, found_seq)) return Status::NotFound("key not found");
  return Status::Ok();
}

Status DBImpl::Get(const ReadOptions& options, std::string_view key, std::string* value) {
  ValueType type;
  STRATA_RETURN_IF_ERROR(GetInternal(options, key, &type, value));
  if (type == ValueType::kVersionedValue) {
    uint64_t version = 0;
    std::string_view user_value;
    if (!SplitVersionedValue(*value, &version, &user_value)) {
      return Status::Corruption("versioned value shorter than its version");
    }
    value->erase(0, value->size() - user_value.size());
  }
  return Status::Ok();
}

Status DBImpl::GetVersioned(const ReadOptions& options, std::string_view key, std::string* value,
                            uint64_t* version) {
  ValueType type;
  STRATA_RETURN_IF_ERROR(GetInternal(options, key, &type, value));
  *version = 0;
  if (type == ValueType::kVersionedValue) {
    std::string_view user_value;
    if (!SplitVersionedValue(*value, version, &user_value)) {
      return Status::Corruption("versioned value shorter than its version");
    }
    value->erase(0, value->size() - user_value.size());
  }
  return Status::Ok();
}

Status DBImpl::PutIfNewer(const WriteOptions& options, std::string_view key, uint64_t version,
                          std::string_view value, bool* applied) {
  *applied = false;
  WriteBatch batch;
  STRATA_RETURN_IF_ERROR(batch.PutVersioned(key, version, value));
  // Read-compare-write under the key's stripe: PutIfNewer calls on one key
  // are serialised, calls on other keys are not.
  std::lock_guard lock(key_locks_[std::hash<std::string_view>{}(key) % kKeyLockStripes]);
  std::string current;
  uint64_t current_version = 0;
  Status s = GetVersioned(ReadOptions{}, key, &current, &current_version);
  if (s.ok() && version <= current_version) return Status::Ok();
  if (!s.ok() && !s.IsNotFound()) return s;
  STRATA_RETURN_IF_ERROR(Write(options, batch));
  *applied = true;
  return Status::Ok();
}

std::unique_ptr<Iterator> DBImpl::NewIterator(const ReadOptions& options) {
  if (closed_.load(std::memory_order_acquire)) {
    return std::make_unique<ErrorIterator>(Status::InvalidArgument("the engine is closed"));
  }
  // SuperVersion before sequence: see GetInternal.
  std::shared_ptr<const SuperVersion> sv = GetSuperVersion();
  const SequenceNumber seq = ReadSequence(options);
  std::vector<std::unique_ptr<InternalIterator>> children;
  children.push_back(sv->mem->NewIterator());
  for (const auto& imm : sv->imms) children.push_back(imm->NewIterator());
  sv->version->AddIterators(options, &children);
  return std::make_unique<LiveIterator>(
      this, NewDBIterator(sv, NewMergingIterator(std::move(children)), seq, options.upper_bound,
                          RangeDelsOf(*sv)));
}

std::string DBImpl::profile_description() const {
  return fmt::format("{}, compaction {}", DescribeDiskProfile(profile_),
                     compaction_options_.style == CompactionStyle::kSizeTiered ? "size-tiered"
                                                                              : "leveled");
}

EngineStats DBImpl::Stats() const {
  EngineStats st;
  st.user_bytes_written = user_bytes_written_.load();
  st.wal_bytes_written = wal_ != nullptr ? wal_->stats().bytes_written : 0;
  st.flush_bytes_written = flush_bytes_written_.load();
  st.compaction_bytes_read = compaction_bytes_read_.load();
  st.compaction_bytes_written = compaction_bytes_written_.load();
  st.stall_micros = stall_micros_.load();
  std::shared_ptr<const SuperVersion> sv = GetSuperVersion();
  auto& p = st.properties;
  uint64_t table_entries = 0;
  for (int level = 0; level < kLevelCount; ++level) {
    for (const auto& f : sv->version->files(level)) table_entries += f->entry_count;
    p.emplace_back(fmt::format("lsm.level{}.files", level), sv->version->files(level).size());
    p.emplace_back(fmt::format("lsm.level{}.bytes", level), sv->version->LevelBytes(level));
  }
  size_t imm_bytes = 0;
  for (const auto& imm : sv->imms) imm_bytes += imm->ApproximateMemoryUsage();
  p.emplace_back("lsm.table_entries", table_entries);
  p.emplace_back("lsm.memtable.bytes", sv->mem->ApproximateMemoryUsage());
  p.emplace_back("lsm.immutable_memtables", sv->imms.size());
  p.emplace_back("lsm.immutable_memtables.bytes", imm_bytes);
  p.emplace_back("lsm.last_sequence", last_sequence_.load());
  p.emplace_back("lsm.flushes", flush_count_.load());
  if (write_rate_limiter_ != nullptr) {
    p.emplace_back("lsm.write_rate_limit.bytes_per_second",
                   write_rate_limiter_->bytes_per_second());
    p.emplace_back("lsm.write_rate_limit.bytes", write_rate_limiter_->bytes_requested());
    p.emplace_back("lsm.write_rate_limit.waits", write_rate_limiter_->waits());
    p.emplace_back("lsm.write_rate_limit.wait_micros", write_rate_limiter_->wait_micros());
  }
  {
    const TableCache::Counters tc = versions_->table_cache().counters();
    p.emplace_back("lsm.table_cache.capacity", versions_->table_cache().capacity());
    p.emplace_back("lsm.table_cache.hits", tc.hits);
    p.emplace_back("lsm.table_cache.opens", tc.opens);
    p.emplace_back("lsm.table_cache.evictions", tc.evictions);
    p.emplace_back("lsm.table_cache.cached", tc.cached);
    p.emplace_back("lsm.table_cache.open_tables", tc.alive);
  }
  p.emplace_back("lsm.compactions", compaction_count_.load());
  p.emplace_back("lsm.trivial_moves", trivial_move_count_.load());
  p.emplace_back("lsm.write_groups", write_groups_.load());
  p.emplace_back("lsm.profile.hdd", profile_.profile == DiskProfile::kHdd ? 1 : 0);
  p.emplace_back("lsm.compaction_style", static_cast<uint64_t>(compaction_options_.style));
  if (scrubber_ != nullptr) scrubber_->AppendProperties(&p);
  p.emplace_back("cache.hits", cache_->hits());
  p.emplace_back("cache.misses", cache_->misses());
  p.emplace_back("cache.usage_bytes", cache_->usage_bytes());
  p.emplace_back("bloom.negatives", bloom_negatives_.load());
  {
    std::lock_guard lock(snapshots_mu_);
    p.emplace_back("lsm.snapshots", snapshots_.size());
  }
  {
    std::lock_guard lock(mu_);
    p.emplace_back("lsm.background_errors", bg_error_count_);
    p.emplace_back("lsm.background_error.resumable",
                   !bg_error_.ok() && bg_error_resumable_ ? 1 : 0);
    st.background_error = bg_error_;
  }
  p.emplace_back("lsm.write_stalls", stall_count_.load());
  p.emplace_back("lsm.read_only", read_only_ ? 1 : 0);
  return st;
}

}  // namespace strata::lsm
