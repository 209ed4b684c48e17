#include "lsm/bulk_load.h"

#include <fmt/core.h>

#include "core/assert.h"
#include "lsm/dbformat.h"
#include "lsm/manifest.h"
#include "strata/disk_profile.h"

namespace strata::lsm {

namespace {

// DBImpl's block sizes per profile (lsm/db_impl.cc), for an unset block_bytes.
constexpr size_t kBulkBlockBytesSsd = 4 * 1024;
constexpr size_t kBulkBlockBytesHdd = 64 * 1024;

}  // namespace

Status BulkLoader::Create(const Options& options, const std::string& dir,
                          std::unique_ptr<BulkLoader>* loader) {
  std::shared_ptr<io::FileSystem> fs =
      options.file_system ? options.file_system : io::DefaultFileSystem();
  if (fs->FileExists(io::JoinPath(dir, "KIND")) ||
      fs->FileExists(io::JoinPath(dir, kCurrentFileName))) {
    return Status::InvalidArgument(dir + ": bulk load target already holds a database");
  }
  STRATA_RETURN_IF_ERROR(fs->CreateDir(dir));
  const ResolvedDiskProfile profile = ResolveDiskProfile(options.profile, dir);
  const bool hdd = profile.profile == DiskProfile::kHdd;
  TableOptions table;
  table.block_bytes = options.block_bytes != 0 ? options.block_bytes
                      : hdd                    ? kBulkBlockBytesHdd
                                               : kBulkBlockBytesSsd;
  table.bloom_bits_per_key = options.bloom_bits_per_key;
  table.compression = options.compression;
  table.zstd_level = options.zstd_level;
  table.compression_min_savings = options.compression_min_savings;
  CompactionStyle style = options.compaction_style;
  if (style == CompactionStyle::kProfileDefault) {
    style = hdd ? CompactionStyle::kSizeTiered : CompactionStyle::kLeveled;
  }
  const bool tiered = style == CompactionStyle::kSizeTiered;
  loader->reset(new BulkLoader(std::move(fs), dir, table, tiered ? 0 : kLevelCount - 1,
                               tiered ? 0 : options.memtable_bytes));
  return Status::Ok();
}

BulkLoader::BulkLoader(std::shared_ptr<io::FileSystem> fs, std::string dir,
                       TableOptions table_options, int level, uint64_t target_file_bytes)
    : fs_(std::move(fs)), dir_(std::move(dir)), table_options_(table_options), level_(level),
      target_file_bytes_(target_file_bytes) {}

BulkLoader::~BulkLoader() {
  if (builder_ != nullptr) builder_->Abandon();
}

Status BulkLoader::Add(std::string_view key, uint64_t version, std::string_view value) {
  STRATA_ASSERT(!has_last_key_ || key > last_key_);
  if (builder_ != nullptr && target_file_bytes_ != 0 &&
      builder_->file_bytes() >= target_file_bytes_) {
    STRATA_RETURN_IF_ERROR(FinishTable());
  }
  if (builder_ == nullptr) STRATA_RETURN_IF_ERROR(OpenTable());
  ikey_.clear();
  const ValueType type = version == 0 ? ValueType::kValue : ValueType::kVersionedValue;
  AppendInternalKey(&ikey_, key, 0, type);
  std::string_view stored = value;
  if (type == ValueType::kVersionedValue) {
    value_.clear();
    PutFixed64(&value_, version);
    value_.append(value);
    stored = value_;
  }
  if (meta_.entry_count == 0) meta_.smallest = ikey_;
  meta_.largest = ikey_;
  ++meta_.entry_count;
  last_key_.assign(key);
  has_last_key_ = true;
  return builder_->Add(ikey_, stored);
}

Status BulkLoader::OpenTable() {
  meta_ = FileMetaData();
  meta_.number = next_file_number_++;
  const std::string path = io::JoinPath(dir_, TableFileName(meta_.number));
  STRATA_RETURN_IF_ERROR(fs_->NewWritableFile(path, io::FileOptions{}, &file_));
  builder_ = std::make_unique<TableBuilder>(table_options_, file_.get());
  return Status::Ok();
}

Status BulkLoader::FinishTable() {
  Status s = builder_->Finish();
  builder_.reset();
  if (s.ok()) s = file_->Sync();
  if (s.ok()) s = file_->Close();
  if (!s.ok()) return s;
  meta_.file_bytes = file_->size();
  file_.reset();
  edit_.AddFile(level_, meta_);
  ++file_count_;
  return Status::Ok();
}

Status BulkLoader::Finish(uint64_t last_sequence) {
  if (builder_ != nullptr) STRATA_RETURN_IF_ERROR(FinishTable());
  const uint64_t manifest_number = next_file_number_++;
  edit_.SetWalLsn(0);
  edit_.SetLastSequence(last_sequence);
  edit_.SetNextFileNumber(next_file_number_);
  const std::string manifest = ManifestFileName(manifest_number);
  std::unique_ptr<ManifestWriter> writer;
  STRATA_RETURN_IF_ERROR(ManifestWriter::Create(fs_.get(), io::JoinPath(dir_, manifest), &writer));
  std::string record;
  edit_.EncodeTo(&record);
  STRATA_RETURN_IF_ERROR(writer->AddRecord(record));  // fdatasynced
  STRATA_RETURN_IF_ERROR(writer->Close());
  // The tables' and the manifest's names must be durable before CURRENT.
  STRATA_RETURN_IF_ERROR(fs_->SyncDir(dir_));
  STRATA_RETURN_IF_ERROR(SetCurrentFile(fs_.get(), dir_, manifest));
  STRATA_RETURN_IF_ERROR(io::WriteFileAtomically(fs_.get(), io::JoinPath(dir_, "KIND"), "lsm\n"));
  return fs_->SyncDir(dir_);
}

}  // namespace strata::lsm
