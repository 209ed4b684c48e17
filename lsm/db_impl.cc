// DBImpl: open, recovery, the write path and the background threads.
// Reads, snapshots, stats and checkpoints are in db_read.cc.
#include "lsm/db_impl.h"

#include <fmt/core.h>

#include <algorithm>
#include <chrono>

#include "core/assert.h"
#include "io/disk_detect.h"
#include "lsm/info_log.h"
#include "lsm/lsm_engine.h"
#include "wal/format.h"
#include "wal/inspect.h"
#include "wal/limits.h"
#include "wal/wal_dir.h"

namespace strata::lsm {

namespace {

// Backpressure (L0 files, or size-tiered runs): writes slow down by
// kSlowdown each at Options::l0_slowdown_writes_trigger and wait at
// Options::l0_stop_writes_trigger.
constexpr auto kSlowdown = std::chrono::milliseconds(1);
// Full memtables waiting for the flush thread before writers wait.
constexpr size_t kImmutableMemTablesMax = 1;
// Options::memtable_bytes is the budget of all memtables together: each of
// the (at most) kMemTablesMax live ones is switched at an equal share, so
// that one can fill while the other is flushed (a switch at the full budget
// would leave the next memtable no room and stall every flush).
constexpr size_t kMemTablesMax = kImmutableMemTablesMax + 1;
// Arena blocks are this fraction of a memtable (within the Arena's limits).
constexpr size_t kArenaBlocksPerMemTable = 16;
// A write group stops growing at this many bytes (a small leader batch
// gets a smaller group so that its latency stays low).
constexpr size_t kGroupBytesMax = 1 << 20;
constexpr size_t kGroupBytesSmallLeader = 128 << 10;
// Smallest memtable budget accepted (below it, nearly every write would
// switch: a memtable share is kMemTableBytesMin / kMemTablesMax).
constexpr size_t kMemTableBytesMin = 16 * 1024;
constexpr size_t kBlockBytesSsd = 4 * 1024;
constexpr size_t kBlockBytesHdd = 64 * 1024;
// Read-ahead per miss of a compaction input on the hdd profile (MakeJobContext).
constexpr size_t kCompactionReadaheadBytesHdd = 2 * 1024 * 1024;

size_t ArenaBlockBytes(size_t memtable_switch_bytes) {
  return std::clamp<size_t>(memtable_switch_bytes / kArenaBlocksPerMemTable, 1,
                            Arena::kBlockBytesMax);
}

static_assert(wal::RecordBytes(kWriteBatchBytesMax) <=
                  wal::SegmentRecordSpace(kWalSegmentBytesForMaxBatch),
              "kWalSegmentBytesForMaxBatch holds a maximal batch");
static_assert(kWalSegmentBytesForMaxBatch % wal::kDirectBlockBytes == 0);

// WAL segments roll over at this share of the memtable budget, so that a
// flush releases whole segments soon after their memtable is flushed (a
// memtable becomes immutable at memtable_bytes / 2: about four segments each)
// and at most one partly live segment stays behind.
constexpr uint64_t kWalSegmentsPerMemTableBudget = 8;
// Segment files grow in this many steps up to the roll-over size: one
// metadata sync per step.
constexpr uint64_t kWalChunksPerSegment = 8;

uint64_t WalSegmentTargetBytes(const Options& options) {
  const uint64_t target = wal::AlignDown(options.memtable_bytes / kWalSegmentsPerMemTableBudget,
                                         wal::kDirectBlockBytes);
  return std::clamp<uint64_t>(target, wal::kSegmentBytesMin,
                              std::max(wal::kSegmentBytesMin, options.wal_segment_bytes));
}

uint64_t WalSegmentChunkBytes(uint64_t target_bytes) {
  return std::max(wal::kDirectBlockBytes,
                  wal::AlignDown(target_bytes / kWalChunksPerSegment, wal::kDirectBlockBytes));
}

uint64_t MicrosSince(std::chrono::steady_clock::time_point start) {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                   std::chrono::steady_clock::now() - start)
                                   .count());
}

// Applies a batch to a memtable with consecutive sequence numbers.
class MemTableInserter final : public WriteBatch::Handler {
 public:
  MemTableInserter(SequenceNumber first, MemTable* mem) : seq_(first), mem_(mem) {}
  Status OnPut(std::string_view key, std::string_view value) override {
    mem_->Add(seq_++, ValueType::kValue, key, value);
    return Status::Ok();
  }
  Status OnDelete(std::string_view key) override {
    mem_->Add(seq_++, ValueType::kDeletion, key, {});
    return Status::Ok();
  }
  Status OnPutVersioned(std::string_view key, uint64_t version, std::string_view value) override {
    scratch_.clear();
    PutFixed64(&scratch_, version);
    scratch_.append(value);
    mem_->Add(seq_++, ValueType::kVersionedValue, key, scratch_);
    return Status::Ok();
  }
  Status OnDeleteRange(std::string_view begin, std::string_view end) override {
    mem_->AddRangeTombstone(seq_++, begin, end);
    return Status::Ok();
  }

 private:
  SequenceNumber seq_;
  MemTable* mem_;
  std::string scratch_;
};

// Tables that are not bottommost (flushes, compactions with data below) use
// the cheaper-to-read upper_level_compression; see Options.
Compression UpperLevelCompression(const Options& options) {
  return options.compression == Compression::kNone ? Compression::kNone
                                                   : options.upper_level_compression;
}

}  // namespace

struct DBImpl::Writer {
  const WriteBatch* batch = nullptr;  // null: force a memtable switch
  bool sync = false;
  bool done = false;
  Status status;
  std::condition_variable cv;
};

Status OpenLsmEngine(const Options& options, const std::string& path,
                     std::unique_ptr<Engine>* engine) {
  return DBImpl::Open(options, path, engine);
}

DBImpl::DBImpl(const Options& options, std::string path, std::shared_ptr<io::FileSystem> fs,
               ResolvedDiskProfile profile)
    : options_(options), read_only_(options.read_only), path_(std::move(path)),
      fs_(std::move(fs)),
      profile_(std::move(profile)), memtable_switch_bytes_(options.memtable_bytes / kMemTablesMax),
      arena_block_bytes_(ArenaBlockBytes(memtable_switch_bytes_)), picker_([&] {
        CompactionOptions c;
        c.style = options.compaction_style;
        if (c.style == CompactionStyle::kProfileDefault) {
          c.style = profile_.profile == DiskProfile::kHdd ? CompactionStyle::kSizeTiered
                                                          : CompactionStyle::kLeveled;
        }
        c.target_file_bytes =
            options.target_file_bytes != 0 ? options.target_file_bytes : options.memtable_bytes;
        c.level1_target_bytes = 4 * static_cast<uint64_t>(options.memtable_bytes);
        c.l0_compaction_trigger = options.l0_compaction_trigger;
        c.tiered_run_count_trigger = options.l0_compaction_trigger;
        return c;
      }()) {
  compaction_options_ = picker_.options();
  table_options_.block_bytes = options.block_bytes != 0 ? options.block_bytes
                               : profile_.profile == DiskProfile::kHdd ? kBlockBytesHdd
                                                                        : kBlockBytesSsd;
  table_options_.bloom_bits_per_key = options.bloom_bits_per_key;
  // (Out-of-range segment sizes are refused by wal::Log::Open.)
  wal_payload_bytes_max_ = options.wal_segment_bytes >= wal::kSegmentBytesMin
                               ? wal::SegmentPayloadBytesMax(options.wal_segment_bytes)
                               : 0;
  table_options_.compression = options.compression;
  table_options_.zstd_level = options.zstd_level;
  table_options_.compression_min_savings = options.compression_min_savings;
}

Status DBImpl::Open(const Options& options, const std::string& path,
                    std::unique_ptr<Engine>* engine) {
  if (options.memtable_bytes < kMemTableBytesMin) {
    return Status::InvalidArgument(fmt::format("memtable_bytes {} is below the minimum {}",
                                               options.memtable_bytes, kMemTableBytesMin));
  }
  if (options.bloom_bits_per_key < 0 || options.compression_min_savings < 0 ||
      options.compression_min_savings >= 1) {
    return Status::InvalidArgument("bloom_bits_per_key or compression_min_savings out of range");
  }
  if (options.l0_compaction_trigger < 1 || options.block_cache_shard_bits < 0 ||
      options.block_cache_shard_bits > kBlockCacheShardBitsMax) {
    return Status::InvalidArgument(fmt::format(
        "l0_compaction_trigger {} (at least 1) or block_cache_shard_bits {} (0..{}) out of range",
        options.l0_compaction_trigger, options.block_cache_shard_bits, kBlockCacheShardBitsMax));
  }
  if (options.l0_slowdown_writes_trigger < 1 ||
      options.l0_stop_writes_trigger < options.l0_slowdown_writes_trigger) {
    return Status::InvalidArgument(
        fmt::format("need 1 <= l0_slowdown_writes_trigger {} <= l0_stop_writes_trigger {}",
                    options.l0_slowdown_writes_trigger, options.l0_stop_writes_trigger));
  }
  if (options.info_log_bytes_max == 0) return Status::InvalidArgument("info_log_bytes_max is 0");
  std::shared_ptr<io::FileSystem> fs =
      options.file_system ? options.file_system : io::DefaultFileSystem();
  // Read-only or create_if_missing false: nothing is created (Recover
  // reports a missing database).
  if (!options.read_only && options.create_if_missing) {
    STRATA_RETURN_IF_ERROR(fs->CreateDir(path));
  }
  ResolvedDiskProfile profile;
  io::DetectOptions detect;
  detect.allow_probe = !options.read_only;  // the probe writes a scratch file
  STRATA_RETURN_IF_ERROR(io::ResolveDiskProfile(fs.get(), options.profile, path, detect, &profile));
  std::unique_ptr<DBImpl> db(new DBImpl(options, path, fs, std::move(profile)));
  if (options.background_write_bytes_per_second > 0) {
    db->write_rate_limiter_ =
        std::make_shared<io::WriteRateLimiter>(options.background_write_bytes_per_second);
  }
  const auto start = std::chrono::steady_clock::now();
  db->info_log_ = options.info_log;
  if (db->info_log_ == nullptr && !options.read_only) {
    // Best effort, as every info log write: a database opens without its LOG.
    (void)FileInfoLogger::Open(fs, path, options.info_log_bytes_max, &db->info_log_);
  }
  InfoLog(db->info_log_.get(), "open {}{}: profile {}", path,
          options.read_only ? " (read-only)" : "", db->profile_description());
  Status s = db->Recover();
  if (!s.ok()) {
    InfoLog(db->info_log_.get(), "open failed: {}", s.ToString());
    return s;
  }
  InfoLog(db->info_log_.get(),
          "recovered in {} us: last sequence {}, wal lsn {}, {} immutable memtables, {} tables",
          MicrosSince(start), db->last_sequence_.load(), db->versions_->wal_lsn(),
          db->imms_.size(), db->versions_->LiveFiles().size());
  if (options.read_only) {
    *engine = std::move(db);
    return Status::Ok();
  }
  // After recovery, so that a crash never leaves PROFILE alone in a new
  // directory. Best effort: without it the next open detects again.
  s = io::PersistDiskProfile(fs.get(), path, db->profile_);
  if (!s.ok()) InfoLog(db->info_log_.get(), "profile not stored: {}", s.ToString());
  db->flush_thread_ = std::thread([d = db.get()] { d->FlushThread(); });
  db->compaction_thread_ = std::thread([d = db.get()] { d->CompactionThread(); });
  {
    std::lock_guard lock(db->mu_);
    db->compact_cv_.notify_one();
  }
  db->StartScrubber();
  *engine = std::move(db);
  return Status::Ok();
}

Status DBImpl::Recover() {
  if (read_only_) {
    // No lock file (it would be a write): a process writing the database
    // meanwhile may delete files this one reads.
    wal::WalHandover handover;
    STRATA_RETURN_IF_ERROR(
        wal::ResolveWalDir(fs_.get(), path_, options_.wal_dir, &wal_dir_, &handover));
    // An install's WAL handover not done yet: the state's own WAL is still
    // inside it (and holds nothing its tables lack).
    if (handover.pending) wal_dir_ = io::JoinPath(path_, "wal");
    cache_ = std::make_unique<BlockCache>(options_.block_cache_bytes);
    versions_ = std::make_unique<VersionSet>(fs_, path_, table_options_, cache_.get(),
                                             VersionSet::kManifestRolloverBytesDefault,
                                             ResolveMaxOpenFiles(options_.max_open_files),
                                             wal_dir_);
    STRATA_RETURN_IF_ERROR(versions_->RecoverReadOnly());
    STRATA_RETURN_IF_ERROR(ReplayWalReadOnly());
    std::lock_guard lock(mu_);
    InstallSuperVersionLocked();
    return Status::Ok();
  }
  STRATA_RETURN_IF_ERROR(fs_->Lock(io::JoinPath(path_, kLockFileName), &lock_file_));
  cache_ = std::make_unique<BlockCache>(
      options_.block_cache_bytes,
      BlockCacheShardBitsFor(options_.block_cache_bytes, table_options_.block_bytes,
                             options_.block_cache_shard_bits));
  wal::WalHandover handover;
  STRATA_RETURN_IF_ERROR(
      wal::ResolveWalDir(fs_.get(), path_, options_.wal_dir, &wal_dir_, &handover));
  versions_ = std::make_unique<VersionSet>(fs_, path_, table_options_, cache_.get(),
                                           options_.manifest_rollover_bytes,
                                           ResolveMaxOpenFiles(options_.max_open_files),
                                           wal_dir_);
  STRATA_RETURN_IF_ERROR(versions_->Recover(options_.create_if_missing));
  STRATA_RETURN_IF_ERROR(wal::PrepareWalDir(fs_.get(), path_, wal_dir_, handover));
  wal::LogOptions log_options;
  log_options.file_system = fs_;
  log_options.segment_bytes = options_.wal_segment_bytes;
  log_options.direct_io = options_.use_direct_io.value_or(false);
  log_options.recovery = options_.wal_recovery;
  // No zeros written (see docs/ARCHITECTURE.md, "LSM write amplification"):
  // zero-filling writes each segment's size in zeros before any record. A new
  // log's segments are fallocated; once flushes release segments, they are
  // recycled, and recycled segments (fully written before) give fdatasyncs
  // without extent conversions, which is what synced writes want.
  log_options.preparation = wal::SegmentPreparation::kRecycleElseFallocate;
  // Segments sized to the memtables (FORMAT.md, "Segment sizes"): a flush
  // releases whole segments, so small ones go soon after the memtable whose
  // records they hold; files grow by chunks, and one released segment is
  // kept for reuse.
  log_options.segment_target_bytes = WalSegmentTargetBytes(options_);
  log_options.segment_chunk_bytes = WalSegmentChunkBytes(log_options.segment_target_bytes);
  log_options.recycled_segments_max = 1;
  STRATA_RETURN_IF_ERROR(ReplayWal(log_options, handover.pending));
  if (handover.pending) STRATA_RETURN_IF_ERROR(wal::FinishWalHandover(fs_.get(), path_));
  {
    std::lock_guard lock(mu_);
    InstallSuperVersionLocked();
  }
  DeleteObsoleteFiles();
  return Status::Ok();
}

// Opens the WAL and replays it in one pass over the disk (the recovery scan
// hands each verified record over as it reads).
Status DBImpl::ReplayWal(const wal::LogOptions& log_options, bool fresh_wal) {
  SequenceNumber last = versions_->last_sequence();
  mem_ = NewMemTable(versions_->wal_lsn());
  auto apply = [&](uint64_t lsn, std::string_view payload) -> Status {
    return ApplyWalRecord(lsn, payload, &last);
  };
  STRATA_RETURN_IF_ERROR(OpenWalAtManifestPosition(log_options, apply, fresh_wal));
  last_sequence_.store(last, std::memory_order_release);
  return Status::Ok();
}

// The manifest's WAL position (wal_lsn) says that every record below it is in
// tables and that the WAL had reached it. A WAL that holds no segment at all
// after a flush, or whose oldest record lies above that position while newer
// records exist, lost acknowledged records: Corruption. A WAL that ends below
// the position lost only records already flushed (written unsynced before
// the memtable switch, then cut by a power loss): its numbering continues at
// the position, so that new records are never below it (replay would skip
// them). A fresh WAL (a snapshot install's handover, wal/wal_dir.h) starts
// at the position.
Status DBImpl::OpenWalAtManifestPosition(const wal::LogOptions& log_options,
                                         const wal::Log::ReplayFn& apply, bool fresh_wal) {
  const std::string& wal_dir = wal_dir_;
  const uint64_t wal_lsn = versions_->wal_lsn();
  if (wal_lsn > 1 && !fresh_wal) {
    bool any_segment = false;
    STRATA_RETURN_IF_ERROR(wal::HasSegmentFile(fs_.get(), wal_dir, &any_segment));
    if (!any_segment) {
      return Status::Corruption(fmt::format(
          "{}: no WAL segment, but the manifest records that the WAL reached lsn {} (the WAL "
          "was lost: writes after the last flush are missing)",
          wal_dir, wal_lsn));
    }
  }
  STRATA_RETURN_IF_ERROR(wal::Log::OpenAndReplay(log_options, wal_dir, wal_lsn, apply, &wal_));
  const uint64_t oldest = wal_->ReleaseBoundary(0);  // next_lsn() when it holds no record
  if (wal_->next_lsn() > wal_lsn && oldest > std::max<uint64_t>(wal_lsn, 1)) {
    return Status::Corruption(fmt::format(
        "{}: WAL records {}..{} are missing (the manifest needs replay from lsn {}; the oldest "
        "WAL segment starts at lsn {})",
        wal_dir, std::max<uint64_t>(wal_lsn, 1), oldest - 1, wal_lsn, oldest));
  }
  return wal_->ContinueAt(wal_lsn);
}

// Read-only replay: reads the WAL like recovery does (wal::InspectPath) but
// changes nothing on disk; a torn tail ends the log, other damage is
// Corruption in strict mode and ends the log in point-in-time mode.
Status DBImpl::ReplayWalReadOnly() {
  SequenceNumber last = versions_->last_sequence();
  const uint64_t from_lsn = versions_->wal_lsn();
  mem_ = NewMemTable(from_lsn);
  Status apply_status;
  bool stopped = false;
  wal::InspectCallbacks callbacks;
  callbacks.on_record = [&](const wal::InspectedRecord& r) {
    if (stopped || !apply_status.ok() || r.lsn < from_lsn) return;
    apply_status = ApplyWalRecord(r.lsn, r.payload, &last);
  };
  callbacks.on_segment_end = [&](const wal::InspectedSegment& seg) {
    stopped = stopped || !seg.header_status.ok() || seg.scan.damaged || seg.scan.valid_after;
  };
  wal::InspectResult result;
  Status s = wal::InspectPath(fs_.get(), wal_dir_, callbacks, &result);
  if (s.IsNotFound()) s = Status::Ok();  // no WAL segments: nothing to replay
  STRATA_RETURN_IF_ERROR(s);
  STRATA_RETURN_IF_ERROR(apply_status);
  if (result.corrupt && options_.wal_recovery == WalRecoveryMode::kStrict) {
    return Status::Corruption(fmt::format("{} @ {}: {}", result.corrupt_file,
                                          result.corrupt_offset, result.corrupt_reason));
  }
  last_sequence_.store(last, std::memory_order_release);
  return Status::Ok();
}

// As ReplayWal's apply step: one WAL record into the memtables.
Status DBImpl::ApplyWalRecord(uint64_t lsn, std::string_view payload, SequenceNumber* last) {
  std::string rep;
  Status s = DecodeWalPayload(payload, "payload", &rep);
  if (!s.ok()) return Status::Corruption(fmt::format("wal record lsn {}: {}", lsn, s.message()));
  Result<WriteBatch> batch = WriteBatch::FromRep(std::move(rep));
  if (!batch.ok()) {
    return Status::Corruption(
        fmt::format("wal record lsn {}: {}", lsn, batch.status().message()));
  }
  // A checksum proves the record is as written, not that the writer was
  // right: sequence numbers have 56 bits, and 0 is below every write.
  if (batch->Count() > 0 &&
      (batch->sequence() == 0 || batch->sequence() > kMaxSequenceNumber - (batch->Count() - 1))) {
    return Status::Corruption(fmt::format(
        "wal record lsn {}: batch of {} entries at sequence {} is outside 1..{}", lsn,
        batch->Count(), batch->sequence(), kMaxSequenceNumber));
  }
  if (mem_->ApproximateMemoryUsage() >= memtable_switch_bytes_) {
    // Too much to hold in one memtable: the flush thread writes the full
    // ones once the engine runs. (A long WAL can hold more than the budget
    // here, until the flush thread has written them.)
    imm_bytes_ += mem_->ApproximateMemoryUsage();
    imms_.insert(imms_.begin(), std::move(mem_));
    mem_ = NewMemTable(lsn);
  }
  MemTableInserter inserter(batch->sequence(), mem_.get());
  STRATA_RETURN_IF_ERROR(batch->Iterate(&inserter));
  if (batch->Count() > 0) *last = std::max(*last, batch->sequence() + batch->Count() - 1);
  return Status::Ok();
}

DBImpl::~DBImpl() {
  // Without Close the error of the final sync has nowhere to go.
  if (!closed_.load(std::memory_order_acquire)) (void)Close();
  // Iterators and snapshots point into the engine: one that outlives it
  // would be a use-after-free (the Engine contract forbids it).
  STRATA_ASSERT(live_iterators_.load() == 0);
  STRATA_ASSERT(live_snapshots_.load() == 0);
}

// No writer is active any more (the caller's contract).
Status DBImpl::Close() {
  if (closed_.exchange(true, std::memory_order_acq_rel)) {
    return Status::InvalidArgument("Close: the engine is already closed");
  }
  if (scrubber_ != nullptr) scrubber_->Stop();
  // Log what is buffered and sync, so that a clean close loses nothing.
  Status s = wal_ != nullptr ? FlushWalBuffer(true) : Status::Ok();
  {
    std::lock_guard lock(mu_);
    shutting_down_ = true;
    flush_cv_.notify_all();
    compact_cv_.notify_all();
    bg_cv_.notify_all();
  }
  if (flush_thread_.joinable()) flush_thread_.join();
  if (compaction_thread_.joinable()) compaction_thread_.join();
  {
    // After the joins: a flush or compaction that fails while Close waits
    // for it is reported too.
    std::lock_guard lock(mu_);
    if (s.ok()) s = bg_error_;
  }
  // Unflushed memtables are in the WAL (synced above). Another engine may
  // open the directory now.
  wal_.reset();
  lock_file_.reset();
  InfoLog(info_log_.get(), "close: {}", s.ok() ? std::string("ok") : s.ToString());
  return s;
}

Status DBImpl::CheckWritable() const {
  if (closed_.load(std::memory_order_acquire)) {
    return Status::InvalidArgument("the engine is closed");
  }
  if (read_only_) return Status::NotSupported("the database is open read-only");
  return Status::Ok();
}

// A WAL error is never resumable: the log may hold a partial record and has
// failed for good (wal::Log), and an fdatasync error may have dropped data
// the kernel had accepted (a retry could report success for lost bytes). A
// failed manifest write may have left a partial record behind. A failed
// table write (write, or the fdatasync of the new table) only abandons that
// table: the retry writes a new file.
Status DBImpl::Resume() {
  STRATA_RETURN_IF_ERROR(CheckWritable());
  {
    std::lock_guard lock(mu_);
    if (bg_error_.ok()) return Status::Ok();
    if (!bg_error_resumable_) {
      return bg_error_.WithContext("not resumable, reopen the database");
    }
    InfoLog(info_log_.get(), "resume after: {}", bg_error_.ToString());
    bg_error_ = Status::Ok();
    flush_cv_.notify_all();
    compact_cv_.notify_all();
    bg_cv_.notify_all();
  }
  return WaitForImmutablesFlushed();
}

Status DBImpl::Put(const WriteOptions& options, std::string_view key, std::string_view value) {
  WriteBatch batch;
  STRATA_RETURN_IF_ERROR(batch.Put(key, value));
  return Write(options, batch);
}

Status DBImpl::Delete(const WriteOptions& options, std::string_view key) {
  WriteBatch batch;
  STRATA_RETURN_IF_ERROR(batch.Delete(key));
  return Write(options, batch);
}

Status DBImpl::Write(const WriteOptions& options, const WriteBatch& batch) {
  STRATA_RETURN_IF_ERROR(CheckWritable());
  STRATA_RETURN_IF_ERROR(batch.status());  // e.g. a refused DeleteRange
  if (batch.Count() == 0) return Status::Ok();
  if (batch.ApproximateSize() > wal_payload_bytes_max_) {
    return Status::InvalidArgument(fmt::format(
        "write batch of {} bytes does not fit one WAL record ({} bytes with wal_segment_bytes {})",
        batch.ApproximateSize(), wal_payload_bytes_max_, options_.wal_segment_bytes));
  }
  return WriteImpl(options, &batch);
}

Status DBImpl::WriteImpl(const WriteOptions& options, const WriteBatch* batch) {
  STRATA_RETURN_IF_ERROR(CheckWritable());
  Writer w;
  w.batch = batch;
  w.sync = options.sync;
  std::unique_lock lock(mu_);
  writers_.push_back(&w);
  while (!w.done && &w != writers_.front()) w.cv.wait(lock);
  if (w.done) return w.status;

  Status s = MakeRoomForWrite(lock, batch == nullptr);
  Writer* last_writer = &w;
  if (s.ok() && batch != nullptr) {
    WriteBatch* group = BuildBatchGroup(&last_writer);
    const SequenceNumber first = last_sequence_.load(std::memory_order_relaxed) + 1;
    group->set_sequence(first);
    const uint32_t count = group->Count();
    bool sync = false;
    for (Writer* x : writers_) {
      sync = sync || x->sync;
      if (x == last_writer) break;
    }
    MemTable* mem = mem_.get();
    // Only the leader touches the WAL and the memtable, so the lock can go:
    // new writers queue up behind us meanwhile.
    lock.unlock();
    s = LogGroup(*group, sync);
    if (s.ok()) {
      MemTableInserter inserter(first, mem);
      s = group->Iterate(&inserter);
    }
    lock.lock();
    if (s.ok()) {
      NoteMemTableBytesLocked();
      last_sequence_.store(first + count - 1, std::memory_order_release);
      write_groups_.fetch_add(1, std::memory_order_relaxed);
    } else {
      // A failed WAL append may have left a partial record; no later write
      // may be acknowledged on top of it. (Oversized input is refused
      // before it reaches the WAL, so this is an I/O failure.)
      SetBackgroundErrorLocked(s, false);
    }
  }
  while (true) {
    Writer* ready = writers_.front();
    writers_.pop_front();
    if (ready != &w) {
      ready->status = s;
      ready->done = true;
      ready->cv.notify_one();
    }
    if (ready == last_writer) break;
  }
  if (!writers_.empty()) writers_.front()->cv.notify_one();
  if (s.ok() && batch != nullptr) {
    user_bytes_written_.fetch_add(batch->ApproximateSize() - WriteBatch::kHeaderBytes,
                                  std::memory_order_relaxed);
  }
  return s;
}

// REQUIRES: mu_ held; this writer is the queue head with a non-null batch.
// The group is always a copy (group_batch_): the callers' batches are const
// and the sequence number is written into the copy's header.
WriteBatch* DBImpl::BuildBatchGroup(Writer** last_writer) {
  Writer* first = writers_.front();
  size_t bytes = first->batch->ApproximateSize();
  const size_t bytes_max =
      bytes <= kGroupBytesSmallLeader / 8 ? kGroupBytesSmallLeader : kGroupBytesMax;
  group_batch_.Clear();
  // Cannot fail: one batch always fits the batch limits.
  const Status appended = group_batch_.Append(*first->batch);
  STRATA_ASSERT(appended.ok());
  *last_writer = first;
  for (size_t i = 1; i < writers_.size(); ++i) {
    Writer* w = writers_[i];
    // A sync write must not ride in a group whose leader does not sync, and
    // a memtable switch request ends the group.
    if ((w->sync && !first->sync) || w->batch == nullptr) break;
    bytes += w->batch->ApproximateSize();
    if (bytes > bytes_max || bytes > wal_payload_bytes_max_) break;
    if (!group_batch_.Append(*w->batch).ok()) break;
    *last_writer = w;
  }
  return &group_batch_;
}

// Leader only. By default (Options::wal_buffer_bytes == 0) every group is
// one WAL record written before the group's writers return: the bytes are in
// the kernel, so a process crash loses no acknowledged write (only a machine
// crash may lose writes without sync). The group commit still writes many
// writers' batches with one WAL write.
//
// With wal_buffer_bytes > 0, groups that need no sync are gathered in
// wal_buffer_ and logged as one WAL record once it reaches wal_buffer_bytes,
// together with the next sync write, at a memtable switch, and at Close.
// Their sequence numbers are consecutive, so the buffer is itself one valid
// batch rep. A process crash may then lose the buffer (a suffix of the
// unsynced writes, never a hole); what it saves is one WAL write per small
// write.
Status DBImpl::LogGroup(const WriteBatch& group, bool sync) {
  const size_t buffer_bytes = options_.wal_buffer_bytes;
  const size_t buffered = wal_buffer_.Count() == 0 ? 0 : wal_buffer_.ApproximateSize();
  if (buffer_bytes > 0 && buffered + group.ApproximateSize() <= wal_payload_bytes_max_ &&
      (buffered == 0 ? (!sync && group.ApproximateSize() < buffer_bytes) : true)) {
    if (buffered == 0) {
      wal_buffer_.Clear();
      STRATA_RETURN_IF_ERROR(wal_buffer_.Append(group));
      wal_buffer_.set_sequence(group.sequence());
    } else {
      STRATA_RETURN_IF_ERROR(wal_buffer_.Append(group));
    }
    if (!sync && wal_buffer_.ApproximateSize() < buffer_bytes) return Status::Ok();
    return FlushWalBuffer(sync);
  }
  STRATA_RETURN_IF_ERROR(FlushWalBuffer(false));
  Result<uint64_t> lsn = wal_->Append(wal_codec_.Encode(group.rep()), sync);
  return lsn.ok() ? Status::Ok() : lsn.status();
}

// Leader only (or Close): logs the buffered groups. Never called with mu_
// held: readers must not wait for the disk.
Status DBImpl::FlushWalBuffer(bool sync) {
  if (wal_buffer_.Count() == 0) return sync ? wal_->Sync() : Status::Ok();
  Result<uint64_t> lsn = wal_->Append(wal_codec_.Encode(wal_buffer_.rep()), sync);
  wal_buffer_.Clear();
  return lsn.ok() ? Status::Ok() : lsn.status();
}

// REQUIRES: mu_ held by `lock`; the caller is the write leader.
Status DBImpl::MakeRoomForWrite(std::unique_lock<std::mutex>& lock, bool force) {
  bool allow_delay = !force;
  bool stalled = false;
  const auto start = std::chrono::steady_clock::now();
  Status s;
  while (true) {
    const size_t l0_files = super_version_.Get()->version->files(0).size();
    if (!bg_error_.ok()) {
      s = bg_error_;
      break;
    }
    if (shutting_down_) {
      s = Status::IOError("engine is closing");
      break;
    }
    if (allow_delay && l0_files >= static_cast<size_t>(options_.l0_slowdown_writes_trigger)) {
      // Give compaction some room once per write rather than stalling hard.
      stalled = true;
      lock.unlock();
      std::this_thread::sleep_for(kSlowdown);
      lock.lock();
      allow_delay = false;
      continue;
    }
    if (!force && mem_->ApproximateMemoryUsage() < memtable_switch_bytes_) break;
    if (force && mem_->entry_count() == 0) break;
    if (imms_.size() >= kImmutableMemTablesMax ||
        l0_files >= static_cast<size_t>(options_.l0_stop_writes_trigger)) {
      // The memtable budget is spent (or L0 is full): wait for a flush.
      stalled = true;
      writer_waiting_for_room_ = true;
      bg_cv_.wait(lock);
      writer_waiting_for_room_ = false;
      continue;
    }
    if (wal_buffer_.Count() > 0) {
      // The buffered WAL records belong to the memtable being retired: they
      // must get LSNs below the new memtable's first one. The write goes
      // without mu_ (readers must not wait for the disk); as the leader we
      // are the only one touching the WAL, and the loop looks again at what
      // changed meanwhile.
      lock.unlock();
      s = FlushWalBuffer(false);
      lock.lock();
      if (!s.ok()) {
        SetBackgroundErrorLocked(s, false);
        break;
      }
      continue;
    }
    SwitchMemTableLocked();
    force = false;
  }
  if (stalled) {
    const uint64_t micros = MicrosSince(start);
    stall_micros_.fetch_add(micros, std::memory_order_relaxed);
    stall_count_.fetch_add(1, std::memory_order_relaxed);
    InfoLog(info_log_.get(), "write stall: {} us (level-0 files {}, immutable memtables {})",
            micros, super_version_.Get()->version->files(0).size(), imms_.size());
  }
  return s;
}

// REQUIRES: mu_ held; no WAL append in flight (the caller leads the queue).
void DBImpl::SwitchMemTableLocked() {
  imm_bytes_ += mem_->ApproximateMemoryUsage();
  imms_.insert(imms_.begin(), std::move(mem_));
  mem_ = NewMemTable(wal_->next_lsn());
  InstallSuperVersionLocked();
  flush_cv_.notify_one();
}

std::shared_ptr<MemTable> DBImpl::NewMemTable(uint64_t wal_lsn_start) const {
  return std::make_shared<MemTable>(wal_lsn_start, arena_block_bytes_);
}

void DBImpl::NoteMemTableBytesLocked() {
  const size_t bytes = mem_->ApproximateMemoryUsage() + imm_bytes_;
  if (bytes > memtable_bytes_peak_) memtable_bytes_peak_ = bytes;
}

DBImpl::MemTableMemory DBImpl::memtable_memory() const {
  std::lock_guard lock(mu_);
  MemTableMemory m;
  m.bytes = mem_->ApproximateMemoryUsage() + imm_bytes_;
  m.bytes_peak = std::max(memtable_bytes_peak_, m.bytes);
  m.switch_bytes = memtable_switch_bytes_;
  m.writer_waiting = writer_waiting_for_room_;
  return m;
}

void DBImpl::InstallSuperVersionLocked() {
  auto sv = std::make_shared<SuperVersion>();
  sv->mem = mem_;
  sv->imms = imms_;
  sv->version = versions_->current();
  super_version_.Install(std::move(sv));
}

void DBImpl::SetBackgroundErrorLocked(const Status& s, bool resumable) {
  if (bg_error_.ok()) {
    bg_error_ = s;
    bg_error_resumable_ = resumable;
    ++bg_error_count_;
    InfoLog(info_log_.get(), "background error ({}): {}; writes stop",
            resumable ? "resumable" : "reopen to recover", s.ToString());
  } else if (!resumable) {
    bg_error_resumable_ = false;  // one unresumable cause makes it all so
  }
  bg_cv_.notify_all();
}

// Allocated under mu_, so DeleteObsoleteFiles sees each number either in
// pending_outputs_ or at/after its number limit.
uint64_t DBImpl::NewPendingFileNumber() {
  std::lock_guard lock(mu_);
  const uint64_t number = versions_->NewFileNumber();
  pending_outputs_.insert(number);
  return number;
}

JobContext DBImpl::MakeJobContext(uint64_t target_file_bytes) {
  JobContext ctx;
  ctx.fs = fs_.get();
  ctx.versions = versions_.get();
  ctx.table_options = table_options_;
  ctx.target_file_bytes = target_file_bytes;
  ctx.direct_io = options_.use_direct_io.value_or(profile_.profile == DiskProfile::kHdd);
  // A compaction merging N inputs alternates between them: on a disk every
  // switch is a seek, so each read should transfer at least as long as the
  // seek it follows (2 MiB: ~14 ms at 150 MB/s against ~8 ms positioning).
  // An SSD needs only enough to use its channels: the adaptive read-ahead.
  ctx.compaction_readahead_bytes =
      profile_.profile == DiskProfile::kHdd ? kCompactionReadaheadBytesHdd : 0;
  ctx.new_file_number = [this] { return NewPendingFileNumber(); };
  ctx.snapshots = LiveSnapshots();
  ctx.write_rate_limiter = write_rate_limiter_;
  return ctx;
}

void DBImpl::FlushThread() {
  std::unique_lock lock(mu_);
  while (true) {
    flush_cv_.wait(lock, [this] { return shutting_down_ || (!imms_.empty() && bg_error_.ok()); });
    if (shutting_down_) return;
    lock.unlock();
    bool resumable = false;
    Status s = FlushOldestImmutable(&resumable);
    lock.lock();
    if (!s.ok()) SetBackgroundErrorLocked(s.WithContext("flush"), resumable);
    bg_cv_.notify_all();
  }
}

// *resumable: a failure left nothing to repair (see Resume).
Status DBImpl::FlushOldestImmutable(bool* resumable) {
  const auto start = std::chrono::steady_clock::now();
  std::shared_ptr<MemTable> imm;
  uint64_t release_lsn = 0;
  {
    std::lock_guard lock(mu_);
    imm = imms_.back();
    // Everything before the next memtable's first record is in `imm` or older.
    release_lsn = imms_.size() >= 2 ? imms_[imms_.size() - 2]->wal_lsn_start()
                                    : mem_->wal_lsn_start();
  }
  JobContext ctx = MakeJobContext(0);
  ctx.table_options.compression = UpperLevelCompression(options_);
  VersionEdit edit;
  JobStats stats;
  std::unique_ptr<InternalIterator> input = imm->NewIterator();
  Status s = WriteMergedTables(ctx, input.get(), 0, false, &edit, &stats, imm->RangeDels());
  *resumable = !s.ok();
  if (s.ok()) {
    edit.SetWalLsn(release_lsn);
    edit.SetLastSequence(imm->largest_sequence());
    s = versions_->LogAndApply(&edit);
  }
  {
    std::lock_guard lock(mu_);
    // A failed LogAndApply may still have left its record in the manifest
    // (a failed fsync): its tables stay pending, never deleted by this
    // process; the next open decides (kept, or referenced).
    const bool maybe_logged = !s.ok() && !*resumable;
    if (!maybe_logged) {
      for (const auto& [level, f] : edit.added_files()) pending_outputs_.erase(f.number);
    }
    if (!s.ok()) return s;
    STRATA_ASSERT(imm_bytes_ >= imm->ApproximateMemoryUsage());
    imm_bytes_ -= imm->ApproximateMemoryUsage();
    imms_.pop_back();
    InstallSuperVersionLocked();
    compact_cv_.notify_one();
  }
  flush_bytes_written_.fetch_add(stats.bytes_written, std::memory_order_relaxed);
  flush_count_.fetch_add(1, std::memory_order_relaxed);
  InfoLog(info_log_.get(), "flush: {} entries, {} bytes to {} table(s) in {} us", stats.entries_read,
          stats.bytes_written, stats.files_written, MicrosSince(start));
  // The edit is durable: the WAL before release_lsn is no longer needed.
  STRATA_RETURN_IF_ERROR(wal_->ReleaseBefore(release_lsn));
  DeleteObsoleteFiles();
  return Status::Ok();
}

void DBImpl::CompactionThread() {
  std::unique_lock lock(mu_);
  while (true) {
    std::unique_ptr<Compaction> c;
    compact_cv_.wait(lock, [&] {
      if (shutting_down_) return true;
      if (!bg_error_.ok()) return false;
      if (manual_compaction_requested_) return true;
      return picker_.Score(*super_version_.Get()->version) >= 1.0;
    });
    if (shutting_down_) return;
    const bool manual = manual_compaction_requested_;
    // No local copy of the Version: the compaction's pin must be the last,
    // so that its inputs are deleted as soon as it is done.
    c = manual ? picker_.PickAll(versions_->current()) : picker_.Pick(versions_->current());
    compaction_running_ = true;
    lock.unlock();
    bool resumable = false;
    Status s = c ? RunOneCompaction(std::move(c), &resumable) : Status::Ok();
    lock.lock();
    compaction_running_ = false;
    if (!s.ok()) SetBackgroundErrorLocked(s.WithContext("compaction"), resumable);
    if (manual) {
      manual_compaction_requested_ = false;
      ++manual_compactions_done_;
    }
    bg_cv_.notify_all();
  }
}

Status DBImpl::RunOneCompaction(std::unique_ptr<Compaction> c, bool* resumable) {
  const auto start = std::chrono::steady_clock::now();
  const uint64_t target =
      c->output_level == 0 ? 0 : compaction_options_.target_file_bytes;
  JobContext ctx = MakeJobContext(target);
  if (!c->bottommost) ctx.table_options.compression = UpperLevelCompression(options_);
  // Counted as the output is written, trivial moves write nothing.
  ctx.bytes_written_progress = &compaction_bytes_written_;
  VersionEdit edit;
  JobStats stats;
  Status s = RunCompaction(ctx, *c, &edit, &stats);
  // A corrupt input fails again on every retry; a failed write may not.
  *resumable = !s.ok() && !s.IsCorruption();
  const bool logging = s.ok();
  if (s.ok()) s = versions_->LogAndApply(&edit);
  {
    std::lock_guard lock(mu_);
    // As in FlushOldestImmutable: outputs of a failed LogAndApply stay pending.
    if (s.ok() || !logging) {
      for (const auto& [level, f] : edit.added_files()) pending_outputs_.erase(f.number);
    }
    if (!s.ok()) return s;
    InstallSuperVersionLocked();
  }
  if (c->trivial_move) {
    trivial_move_count_.fetch_add(1, std::memory_order_relaxed);
  } else {
    compaction_count_.fetch_add(1, std::memory_order_relaxed);
    compaction_bytes_read_.fetch_add(stats.bytes_read, std::memory_order_relaxed);
  }
  InfoLog(info_log_.get(),
          "compaction{} to level {}: {} input file(s), {} bytes read, {} bytes written to {} "
          "table(s), {} us",
          c->trivial_move ? " (trivial move)" : "", c->output_level, c->InputFileCount(), stats.bytes_read, stats.bytes_written, stats.files_written,
          MicrosSince(start));
  c.reset();  // unpin the input version before collecting garbage
  DeleteObsoleteFiles();
  return Status::Ok();
}

// Deletes only what is provably obsolete:
// - a table numbered below the limit read under mu_ (every number handed out
//   later may belong to an output being written), not pending, referenced by
//   no live Version, and not kept at open (VersionSet::files_kept_at_open);
// - a manifest numbered below the live one read before the directory is
//   listed: manifests get increasing numbers, so a rollover meanwhile only
//   adds a higher one (never touched), and a lower one is never live again.
// WAL segments are released by the log itself (wal::Log::ReleaseBefore).
void DBImpl::DeleteObsoleteFiles() {
  uint64_t number_limit = 0;
  std::set<uint64_t> pending;
  std::function<void()> hook;
  {
    std::lock_guard lock(mu_);
    number_limit = versions_->next_file_number();
    pending = pending_outputs_;
    hook = obsolete_scan_hook_;
  }
  const std::set<uint64_t> live = versions_->LiveFiles();
  const uint64_t live_manifest = versions_->manifest_number();
  const std::set<uint64_t>& kept = versions_->files_kept_at_open();
  if (hook) hook();
  std::vector<std::string> names;
  if (!fs_->ListDir(path_, &names).ok()) return;
  for (const std::string& name : names) {
    uint64_t number = 0;
    bool remove = false;
    switch (ParseDbFileName(name, &number)) {
      case DbFileKind::kTable:
        remove = number < number_limit && !live.count(number) && !pending.count(number) &&
                 !kept.count(number);
        break;
      case DbFileKind::kManifest:
        remove = number < live_manifest && !kept.count(number);
        break;
      case DbFileKind::kOther:
        break;
    }
    // Best effort: a file that cannot be removed now is retried next time.
    if (!remove) continue;
    if (ParseDbFileName(name, &number) == DbFileKind::kTable) {
      versions_->table_cache().Evict(number);
    }
    (void)fs_->RemoveFile(io::JoinPath(path_, name));
  }
}

void DBImpl::RunWithMutexHeldForTesting(const std::function<void()>& fn) {
  std::lock_guard lock(mu_);
  fn();
}

void DBImpl::SetObsoleteScanHookForTesting(std::function<void()> hook) {
  std::lock_guard lock(mu_);
  obsolete_scan_hook_ = std::move(hook);
}

Status DBImpl::WaitForImmutablesFlushed() {
  std::unique_lock lock(mu_);
  bg_cv_.wait(lock, [this] { return imms_.empty() || !bg_error_.ok() || shutting_down_; });
  return bg_error_;
}

Status DBImpl::WaitForCompactions() {
  std::unique_lock lock(mu_);
  bg_cv_.wait(lock, [this] {
    return !bg_error_.ok() || shutting_down_ ||
           (imms_.empty() && !compaction_running_ &&
            picker_.Score(*versions_->current()) < 1.0);
  });
  return bg_error_;
}

Status DBImpl::Flush() {
  STRATA_RETURN_IF_ERROR(WriteImpl(WriteOptions{}, nullptr));
  return WaitForImmutablesFlushed();
}

Status DBImpl::CompactAll() {
  STRATA_RETURN_IF_ERROR(CheckWritable());
  STRATA_RETURN_IF_ERROR(Flush());
  std::unique_lock lock(mu_);
  const uint64_t target = manual_compactions_done_ + 1;
  manual_compaction_requested_ = true;
  compact_cv_.notify_one();
  bg_cv_.wait(lock, [&] {
    return manual_compactions_done_ >= target || !bg_error_.ok() || shutting_down_;
  });
  return bg_error_;
}

}  // namespace strata::lsm
