#include "lsm/version_set.h"

#include <fmt/core.h>

#include <algorithm>
#include <map>

#include "core/assert.h"
#include "lsm/table_cache.h"
#include "wal/format.h"

namespace strata::lsm {

namespace {

bool NewestFirst(const std::shared_ptr<FileMetaData>& a, const std::shared_ptr<FileMetaData>& b) {
  if (a->largest_seq != b->largest_seq) return a->largest_seq > b->largest_seq;
  return a->number > b->number;
}

bool BySmallestKey(const std::shared_ptr<FileMetaData>& a,
                   const std::shared_ptr<FileMetaData>& b) {
  return CompareInternalKeys(a->smallest, b->smallest) < 0;
}

void SortLevels(FileList* files) {
  std::sort(files[0].begin(), files[0].end(), NewestFirst);
  for (int level = 1; level < kLevelCount; ++level) {
    std::sort(files[level].begin(), files[level].end(), BySmallestKey);
  }
}

// Index of the first file whose largest key is >= internal_key.
size_t FindFile(const FileList& files, std::string_view internal_key) {
  size_t lo = 0, hi = files.size();
  while (lo < hi) {
    const size_t mid = lo + (hi - lo) / 2;
    if (CompareInternalKeys(files[mid]->largest, internal_key) < 0) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo;
}

// Probes one table; *done when it held an entry for user_key.
Status ProbeTable(const ReadOptions& options, const FileMetaData& f, std::string_view lookup,
                  std::string_view user_key, bool* done, ValueType* type, std::string* value,
                  LookupStats* stats, SequenceNumber* found_seq) {
  bool found = false, bloom_negative = false;
  std::string ikey;
  ++stats->tables_probed;
  std::shared_ptr<const Table> table;
  STRATA_RETURN_IF_ERROR(f.GetTable(&table));
  STRATA_RETURN_IF_ERROR(table->Get(options, lookup, &found, &ikey, value, &bloom_negative));
  if (bloom_negative) ++stats->bloom_negatives;
  if (!found) return Status::Ok();
  ParsedInternalKey parsed;
  if (!ParseInternalKey(ikey, &parsed)) {
    return Status::Corruption(TableFileName(f.number) + ": bad internal key");
  }
  if (parsed.user_key != user_key) return Status::Ok();
  *done = true;
  *type = parsed.type;
  if (found_seq != nullptr) *found_seq = parsed.sequence;
  return Status::Ok();
}

class LevelIterator final : public InternalIterator {
 public:
  LevelIterator(const ReadOptions& options, FileList files)
      : options_(options), files_(std::move(files)) {}
  bool Valid() const override { return iter_ != nullptr && iter_->Valid(); }
  void SeekToFirst() override {
    OpenFile(0);
    if (iter_) iter_->SeekToFirst();
    SkipEmptyFiles();
  }
  void Seek(std::string_view target) override {
    OpenFile(FindFile(files_, target));
    if (iter_) iter_->Seek(target);
    SkipEmptyFiles();
  }
  void SeekToLast() override {
    OpenFile(files_.empty() ? 0 : files_.size() - 1);
    if (iter_) iter_->SeekToLast();
    SkipEmptyFilesBackward();
  }
  void Next() override {
    iter_->Next();
    SkipEmptyFiles();
  }
  void Prev() override {
    iter_->Prev();
    SkipEmptyFilesBackward();
  }
  std::string_view key() const override { return iter_->key(); }
  std::string_view value() const override { return iter_->value(); }
  Status status() const override {
    if (!status_.ok()) return status_;
    return iter_ ? iter_->status() : Status::Ok();
  }

 private:
  void OpenFile(size_t index) {
    index_ = index;
    iter_.reset();
    if (index_ >= files_.size()) return;
    std::shared_ptr<const Table> table;
    Status s = files_[index_]->GetTable(&table);
    if (!s.ok()) {
      // SkipEmptyFiles stops at it: the level iterator reports the error.
      iter_ = NewErrorIterator(std::move(s));
      return;
    }
    iter_ = NewPinnedTableIterator(std::move(table), options_);
  }
  void SkipEmptyFiles() {
    while (iter_ != nullptr && !iter_->Valid()) {
      if (!iter_->status().ok()) {
        status_ = iter_->status();
        iter_.reset();
        return;
      }
      OpenFile(index_ + 1);
      if (iter_) iter_->SeekToFirst();
    }
  }

  // SkipEmptyFiles for the backward direction: before the first file the
  // iterator becomes invalid.
  void SkipEmptyFilesBackward() {
    while (iter_ != nullptr && !iter_->Valid()) {
      if (!iter_->status().ok()) {
        status_ = iter_->status();
        iter_.reset();
        return;
      }
      if (index_ == 0) {
        iter_.reset();
        return;
      }
      OpenFile(index_ - 1);
      iter_->SeekToLast();
    }
  }

  const ReadOptions options_;
  const FileList files_;
  size_t index_ = 0;
  std::unique_ptr<InternalIterator> iter_;
  Status status_;
};

}  // namespace

std::unique_ptr<InternalIterator> NewLevelIterator(const ReadOptions& options, FileList files) {
  return std::make_unique<LevelIterator>(options, std::move(files));
}

std::shared_ptr<const Version> Version::FromLevels(std::vector<FileList> levels) {
  STRATA_ASSERT(levels.size() <= static_cast<size_t>(kLevelCount));
  auto v = std::make_shared<Version>();
  for (size_t level = 0; level < levels.size(); ++level) {
    v->files_[level] = std::move(levels[level]);
  }
  SortLevels(v->files_);
  v->NoteRangeDels();
  return v;
}

uint64_t Version::LevelBytes(int level) const {
  uint64_t total = 0;
  for (const auto& f : files_[level]) total += f->file_bytes;
  return total;
}

uint64_t Version::TotalBytes() const {
  uint64_t total = 0;
  for (int level = 0; level < kLevelCount; ++level) total += LevelBytes(level);
  return total;
}

size_t Version::FileCount() const {
  size_t n = 0;
  for (const auto& level : files_) n += level.size();
  return n;
}

Status Version::Get(const ReadOptions& options, std::string_view user_key, SequenceNumber seq,
                    bool* found, ValueType* type, std::string* value, LookupStats* stats,
                    SequenceNumber* found_seq) const {
  *found = false;
  const std::string lookup = LookupKey(user_key, seq);
  for (const auto& f : files_[0]) {
    if (user_key < f->smallest_user_key() || user_key > f->largest_user_key()) continue;
    STRATA_RETURN_IF_ERROR(
        ProbeTable(options, *f, lookup, user_key, found, type, value, stats, found_seq));
    if (*found) return Status::Ok();
  }
  for (int level = 1; level < kLevelCount; ++level) {
    const FileList& files = files_[level];
    const size_t i = FindFile(files, lookup);
    if (i >= files.size() || user_key < files[i]->smallest_user_key()) continue;
    STRATA_RETURN_IF_ERROR(
        ProbeTable(options, *files[i], lookup, user_key, found, type, value, stats, found_seq));
    if (*found) return Status::Ok();
  }
  return Status::Ok();
}

void Version::NoteRangeDels() {
  has_range_dels_ = false;
  for (const FileList& files : files_) {
    for (const auto& f : files) {
      if (f->range_dels != nullptr) has_range_dels_ = true;
    }
  }
}

SequenceNumber Version::MaxCoveringTombstone(std::string_view user_key, SequenceNumber seq) const {
  if (!has_range_dels_) return 0;
  SequenceNumber best = 0;
  auto probe = [&](const FileMetaData& f) {
    const auto& index = f.range_dels;
    if (index != nullptr) best = std::max(best, index->MaxCoveringSeq(user_key, seq));
  };
  for (const auto& f : files_[0]) {
    if (user_key < f->smallest_user_key() || user_key > f->largest_user_key()) continue;
    probe(*f);
  }
  const std::string lookup = LookupKey(user_key, seq);
  for (int level = 1; level < kLevelCount; ++level) {
    const FileList& files = files_[level];
    const size_t i = FindFile(files, lookup);
    if (i >= files.size() || user_key < files[i]->smallest_user_key()) continue;
    probe(*files[i]);
  }
  return best;
}

void Version::AddRangeDels(std::vector<std::shared_ptr<const RangeDelIndex>>* out) const {
  if (!has_range_dels_) return;
  for (const FileList& files : files_) {
    for (const auto& f : files) {
      if (f->range_dels != nullptr) out->push_back(f->range_dels);
    }
  }
}

void Version::AddIterators(const ReadOptions& options,
                           std::vector<std::unique_ptr<InternalIterator>>* iters) const {
  for (const auto& f : files_[0]) {
    std::shared_ptr<const Table> table;
    Status s = f->GetTable(&table);
    iters->push_back(s.ok() ? NewPinnedTableIterator(std::move(table), options)
                            : NewErrorIterator(std::move(s)));
  }
  for (int level = 1; level < kLevelCount; ++level) {
    if (!files_[level].empty()) iters->push_back(NewLevelIterator(options, files_[level]));
  }
}

FileList Version::Overlapping(int level, std::string_view begin_user_key,
                              std::string_view end_user_key) const {
  FileList out;
  for (const auto& f : files_[level]) {
    if (f->largest_user_key() < begin_user_key || f->smallest_user_key() > end_user_key) continue;
    out.push_back(f);
  }
  return out;
}

VersionSet::VersionSet(std::shared_ptr<io::FileSystem> fs, std::string dir,
                       TableOptions table_options, BlockCache* cache,
                       uint64_t manifest_rollover_bytes, size_t max_open_files,
                       std::string wal_dir)
    : fs_(std::move(fs)), dir_(std::move(dir)),
      wal_dir_(wal_dir.empty() ? io::JoinPath(dir_, kWalDirName) : std::move(wal_dir)),
      table_options_(table_options), cache_(cache),
      manifest_rollover_bytes_(manifest_rollover_bytes),
      table_cache_(std::make_shared<TableCache>(fs_, dir_, table_options_, cache_, max_open_files)),
      current_(std::make_shared<Version>()) {}

Status VersionSet::OpenTable(FileMetaData* f) const { return OpenTableFile(table_cache_, f); }

Status VersionSet::ReplayManifest(const std::string& manifest_name,
                                  std::shared_ptr<Version>* version, bool* torn_tail,
                                  std::set<uint64_t>* recorded_kept) {
  std::map<uint64_t, std::pair<int, FileMetaData>> files;
  uint64_t next_file = 1;
  auto apply = [&](uint64_t offset, std::string_view payload) -> Status {
    VersionEdit edit;
    const std::string where = fmt::format("{} @ {}", manifest_name, offset);
    STRATA_RETURN_IF_ERROR(edit.DecodeFrom(payload, where));
    for (const auto& [level, number] : edit.removed_files()) {
      auto it = files.find(number);
      if (it == files.end() || it->second.first != level) {
        return Status::Corruption(where + ": removes unknown file " + TableFileName(number));
      }
      files.erase(it);
    }
    for (const auto& [level, f] : edit.added_files()) {
      // A trivial move removes and adds the same number in one edit (removals
      // first); adding a file that is already there is a writer's bug.
      if (!files.emplace(f.number, std::pair{level, f}).second) {
        return Status::Corruption(where + ": adds " + TableFileName(f.number) +
                                  ", which the manifest already holds");
      }
    }
    for (uint64_t number : edit.kept_files()) recorded_kept->insert(number);
    if (edit.wal_lsn()) wal_lsn_ = *edit.wal_lsn();
    if (edit.next_file_number()) next_file = *edit.next_file_number();
    if (edit.last_sequence()) last_sequence_ = std::max(last_sequence_, *edit.last_sequence());
    return Status::Ok();
  };
  ManifestReadReport report;
  STRATA_RETURN_IF_ERROR(ReadManifest(fs_.get(), io::JoinPath(dir_, manifest_name), apply,
                                      &report));
  if (report.record_count == 0) {
    return Status::Corruption(manifest_name + ": no complete record");
  }
  *torn_tail = report.torn_tail;
  auto v = std::make_shared<Version>();
  for (auto& [number, entry] : files) {
    auto& [level, meta] = entry;
    auto f = std::make_shared<FileMetaData>(std::move(meta));
    STRATA_RETURN_IF_ERROR(OpenTable(f.get()));
    next_file = std::max(next_file, number + 1);
    last_sequence_ = std::max(last_sequence_, f->largest_seq);
    v->files_[level].push_back(std::move(f));
  }
  SortLevels(v->files_);
  v->NoteRangeDels();
  // Below L0 a level is one sorted run: lookups binary-search it.
  for (int level = 1; level < kLevelCount; ++level) {
    const FileList& list = v->files_[level];
    for (size_t i = 1; i < list.size(); ++i) {
      if (CompareInternalKeys(list[i - 1]->largest, list[i]->smallest) >= 0) {
        return Status::Corruption(fmt::format("{}: L{} files {} and {} overlap", manifest_name,
                                              level, TableFileName(list[i - 1]->number),
                                              TableFileName(list[i]->number)));
      }
    }
  }
  next_file_number_.store(next_file);
  *version = std::move(v);
  return Status::Ok();
}

Status VersionSet::ScanDirectory(DirectoryScan* scan) const {
  std::vector<std::string> names;
  STRATA_RETURN_IF_ERROR(fs_->ListDir(dir_, &names));
  for (const std::string& name : names) {
    uint64_t number = 0;
    switch (ParseDbFileName(name, &number)) {
      case DbFileKind::kTable:
        scan->tables.push_back(number);
        break;
      case DbFileKind::kManifest:
        scan->manifests.push_back(number);
        break;
      case DbFileKind::kOther:
        continue;
    }
    scan->number_max = std::max(scan->number_max, number);
  }
  std::sort(scan->tables.begin(), scan->tables.end());
  std::sort(scan->manifests.begin(), scan->manifests.end());
  const std::string& wal_dir = wal_dir_;
  names.clear();
  if (fs_->FileExists(wal_dir)) STRATA_RETURN_IF_ERROR(fs_->ListDir(wal_dir, &names));
  for (const std::string& name : names) {
    uint64_t seq = 0;
    if (wal::ParseFileName(name, &seq) == wal::FileKind::kSegment) {
      scan->wal_segments.push_back(name);
    }
  }
  std::sort(scan->wal_segments.begin(), scan->wal_segments.end());
  return Status::Ok();
}

// No CURRENT: the directory must hold no database. Only a crash while the
// database was being created leaves a manifest without CURRENT (the first
// manifest is written before CURRENT, and the WAL after), and that manifest
// describes an empty database (or is shorter than its header).
Status VersionSet::CheckNoDatabaseWithoutCurrent(const DirectoryScan& scan) const {
  auto refuse = [&](const std::string& what) {
    return Status::Corruption(fmt::format(
        "{}: no CURRENT file, but the directory holds {}: refusing to open it as a new, empty "
        "database (restore CURRENT: one line naming the live manifest, 'MANIFEST-NNNNNN')",
        dir_, what));
  };
  if (!scan.tables.empty()) return refuse(TableFileName(scan.tables.front()));
  if (!scan.wal_segments.empty()) {
    return refuse(io::JoinPath(wal_dir_, scan.wal_segments.front()));
  }
  for (uint64_t number : scan.manifests) {
    const std::string name = ManifestFileName(number);
    const std::string path = io::JoinPath(dir_, name);
    STRATA_ASSIGN_OR_RETURN(uint64_t bytes, fs_->FileSize(path));
    if (bytes < kManifestHeaderBytes) continue;  // holds nothing
    bool empty = true;
    auto check = [&](uint64_t offset, std::string_view payload) -> Status {
      VersionEdit edit;
      STRATA_RETURN_IF_ERROR(edit.DecodeFrom(payload, fmt::format("{} @ {}", name, offset)));
      empty = empty && edit.added_files().empty() && edit.removed_files().empty() &&
              edit.kept_files().empty() &&
              edit.last_sequence().value_or(0) == 0 && edit.wal_lsn().value_or(0) == 0;
      return Status::Ok();
    };
    ManifestReadReport report;
    const Status s = ReadManifest(fs_.get(), path, check, &report);
    if (!s.ok() || !empty) return refuse(name);
  }
  return Status::Ok();
}

// Called once the manifest is replayed: which unreferenced files found at
// open are not provably obsolete. A table numbered below the manifest's
// next file number was created by this database before its last durable
// edit, so the intact manifest has the last word on it. One at or above it
// may be an output whose edit never landed, or a file from elsewhere
// (another copy of the database, a restored backup): kept. With a torn
// manifest tail every unreferenced table is kept, and so is every table an
// earlier open kept (the manifest records them: later opens would take them
// for this database's garbage otherwise).
void VersionSet::KeepUnprovenFiles(const DirectoryScan& scan, const Version& v,
                                   uint64_t recorded_next, uint64_t live_manifest,
                                   bool torn_tail, const std::set<uint64_t>& recorded_kept) {
  std::set<uint64_t> referenced;
  for (const auto& level : v.files_) {
    for (const auto& f : level) referenced.insert(f->number);
  }
  for (uint64_t number : scan.tables) {
    if (referenced.count(number)) continue;
    if (torn_tail || number >= recorded_next || recorded_kept.count(number)) {
      files_kept_at_open_.insert(number);
    }
  }
  for (uint64_t number : scan.manifests) {
    if (number > live_manifest || recorded_kept.count(number)) files_kept_at_open_.insert(number);
  }
}

Status VersionSet::Recover(bool create_if_missing) {
  std::lock_guard lock(mu_);
  DirectoryScan scan;
  STRATA_RETURN_IF_ERROR(ScanDirectory(&scan));
  std::string manifest_name;
  Status s = ReadCurrentFile(fs_.get(), dir_, &manifest_name);
  std::shared_ptr<Version> v = std::make_shared<Version>();
  if (s.IsNotFound()) {
    STRATA_RETURN_IF_ERROR(CheckNoDatabaseWithoutCurrent(scan));
    if (!create_if_missing) return Status::NotFound(dir_ + ": no database (no CURRENT file)");
    next_file_number_.store(scan.number_max + 1);
  } else {
    STRATA_RETURN_IF_ERROR(s);
    uint64_t live_manifest = 0;
    if (ParseDbFileName(manifest_name, &live_manifest) != DbFileKind::kManifest) {
      return Status::Corruption(fmt::format("{}/CURRENT @ 0: bad manifest name '{}'", dir_,
                                            manifest_name));
    }
    if (!fs_->FileExists(io::JoinPath(dir_, manifest_name))) {
      return Status::Corruption(fmt::format(
          "{}/CURRENT names {}, which does not exist: the database cannot be recovered "
          "from this directory as it is",
          dir_, manifest_name));
    }
    bool torn_tail = false;
    std::set<uint64_t> recorded_kept;
    STRATA_RETURN_IF_ERROR(ReplayManifest(manifest_name, &v, &torn_tail, &recorded_kept));
    const uint64_t recorded_next = next_file_number_.load();
    KeepUnprovenFiles(scan, *v, recorded_next, live_manifest, torn_tail, recorded_kept);
    next_file_number_.store(std::max(recorded_next, scan.number_max + 1));
  }
  STRATA_RETURN_IF_ERROR(WriteSnapshotManifest(*v));
  InstallLocked(std::move(v));
  return Status::Ok();
}

Status VersionSet::RecoverReadOnly() {
  std::lock_guard lock(mu_);
  std::string manifest_name;
  Status s = ReadCurrentFile(fs_.get(), dir_, &manifest_name);
  if (s.IsNotFound()) {
    // Database files without CURRENT are Corruption here too, not "no database".
    DirectoryScan scan;
    STRATA_RETURN_IF_ERROR(ScanDirectory(&scan));
    STRATA_RETURN_IF_ERROR(CheckNoDatabaseWithoutCurrent(scan));
    return Status::NotFound(dir_ + ": no database (no CURRENT file)");
  }
  STRATA_RETURN_IF_ERROR(s);
  if (!fs_->FileExists(io::JoinPath(dir_, manifest_name))) {
    return Status::Corruption(fmt::format("{}/CURRENT names {}, which does not exist", dir_,
                                          manifest_name));
  }
  std::shared_ptr<Version> v = std::make_shared<Version>();
  bool torn_tail = false;  // a read-only open keeps whatever the manifest holds
  std::set<uint64_t> recorded_kept;
  STRATA_RETURN_IF_ERROR(ReplayManifest(manifest_name, &v, &torn_tail, &recorded_kept));
  InstallLocked(std::move(v));
  return Status::Ok();
}

Status VersionSet::WriteSnapshotManifest(const Version& version) {
  const uint64_t number = NewFileNumber();
  const std::string name = ManifestFileName(number);
  std::unique_ptr<ManifestWriter> writer;
  STRATA_RETURN_IF_ERROR(ManifestWriter::Create(fs_.get(), io::JoinPath(dir_, name), &writer));
  VersionEdit edit;
  edit.SetWalLsn(wal_lsn_);
  edit.SetLastSequence(last_sequence_);
  edit.SetNextFileNumber(next_file_number_.load());
  for (int level = 0; level < kLevelCount; ++level) {
    for (const auto& f : version.files_[level]) edit.AddFile(level, *f);
  }
  for (uint64_t kept : files_kept_at_open_) edit.KeepFile(kept);
  std::string record;
  edit.EncodeTo(&record);
  STRATA_RETURN_IF_ERROR(writer->AddRecord(record));
  STRATA_RETURN_IF_ERROR(SetCurrentFile(fs_.get(), dir_, name));
  if (manifest_ != nullptr) (void)manifest_->Close();
  if (manifest_number_ != 0) {
    // The old manifest is garbage once CURRENT names the new one; a failed
    // removal only leaves a stray file that the next open ignores.
    (void)fs_->RemoveFile(io::JoinPath(dir_, ManifestFileName(manifest_number_)));
  }
  manifest_ = std::move(writer);
  manifest_number_ = number;
  return Status::Ok();
}

std::shared_ptr<Version> VersionSet::Apply(const Version& base, const VersionEdit& edit) const {
  auto v = std::make_shared<Version>();
  for (int level = 0; level < kLevelCount; ++level) {
    for (const auto& f : base.files_[level]) {
      bool removed = false;
      for (const auto& [l, number] : edit.removed_files()) {
        removed = removed || (l == level && number == f->number);
      }
      if (!removed) v->files_[level].push_back(f);
    }
  }
  for (const auto& [level, f] : edit.added_files()) {
    STRATA_ASSERT(f.table_cache != nullptr);
    v->files_[level].push_back(std::make_shared<FileMetaData>(f));
  }
  SortLevels(v->files_);
  v->NoteRangeDels();
  return v;
}

Status VersionSet::LogAndApply(VersionEdit* edit) {
  std::lock_guard lock(mu_);
  const uint64_t old_wal_lsn = wal_lsn_;
  const SequenceNumber old_last_sequence = last_sequence_;
  if (edit->wal_lsn()) {
    STRATA_ASSERT(*edit->wal_lsn() >= wal_lsn_);
    wal_lsn_ = *edit->wal_lsn();
  }
  if (edit->last_sequence()) last_sequence_ = std::max(last_sequence_, *edit->last_sequence());
  edit->SetLastSequence(last_sequence_);
  edit->SetNextFileNumber(next_file_number_.load());
  std::shared_ptr<Version> v = Apply(*current_, *edit);
  Status s;
  if (manifest_->file_bytes() >= manifest_rollover_bytes_) {
    s = WriteSnapshotManifest(*v);
    if (s.ok()) ++manifest_rollovers_;
  } else {
    std::string record;
    edit->EncodeTo(&record);
    s = manifest_->AddRecord(record);
  }
  if (!s.ok()) {
    wal_lsn_ = old_wal_lsn;
    last_sequence_ = old_last_sequence;
    return s;
  }
  InstallLocked(std::move(v));
  return Status::Ok();
}

void VersionSet::InstallLocked(std::shared_ptr<Version> v) {
  std::erase_if(versions_, [](const std::weak_ptr<const Version>& w) { return w.expired(); });
  current_ = std::move(v);
  versions_.push_back(current_);
}

std::shared_ptr<const Version> VersionSet::current() const {
  std::lock_guard lock(mu_);
  return current_;
}

uint64_t VersionSet::wal_lsn() const {
  std::lock_guard lock(mu_);
  return wal_lsn_;
}

SequenceNumber VersionSet::last_sequence() const {
  std::lock_guard lock(mu_);
  return last_sequence_;
}

uint64_t VersionSet::manifest_number() const {
  std::lock_guard lock(mu_);
  return manifest_number_;
}

uint64_t VersionSet::manifest_rollovers() const {
  std::lock_guard lock(mu_);
  return manifest_rollovers_;
}

uint64_t VersionSet::manifest_bytes() const {
  std::lock_guard lock(mu_);
  return manifest_ ? manifest_->file_bytes() : 0;
}

std::set<uint64_t> VersionSet::LiveFiles() const {
  std::lock_guard lock(mu_);
  std::set<uint64_t> live;
  for (const auto& w : versions_) {
    if (auto v = w.lock()) {
      for (const auto& level : v->files_) {
        for (const auto& f : level) live.insert(f->number);
      }
    }
  }
  return live;
}

}  // namespace strata::lsm
