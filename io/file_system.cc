#include "io/file_system.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <string>

namespace strata::io {

Status RandomAccessFile::ReadBatch(std::span<ReadRequest> requests) const {
  Status first;
  for (ReadRequest& req : requests) {
    req.status = Read(req.offset, req.length, req.buffer, &req.bytes_read);
    if (!req.status.ok() && first.ok()) first = req.status;
  }
  return first;
}

std::string JoinPath(std::string_view dir, std::string_view name) {
  std::string out(dir);
  if (!out.empty() && out.back() != '/') out += '/';
  out += name;
  return out;
}

std::string DirName(std::string_view path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string_view::npos) return ".";
  if (slash == 0) return "/";
  return std::string(path.substr(0, slash));
}

Status ReadFileToString(FileSystem* fs, const std::string& path, std::string* data) {
  std::unique_ptr<RandomAccessFile> file;
  STRATA_RETURN_IF_ERROR(fs->NewRandomAccessFile(path, FileOptions{}, &file));
  STRATA_ASSIGN_OR_RETURN(uint64_t size, file->Size());
  data->assign(size, '\0');
  size_t bytes_read = 0;
  STRATA_RETURN_IF_ERROR(file->Read(0, size, data->data(), &bytes_read));
  data->resize(bytes_read);
  return Status::Ok();
}

Status WriteFileAtomically(FileSystem* fs, const std::string& path, std::string_view data) {
  const std::string tmp = path + ".tmp";
  std::unique_ptr<WritableFile> file;
  STRATA_RETURN_IF_ERROR(fs->NewWritableFile(tmp, FileOptions{}, &file));
  STRATA_RETURN_IF_ERROR(file->Append(data));
  STRATA_RETURN_IF_ERROR(file->Sync());
  STRATA_RETURN_IF_ERROR(file->Close());
  STRATA_RETURN_IF_ERROR(fs->Rename(tmp, path));
  return fs->SyncDir(DirName(path));
}

Status CopyFile(FileSystem* fs, const std::string& from, const std::string& to) {
  constexpr size_t kCopyChunkBytes = 1 << 20;
  std::unique_ptr<RandomAccessFile> in;
  STRATA_RETURN_IF_ERROR(fs->NewRandomAccessFile(from, FileOptions{}, &in));
  STRATA_ASSIGN_OR_RETURN(uint64_t size, in->Size());
  std::unique_ptr<WritableFile> out;
  STRATA_RETURN_IF_ERROR(fs->NewWritableFile(to, FileOptions{}, &out));
  std::string buf(static_cast<size_t>(std::min<uint64_t>(kCopyChunkBytes, size)), '\0');
  for (uint64_t offset = 0; offset < size;) {
    size_t bytes_read = 0;
    const size_t want = static_cast<size_t>(std::min<uint64_t>(kCopyChunkBytes, size - offset));
    STRATA_RETURN_IF_ERROR(in->Read(offset, want, buf.data(), &bytes_read));
    if (bytes_read != want) return Status::IOError(from + ": shrank while being copied");
    STRATA_RETURN_IF_ERROR(out->Append(std::string_view(buf.data(), bytes_read)));
    offset += bytes_read;
  }
  STRATA_RETURN_IF_ERROR(out->Sync());
  return out->Close();
}

Status LinkOrCopyFile(FileSystem* fs, const std::string& from, const std::string& to,
                      bool* linked) {
  Status s = fs->LinkFile(from, to);
  *linked = s.ok();
  if (!s.IsNotSupported()) return s;
  return CopyFile(fs, from, to);
}

std::string ScratchDirFor(const std::string& dir, std::string_view infix) {
  static std::atomic<uint64_t> counter{0};
  return dir + std::string(infix) + std::to_string(::getpid()) + "-" +
         std::to_string(counter.fetch_add(1));
}

Status RemoveAbandonedScratchDirs(FileSystem* fs, const std::string& dir, std::string_view infix) {
  const std::string parent = DirName(dir);
  const size_t slash = dir.find_last_of('/');
  const std::string prefix =
      (slash == std::string::npos ? dir : dir.substr(slash + 1)) + std::string(infix);
  std::vector<std::string> names;
  Status s = fs->ListDir(parent, &names);
  if (s.IsNotFound()) return Status::Ok();
  STRATA_RETURN_IF_ERROR(s);
  bool removed = false;
  for (const std::string& name : names) {
    if (!name.starts_with(prefix)) continue;
    const std::string_view rest = std::string_view(name).substr(prefix.size());
    pid_t pid = 0;
    auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), pid);
    if (ec != std::errc() || end == rest.data() || end == rest.data() + rest.size() ||
        *end != '-' || pid <= 0) {
      continue;
    }
    if (::kill(pid, 0) == 0 || errno != ESRCH) continue;  // alive, or not ours to judge
    STRATA_RETURN_IF_ERROR(RemoveTree(fs, JoinPath(parent, name)));
    removed = true;
  }
  return removed ? fs->SyncDir(parent) : Status::Ok();
}

Status RemoveTree(FileSystem* fs, const std::string& path) {
  std::vector<std::string> names;
  Status s = fs->ListDir(path, &names);
  if (s.IsNotFound()) return Status::Ok();
  if (!s.ok()) return fs->RemoveFile(path);  // not a directory
  for (const std::string& name : names) {
    if (name == "." || name == "..") continue;
    const std::string child = JoinPath(path, name);
    if (fs->RemoveFile(child).ok()) continue;
    STRATA_RETURN_IF_ERROR(RemoveTree(fs, child));
  }
  return fs->RemoveDir(path);
}

}  // namespace strata::io
