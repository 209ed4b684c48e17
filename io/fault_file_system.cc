// FaultFileSystem: the namespace and data model. The file handles live in
// fault_file_handles.cc.
#include "io/fault_file_system.h"

#include <algorithm>
#include <bit>
#include <filesystem>
#include <random>
#include <set>
#include <string>
#include <utility>

#include "core/assert.h"
#include "io/fault_file_handles.h"

namespace strata::io {

namespace {

// Reads [offset, offset + n) of a real file; bytes past its end read as zero.
Result<std::string> ReadRange(FileSystem* fs, const std::string& path, uint64_t offset,
                              uint64_t n) {
  std::unique_ptr<RandomAccessFile> file;
  STRATA_RETURN_IF_ERROR(fs->NewRandomAccessFile(path, FileOptions{}, &file));
  std::string out(n, '\0');
  size_t bytes_read = 0;
  STRATA_RETURN_IF_ERROR(file->Read(offset, n, out.data(), &bytes_read));
  return out;
}

Status WriteWholeFile(FileSystem* fs, const std::string& path, std::string_view data) {
  std::unique_ptr<WritableFile> file;
  STRATA_RETURN_IF_ERROR(fs->NewWritableFile(path, FileOptions{}, &file));
  STRATA_RETURN_IF_ERROR(file->Append(data));
  STRATA_RETURN_IF_ERROR(file->Sync());
  return file->Close();
}

// The model's key for a path: "a/./b//c/" and "a/b/c" name the same file.
std::string NormalizePath(const std::string& path) {
  std::string out = std::filesystem::path(path).lexically_normal().string();
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  return out;
}

bool IsRegularFile(const std::string& path) {
  std::error_code ec;
  return std::filesystem::is_regular_file(path, ec);
}

}  // namespace

std::string_view FaultOpName(FaultOp op) {
  switch (op) {
    case FaultOp::kRead: return "read";
    case FaultOp::kWrite: return "write";
    case FaultOp::kSync: return "sync";
    case FaultOp::kOpen: return "open";
    case FaultOp::kRename: return "rename";
    case FaultOp::kRemove: return "remove";
    case FaultOp::kSyncDir: return "syncdir";
    case FaultOp::kCreateDir: return "createdir";
    case FaultOp::kListDir: return "listdir";
    case FaultOp::kFileSize: return "filesize";
    case FaultOp::kLock: return "lock";
    case FaultOp::kLink: return "link";
  }
  return "unknown";
}

size_t FaultOpIndex(FaultOp op) {
  const auto bits = static_cast<uint32_t>(op);
  STRATA_ASSERT(std::has_single_bit(bits));
  const auto index = static_cast<size_t>(std::countr_zero(bits));
  STRATA_ASSERT(index < kFaultOpCount);
  return index;
}

uint64_t FaultStats::count(FaultOp op) const { return ops[FaultOpIndex(op)]; }

FaultFileSystem::FaultFileSystem(std::shared_ptr<FileSystem> base)
    : base_(std::move(base)), name_("fault(" + std::string(base_->name()) + ")") {}

FaultFileSystem::~FaultFileSystem() = default;

// --- Fault configuration ------------------------------------------------------

void FaultFileSystem::InjectError(const ErrorInjection& injection) {
  STRATA_ASSERT(injection.nth >= 1);
  std::lock_guard lock(mu_);
  injection_ = injection;
  injection_seen_ = 0;
  injection_failed_ = 0;
}

void FaultFileSystem::TearNextWrite(const TearSpec& tear) {
  std::lock_guard lock(mu_);
  tear_ = tear;
}

void FaultFileSystem::FlipBitOnRead(std::string path_contains, uint64_t offset, int bit) {
  STRATA_ASSERT(bit >= 0 && bit < 8);
  std::lock_guard lock(mu_);
  flips_.push_back(BitFlip{std::move(path_contains), offset, bit});
}

void FaultFileSystem::ClearFaults() {
  std::lock_guard lock(mu_);
  injection_.reset();
  tear_.reset();
  flips_.clear();
}

FaultStats FaultFileSystem::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

void FaultFileSystem::ResetStats() {
  std::lock_guard lock(mu_);
  stats_ = FaultStats{};
}

Status FaultFileSystem::MaybeFail(FaultOp op, std::string_view path) {
  stats_.ops[FaultOpIndex(op)]++;
  if (!injection_ || (injection_->ops & Mask(op)) == 0) return Status::Ok();
  if (path.find(injection_->path_contains) == std::string_view::npos) return Status::Ok();
  injection_seen_++;
  if (injection_seen_ < injection_->nth || injection_failed_ >= injection_->fail_count) {
    return Status::Ok();
  }
  injection_failed_++;
  stats_.injected_errors++;
  return Status::IOError(std::string(path) + ": injected " + std::string(FaultOpName(op)) +
                         " fault (matching op #" + std::to_string(injection_seen_) + ")");
}

Status FaultFileSystem::DeadHandle(std::string_view path) const {
  return Status::IOError(std::string(path) + ": handle opened before a simulated crash");
}

void FaultFileSystem::ApplyFlips(const std::string& path, uint64_t offset, char* buf, size_t n) {
  std::lock_guard lock(mu_);
  for (const BitFlip& flip : flips_) {
    if (flip.offset < offset || flip.offset - offset >= n) continue;
    if (path.find(flip.path_contains) == std::string::npos) continue;
    buf[flip.offset - offset] = static_cast<char>(buf[flip.offset - offset] ^ (1 << flip.bit));
    stats_.flipped_bits++;
  }
}

void FaultFileSystem::CountRead(size_t bytes) {
  std::lock_guard lock(mu_);
  stats_.bytes_read += bytes;
}

Status FaultFileSystem::CorruptFileAt(const std::string& path, uint64_t offset, int bit) {
  STRATA_ASSERT(bit >= 0 && bit < 8);
  std::lock_guard lock(mu_);
  STRATA_ASSIGN_OR_RETURN(uint64_t size, base_->FileSize(path));
  if (offset >= size) {
    return Status::InvalidArgument(path + ": CorruptFileAt offset " + std::to_string(offset) +
                                   " is past the end (" + std::to_string(size) + " bytes)");
  }
  STRATA_ASSIGN_OR_RETURN(std::string byte, ReadRange(base_.get(), path, offset, 1));
  byte[0] = static_cast<char>(byte[0] ^ (1 << bit));
  std::unique_ptr<WritableFile> file;
  STRATA_RETURN_IF_ERROR(base_->ReopenWritableFile(path, FileOptions{}, &file));
  STRATA_RETURN_IF_ERROR(file->WriteAt(offset, byte));
  STRATA_RETURN_IF_ERROR(file->Sync());
  STRATA_RETURN_IF_ERROR(file->Close());
  // Damage to the medium is durable: a saved synced copy of the byte gets it too.
  auto it = live_.find(NormalizePath(path));
  if (it == live_.end()) return Status::Ok();
  for (auto& [begin, bytes] : nodes_.at(it->second).undo) {
    if (offset >= begin && offset - begin < bytes.size()) {
      bytes[offset - begin] = static_cast<char>(bytes[offset - begin] ^ (1 << bit));
    }
  }
  return Status::Ok();
}

// --- The data model -------------------------------------------------------------

uint64_t FaultFileSystem::NewNode(const std::string& path, uint64_t synced_bytes) {
  const uint64_t id = next_node_id_++;
  Node& node = nodes_[id];
  node.path = path;
  node.synced_bytes = synced_bytes;
  live_[path] = id;
  return id;
}

uint64_t FaultFileSystem::NodeForPath(const std::string& path) {
  auto it = live_.find(path);
  if (it != live_.end()) return it->second;
  if (!IsRegularFile(path)) return 0;
  // A file from before we saw it: durable as it is.
  Result<uint64_t> size = base_->FileSize(path);
  return NewNode(path, size.ok() ? *size : 0);
}

void FaultFileSystem::NoteNameChange(const std::string& path) {
  if (durable_names_.contains(path)) return;
  const uint64_t id = NodeForPath(path);
  durable_names_[path] = id == 0 ? std::nullopt : std::optional<uint64_t>(id);
}

Status FaultFileSystem::SaveOriginal(Node& node, uint64_t begin, uint64_t end) {
  end = std::min(end, node.synced_bytes);
  if (begin >= end || node.path.empty()) return Status::Ok();
  auto& undo = node.undo;
  uint64_t cursor = begin;
  auto it = undo.upper_bound(cursor);
  if (it != undo.begin()) {
    auto prev = std::prev(it);
    cursor = std::max(cursor, prev->first + prev->second.size());
  }
  // Ranges below synced_bytes not yet saved are intact on disk (a truncate
  // below synced_bytes saves what it cuts first).
  while (cursor < end) {
    it = undo.lower_bound(cursor);
    const uint64_t gap_end = it == undo.end() ? end : std::min(end, it->first);
    if (gap_end > cursor) {
      STRATA_ASSIGN_OR_RETURN(std::string bytes,
                              ReadRange(base_.get(), node.path, cursor, gap_end - cursor));
      undo.emplace(cursor, std::move(bytes));
    }
    if (it == undo.end()) break;
    cursor = std::max(cursor, it->first + it->second.size());
  }
  return Status::Ok();
}

Status FaultFileSystem::BeforeWrite(uint64_t id, uint64_t offset, uint64_t bytes) {
  return SaveOriginal(nodes_.at(id), offset, offset + bytes);
}

void FaultFileSystem::AfterWrite(uint64_t id, uint64_t bytes) {
  nodes_.at(id).unsynced_written += bytes;
  stats_.bytes_written += bytes;
}

void FaultFileSystem::AfterSync(uint64_t id, uint64_t size) {
  Node& node = nodes_.at(id);
  stats_.bytes_synced += node.unsynced_written;
  node.unsynced_written = 0;
  node.synced_bytes = size;
  node.undo.clear();
  node.silent_tear_end.reset();
  if (!node.path.empty()) node.saved_durable.reset();
  // A node that lost its name keeps its old durable copy: its new data has no
  // durable name to be found by.
}

Result<std::string> FaultFileSystem::DurableContents(const Node& node) {
  std::string data;
  STRATA_RETURN_IF_ERROR(ReadFileToString(base_.get(), node.path, &data));
  data.resize(std::max<uint64_t>(data.size(), node.synced_bytes), '\0');
  for (const auto& [offset, bytes] : node.undo) data.replace(offset, bytes.size(), bytes);
  data.resize(node.synced_bytes);
  return data;
}

Status FaultFileSystem::PrepareUnlink(uint64_t id) {
  Node& node = nodes_.at(id);
  if (node.saved_durable) return Status::Ok();
  const bool durably_named = std::any_of(durable_names_.begin(), durable_names_.end(),
                                         [id](const auto& entry) { return entry.second == id; });
  if (!durably_named) return Status::Ok();
  STRATA_ASSIGN_OR_RETURN(std::string data, DurableContents(node));
  node.saved_durable = std::move(data);
  return Status::Ok();
}

void FaultFileSystem::FinishUnlink(uint64_t id) {
  Node& node = nodes_.at(id);
  live_.erase(node.path);
  node.path.clear();
}

// --- Crash ----------------------------------------------------------------------

Status FaultFileSystem::RevertData(Node& node, uint64_t keep_extra_bytes) {
  STRATA_ASSIGN_OR_RETURN(uint64_t size, base_->FileSize(node.path));
  const uint64_t target = node.synced_bytes + keep_extra_bytes;
  if (node.undo.empty() && size == target) return Status::Ok();
  std::unique_ptr<WritableFile> file;
  STRATA_RETURN_IF_ERROR(base_->ReopenWritableFile(node.path, FileOptions{}, &file));
  for (const auto& [offset, bytes] : node.undo) STRATA_RETURN_IF_ERROR(file->WriteAt(offset, bytes));
  STRATA_RETURN_IF_ERROR(file->Truncate(target));
  STRATA_RETURN_IF_ERROR(file->Sync());
  return file->Close();
}

Status FaultFileSystem::RestoreNames() {
  std::unordered_map<uint64_t, std::string> location;  // node -> where its durable data is
  for (const auto& [path, id] : live_) location[id] = path;
  std::set<std::string> temps;
  std::set<std::string> dirs;
  std::vector<std::pair<std::string, uint64_t>> fills;
  // Move aside every name whose node changed, so that its slot is free.
  for (const auto& [path, want] : durable_names_) {
    auto it = live_.find(path);
    const uint64_t current = it == live_.end() ? 0 : it->second;
    const uint64_t wanted = want.value_or(0);
    if (current == wanted) continue;
    dirs.insert(DirName(path));
    if (current != 0) {
      std::string temp = path + ".fault-crash-" + std::to_string(current);
      STRATA_RETURN_IF_ERROR(base_->Rename(path, temp));
      location[current] = temp;
      temps.insert(temp);
    }
    if (wanted != 0) fills.emplace_back(path, wanted);
  }
  for (const auto& [path, id] : fills) {
    auto it = location.find(id);
    if (it != location.end() && temps.erase(it->second) == 1) {
      STRATA_RETURN_IF_ERROR(base_->Rename(it->second, path));
      it->second = path;
    } else if (it != location.end()) {
      // Durably named twice (a rename across directories whose both
      // directories were synced at different times): give it a copy.
      std::string data;
      STRATA_RETURN_IF_ERROR(ReadFileToString(base_.get(), it->second, &data));
      STRATA_RETURN_IF_ERROR(WriteWholeFile(base_.get(), path, data));
    } else {
      const Node& node = nodes_.at(id);
      if (!node.saved_durable) {
        return Status::IOError(path + ": durable contents of a removed file were not saved");
      }
      STRATA_RETURN_IF_ERROR(WriteWholeFile(base_.get(), path, *node.saved_durable));
    }
  }
  for (const std::string& temp : temps) STRATA_RETURN_IF_ERROR(base_->RemoveFile(temp));
  for (const std::string& dir : dirs) STRATA_RETURN_IF_ERROR(base_->SyncDir(dir));
  return Status::Ok();
}

Status FaultFileSystem::DropUnsyncedData(const CrashOptions& options) {
  std::lock_guard lock(mu_);
  std::mt19937_64 rng(options.seed);
  std::vector<uint64_t> ids;
  for (const auto& [path, id] : live_) ids.push_back(id);
  std::sort(ids.begin(), ids.end());  // a fixed order, so the seed replays
  for (uint64_t id : ids) {
    Node& node = nodes_.at(id);
    Result<uint64_t> file_size = base_->FileSize(node.path);
    if (file_size.status().IsNotFound()) continue;  // removed behind our back: nothing to revert
    STRATA_RETURN_IF_ERROR(file_size.status());
    const uint64_t size = *file_size;
    const uint64_t tail = size > node.synced_bytes ? size - node.synced_bytes : 0;
    uint64_t keep = 0;
    if (options.keep_random_unsynced_prefix) keep = tail == 0 ? 0 : rng() % (tail + 1);
    if (node.silent_tear_end) {
      const uint64_t torn = *node.silent_tear_end > node.synced_bytes
                                ? *node.silent_tear_end - node.synced_bytes
                                : 0;
      keep = options.keep_random_unsynced_prefix ? std::min(keep, torn) : std::min(tail, torn);
    }
    STRATA_RETURN_IF_ERROR(RevertData(node, keep));
  }
  STRATA_RETURN_IF_ERROR(RestoreNames());
  nodes_.clear();
  live_.clear();
  durable_names_.clear();
  epoch_++;
  stats_.crashes++;
  return Status::Ok();
}

// --- Namespace ------------------------------------------------------------------

Status FaultFileSystem::NewWritableFile(const std::string& path, const FileOptions& options,
                                        std::unique_ptr<WritableFile>* file) {
  std::lock_guard lock(mu_);
  STRATA_RETURN_IF_ERROR(MaybeFail(FaultOp::kOpen, path));
  const std::string key = NormalizePath(path);
  uint64_t id = NodeForPath(key);
  if (id != 0 && nodes_.at(id).linked) {
    return Status::NotSupported(path + ": FaultFileSystem does not model writes to linked files");
  }
  if (id != 0) {
    // Truncating an existing file: a data change, durable at its next sync.
    STRATA_RETURN_IF_ERROR(SaveOriginal(nodes_.at(id), 0, UINT64_MAX));
  } else {
    NoteNameChange(key);
  }
  std::unique_ptr<WritableFile> base_file;
  STRATA_RETURN_IF_ERROR(base_->NewWritableFile(path, options, &base_file));
  if (id == 0) id = NewNode(key, 0);
  *file = std::make_unique<FaultWritableFile>(this, std::move(base_file), id, epoch_);
  return Status::Ok();
}

Status FaultFileSystem::ReopenWritableFile(const std::string& path, const FileOptions& options,
                                           std::unique_ptr<WritableFile>* file) {
  std::lock_guard lock(mu_);
  STRATA_RETURN_IF_ERROR(MaybeFail(FaultOp::kOpen, path));
  const uint64_t linked_id = NodeForPath(NormalizePath(path));
  if (linked_id != 0 && nodes_.at(linked_id).linked) {
    return Status::NotSupported(path + ": FaultFileSystem does not model writes to linked files");
  }
  std::unique_ptr<WritableFile> base_file;
  STRATA_RETURN_IF_ERROR(base_->ReopenWritableFile(path, options, &base_file));
  const uint64_t id = NodeForPath(NormalizePath(path));
  STRATA_ASSERT(id != 0);
  *file = std::make_unique<FaultWritableFile>(this, std::move(base_file), id, epoch_);
  return Status::Ok();
}

Status FaultFileSystem::NewRandomAccessFile(const std::string& path, const FileOptions& options,
                                            std::unique_ptr<RandomAccessFile>* file) {
  std::lock_guard lock(mu_);
  STRATA_RETURN_IF_ERROR(MaybeFail(FaultOp::kOpen, path));
  std::unique_ptr<RandomAccessFile> base_file;
  STRATA_RETURN_IF_ERROR(base_->NewRandomAccessFile(path, options, &base_file));
  *file = std::make_unique<FaultRandomAccessFile>(this, std::move(base_file), epoch_);
  return Status::Ok();
}

Status FaultFileSystem::NewSequentialFile(const std::string& path, const FileOptions& options,
                                          std::unique_ptr<SequentialFile>* file) {
  std::lock_guard lock(mu_);
  STRATA_RETURN_IF_ERROR(MaybeFail(FaultOp::kOpen, path));
  std::unique_ptr<SequentialFile> base_file;
  STRATA_RETURN_IF_ERROR(base_->NewSequentialFile(path, options, &base_file));
  *file = std::make_unique<FaultSequentialFile>(this, std::move(base_file), epoch_);
  return Status::Ok();
}

Status FaultFileSystem::CreateDir(const std::string& path) {
  std::lock_guard lock(mu_);
  STRATA_RETURN_IF_ERROR(MaybeFail(FaultOp::kCreateDir, path));
  return base_->CreateDir(path);
}

Status FaultFileSystem::ListDir(const std::string& path, std::vector<std::string>* names) {
  std::lock_guard lock(mu_);
  STRATA_RETURN_IF_ERROR(MaybeFail(FaultOp::kListDir, path));
  return base_->ListDir(path, names);
}

Status FaultFileSystem::SyncDir(const std::string& path) {
  std::lock_guard lock(mu_);
  STRATA_RETURN_IF_ERROR(MaybeFail(FaultOp::kSyncDir, path));
  STRATA_RETURN_IF_ERROR(base_->SyncDir(path));
  const std::string dir = NormalizePath(path);
  std::erase_if(durable_names_, [&dir](const auto& entry) { return DirName(entry.first) == dir; });
  return Status::Ok();
}

Status FaultFileSystem::RemoveDir(const std::string& path) {
  std::lock_guard lock(mu_);
  STRATA_RETURN_IF_ERROR(MaybeFail(FaultOp::kRemove, path));
  return base_->RemoveDir(path);
}

void FaultFileSystem::MoveTrackedNames(const std::string& from, const std::string& to) {
  const std::string from_key = NormalizePath(from) + "/";
  const std::string to_key = NormalizePath(to) + "/";
  std::vector<std::pair<std::string, uint64_t>> moved;
  for (const auto& [path, id] : live_) {
    if (path.starts_with(from_key)) moved.emplace_back(path, id);
  }
  for (const auto& [path, id] : moved) {
    live_.erase(path);
    std::string renamed = to_key + path.substr(from_key.size());
    nodes_.at(id).path = renamed;
    live_[renamed] = id;
  }
  // Pending name changes inside move with their directory.
  std::vector<std::string> pending;
  for (const auto& [path, want] : durable_names_) {
    if (path.starts_with(from_key)) pending.push_back(path);
  }
  for (const std::string& path : pending) {
    auto entry = durable_names_.extract(path);
    entry.key() = to_key + path.substr(from_key.size());
    durable_names_.insert(std::move(entry));
  }
}

Status FaultFileSystem::RenameDirectory(const std::string& from, const std::string& to) {
  STRATA_RETURN_IF_ERROR(base_->Rename(from, to));
  MoveTrackedNames(from, to);
  return Status::Ok();
}

Status FaultFileSystem::RenameExchange(const std::string& a, const std::string& b) {
  std::lock_guard lock(mu_);
  STRATA_RETURN_IF_ERROR(MaybeFail(FaultOp::kLink, a));
  std::error_code ec;
  if (!std::filesystem::is_directory(a, ec) || !std::filesystem::is_directory(b, ec)) {
    return Status::NotSupported(a + ": FaultFileSystem models RenameExchange of directories only");
  }
  STRATA_RETURN_IF_ERROR(base_->RenameExchange(a, b));
  // Through a name that no tracked path uses, so the two sets do not mix.
  const std::string parked = NormalizePath(a) + ".fault-exchange";
  MoveTrackedNames(a, parked);
  MoveTrackedNames(b, a);
  MoveTrackedNames(parked, b);
  return Status::Ok();
}

Status FaultFileSystem::LinkFile(const std::string& from, const std::string& to) {
  std::lock_guard lock(mu_);
  STRATA_RETURN_IF_ERROR(MaybeFail(FaultOp::kLink, to));  // the name it creates
  const std::string from_key = NormalizePath(from);
  const std::string to_key = NormalizePath(to);
  const uint64_t from_id = NodeForPath(from_key);
  if (from_id == 0) return base_->LinkFile(from, to);  // the base names the error
  {
    const Node& source = nodes_.at(from_id);
    STRATA_ASSIGN_OR_RETURN(uint64_t size, base_->FileSize(from));
    if (source.unsynced_written != 0 || !source.undo.empty() || size != source.synced_bytes) {
      return Status::InvalidArgument(from + ": FaultFileSystem links fully synced files only");
    }
  }
  if (NodeForPath(to_key) != 0) return base_->LinkFile(from, to);  // EEXIST from the base
  NoteNameChange(to_key);
  STRATA_RETURN_IF_ERROR(base_->LinkFile(from, to));
  const uint64_t synced_bytes = nodes_.at(from_id).synced_bytes;
  const uint64_t id = NewNode(to_key, synced_bytes);
  nodes_.at(id).linked = true;
  nodes_.at(from_id).linked = true;
  return Status::Ok();
}

Status FaultFileSystem::Rename(const std::string& from, const std::string& to) {
  std::lock_guard lock(mu_);
  STRATA_RETURN_IF_ERROR(MaybeFail(FaultOp::kRename, from));
  std::error_code ec;
  if (std::filesystem::is_directory(from, ec)) return RenameDirectory(from, to);
  const std::string from_key = NormalizePath(from);
  const std::string to_key = NormalizePath(to);
  const uint64_t from_id = NodeForPath(from_key);
  if (from_id == 0 || from_key == to_key) return base_->Rename(from, to);
  NoteNameChange(from_key);
  NoteNameChange(to_key);
  const uint64_t to_id = NodeForPath(to_key);
  if (to_id != 0) STRATA_RETURN_IF_ERROR(PrepareUnlink(to_id));
  STRATA_RETURN_IF_ERROR(base_->Rename(from, to));
  if (to_id != 0) FinishUnlink(to_id);
  live_.erase(from_key);
  live_[to_key] = from_id;
  nodes_.at(from_id).path = to_key;
  return Status::Ok();
}

Status FaultFileSystem::RemoveFile(const std::string& path) {
  std::lock_guard lock(mu_);
  STRATA_RETURN_IF_ERROR(MaybeFail(FaultOp::kRemove, path));
  const std::string key = NormalizePath(path);
  const uint64_t id = NodeForPath(key);
  if (id == 0) return base_->RemoveFile(path);
  NoteNameChange(key);
  STRATA_RETURN_IF_ERROR(PrepareUnlink(id));
  STRATA_RETURN_IF_ERROR(base_->RemoveFile(path));
  FinishUnlink(id);
  return Status::Ok();
}

bool FaultFileSystem::FileExists(const std::string& path) { return base_->FileExists(path); }

Result<uint64_t> FaultFileSystem::FileSize(const std::string& path) {
  {
    std::lock_guard lock(mu_);
    STRATA_RETURN_IF_ERROR(MaybeFail(FaultOp::kFileSize, path));
  }
  return base_->FileSize(path);
}

Status FaultFileSystem::Lock(const std::string& path, std::unique_ptr<FileLock>* lock) {
  {
    std::lock_guard guard(mu_);
    STRATA_RETURN_IF_ERROR(MaybeFail(FaultOp::kLock, path));
  }
  return base_->Lock(path, lock);
}

}  // namespace strata::io
