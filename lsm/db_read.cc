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
  SnapshotImpl(DBImpl* db, std::multiset<SequenceNumber>::iterator it) : db_(db), it_(it) {}
  ~SnapshotImpl() override { db_->ReleaseSnapshot(it_); }
  uint64_t sequence() const override { return *it_; }

 private:
  DBImpl* const db_;
  const std::multiset<SequenceNumber>::iterator it_;
};

std::unique_ptr<Snapshot> DBImpl::GetSnapshot() {
  std::lock_guard lock(mu_);
  auto it = snapshots_.insert(last_sequence_.load(std::memory_order_acquire));
  return std::make_unique<SnapshotImpl>(this, it);
}

void DBImpl::ReleaseSnapshot(std::multiset<SequenceNumber>::iterator it) {
  std::lock_guard lock(mu_);
  snapshots_.erase(it);
}

std::vector<SequenceNumber> DBImpl::LiveSnapshots() const {
  std::lock_guard lock(mu_);
  return std::vector<SequenceNumber>(snapshots_.begin(), snapshots_.end());
}

std::shared_ptr<const SuperVersion> DBImpl::GetSuperVersion() const {
  std::lock_guard lock(mu_);
  return super_version_;
}

SequenceNumber DBImpl::ReadSequence(const ReadOptions& options) const {
  if (options.snapshot != nullptr) return options.snapshot->sequence();
  return last_sequence_.load(std::memory_order_acquire);
}

Status DBImpl::GetInternal(const ReadOptions& options, std::string_view key, ValueType* type,
                           std::string* value) {
  if (key.size() > kKeyBytesMax) {
    return Status::InvalidArgument(fmt::format("key of {} bytes exceeds kKeyBytesMax", key.size()));
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
  bool found = sv->mem->Get(key, seq, type, value);
  for (size_t i = 0; !found && i < sv->imms.size(); ++i) {
    found = sv->imms[i]->Get(key, seq, type, value);
  }
  if (!found) {
    LookupStats stats;
    Status s = sv->version->Get(options, key, seq, &found, type, value, &stats);
    bloom_negatives_.fetch_add(stats.bloom_negatives, std::memory_order_relaxed);
    STRATA_RETURN_IF_ERROR(s);
  }
  if (!found || *type == ValueType::kDeletion) return Status::NotFound("key not found");
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
  // SuperVersion before sequence: see GetInternal.
  std::shared_ptr<const SuperVersion> sv = GetSuperVersion();
  const SequenceNumber seq = ReadSequence(options);
  std::vector<std::unique_ptr<InternalIterator>> children;
  children.push_back(sv->mem->NewIterator());
  for (const auto& imm : sv->imms) children.push_back(imm->NewIterator());
  sv->version->AddIterators(options, &children);
  return NewDBIterator(sv, NewMergingIterator(std::move(children)), seq, options.upper_bound);
}

std::string DBImpl::profile_description() const {
  return fmt::format("{} ({}), compaction {}",
                     profile_.profile == DiskProfile::kHdd ? "hdd" : "ssd", profile_.reason,
                     compaction_options_.style == CompactionStyle::kSizeTiered ? "size-tiered"
                                                                              : "leveled");
}

EngineStats DBImpl::Stats() const {
  EngineStats st;
  st.user_bytes_written = user_bytes_written_.load();
  st.wal_bytes_written = wal_->stats().bytes_written;
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
  p.emplace_back("lsm.compactions", compaction_count_.load());
  p.emplace_back("lsm.trivial_moves", trivial_move_count_.load());
  p.emplace_back("lsm.write_groups", write_groups_.load());
  p.emplace_back("lsm.profile.hdd", profile_.profile == DiskProfile::kHdd ? 1 : 0);
  p.emplace_back("lsm.compaction_style", static_cast<uint64_t>(compaction_options_.style));
  p.emplace_back("cache.hits", cache_->hits());
  p.emplace_back("cache.misses", cache_->misses());
  p.emplace_back("cache.usage_bytes", cache_->usage_bytes());
  p.emplace_back("bloom.negatives", bloom_negatives_.load());
  {
    std::lock_guard lock(mu_);
    p.emplace_back("lsm.snapshots", snapshots_.size());
  }
  return st;
}

}  // namespace strata::lsm
